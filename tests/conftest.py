"""Shared fixtures: a fresh app on a real database, and the people who use it.

The people: Hana (the hurt partner) and Ivan (the involved partner) share a
couple; Olga and Oscar are another couple, who must never see anything of
Hana's and Ivan's.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from reconnect import coach
from reconnect.app import create_app
from reconnect.coach.checker import MEMORY
from reconnect.database import make_engine, upgrade
from reconnect.models import Base
from reconnect.notes.store import HINTS_READ
from reconnect.settings import Settings, load_settings
from tests.coach.stand_in import (
    CLOSING_WORDS,
    OPENING_WORDS,
    UNLISTED_SENTENCE,
    UNLISTED_WORDS,
    fake_reader,
)

PG_ADMIN_URL = os.environ.get("RECONNECT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PASSWORD = "quiet river under stone"
NO_CONCERNS = {
    "physical_harm": False,
    "fear": False,
    "control": False,
    "sexual_pressure": False,
    "unsafe_to_write": False,
    "put_down": False,
    "own_force": False,
    "children": False,
    "threats_of_self_harm": False,
}


@cache
def _migrated_sqlite() -> Path:
    """An empty SQLite database at the newest schema, made once per test process.

    Running every migration costs each test's app a few tenths of a second (most of
    it SQLite syncing each schema change); a copy of this file costs a millisecond.
    tests/test_storage.py still builds the schema from the migrations.
    """
    folder = Path(tempfile.mkdtemp(prefix="reconnect-schema-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    engine = make_engine(f"sqlite:///{folder / 'reconnect.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return folder / "reconnect.db"


def make_settings(tmp_path: Path, database_url: str = "") -> Settings:
    if not database_url:
        database = tmp_path / "data" / "reconnect.db"
        if not database.exists():
            database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copy2(_migrated_sqlite(), database)
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url or None,
        # The real cost (64 MiB) is for people; tests only need the same algorithm.
        password_hash_memory_kib=256,
        login_attempts_per_address=1000,
        # Each refresh runs in its write's transaction, so a test reads the findings
        # next; tests/test_jobs.py runs the real queues and workers.
        queue_url="immediate",
    )


# --- PostgreSQL: one fresh database per test run ---------------------------------


@pytest.fixture(scope="session", autouse=True)
def coach_loaded() -> None:
    """Load the message coach's model once, before any test runs.

    The app starts loading it on a thread of its own; the first time in a process that
    imports PyTorch and its libraries, which changes ``sys.modules`` while it runs.
    Hypothesis reads ``sys.modules`` to describe its strategies, and the two side by
    side fail with "dictionary changed size during iteration". Loaded here first,
    the app's thread finds the model ready and imports nothing.
    """
    coach.model_name()


@contextmanager
def fresh_postgres_database(prefix: str, template: str = "") -> Iterator[str]:
    """A new PostgreSQL database for as long as the block runs, then dropped: empty, or
    a copy of the database at ``template`` (which nobody may be connected to).

    Outside CI, a missing server skips the test with the reason; in CI it fails.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL must be reachable in CI at {PG_ADMIN_URL}: {error}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} (runs in CI): {error}")
    with admin:
        copied = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
        admin.execute(f'CREATE DATABASE "{name}"{copied}')
        # A test needs no durability against the server's own crash: commits return
        # before the log reaches the disk (what is committed is still all-or-nothing).
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def scratch_redis_prefix() -> Iterator[str]:
    """A Redis key prefix of the test's own, its keys deleted afterwards. Redis must
    answer in CI; outside it the test skips with the reason."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"Redis must be reachable in CI at {REDIS_URL}: {error}")
        pytest.skip(f"Redis not reachable at {REDIS_URL} (runs in CI): {error}")
    prefix = f"reconnect-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database("reconnect_test") as url:
        yield url


def empty_all_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """SQLite unless the test asks for ``backend`` (then both SQLite and PostgreSQL)."""
    kind = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    if kind == "postgres":
        return make_settings(tmp_path, request.getfixturevalue("postgres_url"))
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    application = create_app(settings)
    if not settings.is_sqlite:
        empty_all_tables(application.state.engine)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


# --- the demo couple ---------------------------------------------------------------


def _build_the_demo(app: Any) -> Any:
    from reconnect.accounts.auth import kdf_params
    from reconnect.demo import build_demo
    from tests.demo import NOW

    state = app.state.reconnect
    return build_demo(state.sessions, state.hasher, kdf_params(state.settings), NOW)


@pytest.fixture(scope="session")
def demo_snapshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.snapshots import Snapshots  # it imports this module

    with ExitStack() as databases:
        yield Snapshots(_build_the_demo, tmp_path_factory, databases)


@pytest.fixture
def demo_app(request: pytest.FixtureRequest, demo_snapshots: Any, tmp_path: Path) -> Iterator[Any]:
    """The app on this test's own copy of the demo couple (Hana, Ivan and Thea, their
    therapist, with ten weeks to ``tests.demo.NOW``), built once per test process and
    backend: building it takes seconds, a copy a fraction of one."""
    from tests.snapshots import app_on, backend_of

    with demo_snapshots.copy(backend_of(request), tmp_path) as copied, app_on(copied) as app:
        yield app


# --- API people ------------------------------------------------------------------


@dataclass
class ApiPerson:
    """Someone using the JSON API with their own bearer token."""

    client: TestClient
    username: str
    token: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, json=json, headers=self.headers, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(path, headers=self.headers, **kwargs)


class People:
    """Creates people through the API, the way a real client would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def register(self, username: str, *, screen: dict[str, bool] | None = NO_CONCERNS) -> ApiPerson:
        created = self.client.post(
            "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
        )
        assert created.status_code == 201, created.text
        person = ApiPerson(self.client, username)
        person.token = self.login(username)
        if screen is not None:
            answered = person.post("/api/v1/safety-screen", {"answers": screen})
            assert answered.status_code == 200, answered.text
        return person

    def login(self, username: str) -> str:
        response = self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def couple(self, first: str, second: str, role: str = "hurt") -> tuple[ApiPerson, ApiPerson]:
        a = self.register(first)
        b = self.register(second)
        assert a.post("/api/v1/couples", {"role": role}).status_code == 201
        code = a.post("/api/v1/couples/invites").json()["code"]
        partner_role = {"hurt": "involved", "involved": "hurt", "both_hurt": "both_hurt"}[role]
        joined = b.post("/api/v1/couples/join", {"code": code, "role": partner_role})
        assert joined.status_code == 200, joined.text
        return a, b


