"""Work that follows a write, done after the answer: the detectors look again.

A write the detectors read (a check-in, a reflection, a note, a status, a proposal or
its answer) leaves a :class:`~reconnect.models.RefreshRequest` row in its own
transaction (``after_write.look_again``). Once that transaction commits, a job naming
the person goes on the queue, and the worker works their findings out again, stores
them and deletes the row. So:

- the answer to the write never waits for the detectors;
- a burst of writes from one person is one refresh: only the write that made the row
  queues a job; and a person writing all the time is refreshed once every
  :data:`GAP_S` seconds at most, so they cost their couple a bounded amount of work
  and other couples none of their turn;
- nothing is lost to a crash: a web process killed between its commit and the queue,
  or a worker killed in the middle of a job, leaves the row behind; a worker queues
  every row it finds when it starts and, each minute, every row older than a minute;
- a job may run twice without harm: it reads everything again and replaces what was
  stored, and deletes the row only if no write came in meanwhile.

The queue is huey's (a small, well-kept library): a SQLite file in the data folder
when nothing is configured, worked by a process ``reconnect serve`` starts beside
itself (:func:`serving_with_worker`); or Redis, shared by
every web process and by ``reconnect worker``. A job names a person and nothing else.

The data key the detectors need waits in the row, sealed under the *job key*, which is
never on the disk the database is on: by default a random one that lives in the memory
of one ``reconnect serve`` (its web processes and its worker), or, for deployments
with workers of their own, ``RECONNECT_JOB_KEY`` from their environment. So a copy of
the database, its WAL or a backup, with the data folder's secret key, still opens no
one's entries (docs/privacy.md, threat 2). The price of the in-memory key: after a
crash, the new process cannot open the rows the old one left; each is done at its
owner's next signed-in request, which holds their key again (:meth:`Jobs.recover`).
"""

from __future__ import annotations

import json
import logging
import secrets
import signal
import subprocess  # nosec B404 - starts this interpreter only, as the job worker
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from huey import Huey, MemoryHuey, RedisHuey, crontab
from huey.consumer import Consumer
from huey.storage import SqliteStorage
from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from reconnect import keys
from reconnect.accounts.signed_in import SignedIn
from reconnect.database import (
    UNLOCKED,
    make_engine,
    private_sqlite_file,
    session_factory,
    sqlite_module,
    working_on_the_loop,
)
from reconnect.insights import store as insights
from reconnect.models import Person, RefreshRequest, utcnow
from reconnect.settings import Settings

log = logging.getLogger(__name__)

# Where a session made by the app's factory finds the jobs (Session.info).
JOBS = "reconnect.jobs"
# The people whose refresh this transaction opened: queued once it commits.
_OPENED = "reconnect.jobs.opened"
# The job's name on the queue: the same in every process.
REFRESH = "refresh"
# A row waiting this long has lost its job (a crash); the sweep queues it again.
STALE_AFTER = timedelta(minutes=1)
# After a person's refresh, their next one waits at least this long: a burst of writes
# costs their couple one refresh every few seconds, however long it goes on.
GAP_S = 2.0
# People whose last refresh time a worker keeps before it forgets the older ones.
_REMEMBERED = 10_000
# How long an idle worker waits between looks at the SQLite queue, at most: the time a
# finding can take to appear after a quiet spell. Redis wakes the worker at once.
POLL_AT_MOST_S = 0.5


def queue_file(data_dir: Path) -> Path:
    return data_dir / "queue.db"


class _BundledSqliteStorage(SqliteStorage):  # type: ignore[misc]
    """huey's SQLite queue, opened through the SQLite the app bundles (database.py says
    why the one Python links cannot be trusted)."""

    def _create_connection(self) -> Any:
        connection = sqlite_module().connect(self.filename, timeout=self._timeout)
        connection.isolation_level = None  # huey begins and commits itself
        connection.execute("PRAGMA journal_mode=WAL")
        # The queue is not where a write is kept (its row is): losing a queued job to
        # a power cut costs only time until the sweep, so no sync per job.
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection


class _BundledSqliteHuey(Huey):  # type: ignore[misc]
    storage_class = _BundledSqliteStorage


def make_queue(settings: Settings) -> Huey:
    """The queue ``settings`` name: Redis, the data folder's file, or immediate."""
    name = f"{settings.redis_prefix}.jobs"
    if settings.queue_url == "immediate":
        return MemoryHuey(name, immediate=True, results=False)
    if settings.queue_url:
        return RedisHuey(name, url=settings.queue_url, results=False)
    path = queue_file(settings.data_dir)
    private_sqlite_file(path)
    return _BundledSqliteHuey(name, filename=str(path), results=False)


