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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconnect.domain.pacing.catalogue import Catalogue, load_catalogue
from reconnect.domain.pacing.policy import Policy
from reconnect.domain.pacing.signals import (
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
    "urgency_reason",
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
    zone = ZoneInfo(history.time_zone)
    if checkpoint is not None and checkpoint.decided_at <= now:
        start = bisect_right(signals, checkpoint.decided_at, key=_at, hi=end)
        fold = _Fold(history.person_ids, policy, checkpoint.state, zone)
    else:
        start = 0
        fold = _Fold(history.person_ids, policy, None, zone)
    previous: datetime | None = None
    for index in range(start, end):
        signal = signals[index]
        if previous is not None and signal.at < previous:
            raise ValueError("signals must be sorted by time")
        previous = signal.at
        fold.apply(signal)
    if fold.logging:
        fold.run_clock(now)
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
        self,
        person_ids: tuple[str, str],
        policy: Policy,
        state: LadderState | None,
        zone: ZoneInfo,
    ) -> None:
        self.person_ids = person_ids
        self.policy = policy
        self.zone = zone
        # v2's rules that look back at the pace need its recent history kept.
        self.logging = policy.judge_when_it_happened
        # A fresh fold has no clock yet: nothing is logged before the first signal.
        self.clock: datetime | None = None if state is None else state.as_of
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
        self.settling = dict(state.settling)
        self.pace_log = list(state.pace_log)
        self.first_seen = {i: (at, tier) for i, at, tier in state.first_seen}
        self.days = {(d.person_id, d.day): d for d in state.days}
        self.counted_days = set(state.counted_days)
        self.episodes = list(state.episodes)

    def apply(self, signal: Signal) -> None:
        person = signal.person_id
        if person not in self.person_ids:
            raise ValueError("a signal comes from someone outside this couple")
        if self.logging:
            self.run_clock(signal.at)
        self.prune(signal.at)
        if isinstance(signal, CeilingSignal):
            self._ceiling(signal)
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
            if self.policy.after_practice_caps:
                # Flooding is the newest thing known about that body.
                stop = CeilingSignal(
                    person,
                    signal.at,
                    self.policy.stop_tier,
                    signal.at + self.policy.ceiling_window,
                    from_practice=True,
                )
                self._ceiling(stop)
        else:
            self._experience(signal)
        if self.logging:
            self._log(signal.at)

    # --- the pace over time (v2: judging an experience by the pace when it happened)

    def run_clock(self, until: datetime) -> None:
        """Log every change of the permitted tier that time alone brings, up to ``until``."""
        start = self.clock
        if start is not None and until <= start:
            return
        if start is not None:
            for moment in sorted(t for t in self._expiries() if start < t <= until):
                self.prune(moment)
                self._log(moment)
        self.clock = until

    def _expiries(self) -> Iterable[datetime]:
        """The moments at which the pace may change with no new signal."""
        policy = self.policy
        for ceiling in self.ceilings.values():
            yield ceiling.until
            yield ceiling.observed + policy.unknown_after
        yield from self.settling.values()
        for closeness in self.closeness.values():
            yield closeness.until
        if self.break_until is not None:
            yield self.break_until

    def _log(self, at: datetime) -> None:
        tier = _pace(self, at, explain=False)[0]
        if self.pace_log and self.pace_log[-1][0] == at:
            self.pace_log.pop()
        if not self.pace_log or self.pace_log[-1][1] != tier:
            self.pace_log.append((at, tier))
        self.clock = at if self.clock is None else max(self.clock, at)

    def pace_at(self, moment: datetime) -> int:
        """The tier permitted at ``moment`` as logged; -1 when the log does not reach it."""
        index = bisect_right(self.pace_log, moment, key=lambda entry: entry[0])
        return self.pace_log[index - 1][1] if index else -1

    # --- each kind of signal

    def _ceiling(self, signal: CeilingSignal) -> None:
        """Rule 1: a newer state replaces the person's older one; a hard one settles."""
        policy = self.policy
        person = signal.person_id
        current = self.ceilings.get(person)
        if current is None or signal.observed >= current.observed:
            self.ceilings[person] = signal
        if policy.settle_hours and signal.max_tier <= policy.stop_tier:
            settle = signal.observed + policy.settle
            self.settling[person] = _later(self.settling.get(person), settle)
        if policy.first_step_by_calm_days:
            self._mark_day(signal)

    def _mark_day(self, signal: CeilingSignal) -> None:
        """v2's first step: a lived day on which both checked in and all was calm."""
        policy = self.policy
        day = self.lived_day(signal.observed)
        key = (signal.person_id, day)
        mark = self.days.get(key)
        calm = signal.max_tier >= policy.top_tier and (
            signal.logged - signal.observed <= policy.backdate_max
        )
        checked_in = not signal.from_practice
        self.days[key] = DayMark(
            signal.person_id,
            day,
            checked_in or (mark is not None and mark.checked_in),
            calm and (mark is None or mark.calm),
            signal.observed if mark is None else max(mark.at, signal.observed),
            signal.logged if mark is None else max(mark.logged, signal.logged),
        )
        marks = [self.days.get((p, day)) for p in self.person_ids]
        both_calm = all(m is not None and m.checked_in and m.calm for m in marks)
        evidence_id = f"calm:{day.isoformat()}"
        if not both_calm:
            # A hard moment later that day means the day was not calm after all.
            self.evidence = [e for e in self.evidence if e.experience_id != evidence_id]
            return
        if self.tier != 0 or day in self.counted_days or self.paused_by:
            return
        self.counted_days.add(day)
        happened = max(m.at for m in marks if m is not None)
        logged = max(m.logged for m in marks if m is not None)
        self.evidence.append(Evidence(evidence_id, signal.at, day, happened, logged))
        self._maybe_advance(signal.at)

    def _flood(
        self,
        key: str,
        at: datetime,
        until: datetime | None = None,
        happened: datetime | None = None,
    ) -> None:
        """Rule 3: step back once per flooding episode, break, and hold advancing.

        ``happened``: for a practice, when it happened (v2 links it to an episode).
        """
        policy = self.policy
        if key in self.stepped:
            return
        self.stepped[key] = at
        shortest = at + policy.flood_break
        if until is not None:
            end = max(shortest, until)
        else:
            end = at + timedelta(minutes=policy.flood_default_break_minutes)
        if not self.logging:
            # v1: a flood reported while a break still runs only lengthens the break.
            if self.break_until is None or at >= self.break_until:
                self.tier = max(0, self.tier - policy.flood_step_back)
                self.evidence.clear()  # what came before the flood starts over
            self.break_until = _later(self.break_until, end)
            self.hold_until = _later(self.hold_until, at + policy.flood_no_advance)
            return
        # v2: one episode, one step. A flood within the first break of an episode
        # (a second tap) lengthens the break; the talk a tap interrupted, logged
        # later, adds no break. Either way what came before starts over and the
        # hold runs from the newest flood, so no flood ever makes the pace faster.
        if happened is not None and self._in_episode(happened, at):
            pass
        elif self.episodes and at < self.episodes[-1][1]:
            self.break_until = _later(self.break_until, end)
        else:
            self.tier = max(0, self.tier - policy.flood_step_back)
            self.break_until = _later(self.break_until, end)
            self.episodes.append((at, end))
        self.evidence.clear()
        self.hold_until = _later(self.hold_until, at + policy.flood_no_advance)

    def _in_episode(self, happened: datetime, written: datetime) -> bool:
        """v2: a flooded practice that happened around an episode already stepped back
        for, and was written before that episode's hold ran out."""
        lookback = timedelta(minutes=self.policy.flood_episode_lookback_minutes)
        hold = self.policy.flood_no_advance
        return any(
            began - lookback <= happened <= first_break_end and written <= began + hold
            for began, first_break_end in self.episodes
        )

    def _experience(self, half: ExperienceSignal) -> None:
        policy = self.policy
        key = half.experience_id
        if half.flooded:
            self._flood(key, half.at, half.break_until, half.occurred_at)
        if key in self.judged:
            return  # the first rating from each partner is the one that counts
        if self.logging and key not in self.first_seen:
            happened = half.occurred_at if half.occurred_at is not None else half.at
            # Dated further back than the policy allows: kept, never evidence.
            recent = happened >= half.at - policy.backdate_max
            self.first_seen[key] = (half.at, self.pace_at(happened) if recent else -1)
        other_id = (
            self.person_ids[1] if half.person_id == self.person_ids[0] else self.person_ids[0]
        )
        self.pending[(key, half.person_id)] = half
        other = self.pending.get((key, other_id))
        if other is None:
            return
        del self.pending[(key, half.person_id)], self.pending[(key, other_id)]
        self.judged[key] = half.at
        if not (_is_safe(half, other, policy) and half.tier == other.tier == self.tier):
            return
        if not self.logging:
            # v1: an experience above the pace when it was rated is never evidence.
            if half.tier <= _pace(self, half.at, explain=False)[0]:
                self.evidence.append(Evidence(key, half.at, min(half.day, other.day)))
                self._maybe_advance(half.at)
            return
        logged, pace_then = self.first_seen.pop(key)
        if half.tier > pace_then:
            return  # ahead of the pace when it happened (or during a pause or a break)
        if policy.first_step_by_calm_days and self.tier == 0:
            return  # tier 0 is practised alone; the first step is made of calm days
        happened = half.occurred_at if half.occurred_at is not None else half.at
        day = self.lived_day(happened)
        self.evidence.append(Evidence(key, half.at, day, happened, logged))
        self._maybe_advance(half.at)

    def lived_day(self, moment: datetime) -> date:
        """The couple's lived day of ``moment``: local, starting at the policy's hour."""
        local = moment.astimezone(self.zone) - timedelta(hours=self.policy.day_starts_hour)
        return local.date()

    def separate_days(self) -> int:
        """How many separate days the evidence spreads over (docs/pacing.md)."""
        if not self.policy.min_spacing_hours:
            return len({e.day for e in self.evidence})
        spacing = self.policy.min_spacing
        counted: list[Evidence] = []
        for item in sorted(self.evidence, key=lambda e: (e.happened or e.at, e.experience_id)):
            happened, logged = item.happened or item.at, item.logged or item.at
            if all(
                item.day != other.day
                and abs(happened - (other.happened or other.at)) >= spacing
                and abs(logged - (other.logged or other.at)) >= spacing
                for other in counted
            ):
                counted.append(item)
        return len(counted)

    def _maybe_advance(self, at: datetime) -> None:
        policy = self.policy
        if self.paused_by or self.tier >= policy.top_tier:
            return
        if self.hold_until is not None and at < self.hold_until:
            return
        if (
            len(self.evidence) >= policy.advance_safe_experiences
            and self.separate_days() >= policy.advance_distinct_days
        ):
            self.tier += 1
            self.evidence.clear()

    def prune(self, at: datetime) -> None:
        """Forget what has aged out of every window at ``at`` (keeps the state small)."""
        policy = self.policy
        evidence_cutoff = at - policy.advance_window
        if self.evidence and self.evidence[0].at < evidence_cutoff:
            self.evidence = [e for e in self.evidence if e.at >= evidence_cutoff]
        pairing_cutoff = at - policy.pairing_window
        for table in (self.judged, self.stepped):
            for key in [k for k, when in table.items() if when < pairing_cutoff]:
                del table[key]
        for pair in [k for k, s in self.pending.items() if s.at < pairing_cutoff]:
            del self.pending[pair]
        if self.break_until is not None and self.break_until <= at:
            self.break_until = None
        if self.hold_until is not None and self.hold_until <= at:
            self.hold_until = None
        if not self.logging:
            return
        for key in [k for k, (when, _) in self.first_seen.items() if when < pairing_cutoff]:
            del self.first_seen[key]
        self.episodes = [(a, b) for a, b in self.episodes if b >= pairing_cutoff]
        for person in [p for p, until in self.settling.items() if until <= at]:
            del self.settling[person]
        # The log needs to reach back as far as a practice may be dated.
        log_cutoff = at - policy.backdate_max
        keep_from = max(bisect_right(self.pace_log, log_cutoff, key=lambda e: e[0]) - 1, 0)
        if keep_from:
            del self.pace_log[:keep_from]
        oldest_day = self.lived_day(at) - timedelta(days=2)
        for stale in [k for k in self.days if k[1] < oldest_day]:
            del self.days[stale]
        oldest_counted = self.lived_day(at) - policy.advance_window
        self.counted_days = {d for d in self.counted_days if d >= oldest_counted}

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
            settling=tuple(sorted(self.settling.items())),
            pace_log=tuple(self.pace_log),
            first_seen=tuple(
                sorted(
                    ((i, at, tier) for i, (at, tier) in self.first_seen.items()),
                    key=lambda entry: (entry[1], entry[0]),
                )
            ),
            days=tuple(sorted(self.days.values(), key=lambda d: (d.day, d.person_id))),
            counted_days=tuple(sorted(self.counted_days)),
            episodes=tuple(self.episodes),
        )


