"""(f) Affection to bypass pain: affection or intimacy soon after a conversation
that ended unresolved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reconnect.domain.insights.couple_record import (
    CoupleRecord,
    check_now,
    closed_window,
    occurred_time,
    window,
)
from reconnect.domain.insights.detector_settings import DetectorSettings, settings_or_default
from reconnect.domain.insights.findings import (
    Finding,
    Pattern,
    Severity,
    experience_ref,
    tier_words,
)
from reconnect.domain.pacing.history import COUPLE

__all__ = ["detect_affection_bypass"]


def detect_affection_bypass(
    record: CoupleRecord, now: datetime, *, settings: DetectorSettings | None = None
) -> tuple[Finding, ...]:
    """Affection or intimacy soon after a conversation that ended unresolved.

    Couple-level: "unresolved" is read from the coarse halves (someone left, or
    someone's activation after reached the line), never from a number.
    """
    check_now(now)
    s = settings_or_default(settings)
    rule = s.affection_bypass
    within = timedelta(hours=rule.within_hours)
    found: list[Finding] = []
    start = now - timedelta(days=rule.lookback_days)
    for closeness in window(record.experiences, start, now, occurred_time):
        if closeness.tier < rule.min_tier:
            continue
        before = closed_window(
            record.experiences, closeness.occurred_at - within, closeness.occurred_at, occurred_time
        )
        unresolved = [c for c in before if c.tier == rule.conversation_tier and c.ended_unresolved]
        if unresolved:
            found.append(
                Finding(
                    Pattern.AFFECTION_BYPASS,
                    "after_unresolved_conversation",
                    COUPLE,
                    Severity.GENTLE,
                    f"A moment of {tier_words(closeness.tier)} came within "
                    f"{rule.within_hours} hours of a conversation that ended unresolved.",
                    "Comfort after a hard talk is human. Relief is not repair, though: you "
                    "might first agree when you will come back to the conversation, and let "
                    "closeness follow the repair rather than replace it.",
                    (*(experience_ref(c) for c in unresolved), experience_ref(closeness)),
                    now,
                    s.version,
                    {"tier": closeness.tier, "hours": rule.within_hours},
                )
            )
    return tuple(found)
