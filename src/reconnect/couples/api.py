"""The couple space in the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Response
from pydantic import BaseModel, Field

from reconnect.couples import store as couples
from reconnect.couples.store import CoupleView
from reconnect.domain.couples import Role
from reconnect.errors import Problem
from reconnect.web.deps import ApiPerson, ApiSession, Db, LocalDateTime, Now, api_router
from reconnect.web.schemas import Strict, TimeZoneIn

router = api_router("api")


class PartnerOut(BaseModel):
    username: str
    role: Role


class CoupleOut(BaseModel):
    id: int
    my_role: Role
    paired: bool
    partner: PartnerOut | None
    time_zone: str = Field(description="The couple's shared days are counted in this zone.")


class NewCouple(Strict):
    role: Role


class InviteOut(BaseModel):
    code: str = Field(description="Give this to your partner; it works once, for 72 hours.")
    expires_at: LocalDateTime


class JoinIn(Strict):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    role: Role


def couple_out(view: CoupleView | None) -> CoupleOut | None:
    if view is None:
        return None
    partner = (
        PartnerOut(username=view.partner_username, role=Role(view.partner_role))
        if view.partner_username and view.partner_role
        else None
    )
    return CoupleOut(
        id=view.couple_id,
        my_role=Role(view.my_role),
        paired=view.paired,
        partner=partner,
        time_zone=view.time_zone,
    )


@router.post("/couples", status_code=201, response_model=CoupleOut)
def create_couple(body: NewCouple, session: ApiSession, db: Db, at: Now) -> CoupleOut | None:
    person = session.person
    couples.create_couple(
        db, person=person, data_key=session.data_key, role=body.role.value, now=at
    )
    db.commit()
    return couple_out(couples.couple_view(db, person))


@router.post("/couples/invites", status_code=201, response_model=InviteOut)
def create_invite(session: ApiSession, db: Db, at: Now) -> InviteOut:
    code, invite = couples.create_invite(
        db, person=session.person, data_key=session.data_key, now=at
    )
    db.commit()
    return InviteOut(code=code, expires_at=invite.expires_at)


@router.post("/couples/join", response_model=CoupleOut)
def join(body: JoinIn, session: ApiSession, db: Db, at: Now) -> CoupleOut | None:
    person = session.person
    couples.join_couple(
        db, person=person, data_key=session.data_key, code=body.code, role=body.role.value, now=at
    )
    db.commit()
    return couple_out(couples.couple_view(db, person))


@router.get("/couples/current", response_model=CoupleOut)
def current_couple(person: ApiPerson, db: Db) -> CoupleOut:
    out = couple_out(couples.couple_view(db, person))
    if out is None:
        raise Problem("no_couple", "You are not in a couple space yet.", 404)
    return out


@router.patch("/couples/current", response_model=CoupleOut)
def change_couple_time_zone(body: TimeZoneIn, person: ApiPerson, db: Db) -> CoupleOut | None:
    """The couple's time zone, whose calendar days count as separate days; either partner
    may change it."""
    couples.set_time_zone(db, person=person, time_zone=body.time_zone)
    db.commit()
    return couple_out(couples.couple_view(db, person))


@router.post("/couples/leave", status_code=204)
def leave_couple(person: ApiPerson, db: Db) -> Response:
    """Unlink, alone: the couple space and what it shared go; private entries stay yours."""
    couples.dissolve_couple(db, person=person)
    db.commit()
    return Response(status_code=204)
