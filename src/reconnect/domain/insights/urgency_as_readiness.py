"""Urgency mistaken for readiness (principle P1): the pull to reconnect running well
ahead of readiness in most recent check-ins.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reconnect.domain.insights.couple_record import CoupleRecord, check_now, checkin_time, window
from reconnect.domain.insights.detector_settings import DetectorSettings, settings_or_default
from reconnect.domain.insights.findings import Evidence, Finding, Pattern, Severity

__all__ = ["detect_urgency_as_readiness"]


def detect_urgency_as_readiness(
    record: CoupleRecord, now: datetime, *, settings: DetectorSettings | None = None
) -> tuple[Finding, ...]:
    """Urgency running well ahead of readiness in most recent check-ins; owner-only."""
    check_now(now)
    s = settings_or_default(settings)
    rule = s.urgency_readiness
    start = now - timedelta(days=rule.lookback_days)
    found: list[Finding] = []
    for person in record.person_ids:
        if person not in record.private:
            continue
        recent = window(record._checkins[person], start, now, checkin_time)[-rule.recent_checkins :]
        gaps = [(i, c) for i, c in recent if c.urgency_gap >= rule.gap_min]
        if len(gaps) >= rule.flagged_min:
            found.append(
                Finding(
                    Pattern.URGENCY_AS_READINESS,
                    "urgency_ahead_of_readiness",
                    person,
                    Severity.NOTABLE if len(gaps) >= rule.recent_checkins else Severity.GENTLE,
                    f"In {len(gaps)} of your last {len(recent)} check-ins the pull to "
                    f"reconnect ran at least {rule.gap_min} points ahead of your readiness.",
                    "The pull often comes from distress rather than from safety. When it is "
                    "strong, you might try settling on your own first and then ask yourself "
                    "what the urgency is hoping for.",
                    tuple(Evidence("checkin", i, c.recorded_at.date()) for i, c in gaps),
                    now,
                    s.version,
                    {"checkins": len(gaps), "of": len(recent)},
                )
            )
    return tuple(found)
