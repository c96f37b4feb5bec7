"""The moments between check-ins: the actions (each returns to the Today page), and
their history, where everything the partner did for you stays to be found."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from reconnect import access
from reconnect.accounts.signed_in import SignedIn
from reconnect.after_write import look_again
from reconnect.domain.couples import Role
from reconnect.domain.moments import (
    STATUS_LABELS,
    TRIGGER_RESPONSE_WORDS,
    TRIGGER_ROLES,
    WORDS_MAX,
)
from reconnect.domain.pacing.policy import BREAK_MINUTES_MIN
from reconnect.domain.validation import SCALE_MAX
from reconnect.errors import Problem
from reconnect.moments import store as moments
from reconnect.notes import store as notes
from reconnect.pacing import store as pace
from reconnect.ratelimit import Write, WriteLimits
from reconnect.web.deps import CheckedForm, Db, Now, PageSession, RowId, State, spaced, whole_digits
from reconnect.web.render import choices, go, render

router = APIRouter(include_in_schema=False)


@router.get("/moments")
def history(request: Request, session: PageSession, db: Db) -> Response:
    """What each of you reached out with, and what the other answered, newest first."""
    try:  # two partners, and joint work open to this person
        mine = access.get_membership_for_person(
            db, person=session.person, data_key=session.data_key
        )
    except Problem:
        mine = None
    # Triggers are logged by a hurt partner: each side shows for whoever can log them.
    own = moments.own_triggers(db, signed_in=session)
    membership = access.membership_of(db, session.person)
    can_log = membership is not None and Role(membership.role) in TRIGGER_ROLES
    partner_can_log = mine is not None and any(
        m.person_id != session.person.id and Role(m.role) in TRIGGER_ROLES
        for m in mine.couple.members
    )
    paired = mine is not None
    return render(
        request,
        "moments/history.html",
        session.person,
        own=own,
        show_own=can_log or bool(own),
        show_told=partner_can_log,
        told_to_me=moments.told_by_partner(db, signed_in=session) if paired else [],
        proposals=moments.proposals(db, signed_in=session) if paired else [],
        paired=paired,
        responses=choices(TRIGGER_RESPONSE_WORDS),
        catalogue=pace.catalogue(),
        scale_max=SCALE_MAX,
    )


def _number(raw: object, default: int) -> int:
    text = str(raw or "").strip()
    return int(text) if whole_digits(text) else default


@router.post("/status", dependencies=[spaced(Write.STATUS, page=True)])
def share_status(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now, state: State
) -> Response:
    limits = WriteLimits(db, state.settings, state.secret)
    try:
        limits.check(Write.STATUS, session.person.id, at)
    except Problem as problem:
        # The status and its words wait in the form, ready to share once there is room.
        page = _status_form(request, session, form, problem.message, problem.status)
        page.headers.update(problem.headers)  # Retry-After, when there were too many
        return page
    moments.share_status(
        db,
        signed_in=session,
        status=str(form.get("status", "")),
        words=str(form.get("words", "")),
        now=at,
    )
    look_again(db, signed_in=session, now=at)
    limits.record(Write.STATUS, session.person.id, at)
    db.commit()
    return go("/today")


@router.post("/triggers")
def log_trigger(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    strength = str(form.get("strength", ""))
    if not whole_digits(strength):
        raise Problem("invalid_entry", f"Choose how strong it is, from 0 to {SCALE_MAX}.", 422)
    moments.log_trigger(
        db,
        signed_in=session,
        what=str(form.get("what", "")),
        strength=int(strength),
        tell_partner=form.get("tell_partner") == "yes",
        now=at,
    )
    db.commit()
    return go("/today?trigger=1")


@router.post("/triggers/{trigger_id}/respond")
def respond_to_trigger(
    trigger_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    moments.respond_to_trigger(
        db, signed_in=session, trigger_id=trigger_id, kind=str(form.get("kind", "")), now=at
    )
    db.commit()
    return go("/today?sent=response")


@router.post("/breaks")
def start_break(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    moments.start_break(
        db, signed_in=session, minutes=_number(form.get("minutes"), BREAK_MINUTES_MIN), now=at
    )
    db.commit()
    return go("/today")


@router.post("/proposals")
def propose(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    moments.propose(db, signed_in=session, practice_id=str(form.get("practice_id", "")), now=at)
    look_again(db, signed_in=session, now=at)
    db.commit()
    return go("/today?proposed=1")


@router.post("/proposals/{proposal_id}/accept")
def accept(
    proposal_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    moments.answer_proposal(db, signed_in=session, proposal_id=proposal_id, accept=True, now=at)
    look_again(db, signed_in=session, now=at)
    db.commit()
    return go("/today?sent=answer")


@router.post("/proposals/{proposal_id}/decline")
def decline(
    proposal_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    moments.answer_proposal(db, signed_in=session, proposal_id=proposal_id, accept=False, now=at)
    look_again(db, signed_in=session, now=at)
    db.commit()
    return go("/today?sent=answer")


@router.post("/status/preview")
def preview_status(request: Request, form: CheckedForm, session: PageSession) -> Response:
    """The coach's reading of the words of a shared status, before it is shared."""
    return _status_form(request, session, form)


def _status_form(
    request: Request,
    session: SignedIn,
    form: FormData,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The status form with what the person chose and wrote, the coach's reading of
    the words beside it, and ``error`` above it when the status could not be shared."""
    words = str(form.get("words", ""))[:WORDS_MAX]
    chosen = str(form.get("status", ""))
    names = choices(STATUS_LABELS)
    return render(
        request,
        "moments/status_preview.html",
        session.person,
        status,
        hint=notes.preview(words),
        words=words,
        chosen=chosen if chosen in names else "",
        status_names=names,
        words_max=WORDS_MAX,
        error=error,
    )
