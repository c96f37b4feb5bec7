"""Rituals of connection in the JSON API: both partners read and mark them."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from reconnect.rituals import store as rituals
from reconnect.web.deps import ApiSession, Db, Now, RowId, api_router
from reconnect.web.schemas import Strict

router = api_router("rituals")


class RitualIn(Strict):
    practice_id: str = Field(max_length=64, description="A shared practice the pace allows today.")
    rhythm: rituals.Rhythm = "daily"


class DoneIn(Strict):
    day: date = Field(description="A day of yours, today or up to 7 days back.")


class WeekOut(BaseModel):
    week_of: date
    done: int


class RitualOut(BaseModel):
    id: int
    practice_id: str
    rhythm: str
    chosen_at: str
    ended_at: str | None
    resting: bool = Field(description="The pace is below this ritual's step now: it rests.")
    days: list[date]
    weeks: list[WeekOut]


def ritual_out(chosen: rituals.Chosen) -> RitualOut:
    return RitualOut(
        id=chosen.id,
        practice_id=chosen.practice_id,
        rhythm=chosen.rhythm,
        chosen_at=chosen.chosen_at,
        ended_at=chosen.ended_at,
        resting=chosen.resting,
        days=[date.fromisoformat(d) for d in chosen.days],
        weeks=[WeekOut(week_of=w, done=n) for w, n in chosen.weeks()],
    )


@router.get("/rituals", response_model=list[RitualOut])
def list_rituals(session: ApiSession, db: Db, at: Now) -> list[RitualOut]:
    """The couple's rituals, oldest first."""
    return [ritual_out(c) for c in rituals.rituals(db, session, at)]


@router.post("/rituals", status_code=201, response_model=RitualOut)
def choose_ritual(body: RitualIn, session: ApiSession, db: Db, at: Now) -> RitualOut:
    """Choose a shared practice the pace allows today as a ritual, daily or weekly."""
    chosen = rituals.choose(db, session, practice_id=body.practice_id, rhythm=body.rhythm, now=at)
    db.commit()
    return ritual_out(chosen)


@router.post("/rituals/{ritual_id}/done", response_model=RitualOut)
def ritual_done(ritual_id: RowId, body: DoneIn, session: ApiSession, db: Db, at: Now) -> RitualOut:
    """Either partner: you did it on this day."""
    chosen = rituals.done(db, session, ritual_id, day=body.day, now=at)
    db.commit()
    return ritual_out(chosen)


@router.post("/rituals/{ritual_id}/end", response_model=RitualOut)
def end_ritual(ritual_id: RowId, session: ApiSession, db: Db, at: Now) -> RitualOut:
    """End a ritual; its days stay."""
    chosen = rituals.end(db, session, ritual_id, now=at)
    db.commit()
    return ritual_out(chosen)
