"""Accounts in the JSON API: registering, signing in and out, the person's own settings,
password, recovery, sign-ins, two-step sign-in, export and deletion.

Errors are ``{"error": {"code": ..., "message": ...}}`` with a 4xx status; the codes
are stable and listed in docs/api.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from reconnect import localtime
from reconnect.accounts import auth
from reconnect.accounts import your_data as account
from reconnect.couples import store as couples
from reconnect.couples.api import CoupleOut, couple_out
from reconnect.models import Person
from reconnect.safety import store as safety
from reconnect.web.deps import (
    ApiPerson,
    ApiSession,
    Db,
    LocalDateTime,
    Now,
    State,
    api_router,
    bearer_token,
    client_address,
    failures_kept,
)
from reconnect.web.schemas import Strict, TimeZone, TimeZoneIn

router = api_router("api")


Username = Annotated[str, Field(min_length=1, max_length=254, examples=["sam@example.org"])]


Password = Annotated[str, Field(min_length=1, max_length=1024)]


class Credentials(Strict):
    username: Username
    password: Password


DeviceToken = Annotated[str, Field(max_length=100)]


class LoginIn(Credentials):
    totp: Annotated[str, Field(max_length=12)] | None = Field(
        default=None, description="The code from an authenticator app, if two-step sign-in is on."
    )
    device_token: DeviceToken | None = Field(
        default=None,
        description="The device_token from this client's last sign-in to this account, if it "
        "kept one: failed attempts from elsewhere then do not hold this client back.",
    )


class RegisterIn(Credentials):
    time_zone: TimeZone | None = Field(
        default=None, description="Where days and times are lived; UTC when not given."
    )


class TokenOut(BaseModel):
    token: str
    device_token: str = Field(
        description="Keep it for this account and send it with the next sign-in from this "
        'client (docs/api.md, "Known devices"). It names no one and unlocks nothing.'
    )


class MeOut(BaseModel):
    id: int
    username: str
    time_zone: str = Field(description="Days and times are shown, and returned, in this zone.")
    safety_screen_answered: bool
    joint_features: bool
    couple: CoupleOut | None


class RegisteredOut(MeOut):
    recovery_key: str = Field(
        description="Shown once, never stored: the only way back into private entries "
        "if the password is forgotten. Ask the person to print or write it down."
    )


def me_out(db: Db, person: Person, data_key: bytes) -> MeOut:
    return MeOut(
        id=person.id,
        username=person.username,
        time_zone=person.time_zone,
        safety_screen_answered=safety.screen_answered(db, person),
        joint_features=safety.joint_features_on(db, person, data_key),
        couple=couple_out(couples.couple_view(db, person)),
    )


@router.post("/auth/register", status_code=201, response_model=RegisteredOut)
def register(body: RegisterIn, db: Db, state: State) -> RegisteredOut:
    account = auth.register(
        db,
        username=body.username,
        password=body.password,
        hasher=state.hasher,
        kdf=auth.kdf_params(state.settings),
        time_zone=body.time_zone or localtime.DEFAULT_ZONE,
    )
    db.commit()
    me = me_out(db, account.person, account.data_key)
    return RegisteredOut(**me.model_dump(), recovery_key=account.recovery_key)


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn, request: Request, db: Db, state: State, at: Now) -> TokenOut:
    with failures_kept(db):
        logged_in = auth.log_in(
            db,
            username=body.username,
            password=body.password,
            code=body.totp,
            address=client_address(request),
            device_tokens=[body.device_token] if body.device_token else [],
            kind="api",
            replacing=None,
            checks=state.checks,
            now=at,
        )
    db.commit()
    return TokenOut(token=logged_in.token, device_token=logged_in.device_token)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, person: ApiPerson, db: Db) -> Response:
    auth.end_session(db, bearer_token(request))
    db.commit()
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
def me(session: ApiSession, db: Db) -> MeOut:
    return me_out(db, session.person, session.data_key)


@router.patch("/me", response_model=MeOut)
def change_my_time_zone(body: TimeZoneIn, session: ApiSession, db: Db) -> MeOut:
    """Your own time zone: your days, weeks and every time the API returns follow it."""
    session.person.time_zone = localtime.check_zone(body.time_zone)
    db.commit()
    return me_out(db, session.person, session.data_key)


class PasswordChange(Strict):
    current_password: Password
    new_password: Password


class Recovery(Strict):
    username: Username
    recovery_key: Annotated[str, Field(min_length=1, max_length=100)]
    new_password: Password


class PasswordConfirm(Strict):
    password: Password


class SessionOut(BaseModel):
    kind: str
    created_at: LocalDateTime
    expires_at: LocalDateTime
    current: bool


@router.post("/auth/password", status_code=204)
def change_password(
    body: PasswordChange, session: ApiSession, db: Db, state: State, at: Now
) -> Response:
    """New password. Entries are not re-encrypted; other sign-ins end."""
    with failures_kept(db):
        auth.change_password(
            db,
            signed_in=session,
            current_password=body.current_password,
            new_password=body.new_password,
            checks=state.checks,
            now=at,
        )
    db.commit()
    return Response(status_code=204)


@router.post("/auth/recover", status_code=204)
def recover(body: Recovery, db: Db, state: State) -> Response:
    """Forgotten password: set a new one with the recovery key; nothing is lost."""
    auth.recover_account(
        db,
        username=body.username,
        recovery_key=body.recovery_key,
        new_password=body.new_password,
        hasher=state.hasher,
    )
    db.commit()
    return Response(status_code=204)


@router.get("/sessions", response_model=list[SessionOut])
def list_sessions(session: ApiSession, db: Db) -> list[SessionOut]:
    """Your own sign-ins (no places, no devices: just when and what kind)."""
    return [
        SessionOut(
            kind=row.kind,
            created_at=row.created_at,
            expires_at=row.expires_at,
            current=row.token_hash == session.token_hash,
        )
        for row in account.sessions(db, session.person)
    ]


@router.post("/sessions/sign-out-everywhere", status_code=204)
def sign_out_everywhere(person: ApiPerson, db: Db) -> Response:
    account.sign_out_everywhere(db, person)
    db.commit()
    return Response(status_code=204)


@router.get(
    "/export",
    responses={
        200: {
            "content": {
                "application/json": {},
                "application/zip": {},
                account.FHIR_MEDIA_TYPE: {},
            },
        }
    },
)
def export(
    session: ApiSession, db: Db, at: Now, format: Literal["json", "csv", "fhir"] = "json"
) -> Response:
    """Everything you own, opened with your key: JSON, or CSV files in a zip; or your
    questionnaire results as a FHIR R4 Bundle (docs/export.md)."""
    if format == "fhir":
        return JSONResponse(
            account.export_fhir(db, session, at),
            media_type=account.FHIR_MEDIA_TYPE,
            headers=account.FHIR_DOWNLOAD,
        )
    document = account.export(db, session, at)
    if format == "csv":
        return Response(
            account.export_csv_zip(document),
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="reconnect-export.zip"'},
        )
    return JSONResponse(
        document, headers={"Content-Disposition": 'attachment; filename="reconnect-export.json"'}
    )


@router.post("/account/delete", status_code=204)
def delete_account(
    body: PasswordConfirm, session: ApiSession, db: Db, state: State, at: Now
) -> Response:
    """Delete your account and everything that is yours. It cannot be undone."""
    with failures_kept(db):
        auth.confirm_password(
            db,
            signed_in=session,
            password=body.password,
            checks=state.checks,
            now=at,
        )
    account.delete_account(db, session.person)
    db.commit()
    account.flush_deleted_pages(db)
    return Response(status_code=204)


class TotpSecret(BaseModel):
    secret: str = Field(description="A fresh secret; nothing is stored until it is confirmed.")
    uri: str = Field(description="otpauth:// address for an authenticator app.")


class TotpConfirm(Strict):
    secret: Annotated[str, Field(min_length=32, max_length=32, pattern="^[A-Z2-7]{32}$")]
    code: Annotated[str, Field(min_length=6, max_length=12)]


@router.get("/auth/totp/new", response_model=TotpSecret)
def new_totp(person: ApiPerson) -> TotpSecret:
    """A fresh secret for two-step sign-in, to put in an authenticator app."""
    secret = auth.new_totp_secret()
    return TotpSecret(secret=secret, uri=auth.totp_uri(person, secret))


@router.post("/auth/totp", status_code=204)
def enable_totp(body: TotpConfirm, session: ApiSession, db: Db) -> Response:
    """Turn on two-step sign-in by showing a current code for the secret."""
    auth.enable_totp(session.person, session.data_key, body.secret, body.code)
    db.commit()
    return Response(status_code=204)


@router.post("/auth/totp/disable", status_code=204)
def disable_totp(
    body: PasswordConfirm, session: ApiSession, db: Db, state: State, at: Now
) -> Response:
    with failures_kept(db):
        auth.disable_totp(
            db,
            signed_in=session,
            password=body.password,
            checks=state.checks,
            now=at,
        )
    db.commit()
    return Response(status_code=204)
