"""How a couple's pace changed over time, for the progress pages and the therapist.

Only the first decision and every change are read, never every decision: one follows
each check-in, so their times would tell whoever sees them when the other checked in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from reconnect import localtime
from reconnect.database import plain_rows
from reconnect.domain.progress.points import TierPoint, tier_changes
from reconnect.models import PaceDecision

_ORDER = (PaceDecision.decided_at, PaceDecision.id)
_BOTH_STEPS = (
    select(
        PaceDecision.decided_at.label("at"),
        PaceDecision.id.label("id"),
        PaceDecision.permitted_tier.label("fits"),
        PaceDecision.ladder_tier.label("reached"),
        func.lag(PaceDecision.permitted_tier).over(order_by=_ORDER).label("fits_before"),
        func.lag(PaceDecision.ladder_tier).over(order_by=_ORDER).label("reached_before"),
    )
    .where(PaceDecision.couple_id == bindparam("couple_id"))
    .subquery()
)
# A couple has a decision for every check-in; only the rows where either step differs
# from the decision before come back, a few rather than years of them. Built once:
# building it cost more than running it.
_STEP_CHANGES = (
    select(_BOTH_STEPS.c.at, _BOTH_STEPS.c.fits, _BOTH_STEPS.c.reached)
    .where(
        or_(
            _BOTH_STEPS.c.fits_before.is_(None),
            _BOTH_STEPS.c.fits_before != _BOTH_STEPS.c.fits,
            _BOTH_STEPS.c.reached_before != _BOTH_STEPS.c.reached,
        )
    )
    .order_by(_BOTH_STEPS.c.at, _BOTH_STEPS.c.id)
)


@dataclass(frozen=True)
class PaceChanges:
    """When the pace changed, on one clock: the first decision and every change only,
    as the time of every decision would show when the other checked in."""

    fits: list[TierPoint]  # what fitted each day
    reached: list[TierPoint]  # where the couple had reached together


def pace_changes(db: Session, couple_id: int, zone: localtime.Zone) -> PaceChanges:
    """Both of the couple's pace steps as they changed over time, on the clock of
    ``zone``, read in one statement."""
    rows = plain_rows(db, _STEP_CHANGES, {"couple_id": couple_id})
    # A row came back when either step changed: each list keeps its own changes.
    points = [(localtime.to_local(at, zone), fits, reached) for at, fits, reached in rows]
    return PaceChanges(
        fits=list(tier_changes(TierPoint(at, fits) for at, fits, _ in points)),
        reached=list(tier_changes(TierPoint(at, reached) for at, _, reached in points)),
    )
