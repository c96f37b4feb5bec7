"""Server-rendered pages. They work without JavaScript and on a phone."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from reconnect import auth, couples, localtime
from reconnect.domain.safety import QUESTIONS, crisis_resources
from reconnect.errors import Problem
from reconnect.models import Person
from reconnect.web.deps import (
    CheckedForm,
    Db,
    MaybePerson,
    Now,
    PagePerson,
    PageSession,
    State,
    client_address,
    csrf_token,
    device_tokens,
    forget_browser,
    remember_device,
    session_cookie_name,
)

router = APIRouter(include_in_schema=False)


def render(
    request: Request,
    template: str,
    person: Person | None,
    status: int = 200,
    **context: Any,
) -> Response:
    state = request.app.state.reconnect
    return state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        template,
        {
            "person": person,
            "csrf_token": csrf_token(request),
            "quick_exit_url": state.settings.quick_exit_url,
            # Every time on a page is shown in the zone of the person reading it.
            "local": localtime.Local.of(person.time_zone if person else None),
            **context,
        },
        status_code=status,
    )


def go(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def sign_in(request: Request, response: Response, token: str, state: State) -> Response:
    response.set_cookie(
        session_cookie_name(request),
        token,
        max_age=state.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


# --- public pages ------------------------------------------------------------


def _data_key(request: Request) -> bytes:
    """The signed-in person's data key, kept on the request by the sign-in dependency."""
    signed_in: auth.SignedIn = request.state.signed_in
    return signed_in.data_key


def _joint_features_on(request: Request, db: Db, person: Person) -> bool:
    return couples.joint_features_on(db, person, _data_key(request))


@router.get("/")
def home(request: Request, person: MaybePerson, db: Db) -> Response:
    if person is None:
        return render(request, "home.html", None)
    return render(
        request,
        "dashboard.html",
        person,
        screened=couples.screen_answered(db, person),
        joint=_joint_features_on(request, db, person),
        couple=couples.couple_view(db, person),
    )


@router.get("/safety")
def safety(request: Request, person: MaybePerson) -> Response:
    return render(request, "safety.html", person, resources=crisis_resources())


@router.get("/privacy")
def privacy(request: Request, person: MaybePerson) -> Response:
    return render(request, "privacy.html", person)


# --- accounts ----------------------------------------------------------------


@router.get("/register")
def register_form(request: Request, person: MaybePerson) -> Response:
    return render(request, "register.html", person)


@router.post("/register")
def register(request: Request, form: CheckedForm, db: Db, state: State, at: Now) -> Response:
    username = str(form.get("username", ""))
    try:
        account = auth.register(
            db,
            username=username,
            password=str(form.get("password", "")),
            hasher=state.hasher,
            kdf=auth.kdf_params(state.settings),
            # Filled in by the browser (app.js); without JavaScript, UTC until changed.
            time_zone=str(form.get("time_zone", "")) or localtime.DEFAULT_ZONE,
        )
    except Problem as problem:
        return render(
            request,
            "register.html",
            None,
            status=problem.status,
            error=problem.message,
            username=username,
            zones=localtime.zone_choices() if problem.code == "invalid_time_zone" else None,
        )
    token = auth.start_session(
        db,
        person=account.person,
        data_key=account.data_key,
        kind="browser",
        settings=state.settings,
        now=at,
    )
    db.commit()
    # The recovery key is shown on this one response and never stored.
    response = render(
        request, "recovery_key.html", account.person, recovery_key=account.recovery_key
    )
    remember_device(request, response, state.secret, account.person)
    return sign_in(request, response, token, state)


@router.get("/login")
def login_form(request: Request, person: MaybePerson) -> Response:
    return render(request, "login.html", person)


@router.post("/login")
def login(request: Request, form: CheckedForm, db: Db, state: State, at: Now) -> Response:
    username = str(form.get("username", ""))
    try:
        signed = auth.sign_in(
            db,
            username=username,
            password=str(form.get("password", "")),
            code=str(form.get("totp", "")) or None,
            address=client_address(request),
            device_tokens=device_tokens(request),
            settings=state.settings,
            secret=state.secret,
            hasher=state.hasher,
            now=at,
        )
    except Problem as problem:
        db.commit()  # a failure counts toward the rate limit
        return render(
            request,
            "login.html",
            None,
            status=problem.status,
            error=problem.message,
            username=username,
        )
    # A new token on every sign-in: a cookie planted before sign-in is never promoted.
    auth.end_session(db, request.cookies.get(session_cookie_name(request)))
    token = auth.start_session(
        db,
        person=signed.person,
        data_key=signed.data_key,
        kind="browser",
        settings=state.settings,
        now=at,
    )
    db.commit()
    response = sign_in(request, go("/"), token, state)
    remember_device(request, response, state.secret, signed.person, signed.device_token)
    return response


