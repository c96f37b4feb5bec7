"""The detectors run after the answer, on a real queue, and no refresh is ever lost.

Each write the detectors read leaves a row asking for a refresh, in the write's own
transaction, and queues one job once it commits (reconnect.jobs). These tests run the
real queues (huey on a SQLite file in the data folder, and on Redis) and real worker
processes, and kill them where it hurts most:

- a burst of writes is one job and one refresh, and the findings appear once it ran;
- a web process killed after its write is committed and before the job is queued;
- a worker killed in the middle of a job;
- PostgreSQL with two web processes and one ``reconnect worker``, over HTTP.

The rest of the suite runs each refresh in its write's transaction (``queue_url=immediate``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reconnect import jobs as jobs_module
from reconnect import keys
from reconnect.app import create_app
from reconnect.jobs import GAP_S, Jobs
from reconnect.models import Person, RefreshRequest
from reconnect.settings import Settings
from tests.conftest import (
    NO_CONCERNS,
    PASSWORD,
    REDIS_URL,
    ApiPerson,
    People,
    empty_all_tables,
    make_settings,
    scratch_redis_prefix,
)
from tests.payloads import CALM
from tests.ports import free_port

# Three check-ins with this much urgency and so little readiness make a finding that
# only their writer sees (detectors.md, "urgency mistaken for readiness").
URGENT = {**CALM, "urgency": 9, "readiness": 2, "note": "I need to know we are okay"}
PATTERN = "urgency_as_readiness"
# Generous: the machine is shared; these are deadlines for something to happen at all.
DEADLINE_S = 60.0


JOB_KEY = "a job key of the test's own, long enough to be real"


@pytest.fixture(params=["file", "redis"])
def queued_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings with a real queue that nothing works until the test says so: the data
    folder's file with a job key in each process's memory (``reconnect serve``), or
    Redis with a job key every process is given; ``file+key``, the file with one."""
    base = make_settings(tmp_path)
    if request.param.startswith("file"):
        key = JOB_KEY if request.param == "file+key" else ""
        yield base.model_copy(update={"queue_url": "", "job_key": key})
        return
    with scratch_redis_prefix() as prefix:
        yield base.model_copy(
            update={"queue_url": REDIS_URL, "redis_prefix": prefix, "job_key": JOB_KEY}
        )


@pytest.fixture
def queued_app(queued_settings: Settings) -> Iterator[Any]:
    application = create_app(queued_settings)
    yield application
    application.state.jobs.queue.flush()
    application.state.engine.dispose()


def waiting_rows(app: Any) -> int:
    with app.state.reconnect.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(RefreshRequest)) or 0)


def work_through(jobs: Jobs) -> int:
    """What a worker does, here in the test's own thread: every queued job, in turn."""
    done = 0
    while (task := jobs.queue.dequeue()) is not None:
        done += jobs.queue.ready_to_run(task)
        jobs.queue.execute(task)  # or, if it is for later, back on the schedule
    return done


def hana_id(app: Any) -> int:
    with app.state.reconnect.sessions() as db:
        found = db.scalar(select(Person.id).where(Person.username == "hana"))
    assert found is not None
    return int(found)


def patterns(person: ApiPerson) -> set[str]:
    answer = person.get("/api/v1/insights")
    assert answer.status_code == 200, answer.text
    return {finding["pattern"] for finding in answer.json()}


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {DEADLINE_S:.0f} s")
        time.sleep(0.05)


@pytest.fixture
def couple(queued_app: Any) -> Iterator[tuple[ApiPerson, ApiPerson]]:
    with TestClient(queued_app, base_url="http://127.0.0.1") as client:
        yield People(client).couple("hana", "ivan")


