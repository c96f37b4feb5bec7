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
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from reconnect.domain.pacing.checkins import CheckIn, State
from reconnect.domain.pacing.experiences import ExperienceRating, Staying
from reconnect.domain.pacing.policy import BREAK_MINUTES_MAX, Policy

__all__ = [
    "CeilingSignal",
    "ClosenessSignal",
    "ExperienceSignal",
    "FloodSignal",
    "HoldSignal",
    "InvalidSignal",
    "LapseSignal",
    "PauseSignal",
    "ResumeSignal",
    "Signal",
    "UrgencyGapSignal",
    "ceiling_tier",
    "is_flooded",
    "signal_from_dict",
    "signals_from_checkin",
    "signals_from_rating",
    "signals_from_solo_practice",
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
    """A person's state limits the couple's tier to ``max_tier`` until ``until``.

    ``max_tier`` is the policy's stop tier (activation high, shut down, feeling
    unsafe with the partner), its slow tier (activation raised, revved up, uneasy)
    or the top tier (no limit). Every check-in yields one, so the latest ceiling
    also tells when the person last checked in. Under policy v2 the activation
    after a practice yields one too (``from_practice``).

    ``observed_at``: the moment the state was true (a check-in's time, or when the
    practice happened); the newest observation is the one that counts, whenever it
    was written. ``logged_at``: when it was written (a check-in may be dated back).
    Both default to ``at``.
    """

    kind: ClassVar[str] = "ceiling"
    person_id: str
    at: datetime
    max_tier: int
    until: datetime
    observed_at: datetime | None = None
    logged_at: datetime | None = None
    from_practice: bool = False

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _aware(self.at, "at")
        _aware(self.until, "until")
        for name in ("observed_at", "logged_at"):
            if getattr(self, name) is not None:
                _aware(getattr(self, name), name)
        if self.max_tier < 0:
            raise InvalidSignal("max_tier must be >= 0")

    @property
    def observed(self) -> datetime:
        return self.observed_at if self.observed_at is not None else self.at

    @property
    def logged(self) -> datetime:
        return self.logged_at if self.logged_at is not None else self.at

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "person_id": self.person_id,
            "at": self.at.isoformat(),
            "max_tier": self.max_tier,
            "until": self.until.isoformat(),
        }
        # Written only when they say something, so v1's stored rows read the same.
        if self.observed_at is not None:
            data["observed_at"] = self.observed_at.isoformat()
        if self.logged_at is not None:
            data["logged_at"] = self.logged_at.isoformat()
        if self.from_practice:
            data["from_practice"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CeilingSignal:
        return cls(
            _text(data.get("person_id"), "person_id"),
            _when(data, "at"),
            _int(data, "max_tier"),
            _when(data, "until"),
            _when(data, "observed_at") if "observed_at" in data else None,
            _when(data, "logged_at") if "logged_at" in data else None,
            _bool(data, "from_practice") if "from_practice" in data else False,
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
    ``day``: the calendar day it happened (UTC; policy v1 counts days by it).
    ``occurred_at``: when it happened; from v2 the engine counts lived days in
    the couple's time zone from it. ``break_until``: when it flooded, the return
    time the person chose (None: the policy's default).
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
    occurred_at: datetime | None = None
    break_until: datetime | None = None

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _text(self.experience_id, "experience_id")
        _aware(self.at, "at")
        for name in ("occurred_at", "break_until"):
            if getattr(self, name) is not None:
                _aware(getattr(self, name), name)
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
            **({"occurred_at": self.occurred_at.isoformat()} if self.occurred_at else {}),
            **({"break_until": self.break_until.isoformat()} if self.break_until else {}),
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
            occurred_at=_when(data, "occurred_at") if "occurred_at" in data else None,
            break_until=_when(data, "break_until") if "break_until" in data else None,
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


@dataclass(frozen=True)
class LapseSignal:
    """A partner recorded that something new came to light or that the affair partner
    made contact: ``together`` when both partners agreed to record it as a couple,
    otherwise one partner alone. What happened is never part of it."""

    kind: ClassVar[str] = "lapse"
    person_id: str
    at: datetime
    together: bool = False

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _aware(self.at, "at")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "person_id": self.person_id,
            "at": self.at.isoformat(),
            "together": self.together,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LapseSignal:
        return cls(
            _text(data.get("person_id"), "person_id"), _when(data, "at"), _bool(data, "together")
        )


@dataclass(frozen=True)
class HoldSignal:
    """A date this partner marked as hard is near: no new step opens until ``until``.
    Written when their key is at hand in the days before; which date, and why it is
    hard, stay sealed with them."""

    kind: ClassVar[str] = "hold"
    person_id: str
    at: datetime
    until: datetime

    def __post_init__(self) -> None:
        _text(self.person_id, "person_id")
        _aware(self.at, "at")
        _aware(self.until, "until")
        if self.until <= self.at:
            raise InvalidSignal("a hold ends after it begins")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "person_id": self.person_id,
            "at": self.at.isoformat(),
            "until": self.until.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HoldSignal:
        return cls(
            _text(data.get("person_id"), "person_id"), _when(data, "at"), _when(data, "until")
        )


Signal = (
    CeilingSignal
    | ClosenessSignal
    | UrgencyGapSignal
    | ExperienceSignal
    | FloodSignal
    | PauseSignal
    | ResumeSignal
    | LapseSignal
    | HoldSignal
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
        LapseSignal,
        HoldSignal,
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


def ceiling_tier(
    policy: Policy,
    *,
    activation: int,
    state: State = State.SETTLED,
    safety: int = 10,
) -> int:
    """The highest tier a person's state allows: the stop, slow or top tier."""
    if (
        activation >= policy.stop_activation
        or state is State.SHUT_DOWN
        or safety < policy.stop_below_safety
    ):
        return policy.stop_tier
    tier = policy.top_tier
    if activation >= policy.slow_activation or safety < policy.slow_below_safety:
        tier = policy.slow_tier
    if state is State.REVVED_UP:
        tier = min(tier, policy.revved_up_tier)
    return tier


def signals_from_checkin(
    person_id: str, checkin: CheckIn, policy: Policy, *, logged_at: datetime | None = None
) -> tuple[Signal, ...]:
    """The signals a check-in yields, effective at its ``recorded_at``.

    Always a ceiling and a closeness signal; an urgency-gap signal too when
    urgency minus readiness reaches the policy's gap. ``logged_at``: when it was
    written (default: ``recorded_at``); a check-in dated back never counts as a
    calm day of its own (docs/pacing.md).
    """
    at = checkin.recorded_at
    max_tier = ceiling_tier(
        policy, activation=checkin.activation, state=checkin.state, safety=checkin.safety
    )
    signals: list[Signal] = [
        CeilingSignal(
            person_id,
            at,
            max_tier,
            at + policy.ceiling_window,
            logged_at=logged_at if logged_at is not None and logged_at != at else None,
        ),
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


def is_flooded(rating: ExperienceRating, policy: Policy) -> bool:
    """Rule 3's test: activation after at the flood line, left physically, or the heart."""
    return (
        rating.activation_after >= policy.flood_activation_after
        or rating.staying is Staying.LEFT_PHYSICALLY
        or rating.heart_rate_flooded
    )


def _after_practice(
    person_id: str, rating: ExperienceRating, policy: Policy, at: datetime
) -> CeilingSignal:
    """The ceiling the state after a practice sets, observed when it happened."""
    flooded = is_flooded(rating, policy)
    max_tier = (
        policy.stop_tier if flooded else ceiling_tier(policy, activation=rating.activation_after)
    )
    observed = rating.ended_at or rating.occurred_at
    return CeilingSignal(
        person_id,
        at,
        max_tier,
        observed + policy.ceiling_window,
        observed_at=observed,
        logged_at=None,
        from_practice=True,
    )


def signals_from_rating(
    person_id: str,
    experience_id: str,
    rating: ExperienceRating,
    policy: Policy,
    *,
    written_at: datetime | None = None,
    back_in_minutes: int | None = None,
) -> tuple[Signal, ...]:
    """The signals one partner's rating yields for the shared experience ``experience_id``.

    Both partners' ratings of one practice must use the same ``experience_id``.
    Pass ``written_at`` (the time the rating is saved); it defaults to
    ``rating.occurred_at``. The signals take effect at the later of the two.
    ``back_in_minutes``: when this person flooded, the return time they chose,
    counted from when the rating is written (the policy keeps it within 20
    minutes to a day). From policy v2 the activation after also caps the pace.
    """
    at = rating.occurred_at if written_at is None else max(written_at, rating.occurred_at)
    flooded = is_flooded(rating, policy)
    rise = rating.activation_after - rating.activation_before
    # v1 (-1): no rise at all, and only the partner who came in more activated is asked.
    not_worse = rise <= max(policy.activation_rise_max, 0)
    safe = rating.safety >= policy.advance_safety_min and not rating.left
    if policy.pressure_is_unsafe and rating.felt_pressured:
        safe = False
    break_until = None
    if flooded and back_in_minutes is not None:
        minutes = min(max(back_in_minutes, policy.flood_break_minutes), BREAK_MINUTES_MAX)
        break_until = at + timedelta(minutes=minutes)
    signals: list[Signal] = [
        ExperienceSignal(
            person_id=person_id,
            at=at,
            experience_id=experience_id,
            tier=rating.tier,
            day=rating.occurred_at.date(),
            safe=safe,
            flooded=flooded,
            band_before=policy.activation_band(rating.activation_before),
            not_worse_after=not_worse,
            occurred_at=rating.occurred_at if policy.judge_when_it_happened else None,
            break_until=break_until,
        )
    ]
    if policy.after_practice_caps:
        signals.append(_after_practice(person_id, rating, policy, at))
    return tuple(signals)


def signals_from_solo_practice(
    person_id: str,
    rating: ExperienceRating,
    policy: Policy,
    *,
    written_at: datetime | None = None,
) -> tuple[Signal, ...]:
    """What a practice done alone yields: only its effect on the body, as a ceiling.

    A solo practice is private: it is never rated by the partner, never counts as
    a shared experience and never starts a couple-wide break. Only how the person
    was afterwards reaches the pace, exactly as a check-in at that moment would.
    """
    at = rating.occurred_at if written_at is None else max(written_at, rating.occurred_at)
    return (_after_practice(person_id, rating, policy, at),)
