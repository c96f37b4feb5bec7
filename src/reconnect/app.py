"""The application factory: ``create_app(settings)`` builds a complete app.

Tests build a fresh app on a temporary database with it; ``reconnect serve``
builds one from the environment and flags.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconnect import __version__, coach
from reconnect.accounts import api as accounts_api
from reconnect.accounts import pages as accounts_pages
from reconnect.accounts.auth import make_hasher
from reconnect.coach import api as coach_api
from reconnect.commitments import api as commitments_api
from reconnect.commitments import pages as commitments_pages
from reconnect.couples import api as couples_api
from reconnect.couples import pages as couples_pages
from reconnect.database import make_engine, session_factory, upgrade
from reconnect.dates import api as dates_api
from reconnect.dates import pages as dates_pages
from reconnect.disclosure import api as disclosure_api
from reconnect.disclosure import pages as disclosure_pages
from reconnect.errors import Problem
from reconnect.heart import api as heart_api
from reconnect.heart import pages as heart_pages
from reconnect.home import pages as home_pages
from reconnect.insights import api as insights_api
from reconnect.insights import pages as insights_pages
from reconnect.jobs import Jobs, make_queue, with_job_key
from reconnect.keys import SealBroken
from reconnect.letters import api as letters_api
from reconnect.letters import pages as letters_pages
from reconnect.measures import api as measures_api
from reconnect.measures import pages as measures_pages
from reconnect.measures import store as measures
from reconnect.moments import api as moments_api
from reconnect.moments import pages as moments_pages
from reconnect.notes import api as notes_api
from reconnect.notes import pages as notes_pages
from reconnect.pacing import api as pacing_api
from reconnect.pacing import pages as pacing_pages
from reconnect.progress import pages as progress_pages
from reconnect.rituals import api as rituals_api
from reconnect.rituals import pages as rituals_pages
from reconnect.safety import api as safety_api
from reconnect.safety import pages as safety_pages
from reconnect.settings import Settings, load_settings
from reconnect.therapist import api as therapist_api
from reconnect.therapist import pages as therapist_pages
from reconnect.web import home_screen
from reconnect.web.deps import (
    AppState,
    SignInRequired,
    csrf_cookie_name,
    is_https,
)

log = logging.getLogger("reconnect")

# Routes that take a wearable's export file.
UPLOAD_PATHS = frozenset({"/api/v1/heart-rate/import", "/heart-rate/import"})
# A request body must keep arriving: no wait between its parts longer than the first,
# and all of it within the second (an export file within the third). Without these a
# client that sends headers and then nothing holds a connection for ever.
BODY_IDLE_SECONDS = 30.0
BODY_TOTAL_SECONDS = 120.0
UPLOAD_TOTAL_SECONDS = 3600.0

# Every router the app serves; the access-control matrix test walks these.
# Each feature's JSON API and pages, feature by feature; the order is the API's order
# in /openapi.json.
ROUTERS = (
    accounts_api.router,
    couples_api.router,
    safety_api.router,
    pacing_api.router,
    moments_api.router,
    heart_api.router,
    insights_api.router,
    coach_api.router,
    notes_api.router,
    dates_api.router,
    commitments_api.router,
    rituals_api.router,
    letters_api.router,
    disclosure_api.router,
    measures_api.router,
    therapist_api.router,
    home_pages.router,
    accounts_pages.router,
    couples_pages.router,
    safety_pages.router,
    pacing_pages.router,
    moments_pages.router,
    heart_pages.router,
    insights_pages.router,
    notes_pages.router,
    dates_pages.router,
    commitments_pages.router,
    rituals_pages.router,
    letters_pages.router,
    disclosure_pages.router,
    measures_pages.router,
    progress_pages.router,
    therapist_pages.router,
)

# The pages every visit opens, and what a phone asks the API for most. A request is
# matched against the routes one by one: the Today page came after some 130 others, and
# a note sent through the API after 54 (about 50 µs of matching here); these are tried
# first, the pages before the API. /openapi.json keeps the order ROUTERS give
# (api_schema).
HOT_PAGES = ("/today", "/checkin", "/notes", "/progress")
HOT_API = ("/api/v1/pace", "/api/v1/checkins", "/api/v1/notes", "/api/v1/status")


def tried_first(routes: list[BaseRoute], paths: tuple[str, ...]) -> list[BaseRoute]:
    """``routes`` with those for ``paths`` (fixed paths, every method) moved to the
    front, keeping their order. Each request still reaches the route it reached before:
    a route moves only if none before it answers the same path and method, which is
    checked here (at start-up, once per app)."""
    first = [r for r in routes if isinstance(r, Route) and r.path in paths]
    for route in first:
        for method in sorted(route.methods or ()):
            asked = {"type": "http", "path": route.path, "method": method, "root_path": ""}
            before = next(r for r in routes if r.matches(asked)[0] is Match.FULL)
            if before is not route:
                raise RuntimeError(f"{method} {route.path} is answered by an earlier route")
    return first + [r for r in routes if r not in first]


def api_schema(app: FastAPI, routes: list[BaseRoute]) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` with the operations in the order of ``routes`` (as ROUTERS give
    them), not the order requests are matched in: FastAPI's documented way to shape the
    schema, with the app's own title, version and summary."""

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=routes
            )
        return app.openapi_schema

    return schema


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def protect(response: Response, path: str) -> Response:
    """The headers every answer carries, including 413s and 500s that are made
    outside the normal middleware path."""
    protect_headers(response.headers, path)
    return response


