"""Several worker processes on one PostgreSQL database, with everyone acting at once.

A real ``reconnect serve --workers 2`` runs on a fresh PostgreSQL database. Three
couples and their therapist then act together from many threads: both partners
check in, log shared experiences and reflect on each other's, one pauses and
resumes, the therapist reads each couple's view, and one partner revokes the
therapist's access half-way. Afterwards:

- every write that was acknowledged is in the database, once (no lost writes, no
  duplicates), and each person's check-ins read back through the API;
- every stored pace decision is what replaying the couple's signals up to its time
  gives (none was decided without a signal dated before it: no lost pause), and
  the pace served now is the replay of all of them;
- from the moment the revocation was acknowledged, every therapist request for that
  couple was refused, and each worker, asked in turn, refuses it.

    python -m pytest tests/test_concurrency.py      # about 20 s; needs PostgreSQL
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from reconnect.cli import main
from reconnect.database import normalise_url
from reconnect.domain.pacing.engine import decide
from reconnect.domain.pacing.history import Decision, History
from reconnect.domain.pacing.policy import load_policy
from reconnect.domain.pacing.signals import signal_from_dict
from reconnect.models import (
    CheckInEntry,
    Couple,
    Experience,
    ExperienceRatingEntry,
    PaceDecision,
    PaceSignal,
    utcnow,
)
from reconnect.pacing.store import partners
from tests.conftest import NO_CONCERNS, PASSWORD, fresh_postgres_database, run_coroutine
from tests.payloads import CHECKIN, GOOD
from tests.ports import free_port

WORKERS = 2
COUPLES = 3
BURST = 4  # connections asked at once while finding every worker
ROUNDS = 8  # per partner: a check-in, and every other round an experience
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
SEED = int(os.environ.get("RECONNECT_CONCURRENCY_SEED", str(time.time_ns() % 1_000_000)))


def test_serve_refuses_several_workers_on_sqlite(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--workers", "2", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert "PostgreSQL" in message and "--workers 1" in message
    assert not (tmp_path / "reconnect.db").exists(), "refused before touching anything"


def test_connections_to_several_workers_send_small_answers_at_once():
    """The workers' shared listening socket says it is TCP, so asyncio turns Nagle's
    algorithm off for every connection it accepts; otherwise each request after the
    first on a kept-alive connection waits ~40 ms for a delayed ACK."""
    import asyncio

    import uvicorn

    from reconnect.listen import tcp_listener

    config = uvicorn.Config("reconnect.cli:worker_app", host="127.0.0.1", port=0, workers=2)
    listener = tcp_listener(config.bind_socket())
    assert listener.proto == socket.IPPROTO_TCP
    accepted: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            made = transport.get_extra_info("socket")
            accepted.append(made.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def accept_one() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if accepted:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()

    run_coroutine(accept_one())
    assert accepted == [1]


# --- a fresh database and a real server with several workers ---------------------------


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    with fresh_postgres_database("reconnect_concurrency") as url:
        yield url


@dataclass
class Workers:
    """``reconnect serve --workers N`` as a process group, and its worker processes."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> set[int]:
        # uvicorn's supervisor starts each worker as a child process (multiprocessing's
        # resource tracker is a child too, and so is the job worker: neither serves).
        found: set[int] = set()
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            with suppress(OSError):
                for pid in (task / "children").read_text().split():
                    command = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if b"resource_tracker" not in command and b"work_beside" not in command:
                        found.add(int(pid))
        return found