@router.post("/logout")
def logout(request: Request, form: CheckedForm, db: Db) -> Response:
    auth.end_session(db, request.cookies.get(session_cookie_name(request)))
    db.commit()
    response = go("/")
    return forget_browser(request, response, keep_device=True)


# --- the private safety screen -----------------------------------------------


@router.get("/safety-screen")
def screen_form(request: Request, person: PagePerson) -> Response:
    return render(request, "safety_screen.html", person, questions=QUESTIONS)


@router.post("/safety-screen")
def screen_answer(
    request: Request, form: CheckedForm, person: PagePerson, db: Db, at: Now
) -> Response:
    answers = {q.id: form.get(q.id) == "yes" for q in QUESTIONS if form.get(q.id) in {"yes", "no"}}
    try:
        support = couples.record_screen(
            db, person=person, data_key=_data_key(request), answers=answers, now=at
        )
    except Problem as problem:
        return render(
            request,
            "safety_screen.html",
            person,
            status=problem.status,
            questions=QUESTIONS,
            error=problem.message,
            answers=answers,
        )
    db.commit()
    return go("/support" if support else "/couple")


@router.get("/support")
def support(request: Request, person: PagePerson, db: Db) -> Response:
    return render(
        request,
        "support.html",
        person,
        resources=crisis_resources(),
        joint=_joint_features_on(request, db, person),
    )


@router.post("/support/continue")
def continue_to_couple(
    request: Request, form: CheckedForm, person: PagePerson, db: Db, at: Now
) -> Response:
    couples.continue_to_joint_features(db, person=person, data_key=_data_key(request), now=at)
    db.commit()
    return go("/couple")


# --- the demo couple (only when the app was started by `reconnect demo`) ------


def _demo_only(state: State) -> None:
    if not state.settings.demo:
        raise Problem("not_found", "There is nothing here.", 404)


@router.get("/demo")
def demo_start(request: Request, state: State) -> Response:
    _demo_only(state)
    return render(request, "demo.html", None)


@router.post("/demo/sign-in")
def demo_sign_in(request: Request, form: CheckedForm, db: Db, state: State, at: Now) -> Response:
    from reconnect.demo import HURT, INVOLVED, PASSWORD, THERAPIST

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


# --- the couple space --------------------------------------------------------


def _couple_page(
    request: Request, person: Person, db: Db, status: int = 200, **context: Any
) -> Response:
    if not couples.screen_answered(db, person):
        return go("/safety-screen")
    return render(
        request,
        "couple.html",
        person,
        status=status,
        joint=_joint_features_on(request, db, person),
        couple=couples.couple_view(db, person),
        roles=couples.ROLES,
        zones=localtime.zone_choices(),
        **context,
    )


@router.get("/couple")
def couple(request: Request, person: PagePerson, db: Db) -> Response:
    return _couple_page(request, person, db)


@router.post("/couple")
def create_couple(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    person, role = session.person, str(form.get("role", ""))
    try:
        couples.create_couple(db, person=person, data_key=session.data_key, role=role, now=at)
    except Problem as problem:
        return _couple_page(request, person, db, status=problem.status, error=problem.message)
    db.commit()
    return go("/couple")


@router.post("/couple/invite")
def create_invite(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    person = session.person
    try:
        code, invite = couples.create_invite(db, person=person, data_key=session.data_key, now=at)
    except Problem as problem:
        return _couple_page(request, person, db, status=problem.status, error=problem.message)
    db.commit()
    # Shown once, on this response only: the code is not stored in readable form.
    return _couple_page(request, person, db, invite_code=code, invite_expires=invite.expires_at)


@router.get("/couple/join")
def join_form(request: Request, person: PagePerson, db: Db) -> Response:
    if not couples.screen_answered(db, person):
        return go("/safety-screen")
    return render(
        request,
        "join.html",
        person,
        roles=couples.ROLES,
        joint=_joint_features_on(request, db, person),
    )


@router.post("/couple/join")
def join(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    person = session.person
    code, role = str(form.get("code", "")), str(form.get("role", ""))
    try:
        couples.join_couple(
            db, person=person, data_key=session.data_key, code=code, role=role, now=at
        )
    except Problem as problem:
        return render(
            request,
            "join.html",
            person,
            status=problem.status,
            error=problem.message,
            roles=couples.ROLES,
            code=code,
            role=role,
            joint=_joint_features_on(request, db, person),
        )
    db.commit()
    return go("/couple")


@router.post("/couple/time-zone")
def couple_time_zone(request: Request, form: CheckedForm, person: PagePerson, db: Db) -> Response:
    try:
        couple = couples.set_time_zone(db, person=person, time_zone=str(form.get("time_zone", "")))
    except Problem as problem:
        return _couple_page(request, person, db, status=problem.status, error=problem.message)
    db.commit()
    done = f"Your shared days now follow {couple.time_zone.replace('_', ' ')}."
    return _couple_page(request, person, db, done=done)
