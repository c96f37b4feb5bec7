"""The pacing engine: today's permitted tier, from coarse signals only.

``decide(history, policy, now)`` folds the couple's signals, oldest first, into a
small :class:`~reconnect.domain.pacing.history.LadderState` (the earned tier, the
evidence towards the next step, pauses, breaks and each partner's latest check-in
signals), then reads today's pace off that state at ``now``.

Because the fold is event-based, a stored :class:`Decision` is a checkpoint: its
state summarises every signal up to ``decided_at``. Handing ``decide`` that
checkpoint plus the signals written after it gives exactly the decision a replay
from the very first signal would give, at a cost that does not grow with the
length of the history. The rules and their policy keys are in docs/pacing.md.

The types it reads and returns are in :mod:`reconnect.domain.pacing.history`, the
fold that moves the ladder in :mod:`reconnect.domain.pacing.ladder` and what limits
the pace (with its reasons) in :mod:`reconnect.domain.pacing.limits`.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from zoneinfo import ZoneInfo

from reconnect.domain.pacing.catalogue import Catalogue, load_catalogue
from reconnect.domain.pacing.history import COUPLE, Decision, History, Reason
from reconnect.domain.pacing.ladder import LadderFold
from reconnect.domain.pacing.limits import pace
from reconnect.domain.pacing.policy import Policy
from reconnect.domain.pacing.signals import Signal

__all__ = ["can_resume", "decide", "is_ahead_of_pace", "reasons_for"]


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
        fold = LadderFold(history.person_ids, policy, checkpoint.state, zone)
    else:
        start = 0
        fold = LadderFold(history.person_ids, policy, None, zone)
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
    permitted, reasons = pace(fold, now, explain=True)
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


def _at(signal: Signal) -> datetime:
    return signal.at
