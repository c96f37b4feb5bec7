"""The pacing engine: today's permitted tier, from coarse signals only.

``decide(history, policy, now)`` folds the couple's signals, oldest first, into a
small :class:`LadderState` (the earned tier, the evidence towards the next step,
pauses, breaks and each partner's latest check-in signals), then reads today's
pace off that state at ``now``.

Because the fold is event-based, a stored :class:`Decision` is a checkpoint: its
state summarises every signal up to ``decided_at``. Handing ``decide`` that
checkpoint plus the signals written after it gives exactly the decision a replay
from the very first signal would give, at a cost that does not grow with the
length of the history. The rules and their policy keys are in docs/pacing.md.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from reconnect.domain.catalogue import Catalogue, load_catalogue
from reconnect.domain.policy import Policy
from reconnect.domain.signals import (
    CeilingSignal,
    ClosenessSignal,
    ExperienceSignal,
    FloodSignal,
    InvalidSignal,
    PauseSignal,
    ResumeSignal,
    Signal,
    UrgencyGapSignal,
    signal_from_dict,
    signals_from_checkin,
    signals_from_rating,
)

__all__ = [
    "COUPLE",
    "Decision",
    "Evidence",
    "History",
    "LadderState",
    "Partner",
    "Reason",
    "Role",
    "can_resume",
    "decide",
    "is_ahead_of_pace",
    "reasons_for",
    "signals_from_checkin",
    "signals_from_rating",
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
    """A safe shared experience counting towards the next tier."""

    experience_id: str
    at: datetime
    day: date


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "tier": self.tier,
            "paused_by": list(self.paused_by),
            "break_until": _iso(self.break_until),
            "hold_until": _iso(self.hold_until),
            "evidence": [
                {"experience_id": e.experience_id, "at": e.at.isoformat(), "day": e.day.isoformat()}
                for e in self.evidence
            ],
            "pending": [s.to_dict() for s in self.pending],
            "judged": [[i, at.isoformat()] for i, at in self.judged],
            "stepped": [[i, at.isoformat()] for i, at in self.stepped],
            "ceilings": [s.to_dict() for s in self.ceilings],
            "closeness": [s.to_dict() for s in self.closeness],
            "urgency": [s.to_dict() for s in self.urgency],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LadderState:
        return cls(
            as_of=datetime.fromisoformat(data["as_of"]),
            tier=int(data["tier"]),
            paused_by=tuple(str(p) for p in data["paused_by"]),
            break_until=_from_iso(data["break_until"]),
            hold_until=_from_iso(data["hold_until"]),
            evidence=tuple(
                Evidence(
                    e["experience_id"],
                    datetime.fromisoformat(e["at"]),
                    date.fromisoformat(e["day"]),
                )
                for e in data["evidence"]
            ),
            pending=tuple(_signal_of(d, ExperienceSignal) for d in data["pending"]),
            judged=tuple((str(i), datetime.fromisoformat(at)) for i, at in data["judged"]),
            stepped=tuple((str(i), datetime.fromisoformat(at)) for i, at in data["stepped"]),
            ceilings=tuple(_signal_of(d, CeilingSignal) for d in data["ceilings"]),
            closeness=tuple(_signal_of(d, ClosenessSignal) for d in data["closeness"]),
            urgency=tuple(_signal_of(d, UrgencyGapSignal) for d in data["urgency"]),
        )


@dataclass(frozen=True)
class Decision:
    """Today's pace, why, and the ladder state to resume from next time.

    ``permitted_tier``: the highest tier suggested now. ``ladder_tier``: the tier
    the couple has earned. ``practices``: ids from the catalogue fitting the
    permitted tier (tier-0 self-soothing while paused or on a break).
    ``break_until``: set while a break after a flood is running. ``paused_by``:
    who paused (only they can resume). ``reasons``: for every audience; show a
    person only :func:`reasons_for` them.
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
    """What ``decide`` needs: the two partners, their signals, a checkpoint.

    ``signals`` must be sorted by ``at`` (ties in the order they were written);
    only the part after the checkpoint is read, so storage may pass just the
    signals after ``checkpoint.decided_at`` (see :func:`signals_needed_after`)
    or a longer tail. ``checkpoint`` is the previous stored decision, if any.
    """

    partners: tuple[Partner, Partner]
    signals: Sequence[Signal] = ()
    checkpoint: Decision | None = None

    def __post_init__(self) -> None:
        if len(self.partners) != 2:
            raise ValueError("a history has exactly two partners")
        first, second = self.partners
        if first.person_id == second.person_id:
            raise ValueError("the two partners must be different people")

    @property
    def person_ids(self) -> tuple[str, str]:
        return (self.partners[0].person_id, self.partners[1].person_id)


