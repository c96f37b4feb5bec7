"""The letters page: drafted privately with the coach, shared only by choice."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect import access
from reconnect.errors import Problem
from reconnect.letters import store as letters
from reconnect.notes import store as notes
from reconnect.web.deps import CheckedForm, Db, Now, PageSession, RowId
from reconnect.web.render import go, render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request, session: PageSession, db: Db, status: int = 200, **extra: object
) -> Response:
    try:
        membership = access.get_membership_for_person(
            db, person=session.person, data_key=session.data_key
        )
    except Problem as problem:  # not in a couple space (or its features are off)
        return render(request, "letters/letters.html", session.person, unavailable=problem.message)
    mine, theirs = letters.letters(db, session)
    return render(
        request,
        "letters/letters.html",
        session.person,
        status,
        mine={d.kind: d for d in mine},
        theirs=theirs,
        kinds=letters.kinds_for(membership.role),
        names=letters.KINDS,
        **extra,
    )


@router.get("/letters")
def letters_page(request: Request, session: PageSession, db: Db) -> Response:
    return _page(request, session, db, saved=request.query_params.get("saved") == "1")


@router.post("/letters/preview")
def preview(request: Request, form: CheckedForm, session: PageSession, db: Db) -> Response:
    text, kind = str(form.get("text", "")), str(form.get("kind", ""))
    return _page(request, session, db, text=text, kind=kind, hint=notes.preview(text))


@router.post("/letters")
def save(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    text, kind = str(form.get("text", "")), str(form.get("kind", ""))
    try:
        letters.save_draft(db, session, kind=kind, text=text, now=at)
    except Problem as problem:
        if problem.status != 422:
            raise
        return _page(request, session, db, 422, error=problem.message, text=text, kind=kind)
    db.commit()
    return go("/letters?saved=1")


@router.post("/letters/{letter_id}/share")
def share(
    letter_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    letters.share(db, session, letter_id, now=at)
    db.commit()
    return go("/letters")


@router.post("/letters/{letter_id}/reply")
def reply(
    letter_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    letters.reply(db, session, letter_id, text=str(form.get("text", "")), now=at)
    db.commit()
    return go("/letters")
