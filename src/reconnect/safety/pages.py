"""The safety page, the private safety screen, and support before couple work."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect.domain.safety import QUESTIONS
from reconnect.errors import Problem
from reconnect.safety import store as safety
from reconnect.web.deps import CheckedForm, Db, MaybePerson, Now, PagePerson
from reconnect.web.render import data_key, go, render

router = APIRouter(include_in_schema=False)


@router.get("/safety")
def safety_page(request: Request, person: MaybePerson) -> Response:
    return render(request, "safety/safety.html", person, resources=safety.resources_for(person))


@router.get("/safety-screen")
def screen_form(request: Request, person: PagePerson, db: Db) -> Response:
    again = safety.screen_answered(db, person)
    return render(request, "safety/safety_screen.html", person, questions=QUESTIONS, again=again)


@router.post("/safety-screen/later")
def put_off_answering_again(
    request: Request, form: CheckedForm, person: PagePerson, db: Db, at: Now
) -> Response:
    safety.put_off(db, person=person, data_key=data_key(request), now=at)
    db.commit()
    return go("/today")


@router.post("/safety-screen")
def screen_answer(
    request: Request, form: CheckedForm, person: PagePerson, db: Db, at: Now
) -> Response:
    answers = {q.id: form.get(q.id) == "yes" for q in QUESTIONS if form.get(q.id) in {"yes", "no"}}
    try:
        support = safety.record_screen(
            db, person=person, data_key=data_key(request), answers=answers, now=at
        )
    except Problem as problem:
        return render(
            request,
            "safety/safety_screen.html",
            person,
            status=problem.status,
            questions=QUESTIONS,
            again=safety.screen_answered(db, person),
            error=problem.message,
            answers=answers,
        )
    db.commit()
    return go("/support" if support else "/couple")


@router.get("/support")
def support(request: Request, person: PagePerson, db: Db) -> Response:
    return render(
        request,
        "safety/support.html",
        person,
        resources=safety.resources_for(person),
        joint=safety.joint_features_on(db, person, data_key(request)),
    )


@router.post("/support/continue")
def continue_to_couple(
    request: Request, form: CheckedForm, person: PagePerson, db: Db, at: Now
) -> Response:
    safety.continue_to_joint_features(db, person=person, data_key=data_key(request), now=at)
    db.commit()
    return go("/couple")
