"""How signals move the ladder: the fold behind every pacing decision.

:class:`LadderFold` is the mutable working copy of a
:class:`~reconnect.domain.pacing.history.LadderState` while signals are applied, oldest
first: a check-in's ceiling, a pause or resume, a flood (stepping back once per
episode, a break, a hold on advancing), and each partner's half of a shared
experience. Safe experiences (and, from policy v2, calm days at tier 0) become
evidence; enough of it on separate days advances the ladder. It also forgets what
has aged out of every window, so the state stays small.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reconnect.domain.pacing.history import COUPLE, DayMark, Evidence, LadderState
from reconnect.domain.pacing.limits import pace
from reconnect.domain.pacing.policy import Policy
from reconnect.domain.pacing.signals import (
    CeilingSignal,
    ClosenessSignal,
    ExperienceSignal,
    FloodSignal,
    HoldSignal,
    LapseSignal,
    PauseSignal,
    ResumeSignal,
    Signal,
    UrgencyGapSignal,
)

__all__ = ["LadderFold"]


class LadderFold:
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
        self.floods = list(state.floods)
        self.chain_floor = state.chain_floor
        self.lapse = state.lapse
        self.quiet = state.quiet
        if policy.flood_longest_chain and self.episodes and not self.floods:
            # Moved from v2: its episodes never overlap, so they form one chain.
            self.floods = [(a, b, n) for n, (a, b) in enumerate(self.episodes, start=1)]
            self.episodes = []

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
        elif isinstance(signal, LapseSignal):
            self._lapse(signal)
        elif isinstance(signal, HoldSignal):
            # v4: near a date a partner marked as hard, no new step opens.
            if self.policy.hard_date_days_before:
                self.hold_until = _later(self.hold_until, signal.until)
                if self.quiet is None or signal.until >= self.quiet[1]:
                    self.quiet = (person, signal.until)
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
        tier = pace(self, at, explain=False)[0]
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

    def _lapse(self, signal: LapseSignal) -> None:
        """v4: a lapse or a new disclosure steps the ladder back and holds advancing;
        what was earned before it starts over. Before v4 it changes nothing."""
        policy = self.policy
        if not policy.lapse_step_back:
            return
        self.tier = max(0, self.tier - policy.lapse_step_back)
        self.evidence.clear()
        until = signal.at + policy.lapse_no_advance
        self.hold_until = _later(self.hold_until, until)
        who = COUPLE if signal.together else signal.person_id
        if self.lapse is None or until >= self.lapse[1]:
            self.lapse = (who, until)

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
        if policy.flood_longest_chain:
            self._chain(at, until, happened)
        elif happened is not None and self._in_episode(happened, at):
            pass
        elif self.episodes and at < self.episodes[-1][1]:
            self.break_until = _later(self.break_until, end)
        else:
            self.tier = max(0, self.tier - policy.flood_step_back)
            self.break_until = _later(self.break_until, end)
            self.episodes.append((at, end))
        self.evidence.clear()
        self.hold_until = _later(self.hold_until, at + policy.flood_no_advance)

    def _chain(self, at: datetime, until: datetime | None, happened: datetime | None) -> None:
        """v3: the ladder steps back as often as the longest chain of floods in which
        each began once the one before it had ended; a flood steps back when it makes
        that chain longer.

        Each flood is a span of time fixed by itself alone: a tap's from the tap to
        the end of its break; a practice's from when it happened to the end of its
        break plus the lookback, so the tap that interrupted a talk and the talk,
        logged later, overlap and count once. Its break, too, runs from when it
        happened. Nothing about one flood depends on another, so one more flood can
        only keep the longest chain or lengthen it: it never leaves the ladder higher
        and never shortens a break (v2's first-come episodes could do both).
        """
        policy = self.policy
        began = at if happened is None else max(happened, at - policy.backdate_max)
        shortest = began + policy.flood_break
        if until is not None:
            end = max(shortest, until)
        else:
            end = began + timedelta(minutes=policy.flood_default_break_minutes)
        if end > at:
            self.break_until = _later(self.break_until, end)
        if happened is not None:
            end += timedelta(minutes=policy.flood_episode_lookback_minutes)
        longest = max([self.chain_floor, *(n for _, _, n in self.floods)])
        floods = sorted([*self.floods, (began, end, 0)])
        # Only this flood and those beginning after it ended can chain differently.
        # Floods forgotten ended long before anything written now began (the
        # policy keeps them for longer than a practice may be dated back).
        for index, (start, stop, count) in enumerate(floods):
            if (start, stop, count) == (began, end, 0) or start >= end:
                reach = [n for _, ended, n in floods[:index] if ended <= start]
                floods[index] = (start, stop, 1 + max([self.chain_floor, *reach]))
        self.floods = floods
        if max(n for _, _, n in floods) > longest:
            self.tier = max(0, self.tier - policy.flood_step_back)

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
            if half.tier <= pace(self, half.at, explain=False)[0]:
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
        if self.lapse is not None and self.lapse[1] <= at:
            self.lapse = None
        if self.quiet is not None and self.quiet[1] <= at:
            self.quiet = None
        if not self.logging:
            return
        for key in [k for k, (when, _) in self.first_seen.items() if when < pairing_cutoff]:
            del self.first_seen[key]
        self.episodes = [(a, b) for a, b in self.episodes if b >= pairing_cutoff]
        gone = [n for _, ended, n in self.floods if ended < pairing_cutoff]
        if gone:
            # Every flood still to come begins after these ended: their longest chain
            # is all that is needed of them.
            self.chain_floor = max(self.chain_floor, *gone)
            self.floods = [f for f in self.floods if f[1] >= pairing_cutoff]
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
            floods=tuple(self.floods),
            chain_floor=self.chain_floor,
            lapse=self.lapse,
            quiet=self.quiet,
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


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current
