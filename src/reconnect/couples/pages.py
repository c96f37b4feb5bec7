"""The couple space's pages: creating it, inviting the partner, joining, its time zone."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect import localtime
from reconnect.couples import store as couples
from reconnect.domain.couples import ROLE_LABELS
from reconnect.errors import Problem
from reconnect.models import Person
from reconnect.safety import store as safety
from reconnect.web.deps import CheckedForm, Db, Now, PagePerson, PageSession
from reconnect.web.qr import qr_svg
from reconnect.web.render import choices, data_key, go, render

router = APIRouter(include_in_schema=False)


def _couple_page(
    request: Request, person: Person, db: Db, status: int = 200, **context: Any
) -> Response:
    if not safety.screen_answered(db, person):
        return go("/safety-screen")
    return render(
        request,
        "couples/couple.html",
        person,
        status=status,
        joint=safety.joint_features_on(db, person, data_key(request)),
        couple=couples.couple_view(db, person),
        roles=choices(ROLE_LABELS),
        zones=localtime.zone_choices(),
        **context,
    )


@router.get("/couple")
def couple(request: Request, person: PagePerson, db: Db) -> Response:
    return _couple_page(request, person, db)


@router.post("/couple")
def create_couple(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    person, role = session.person, str(form.get("role", ""))
    try:
        couples.create_couple(db, person=person, data_key=session.data_key, role=role, now=at)
    except Problem as problem:
        return _couple_page(request, person, db, status=problem.status, error=problem.message)
    db.commit()
    return go("/couple")


@router.post("/couple/invite")
def create_invite(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    person = session.person
    try:
        code, invite = couples.create_invite(db, person=person, data_key=session.data_key, now=at)
    except Problem as problem:
        return _couple_page(request, person, db, status=problem.status, error=problem.message)
    db.commit()
    # Shown once, on this response only: the code is not stored in readable form.
    address = f"{request.base_url}couple/join?{urlencode({'code': code})}"
    return _couple_page(
        request,
        person,
        db,
        invite_code=code,
        invite_expires=invite.expires_at,
        invite_address=address,
        invite_qr=qr_svg(address, label="QR code of the invitation: the address and the code"),
    )


@router.get("/couple/join")
def join_form(request: Request, person: PagePerson, db: Db) -> Response:
    if not safety.screen_answered(db, person):
        return go("/safety-screen")
    return render(
        request,
        "couples/join.html",
        person,
        roles=choices(ROLE_LABELS),
        joint=safety.joint_features_on(db, person, data_key(request)),
        # From the invitation's QR code: the code comes filled in.
        code=request.query_params.get("code", "")[:64],
    )


@router.post("/couple/join")
def join(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    person = session.person
    code, role = str(form.get("code", "")), str(form.get("role", ""))
    try:
        couples.join_couple(
            db, person=person, data_key=session.data_key, code=code, role=role, now=at
        )
    except Problem as problem:
        return render(
            request,
            "couples/join.html",
            person,
            status=problem.status,
            error=problem.message,
            roles=choices(ROLE_LABELS),
            code=code,
            role=role,
            joint=safety.joint_features_on(db, person, data_key(request)),
        )
    db.commit()
    return go("/couple")


@router.post("/couple/time-zone")
def couple_time_zone(request: Request, form: CheckedForm, person: PagePerson, db: Db) -> Response:
    try:
        couple = couples.set_time_zone(db, person=person, time_zone=str(form.get("time_zone", "")))
    except Problem as problem:
        return _couple_page(request, person, db, status=problem.status, error=problem.message)
    db.commit()
    done = f"Your shared days now follow {couple.time_zone.replace('_', ' ')}."
    return _couple_page(request, person, db, done=done)
