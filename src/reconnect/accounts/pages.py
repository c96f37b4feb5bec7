"""Account pages: password, recovery, sign-ins, export, leaving the couple, deletion."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from reconnect import access, localtime
from reconnect.accounts import auth
from reconnect.accounts import your_data as account
from reconnect.accounts.signed_in import SignedIn
from reconnect.couples import store as couples
from reconnect.couples.pages import join_cookie
from reconnect.errors import Problem
from reconnect.web import home_screen
from reconnect.web.deps import (
    CheckedForm,
    Db,
    MaybePerson,
    Now,
    PagePerson,
    PageSession,
    State,
    client_address,
    device_tokens,
    failures_kept,
    forget_browser,
    remember_device,
    session_cookie_name,
)
from reconnect.web.qr import qr_svg
from reconnect.web.render import go, render, sign_in

router = APIRouter(include_in_schema=False)


def _account_page(
    request: Request, session: SignedIn, db: Db, status: int = 200, **context: Any
) -> Response:
    if context.get("totp_secret"):
        uri = auth.totp_uri(session.person, context["totp_secret"])
        context["totp_qr"] = qr_svg(uri, label="QR code for your authenticator app")
    return render(
        request,
        "accounts/account.html",
        session.person,
        status=status,
        sessions=account.sessions(db, session.person),
        current=session.token_hash,
        couple=couples.couple_view(db, session.person),
        zones=localtime.zone_choices(),
        now=request.app.state.reconnect.clock(),
        **context,
    )


@router.get("/account")
def account_page(request: Request, session: PageSession, db: Db) -> Response:
    # A fresh secret is only shown; nothing is stored until a code confirms it.
    wants_totp = request.query_params.get("totp") == "new" and not session.person.totp_sealed
    return _account_page(
        request, session, db, totp_secret=auth.new_totp_secret() if wants_totp else None
    )


@router.post("/account/time-zone")
def change_time_zone(request: Request, form: CheckedForm, session: PageSession, db: Db) -> Response:
    try:
        session.person.time_zone = localtime.check_zone(str(form.get("time_zone", "")))
    except Problem as problem:
        return _account_page(request, session, db, problem.status, error=problem.message)
    db.commit()
    shown = session.person.time_zone.replace("_", " ")
    return _account_page(request, session, db, done=f"Times are now shown in {shown}.")


@router.post("/account/home-screen")
def choose_home_screen(
    request: Request, form: CheckedForm, session: PageSession, db: Db
) -> Response:
    look = home_screen.LOOKS.get(str(form.get("look", "")))
    if look is None:
        return _account_page(request, session, db, 422, error="Choose Reconnect or Notes.")
    # This very answer already links the chosen manifest and icons.
    request.state.home_screen = look
    done = f"Added to the home screen from this browser, the app shows as {look.name}."
    response = _account_page(request, session, db, done=done)
    home_screen.remember(request, response, look)
    return response


@router.post("/account/totp")
def enable_totp(request: Request, form: CheckedForm, session: PageSession, db: Db) -> Response:
    secret = str(form.get("secret", ""))
    try:
        auth.enable_totp(session.person, session.data_key, secret, str(form.get("code", "")))
    except Problem as problem:
        return _account_page(
            request, session, db, problem.status, error=problem.message, totp_secret=secret
        )
    db.commit()
    return _account_page(request, session, db, done="Two-step sign-in is on.")


@router.post("/account/totp/disable")
def disable_totp(
    request: Request, form: CheckedForm, session: PageSession, db: Db, state: State, at: Now
) -> Response:
    try:
        with failures_kept(db):
            auth.disable_totp(
                db,
                signed_in=session,
                password=str(form.get("password", "")),
                checks=state.checks,
                now=at,
            )
    except Problem as problem:
        return _account_page(request, session, db, problem.status, error=problem.message)
    db.commit()
    return _account_page(request, session, db, done="Two-step sign-in is off.")


@router.post("/account/password")
def change_password(
    request: Request, form: CheckedForm, session: PageSession, db: Db, state: State, at: Now
) -> Response:
    try:
        with failures_kept(db):
            auth.change_password(
                db,
                signed_in=session,
                current_password=str(form.get("current_password", "")),
                new_password=str(form.get("new_password", "")),
                checks=state.checks,
                now=at,
            )
    except Problem as problem:
        return _account_page(request, session, db, problem.status, error=problem.message)
    db.commit()
    return _account_page(
        request, session, db, done="Your password is changed. Other sign-ins have ended."
    )


@router.post("/account/sign-out-everywhere")
def sign_out_everywhere(
    request: Request, form: CheckedForm, person: PagePerson, db: Db
) -> Response:
    account.sign_out_everywhere(db, person)
    db.commit()
    response = go("/login")
    return forget_browser(request, response)


@router.get("/account/export.json")
def export_json(session: PageSession, db: Db, at: Now) -> Response:
    return JSONResponse(
        account.export(db, session, at),
        headers={"Content-Disposition": 'attachment; filename="reconnect-export.json"'},
    )


@router.get("/account/export.zip")
def export_zip(session: PageSession, db: Db, at: Now) -> Response:
    return Response(
        account.export_csv_zip(account.export(db, session, at)),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="reconnect-export.zip"'},
    )


@router.get("/account/export.fhir.json")
def export_fhir(session: PageSession, db: Db, at: Now) -> Response:
    return JSONResponse(
        account.export_fhir(db, session, at),
        media_type=account.FHIR_MEDIA_TYPE,
        headers=account.FHIR_DOWNLOAD,
    )


@router.post("/couple/leave")
def leave_couple(request: Request, form: CheckedForm, session: PageSession, db: Db) -> Response:
    try:
        couples.dissolve_couple(db, person=session.person)
    except Problem as problem:
        return _account_page(request, session, db, problem.status, error=problem.message)
    db.commit()
    return _account_page(
        request, session, db, done="You have left the couple space. Your own entries are kept."
    )


@router.post("/account/delete")
def delete_account(
    request: Request, form: CheckedForm, session: PageSession, db: Db, state: State, at: Now
) -> Response:
    try:
        with failures_kept(db):
            auth.confirm_password(
                db,
                signed_in=session,
                password=str(form.get("password", "")),
                checks=state.checks,
                now=at,
            )
    except Problem as problem:
        return _account_page(request, session, db, problem.status, error=problem.message)
    account.delete_account(db, session.person)
    db.commit()
    account.flush_deleted_pages(db)
    response = render(request, "accounts/deleted.html", None)
    return forget_browser(request, response)


@router.get("/recover")
def recover_form(request: Request, person: MaybePerson) -> Response:
    return render(request, "accounts/recover.html", person)


@router.post("/recover")
def recover(request: Request, form: CheckedForm, db: Db, state: State) -> Response:
    username = str(form.get("username", ""))
    try:
        auth.recover_account(
            db,
            username=username,
            recovery_key=str(form.get("recovery_key", "")),
            new_password=str(form.get("new_password", "")),
            hasher=state.hasher,
        )
    except Problem as problem:
        return render(
            request,
            "accounts/recover.html",
            None,
            problem.status,
            error=problem.message,
            username=username,
        )
    db.commit()
    return render(
        request, "accounts/login.html", None, done="Your new password is set. Please sign in."
    )


@router.get("/register")
def register_form(request: Request, person: MaybePerson) -> Response:
    return render(request, "accounts/register.html", person)


@router.post("/register")
def register(request: Request, form: CheckedForm, db: Db, state: State, at: Now) -> Response:
    username = str(form.get("username", ""))
    therapist = form.get("account") == "therapist"
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
            "accounts/register.html",
            None,
            status=problem.status,
            error=problem.message,
            username=username,
            therapist=therapist,
            zones=localtime.zone_choices() if problem.code == "invalid_time_zone" else None,
        )
    # A couples therapist says so here: their caseload from the start, and never the
    # partners' safety questions or couple space.
    account.person.is_therapist = therapist
    token = auth.start_session(
        db,
        person=account.person,
        data_key=account.data_key,
        kind="browser",
        settings=state.settings,
        now=at,
    )
    db.commit()
    # The recovery key is shown on this one response and never stored; a therapist
    # already sees their own navigation on it.
    request.state.therapist = therapist
    response = render(
        request, "accounts/recovery_key.html", account.person, recovery_key=account.recovery_key
    )
    remember_device(request, response, state.secret, account.person)
    return sign_in(request, response, token, state)


@router.get("/login")
def login_form(request: Request, person: MaybePerson) -> Response:
    return render(request, "accounts/login.html", person)


@router.post("/login")
def login(request: Request, form: CheckedForm, db: Db, state: State, at: Now) -> Response:
    username = str(form.get("username", ""))
    try:
        with failures_kept(db):
            logged_in = auth.log_in(
                db,
                username=username,
                password=str(form.get("password", "")),
                code=str(form.get("totp", "")) or None,
                address=client_address(request),
                device_tokens=device_tokens(request),
                kind="browser",
                replacing=request.cookies.get(session_cookie_name(request)),
                checks=state.checks,
                now=at,
            )
    except Problem as problem:
        return render(
            request,
            "accounts/login.html",
            None,
            status=problem.status,
            error=problem.message,
            username=username,
        )
    # A therapist starts at their caseload; a partner at the home page, or, arriving
    # by a partner's invitation link, at the couple page, which leads on to joining.
    if access.is_therapist(db, logged_in.person):
        landing = "/caseload"
    elif join_cookie(request) in request.cookies:
        landing = "/couple"
    else:
        landing = "/"
    db.commit()
    response = sign_in(request, go(landing), logged_in.token, state)
    remember_device(request, response, state.secret, logged_in.person, logged_in.device_token)
    return response


@router.post("/logout")
def logout(request: Request, form: CheckedForm, db: Db) -> Response:
    auth.end_session(db, request.cookies.get(session_cookie_name(request)))
    db.commit()
    response = go("/")
    return forget_browser(request, response, keep_device=True)
