"""Questionnaire pages: the list, one questionnaire, and its result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect.accounts.signed_in import SignedIn
from reconnect.errors import Problem
from reconnect.measures import plans
from reconnect.measures import store as measures
from reconnect.safety.store import resources_for
from reconnect.web.deps import (
    CheckedForm,
    Db,
    Now,
    PageSession,
    RowId,
    State,
    whole_digits,
)
from reconnect.web.render import go, render

router = APIRouter(include_in_schema=False)


@router.get("/questionnaires")
def questionnaires(
    request: Request, session: PageSession, db: Db, state: State, at: Now
) -> Response:
    return _questionnaires(request, session, db, state, at)


def _questionnaires(
    request: Request,
    session: SignedIn,
    db: Db,
    state: State,
    at: datetime,
    status: int = 200,
    **extra: Any,
) -> Response:
    found = measures.instruments(state.settings.instruments_dir)
    both = plans.for_person(db, session)
    due = [d for d in both.due(at) if d.instrument_id in found]
    return render(
        request,
        "measures/questionnaires.html",
        session.person,
        status,
        instruments=list(found.values()),
        own_repeats=both.own.repeat,
        therapist_asks=both.couple.repeat,
        every=plans.EVERY,
        due=due,
        titles={i: found[i].title for i in found},
        saved=request.query_params.get("saved") == "1",
        **extra,
    )


@router.post("/questionnaire-plan")
def repeat_questionnaire(
    request: Request, form: CheckedForm, session: PageSession, db: Db, state: State, at: Now
) -> Response:
    instrument_id = str(form.get("instrument_id", ""))
    every = str(form.get("every_days", ""))
    try:
        measures.get_instrument(instrument_id, state.settings.instruments_dir)
        own = plans.own(db, session)
        own.set(instrument_id, every, at)
        plans.save_own(db, session, own)
    except Problem as problem:
        return _questionnaires(
            request, session, db, state, at, problem.status, error=problem.message
        )
    db.commit()
    return go("/questionnaires?saved=1")


@router.get("/questionnaires/{instrument_id}")
def questionnaire(
    request: Request, instrument_id: str, session: PageSession, db: Db, state: State
) -> Response:
    instrument = measures.get_instrument(instrument_id, state.settings.instruments_dir)
    return render(
        request,
        "measures/questionnaire.html",
        session.person,
        instrument=instrument,
        answers={},
        history=measures.history(db, signed_in=session, instrument=instrument),
    )


@router.post("/questionnaires/{instrument_id}")
def answer(
    request: Request,
    instrument_id: str,
    form: CheckedForm,
    session: PageSession,
    db: Db,
    state: State,
    at: Now,
) -> Response:
    instrument = measures.get_instrument(instrument_id, state.settings.instruments_dir)
    answers = {
        item.id: int(str(form.get(item.id)))
        for item in instrument.items
        if whole_digits(str(form.get(item.id, "")).removeprefix("-"))
    }
    try:
        taken = measures.take(db, signed_in=session, instrument=instrument, answers=answers, now=at)
    except Problem as problem:
        return render(
            request,
            "measures/questionnaire.html",
            session.person,
            problem.status,
            instrument=instrument,
            answers=answers,
            error=problem.message,
            history=measures.history(db, signed_in=session, instrument=instrument),
        )
    db.commit()
    return render(
        request,
        "measures/questionnaire_result.html",
        session.person,
        instrument=instrument,
        taken=taken,
        resources=resources_for(session.person) if taken.score.crisis else (),
        can_tell=measures.can_tell_therapist(db, signed_in=session, taken=taken),
    )


# --- after a crisis answer: telling the therapist, and the check a day later ---------


@router.post("/questionnaires/results/{result_id}/tell-therapist")
def tell_therapist(
    request: Request, result_id: RowId, form: CheckedForm, session: PageSession, db: Db
) -> Response:
    try:
        measures.tell_therapist(db, signed_in=session, result_id=result_id)
    except Problem as problem:
        return _after_crisis(
            request, session, problem.status, "Nothing was sent", error=problem.message
        )
    db.commit()
    return _after_crisis(
        request,
        session,
        200,
        "Your therapist will know",
        "They will see that one of your answers opened crisis contacts, and when. "
        "They will not see your answers, and your partner is told nothing.",
        "You might bring it up at your next session, or get in touch with them sooner.",
    )


@router.post("/questionnaires/results/{result_id}/follow-up")
def follow_up(
    request: Request, result_id: RowId, form: CheckedForm, session: PageSession, db: Db
) -> Response:
    how = str(form.get("how", ""))
    try:
        measures.answer_follow_up(db, signed_in=session, result_id=result_id, how=how)
    except Problem as problem:
        return _after_crisis(
            request, session, problem.status, "How are you today?", error=problem.message
        )
    db.commit()
    if how != "worse":
        return go("/today")
    return _after_crisis(
        request,
        session,
        200,
        "Thank you for telling us",
        "It took something to say that. You do not have to carry it alone: the people "
        "below are there to talk, day and night, and it is fine to call just to talk.",
    )


def _after_crisis(
    request: Request, session: SignedIn, status: int, title: str, *lines: str, error: str = ""
) -> Response:
    return render(
        request,
        "measures/after_crisis.html",
        session.person,
        status,
        title=title,
        lines=lines,
        error=error,
        resources=resources_for(session.person),
    )
