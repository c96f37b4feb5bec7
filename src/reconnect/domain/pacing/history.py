"""What the pacing engine reads and keeps: the couple, their history, the ladder state.

:class:`History` is what :func:`~reconnect.domain.pacing.engine.decide` reads: the two
:class:`Partner` values, their signals and the previous :class:`Decision` as a
checkpoint. A :class:`Decision` carries its :class:`LadderState` (the earned tier, the
:class:`Evidence` towards the next step, pauses, breaks and each partner's latest
check-in signals) and the :class:`Reason` values behind it, each for one audience.
Every type here has a JSON-safe ``to_dict`` form and reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconnect.domain.pacing.signals import (
    CeilingSignal,
    ClosenessSignal,
    ExperienceSignal,
    InvalidSignal,
    Signal,
    UrgencyGapSignal,
    signal_from_dict,
)

__all__ = [
    "COUPLE",
    "DayMark",
    "Decision",
    "Evidence",
    "History",
    "LadderState",
    "Number",
    "Partner",
    "Reason",
    "Role",
    "signals_needed_after",
]

COUPLE = "couple"
"""The audience of a reason both partners may read."""

Number = int | float | str
T = TypeVar("T")


class Role(Enum):
    """A partner's role in this couple's story."""

    HURT = "hurt"
    INVOLVED = "involved"
    BOTH_HURT = "both_hurt"


@dataclass(frozen=True)
class Partner:
    """One of the two people whose signals are paced together."""

    person_id: str
    role: Role

    def __post_init__(self) -> None:
        if not isinstance(self.person_id, str) or not self.person_id:
            raise ValueError("a partner needs a person id")
        if self.person_id == COUPLE:
            raise ValueError(f"{COUPLE!r} is reserved as an audience name")
        object.__setattr__(self, "role", Role(self.role))


@dataclass(frozen=True)
class Reason:
    """One rule that shaped a decision, for one audience.

    ``audience`` is :data:`COUPLE` (both partners may read it) or one person id
    (only that person may). ``numbers`` holds only what that audience may see.
    """

    rule: str
    audience: str
    message: str
    numbers: Mapping[str, Number] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "audience": self.audience,
            "message": self.message,
            "numbers": dict(self.numbers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(
            str(data["rule"]), str(data["audience"]), str(data["message"]), dict(data["numbers"])
        )


@dataclass(frozen=True)
class Evidence:
    """A safe shared experience (or, at tier 0 under v2, a calm day) counting
    towards the next tier.

    ``at``: when it became evidence (both halves in). ``day``: the day it counts
    for. ``happened`` and ``logged``: when it happened and when it was first
    written, which the v2 rule about separate days reads (None under v1).
    """

    experience_id: str
    at: datetime
    day: date
    happened: datetime | None = None
    logged: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "experience_id": self.experience_id,
            "at": self.at.isoformat(),
            "day": self.day.isoformat(),
        }
        if self.happened is not None and self.logged is not None:
            data["happened"] = self.happened.isoformat()
            data["logged"] = self.logged.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(
            data["experience_id"],
            datetime.fromisoformat(data["at"]),
            date.fromisoformat(data["day"]),
            _from_iso(data.get("happened")),
            _from_iso(data.get("logged")),
        )


@dataclass(frozen=True)
class DayMark:
    """What one person's check-ins said on one lived day (policy v2's calm days)."""

    person_id: str
    day: date
    checked_in: bool
    calm: bool
    at: datetime
    logged: datetime

    def to_dict(self) -> list[Any]:
        return [
            self.person_id,
            self.day.isoformat(),
            self.checked_in,
            self.calm,
            self.at.isoformat(),
            self.logged.isoformat(),
        ]

    @classmethod
    def from_list(cls, data: Sequence[Any]) -> DayMark:
        person, day, checked_in, calm, at, logged = data
        return cls(
            str(person),
            date.fromisoformat(day),
            bool(checked_in),
            bool(calm),
            datetime.fromisoformat(at),
            datetime.fromisoformat(logged),
        )


@dataclass(frozen=True)
class LadderState:
    """Everything the fold remembers, as of ``as_of``; small and bounded.

    Only signal-level facts live here (never a raw entry), so a stored state
    reveals no more than the signals it was built from.
    """

    as_of: datetime
    tier: int = 0
    paused_by: tuple[str, ...] = ()
    break_until: datetime | None = None
    hold_until: datetime | None = None
    evidence: tuple[Evidence, ...] = ()
    # Halves of experiences still waiting for the other partner's rating.
    pending: tuple[ExperienceSignal, ...] = ()
    # Experiences already judged / already stepped back for, with when.
    judged: tuple[tuple[str, datetime], ...] = ()
    stepped: tuple[tuple[str, datetime], ...] = ()
    # Each partner's latest check-in signals.
    ceilings: tuple[CeilingSignal, ...] = ()
    closeness: tuple[ClosenessSignal, ...] = ()
    urgency: tuple[UrgencyGapSignal, ...] = ()
    # From policy v2 on (empty under v1):
    # until when each partner's pace stays gentle after a stop-level state;
    settling: tuple[tuple[str, datetime], ...] = ()
    # the permitted tier over the last hours, as (from, tier) changes, so an
    # experience is judged against the pace in force when it happened;
    pace_log: tuple[tuple[datetime, int], ...] = ()
    # each experience's first half: when it was written, and the tier permitted
    # when the practice happened (-1: not known, so it cannot count);
    first_seen: tuple[tuple[str, datetime, int], ...] = ()
    # recent lived days' check-ins per person, and calm days already counted.
    days: tuple[DayMark, ...] = ()
    counted_days: tuple[date, ...] = ()
    # recent flooding episodes, as (began, end of the break its first flood set).
    episodes: tuple[tuple[datetime, datetime], ...] = ()
    # From policy v3 on: recent floods that stepped back or could have, as (when,
    # end of the break it set, the longest chain of floods ending with it), and the
    # longest chain among floods already forgotten.
    floods: tuple[tuple[datetime, datetime, int], ...] = ()
    chain_floor: int = 0
    # From policy v4 on: the newest lapse still holding the pace, as (who recorded
    # it: a person id, or COUPLE when both did together; until when it holds).
    lapse: tuple[str, datetime] | None = None
    # ...and the newest hold near a date a partner marked as hard: (whose, until when).
    quiet: tuple[str, datetime] | None = None

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        # Written only when used, so v1's stored checkpoints keep their exact form.
        if any((self.settling, self.pace_log, self.first_seen, self.days, self.counted_days)):
            extra = {
                "episodes": [[a.isoformat(), b.isoformat()] for a, b in self.episodes],
                "settling": [[p, at.isoformat()] for p, at in self.settling],
                "pace_log": [[at.isoformat(), tier] for at, tier in self.pace_log],
                "first_seen": [[i, at.isoformat(), t] for i, at, t in self.first_seen],
                "days": [d.to_dict() for d in self.days],
                "counted_days": [d.isoformat() for d in self.counted_days],
            }
        if self.floods or self.chain_floor:
            extra["floods"] = [[a.isoformat(), b.isoformat(), n] for a, b, n in self.floods]
            extra["chain_floor"] = self.chain_floor
        if self.lapse is not None:
            extra["lapse"] = [self.lapse[0], self.lapse[1].isoformat()]
        if self.quiet is not None:
            extra["quiet"] = [self.quiet[0], self.quiet[1].isoformat()]
        return {
            "as_of": self.as_of.isoformat(),
            "tier": self.tier,
            "paused_by": list(self.paused_by),
            "break_until": _iso(self.break_until),
            "hold_until": _iso(self.hold_until),
            "evidence": [e.to_dict() for e in self.evidence],
            "pending": [s.to_dict() for s in self.pending],
            "judged": [[i, at.isoformat()] for i, at in self.judged],
            "stepped": [[i, at.isoformat()] for i, at in self.stepped],
            "ceilings": [s.to_dict() for s in self.ceilings],
            "closeness": [s.to_dict() for s in self.closeness],
            "urgency": [s.to_dict() for s in self.urgency],
            **extra,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LadderState:
        return cls(
            as_of=datetime.fromisoformat(data["as_of"]),
            tier=int(data["tier"]),
            paused_by=tuple(str(p) for p in data["paused_by"]),
            break_until=_from_iso(data["break_until"]),
            hold_until=_from_iso(data["hold_until"]),
            evidence=tuple(Evidence.from_dict(e) for e in data["evidence"]),
            pending=tuple(_signal_of(d, ExperienceSignal) for d in data["pending"]),
            judged=tuple((str(i), datetime.fromisoformat(at)) for i, at in data["judged"]),
            stepped=tuple((str(i), datetime.fromisoformat(at)) for i, at in data["stepped"]),
            ceilings=tuple(_signal_of(d, CeilingSignal) for d in data["ceilings"]),
            closeness=tuple(_signal_of(d, ClosenessSignal) for d in data["closeness"]),
            urgency=tuple(_signal_of(d, UrgencyGapSignal) for d in data["urgency"]),
            settling=tuple(
                (str(p), datetime.fromisoformat(at)) for p, at in data.get("settling", ())
            ),
            pace_log=tuple(
                (datetime.fromisoformat(at), int(t)) for at, t in data.get("pace_log", ())
            ),
            first_seen=tuple(
                (str(i), datetime.fromisoformat(at), int(t))
                for i, at, t in data.get("first_seen", ())
            ),
            days=tuple(DayMark.from_list(d) for d in data.get("days", ())),
            counted_days=tuple(date.fromisoformat(d) for d in data.get("counted_days", ())),
            episodes=tuple(
                (datetime.fromisoformat(a), datetime.fromisoformat(b))
                for a, b in data.get("episodes", ())
            ),
            floods=tuple(
                (datetime.fromisoformat(a), datetime.fromisoformat(b), int(n))
                for a, b, n in data.get("floods", ())
            ),
            chain_floor=int(data.get("chain_floor", 0)),
            lapse=_lapse(data.get("lapse")),
            quiet=_lapse(data.get("quiet")),
        )


def _lapse(stored: Any) -> tuple[str, datetime] | None:
    """A stored (who, until) pair, as lapses and holds near hard dates keep them."""
    return None if stored is None else (str(stored[0]), datetime.fromisoformat(stored[1]))


@dataclass(frozen=True)
class Decision:
    """Today's pace, why, and the ladder state to resume from next time.

    ``permitted_tier``: the highest tier suggested now. ``ladder_tier``: the tier
    the couple has earned. ``practices``: ids from the catalogue fitting the
    permitted tier (tier-0 self-soothing while paused or on a break).
    ``break_until``: set while a break after a flood is running. ``paused_by``:
    who paused (only they can resume). ``reasons``: for every audience; show a
    person only :func:`~reconnect.domain.pacing.engine.reasons_for` them.
    """

    permitted_tier: int
    ladder_tier: int
    practices: tuple[str, ...]
    break_until: datetime | None
    paused: bool
    paused_by: tuple[str, ...]
    policy_version: str
    decided_at: datetime
    reasons: tuple[Reason, ...]
    state: LadderState

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form for the audit trail; :meth:`from_dict` reads it back."""
        return {
            "permitted_tier": self.permitted_tier,
            "ladder_tier": self.ladder_tier,
            "practices": list(self.practices),
            "break_until": _iso(self.break_until),
            "paused": self.paused,
            "paused_by": list(self.paused_by),
            "policy_version": self.policy_version,
            "decided_at": self.decided_at.isoformat(),
            "reasons": [r.to_dict() for r in self.reasons],
            "state": self.state.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            permitted_tier=int(data["permitted_tier"]),
            ladder_tier=int(data["ladder_tier"]),
            practices=tuple(str(p) for p in data["practices"]),
            break_until=_from_iso(data["break_until"]),
            paused=bool(data["paused"]),
            paused_by=tuple(str(p) for p in data["paused_by"]),
            policy_version=str(data["policy_version"]),
            decided_at=datetime.fromisoformat(data["decided_at"]),
            reasons=tuple(Reason.from_dict(r) for r in data["reasons"]),
            state=LadderState.from_dict(data["state"]),
        )