@pytest.fixture
def refreshes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Whose findings the detectors worked out, in order (the real refresh still runs)."""
    done: list[int] = []
    real_refresh = jobs_module.insights.refresh

    def counted(db: Any, **kw: Any) -> Any:
        done.append(kw["person"].id)
        return real_refresh(db, **kw)

    monkeypatch.setattr(jobs_module.insights, "refresh", counted)
    return done


def test_a_burst_of_writes_is_one_job_and_one_refresh_after_the_answer(
    queued_app: Any, couple: tuple[ApiPerson, ApiPerson], refreshes: list[int]
) -> None:
    hana, ivan = couple
    jobs: Jobs = queued_app.state.jobs
    work_through(jobs)  # whatever pairing up asked for

    for _ in range(5):
        answer = hana.post("/api/v1/checkins", URGENT)
        assert answer.status_code == 201, answer.text

    # The answers came before any detector ran: nothing found yet, one row, one job.
    assert refreshes == []
    assert patterns(hana) == set()
    assert waiting_rows(queued_app) == 1
    assert jobs.queued() == {hana_id(queued_app)}

    assert work_through(jobs) == 1
    assert len(refreshes) == 1
    assert PATTERN in patterns(hana)
    assert PATTERN not in patterns(ivan)
    assert waiting_rows(queued_app) == 0


def test_someone_writing_all_the_time_is_refreshed_once_per_gap_and_nothing_is_left_out(
    queued_app: Any, couple: tuple[ApiPerson, ApiPerson], refreshes: list[int]
) -> None:
    hana, _ = couple
    jobs: Jobs = queued_app.state.jobs
    work_through(jobs)
    for _ in range(2):
        assert hana.post("/api/v1/checkins", URGENT).status_code == 201
    work_through(jobs)
    assert len(refreshes) == 1 and waiting_rows(queued_app) == 0

    # The third write, a moment later: its job waits for the gap, it does not run now.
    assert hana.post("/api/v1/checkins", URGENT).status_code == 201
    assert work_through(jobs) == 1
    assert len(refreshes) == 1
    assert waiting_rows(queued_app) == 1
    assert PATTERN not in patterns(hana)

    # Once the gap has passed, the waiting job runs and reads all three.
    jobs.gap_s = 0.0
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=GAP_S + 1)
    for task in jobs.queue.read_schedule(later):
        jobs.queue.execute(task, later)
    assert len(refreshes) == 2
    assert waiting_rows(queued_app) == 0
    assert PATTERN in patterns(hana)


def test_with_the_worker_running_findings_appear_without_anyone_waiting(
    queued_app: Any, couple: tuple[ApiPerson, ApiPerson]
) -> None:
    hana, _ = couple
    consumer = queued_app.state.jobs.start_in_process(1)
    try:
        for _ in range(3):
            assert hana.post("/api/v1/checkins", URGENT).status_code == 201
        eventually(lambda: PATTERN in patterns(hana), "the finding")
        eventually(lambda: waiting_rows(queued_app) == 0, "the waiting row gone")
    finally:
        consumer.stop(graceful=True)


def test_a_refresh_asked_for_by_a_write_that_is_rolled_back_is_never_queued(
    queued_app: Any, couple: tuple[ApiPerson, ApiPerson]
) -> None:
    _ = couple  # hana and ivan, paired
    jobs: Jobs = queued_app.state.jobs
    work_through(jobs)
    with queued_app.state.reconnect.sessions() as db:
        jobs.ask(
            db,
            person_id=hana_id(queued_app),
            data_key=b"k" * 32,
            now=jobs_module.utcnow(),
            shared=False,
        )
        db.rollback()
    assert len(jobs.queued()) == 0
    assert waiting_rows(queued_app) == 0


@pytest.mark.parametrize("queued_settings", ["file"], indirect=True)
def test_a_waiting_refresh_opens_with_nothing_on_the_disk(
    queued_app: Any, couple: tuple[ApiPerson, ApiPerson], queued_settings: Settings
) -> None:
    """Threat 2 of docs/privacy.md, while a refresh waits: the row holds Hana's data
    key, sealed under a job key that is in this process's memory and on no disk."""
    hana, _ = couple
    jobs: Jobs = queued_app.state.jobs
    work_through(jobs)
    assert hana.post("/api/v1/checkins", URGENT).status_code == 201
    with queued_app.state.reconnect.sessions() as db:
        row = db.get(RefreshRequest, hana_id(queued_app))
        assert row is not None
        sealed, context = row.sealed_key, f"refresh:person:{row.person_id}"
    secret = queued_app.state.reconnect.secret  # the data folder's secret_key file
    for guess in (secret, queued_settings.job_key, ""):
        with pytest.raises(keys.SealBroken):
            keys.unseal(keys.job_key(guess), sealed, context)
    on_disk = b"".join(
        path.read_bytes() for path in queued_settings.data_dir.rglob("*") if path.is_file()
    )
    assert jobs._key not in on_disk
    assert len(keys.unseal(jobs._key, sealed, context)) == keys.KEY_BYTES  # it does open


