"""The disclosure pages: each partner's private preparation, the session when the pace
allows it, and the way to each partner's private reflection afterwards."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect import localtime
from reconnect.disclosure import store as disclosure
from reconnect.errors import Problem
from reconnect.pacing import store as pace
from reconnect.web.deps import CheckedForm, Db, Now, PageSession, RowId
from reconnect.web.render import go, render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    session: PageSession,
    db: Db,
    at: datetime,
    template: str = "disclosure/disclosure.html",
    status: int = 200,
    **extra: object,
) -> Response:
    try:
        step = disclosure.step(db, session, at)
    except Problem as problem:  # not in a couple space (or its features are off)
        return render(request, template, session.person, unavailable=problem.message)
    zone = localtime.zone(session.person.time_zone)
    return render(
        request,
        template,
        session.person,
        status,
        step=step,
        held=[(h, localtime.to_local(h.at, zone)) for h in step.sessions],
        practice=pace.practice(disclosure.PRACTICE),
        account_parts=disclosure.ACCOUNT_PARTS,
        limits=disclosure.LIMITS,
        **extra,
    )


@router.get("/disclosure")
def disclosure_page(request: Request, session: PageSession, db: Db, at: Now) -> Response:
    return _page(request, session, db, at, saved=request.query_params.get("saved") == "1")


@router.post("/disclosure")
def prepare(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    part = str(form.get("part", ""))
    try:
        if part == "account":
            account = {k: str(form.get(k, "")) for k in disclosure.ACCOUNT_PARTS}
            disclosure.prepare(db, session, account=account, now=at)
        elif part == "questions":
            disclosure.prepare(
                db,
                session,
                questions=str(form.get("questions", "")),
                limits=[str(v) for v in form.getlist("limits")],
                other_limits=str(form.get("other_limits", "")),
                now=at,
            )
        else:
            raise Problem("invalid_entry", "Choose what you are preparing.", 422)
    except Problem as problem:
        if problem.status != 422:
            raise
        db.rollback()
        # What they wrote comes back as they wrote it: nothing is lost to an error.
        typed: dict[str, object] = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        typed["limits"] = [str(v) for v in form.getlist("limits")]
        return _page(request, session, db, at, status=422, error=problem.message, typed=typed)
    db.commit()
    return go(f"/disclosure?saved=1#prepare-{part}")


@router.post("/disclosure/ready")
def ready(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    disclosure.ready(db, session, at)
    db.commit()
    return go("/disclosure#session")


@router.get("/disclosure/session")
def session_page(request: Request, session: PageSession, db: Db, at: Now) -> Response:
    return _page(request, session, db, at, template="disclosure/session.html")


@router.post("/disclosure/leave-account")
def leave_account(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    disclosure.leave_account(db, session, at)
    db.commit()
    return go("/disclosure#afterwards")


@router.post("/disclosure/ask-therapist")
def ask_therapist(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    disclosure.ask_therapist(db, session, at)
    db.commit()
    return go("/disclosure#prepare-account")


@router.post("/caseload/{couple_id}/disclosure/{disclosure_id}/reading")
def give_reading(
    couple_id: RowId, disclosure_id: RowId, form: CheckedForm, session: PageSession, db: Db
) -> Response:
    disclosure.give_reading(
        db,
        session,
        couple_id=couple_id,
        disclosure_id=disclosure_id,
        text=str(form.get("text", "")),
    )
    db.commit()
    return go(f"/caseload/{couple_id}?saved=1#disclosure")