@dataclass(frozen=True)
class History:
    """What ``decide`` needs: the two partners, their signals, a checkpoint, and
    the couple's time zone.

    ``signals`` must be sorted by ``at`` (ties in the order they were written);
    only the part after the checkpoint is read, so storage may pass just the
    signals after ``checkpoint.decided_at`` (see :func:`signals_needed_after`)
    or a longer tail. ``checkpoint`` is the previous stored decision, if any.
    """

    partners: tuple[Partner, Partner]
    signals: Sequence[Signal] = ()
    checkpoint: Decision | None = None
    # The couple's IANA time zone: from policy v2, separate days are lived days here.
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if len(self.partners) != 2:
            raise ValueError("a history has exactly two partners")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {self.time_zone!r}") from None
        first, second = self.partners
        if first.person_id == second.person_id:
            raise ValueError("the two partners must be different people")

    @property
    def person_ids(self) -> tuple[str, str]:
        return (self.partners[0].person_id, self.partners[1].person_id)


def signals_needed_after(checkpoint: Decision | None) -> datetime | None:
    """Storage must pass every signal written after this time (None: all of them)."""
    return None if checkpoint is None else checkpoint.decided_at


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _signal_of(data: Mapping[str, Any], kind: type[T]) -> T:
    signal = signal_from_dict(dict(data))
    if not isinstance(signal, kind):
        raise InvalidSignal(f"expected a {kind.__name__}")
    return signal
