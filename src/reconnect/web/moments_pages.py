"""Page actions for the moments between check-ins; each returns to the Today page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile

from reconnect import heart, insights, moments, therapists
from reconnect.errors import Problem
from reconnect.web.deps import CheckedForm, Db, Now, PagePerson, PageSession, RowId, whole_digits
from reconnect.web.pages import go, render

router = APIRouter(include_in_schema=False)


def _number(raw: object, default: int) -> int:
    text = str(raw or "").strip()
    return int(text) if whole_digits(text) else default


@router.post("/status")
def share_status(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    moments.share_status(
        db,
        signed_in=session,
        status=str(form.get("status", "")),
        words=str(form.get("words", "")),
        now=at,
    )
    db.commit()
    return go("/today")


@router.post("/triggers")
def log_trigger(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    strength = str(form.get("strength", ""))
    if not whole_digits(strength):
        raise Problem("invalid_entry", "Choose how strong it is, from 0 to 10.", 422)
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
    return go("/today")


@router.post("/breaks")
def start_break(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    moments.start_break(db, signed_in=session, minutes=_number(form.get("minutes"), 20), now=at)
    db.commit()
    return go("/today")


@router.post("/proposals")
def propose(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    moments.propose(db, signed_in=session, practice_id=str(form.get("practice_id", "")), now=at)
    db.commit()
    return go("/today?proposed=1")


@router.post("/proposals/{proposal_id}/accept")
def accept(
    proposal_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    moments.answer_proposal(db, signed_in=session, proposal_id=proposal_id, accept=True, now=at)
    db.commit()
    return go("/today")


@router.post("/proposals/{proposal_id}/decline")
def decline(
    proposal_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    moments.answer_proposal(db, signed_in=session, proposal_id=proposal_id, accept=False, now=at)
    db.commit()
    return go("/today")


@router.get("/heart-rate")
def heart_rate_page(request: Request, person: PagePerson) -> Response:
    return render(request, "heart_rate.html", person)


@router.post("/heart-rate/import")
async def import_heart_rate(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    upload = form.get("file")
    if not isinstance(upload, StarletteUploadFile) or not upload.filename:
        return render(
            request, "heart_rate.html", session.person, 422, error="Please choose a file."
        )
    try:
        result = await run_in_threadpool(
            heart.import_file, db, signed_in=session, upload=upload.file, now=at
        )
    except Problem as problem:
        return render(
            request, "heart_rate.html", session.person, problem.status, error=problem.message
        )
    db.commit()
    return render(request, "heart_rate.html", session.person, result=result)


@router.get("/insights")
def insights_page(request: Request, session: PageSession, db: Db) -> Response:
    found = insights.visible_findings(db, signed_in=session)
    return render(
        request,
        "insights.html",
        session.person,
        mine=[f for f in found if f.audience != "couple"],
        ours=[f for f in found if f.audience == "couple"],
        therapist=therapists.status_for_partner(db, session),
        shared=request.query_params.get("shared") == "1",
    )
