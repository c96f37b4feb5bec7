"""Questionnaire pages: the list, one questionnaire, and its result."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect.errors import Problem
from reconnect.measures import store as measures
from reconnect.safety.store import resources_for
from reconnect.web.deps import CheckedForm, Db, Now, PagePerson, PageSession, State, whole_digits
from reconnect.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/questionnaires")
def questionnaires(request: Request, person: PagePerson, state: State) -> Response:
    found = measures.instruments(state.settings.instruments_dir)
    return render(request, "measures/questionnaires.html", person, instruments=list(found.values()))


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
    )