@pytest.fixture
def workers(tmp_path: Path, fresh_postgres: str) -> Iterator[Workers]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONNECT_")}
    env.update(
        RECONNECT_DATABASE_URL=fresh_postgres,
        RECONNECT_DATA_DIR=str(tmp_path / "data"),
        RECONNECT_PORT=str(port),
        RECONNECT_PASSWORD_HASH_MEMORY_KIB="256",
        RECONNECT_LOGIN_ATTEMPTS_PER_ADDRESS="100000",
    )
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "reconnect.cli", "serve", "--workers", str(WORKERS)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Workers(process, port, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(running.worker_pids()) < WORKERS or not _answers(running.url):
            if process.poll() is not None:
                pytest.fail(f"serve exited with {process.returncode}: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"serve did not answer within {START_TIMEOUT_S:.0f} s; see {log}")
            time.sleep(0.1)
        yield running
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=20)


def _answers(url: str) -> bool:
    try:
        httpx.get(f"{url}/api/v1/me", timeout=2.0)
    except httpx.HTTPError:
        return False
    return True


# --- people -------------------------------------------------------------------------


@dataclass
class Person:
    name: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register(client: httpx.Client, name: str, *, screen: bool = True) -> Person:
    created = client.post("/api/v1/auth/register", json={"username": name, "password": PASSWORD})
    assert created.status_code == 201, created.text
    answer = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    person = Person(name, answer.json()["token"])
    if screen:
        answered = client.post(
            "/api/v1/safety-screen", json={"answers": NO_CONCERNS}, headers=person.headers
        )
        assert answered.status_code == 200, answered.text
    return person


@dataclass
class Pair:
    first: Person
    second: Person
    id: int


def make_couple(client: httpx.Client, index: int, therapist: Person) -> Pair:
    first, second = register(client, f"first{index}"), register(client, f"second{index}")
    assert client.post("/api/v1/couples", json={"role": "hurt"}, headers=first.headers).is_success
    code = client.post("/api/v1/couples/invites", headers=first.headers).json()["code"]
    joined = client.post(
        "/api/v1/couples/join", json={"code": code, "role": "involved"}, headers=second.headers
    )
    assert joined.status_code == 200, joined.text
    code = client.post("/api/v1/therapist/invites", headers=first.headers).json()["code"]
    linked = client.post("/api/v1/therapist/join", json={"code": code}, headers=therapist.headers)
    assert linked.status_code == 201, linked.text
    consented = client.post("/api/v1/therapist/consent", headers=second.headers)
    assert consented.status_code == 204, consented.text
    couple_id = client.get("/api/v1/couples/current", headers=first.headers).json()["id"]
    assert client.get(f"/api/v1/caseload/{couple_id}", headers=therapist.headers).is_success
    return Pair(first, second, int(couple_id))


# --- what the app acknowledged ------------------------------------------------------------


@dataclass
class Ledger:
    """Every write answered with a 2xx, and anything the app said that it should not have."""

    checkins: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (person, note)
    experiences: set[int] = field(default_factory=set)
    ratings: list[tuple[int, str]] = field(default_factory=list)  # (experience id, person)
    unanswered: int = 0  # requests with no answer: their writes may or may not exist
    surprises: list[str] = field(default_factory=list)
    revoked_at: float | None = None  # time.monotonic() when the revocation was acknowledged
    after_revoke: list[int] = field(default_factory=list)  # therapist statuses sent after it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def surprise(self, what: str) -> None:
        with self.lock:
            self.surprises.append(what)


def send(
    client: httpx.Client, ledger: Ledger, method: str, path: str, person: Person, body: Any = None
) -> httpx.Response | None:
    try:
        answer = client.request(method, path, json=body, headers=person.headers)
    except httpx.HTTPError as error:
        with ledger.lock:
            ledger.unanswered += 1
        ledger.surprise(f"{person.name} {method} {path}: no answer ({type(error).__name__})")
        return None
    if answer.status_code >= 500:
        ledger.surprise(f"{person.name} {method} {path}: {answer.status_code} {answer.text[:200]}")
    return answer


@dataclass
class Inboxes:
    """Experiences each partner logged, waiting for the other's reflection."""

    waiting: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, me: str) -> int | None:
        with self.lock:
            mine = self.waiting.setdefault(me, [])
            return mine.pop() if mine else None

    def give(self, to: str, experience: int) -> None:
        with self.lock:
            self.waiting.setdefault(to, []).append(experience)


