"""Request-scoped helpers shared by pages and the API: database, people, CSRF."""

from __future__ import annotations

import hmac
import inspect
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial, wraps
from typing import Annotated, Any, ParamSpec, TypeVar, cast

import anyio
import anyio.lowlevel
import anyio.to_thread
from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.templating import Jinja2Templates
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    SerializerFunctionWrapHandler,
    WrapSerializer,
)
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData

from reconnect import access, localtime, ratelimit
from reconnect.accounts import auth
from reconnect.accounts.signed_in import SignedIn
from reconnect.database import (
    COMMITS,
    WriteNeedsAThread,
    is_sqlite,
    take_turn_on_the_loop,
    working_on_the_loop,
)
from reconnect.errors import Problem
from reconnect.models import Person, utcnow
from reconnect.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class AppState:
    """What every request may need; built once by ``create_app``."""

    settings: Settings
    sessions: sessionmaker[Session]
    hasher: PasswordHasher
    templates: Jinja2Templates
    secret: str
    # The current time; tests replace it to walk a couple through weeks in seconds.
    clock: Callable[[], datetime] = utcnow
    # Each person's turns for the writes that feed shared work, in this process.
    spacing: ratelimit.WriteSpacing = field(default_factory=ratelimit.WriteSpacing)

    @property
    def checks(self) -> auth.PasswordChecks:
        return auth.PasswordChecks(self.settings, self.secret, self.hasher)


# Dependencies are ``async``: FastAPI runs a plain ``def`` dependency in a worker
# thread, and each trip there and back costs more than the work itself. The sign-in,
# which asks the database, goes through ``run_read``.


async def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.reconnect
    return state


State = Annotated[AppState, Depends(app_state)]


async def get_db(state: State) -> AsyncIterator[Session]:
    """A session for this request. Handlers that write call ``db.commit()`` themselves,
    before answering, so a 2xx always means the write is on disk.

    Making a session touches no database (it connects on its first statement), so it
    is made here. Closing it ends its transaction: on PostgreSQL a trip to the server,
    made from a worker thread; on SQLite a step in a file, made here, so the request
    needs no trip for it, and a write that failed before its commit gives its turn
    back (database.WriteTurns) without waiting for a worker thread.
    """
    db = state.sessions()
    try:
        yield db
    finally:
        if state.settings.is_sqlite or not db.in_transaction():
            # Nothing to end on PostgreSQL either: the handler committed or closed
            # the session in its own worker thread (a quick read does, _signed_in_then).
            db.close()
        else:
            # Shielded: a client that goes away must not leave the connection checked out.
            # Its own threads: a request holding a connection must never wait behind
            # handlers that are waiting for one (see signed_in_at).
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(db.close, limiter=_closing_threads())


Db = Annotated[Session, Depends(get_db)]

# Closing a session is a short trip to the database, and there are never more under way
# than connections checked out.
CLOSING_THREADS = 16
_CLOSING_THREADS: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar("closing")


def _closing_threads() -> anyio.CapacityLimiter:
    """The worker threads that close sessions on PostgreSQL, apart from the handlers'."""
    try:
        return _CLOSING_THREADS.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(CLOSING_THREADS)
        _CLOSING_THREADS.set(limiter)
        return limiter


async def current_time(state: State) -> datetime:
    return state.clock()