def signals_needed_after(checkpoint: Decision | None) -> datetime | None:
    """Storage must pass every signal written after this time (None: all of them)."""
    return None if checkpoint is None else checkpoint.decided_at


def decide(
    history: History, policy: Policy, now: datetime, *, catalogue: Catalogue | None = None
) -> Decision:
    """Today's pace at ``now``, from signals only.

    Signals after ``now`` are ignored, so re-running with the same stored
    signals, the same policy version and the same ``now`` reproduces a stored
    decision exactly. A checkpoint later than ``now`` is ignored (the signals
    are replayed from the start instead).

    Raises ``ValueError`` if the signals it reads are out of order or come from
    someone outside the couple.
    """
    if now.utcoffset() is None:
        raise ValueError("now must carry a time zone")
    signals = history.signals
    end = bisect_right(signals, now, key=_at)
    checkpoint = history.checkpoint
    if checkpoint is not None and checkpoint.decided_at <= now:
        start = bisect_right(signals, checkpoint.decided_at, key=_at, hi=end)
        fold = _Fold(history.person_ids, policy, checkpoint.state)
    else:
        start = 0
        fold = _Fold(history.person_ids, policy, None)
    previous: datetime | None = None
    for index in range(start, end):
        signal = signals[index]
        if previous is not None and signal.at < previous:
            raise ValueError("signals must be sorted by time")
        previous = signal.at
        fold.apply(signal)
    fold.prune(now)
    state = fold.freeze(now)
    permitted, reasons = _pace(fold, now, explain=True)
    catalogue = catalogue if catalogue is not None else load_catalogue()
    on_break = fold.break_until is not None and now < fold.break_until
    return Decision(
        permitted_tier=permitted,
        ladder_tier=fold.tier,
        practices=tuple(p.id for p in catalogue.for_tier(permitted)),
        break_until=fold.break_until if on_break else None,
        paused=bool(fold.paused_by),
        paused_by=tuple(fold.paused_by),
        policy_version=policy.version,
        decided_at=now,
        reasons=tuple(reasons),
        state=state,
    )


def reasons_for(decision: Decision, person_id: str) -> tuple[Reason, ...]:
    """The reasons ``person_id`` may read: couple-level ones and their own."""
    return tuple(r for r in decision.reasons if r.audience in (COUPLE, person_id))


def can_resume(decision: Decision, person_id: str) -> bool:
    """Only a person who paused may resume; anyone else's resume changes nothing."""
    return person_id in decision.paused_by


def is_ahead_of_pace(decision: Decision, tier: int) -> bool:
    """True when an experience at ``tier`` goes beyond what ``decision`` permits.

    Such an experience is still recorded honestly; it simply never counts
    towards advancing.
    """
    return tier > decision.permitted_tier


