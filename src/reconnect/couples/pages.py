"""The couple space's pages: creating it, inviting the partner, joining, its time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect import access, localtime
from reconnect.couples import store as couples
from reconnect.domain.couples import ROLE_CHOICES, ROLE_LABELS
from reconnect.errors import Problem
from reconnect.models import Person
from reconnect.safety import store as safety
from reconnect.web.deps import (
    CheckedForm,
    Db,
    MaybePerson,
    Now,
    PagePerson,
    PageSession,
    is_https,
)
from reconnect.web.qr import qr_svg
from reconnect.web.render import choices, data_key, go, render

router = APIRouter(include_in_schema=False)

CODE_MAX = 64


def join_cookie(request: Request) -> str:
    """Keeps the code of an invitation link opened before its person could use it
    (not signed in yet, or before the safety questions), for the couple page to
    bring back: the code is never stored on the server in readable form."""
    return "__Host-reconnect-join" if is_https(request) else "reconnect_join"


def _keep_code(request: Request, response: Response, code: str) -> Response:
    response.set_cookie(
        join_cookie(request),
        code,
        max_age=int(couples.INVITE_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    return response


def _forget_code(request: Request, response: Response) -> Response:
    if join_cookie(request) in request.cookies:
        response.delete_cookie(
            join_cookie(request), path="/", secure=is_https(request), httponly=True, samesite="lax"
        )
    return response


def _for_therapist(request: Request, person: Person, status: int = 200) -> Response:
    """A therapist's account has no couple space: say so, and where their couples are."""
    response = render(request, "couples/couple.html", person, status=status, therapist_account=True)
    return _forget_code(request, response)


def _couple_page(
    request: Request, person: Person, db: Db, status: int = 200, **context: Any
) -> Response:
    if access.is_therapist(db, person):
        return _for_therapist(request, person, 403 if status >= 400 else 200)
    if not safety.screen_answered(db, person):
        return go("/safety-screen")
    couple = couples.couple_view(db, person)
    joint = safety.joint_features_on(db, person, data_key(request))
    kept = request.cookies.get(join_cookie(request), "")[:CODE_MAX]
    if couple is None and joint and kept and not context:
        # Back from signing up or the safety questions: on to the invitation they opened.
        return go(f"/couple/join?{urlencode({'code': kept})}")
    response = render(
        request,
        "couples/couple.html",
        person,
        status=status,
        joint=joint,
        couple=couple,
        roles=choices(ROLE_LABELS),
        role_choices=choices(ROLE_CHOICES),
        zones=localtime.zone_choices(),
        **context,
    )
    # In a couple space already, a code kept from a link has nothing left to do.
    return _forget_code(request, response) if couple is not None else response


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
    if access.is_therapist(db, person):
        return _for_therapist(request, person, 403)
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


def _join_page(
    request: Request,
    person: Person,
    db: Db,
    at: datetime,
    code: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    """Joining, in two steps: the code first; then, once it is known to be a valid
    invitation, the one role that fits beside the partner's, already chosen. A code
    that does not work gets its own clear error, and tells nothing of any couple."""
    joint = safety.joint_features_on(db, person, data_key(request))
    invitation = None
    if joint and code:
        try:
            invitation = couples.invitation_for(
                db, person=person, data_key=data_key(request), code=code, now=at
            )
        except Problem as problem:
            status, extra = problem.status, {**extra, "error": problem.message}
    response = render(
        request,
        "couples/join.html",
        person,
        status=status,
        joint=joint,
        code=code,
        invitation=invitation,
        fits=invitation.role.value if invitation else None,
        fits_label=ROLE_CHOICES[invitation.role] if invitation else None,
        **extra,
    )
    return _forget_code(request, response)


@router.get("/couple/join")
def join_form(request: Request, person: MaybePerson, db: Db, at: Now) -> Response:
    # From the invitation's QR code: the code comes filled in.
    code = request.query_params.get("code", "")[:CODE_MAX].strip()
    if person is None:
        # Someone new, opening their partner's invitation: first an account, then the
        # couple page brings them back here with the code (kept in this browser).
        response = render(request, "couples/join.html", None, invited=bool(code))
        return _keep_code(request, response, code) if code else response
    if access.is_therapist(db, person):
        return _for_therapist(request, person)
    if not safety.screen_answered(db, person):
        response = go("/safety-screen")
        return _keep_code(request, response, code) if code else response
    return _join_page(request, person, db, at, code)


@router.post("/couple/join")
def join(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    person = session.person
    if access.is_therapist(db, person):
        return _for_therapist(request, person, 403)
    code, role = str(form.get("code", ""))[:CODE_MAX].strip(), str(form.get("role", ""))
    if not role:  # the first step: the code, to learn which role fits
        return _join_page(request, person, db, at, code)
    try:
        couples.join_couple(
            db, person=person, data_key=session.data_key, code=code, role=role, now=at
        )
    except Problem as problem:
        return _join_page(request, person, db, at, code, problem.status, error=problem.message)
    db.commit()
    return _forget_code(request, go("/couple"))


@router.post("/couple/time-zone")
def couple_time_zone(request: Request, form: CheckedForm, person: PagePerson, db: Db) -> Response:
    try:
        couple = couples.set_time_zone(db, person=person, time_zone=str(form.get("time_zone", "")))
    except Problem as problem:
        return _couple_page(request, person, db, status=problem.status, error=problem.message)
    db.commit()
    done = f"Your shared days now follow {couple.time_zone.replace('_', ' ')}."
    return _couple_page(request, person, db, done=done)