Now = Annotated[datetime, Depends(current_time)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- cookies -----------------------------------------------------------------


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def session_cookie_name(request: Request) -> str:
    # The __Host- prefix pins the cookie to this exact origin, but browsers only
    # accept it over HTTPS; a local http://127.0.0.1 install uses a plain name.
    return "__Host-reconnect" if is_https(request) else "reconnect_session"


def csrf_cookie_name(request: Request) -> str:
    return "__Host-reconnect-csrf" if is_https(request) else "reconnect_csrf"


def device_cookie_name(request: Request) -> str:
    return "__Host-reconnect-device" if is_https(request) else "reconnect_device"


# A browser is known to an account for half a year after it last signed in to it.
DEVICE_COOKIE_DAYS = 183


def device_tokens(request: Request) -> list[str]:
    """The device tokens this browser kept from earlier sign-ins (ratelimit.py)."""
    value = request.cookies.get(device_cookie_name(request), "")
    return value.split("~")[: ratelimit.DEVICE_TOKENS_KEPT] if len(value) <= 1000 else []


def remember_device(
    request: Request, response: Response, secret: str, person: Person, token: str | None = None
) -> None:
    """Keep ``token`` (just earned by signing in as ``person``; a fresh one when not
    given) in this browser's device cookie, beside the tokens other accounts earned."""
    account = auth.device_account(person)
    token = token or ratelimit.new_device_token(secret, account)
    kept = ratelimit.keep_device_token(secret, account, token, device_tokens(request))
    response.set_cookie(
        device_cookie_name(request),
        "~".join(kept),
        max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


# --- where a request's work runs ------------------------------------------------


async def run_read(db: Session, read: Callable[[], T]) -> T:
    """Run ``read``, which asks ``db`` a few indexed questions, where it costs least.

    On SQLite that is the event loop itself. The database is a file this process reads
    in a library call, and a read here takes well under a millisecond; a trip to a
    worker thread, and handing Python's lock between the loop and that thread, cost
    more than the read (bench/load.py: the pace API answered about 1.6 times as many
    requests at 32 clients). While it runs no other request moves, so only short reads
    whose work is bounded however long the history come here; the progress page, an
    import or a report never do.

    A read that turns out to need a write (a marked date's hold, written once) is
    stopped by its first write statement, which would otherwise wait for its turn on
    the loop (``database.WriteNeedsAThread``). What it did is rolled back, and it runs
    again from its start in a worker thread; so before its first write a read may
    change nothing but the database.

    On PostgreSQL every statement is a trip over the network: always a worker thread.
    """
    if is_sqlite(db):
        return await _on_the_loop_first(db, read)
    return await anyio.to_thread.run_sync(read)


async def run_write(db: Session, write: Callable[[], T]) -> T:
    """Run ``write``, a short write (a check-in, a note), where it costs least.

    On SQLite that is the event loop too, once the file's write turn is free: it is
    waited for on the loop (``database.WriteTurns.take_on_the_loop``), so the loop
    never stops for it, and then the write runs there whole, commit included. Writes
    on the loop never overlap, so the turn is held only by a worker thread's write
    (a refresh of findings, an import), for about as long as that write takes.
    A second connection that wants to write meanwhile (a job's own session) sends the
    request, rolled back, to a worker thread, as :func:`run_read` does.

    Why not in a worker thread, as before: under load the loop runs the reads itself,
    and a request that goes to a thread waits on the loop several times (anyio's
    checkpoints, the answer), each time behind those reads. With 24 clients reading
    and 8 checking in, check-ins fell to a quarter of their rate.
    """
    if is_sqlite(db) and await take_turn_on_the_loop(db):
        return await _on_the_loop_first(db, write)
    return await anyio.to_thread.run_sync(write)


async def _on_the_loop_first(db: Session, work: Callable[[], T]) -> T:
    """``work`` on the loop; run again in a worker thread if it had to write there
    without the turn, or met another process's write, unless it had committed already
    (it would be written twice)."""
    commits = db.info.get(COMMITS, 0)
    try:
        with working_on_the_loop():
            return work()
    except WriteNeedsAThread:
        if db.info.get(COMMITS, 0) != commits:
            raise RuntimeError(
                "a second write on the event loop after this request's commit; "
                "it was not run again (it would have been written twice)"
            ) from None
        db.rollback()
    return await anyio.to_thread.run_sync(work)


def _run_by(
    runner: Callable[[Session, Callable[[], T]], Coroutine[Any, Any, T]],
    handler: Callable[P, T],
) -> Callable[P, Coroutine[Any, Any, T]]:
    if "db" not in inspect.signature(handler).parameters:
        raise TypeError(f"{handler.__qualname__} takes no db: nothing to run quickly")

    @wraps(handler)
    async def handle(*args: P.args, **kwargs: P.kwargs) -> T:
        db = cast(Session, kwargs["db"])  # FastAPI passes every parameter by name
        sign_in = db.info.pop(_SIGN_IN_WITH_HANDLER, None)
        if sign_in is not None:
            work = partial(_signed_in_then, sign_in, db, handler, args, kwargs)
            return await anyio.to_thread.run_sync(work)
        return await runner(db, partial(handler, *args, **kwargs))

    return handle


def _signed_in_then(
    sign_in: Callable[[], SignedIn],
    db: Session,
    handler: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> T:
    """A quick read on PostgreSQL, in one worker thread's turn: the sign-in its
    dependency left for it (:func:`_signs_in_with_its_handler`), the handler, and the
    end of the session's transaction. The person and their session take the places
    of the dependency's stand-ins."""
    try:
        db.info[_HANDLER_FOLLOWS] = True  # the sign-in keeps its connection (signed_in_at)
        signed_in = sign_in()
        for name, value in kwargs.items():
            if value is SIGNED_IN_LATER:
                kwargs[name] = signed_in
            elif value is PERSON_LATER:
                kwargs[name] = signed_in.person
        return handler(*args, **kwargs)
    finally:
        db.close()


# The handlers made by quick_read: see signed_in_at.
_QUICK_READS: set[Callable[..., Any]] = set()


def quick_read(handler: Callable[P, T]) -> Callable[P, Coroutine[Any, Any, T]]:
    """A route's handler that reads a bounded amount, run by :func:`run_read`: on
    SQLite on the event loop. The handler takes the request's session as ``db``."""
    handle = _run_by(run_read, handler)
    _QUICK_READS.add(handle)
    return handle


# The handlers made by quick_write: see signed_in_at.
_QUICK_WRITES: set[Callable[..., Any]] = set()


def quick_write(handler: Callable[P, T]) -> Callable[P, Coroutine[Any, Any, T]]:
    """A route's handler that writes a little and commits, run by :func:`run_write`:
    on SQLite on the event loop. The handler takes the request's session as ``db``."""
    handle = _run_by(run_write, handler)
    _QUICK_WRITES.add(handle)
    return handle


# --- who is asking -----------------------------------------------------------


class SignInRequired(Exception):
    """A page needs a signed-in person; the handler sends them to the sign-in page."""


def signed_in_at(request: Request, db: Session) -> None:
    """End the sign-in's read, giving its database connection back until the handler.

    On PostgreSQL the sign-in and the handler are two trips to worker threads, and
    between them the request waits for a thread. Holding a connection while it waits,
    it could leave every thread busy with a handler that waits for a connection (the
    pool is smaller than the requests under way), and nothing would move until the
    pool gave up.
    What the sign-in read stays in the session (it keeps its rows after a commit).

    A quick read's handler runs straight after its sign-in, with no wait between
    them, so the connection is kept for it: on SQLite both run on the loop, and on
    PostgreSQL in one worker thread's turn (:func:`_signs_in_with_its_handler`).
    Giving it back and taking it again would cost as much as one of the handler's
    statements (on PostgreSQL two trips to the server). So does a quick write's on
    SQLite, where a request may hold a connection while it waits (for the write turn,
    or a thread): each is an open file, and the pool never runs dry; the sign-in's
    reads began no transaction. Any other handler gives it back.
    """
    endpoint = request.scope.get("endpoint")
    quick = endpoint in _QUICK_READS or endpoint in _QUICK_WRITES
    if db.info.get(_HANDLER_FOLLOWS) or (quick and is_sqlite(db)):
        return
    db.commit()


# The handlers made by quick_read, on PostgreSQL: their sign-in runs in the same
# worker thread's turn as the handler (one trip to the thread pool and one connection
# taken from the pool, instead of three trips and two connections with a commit
# between). Until then the dependencies hand the handler these stand-ins, which it
# never sees.
class _Later:
    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}, signed in with the handler>"


PERSON_LATER: Any = _Later("the person")
SIGNED_IN_LATER: Any = _Later("their session")
_SIGN_IN_WITH_HANDLER = "reconnect.sign_in_with_handler"
_HANDLER_FOLLOWS = "reconnect.handler_follows"


def _signs_in_with_its_handler(request: Request, db: Session, sign_in: Callable[[], Any]) -> bool:
    """For a quick read on PostgreSQL, leave ``sign_in`` for the handler's own trip to a
    worker thread (quick reads take no body: nothing is checked before the sign-in
    that would have been checked after it). True if it was left."""
    if request.scope.get("endpoint") not in _QUICK_READS or is_sqlite(db):
        return False
    db.info[_SIGN_IN_WITH_HANDLER] = sign_in
    return True


def _page_sign_in(request: Request, db: Session, at: datetime) -> Person | None:
    signed_in = auth.session_for_token(db, request.cookies.get(session_cookie_name(request)), at)
    request.state.signed_in = signed_in
    # Pages show a therapist their own navigation (see web/render.py).
    request.state.therapist = signed_in is not None and access.is_therapist(db, signed_in.person)
    signed_in_at(request, db)
    return signed_in.person if signed_in else None


def _page_signed_in(request: Request, db: Session, at: datetime) -> SignedIn:
    if _page_sign_in(request, db, at) is None:
        raise SignInRequired
    signed_in: SignedIn = request.state.signed_in
    return signed_in


async def optional_page_person(request: Request, db: Db, at: Now) -> Person | None:
    return await run_read(db, partial(_page_sign_in, request, db, at))


async def page_person(request: Request, db: Db, at: Now) -> Person:
    if _signs_in_with_its_handler(request, db, partial(_page_signed_in, request, db, at)):
        return cast(Person, PERSON_LATER)
    person = await optional_page_person(request, db, at)
    if person is None:
        raise SignInRequired
    return person


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _api_sign_in(request: Request, db: Session, at: datetime) -> SignedIn:
    signed_in = auth.session_for_token(db, bearer_token(request), at)
    request.state.signed_in = signed_in
    signed_in_at(request, db)
    if signed_in is None:
        raise Problem(
            "not_authenticated", "Please sign in: send 'Authorization: Bearer <token>'.", 401
        )
    return signed_in


async def api_person(request: Request, db: Db, at: Now) -> Person:
    sign_in = partial(_api_sign_in, request, db, at)
    if _signs_in_with_its_handler(request, db, sign_in):
        return cast(Person, PERSON_LATER)
    signed_in = await run_read(db, sign_in)
    return signed_in.person


async def page_session(
    request: Request, person: Annotated[Person, Depends(page_person)]
) -> SignedIn:
    if person is PERSON_LATER:
        return cast(SignedIn, SIGNED_IN_LATER)
    signed_in: SignedIn = request.state.signed_in
    return signed_in


async def api_session(request: Request, person: Annotated[Person, Depends(api_person)]) -> SignedIn:
    if person is PERSON_LATER:
        return cast(SignedIn, SIGNED_IN_LATER)
    signed_in: SignedIn = request.state.signed_in
    return signed_in


MaybePerson = Annotated[Person | None, Depends(optional_page_person)]
PagePerson = Annotated[Person, Depends(page_person)]
ApiPerson = Annotated[Person, Depends(api_person)]
# The signed-in person with their unlocked data key, for handlers that read or
# write private entries.
PageSession = Annotated[SignedIn, Depends(page_session)]
ApiSession = Annotated[SignedIn, Depends(api_session)]


# --- CSRF (double-submit token, plus the browser's own Sec-Fetch-Site) -------


def csrf_token(request: Request) -> str:
    """The token this browser's forms carry; created on first use, stored in a cookie."""
    token = request.cookies.get(csrf_cookie_name(request))
    if not token or len(token) > 100:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, after refusing cross-site posts and missing or wrong tokens."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise Problem("cross_site", "This form was sent from another site and was refused.", 403)
    form = await request.form()
    sent = str(form.get("csrf_token", ""))
    expected = request.cookies.get(csrf_cookie_name(request), "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise Problem(
            "csrf_failed",
            "This form had expired. Please go back, reload the page and try again.",
            403,
        )
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def spaced(kind: ratelimit.Write, *, page: bool = False) -> Any:
    """A route's dependency (``dependencies=[spaced(...)]``) that waits for the signed-in
    person's turn for a write of ``kind`` (``ratelimit.WriteSpacing``), after the
    sign-in and before the handler. On a page the form's CSRF check comes first, as it
    does everywhere: a forged form is refused (403) before anything else, and takes no
    turn."""
    if page:

        async def spaced_page(state: State, _form: CheckedForm, session: PageSession) -> None:
            await state.spacing.take_turn(kind, session.person.id, page=True)

        return Depends(spaced_page)

    async def spaced_api(state: State, session: ApiSession) -> None:
        await state.spacing.take_turn(kind, session.person.id, page=False)

    return Depends(spaced_api)


# Row ids in paths and bodies: positive and within a database integer, so an
# absurd number is a 422, not a crash.
MAX_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _written_as_a_moment(value: Any) -> Any:
    # pydantic reads a number, or digits in a string, as seconds since 1970: a client's
    # mistake, never a moment anyone meant. (pydantic's Strict() cannot say this here:
    # FastAPI validates the parsed body as Python objects, where strict refuses strings.)
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("Write a date and time with its offset, like 2026-03-02T20:00:00+01:00")
    return value


# Every datetime the API takes: an ISO 8601 string with its offset, never a number.
ApiDateTime = Annotated[AwareDatetime, BeforeValidator(_written_as_a_moment)]


def forget_browser(request: Request, response: Response, *, keep_device: bool = False) -> Response:
    """Delete the session cookie (as browsers accept it for a __Host- name: with
    Secure) and ask the browser to clear what it kept of this site.

    With ``keep_device`` (signing out), every cookie but the device cookie goes: the
    person's own browser stays known, so guesses made elsewhere cannot lock them out
    of it (ratelimit.py). "cookies" in Clear-Site-Data would take that one too.
    """
    names = [session_cookie_name(request)]
    if keep_device:
        names.append(csrf_cookie_name(request))
    for name in names:
        response.delete_cookie(
            name, path="/", secure=is_https(request), httponly=True, samesite="lax"
        )
    forget = ['"cache"', '"storage"'] if keep_device else ['"cache"', '"cookies"', '"storage"']
    response.headers["Clear-Site-Data"] = ", ".join(forget)
    return response


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, documented in docs/api.md.")
    message: str = Field(description="A calm sentence that can be shown to the person as is.")


class ErrorOut(BaseModel):
    error: ErrorDetail


# Every refusal the API can give, documented in the OpenAPI schema with its body.
API_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "Malformed or unusable input",
        401: "Not signed in, or wrong credentials",
        403: "Not allowed for this person",
        404: "Nothing here for this person",
        409: "Conflicts with what is already stored",
        410: "Gone: used or expired",
        413: "Body too large",
        422: "Input out of range or incomplete",
        429: "Too many attempts, or too many writes in a short time",
    }.items()
}


