"""The crash test: nothing the app said it saved is lost when its process is killed.

A real ``reconnect serve`` process takes a stream of writes through the API from
two threads and is killed with SIGKILL at random moments, at least 20 times.
After every restart, each write that got a 2xx answer must be in the database,
readable through the API, and ``PRAGMA integrity_check`` must say ok.

    python -m pytest tests/test_crash.py            # 20 kills; 40-70 s, mostly restarts
    RECONNECT_CRASH_KILLS=200 python -m pytest tests/test_crash.py

It prints one line with the counts, e.g. ``crash test: 20 kills, 412 acknowledged
writes, 412 present, integrity ok (seed 1234)``; RECONNECT_CRASH_SEED replays
the same kill moments.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

from reconnect.database import sqlite_module
from tests.conftest import NO_CONCERNS, PASSWORD
from tests.payloads import CHECKIN
from tests.ports import free_port

KILLS = max(20, int(os.environ.get("RECONNECT_CRASH_KILLS", "20")))  # more, never fewer
SEED = int(os.environ.get("RECONNECT_CRASH_SEED", str(time.time_ns() % 1_000_000)))
# Generous: CI and laptops are shared and noisy; a slow start is not a failure.
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 20.0


@dataclass
class Server:
    """One ``reconnect serve`` process on a fresh port, its output kept in a log file."""

    data_dir: Path
    log: IO[bytes]
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        """Start the process; it is not answering yet (imports take a second or two)."""
        self.port = free_port()  # a fresh port each time: nothing lingers from the last one
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECONNECT_")}
        env.update(
            RECONNECT_DATA_DIR=str(self.data_dir),
            RECONNECT_HOST="127.0.0.1",
            RECONNECT_PORT=str(self.port),
            RECONNECT_PASSWORD_HASH_MEMORY_KIB="256",
            RECONNECT_LOGIN_ATTEMPTS_PER_ADDRESS="100000",
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reconnect.cli", "serve"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> None:
        self.spawn()
        self.wait_until_answering()

    def wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(
                    f"the server exited with {self.process.returncode}; see {self.log.name}"
                )
            try:
                httpx.get(f"{self.url}/api/v1/me", timeout=2.0)
                return  # any answer at all: the app is up and reading its database
            except httpx.HTTPError:
                time.sleep(0.05)
        pytest.fail(
            f"the server did not answer within {START_TIMEOUT_S:.0f} s; see {self.log.name}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no final checkpoint, like pulling the plug on the app."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with (tmp_path / "server.log").open("wb") as log:
        running = Server(tmp_path / "data", log)
        try:
            yield running
        finally:
            running.kill()


@dataclass
class Ledger:
    """Every write the app acknowledged with a 2xx, and anything unexpected it said."""

    checkins: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (owner, note)
    people: set[str] = field(default_factory=set)
    surprises: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def acknowledged(self) -> int:
        return len(self.checkins) + len(self.people)


def sign_in(client: httpx.Client, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, f"{username}: {answer.status_code} {answer.text}"
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def register(client: httpx.Client, username: str) -> None:
    created = client.post(
        "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    headers = sign_in(client, username)
    screened = client.post("/api/v1/safety-screen", json={"answers": NO_CONCERNS}, headers=headers)
    assert screened.status_code == 200, screened.text


def keep_writing(
    url: str, username: str, numbers: Iterator[int], ledger: Ledger, stop: threading.Event
) -> None:
    """Check-ins as ``username`` (and every 15th write a new person) until the server
    stops answering. A write counts only once its 2xx answer has arrived."""
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        try:
            headers = sign_in(client, username)
        except (httpx.HTTPError, AssertionError):
            return  # killed before this writer got going
        while not stop.is_set():
            number = next(numbers)
            name = note = f"crash-{number}"
            try:
                if number % 15 == 0:
                    answer = client.post(
                        "/api/v1/auth/register", json={"username": name, "password": PASSWORD}
                    )
                else:
                    answer = client.post(
                        "/api/v1/checkins", json={**CHECKIN, "note": note}, headers=headers
                    )
            except httpx.HTTPError:
                return  # the process is gone; what was in flight was never acknowledged
            with ledger.lock:
                if not answer.is_success:
                    ledger.surprises.append(f"{answer.status_code}: {answer.text[:200]}")
                elif number % 15 == 0:
                    ledger.people.add(name)
                else:
                    ledger.checkins[int(answer.json()["id"])] = (username, note)


def stored_checkin_ids(database: Path) -> set[int]:
    with closing(sqlite_module().connect(database, timeout=30)) as db:
        return {row[0] for row in db.execute("SELECT id FROM checkin")}


def integrity(database: Path) -> list[str]:
    with closing(sqlite_module().connect(database, timeout=30)) as db:
        return [str(row[0]) for row in db.execute("PRAGMA integrity_check")]


def notes_through_the_api(client: httpx.Client, username: str) -> dict[int, str]:
    headers = sign_in(client, username)
    listed = client.get("/api/v1/checkins", params={"limit": 500}, headers=headers)
    assert listed.status_code == 200, listed.text
    return {int(item["id"]): str(item["note"]) for item in listed.json()}


def test_every_acknowledged_write_survives_sigkill(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    chooser = random.Random(SEED)
    ledger = Ledger()
    numbers = itertools.count(1)
    database = server.data_dir / "reconnect.db"
    read_back: set[object] = set()  # check-in ids and people seen again through the app
    kills = 0
    server.start()

    while kills < KILLS:
        # New writers each round keep every list under the API's 500-item page.
        writers = (f"round{kills}-a", f"round{kills}-b")
        with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT_S) as client:
            for username in writers:
                register(client, username)
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=keep_writing, args=(server.url, name, numbers, ledger, stop), daemon=True
            )
            for name in writers
        ]
        for thread in threads:
            thread.start()
        # Short and long runs both: a kill may land mid-commit or between writes.
        time.sleep(chooser.uniform(0.05, 0.6))
        server.kill()
        kills += 1
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 10)

        # The files exactly as the kill left them, read while the new process starts up.
        server.spawn()
        with ledger.lock:
            acknowledged = dict(ledger.checkins)
            people = set(ledger.people)
        lost = sorted(set(acknowledged) - stored_checkin_ids(database))
        assert not lost, f"after kill {kills}, acknowledged check-ins {lost[:10]} are missing"
        assert integrity(database) == ["ok"], f"after kill {kills}"

        # Then through the restarted app: the words themselves, as their owners see them.
        server.wait_until_answering()
        assert integrity(database) == ["ok"], f"after restart {kills}"
        with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT_S) as client:
            for username in writers:
                shown = notes_through_the_api(client, username)
                for entry, (owner, note) in acknowledged.items():
                    if owner == username:
                        assert shown.get(entry) == note, f"after kill {kills}: check-in {entry}"
                        read_back.add(entry)
            for name in sorted(people - read_back):
                sign_in(client, name)
                read_back.add(name)

    summary = (
        f"crash test: {kills} kills, {ledger.acknowledged} acknowledged writes, "
        f"{len(read_back)} present, integrity ok (seed {SEED})"
    )
    report(summary, capsys)
    assert kills >= 20, summary
    assert ledger.acknowledged >= kills, f"{summary}: too few writes to mean anything"
    assert len(read_back) == ledger.acknowledged, summary
    assert not ledger.surprises, f"{summary}; unexpected answers: {ledger.surprises[:5]}"


def report(line: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Shown whether or not pytest captures output: the counts are the point."""
    with capsys.disabled():
        print(f"\n{line}", file=sys.stderr)
