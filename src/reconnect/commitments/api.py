"""Commitments kept over time in the JSON API: both partners read them."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, StrictBool

from reconnect.accounts.signed_in import SignedIn
from reconnect.commitments import store as commitments
from reconnect.web.deps import ApiSession, Db, Now, RowId, api_router
from reconnect.web.schemas import Strict

router = api_router("commitments")


class CommitmentIn(Strict):
    what: str = Field(max_length=commitments.WHAT_MAX, description="In your own words.")
    looks_like: str = Field(
        "", max_length=commitments.LOOKS_LIKE_MAX, description="What keeping it looks like."
    )


class DayIn(Strict):
    day: date = Field(description="A day of yours, today or up to 7 days back.")
    kept: StrictBool


class NoticedIn(Strict):
    day: date


class WeekOut(BaseModel):
    week_of: date
    kept: int = Field(description="Days recorded as kept.")
    not_kept: int = Field(description="Days recorded as not kept.")
    noticed: int = Field(description="Kept days the other partner said they noticed.")


class CommitmentOut(BaseModel):
    id: int
    mine: bool = Field(description="Whether you offered it (and so record its days).")
    what: str
    looks_like: str
    offered_at: str
    ended_at: str | None
    days: dict[str, dict[str, bool]] = Field(
        description='Each recorded day (ISO): {"kept": ..., "noticed": ...}.'
    )
    weeks: list[WeekOut] = Field(description="Week by week: a record, never a score.")


def commitment_out(kept: commitments.Kept, session: SignedIn) -> CommitmentOut:
    return CommitmentOut(
        id=kept.id,
        mine=kept.offered_by == session.person.id,
        what=kept.what,
        looks_like=kept.looks_like,
        offered_at=kept.offered_at,
        ended_at=kept.ended_at,
        days=kept.days,
        weeks=[WeekOut(week_of=w, kept=k, not_kept=n, noticed=s) for w, k, n, s in kept.weeks()],
    )


@router.get("/commitments", response_model=list[CommitmentOut])
def list_commitments(session: ApiSession, db: Db) -> list[CommitmentOut]:
    """The couple's commitments, oldest first; both partners read them."""
    return [commitment_out(c, session) for c in commitments.commitments(db, session)]


@router.post("/commitments", status_code=201, response_model=CommitmentOut)
def offer_commitment(body: CommitmentIn, session: ApiSession, db: Db, at: Now) -> CommitmentOut:
    """Offer a commitment (the involved partner; either, when both were hurt)."""
    kept = commitments.offer(db, session, what=body.what, looks_like=body.looks_like, now=at)
    db.commit()
    return commitment_out(kept, session)


@router.post("/commitments/{commitment_id}/days", response_model=CommitmentOut)
def record_day(
    commitment_id: RowId, body: DayIn, session: ApiSession, db: Db, at: Now
) -> CommitmentOut:
    """Record a day as kept or not (the one who offered it; again to correct it)."""
    kept = commitments.record(db, session, commitment_id, day=body.day, kept=body.kept, now=at)
    db.commit()
    return commitment_out(kept, session)


@router.post("/commitments/{commitment_id}/noticed", response_model=CommitmentOut)
def noticed(
    commitment_id: RowId, body: NoticedIn, session: ApiSession, db: Db, at: Now
) -> CommitmentOut:
    """The other partner: "I noticed" on a day recorded as kept."""
    kept = commitments.notice(db, session, commitment_id, day=body.day, now=at)
    db.commit()
    return commitment_out(kept, session)


@router.post("/commitments/{commitment_id}/end", response_model=CommitmentOut)
def end_commitment(commitment_id: RowId, session: ApiSession, db: Db, at: Now) -> CommitmentOut:
    """End a commitment you offered; its days stay."""
    kept = commitments.end(db, session, commitment_id, now=at)
    db.commit()
    return commitment_out(kept, session)