def partner_work(
    url: str, ledger: Ledger, me: Person, partner: Person, inboxes: Inboxes, rng: Any
) -> None:
    """Check-ins every round; every other round a new experience, or a reflection on
    one the partner logged."""
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        for round_ in range(ROUNDS):
            note = f"{me.name} round {round_} {uuid.uuid4().hex[:8]}"
            body = {**CHECKIN, "activation": rng.randint(1, 8), "note": note}
            answer = send(client, ledger, "POST", "/api/v1/checkins", me, body)
            if answer is not None and answer.status_code == 201:
                with ledger.lock:
                    ledger.checkins[int(answer.json()["id"])] = (me.name, note)
            elif answer is not None:
                ledger.surprise(f"{me.name} check-in: {answer.status_code} {answer.text[:200]}")
            if round_ % 2:
                continue
            theirs = inboxes.take(me.name)
            with ledger.lock:
                joined = theirs is not None and (theirs, me.name) in ledger.ratings
            if joined:
                continue  # a log of mine joined it already: my reflection is on it
            rating = {**GOOD, "activation_after": rng.randint(1, 6)}
            body = (
                {"experience_id": theirs, **rating}
                if theirs
                else {"practice_id": "walk-side-by-side", **rating}
            )
            answer = send(client, ledger, "POST", "/api/v1/experiences", me, body)
            if answer is None:
                continue
            if answer.status_code != 201:
                ledger.surprise(f"{me.name} experience: {answer.status_code} {answer.text[:200]}")
                continue
            experience = int(answer.json()["id"])
            # A log of the walk the partner logged a moment ago joins theirs.
            new = not theirs and not answer.json()["joined"]
            with ledger.lock:
                ledger.ratings.append((experience, me.name))
                if new:
                    ledger.experiences.add(experience)
            if new:
                inboxes.give(partner.name, experience)


def pauser_work(url: str, ledger: Ledger, me: Person) -> None:
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        for _ in range(3):
            for path in ("/api/v1/pause", "/api/v1/resume"):
                answer = send(client, ledger, "POST", path, me)
                if answer is not None and answer.status_code != 200:
                    ledger.surprise(f"{me.name} {path}: {answer.status_code} {answer.text[:200]}")


def therapist_work(
    url: str,
    ledger: Ledger,
    therapist: Person,
    couple_ids: list[int],
    revoking: int,
    stop: threading.Event,
) -> None:
    """The therapist reads these couples' views until told to stop; what the couple
    ``revoking`` showed after its revocation was acknowledged goes in the ledger."""
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        while not stop.is_set():
            for couple_id in couple_ids:
                sent = time.monotonic()
                answer = send(client, ledger, "GET", f"/api/v1/caseload/{couple_id}", therapist)
                if answer is None or couple_id != revoking:
                    continue
                with ledger.lock:
                    if ledger.revoked_at is not None and sent > ledger.revoked_at:
                        ledger.after_revoke.append(answer.status_code)


def revoker_work(url: str, ledger: Ledger, me: Person, after_checkins: int) -> None:
    """Revoke the therapist's access once ``after_checkins`` check-ins are in: half-way,
    with everyone still busy."""
    deadline = time.monotonic() + 60
    while len(ledger.checkins) < after_checkins and time.monotonic() < deadline:
        time.sleep(0.02)
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        answer = send(client, ledger, "POST", "/api/v1/therapist/revoke", me)
        assert answer is not None and answer.status_code == 204
        with ledger.lock:
            ledger.revoked_at = time.monotonic()


# --- asking every worker ----------------------------------------------------------------


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the loopback connection from ``client_port``."""
    wanted_local, wanted_remote = f":{server_port:04X}", f":{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(wanted_local) and fields[2].endswith(wanted_remote):
            return fields[9]
    return None


def _owner(pids: set[int], inode: str) -> int | None:
    for pid in pids:
        with suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with suppress(OSError):
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
    return None


def _ask_once(
    server: Workers, therapist: Person, path: str, pids: set[int]
) -> tuple[int | None, int]:
    """Ask ``path`` on a fresh connection: the worker that accepted it, and its status."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        connection.request("GET", path, headers=therapist.headers)
        answer = connection.getresponse()
        answer.read()
        # Which worker accepted this connection: the one holding its server end.
        inode = _server_socket_inode(server.port, connection.sock.getsockname()[1])
        return (_owner(pids, inode) if inode else None), answer.status
    finally:
        connection.close()