def _sealed_context(person_id: int) -> str:
    return f"refresh:person:{person_id}"


class _InProcessConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer inside a process that does other work: that process owns the
    signals."""

    def _set_signal_handlers(self) -> None:
        pass


@cache
def _ask_statement(dialect_name: str) -> Any:
    """The upsert behind :meth:`Jobs.ask`, built once per dialect: building it (its
    ``excluded`` columns above all) cost more than running it. The values are bound
    when it runs."""
    table = RefreshRequest.__table__
    dialect = sqlite if dialect_name == "sqlite" else postgresql
    insert = dialect.insert(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.person_id],
        set_={
            "shared": or_(table.c.shared, insert.excluded.shared),
            "sealed_key": insert.excluded.sealed_key,
            "asked_at": insert.excluded.asked_at,
            "latest": insert.excluded.latest,
        },
    ).returning(table.c.opened)


class Jobs:
    """The queue, and what its jobs do, for one process (web or worker)."""

    def __init__(self, queue: Huey, sessions: sessionmaker[Session], job_key: str) -> None:
        self.queue = queue
        self.sessions = sessions
        self._key = keys.job_key(job_key)
        self.gap_s = 0.0 if queue.immediate else GAP_S
        self._last_done: dict[int, float] = {}
        self._lock = threading.Lock()
        # People whose waiting refresh was sealed under another job key (a process
        # gone): done when they next unlock their key here. Read once, at start.
        self._orphans = self._unopenable()
        self._refresh_task = queue.task(name=REFRESH, retries=3, retry_delay=2)(self._refresh_job)
        queue.periodic_task(crontab(), name="sweep")(self._sweep_job)
        # Sessions from the app's factory find the jobs, and queue after their commit.
        sessions.configure(info={JOBS: self, UNLOCKED: [self.recover]})
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_rollback", self._after_rollback)

    # --- the web side: asking ----------------------------------------------------

    def ask(
        self, db: Session, *, person_id: int, data_key: bytes, now: datetime, shared: bool
    ) -> None:
        """Ask, inside the caller's transaction, for the person's findings to be worked
        out again; the job is queued when that transaction commits."""
        stamp = secrets.randbits(62)
        values = {
            "person_id": person_id,
            "shared": shared,
            "sealed_key": keys.seal(self._key, data_key, _sealed_context(person_id)),
            "asked_at": now,
            "waiting_since": utcnow(),
            "opened": stamp,
            "latest": stamp,
        }
        upsert = _ask_statement(db.get_bind().dialect.name)
        if db.execute(upsert, values).scalar_one() == stamp:
            db.info.setdefault(_OPENED, set()).add(person_id)

    def recover(self, db: Session, signed_in: SignedIn) -> None:
        """A request has unlocked this person's key: if their refresh was left waiting
        under a job key no process holds any more, seal it again and queue it. Costs
        nothing (no statement) for everyone else."""
        person_id = signed_in.person.id
        if person_id not in self._orphans:
            return
        # Its own transaction: the request may be a read that never commits. A sign-in
        # read on the event loop stops at the write and runs again in a worker thread
        # (web.deps.run_read), so the person stays an orphan until the write is done.
        with self.sessions() as own:
            resealed = own.execute(
                update(RefreshRequest)
                .where(RefreshRequest.person_id == person_id)
                .values(
                    sealed_key=keys.seal(self._key, signed_in.data_key, _sealed_context(person_id)),
                    latest=secrets.randbits(62),
                )
                .returning(RefreshRequest.person_id)
            ).first()
            if resealed is not None:
                own.info.setdefault(_OPENED, set()).add(person_id)
            own.commit()
        self._orphans.discard(person_id)

    def _unopenable(self) -> set[int]:
        with self.sessions() as db:
            rows = db.execute(select(RefreshRequest.person_id, RefreshRequest.sealed_key)).all()
        return {person_id for person_id, sealed in rows if not self._opens(person_id, sealed)}

    def _opens(self, person_id: int, sealed: bytes) -> bool:
        try:
            keys.unseal(self._key, sealed, _sealed_context(person_id))
        except keys.SealBroken:
            return False
        return True

    def _after_commit(self, db: Session) -> None:
        for person_id in sorted(db.info.pop(_OPENED, ())):
            self._queue(person_id)

    def _after_rollback(self, db: Session) -> None:
        db.info.pop(_OPENED, None)

    def _queue(self, person_id: int, *, delay: float = 0.0) -> None:
        if self.queue.immediate:
            # The tests' queue: the job runs here and now, and whatever goes wrong in
            # it fails the request, so it fails the test. On the loop too: its writes
            # wait for their turn there, as a worker's would.
            with working_on_the_loop(on=False):
                self._refresh_job(person_id)
            return
        try:
            if delay > 0:
                self._refresh_task.schedule(args=(person_id,), delay=delay)
            else:
                self._refresh_task(person_id)
        except Exception:
            # The write is kept, and so is its row: the worker's sweep finds it.
            log.exception("Could not queue a refresh; the worker will find it within minutes")

    # --- the worker side: doing -------------------------------------------------

    def refresh(self, person_id: int) -> bool:
        """Work out the person's findings again from what is stored now. True when
        nothing is left waiting for them; False when a write came in meanwhile."""
        with self.sessions() as db:
            row = db.get(RefreshRequest, person_id)
            if row is None:
                return True
            latest = row.latest
            person = db.get(Person, person_id)
            try:
                data_key = keys.unseal(self._key, row.sealed_key, _sealed_context(person_id))
            except keys.SealBroken:
                # Sealed by a process with another job key: only the person's next
                # visit can hand it on (recover), and the row waits for it.
                return True
            if person is not None:
                insights.refresh(
                    db, person=person, data_key=data_key, now=row.asked_at, shared=row.shared
                )
            done = db.execute(
                delete(RefreshRequest)
                .where(RefreshRequest.person_id == person_id, RefreshRequest.latest == latest)
                .returning(RefreshRequest.person_id)
            ).first()
            db.commit()
        return done is not None

    def _refresh_job(self, person_id: int) -> None:
        wait = self._too_soon(person_id)
        if wait > 0:
            self._queue(person_id, delay=wait)
            return
        done = self.refresh(person_id)
        with self._lock:
            self._last_done[person_id] = time.monotonic()
        if not done:
            self._queue(person_id, delay=self.gap_s)

    def _too_soon(self, person_id: int) -> float:
        """Seconds until this person's next refresh may start: one writing all the time
        is refreshed once every :data:`GAP_S`, whatever else the queue holds."""
        now = time.monotonic()
        with self._lock:
            if len(self._last_done) > _REMEMBERED:
                self._last_done = {
                    who: at for who, at in self._last_done.items() if now - at < self.gap_s
                }
            last = self._last_done.get(person_id)
        return 0.0 if last is None else self.gap_s - (now - last)

    def queued(self) -> set[int]:
        """The people whose refresh is on the queue now, not yet taken by a worker."""
        return {int(task.args[0]) for task in self.queue.pending() if task.name == REFRESH}

    def sweep(self, *, stale_only: bool = True) -> int:
        """Queue the refreshes left waiting without a job: those older than
        :data:`STALE_AFTER`, or, when a worker starts, every one that is not on the
        queue already. How many were queued."""
        query = select(RefreshRequest.person_id)
        if stale_only:
            query = query.where(RefreshRequest.waiting_since < utcnow() - STALE_AFTER)
        with self.sessions() as db:
            people = set(db.scalars(query))
        people -= self._orphans  # nobody here can open those until their owner comes
        if not stale_only and people:
            people -= self.queued()
        for person_id in sorted(people):
            self._queue(person_id)
        return len(people)

    def _sweep_job(self) -> None:
        found = self.sweep()
        if found:
            log.warning("Queued %d refreshes again that a crash had left waiting", found)

    def consumer(self, threads: int, *, in_process: bool) -> Consumer:
        """huey's consumer for these jobs; ``in_process`` beside other work."""
        kind = _InProcessConsumer if in_process else Consumer
        consumer: Consumer = kind(
            self.queue,
            workers=threads,
            worker_type="thread",
            periodic=True,
            initial_delay=0.05,
            backoff=1.5,
            max_delay=POLL_AT_MOST_S,
        )
        return consumer

    def start_in_process(self, threads: int) -> Consumer:
        """Start a worker in threads of this process (the worker process beside
        ``reconnect serve``, and tests that run an app and its worker together); stop
        it with ``.stop(graceful=True)``. Refreshes a crash left waiting are queued
        first."""
        self.sweep(stale_only=False)
        consumer = self.consumer(threads, in_process=True)
        consumer.start()
        return consumer


