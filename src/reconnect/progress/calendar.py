"""The reminder file: an iCalendar (.ics) file of a person's next check-in times.

Neutral through and through: a lock screen, a shared family calendar or a glance at
the file shows "Check in" and never the app's name, nor any name, role or note. Each
event keeps the time zone it was given in, so a reminder stays at its local hour.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

__all__ = [
    "QUESTIONS_TITLE",
    "REMINDER_DESCRIPTION",
    "REMINDER_MINUTES",
    "REMINDER_TITLE",
    "reminders_ics",
]

REMINDER_TITLE = "Check in"
REMINDER_DESCRIPTION = "A few minutes for yourself."
REMINDER_MINUTES = 5
# A questionnaire's turn: as neutral as a check-in, never its name.
QUESTIONS_TITLE = "A few questions"


def reminders_ics(
    person_label: str,
    next_checkins: list[datetime],
    now: datetime,
    title: str = REMINDER_TITLE,
    questions: Sequence[datetime] = (),
) -> bytes:
    """An iCalendar file with one event (and an alarm) per upcoming check-in.

    Titles are neutral ("Check in" unless ``title`` says otherwise) and carry nothing
    private; ``person_label`` only seeds the events' stable ids, so it never appears in
    the file, and neither does the app's name. Times before ``now`` and
    repeats are dropped. Every time must carry a time zone; each event keeps the zone
    its time was given in (TZID, with its VTIMEZONE), so it stays at that local hour.
    ``questions`` are the turns of questionnaires that repeat, titled as neutrally
    (QUESTIONS_TITLE).
    """
    for moment in (now, *next_checkins, *questions):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("reminder times need a time zone")
    calendar = Calendar()
    calendar.add("prodid", "-//check-in reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Check-ins")
    namespace = uuid.uuid5(uuid.NAMESPACE_OID, f"reconnect:{person_label}")
    events = {(t, title) for t in next_checkins if t > now}
    events |= {(t, QUESTIONS_TITLE) for t in questions if t > now}
    for start, summary in sorted(events):
        event = Event()
        stamp = start.astimezone(UTC).isoformat()  # the same id whatever the zone
        kind = "" if summary == title else f":{summary}"
        event.add("uid", f"{uuid.uuid5(namespace, stamp + kind)}@check-in")
        event.add("dtstamp", now)
        event.add("dtstart", start)
        event.add("duration", timedelta(minutes=REMINDER_MINUTES))
        event.add("summary", summary)
        event.add("description", REMINDER_DESCRIPTION)
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