# --- processes killed where it hurts -------------------------------------------------


def child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONNECT_")}
    env.update(
        RECONNECT_DATA_DIR=str(settings.data_dir),
        RECONNECT_DATABASE_URL=settings.database_url,
        RECONNECT_QUEUE_URL=settings.queue_url,
        RECONNECT_JOB_KEY=settings.job_key,
        RECONNECT_REDIS_PREFIX=settings.redis_prefix,
        RECONNECT_PASSWORD_HASH_MEMORY_KIB="256",
        RECONNECT_LOGIN_ATTEMPTS_PER_ADDRESS="100000",
    )
    return env


def run_child(script: str, settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - this interpreter, running the test's own script
            [sys.executable, "-c", textwrap.dedent(script)],
            env=child_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def run_reconnect(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``reconnect <command>`` in a session of its own, its output added to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - this interpreter, running reconnect
            [sys.executable, "-m", "reconnect.cli", *command],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


# A web process that writes a check-in and dies the moment its transaction commits,
# before its job reaches the queue.
DIES_AFTER_COMMIT = """
    import os
    from fastapi.testclient import TestClient
    from reconnect.app import create_app
    from reconnect.jobs import Jobs

    Jobs._queue = lambda self, person_id: os._exit(9)
    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        token = client.post(
            "/api/v1/auth/login", json={"username": "hana", "password": %r}
        ).json()["token"]
        client.post(
            "/api/v1/checkins", json=%r, headers={"Authorization": f"Bearer {token}"}
        )
    os._exit(0)  # not reached: the commit ends this process
"""

# A worker whose detectors hang once they have begun, so the test can kill it there.
HANGS_IN_A_JOB = """
    import pathlib, time
    from reconnect import jobs
    from reconnect.cli import main

    def hang(db, **kw):
        pathlib.Path(%r).touch()
        time.sleep(3600)

    jobs.insights.refresh = hang
    main(["worker"])
"""


def test_a_web_process_killed_after_its_write_loses_no_refresh(
    queued_settings: Settings, queued_app: Any, couple: tuple[ApiPerson, ApiPerson], tmp_path: Path
) -> None:
    hana, _ = couple
    jobs: Jobs = queued_app.state.jobs
    work_through(jobs)
    for _ in range(2):
        assert hana.post("/api/v1/checkins", URGENT).status_code == 201
    work_through(jobs)
    assert PATTERN not in patterns(hana)  # two are not yet a pattern; the third is

    child = run_child(DIES_AFTER_COMMIT % (PASSWORD, URGENT), queued_settings, tmp_path / "web.log")
    assert child.wait(timeout=DEADLINE_S) == 9, (tmp_path / "web.log").read_text()

    # The check-in is kept and its refresh waits, but no job was queued.
    listed = hana.get("/api/v1/checkins").json()
    assert len(listed) == 3
    assert waiting_rows(queued_app) == 1
    assert len(jobs.queued()) == 0

    # The app starts again, and its worker with it.
    restarted = create_app(queued_settings)
    consumer = restarted.state.jobs.start_in_process(1)
    try:
        with TestClient(restarted, base_url="http://127.0.0.1") as client:
            again = ApiPerson(client, "hana", hana.token)
            if queued_settings.job_key:
                # Every process has the same job key: the worker does it on its own.
                eventually(lambda: waiting_rows(queued_app) == 0, "the refresh done")
                assert PATTERN in patterns(again)
            else:
                # The key of the process that died went with it; Hana's next visit,
                # which unlocks her own key, hands the refresh on.
                assert waiting_rows(queued_app) == 1
                eventually(lambda: PATTERN in patterns(again), "the finding after her visit")
                eventually(lambda: waiting_rows(queued_app) == 0, "the waiting row gone")
    finally:
        consumer.stop(graceful=True)
        restarted.state.engine.dispose()


# A worker of its own always shares a configured job key with the web processes.
@pytest.mark.parametrize("queued_settings", ["file+key", "redis"], indirect=True)
def test_a_worker_killed_in_the_middle_of_a_job_has_it_done_when_one_comes_back(
    queued_settings: Settings, queued_app: Any, couple: tuple[ApiPerson, ApiPerson], tmp_path: Path
) -> None:
    hana, _ = couple
    jobs: Jobs = queued_app.state.jobs
    work_through(jobs)
    for _ in range(3):
        assert hana.post("/api/v1/checkins", URGENT).status_code == 201
    assert len(jobs.queued()) == 1

    started = tmp_path / "job-started"
    log = tmp_path / "worker.log"
    hanging = run_child(HANGS_IN_A_JOB % str(started), queued_settings, log)
    try:
        eventually(started.exists, f"the job begun (worker log: {log})")
    finally:
        os.killpg(hanging.pid, signal.SIGKILL)
        hanging.wait(timeout=DEADLINE_S)
    assert len(jobs.queued()) == 0  # the worker had taken the job
    assert waiting_rows(queued_app) == 1  # and the request for it is still there
    assert PATTERN not in patterns(hana)

    worker = run_reconnect(["worker"], child_env(queued_settings), log)
    try:
        eventually(lambda: PATTERN in patterns(hana), f"the finding (worker log: {log})")
        eventually(lambda: waiting_rows(queued_app) == 0, "the waiting row gone")
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=DEADLINE_S) == 0, log.read_text()
    assert "refreshes were waiting from before" in log.read_text()


# --- PostgreSQL: two web processes and one worker, over HTTP ---------------------------


@pytest.mark.postgres
def test_two_web_processes_and_a_worker_on_postgresql_and_redis(
    postgres_url: str, tmp_path: Path
) -> None:
    with scratch_redis_prefix() as prefix:
        settings = make_settings(tmp_path, postgres_url).model_copy(
            update={"queue_url": REDIS_URL, "redis_prefix": prefix, "job_key": JOB_KEY}
        )
        scratch = create_app(settings)  # migrates, and empties what other tests left
        empty_all_tables(scratch.state.engine)
        port = free_port()
        env = child_env(settings) | {"RECONNECT_PORT": str(port), "RECONNECT_HOST": "127.0.0.1"}
        log = tmp_path / "processes.log"
        web = run_reconnect(["serve", "--workers", "2"], env, log)
        worker = run_reconnect(["worker"], env, log)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                eventually(lambda: _answers(http), f"the web processes answering ({log})")
                hana, ivan = _pair(http)
                for _ in range(3):
                    # Several connections, so both web processes take writes.
                    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as fresh:
                        answer = fresh.post("/api/v1/checkins", json=URGENT, headers=hana)
                        assert answer.status_code == 201, answer.text

                eventually(lambda: PATTERN in _found(http, hana), f"the finding ({log})")
                assert PATTERN not in _found(http, ivan)
                eventually(lambda: waiting_rows(scratch) == 0, "no refresh left waiting")
        finally:
            for process in (web, worker):
                process.send_signal(signal.SIGTERM)
            for process in (web, worker):
                try:
                    process.wait(timeout=DEADLINE_S)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            scratch.state.engine.dispose()


def _answers(http: httpx.Client) -> bool:
    try:
        http.get("/api/v1/me")
    except httpx.HTTPError:
        return False
    return True


def _register(http: httpx.Client, name: str) -> dict[str, str]:
    created = http.post("/api/v1/auth/register", json={"username": name, "password": PASSWORD})
    assert created.status_code == 201, created.text
    token = http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD}).json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    screened = http.post("/api/v1/safety-screen", json={"answers": NO_CONCERNS}, headers=headers)
    assert screened.status_code == 200, screened.text
    return headers


