"""(c) Avoiding difficult conversations: a long quiet stretch without deeper practices
though the pace allowed them, or conversations left early again and again.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime, timedelta

from reconnect.domain.insights.couple_record import (
    CoupleRecord,
    PermittedTier,
    at_time,
    check_now,
    occurred_time,
    window,
)
from reconnect.domain.insights.detector_settings import DetectorSettings, settings_or_default
from reconnect.domain.insights.findings import (
    Evidence,
    Finding,
    Pattern,
    Severity,
    experience_ref,
    tier_words,
)
from reconnect.domain.pacing.history import COUPLE

__all__ = ["detect_avoiding_conversations"]


def _time_allowed(
    changes: Sequence[PermittedTier], start: datetime, end: datetime, min_tier: int
) -> timedelta:
    """How long within [start, end] the permitted tier was at least ``min_tier``."""
    first = max(0, bisect_right(changes, start, key=at_time) - 1)
    total = timedelta(0)
    for index in range(first, len(changes)):
        change = changes[index]
        if change.at >= end:
            break
        until = changes[index + 1].at if index + 1 < len(changes) else end
        low, high = max(change.at, start), min(until, end)
        if change.tier >= min_tier and high > low:
            total += high - low
    return total


def detect_avoiding_conversations(
    record: CoupleRecord, now: datetime, *, settings: DetectorSettings | None = None
) -> tuple[Finding, ...]:
    """A long quiet stretch without deeper practices though the pace allowed them, or
    conversations left early again and again. Couple-level; nobody is named."""
    check_now(now)
    s = settings_or_default(settings)
    rule = s.avoiding_conversations
    found: list[Finding] = []
    start = now - timedelta(days=rule.quiet_days)
    recent = window(record.experiences, start, now, occurred_time)
    if not any(e.tier >= rule.min_tier for e in recent):
        allowed = _time_allowed(record.permitted_tiers, start, now, rule.min_tier)
        if allowed * 100 > (now - start) * rule.allowed_percent:
            found.append(
                Finding(
                    Pattern.AVOIDING_CONVERSATIONS,
                    "quiet_stretch",
                    COUPLE,
                    Severity.GENTLE,
                    f"For {rule.quiet_days} days there has been no practice of "
                    f"{tier_words(rule.min_tier)} or a later step, though the pace allowed "
                    "one most of that time.",
                    "Ease can be a relief, and it can also be a way round what still hurts. "
                    "You might choose one short, time-boxed conversation from what fits today, "
                    "with the pause word agreed first.",
                    (
                        Evidence("period", "start", start.date()),
                        Evidence("period", "end", now.date()),
                    ),
                    now,
                    s.version,
                    {"days": rule.quiet_days, "tier": rule.min_tier},
                )
            )
    tries_start = now - timedelta(days=rule.tries_lookback_days)
    conversations = [
        e
        for e in window(record.experiences, tries_start, now, occurred_time)
        if e.tier == rule.conversation_tier
    ][-rule.recent_tries :]
    left = [e for e in conversations if e.someone_left]
    if len(left) >= rule.left_tries:
        found.append(
            Finding(
                Pattern.AVOIDING_CONVERSATIONS,
                "left_early",
                COUPLE,
                Severity.NOTABLE if len(left) >= rule.recent_tries else Severity.GENTLE,
                f"{len(left)} of your last {len(conversations)} conversations ended with "
                "someone stepping out before the end.",
                "Leaving can be self-protection, and that makes sense. Next time you might "
                "agree a pause word and a time to come back, so stepping out becomes a "
                "break rather than an ending.",
                tuple(experience_ref(e) for e in left),
                now,
                s.version,
                {"left": len(left), "tries": len(conversations)},
            )
        )
    return tuple(found)
