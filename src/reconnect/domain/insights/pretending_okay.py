"""(e) Pretending things are okay: a shared "okay" on a day one's own check-in ran
high, or a practice rated safe while activation climbed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from reconnect.domain.insights.couple_record import (
    CoupleRecord,
    Mood,
    at_time,
    check_now,
    checkin_time,
    rating_time,
    window,
)
from reconnect.domain.insights.detector_settings import DetectorSettings, settings_or_default
from reconnect.domain.insights.findings import Evidence, Finding, Pattern, Severity
from reconnect.domain.pacing.checkins import CheckIn

__all__ = ["detect_pretending_okay"]


def detect_pretending_okay(
    record: CoupleRecord, now: datetime, *, settings: DetectorSettings | None = None
) -> tuple[Finding, ...]:
    """A shared "okay" on a day one's own check-in ran high, or an experience rated safe
    while activation climbed. From the person's own entries, to that person only."""
    check_now(now)
    s = settings_or_default(settings)
    rule = s.pretending_okay
    start = now - timedelta(days=rule.lookback_days)
    found: list[Finding] = []
    okays = [st for st in window(record.statuses, start, now, at_time) if st.mood is Mood.OKAY]
    for person in record.person_ids:
        if person not in record.private:
            continue  # private entries are read only while their owner's key is unlocked
        mine = [st for st in okays if st.person_id == person]
        if mine:
            # A check-in on the status's calendar day, before or after it.
            checkins = window(
                record._checkins[person], start - timedelta(days=1), now, checkin_time
            )
            high_days: dict[date, tuple[str, CheckIn]] = {}
            for checkin_id, checkin in checkins:
                if checkin.activation >= rule.okay_activation_min:
                    day = checkin.recorded_at.date()
                    if day not in high_days or checkin.activation > high_days[day][1].activation:
                        high_days[day] = (checkin_id, checkin)
            refs: list[Evidence] = []
            days: set[date] = set()
            highest = 0
            for status in mine:
                day = status.at.date()
                if day in high_days:
                    checkin_id, checkin = high_days[day]
                    refs.append(Evidence("status", status.id, day))
                    if day not in days:
                        refs.append(Evidence("checkin", checkin_id, day))
                        days.add(day)
                    highest = max(highest, checkin.activation)
            if refs:
                found.append(
                    Finding(
                        Pattern.PRETENDING_OKAY,
                        "okay_while_activated",
                        person,
                        Severity.NOTABLE if len(days) >= rule.notable_count else Severity.GENTLE,
                        "On "
                        + ("a day" if len(days) == 1 else f"{len(days)} days")
                        + " you shared “okay”, your own check-in that day showed activation "
                        f"of {rule.okay_activation_min} or more.",
                        "You do not have to look fine for the two of you to be safe. "
                        "“Struggling” or “need space” are honest choices too, and they keep "
                        "the pace where your body can follow it.",
                        tuple(refs),
                        now,
                        s.version,
                        {"days": len(days), "your_highest_activation": highest},
                    )
                )
        ratings = window(record._ratings[person], start, now, rating_time)
        rising = [
            (experience_id, r)
            for experience_id, r in ratings
            if r.safety >= rule.safe_rating_min
            and r.activation_after - r.activation_before >= rule.activation_rise_min
        ]
        if rising:
            found.append(
                Finding(
                    Pattern.PRETENDING_OKAY,
                    "safe_while_rising",
                    person,
                    Severity.NOTABLE if len(rising) >= rule.notable_count else Severity.GENTLE,
                    "You rated "
                    + ("a practice" if len(rising) == 1 else f"{len(rising)} practices")
                    + " as safe while your activation rose by "
                    f"{rule.activation_rise_min} or more.",
                    "Both can be true: it felt safe enough, and your body still climbed. "
                    "You might let your next rating say so; a slower pace is not a failure.",
                    tuple(Evidence("rating", i, r.occurred_at.date()) for i, r in rising),
                    now,
                    s.version,
                    {"practices": len(rising)},
                )
            )
    return tuple(found)