@pytest.fixture
def people(client: TestClient) -> People:
    return People(client)


@pytest.fixture
def hana_and_ivan(people: People) -> tuple[ApiPerson, ApiPerson]:
    return people.couple("hana", "ivan")


@pytest.fixture
def couple_id(hana_and_ivan: tuple[ApiPerson, ApiPerson]) -> int:
    """Hana and Ivan's couple."""
    hana, _ = hana_and_ivan
    return int(hana.get("/api/v1/couples/current").json()["id"])


@pytest.fixture
def paired(app: Any) -> tuple[Any, Any]:
    """Hana and Ivan, each in a browser of their own, paired through the pages."""
    from tests.pages import Visitor, soup, text_of  # tests.pages imports this module

    hana, ivan = Visitor(app), Visitor(app)
    hana.register("hana")
    ivan.register("ivan")
    hana.post("/couple", {"role": "hurt"})
    code = text_of(soup(hana.post("/couple/invite", {})), "#invite-code")
    ivan.post("/couple/join", {"code": code, "role": "involved"})
    return hana, ivan


@pytest.fixture
def olga_and_oscar(people: People) -> tuple[ApiPerson, ApiPerson]:
    return people.couple("olga", "oscar")


# --- time ----------------------------------------------------------------------


class Clock:
    """The app's clock, moved by the test: weeks pass in milliseconds.

    Like a real clock it never stands still: each reading is a millisecond later,
    so two writes never share a timestamp.
    """

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(app: Any) -> Clock:
    fake = Clock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    app.state.reconnect = replace(app.state.reconnect, clock=fake)
    return fake


def run_coroutine(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run`` on a thread of its own. The browser tests keep Playwright's event
    loop running in the worker's main thread for the whole session, and asyncio.run
    refuses to start beside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# --- the message coach ---------------------------------------------------------


@pytest.fixture
def steady_coach(monkeypatch):
    """The app's part, tested apart from the model's accuracy (bench/coach.py measures
    that): a stand-in coach with fixed readings of the sample texts."""
    monkeypatch.setattr(
        coach,
        "read",
        fake_reader(
            {
                CLOSING_WORDS: ("minimizing", 0.8),
                OPENING_WORDS: ("validation", 0.8),
                UNLISTED_WORDS: ("minimizing", 0.7),
                UNLISTED_SENTENCE: ("minimizing", 0.9),
            }
        ),
    )
    MEMORY.forget()
    HINTS_READ.forget()
    yield
    MEMORY.forget()
    HINTS_READ.forget()
