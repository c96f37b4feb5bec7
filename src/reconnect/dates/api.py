"""Hard dates in the JSON API: a person's own, sealed under their key."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Response
from pydantic import BaseModel, Field

from reconnect import localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.dates import store as dates
from reconnect.web.deps import ApiSession, Db, Now, api_router
from reconnect.web.schemas import Strict

router = api_router("hard dates")
DateId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]


class HardDateIn(Strict):
    label: str = Field("", max_length=dates.LABEL_MAX, description="Your own words, or none.")
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class HardDateOut(BaseModel):
    id: str
    label: str
    month: int
    day: int
    next_on: date = Field(description="Its next day, on your own calendar (today if today).")


def date_out(marked: dates.HardDate, today: date) -> HardDateOut:
    upcoming = marked.on(today.year)
    if upcoming < today:
        upcoming = marked.on(today.year + 1)
    return HardDateOut(
        id=marked.id, label=marked.label, month=marked.month, day=marked.day, next_on=upcoming
    )


def _today(session: SignedIn, at: Now) -> date:
    return localtime.local_day(at, session.person.time_zone)


@router.get("/hard-dates", response_model=list[HardDateOut])
def list_hard_dates(session: ApiSession, db: Db, at: Now) -> list[HardDateOut]:
    """The dates you marked as hard. Only you see them; your partner reads only that
    the pace holds near one."""
    return [date_out(d, _today(session, at)) for d in dates.dates(db, session)]


@router.post("/hard-dates", status_code=201, response_model=HardDateOut)
def mark_hard_date(body: HardDateIn, session: ApiSession, db: Db, at: Now) -> HardDateOut:
    """Mark a yearly date as hard: the day of discovery, an anniversary. In the days
    before it Today prepares gently, and the pace never moves up near it (policy v4)."""
    marked = dates.add(db, session, label=body.label, month=body.month, day=body.day)
    dates.hold_near(db, session, at)
    db.commit()
    return date_out(marked, _today(session, at))


@router.delete("/hard-dates/{date_id}", status_code=204)
def remove_hard_date(date_id: DateId, session: ApiSession, db: Db) -> Response:
    dates.remove(db, session, date_id)
    db.commit()
    return Response(status_code=204)
