"""The pages and API answers read on every visit ask the database a fixed, small number
of questions, however long the couple's history: ten weeks of the demo couple here.

A count that grows is a lookup repeated per row, or per helper, that used to be read
once; the limits are what each read needs today. The sign-in's one statement included:
it reads the person's couple and safety screen too, which nearly every page asks next.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from starlette.routing import Route

from reconnect import after_write
from reconnect.app import HOT_API, HOT_PAGES, ROUTERS, tried_first
from reconnect.demo import HURT, INVOLVED, PASSWORD
from tests.demo import NOW
from tests.pages import Visitor
from tests.payloads import CALM
from tests.statements import statements

PAGES = {
    # One reads the person's questionnaire plan and the couple's: what is due, and the
    # check after a crisis answer; one the dates they marked as hard; one the couple's
    # rituals.
    "/today": 13,
    "/checkin": 1,
    "/notes": 2,
    "/progress": 9,  # two of them the couple's commitments and rituals, week by week
    "/moments": 4,
}
API = {
    "/api/v1/pace": 4,
    "/api/v1/notes": 2,
    "/api/v1/status": 2,
    "/api/v1/triggers": 4,
    "/api/v1/proposals": 2,
}


@pytest.fixture
def demo_app(demo_app: Any) -> Any:
    """The shared demo couple's app, an hour after the demo's last entries."""
    demo_app.state.reconnect = replace(
        demo_app.state.reconnect, clock=lambda: NOW + timedelta(hours=1)
    )
    return demo_app


def browser(app: Any, username: str) -> Visitor:
    visitor = Visitor(app)
    assert visitor.post("/login", {"username": username, "password": PASSWORD}).status_code == 303
    return visitor


def api_headers(app: Any, username: str) -> dict[str, str]:
    answer = TestClient(app, base_url="http://127.0.0.1").post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.mark.parametrize("username", [HURT, INVOLVED])
def test_each_hot_page_asks_a_few_questions(demo_app, username):
    visitor = browser(demo_app, username)
    for path, limit in PAGES.items():
        visitor.get(path)  # a first visit may set a cookie or load what is cached
        with statements(demo_app) as sent:
            visitor.get(path)
        assert visitor.last.status_code == 200, path
        assert len(sent) <= limit, f"{path}: {len(sent)} statements\n" + "\n".join(sent)


@pytest.mark.parametrize("username", [HURT, INVOLVED])
def test_each_hot_api_read_asks_a_few_questions(demo_app, username):
    client = TestClient(demo_app, base_url="http://127.0.0.1")
    headers = api_headers(demo_app, username)
    for path, limit in API.items():
        with statements(demo_app) as sent:
            answer = client.get(path, headers=headers)
        assert answer.status_code == 200, path
        assert len(sent) <= limit, f"{path}: {len(sent)} statements\n" + "\n".join(sent)


# A check-in POST: the sign-in; the sealed entry (inserted for its id, then sealed
# with it); the couple's newest decision; its signals, all in one insert; the pace
# (checkpoint, signals since, the decision); the detectors' refresh asked for; the
# marked dates. On PostgreSQL, one more: the couple's row lock (pacing.store._hold_couple).
CHECK_IN_STATEMENTS = 10


def test_a_check_in_writes_in_a_few_statements(demo_app, monkeypatch):
    client = TestClient(demo_app, base_url="http://127.0.0.1")
    headers = api_headers(demo_app, HURT)
    assert client.post("/api/v1/checkins", headers=headers, json=CALM).status_code == 201
    # The tests' queue runs the detectors in the request (after_write.look_again): in
    # the app they are a job, and asking for it is one statement.
    detectors = after_write.look_again_now
    with statements(demo_app) as sent:
        theirs: list[int] = []

        def counted(*args: Any, **kwargs: Any) -> None:
            before = len(sent)
            detectors(*args, **kwargs)
            theirs.append(len(sent) - before - 1)

        monkeypatch.setattr(after_write, "look_again_now", counted)
        answer = client.post("/api/v1/checkins", headers=headers, json=CALM)
    assert answer.status_code == 201, answer.text
    assert len(theirs) == 1, "a check-in asks the detectors to look again"
    own = len(sent) - theirs[0]
    assert own <= CHECK_IN_STATEMENTS, f"{own} statements\n" + "\n".join(sent)


@contextmanager
def thread_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What the app hands to a worker thread while the block runs (FastAPI runs every
    plain ``def`` dependency and handler there; each trip costs more than a small
    dependency's own work)."""
    trips: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        inner = getattr(func, "func", func)  # starlette wraps each call in a partial
        trips.append(getattr(inner, "__qualname__", repr(inner)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    yield trips


# The worker-thread trips a signed-in request makes. On SQLite the sign-in, the hot reads
# and the short writes (web.deps.run_read, run_write) run on the event loop: none. Other
# handlers make one, and an API answer from a plain ``def`` handler one more, for
# FastAPI's check of it against its model. On PostgreSQL every statement waits for the
# network, so the sign-in and every handler go to a thread, and so does the end of a
# session's transaction when the handler leaves one open: a hot read signs in, reads
# and ends its transaction in one trip (web.deps._signed_in_then); a write that commits
# leaves nothing to end. (There were eight, and three on PostgreSQL's hot reads.)
TRIPS = {
    "sqlite": {"/today": 0, "/checkin": 0, "/notes": 0, "/api/v1/pace": 0, "/progress": 1},
    "postgres": {"/today": 1, "/checkin": 1, "/notes": 1, "/api/v1/pace": 1, "/progress": 3},
}
OTHER_API_READ = {"sqlite": 2, "postgres": 4}  # /api/v1/status
# The short writes run on the loop too on SQLite (web.deps.run_write).
CHECK_IN = {"sqlite": 0, "postgres": 2}


@pytest.mark.usefixtures("backend")
def test_a_signed_in_read_goes_to_a_worker_thread_only_where_it_must(
    demo_app, monkeypatch, backend
):
    client = TestClient(demo_app, base_url="http://127.0.0.1")
    headers = api_headers(demo_app, HURT)
    visitor = browser(demo_app, HURT)

    def ask(path: str) -> int:
        if path.startswith("/api/"):
            return client.get(path, headers=headers).status_code
        visitor.get(path)
        return visitor.last.status_code

    for path, expected in TRIPS[backend].items():
        ask(path)  # a first visit may set a cookie or load what is cached
        with thread_trips(monkeypatch) as trips:
            assert ask(path) == 200, path
        assert len(trips) == expected, (path, trips)
    with thread_trips(monkeypatch) as trips:
        assert client.get("/api/v1/status", headers=headers).status_code == 200
    assert len(trips) == OTHER_API_READ[backend], trips
    with thread_trips(monkeypatch) as trips:
        checked_in = client.post("/api/v1/checkins", headers=headers, json=CALM)
    assert checked_in.status_code == 201, checked_in.text
    assert len(trips) == CHECK_IN[backend], trips


# Connections taken from the pool per signed-in request. The sign-in gives its
# connection back before the handler (web.deps.signed_in_at), except before a quick
# read, which runs straight after it (on SQLite on the loop, on PostgreSQL in the same
# worker thread's turn) and keeps it: one. (Each connection taken on PostgreSQL is
# pinged first: a trip to the server.)
CHECKOUTS = {
    "sqlite": {"/today": 1, "/checkin": 1, "/notes": 1, "/api/v1/pace": 1, "/progress": 2},
    "postgres": {"/today": 1, "/checkin": 1, "/notes": 1, "/api/v1/pace": 1, "/progress": 2},
}
# A short write keeps it too on SQLite, where waiting for the write turn with a
# connection in hand keeps no one from one; on PostgreSQL it gives it back to wait.
CHECK_IN_CHECKOUTS = {"sqlite": 1, "postgres": 2}


@pytest.mark.usefixtures("backend")
def test_a_quick_read_keeps_the_sign_ins_connection(demo_app, backend):
    client = TestClient(demo_app, base_url="http://127.0.0.1")
    headers = api_headers(demo_app, HURT)
    visitor = browser(demo_app, HURT)
    taken: list[str] = []

    def count(*_: Any) -> None:
        taken.append("checkout")

    for path, expected in [*CHECKOUTS[backend].items(), ("check-in", CHECK_IN_CHECKOUTS[backend])]:
        event.listen(demo_app.state.engine, "checkout", count)
        try:
            if path == "check-in":
                answer = client.post("/api/v1/checkins", headers=headers, json=CALM)
                assert answer.status_code == 201, answer.text
            elif path.startswith("/api/"):
                assert client.get(path, headers=headers).status_code == 200
            else:
                visitor.get(path)
                assert visitor.last.status_code == 200, path
        finally:
            event.remove(demo_app.state.engine, "checkout", count)
        assert len(taken) == expected, (path, len(taken))
        taken.clear()


def test_the_pages_every_visit_opens_are_matched_first(app):
    """A request is matched against the routes in order: the Today page was tried after
    some 130 others, and a note sent through the API after 54. Moving a route never
    changes which route answers a request, nor the order of the API's schema."""
    routes = app.router.routes
    pages = [r for r in routes if isinstance(r, Route) and r.path in HOT_PAGES]
    api = [r for r in routes if isinstance(r, Route) and r.path in HOT_API]
    assert {r.path for r in pages + api} == set(HOT_PAGES + HOT_API)
    start = routes.index(pages[0])
    assert routes[start : start + len(pages) + len(api)] == pages + api
    assert start <= 2  # after FastAPI's /openapi.json and the static files only

    listed = [r for router in ROUTERS for r in router.routes if getattr(r, "include_in_schema", 0)]
    in_order = list(dict.fromkeys(r.path for r in listed))
    assert list(app.openapi()["paths"]) == in_order

    def page() -> None: ...

    shadowed = [Route("/{name}", page), Route("/today", page)]
    with pytest.raises(RuntimeError, match="GET /today is answered by an earlier route"):
        tried_first(shadowed, ("/today",))
    moved = [Route("/about", page), Route("/today", page)]
    assert tried_first(moved, ("/today",)) == moved[::-1]