def with_job_key(settings: Settings) -> Settings:
    """``settings`` with a job key: the configured one, or a new one for this start of
    ``reconnect serve``, in memory only (its web processes and its worker share it)."""
    if settings.job_key:
        return settings
    return settings.model_copy(update={"job_key": secrets.token_urlsafe(48)})


# How long a stopping ``reconnect serve`` waits for its worker to finish the jobs in
# hand before it stops it mid-job (that job is done again at the next start).
STOP_WAIT_S = 30.0
# A worker that ended on its own is started again after this long, doubled each time
# it ends again soon after (a worker that cannot start is not started in a tight loop).
RESTART_AFTER_S = 1.0
RESTART_AT_MOST_S = 60.0
# The worker's own process: started with this interpreter, told its settings (the job
# key among them) on its standard input, not in its arguments.
_WORKER_BESIDE = "from reconnect.jobs import work_beside; work_beside()"


def serving_with_worker(
    settings: Settings, run: Callable[..., None], *args: Any, **kw: Any
) -> None:
    """``run(*args, **kw)`` (the web server), with the job worker beside it, in a process
    of its own, when the queue is the data folder's file. A Redis queue is worked by
    ``reconnect worker``, on its own.

    A process of its own because a refresh is all Python (it opens weeks of entries and
    runs every detector): in a thread of the web process it held the interpreter's lock
    while requests waited for it, and a second process works on a core of its own.
    ``settings`` carry the job key (:func:`with_job_key`): the worker opens what the web
    process seals.
    """
    if settings.queue_url:
        run(*args, **kw)
        return
    worker = WorkerBeside(settings)
    try:
        run(*args, **kw)
    finally:
        worker.stop()


