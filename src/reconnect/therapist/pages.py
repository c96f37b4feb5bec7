"""Therapist pages: a partner's therapist settings, and the therapist's caseload."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect import localtime
from reconnect.disclosure.store import ACCOUNT_PARTS
from reconnect.domain.pacing.catalogue import load_catalogue
from reconnect.errors import Problem
from reconnect.measures import plans
from reconnect.measures.store import get_instrument, instruments
from reconnect.therapist import store as therapists
from reconnect.therapist.report import therapist_report
from reconnect.web.deps import CheckedForm, Db, Now, PageSession, RowId, State
from reconnect.web.render import go, render

router = APIRouter(include_in_schema=False)


def _therapist_page(
    request: Request, session: PageSession, db: Db, status: int = 200, **extra: object
) -> Response:
    return render(
        request,
        "therapist/therapist.html",
        session.person,
        status,
        therapist=therapists.status_for_partner(db, session),
        **extra,
    )


@router.get("/therapist")
def therapist_page(request: Request, session: PageSession, db: Db) -> Response:
    return _therapist_page(request, session, db)


@router.post("/therapist/invite")
def invite(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    try:
        code, _ = therapists.invite(db, signed_in=session, now=at)
    except Problem as problem:
        return _therapist_page(request, session, db, problem.status, error=problem.message)
    db.commit()
    return _therapist_page(request, session, db, invite_code=code)


@router.post("/therapist/consent")
def consent(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    therapists.consent(db, signed_in=session, now=at)
    db.commit()
    return go("/therapist")


@router.post("/therapist/revoke")
def revoke(request: Request, form: CheckedForm, session: PageSession, db: Db) -> Response:
    therapists.revoke(db, signed_in=session)
    db.commit()
    return go("/therapist")


@router.post("/therapist/join")
def join(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    try:
        therapists.join(db, signed_in=session, code=str(form.get("code", "")), now=at)
    except Problem as problem:
        return render(
            request,
            "therapist/caseload.html",
            session.person,
            problem.status,
            error=problem.message,
            cases=therapists.caseload(db, session.person.id, session.data_key),
            step=load_catalogue().tier,
        )
    db.commit()
    return go("/caseload")


@router.get("/caseload")
def caseload(request: Request, session: PageSession, db: Db) -> Response:
    return render(
        request,
        "therapist/caseload.html",
        session.person,
        cases=therapists.caseload(db, session.person.id, session.data_key),
        step=load_catalogue().tier,
    )


@router.get("/caseload/{couple_id}")
def couple(
    request: Request, couple_id: RowId, session: PageSession, db: Db, at: Now, state: State
) -> Response:
    view = therapists.couple_view(db, signed_in=session, couple_id=couple_id, now=at)
    steps = load_catalogue()
    return render(
        request,
        "therapist/caseload_couple.html",
        session.person,
        view=view,
        charts=therapists.charts(view, localtime.local_day(at, session.person.time_zone)),
        turns=view.turns(at),
        step=steps.tier,
        instruments=list(instruments(state.settings.instruments_dir).values()),
        every=plans.EVERY,
        account_parts=ACCOUNT_PARTS,
        saved=request.query_params.get("saved") == "1",
    )


@router.post("/caseload/{couple_id}/questionnaire-plan")
def ask_for_questionnaire(
    couple_id: RowId,
    request: Request,
    form: CheckedForm,
    session: PageSession,
    db: Db,
    at: Now,
    state: State,
) -> Response:
    instrument_id, every = str(form.get("instrument_id", "")), str(form.get("every_days", ""))
    get_instrument(instrument_id, state.settings.instruments_dir)
    therapists.ask_for_questionnaire(
        db,
        signed_in=session,
        couple_id=couple_id,
        instrument_id=instrument_id,
        every=every,
        now=at,
    )
    db.commit()
    return go(f"/caseload/{couple_id}?saved=1#questionnaire-plan")


@router.get("/caseload/{couple_id}/charts/{key}.svg")
def chart_image(couple_id: RowId, key: str, session: PageSession, db: Db, at: Now) -> Response:
    view = therapists.couple_view(db, signed_in=session, couple_id=couple_id)
    today = localtime.local_day(at, session.person.time_zone)
    chart = next((c for c in therapists.charts(view, today) if c.key == key), None)
    if chart is None or chart.svg is None:
        raise Problem("not_found", "There is nothing here.", 404)
    return Response(chart.svg, media_type="image/svg+xml")


@router.get("/caseload/{couple_id}/report.pdf")
def report(couple_id: RowId, session: PageSession, db: Db, at: Now) -> Response:
    view = therapists.couple_view(db, signed_in=session, couple_id=couple_id)
    end = localtime.local_day(at, session.person.time_zone)
    return Response(
        therapist_report(view, end - timedelta(days=28), end),
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="reconnect-report.pdf"'},
    )


@router.post("/caseload/{couple_id}/reviewed")
def reviewed(
    couple_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    therapists.mark_reviewed(db, signed_in=session, couple_id=couple_id, now=at)
    db.commit()
    return go("/caseload")


@router.post("/therapist/share-findings")
def share_findings(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    therapists.share_findings(db, signed_in=session, now=at)
    db.commit()
    return go("/insights?shared=1")