def _is_safe(one: ExperienceSignal, other: ExperienceSignal, policy: Policy) -> bool:
    """Rule 2's test for one shared experience, from both partners' halves."""
    if not (one.safe and other.safe) or one.flooded or other.flooded:
        return False
    if policy.activation_rise_max >= 0:
        # v2: safe for both. Neither may leave notably more activated, whoever the
        # calmer partner was; nothing one reports can make the other's worsening count.
        return one.not_worse_after and other.not_worse_after
    # v1: the more activated partner must not leave more activated than they came.
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

    # Rule 1: each partner's newest known state may cap today.
    caps = [(person, *_cap(fold, person, at)) for person in fold.person_ids]
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
        days = fold.separate_days()
        if ladder == 0 and policy.first_step_by_calm_days:
            what = "Calm days together (both of you checked in, and nothing asked for a slower day)"
        else:
            what = f"Safe shared practices at tier {ladder}"
        reasons.append(
            Reason(
                "advance",
                COUPLE,
                f"{what} in the last {policy.advance_window_days} days: "
                f"{len(fold.evidence)}, on {days} separate days. Moving up needs "
                f"{policy.advance_safe_experiences} on {policy.advance_distinct_days} separate "
                "days; one good evening is not enough.",
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
            reasons.append(urgency_reason(person, policy))
    return tier, reasons


def urgency_reason(person: str, policy: Policy) -> Reason:
    """Rule 4's word to ``person`` alone: urgency ran ahead of readiness (P1).

    Storage may keep the urgency signal out of the shared rows and add this reason
    from the person's own check-in instead; the pace is the same either way.
    """
    return Reason(
        "urgency",
        person,
        "Your pull to reconnect is strong right now, stronger than your sense "
        "of being ready. The pull is real and it matters. Urgency is not "
        "readiness, though, so it does not change the pace.",
        {"gap_at_least": policy.urgency_gap_min},
    )


def _cap(fold: _Fold, person: str, at: datetime) -> tuple[int, str]:
    """The highest tier ``person``'s newest known state allows at ``at``, and why.

    Why: "unknown" (no check-in, or none for too long), "ceiling" (a check-in),
    "after_practice" (how a practice left them), "stale" (v2: a state past its
    window still limits, at the unknown tier at most), "settling" (v2: hours after
    a stop-level state) or "none".
    """
    policy = fold.policy
    ceiling = fold.ceilings.get(person)
    if ceiling is None:
        cap, why = policy.unknown_tier, "unknown"
    elif not policy.stale_keeps_cap:
        # v1: a ceiling holds for its window, then nothing until the unknown cap.
        if at - ceiling.at > policy.unknown_after:
            cap, why = policy.unknown_tier, "unknown"
        elif at < ceiling.until:
            cap, why = ceiling.max_tier, "ceiling"
        else:
            cap, why = policy.top_tier, "none"
    elif at < ceiling.until and at - ceiling.observed <= policy.unknown_after:
        cap, why = ceiling.max_tier, "after_practice" if ceiling.from_practice else "ceiling"
    else:
        # Never forgotten into a faster pace: the unknown cap at most.
        cap, why = min(ceiling.max_tier, policy.unknown_tier), "stale"
    settle = fold.settling.get(person)
    if settle is not None and at < settle and cap > policy.slow_tier:
        cap, why = policy.slow_tier, "settling"
    return cap, why


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
    if why == "stale":
        return Reason(
            "ceiling",
            person,
            f"Your last check-in was more than {policy.ceiling_window_hours} hours ago. Until "
            f"you check in again the pace stays at tier {cap} or below; a hard day is never "
            "simply forgotten.",
            {"max_tier": cap, "hours_since_checkin": policy.ceiling_window_hours},
        )
    if why == "settling":
        return Reason(
            "settling",
            person,
            "After a hard moment, a body needs time to settle. For a few hours the pace stays "
            f"at tier {cap} or below, whatever the next check-in says.",
            {"max_tier": cap, "settle_hours": policy.settle_hours},
        )
    if why == "after_practice":
        return Reason(
            "ceiling",
            person,
            f"How you felt after your last practice asks for a gentler pace, so it stays at "
            f"tier {cap} or below for now. A check-in tells the app when that changes.",
            {"max_tier": cap},
        )
    numbers: dict[str, Number] = {"max_tier": cap}
    if policy.stop_below_safety == 0 and policy.revved_up_tier >= policy.top_tier:
        # v1: only activation (or shutting down) sets a ceiling, so its band says why.
        if cap <= policy.stop_tier:
            numbers["your_activation"] = f"{policy.stop_activation} or more, or shut down"
        else:
            numbers["your_activation"] = f"{policy.slow_activation} to {policy.stop_activation - 1}"
    return Reason(
        "ceiling",
        person,
        f"Your latest check-in asks for a gentler day, so today stays at tier {cap} or "
        "below. Going slower is how safety gets built.",
        numbers,
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