def whole_digits(text: str) -> bool:
    """True for a plain whole number a form may send: ASCII digits only, and short.
    (``str.isdigit`` alone also accepts "²" and 5,000-digit strings.)"""
    return text.isascii() and text.isdigit() and len(text) <= 9


# --- times in the API: on the clock of the person asking ------------------------------

# The request being answered, so that a datetime in a response can be written with the
# offset of whoever signed in (known only once the handler's dependencies have run).
_answering: ContextVar[Request | None] = ContextVar("answering", default=None)


async def answer_in_local_time(request: Request) -> None:
    """Installed on the API routers. Async on purpose: it runs in the request's own
    context, which the response is serialised in (a sync dependency runs in a worker
    thread's copy, and what it sets would be lost)."""
    _answering.set(request)


def _in_asker_zone(moment: datetime, handler: SerializerFunctionWrapHandler) -> Any:
    request = _answering.get()
    signed_in = getattr(request.state, "signed_in", None) if request else None
    zone = signed_in.person.time_zone if signed_in else localtime.DEFAULT_ZONE
    return handler(localtime.to_local(moment, zone) if moment.tzinfo else moment)


# Every datetime the API returns: stored in UTC, written with the asker's offset
# ("2026-03-02T19:00:00-08:00").
LocalDateTime = Annotated[datetime, WrapSerializer(_in_asker_zone, when_used="json")]


def api_router(tag: str) -> APIRouter:
    """A router of the JSON API: under /api/v1, with its errors documented, and writing
    each datetime it answers with the offset of the person asking."""
    return APIRouter(
        prefix="/api/v1",
        tags=[tag],
        responses=API_ERRORS,
        dependencies=[Depends(answer_in_local_time)],
    )


@contextmanager
def failures_kept(db: Session) -> Iterator[None]:
    """Around a password check inside a session: a wrong password still counts toward
    the limit, so what was written before the refusal is committed, then it is raised."""
    try:
        yield
    except Problem:
        db.commit()
        raise
