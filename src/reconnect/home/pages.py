"""The front door: the home page (the dashboard once signed in), the privacy page, and
the demo couple's sign-in (only when the app was started by `reconnect demo`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from reconnect.accounts import auth
from reconnect.couples import store as couples
from reconnect.demo import HURT, INVOLVED, PASSWORD, THERAPIST
from reconnect.errors import Problem
from reconnect.models import Person
from reconnect.safety import store as safety
from reconnect.web.deps import CheckedForm, Db, MaybePerson, Now, State
from reconnect.web.render import data_key, go, render, sign_in

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, person: MaybePerson, db: Db) -> Response:
    if person is None:
        return render(request, "home.html", None)
    return render(
        request,
        "dashboard.html",
        person,
        screened=safety.screen_answered(db, person),
        joint=safety.joint_features_on(db, person, data_key(request)),
        couple=couples.couple_view(db, person),
    )


@router.get("/privacy")
def privacy(request: Request, person: MaybePerson) -> Response:
    return render(request, "privacy.html", person)


def _demo_only(state: State) -> None:
    if not state.settings.demo:
        raise Problem("not_found", "There is nothing here.", 404)


@router.get("/demo")
def demo_start(request: Request, state: State) -> Response:
    _demo_only(state)
    return render(request, "demo.html", None)


@router.post("/demo/sign-in")
def demo_sign_in(request: Request, form: CheckedForm, db: Db, state: State, at: Now) -> Response:
    _demo_only(state)
    who = str(form.get("who", ""))
    username = {"hurt": HURT, "involved": INVOLVED, "therapist": THERAPIST}.get(who)
    person = db.scalar(select(Person).where(Person.username == username)) if username else None
    if person is None:
        raise Problem("not_found", "There is no demo couple here. Run: reconnect demo", 404)
    # The demo people have a published password, so their keys can be unlocked here.
    data_key = auth.unlock_with_password(person, PASSWORD)
    token = auth.start_session(
        db, person=person, data_key=data_key, kind="browser", settings=state.settings, now=at
    )
    db.commit()
    return sign_in(request, go("/caseload" if who == "therapist" else "/today"), token, state)
