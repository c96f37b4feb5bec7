"""Many requests at once, with few worker threads and few database connections.

FastAPI runs each plain ``def`` dependency and handler in a worker thread: a signed-in
request makes a trip for its sign-in, one for its handler and, on PostgreSQL, one to
close its database session. Requests waiting between trips must not hold what the
working ones need: a request that kept its connection while it waited for a thread
could leave every thread waiting for a connection, and the server answered nothing
until the pool gave up. Here a real server runs with two worker threads and, on
PostgreSQL, two connections, and 24 clients ask at once, three times each.

    python -m pytest tests/test_worker_threads.py    # a few seconds a backend
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from fastapi.testclient import TestClient

from reconnect.app import create_app
from tests.conftest import People, empty_all_tables, make_settings
from tests.ports import serving

CLIENTS = 24
WAIT_S = 20  # the pool gives up after 2 s here; a stalled server fails well within this


@contextmanager
def crowded_server(tmp_path: Path, url: str = "") -> Iterator[tuple[int, list[str]]]:
    """A served app with two worker threads (and two PostgreSQL connections, waited for
    at most 2 s), and the tokens of four signed-in people."""
    settings = make_settings(tmp_path, url).model_copy(
        update={"threads": 2, "db_pool_size": 2, "db_max_overflow": 0, "db_pool_timeout": 2}
    )
    application = create_app(settings)
    if url:
        empty_all_tables(application.state.engine)
    people = People(TestClient(application, base_url="http://127.0.0.1"))
    tokens = [people.register(f"crowd{i}").token for i in range(4)]
    try:
        with serving(application) as port:
            yield port, tokens
    finally:
        application.state.engine.dispose()


@pytest.fixture
def crowded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    backend = request.getfixturevalue("backend")
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    with crowded_server(tmp_path, url) as served:
        yield served


def _ask_at_once(port: int, tokens: list[str], path: str, *, page: bool) -> list[int]:
    def ask(index: int) -> list[int]:
        token = tokens[index % len(tokens)]
        signed_in = (
            {"cookies": {"reconnect_session": token}}
            if page
            else {"headers": {"Authorization": f"Bearer {token}"}}
        )
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=WAIT_S, **signed_in
        ) as client:
            return [client.get(path).status_code for _ in range(3)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [code for codes in pool.map(ask, range(CLIENTS)) for code in codes]


@pytest.mark.usefixtures("backend")
def test_many_pages_at_once_are_all_answered_with_few_threads_and_connections(crowded):
    port, tokens = crowded
    assert _ask_at_once(port, tokens, "/checkin", page=True) == [200] * CLIENTS * 3


def test_many_api_reads_at_once_are_all_answered_with_few_threads_on_sqlite(tmp_path):
    """On PostgreSQL an API read makes one more trip, FastAPI's check of the answer,
    holding its connection: more requests at once than worker threads and connections
    together can still wait for the pool there (docs/deployment.md)."""
    with crowded_server(tmp_path) as (port, tokens):
        assert _ask_at_once(port, tokens, "/api/v1/me", page=False) == [200] * CLIENTS * 3


@pytest.mark.parametrize(
    ("changes", "threads"),
    [({}, 4), ({"threads": 7}, 7), ({"database_url": "postgresql+psycopg://db/reconnect"}, 40)],
)
def test_each_web_process_has_the_worker_threads_its_settings_give(tmp_path, changes, threads):
    settings = make_settings(tmp_path).model_copy(update=changes)
    assert settings.worker_threads == threads
    if settings.is_sqlite:
        with TestClient(create_app(settings)) as client:  # its start-up has run
            limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)
            assert limiter.total_tokens == threads