def answers_by_worker(server: Workers, therapist: Person, path: str) -> dict[int, set[int]]:
    """Ask ``path`` on fresh connections until every worker has answered at least once;
    the statuses each worker gave, by its process id."""
    answers: dict[int, set[int]] = {}
    pids: set[int] = set()
    # A worker that is still importing the app accepts nothing yet: keep asking for a
    # while, not a fixed number of times. The workers are read again each round, since
    # uvicorn replaces a worker that missed its health check (a loaded machine can make
    # one miss it). A few connections go at once: one after another, an idle worker can
    # win every accept.
    deadline = time.monotonic() + 90
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        while time.monotonic() < deadline:
            pids = server.worker_pids()
            answers = {pid: statuses for pid, statuses in answers.items() if pid in pids}
            if pids and set(answers) == pids:
                return answers
            asked = [pool.submit(_ask_once, server, therapist, path, pids) for _ in range(BURST)]
            for pid, status in (future.result() for future in asked):
                if pid is not None:
                    answers.setdefault(pid, set()).add(status)
            time.sleep(0.05)
    pytest.fail(f"could not reach every worker ({len(answers)} of {len(pids)}); see {server.log}")


# --- the test -----------------------------------------------------------------------------


@pytest.mark.postgres
def test_partners_and_therapist_acting_at_once_on_several_workers(workers, fresh_postgres):
    rng = random.Random(SEED)
    with httpx.Client(base_url=workers.url, timeout=REQUEST_TIMEOUT_S) as client:
        therapist = register(client, "thea", screen=False)
        couples = [make_couple(client, index, therapist) for index in range(COUPLES)]
    revoked = couples[0]
    view = f"/api/v1/caseload/{revoked.id}"
    before = answers_by_worker(workers, therapist, view)
    assert all(statuses == {200} for statuses in before.values()), before

    ledger = Ledger()
    stop = threading.Event()
    # Two therapist clients: one reads every couple, one only the couple that revokes.
    readers = [
        threading.Thread(
            target=therapist_work,
            args=(workers.url, ledger, therapist, couple_ids, revoked.id, stop),
        )
        for couple_ids in ([c.id for c in couples], [revoked.id])
    ]
    threads: list[threading.Thread] = []
    for couple in couples:
        inboxes = Inboxes()
        for me, partner in ((couple.first, couple.second), (couple.second, couple.first)):
            threads.append(
                threading.Thread(
                    target=partner_work,
                    args=(workers.url, ledger, me, partner, inboxes, random.Random(rng.random())),
                )
            )
    threads.append(
        threading.Thread(target=pauser_work, args=(workers.url, ledger, couples[1].first))
    )
    threads.append(
        threading.Thread(
            target=revoker_work,
            args=(workers.url, ledger, revoked.second, COUPLES * 2 * ROUNDS // 2),
        )
    )
    for thread in readers + threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # The partners may finish within one of the therapist's requests after the
    # revocation: the readers go on until one request was sent after it (or a minute).
    deadline = time.monotonic() + 60
    while not ledger.after_revoke and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    for thread in readers:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in readers + threads), "a client never finished"

    # Revocation: refused on the next request in every worker, and never seen after it.
    assert ledger.revoked_at is not None
    after = answers_by_worker(workers, therapist, view)
    assert all(statuses == {404} for statuses in after.values()), f"after revocation: {after}"
    assert ledger.after_revoke, "the therapist asked after the revocation"
    assert set(ledger.after_revoke) == {404}, ledger.after_revoke
    assert not ledger.surprises, ledger.surprises[:10]
    assert ledger.unanswered == 0

    engine = create_engine(normalise_url(fresh_postgres))
    try:
        with Session(engine) as db:
            _assert_writes_kept_once(db, ledger)
            _assert_decisions_replay(db)
        _assert_checkins_read_back(workers.url, couples, ledger)
        _assert_served_pace_replays(workers.url, couples, engine)
    finally:
        engine.dispose()
    print(
        f"concurrency: {WORKERS} workers, {len(ledger.checkins)} check-ins, "
        f"{len(ledger.ratings)} reflections, {len(ledger.after_revoke)} therapist requests "
        f"after revocation all refused (seed {SEED})"
    )