def _pair(http: httpx.Client) -> tuple[dict[str, str], dict[str, str]]:
    """Hana and Ivan, registered, screened and paired over HTTP: their headers."""
    hana, ivan = (_register(http, name) for name in ("hana", "ivan"))
    assert http.post("/api/v1/couples", json={"role": "hurt"}, headers=hana).status_code == 201
    code = http.post("/api/v1/couples/invites", headers=hana).json()["code"]
    joined = http.post(
        "/api/v1/couples/join", json={"code": code, "role": "involved"}, headers=ivan
    )
    assert joined.status_code == 200, joined.text
    return hana, ivan


def _found(http: httpx.Client, headers: dict[str, str]) -> set[str]:
    return {finding["pattern"] for finding in http.get("/api/v1/insights", headers=headers).json()}


# --- reconnect serve on its own: its worker beside it -------------------------------


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def _gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for its parent's wait has ended too)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


@contextlib.contextmanager
def _served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client, Path]]:
    """``reconnect serve`` in the default set-up (SQLite, its queue file, no job key
    configured), answering; killed at the end whatever the test did."""
    settings = make_settings(tmp_path).model_copy(update={"queue_url": "", "job_key": ""})
    port = free_port()
    env = child_env(settings) | {"RECONNECT_PORT": str(port), "RECONNECT_HOST": "127.0.0.1"}
    log = tmp_path / "serve.log"
    serve = run_reconnect(["serve"], env, log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            eventually(lambda: _answers(http), f"the server answering ({log})")
            yield serve, http, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(serve.pid, signal.SIGKILL)
        serve.wait(timeout=DEADLINE_S)


def _urgent_three_times(http: httpx.Client, headers: dict[str, str], log: Path) -> None:
    """Three urgent check-ins, and the finding they make, worked out by the worker."""
    for _ in range(3):
        answer = http.post("/api/v1/checkins", json=URGENT, headers=headers)
        assert answer.status_code == 201, answer.text
    eventually(lambda: PATTERN in _found(http, headers), f"the finding ({log})")


def _the_worker(serve: subprocess.Popen[bytes]) -> int:
    (worker,) = _children(serve.pid)
    assert b"work_beside" in Path(f"/proc/{worker}/cmdline").read_bytes()
    return worker


ON_LINUX = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="reads processes in /proc (Linux)"
)


