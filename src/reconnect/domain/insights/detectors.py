"""False-connection detectors: patterns that feel like closeness but stall healing.

Each detector reads a :class:`~reconnect.domain.insights.couple_record.CoupleRecord`
(plain data the storage layer puts together) and a moment ``now``, and returns
:class:`~reconnect.domain.insights.findings.Finding` values: which pattern, the
evidence (ids and dates, nothing else), how strong, who may see it and what to try
instead. The rules and their thresholds are in docs/detectors.md;
the numbers live in ``data/detectors.toml``.

Two audiences, never mixed:

- a finding built from a person's *private* entries (their check-ins, their
  ratings) or about their own behaviour is addressed to that person alone;
- a *couple-level* finding is built from shared facts only (experiences and
  their coarse halves, the permitted tier, shared statuses, proposals) and
  carries no private number and no private word.

A detector that reads private entries runs only for people whose entries are in
the record, which storage includes only while their owner's key is unlocked.
Show a person nothing but
:func:`~reconnect.domain.insights.findings.findings_for` them.

Every detector only looks back as far as its rule needs: the record keeps its
lists sorted by time and each window is found by binary search, so the cost does
not grow with the length of the couple's history.

This module runs them all (:func:`run_detectors`). Each pattern's detector is in its
own module (``rushing_intimacy``, ``minimizing``, ...); what they share is in
:mod:`~reconnect.domain.insights.couple_record` (what goes in),
:mod:`~reconnect.domain.insights.findings` (what comes out),
:mod:`~reconnect.domain.insights.detector_settings` and
:mod:`~reconnect.domain.insights.text_checker`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from reconnect.domain.insights.affection_bypass import detect_affection_bypass
from reconnect.domain.insights.avoiding_conversations import detect_avoiding_conversations
from reconnect.domain.insights.couple_record import CoupleRecord
from reconnect.domain.insights.detector_settings import DetectorSettings, settings_or_default
from reconnect.domain.insights.findings import Finding, Pattern
from reconnect.domain.insights.minimizing import detect_minimizing
from reconnect.domain.insights.pressuring_forgiveness import detect_pressuring_forgiveness
from reconnect.domain.insights.pretending_okay import detect_pretending_okay
from reconnect.domain.insights.rushing_intimacy import detect_rushing_intimacy
from reconnect.domain.insights.text_checker import TextChecker
from reconnect.domain.insights.urgency_as_readiness import detect_urgency_as_readiness

__all__ = ["DETECTORS", "Detector", "run_detectors"]


Detector = Callable[..., tuple[Finding, ...]]

DETECTORS: Mapping[Pattern, Detector] = {
    Pattern.RUSHING_INTIMACY: detect_rushing_intimacy,
    Pattern.MINIMIZING: detect_minimizing,
    Pattern.AVOIDING_CONVERSATIONS: detect_avoiding_conversations,
    Pattern.PRESSURING_FORGIVENESS: detect_pressuring_forgiveness,
    Pattern.PRETENDING_OKAY: detect_pretending_okay,
    Pattern.AFFECTION_BYPASS: detect_affection_bypass,
    Pattern.URGENCY_AS_READINESS: detect_urgency_as_readiness,
}
"""One detector per pattern; those that read words also take ``checker``."""

_READ_WORDS = {Pattern.MINIMIZING, Pattern.PRESSURING_FORGIVENESS}


def run_detectors(
    record: CoupleRecord,
    now: datetime,
    *,
    settings: DetectorSettings | None = None,
    checker: TextChecker | None = None,
) -> tuple[Finding, ...]:
    """Every detector at ``now``, in the order of :class:`Pattern`.

    Store each finding under its audience (a person's own findings encrypted for
    them, like any private entry) and show a person only
    :func:`~reconnect.domain.insights.findings.findings_for` them.
    """
    s = settings_or_default(settings)
    found: list[Finding] = []
    for pattern, detector in DETECTORS.items():
        if pattern in _READ_WORDS:
            found.extend(detector(record, now, settings=s, checker=checker))
        else:
            found.extend(detector(record, now, settings=s))
    return tuple(found)