def _assert_writes_kept_once(db: Session, ledger: Ledger) -> None:
    stored_checkins = db.scalars(select(CheckInEntry.id)).all()
    assert sorted(stored_checkins) == sorted(ledger.checkins), "check-ins lost or duplicated"
    stored_experiences = db.scalars(select(Experience.id)).all()
    assert sorted(stored_experiences) == sorted(ledger.experiences)
    ratings = db.execute(
        select(ExperienceRatingEntry.experience_id, func.count()).group_by(
            ExperienceRatingEntry.experience_id, ExperienceRatingEntry.person_id
        )
    ).all()
    assert all(count == 1 for _, count in ratings), "one reflection per person and experience"
    assert len(ratings) == len(ledger.ratings)


def _assert_checkins_read_back(url: str, couples: list[Pair], ledger: Ledger) -> None:
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        for couple in couples:
            for me in (couple.first, couple.second):
                listed = client.get("/api/v1/checkins?limit=500", headers=me.headers).json()
                mine = {i: note for i, (who, note) in ledger.checkins.items() if who == me.name}
                assert {c["id"]: c["note"] for c in listed} == mine, me.name


def _outcome(decision: Decision) -> tuple[Any, ...]:
    return (
        decision.permitted_tier,
        decision.ladder_tier,
        decision.break_until,
        decision.paused,
    )


def _stored_signals(db: Session, couple_id: int) -> list[tuple[Any, Any]]:
    """The couple's signals in the order they were stored: (time, signal)."""
    rows = db.execute(
        select(PaceSignal.at, PaceSignal.data)
        .where(PaceSignal.couple_id == couple_id)
        .order_by(PaceSignal.id)
    )
    return [(at, signal_from_dict(json.loads(data))) for at, data in rows]


def _replay(
    couple: Couple, signals: list[tuple[Any, Any]], at: Any, version: str | None = None
) -> Decision:
    """What the engine decides at ``at`` from these signals, as the test in
    tests/pacing/test_api.py replays it (signals up to ``at``, in time order)."""
    known = sorted(
        ((when, index, signal) for index, (when, signal) in enumerate(signals) if when <= at),
        key=lambda item: (item[0], item[1]),
    )
    history = History(partners(couple), [signal for _, _, signal in known])
    return decide(history, load_policy(version), at)


def _assert_decisions_replay(db: Session) -> None:
    """Every stored decision is what replaying all the couple's signals up to its time
    gives (as in tests/pacing/test_api.py): no decision was taken without a signal dated before
    it, even when the two partners' requests overlapped on two workers."""
    for couple in db.scalars(select(Couple)):
        signals = _stored_signals(db, couple.id)
        stored = [
            Decision.from_dict(json.loads(data))
            for data in db.scalars(
                select(PaceDecision.data)
                .where(PaceDecision.couple_id == couple.id)
                .order_by(PaceDecision.id)
            )
        ]
        assert stored and signals, couple.id
        for number, decision in enumerate(stored):
            replayed = _replay(couple, signals, decision.decided_at, decision.policy_version)
            assert _outcome(replayed) == _outcome(decision), (
                f"couple {couple.id}: decision {number} at {decision.decided_at} is not what "
                "the signals give"
            )


def _assert_served_pace_replays(url: str, couples: list[Pair], engine: Any) -> None:
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        for couple in couples:
            served = client.get("/api/v1/pace", headers=couple.first.headers).json()
            with Session(engine) as db:
                row = db.get(Couple, couple.id)
                assert row is not None
                replayed = _replay(row, _stored_signals(db, couple.id), utcnow())
            assert served["permitted_tier"] == replayed.permitted_tier
            assert served["paused"] == replayed.paused