@ON_LINUX
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_serve_works_its_queue_in_a_process_of_its_own_that_ends_with_it(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """The default set-up: ``reconnect serve`` works its queue in a second process (a
    refresh there never holds up a request), which opens what the server sealed and
    ends when the server ends, however it ends."""
    with _served(tmp_path) as (serve, http, log):
        hana, _ = _pair(http)
        _urgent_three_times(http, hana, log)
        worker = _the_worker(serve)
        serve.send_signal(stop)
        serve.wait(timeout=DEADLINE_S)
        eventually(lambda: _gone(worker), f"the worker ended with the server ({log})")
        assert "Traceback" not in log.read_text()


@ON_LINUX
def test_a_worker_that_ends_on_its_own_is_started_again(tmp_path: Path) -> None:
    """Killed alone (the out-of-memory killer's choice, say), the worker comes back,
    with the job key it had: what the server seals afterwards is still worked out."""
    with _served(tmp_path) as (serve, http, log):
        hana, ivan = _pair(http)
        _urgent_three_times(http, hana, log)
        first = _the_worker(serve)
        os.kill(first, signal.SIGKILL)
        eventually(lambda: _gone(first), "the worker killed")
        eventually(lambda: _children(serve.pid) not in ([], [first]), f"a new worker ({log})")
        assert _the_worker(serve) != first
        _urgent_three_times(http, ivan, log)
        assert "starting it again" in log.read_text()


def _worker_beside(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """The job worker as ``reconnect serve`` starts it, from a parent that ignores
    SIGINT (as a shell's background job does), told its settings on its pipe."""
    # An ignored signal stays ignored through exec, as it does from the shell.
    ignoring = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        f"os.execv(sys.executable, [sys.executable, '-c', {jobs_module._WORKER_BESIDE!r}])"
    )
    with log.open("ab") as out:
        worker = subprocess.Popen(  # noqa: S603 - this interpreter, the app's own module
            [sys.executable, "-c", ignoring],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    assert worker.stdin is not None
    worker.stdin.write(settings.model_dump_json().encode() + b"\n")
    worker.stdin.flush()
    return worker


@pytest.mark.parametrize("when", ["starting", "working"])
def test_the_worker_ends_when_its_server_goes_even_while_it_starts(
    tmp_path: Path, when: str
) -> None:
    """A server killed while its worker was still starting had left the worker running
    on its own (seventeen of twenty in the crash test): the pipe's end was said with a
    signal, which a process started with SIGINT ignored never got."""
    settings = make_settings(tmp_path).model_copy(update={"queue_url": "", "job_key": JOB_KEY})
    create_app(settings).state.engine.dispose()  # the schema, as the server made it
    log = tmp_path / "worker.log"
    worker = _worker_beside(settings, log)
    assert worker.stdin is not None
    try:
        if when == "working":
            eventually(lambda: jobs_module.queue_file(settings.data_dir).exists(), "its queue")
            time.sleep(1.0)
        worker.stdin.close()  # as when the server's process ends
        assert worker.wait(timeout=DEADLINE_S) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert "Traceback" not in log.read_text()