class WorkerBeside:
    """The job worker's process, kept running for as long as the server runs: if it
    ends on its own (killed, out of memory), it is started again, and the jobs it left
    are done by the next one (a job cut short stays on the queue, or its row is swept
    up within minutes)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._stopping = False
        self.process = self._start()
        threading.Thread(target=self._keep_running, name="job-worker", daemon=True).start()

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: S603 # nosec B603 - this interpreter, our own module
            [sys.executable, "-c", _WORKER_BESIDE],
            stdin=subprocess.PIPE,
            # Its own session: Ctrl+C in the terminal stops the server, and the server
            # stops its worker (by closing this pipe) once it has stopped answering.
            start_new_session=True,
        )
        if process.stdin is None:  # pragma: no cover - asked for just above
            raise RuntimeError("the job worker's pipe was not made")
        process.stdin.write(self._settings.model_dump_json().encode() + b"\n")
        process.stdin.flush()
        return process

    def _keep_running(self) -> None:
        pause = RESTART_AFTER_S
        while True:
            began = time.monotonic()
            status = self.process.wait()
            time.sleep(pause)
            with self._lock:
                if self._stopping:
                    return
                log.warning("The job worker ended (exit status %s); starting it again", status)
                self.process = self._start()
            ran_long = time.monotonic() - began > RESTART_AT_MOST_S
            pause = RESTART_AFTER_S if ran_long else min(pause * 2, RESTART_AT_MOST_S)

    def stop(self) -> None:
        """Close the worker's pipe, which stops it once its jobs in hand are done."""
        with self._lock:
            self._stopping = True
            process = self.process
        with suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            log.warning("The job worker did not stop within %.0f s; stopped mid-job", STOP_WAIT_S)
            process.kill()
            process.wait()


class _Stopped(Exception):
    """SIGTERM or SIGINT reached the worker itself: it stops as when the server goes."""


def _stopped(_signal: int, _frame: object) -> None:
    raise _Stopped


def work_beside() -> None:
    """The worker process of one ``reconnect serve``: its settings come as one line on
    standard input, which stays open for as long as the server runs. When it closes,
    because the server stopped or was killed, the worker finishes the jobs in hand and
    exits; so it does on SIGTERM or SIGINT of its own.

    Its main thread waits on that pipe itself rather than on a signal: a process started
    in the background by a shell begins with SIGINT ignored, and a server killed while
    its worker was starting would have left it running on its own."""
    line = sys.stdin.readline()
    if not line:
        return  # the server was gone before it said anything
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings(**json.loads(line))
    engine = make_engine(settings.database_url)
    jobs = Jobs(make_queue(settings), session_factory(engine), settings.job_key)
    consumer = jobs.start_in_process(settings.job_threads)
    try:
        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, _stopped)
        sys.stdin.buffer.read()  # until the server closes the pipe, or its process is gone
    except _Stopped:
        pass
    finally:
        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, signal.SIG_IGN)  # the graceful stop is under way
        consumer.stop(graceful=True)
        engine.dispose()


def worker_problem(settings: Settings) -> str | None:
    """Why ``reconnect worker`` cannot work with these settings, or None."""
    if settings.queue_url == "immediate":
        return "RECONNECT_QUEUE_URL=immediate runs each job in its request: no queue to work."
    if not settings.job_key:
        return (
            "A worker of its own needs the job key the web processes were given: set "
            "RECONNECT_JOB_KEY for both (docs/deployment.md). With the default queue, "
            "`reconnect serve` works the jobs itself."
        )
    return None


def describe_queue(settings: Settings) -> str:
    """Where the jobs wait, without any password a Redis URL holds."""
    if not settings.queue_url:
        return str(queue_file(settings.data_dir))
    parts = urlsplit(settings.queue_url)
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))
