"""Coarse signals: all the pacing engine, and the other partner's side, may touch.

A private entry (a check-in, an experience rating) is turned into signals once,
at the moment it is written, by :func:`signals_from_checkin` or
:func:`signals_from_rating`. The entry itself can then be encrypted under its
author's key; the signals are stored as cleartext rows so the pace can be
computed while that author is logged out.

Each signal reveals as little as its rule needs: a ceiling tier instead of an
activation number, a band instead of a before-activation, a yes/no instead of a
safety score. Every kind is documented in docs/pacing.md.

``at`` is when a signal takes effect, which is when it was written. The engine
folds signals in that order, so a rating written two hours after a practice
changes decisions from the moment it was written on, never decisions already
made; that is what keeps stored decisions reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from reconnect.domain.checkins import CheckIn, State
from reconnect.domain.experiences import ExperienceRating, Staying
from reconnect.domain.policy import Policy

__all__ = [
    "CeilingSignal",
    "ClosenessSignal",
    "ExperienceSignal",
    "FloodSignal",
    "InvalidSignal",
    "PauseSignal",
    "ResumeSignal",
    "Signal",
    "UrgencyGapSignal",
    "signal_from_dict",
    "signals_from_checkin",
    "signals_from_rating",
]


class InvalidSignal(ValueError):
    """A stored signal row cannot be read back."""


def _aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidSignal(f"{name} must be a datetime with a time zone")


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidSignal(f"{name} must be non-empty text")
    return value


def _when(data: dict[str, Any], key: str) -> datetime:
    try:
        value = datetime.fromisoformat(data[key])
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidSignal(f"{key} must be an ISO date-time") from error
    _aware(value, key)
    return value


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSignal(f"{key} must be a whole number")
    return value


def _bool(data: dict[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise InvalidSignal(f"{key} must be true or false")
    return value


@dataclass(frozen=True)
class CeilingSignal:
    """A check-in limits the couple's tier to ``max_tier`` until ``until``.

    ``max_tier`` is the policy's stop tier (activation high, or shut down), its
    slow tier (activation raised) or the top tier (no limit). Every check-in
    yields one, so the latest ceiling also tells when the person last checked in.
    """

    kind: ClassVar[str] = "ceiling"
    person_id: str
    at: datetime
    max_tier: int
    until: datetime

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _aware(self.at, "at")
        _aware(self.until, "until")
        if self.max_tier < 0:
            raise InvalidSignal("max_tier must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "person_id": self.person_id,
            "at": self.at.isoformat(),
            "max_tier": self.max_tier,
            "until": self.until.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CeilingSignal:
        return cls(
            _text(data.get("person_id"), "person_id"),
            _when(data, "at"),
            _int(data, "max_tier"),
            _when(data, "until"),
        )


@dataclass(frozen=True)
class ClosenessSignal:
    """Whether a check-in said "ready for closeness", holding until ``until``."""

    kind: ClassVar[str] = "closeness"
    person_id: str
    at: datetime
    ready: bool
    until: datetime

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _aware(self.at, "at")
        _aware(self.until, "until")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "person_id": self.person_id,
            "at": self.at.isoformat(),
            "ready": self.ready,
            "until": self.until.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClosenessSignal:
        return cls(
            _text(data.get("person_id"), "person_id"),
            _when(data, "at"),
            _bool(data, "ready"),
            _when(data, "until"),
        )


@dataclass(frozen=True)
class UrgencyGapSignal:
    """Urgency ran ahead of readiness by at least the policy's gap (owner-only).

    It never changes the pace; it only lets the engine say a kind word to its
    owner. Storage may keep it out of the other partner's reach entirely.
    """

    kind: ClassVar[str] = "urgency_gap"
    owner_only: ClassVar[bool] = True
    person_id: str
    at: datetime

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _aware(self.at, "at")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "person_id": self.person_id, "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UrgencyGapSignal:
        return cls(_text(data.get("person_id"), "person_id"), _when(data, "at"))


@dataclass(frozen=True)
class ExperienceSignal:
    """One partner's half of a shared experience, reduced to what rule 2 and 3 need.

    ``safe``: felt safety at or above the policy minimum and stayed present.
    ``flooded``: activation after at or above the flood line, left physically,
    or a flooding heart rate. ``band_before``: the activation band before (not
    the number). ``not_worse_after``: activation after was not above before.
    ``day``: the calendar day it happened, in the person's own time zone.
    """

    kind: ClassVar[str] = "experience"
    person_id: str
    at: datetime
    experience_id: str
    tier: int
    day: date
    safe: bool
    flooded: bool
    band_before: int
    not_worse_after: bool

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _text(self.experience_id, "experience_id")
        _aware(self.at, "at")
        if self.tier < 0 or self.band_before < 0:
            raise InvalidSignal("tier and band_before must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "person_id": self.person_id,
            "at": self.at.isoformat(),
            "experience_id": self.experience_id,
            "tier": self.tier,
            "day": self.day.isoformat(),
            "safe": self.safe,
            "flooded": self.flooded,
            "band_before": self.band_before,
            "not_worse_after": self.not_worse_after,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperienceSignal:
        try:
            day = date.fromisoformat(data["day"])
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidSignal("day must be an ISO date") from error
        return cls(
            person_id=_text(data.get("person_id"), "person_id"),
            at=_when(data, "at"),
            experience_id=_text(data.get("experience_id"), "experience_id"),
            tier=_int(data, "tier"),
            day=day,
            safe=_bool(data, "safe"),
            flooded=_bool(data, "flooded"),
            band_before=_int(data, "band_before"),
            not_worse_after=_bool(data, "not_worse_after"),
        )


@dataclass(frozen=True)
class FloodSignal:
    """Someone flooded outside a logged experience: a tap on "I'm flooded", a
    flooding heart rate or activation of 8 or more mid-conversation.

    Rule 3 applies as for a flooded experience; the break lasts at least the
    policy's minimum and until ``until``, the return time the couple agreed.
    Which of the three it was is not recorded here.
    """

    kind: ClassVar[str] = "flood"
    person_id: str
    at: datetime
    break_id: str
    until: datetime

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _text(self.break_id, "break_id")
        _aware(self.at, "at")
        _aware(self.until, "until")
        if self.until < self.at:
            raise InvalidSignal("until must not be before at")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "person_id": self.person_id,
            "at": self.at.isoformat(),
            "break_id": self.break_id,
            "until": self.until.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FloodSignal:
        return cls(
            _text(data.get("person_id"), "person_id"),
            _when(data, "at"),
            _text(data.get("break_id"), "break_id"),
            _when(data, "until"),
        )


@dataclass(frozen=True)
class PauseSignal:
    """A partner paused everything. No reason is asked or stored."""

    kind: ClassVar[str] = "pause"
    person_id: str
    at: datetime

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _aware(self.at, "at")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "person_id": self.person_id, "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PauseSignal:
        return cls(_text(data.get("person_id"), "person_id"), _when(data, "at"))


@dataclass(frozen=True)
class ResumeSignal:
    """A partner lifted their own pause. A resume by anyone else changes nothing."""

    kind: ClassVar[str] = "resume"
    person_id: str
    at: datetime

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _aware(self.at, "at")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "person_id": self.person_id, "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResumeSignal:
        return cls(_text(data.get("person_id"), "person_id"), _when(data, "at"))


Signal = (
    CeilingSignal
    | ClosenessSignal
    | UrgencyGapSignal
    | ExperienceSignal
    | FloodSignal
    | PauseSignal
    | ResumeSignal
)

_KINDS: dict[str, Any] = {
    kind.kind: kind
    for kind in (
        CeilingSignal,
        ClosenessSignal,
        UrgencyGapSignal,
        ExperienceSignal,
        FloodSignal,
        PauseSignal,
        ResumeSignal,
    )
}


def signal_from_dict(data: dict[str, Any]) -> Signal:
    """Read back any signal written by its ``to_dict``; raises InvalidSignal."""
    if not isinstance(data, dict):
        raise InvalidSignal("a signal is a JSON object")
    kind = _KINDS.get(data.get("kind"))  # type: ignore[arg-type]
    if kind is None:
        raise InvalidSignal(f"unknown signal kind {data.get('kind')!r}")
    signal: Signal = kind.from_dict(data)
    return signal


def signals_from_checkin(person_id: str, checkin: CheckIn, policy: Policy) -> tuple[Signal, ...]:
    """The signals a check-in yields, effective at its ``recorded_at``.

    Always a ceiling and a closeness signal; an urgency-gap signal too when
    urgency minus readiness reaches the policy's gap.
    """
    at = checkin.recorded_at
    if checkin.activation >= policy.stop_activation or checkin.state is State.SHUT_DOWN:
        max_tier = policy.stop_tier
    elif checkin.activation >= policy.slow_activation:
        max_tier = policy.slow_tier
    else:
        max_tier = policy.top_tier
    signals: list[Signal] = [
        CeilingSignal(person_id, at, max_tier, at + policy.ceiling_window),
        ClosenessSignal(
            person_id,
            at,
            checkin.readiness >= policy.closeness_readiness_min,
            at + policy.closeness_window,
        ),
    ]
    if checkin.urgency_gap >= policy.urgency_gap_min:
        signals.append(UrgencyGapSignal(person_id, at))
    return tuple(signals)


def signals_from_rating(
    person_id: str,
    experience_id: str,
    rating: ExperienceRating,
    policy: Policy,
    *,
    written_at: datetime | None = None,
) -> tuple[Signal, ...]:
    """The signal one partner's rating yields for the shared experience ``experience_id``.

    Both partners' ratings of one practice must use the same ``experience_id``.
    Pass ``written_at`` (the time the rating is saved); it defaults to
    ``rating.occurred_at``. The signal takes effect at the later of the two.
    """
    at = rating.occurred_at if written_at is None else max(written_at, rating.occurred_at)
    flooded = (
        rating.activation_after >= policy.flood_activation_after
        or rating.staying is Staying.LEFT_PHYSICALLY
        or rating.heart_rate_flooded
    )
    return (
        ExperienceSignal(
            person_id=person_id,
            at=at,
            experience_id=experience_id,
            tier=rating.tier,
            day=rating.occurred_at.date(),
            safe=rating.safety >= policy.advance_safety_min and not rating.left,
            flooded=flooded,
            band_before=policy.activation_band(rating.activation_before),
            not_worse_after=rating.activation_after <= rating.activation_before,
        ),
    )
