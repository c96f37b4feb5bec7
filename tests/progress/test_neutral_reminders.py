"""The reminder file tells nobody what it is for: a phone's lock screen or a shared
calendar shows "Check in", never the app's name, at the person's own local hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from reconnect.progress.calendar import REMINDER_TITLE, reminders_ics
from tests.security.conftest import signed_in
from tests.zones_and_clock import move

TOKYO = ZoneInfo("Asia/Tokyo")


def test_the_default_title_is_neutral_and_the_app_is_named_nowhere() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    ics = reminders_ics("hana", [now + timedelta(hours=h) for h in (6, 30)], now)
    calendar = Calendar.from_ical(ics)
    events = list(calendar.walk("VEVENT"))
    assert REMINDER_TITLE == "Check in"
    assert [str(e["summary"]) for e in events] == ["Check in", "Check in"]
    assert {str(a["description"]) for a in calendar.walk("VALARM")} == {"Check in"}
    # Not in a title, a description, the calendar's name, an id or the maker's name.
    assert "reconnect" not in ics.decode().lower()


def test_the_downloaded_file_is_neutral_at_the_persons_local_hour(app, people) -> None:
    hana = people.register("hana")
    move(hana, "Asia/Tokyo")
    visitor = signed_in(app, "hana")
    visitor.get("/summary/reminders.ics")
    answer = visitor.last
    assert answer.status_code == 200
    assert "reconnect" not in answer.headers["content-disposition"].lower()
    assert "reconnect" not in answer.text.lower()
    starts = [e.decoded("dtstart") for e in Calendar.from_ical(answer.content).walk("VEVENT")]
    assert starts
    # No check-in yet: 08:00 in Tokyo, in Tokyo's zone.
    assert {(s.astimezone(TOKYO).hour, s.utcoffset()) for s in starts} == {(8, timedelta(hours=9))}


def test_the_person_chooses_the_local_time_of_their_reminders(app, people) -> None:
    hana = people.register("hana")
    move(hana, "Asia/Tokyo")
    visitor = signed_in(app, "hana")
    form = visitor.get("/summary").select_one("form[action='/summary/reminders.ics']")
    assert form["method"] == "get"
    assert form.select_one("input[name=at]")["value"] == "08:00", "the usual hour first"
    visitor.get("/summary/reminders.ics?at=21:30")
    starts = [e.decoded("dtstart") for e in Calendar.from_ical(visitor.last.content).walk("VEVENT")]
    assert len(starts) == 7
    assert {(s.astimezone(TOKYO).hour, s.astimezone(TOKYO).minute) for s in starts} == {(21, 30)}


def test_a_time_that_is_not_a_time_is_explained(app, people) -> None:
    people.register("hana")
    visitor = signed_in(app, "hana")
    visitor.get("/summary/reminders.ics?at=25:00")
    assert visitor.last.status_code == 422
    assert "08:30" in visitor.last.text
