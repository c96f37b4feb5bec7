"""What every detector returns: a :class:`Finding`, for one audience.

A finding names its :class:`Pattern`, how strongly to bring it forward
(:class:`Severity`), the :class:`Evidence` it points at (ids and dates, nothing
else) and what to try instead. It is addressed to the couple (:data:`COUPLE`, built
from shared facts only) or to one person (from their own private entries); show a
person nothing but :func:`findings_for` them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from reconnect.domain.insights.couple_record import SharedExperience
from reconnect.domain.pacing.catalogue import load_catalogue
from reconnect.domain.pacing.history import COUPLE

__all__ = [
    "Detail",
    "Evidence",
    "Finding",
    "Pattern",
    "Severity",
    "couple_findings",
    "experience_ref",
    "findings_for",
    "tier_words",
]


Detail = int | str


class Pattern(Enum):
    """The six patterns of principle P2, plus urgency mistaken for readiness (P1)."""

    RUSHING_INTIMACY = "rushing_intimacy"
    MINIMIZING = "minimizing"
    AVOIDING_CONVERSATIONS = "avoiding_conversations"
    PRESSURING_FORGIVENESS = "pressuring_forgiveness"
    PRETENDING_OKAY = "pretending_okay"
    AFFECTION_BYPASS = "affection_bypass"
    URGENCY_AS_READINESS = "urgency_as_readiness"


class Severity(Enum):
    """How strongly to bring a finding forward. Neither is a verdict."""

    GENTLE = "gentle"
    NOTABLE = "notable"


@dataclass(frozen=True)
class Evidence:
    """One thing a finding points at: its ``kind``, its stored ``id`` and the day.

    Kinds: ``experience``, ``checkin``, ``rating`` (a person's rating of the
    experience with this id), ``status``, ``text``, ``proposal``, and ``period``
    (ids ``start`` / ``end`` of a window). Never a number or a word from an entry.
    """

    kind: str
    id: str
    on: date


@dataclass(frozen=True)
class Finding:
    """A reflection for one audience: ``COUPLE`` or a single person id.

    ``rule`` names the part of the pattern's rule that fired (see
    docs/detectors.md). ``details`` holds only facts the audience may see: for a
    couple-level finding, shared facts such as a tier; for a private one, the
    owner's own figures. ``settings_version`` is the detectors.toml version used.
    """

    pattern: Pattern
    rule: str
    audience: str
    severity: Severity
    message: str
    try_instead: str
    evidence: tuple[Evidence, ...]
    found_at: datetime
    settings_version: str
    details: Mapping[str, Detail] = field(default_factory=dict, hash=False)

    @property
    def key(self) -> str:
        """Stable for one incident: pattern, rule, audience and the first evidence.

        Storage can keep one row per key and replace it as the evidence grows.
        """
        first = self.evidence[0] if self.evidence else None
        anchor = f"{first.kind}/{first.id}/{first.on.isoformat()}" if first else "-"
        return f"{self.pattern.value}:{self.rule}:{self.audience}:{anchor}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form, for storing the finding under its audience's key."""
        return {
            "pattern": self.pattern.value,
            "rule": self.rule,
            "audience": self.audience,
            "severity": self.severity.value,
            "message": self.message,
            "try_instead": self.try_instead,
            "evidence": [
                {"kind": e.kind, "id": e.id, "on": e.on.isoformat()} for e in self.evidence
            ],
            "found_at": self.found_at.isoformat(),
            "settings_version": self.settings_version,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            pattern=Pattern(data["pattern"]),
            rule=str(data["rule"]),
            audience=str(data["audience"]),
            severity=Severity(data["severity"]),
            message=str(data["message"]),
            try_instead=str(data["try_instead"]),
            evidence=tuple(
                Evidence(str(e["kind"]), str(e["id"]), date.fromisoformat(e["on"]))
                for e in data["evidence"]
            ),
            found_at=datetime.fromisoformat(data["found_at"]),
            settings_version=str(data["settings_version"]),
            details=dict(data["details"]),
        )


def findings_for(findings: Iterable[Finding], person_id: str) -> tuple[Finding, ...]:
    """What ``person_id`` may see: the couple-level findings and their own."""
    if person_id == COUPLE:
        raise ValueError("ask couple_findings() for the couple-level view")
    return tuple(f for f in findings if f.audience in (COUPLE, person_id))


def couple_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The couple-level findings only: the view for a consenting therapist."""
    return tuple(f for f in findings if f.audience == COUPLE)


def experience_ref(experience: SharedExperience) -> Evidence:
    """The evidence that points at one shared experience."""
    return Evidence("experience", experience.id, experience.occurred_at.date())


def tier_words(tier: int) -> str:
    """How a finding names a step of the ladder, in words and never by its number:
    "affection" (5), "physical intimacy" (6), otherwise the step's name."""
    if tier == 5:
        return "affection"
    if tier >= 6:
        return "physical intimacy"
    return f"“{load_catalogue().tier(tier).name.lower()}”"