class _Fold:
    """The mutable working copy of a :class:`LadderState` while signals are folded."""

    def __init__(
        self, person_ids: tuple[str, str], policy: Policy, state: LadderState | None
    ) -> None:
        self.person_ids = person_ids
        self.policy = policy
        state = state if state is not None else LadderState(as_of=datetime.min)
        unknown = {s.person_id for s in state.ceilings} - set(person_ids)
        if unknown:
            raise ValueError("the checkpoint belongs to another couple")
        self.tier = state.tier
        self.paused_by = list(state.paused_by)
        self.break_until = state.break_until
        self.hold_until = state.hold_until
        self.evidence = list(state.evidence)
        self.pending = {(s.experience_id, s.person_id): s for s in state.pending}
        self.judged = dict(state.judged)
        self.stepped = dict(state.stepped)
        self.ceilings = {s.person_id: s for s in state.ceilings}
        self.closeness = {s.person_id: s for s in state.closeness}
        self.urgency = {s.person_id: s for s in state.urgency}

    def apply(self, signal: Signal) -> None:
        person = signal.person_id
        if person not in self.person_ids:
            raise ValueError("a signal comes from someone outside this couple")
        self.prune(signal.at)
        if isinstance(signal, CeilingSignal):
            self.ceilings[person] = signal
        elif isinstance(signal, ClosenessSignal):
            self.closeness[person] = signal
        elif isinstance(signal, UrgencyGapSignal):
            self.urgency[person] = signal
        elif isinstance(signal, PauseSignal):
            if person not in self.paused_by:
                self.paused_by.append(person)
        elif isinstance(signal, ResumeSignal):
            # Rule 5: a resume only lifts the resumer's own pause.
            if person in self.paused_by:
                self.paused_by.remove(person)
        elif isinstance(signal, FloodSignal):
            self._flood(f"break:{signal.break_id}", signal.at, signal.until)
        else:
            self._experience(signal)

    def _flood(self, key: str, at: datetime, until: datetime | None = None) -> None:
        """Rule 3: step back once per flooding episode, break, and hold advancing."""
        policy = self.policy
        if key in self.stepped:
            return
        self.stepped[key] = at
        # One episode, one step: a flood reported while its break still runs (say a
        # tap on "I'm flooded", then the same conversation logged as flooded) only
        # lengthens the break.
        if self.break_until is None or at >= self.break_until:
            self.tier = max(0, self.tier - policy.flood_step_back)
            self.evidence.clear()  # what came before the flood starts over
        end = at + policy.flood_break
        self.break_until = _later(self.break_until, max(end, until) if until else end)
        self.hold_until = _later(self.hold_until, at + policy.flood_no_advance)

    def _experience(self, half: ExperienceSignal) -> None:
        key = half.experience_id
        if half.flooded:
            self._flood(key, half.at)
        if key in self.judged:
            return  # the first rating from each partner is the one that counts
        other_id = (
            self.person_ids[1] if half.person_id == self.person_ids[0] else self.person_ids[0]
        )
        self.pending[(key, half.person_id)] = half
        other = self.pending.get((key, other_id))
        if other is None:
            return
        del self.pending[(key, half.person_id)], self.pending[(key, other_id)]
        self.judged[key] = half.at
        # An experience ahead of the pace is honest history, never evidence.
        if (
            _is_safe(half, other)
            and half.tier == other.tier == self.tier
            and half.tier <= _pace(self, half.at, explain=False)[0]
        ):
            self.evidence.append(Evidence(key, half.at, min(half.day, other.day)))
            self._maybe_advance(half.at)

    def _maybe_advance(self, at: datetime) -> None:
        policy = self.policy
        if self.paused_by or self.tier >= policy.top_tier:
            return
        if self.hold_until is not None and at < self.hold_until:
            return
        days = {e.day for e in self.evidence}
        if (
            len(self.evidence) >= policy.advance_safe_experiences
            and len(days) >= policy.advance_distinct_days
        ):
            self.tier += 1
            self.evidence.clear()

    def prune(self, at: datetime) -> None:
        """Forget what has aged out of every window at ``at`` (keeps the state small)."""
        evidence_cutoff = at - self.policy.advance_window
        if self.evidence and self.evidence[0].at < evidence_cutoff:
            self.evidence = [e for e in self.evidence if e.at >= evidence_cutoff]
        pairing_cutoff = at - self.policy.pairing_window
        for table in (self.judged, self.stepped):
            for key in [k for k, when in table.items() if when < pairing_cutoff]:
                del table[key]
        for pair in [k for k, s in self.pending.items() if s.at < pairing_cutoff]:
            del self.pending[pair]
        if self.break_until is not None and self.break_until <= at:
            self.break_until = None
        if self.hold_until is not None and self.hold_until <= at:
            self.hold_until = None

    def freeze(self, as_of: datetime) -> LadderState:
        """An immutable, canonical copy (same content gives an equal state)."""

        def by_person(table: Mapping[str, Any]) -> tuple[Any, ...]:
            return tuple(table[p] for p in sorted(table))

        return LadderState(
            as_of=as_of,
            tier=self.tier,
            paused_by=tuple(self.paused_by),
            break_until=self.break_until,
            hold_until=self.hold_until,
            evidence=tuple(self.evidence),
            pending=tuple(
                sorted(self.pending.values(), key=lambda s: (s.at, s.experience_id, s.person_id))
            ),
            judged=tuple(sorted(self.judged.items(), key=lambda kv: (kv[1], kv[0]))),
            stepped=tuple(sorted(self.stepped.items(), key=lambda kv: (kv[1], kv[0]))),
            ceilings=by_person(self.ceilings),
            closeness=by_person(self.closeness),
            urgency=by_person(self.urgency),
        )


