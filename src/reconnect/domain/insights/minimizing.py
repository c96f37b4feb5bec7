"""(b) Minimizing: shared words that make the hurt smaller, or turn the talk away
from it; to the author only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reconnect.domain.insights.couple_record import CoupleRecord, check_now
from reconnect.domain.insights.detector_settings import DetectorSettings, settings_or_default
from reconnect.domain.insights.findings import Finding, Pattern, Severity
from reconnect.domain.insights.text_checker import (
    TextChecker,
    TextConcern,
    flagged_words,
    load_phrase_list,
)

__all__ = ["detect_minimizing"]


def detect_minimizing(
    record: CoupleRecord,
    now: datetime,
    *,
    settings: DetectorSettings | None = None,
    checker: TextChecker | None = None,
) -> tuple[Finding, ...]:
    """Shared words that make the hurt smaller, or turn it away; to the author only."""
    check_now(now)
    s = settings_or_default(settings)
    rule = s.minimizing
    checker = checker if checker is not None else load_phrase_list()
    start = now - timedelta(days=rule.lookback_days)
    flagged = flagged_words(
        record, start, now, checker, {TextConcern.MINIMIZING, TextConcern.DEFLECTING}
    )
    found: list[Finding] = []
    for author in record.person_ids:
        if author not in flagged:
            continue
        refs, phrases = flagged[author]
        refs.sort(key=lambda e: e.on)
        found.append(
            Finding(
                Pattern.MINIMIZING,
                "shared_words",
                author,
                Severity.NOTABLE if len(refs) >= rule.notable_count else Severity.GENTLE,
                "Some words you shared lately may have made the hurt sound smaller, or "
                "turned the talk away from it: " + ", ".join(f"“{p}”" for p in phrases) + ".",
                "You might try naming what happened and how it landed, in your own words, "
                "and leave room for the other's feelings without explaining them away.",
                tuple(refs),
                now,
                s.version,
                {"texts": len(refs)},
            )
        )
    return tuple(found)
