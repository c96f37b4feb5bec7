"""The plain inputs of the progress pages, and the tier history they share.

Each point is one person's own entry (a check-in, a rating, a questionnaire result)
or the couple's shared data (a shared practice, the permitted tier), reduced to what
the pages need; out-of-range values raise ``ValueError``. Building the points from
stored entries, on the clock of the person looking, happens outside the domain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Protocol

from reconnect.domain.pacing.checkins import State
from reconnect.domain.pacing.history import Decision

__all__ = [
    "HARD_CONVERSATION_TIER",
    "TRANSPARENCY_TIER",
    "CheckInPoint",
    "Dated",
    "ExperiencePoint",
    "SafeDay",
    "ScorePoint",
    "SharedExperience",
    "TierAndLeft",
    "TierPoint",
    "setbacks",
    "tier_changes",
    "tier_points",
]

# The ladder's tiers the progress rules name (see docs/pacing.md): tier 3 is
# transparency, where a vulnerable share is recorded, and tier 4 hard conversations.
TRANSPARENCY_TIER = 3
HARD_CONVERSATION_TIER = 4


def _check_scale(name: str, value: int, top: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise ValueError(f"{name} must be a whole number from 0 to {top}, not {value!r}")


@dataclass(frozen=True)
class CheckInPoint:
    """One check-in, reduced to what the charts need (a person's own data)."""

    day: date
    activation: int
    safety: int
    urgency: int
    readiness: int
    state: State

    def __post_init__(self) -> None:
        for name in ("activation", "safety", "urgency", "readiness"):
            _check_scale(name, getattr(self, name), 10)
        object.__setattr__(self, "state", State(self.state))


@dataclass(frozen=True)
class ExperiencePoint:
    """One person's rating of a shared practice, reduced to what the charts need.

    ``safe`` is whether the rating counted as safe under the pacing policy (the
    storage layer decides, from the policy); ``safety`` is the rating itself (0–10).
    ``vulnerable_share`` is only meaningful at tier 3 and refused elsewhere.
    """

    day: date
    tier: int
    safe: bool
    safety: int
    authenticity: int
    vulnerability: int
    transparency: int
    presence: int
    left: bool
    vulnerable_share: bool = False

    def __post_init__(self) -> None:
        _check_scale("tier", self.tier, 6)
        _check_scale("safety", self.safety, 10)
        for name in ("authenticity", "vulnerability", "transparency", "presence"):
            _check_scale(name, getattr(self, name), 4)
        if self.vulnerable_share and self.tier != TRANSPARENCY_TIER:
            raise ValueError("vulnerable_share applies only to tier-3 experiences")


@dataclass(frozen=True)
class SharedExperience:
    """A shared practice seen from the couple's side, with nothing private in it.

    ``safe``: both partners rated it safe. ``left``: at least one partner left
    (emotionally or physically).
    """

    day: date
    tier: int
    safe: bool
    left: bool

    def __post_init__(self) -> None:
        _check_scale("tier", self.tier, 6)


@dataclass(frozen=True)
class TierPoint:
    """A tier from one stored decision: where the couple had reached together (its
    ``ladder_tier``, which the progress pages chart) or what fitted that day (its
    ``permitted_tier``). People see either by its step's name, never the number."""

    at: datetime
    tier: int

    def __post_init__(self) -> None:
        _check_scale("tier", self.tier, 6)


@dataclass(frozen=True)
class ScorePoint:
    """One questionnaire result: its total, and the reliable change since the one
    before (``"improved"``, ``"worse"``, ``"no reliable change"``, or ``None`` for the
    first result or an instrument without reliable-change data)."""

    day: date
    score: float
    change: str | None = None


class Dated(Protocol):
    """Anything that happened on a day."""

    @property
    def day(self) -> date: ...


class SafeDay(Dated, Protocol):
    """Anything dated that was safe or not."""

    @property
    def safe(self) -> bool: ...


class TierAndLeft(Dated, Protocol):
    """Anything dated with a tier and whether someone left."""

    @property
    def tier(self) -> int: ...

    @property
    def left(self) -> bool: ...


def tier_points(decisions: Iterable[Decision]) -> tuple[TierPoint, ...]:
    """The permitted tier over time from stored decisions, oldest first."""
    points = (TierPoint(at=d.decided_at, tier=d.permitted_tier) for d in decisions)
    return tuple(sorted(points, key=lambda p: p.at))


def tier_changes(tiers: Iterable[TierPoint]) -> tuple[TierPoint, ...]:
    """The first permitted tier and every later change of it, oldest first.

    A decision is stored after each check-in, so the time of every decision would
    tell whoever sees them when a partner checked in. Only the changes are shared.
    """
    changes: list[TierPoint] = []
    for point in sorted(tiers, key=lambda p: p.at):
        if not changes or point.tier != changes[-1].tier:
            changes.append(point)
    return tuple(changes)


def setbacks(tiers: Sequence[TierPoint]) -> tuple[TierPoint, ...]:
    """The points where the tier went down from the one before."""
    ordered = sorted(tiers, key=lambda p: p.at)
    return tuple(b for a, b in pairwise(ordered) if b.tier < a.tier)


# --- charts -------------------------------------------------------------------