def _is_safe(one: ExperienceSignal, other: ExperienceSignal) -> bool:
    """Rule 2's test for one shared experience, from both partners' halves."""
    if not (one.safe and other.safe) or one.flooded or other.flooded:
        return False
    # The more activated partner must not leave more activated than they came.
    # If the bands tie we cannot tell who that is, so both must be not worse.
    if one.band_before > other.band_before:
        return one.not_worse_after
    if other.band_before > one.band_before:
        return other.not_worse_after
    return one.not_worse_after and other.not_worse_after


def _pace(fold: _Fold, at: datetime, *, explain: bool) -> tuple[int, list[Reason]]:
    """The permitted tier at ``at`` given the fold's state, and (optionally) why."""
    policy = fold.policy
    reasons: list[Reason] = []
    ladder = fold.tier
    tier = ladder

    # Rule 1: each partner's latest check-in may cap today.
    caps: list[tuple[str, int, str]] = []
    for person in fold.person_ids:
        ceiling = fold.ceilings.get(person)
        if ceiling is None or at - ceiling.at > policy.unknown_after:
            caps.append((person, policy.unknown_tier, "unknown"))
        elif at < ceiling.until:
            caps.append((person, ceiling.max_tier, "ceiling"))
    binding = [cap for cap in caps if cap[1] < ladder]
    if binding:
        tier = min(cap for _, cap, _ in binding)

    # Tier 6 (the gated tier) needs both partners' fresh "ready".
    gated = policy.closeness_gated_tier
    not_ready: list[str] = []
    if tier >= gated:
        for person in fold.person_ids:
            signal = fold.closeness.get(person)
            if signal is None or not signal.ready or at >= signal.until:
                not_ready.append(person)
        if not_ready:
            tier = gated - 1

    on_break = fold.break_until is not None and at < fold.break_until
    if fold.paused_by or on_break:
        tier = 0  # Rules 3 and 5: nothing but tier-0 self-soothing
    if not explain:
        return tier, reasons

    reasons.append(
        Reason(
            "ladder",
            COUPLE,
            f"Together you have reached tier {ladder} of the ladder.",
            {"ladder_tier": ladder, "permitted_tier": tier},
        )
    )
    for person in fold.person_ids:
        if person in fold.paused_by:
            reasons.append(
                Reason(
                    "pause",
                    person,
                    "You paused the pace. Only practices you can do on your own are "
                    "suggested, and you can resume whenever you choose. No reason is needed.",
                )
            )
        elif fold.paused_by:
            reasons.append(
                Reason(
                    "pause",
                    person,
                    "The pace is paused for now. Pausing needs no reason; it lifts when "
                    "the partner who paused is ready. Practices you can do on your own "
                    "are still here.",
                )
            )
    if on_break and fold.break_until is not None:
        reasons.append(
            Reason(
                "flood_break",
                COUPLE,
                "A recent practice overwhelmed at least one of you. Take a break of at "
                f"least {policy.flood_break_minutes} minutes before anything shared; "
                "self-soothing practices are suggested until then.",
                {
                    "break_until": fold.break_until.isoformat(),
                    "break_minutes": policy.flood_break_minutes,
                },
            )
        )
    # While a pause or a break decides the pace, a couple-level word about the
    # ceiling or readiness would tell one partner something the pace does not.
    dominated = bool(fold.paused_by) or on_break
    if binding and not dominated:
        # Couple wording is identical whatever the slower partner's reason is.
        reasons.append(
            Reason(
                "ceiling",
                COUPLE,
                "Today's pace follows the partner who needs it slower.",
                {"today_limit": min(cap for _, cap, _ in binding)},
            )
        )
    for person, cap, why in binding:
        reasons.append(_own_ceiling_reason(person, cap, why, policy))
    if not_ready and not dominated:
        reasons.append(
            Reason(
                "closeness",
                COUPLE,
                f"Tier {gated} opens only when both of you, each in your own check-in, "
                "say you feel ready for closeness. It is never something to ask for.",
                {"gated_tier": gated},
            )
        )
    for person in not_ready:
        reasons.append(
            Reason(
                "closeness",
                person,
                f"Your latest check-in does not show readiness for closeness, so tier "
                f"{gated} stays closed. There is no timetable for this.",
                {"readiness_min": policy.closeness_readiness_min},
            )
        )
    if fold.hold_until is not None and at < fold.hold_until:
        reasons.append(
            Reason(
                "flood_hold",
                COUPLE,
                "After a practice that overwhelmed, the ladder stays where it is for "
                f"{policy.flood_no_advance_hours} hours; safety needs time to settle.",
                {"hold_until": fold.hold_until.isoformat()},
            )
        )
    if ladder < policy.top_tier:
        days = len({e.day for e in fold.evidence})
        reasons.append(
            Reason(
                "advance",
                COUPLE,
                f"Safe shared practices at tier {ladder} in the last "
                f"{policy.advance_window_days} days: {len(fold.evidence)}, on {days} "
                f"separate days. Moving up needs {policy.advance_safe_experiences} on "
                f"{policy.advance_distinct_days} separate days; one good evening is not enough.",
                {
                    "safe_experiences": len(fold.evidence),
                    "distinct_days": days,
                    "needed_experiences": policy.advance_safe_experiences,
                    "needed_days": policy.advance_distinct_days,
                    "window_days": policy.advance_window_days,
                },
            )
        )
    for person in fold.person_ids:
        gap = fold.urgency.get(person)
        if gap is not None and at - gap.at < policy.urgency_window:
            reasons.append(
                Reason(
                    "urgency",
                    person,
                    "Your pull to reconnect is strong right now, stronger than your sense "
                    "of being ready. The pull is real and it matters. Urgency is not "
                    "readiness, though, so it does not change the pace.",
                    {"gap_at_least": policy.urgency_gap_min},
                )
            )
    return tier, reasons


def _own_ceiling_reason(person: str, cap: int, why: str, policy: Policy) -> Reason:
    """A partner's own view of why their check-in limits today (their numbers only)."""
    if why == "unknown":
        return Reason(
            "ceiling",
            person,
            f"There has been no check-in from you for more than {policy.unknown_after_hours} "
            f"hours, so the pace stays at tier {cap} or below until you check in.",
            {"max_tier": cap, "hours_without_checkin": policy.unknown_after_hours},
        )
    if cap <= policy.stop_tier:
        band = f"{policy.stop_activation} or more, or shut down"
    else:
        band = f"{policy.slow_activation} to {policy.stop_activation - 1}"
    return Reason(
        "ceiling",
        person,
        f"Your latest check-in asks for a gentler day, so today stays at tier {cap} or "
        "below. Going slower is how safety gets built.",
        {"max_tier": cap, "your_activation": band},
    )


def _at(signal: Signal) -> datetime:
    return signal.at


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _signal_of(data: Mapping[str, Any], kind: type[T]) -> T:
    signal = signal_from_dict(dict(data))
    if not isinstance(signal, kind):
        raise InvalidSignal(f"expected a {kind.__name__}")
    return signal
