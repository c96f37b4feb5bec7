"""Pages for notes between partners and the message coach's preview.

A preview is a form post that renders the page again with the words kept and the
coach's reading beside them: it works without JavaScript, sends nothing to the
partner, and stores nothing. Sending never waits on the coach.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect.after_write import look_again
from reconnect.errors import Problem
from reconnect.notes import store as notes
from reconnect.ratelimit import Write, WriteLimits
from reconnect.web.deps import (
    CheckedForm,
    Db,
    Now,
    PageSession,
    State,
    quick_read,
    quick_write,
    spaced,
)
from reconnect.web.render import go, render

router = APIRouter(include_in_schema=False)

HARD_DAYS_DRAFT = (
    "The next few days are hard ones for me. I may need more quiet and more patience "
    "than usual. Thank you for going gently with me."
)

NOT_PAIRED = "Notes open once you and your partner share a couple space."


def _notes_page(
    request: Request, session: PageSession, db: Db, status: int = 200, **context: Any
) -> Response:
    try:
        listed = notes.notes(db, signed_in=session)
    except Problem as problem:
        message = NOT_PAIRED if problem.code == "not_paired" else problem.message
        return render(request, "notes/notes.html", session.person, status, unavailable=message)
    context.setdefault("text", "")
    return render(
        request,
        "notes/notes.html",
        session.person,
        status,
        notes=listed,
        own_hints=notes.own_hints(listed),
        note_max=notes.NOTE_MAX,
        **context,
    )


@router.get("/notes")
@quick_read
def notes_page(request: Request, session: PageSession, db: Db) -> Response:
    # A draft the app offers (never text from the address): near a hard date.
    text = HARD_DAYS_DRAFT if request.query_params.get("draft") == "hard-days" else ""
    sent = request.query_params.get("sent") == "1"
    return _notes_page(request, session, db, sent=sent, text=text)


@router.post("/notes/preview")
def preview_note(request: Request, form: CheckedForm, session: PageSession, db: Db) -> Response:
    text = str(form.get("text", ""))
    return _notes_page(request, session, db, text=text, hint=notes.preview(text))


@router.post("/notes", dependencies=[spaced(Write.NOTE, page=True)])
@quick_write
def send_note(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now, state: State
) -> Response:
    text = str(form.get("text", ""))
    limits = WriteLimits(db, state.settings, state.secret)
    try:
        limits.check(Write.NOTE, session.person.id, at)
        notes.send_note(db, signed_in=session, text=text, now=at)
        look_again(db, signed_in=session, now=at)
        limits.record(Write.NOTE, session.person.id, at)
    except Problem as problem:
        # The words stay in the box: nothing a person wrote is lost to a refusal.
        page = _notes_page(request, session, db, problem.status, text=text, error=problem.message)
        page.headers.update(problem.headers)  # Retry-After, when there were too many
        return page
    db.commit()
    return go("/notes?sent=1")