def protect_headers(headers: MutableHeaders, path: str) -> None:
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if not path.startswith("/static/"):
        # Nothing a person wrote may linger in a shared computer's browser cache.
        headers["Cache-Control"] = "no-store"


def _csrf_cookie(request: Request, token: str) -> str:
    """The Set-Cookie value that gives this browser its forms' token."""
    response = Response()
    response.set_cookie(
        csrf_cookie_name(request),
        token,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    return response.headers["set-cookie"]


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # FastAPI runs each plain ``def`` handler and dependency in anyio's worker
        # threads, 40 by default. Python runs one of them at a time, and 40 taking
        # turns cost more CPU per request than a few working through a queue.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        yield

    return lifespan


def freeze_start_up_memory() -> None:
    """Leave what exists now out of the garbage collector's full passes from here on.

    A served process holds about 300,000 objects once it has started (modules, the
    models, the coach's word pieces, templates), and every few seconds of requests the
    collector's full pass walked them all: about 150 ms in which no request moved, the
    slowest answers of a busy server. Frozen, they are skipped; they stay as long as
    the process anyway. Reference counting still frees what is dropped.
    """
    gc.collect()
    gc.freeze()


def settle_memory() -> None:
    """For a process about to serve: freeze start-up's memory once the coach's model
    has loaded (create_app starts that loading; this waits for it, off the requests'
    way). Not in create_app itself: tests make hundreds of apps in one process."""

    def settle() -> None:
        try:
            coach.model_name()
        finally:  # a model that failed to load is said by its own thread; freeze anyway
            freeze_start_up_memory()

    threading.Thread(target=settle, name="settle-memory", daemon=True).start()


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or load_settings()
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
    )
    if migrate:
        upgrade(engine)

    # Operator questionnaire definitions load now, so a bad file is reported (file and
    # field, in the log) when the app starts; the app runs on without it.
    measures.instruments(settings.instruments_dir)

    package = resources.files("reconnect")
    templates = Jinja2Templates(directory=str(package / "templates"))
    # The templates ship with the package and never change while it runs: no need to
    # look at each file's modification time on every page.
    templates.env.auto_reload = False
    templates.env.globals["version"] = __version__
    # Which manifest and icons the page links: Reconnect's, or the plain "Notes" ones.
    templates.env.globals["home_screen"] = home_screen.chosen

    app = FastAPI(
        title="Reconnect",
        version=__version__,
        summary="Rebuild connection after a betrayal, at the pace of the more activated partner.",
        # The interactive docs pages load scripts from a CDN; the schema is enough.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_lifespan(settings),
    )
    sessions = session_factory(engine)
    secret = settings.ensure_secret_key()
    app.state.reconnect = AppState(
        settings=settings,
        sessions=sessions,
        hasher=make_hasher(settings),
        templates=templates,
        secret=secret,
    )
    app.state.engine = engine
    # The detectors' refreshes, queued after each write (reconnect.jobs); who works
    # them is ``serve``'s business (cli.py), or ``reconnect worker``'s. Without a
    # configured job key, this process makes its own, kept in memory only.
    app.state.jobs = Jobs(make_queue(settings), sessions, with_job_key(settings).job_key)
    # The message coach's model takes seconds to load: start now, off the request path,
    # so the first preview or note does not wait for it (a request that comes sooner
    # waits for the same loading, never a second one).
    threading.Thread(target=coach.model_name, name="coach-load", daemon=True).start()
    app.mount("/static", StaticFiles(directory=str(package / "static")), name="static")
    # The routers' routes themselves, made once per process when their modules load.
    # include_router() would wrap each in a copy that FastAPI analyses again for every
    # app, on that app's first requests, and would match a request router by router.
    routes = [route for router in ROUTERS for route in router.routes]
    app.router.routes.extend(tried_first(tried_first(routes, HOT_API), HOT_PAGES))
    app.openapi = api_schema(app, [*app.router.routes[: -len(routes)], *routes])  # type: ignore[method-assign]
    _install_error_handlers(app, templates)

    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        upload_paths=UPLOAD_PATHS,
        max_upload_bytes=settings.max_upload_bytes,
        idle_seconds=BODY_IDLE_SECONDS,
        total_seconds=BODY_TOTAL_SECONDS,
        upload_total_seconds=UPLOAD_TOTAL_SECONDS,
    )
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def error_json(
    code: str, message: str, status: int, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    def error_page(
        request: Request, message: str, status: int, headers: dict[str, str] | None = None
    ) -> Response:
        context = {"message": message, "person": None}
        return templates.TemplateResponse(
            request, "error.html", context, status_code=status, headers=headers
        )

    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> Response:
        if problem.status in {401, 403}:
            log.info("refused %s %s: %s", request.method, request.url.path, problem.code)
        if _wants_json(request):
            return error_json(problem.code, problem.message, problem.status, problem.headers)
        return error_page(request, problem.message, problem.status, problem.headers)

    @app.exception_handler(SealBroken)
    async def on_seal_broken(request: Request, _: SealBroken) -> Response:
        # A sealed entry that does not open was altered or moved outside the app.
        log.warning("a sealed entry failed to open on %s", request.url.path)
        problem = Problem(
            "entry_unreadable",
            "One of your entries could not be opened: it was changed outside the app.",
            409,
        )
        return await on_problem(request, problem)

    @app.exception_handler(SignInRequired)
    async def on_sign_in_required(request: Request, _: SignInRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> Response:
        problems = error.errors()
        if any(item.get("type") == "json_invalid" for item in problems):
            return error_json("malformed_json", "The request body is not valid JSON.", 400)
        fields = [
            {
                "field": ".".join(str(part) for part in item["loc"] if part != "body"),
                "message": item["msg"],
            }
            for item in problems
        ]
        summary = "; ".join(f"{f['field'] or 'body'}: {f['message']}" for f in fields)
        if _wants_json(request):
            return error_json("invalid_input", summary, 422, fields=fields)
        return error_page(request, "Some of what was sent could not be used: " + summary, 422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> Response:
        messages = {
            404: ("not_found", "There is nothing here."),
            405: ("method_not_allowed", "That action is not possible here."),
            413: ("body_too_large", "What was sent is too large."),
        }
        code, message = messages.get(error.status_code, ("http_error", str(error.detail)))
        answer = (
            error_json(code, message, error.status_code)
            if _wants_json(request)
            else error_page(request, message, error.status_code)
        )
        # A 405 names the methods the route takes (Allow), as HTTP asks.
        answer.headers.update(error.headers or {})
        return answer

    @app.exception_handler(Exception)
    async def on_crash(request: Request, error: Exception) -> Response:
        # Logged without request bodies: entries must never reach the logs.
        log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.url.path)
        message = "Something went wrong on our side. Nothing you sent was lost; please try again."
        if _wants_json(request):
            return protect(error_json("internal_error", message, 500), request.url.path)
        page = HTMLResponse(f"<!doctype html><title>Reconnect</title><p>{message}</p>", 500)
        return protect(page, request.url.path)


class SecurityHeaders:
    """Adds ``protect``'s headers to every answer, and the CSRF cookie when a form was
    given a new token (``web.deps.csrf_token``).

    Plain ASGI rather than ``@app.middleware("http")``: that one runs each request
    through a task group and memory streams, which cost more than many a handler.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The dict ``request.state`` writes into, shared with the handler's request.
        state = scope.setdefault("state", {})

        async def send_protected(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                protect_headers(headers, scope["path"])
                if new_csrf := state.get("new_csrf"):
                    headers.append("set-cookie", _csrf_cookie(Request(scope), new_csrf))
            await send(message)

        await self.app(scope, receive, send_protected)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413, before a handler reads them,
    and bodies that stop arriving (``idle_seconds``) or take too long in all
    (``total_seconds``) with 408, closing the connection."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_paths: frozenset[str] = frozenset(),
        max_upload_bytes: int = 0,
        idle_seconds: float = BODY_IDLE_SECONDS,
        total_seconds: float = BODY_TOTAL_SECONDS,
        upload_total_seconds: float = UPLOAD_TOTAL_SECONDS,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # File uploads are streamed to disk by the form parser, so they may be large.
        self.upload_paths = upload_paths
        self.max_upload_bytes = max_upload_bytes
        self.idle_seconds = idle_seconds
        self.total_seconds = total_seconds
        self.upload_total_seconds = upload_total_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["path"] in self.upload_paths
        limit = self.max_upload_bytes if upload else self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, send)
            return
        received = 0
        started = False
        body_done = False
        too_slow = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.upload_total_seconds if upload else self.total_seconds)

        async def counting_receive() -> Message:
            nonlocal received, body_done, too_slow
            if body_done:  # after the body, only a disconnect is awaited: no bound
                return await receive()
            wait = min(self.idle_seconds, deadline - loop.time())
            try:
                # asyncio.timeout, not wait_for: wait_for runs receive() as a task of its
                # own, a turn of the event loop for a body that has already arrived.
                async with asyncio.timeout(max(wait, 0)):
                    message = await receive()
            except TimeoutError:
                # Answered here: a handler would take any error while reading the body
                # for a malformed one. The app then sees the client gone.
                log.info("a request body stopped arriving on %s", scope["path"])
                if not started:
                    await self._too_slow(scope, send)
                too_slow = body_done = True
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if too_slow:  # answered already, with 408
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)
        except Exception:
            if not too_slow:  # after a 408, the handler's complaint is moot
                raise

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = error_json("body_too_large", "What was sent is too large.", 413)
        await protect(response, scope["path"])(scope, _no_body, send)

    async def _too_slow(self, scope: Scope, send: Send) -> None:
        response = error_json(
            "body_too_slow", "What was being sent stopped arriving. Please try again.", 408
        )
        response.headers["Connection"] = "close"  # the rest of the body is never read
        await protect(response, scope["path"])(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
