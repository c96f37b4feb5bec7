"""Databases built once per backend in each test process, then copied for each test.

Some tests need a lot in the database before they start: the access matrix's world of
couples and therapists, the demo couple's ten weeks. Building it costs seconds; a copy
of the SQLite file, or a PostgreSQL database made from it as a template, a fraction of
one. Each test gets its own copy, so what it writes is its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from reconnect.app import create_app
from reconnect.settings import Settings
from tests.conftest import fresh_postgres_database, make_settings

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """What was built once: its data folder (the secret key, and the SQLite file), for
    PostgreSQL the database each test copies, and what the builder returned."""

    data_dir: Path
    database_url: str
    made: T


class Snapshots(Generic[T]):
    """``build(app)`` run once per backend, on an app of its own; ``copy`` gives a test
    settings on a copy of what it left."""

    def __init__(
        self,
        build: Callable[[Any], T],
        folders: pytest.TempPathFactory,
        databases: ExitStack,
    ) -> None:
        self.build = build
        self.folders = folders
        self.databases = databases
        self.built: dict[str, Snapshot[T]] = {}

    def of(self, kind: str) -> Snapshot[T]:
        if kind not in self.built:
            self.built[kind] = self._build(kind)
        return self.built[kind]

    def _build(self, kind: str) -> Snapshot[T]:
        url = ""
        if kind == "postgres":
            url = self.databases.enter_context(fresh_postgres_database("reconnect_snapshot"))
        settings = make_settings(self.folders.mktemp(f"snapshot-{kind}"), url)
        application = create_app(settings)
        try:
            made = self.build(application)
        finally:
            # Checkpoints SQLite's log into the file; a template has nobody connected.
            application.state.engine.dispose()
        return Snapshot(settings.data_dir, url, made)

    @contextmanager
    def copy(self, kind: str, tmp_path: Path) -> Iterator[Settings]:
        """Settings on this test's own copy of the snapshot for ``kind``."""
        snapshot = self.of(kind)
        shutil.copytree(snapshot.data_dir, tmp_path / "data")
        if not snapshot.database_url:
            yield make_settings(tmp_path)
            return
        with fresh_postgres_database("reconnect_copy", template=snapshot.database_url) as url:
            yield make_settings(tmp_path, url)


def backend_of(request: pytest.FixtureRequest) -> str:
    """The test's backend: its ``backend`` parameter where it has one, else SQLite."""
    if "backend" in request.fixturenames:
        return str(request.getfixturevalue("backend"))
    return "sqlite"


@contextmanager
def app_on(settings: Settings) -> Iterator[Any]:
    """The app on a copy, as it is (the shared ``app`` fixture empties PostgreSQL's
    tables first, for tests that start from nothing)."""
    application = create_app(settings, migrate=False)
    try:
        yield application
    finally:
        application.state.engine.dispose()
