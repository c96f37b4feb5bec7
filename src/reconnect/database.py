"""Connecting to the database and keeping its schema current.

SQLite is the default and runs through pysqlite3, which bundles a current SQLite:
the one Python 3.11 links here (3.40) has the WAL-reset corruption bug fixed only
in 3.51.3, and a tool that must never lose a word cannot run on it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import stat
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, TypeVarTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.pq import TransactionStatus
from sqlalchemy import CompoundSelect, Connection, Dialect, Engine, Select, create_engine, event
from sqlalchemy.engine import Compiled, ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

MIN_SQLITE = (3, 51, 3)

# Session.info: what runs when a request unlocks a person's data key, each called with
# the session and the SignedIn (reconnect.jobs uses it to pick up a refresh that a
# crash left waiting). Sessions made outside the app have none.
UNLOCKED = "reconnect.unlocked"


class WriteNeedsAThread(BaseException):
    """A write was asked for on the event loop by a connection without the write turn,
    or SQLite refused one there because another process is writing.

    On SQLite a write waits for its turn (``WriteTurns``), and for another process's
    write; on the event loop that would hold up every other request meanwhile, so the
    request runs again in a worker thread (``web.deps.run_read``). A BaseException,
    like GeneratorExit: a store's ``except Exception`` must not take it for a failure
    of its own and carry on.
    """


# Set while a request works on the event loop: a write statement from a connection
# without the write turn then raises WriteNeedsAThread before it asks for the turn.
_ON_THE_LOOP: ContextVar[bool] = ContextVar("reconnect_on_the_loop", default=False)


@contextmanager
def working_on_the_loop(on: bool = True) -> Iterator[None]:
    """Within the block, a SQLite write raises WriteNeedsAThread instead of waiting
    for its turn, unless its connection took the turn already (``take_turn_on_the_loop``).

    ``on=False``: writes wait for their turn wherever they run, for the tests' queue
    (``immediate``), whose jobs run in the request, on the loop, after its commit.
    """
    token = _ON_THE_LOOP.set(on)
    try:
        yield
    finally:
        _ON_THE_LOOP.reset(token)


class DatabaseError(Exception):
    """The database cannot be used; the message says why and what to do."""


class NotPrivate(Exception):
    """The data folder or a database file can be read by other users of the computer.

    Not a DatabaseError: every command lets it through to one handler that prints it
    on one line and exits with status 2 (cli.Main)."""


# Group and others may do nothing with the data folder or the files in it.
_SHARED_BITS = stat.S_IRWXG | stat.S_IRWXO


def private_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) readable by its owner only (0700)."""
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # mkdir's mode goes through the umask; chmod says it exactly.
        folder.chmod(0o700)


def refuse_shared(folder: Path, *files: Path) -> None:
    """Raise NotPrivate if ``folder`` or any existing file in ``files`` (the database,
    its -wal and -shm, the secret key) gives any access to group or others."""
    shared = [
        path for path in (folder, *files) if path.exists() and path.stat().st_mode & _SHARED_BITS
    ]
    if shared:
        names = ", ".join(f"{path} ({stat.filemode(path.stat().st_mode)})" for path in shared)
        fix = f"chmod 700 {shlex.quote(str(folder))}"
        if files:
            fix += f"; chmod 600 {shlex.quote(str(files[0]))}*"
        raise NotPrivate(
            f"Other users of this computer can read {names}; Reconnect will not run on it. "
            f"Run: {fix}"
        )


def private_sqlite_file(path: Path) -> None:
    """Make ``path`` ready for SQLite, private: a 0700 folder and, for a new database,
    an empty 0600 file (SQLite gives the -wal and -shm files the database's mode);
    then refuse the folder or the files if anyone else may read them."""
    private_folder(path.parent)
    if not path.exists():
        # Another process may create it first; it is checked below like any other.
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    refuse_shared(path.parent, path, *(Path(f"{path}{end}") for end in ("-wal", "-shm")))


def sqlite_module() -> Any:
    """The DB-API module for SQLite, refusing versions with the WAL-reset bug."""
    try:
        from pysqlite3 import dbapi2
    except ImportError as error:  # pragma: no cover - pysqlite3 is a dependency
        raise DatabaseError("pysqlite3 is not installed; run: pip install pysqlite3") from error
    check_sqlite_version(dbapi2.sqlite_version_info)
    return dbapi2


def check_sqlite_version(version: tuple[int, ...]) -> None:
    if tuple(version) < MIN_SQLITE:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_SQLITE))
        raise DatabaseError(
            f"SQLite {have} has the WAL-reset corruption bug; Reconnect needs SQLite "
            f"{need} or later. Install the bundled build with: pip install 'pysqlite3>=0.6.1'"
        )


def normalise_url(url: str) -> str:
    """Accept the usual postgresql:// spelling and route it to psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(
    url: str, *, pool_size: int = 5, max_overflow: int = 5, pool_timeout: int = 30
) -> Engine:
    """An engine for ``url``. The pool numbers apply to PostgreSQL: each web process
    holds up to ``pool_size + max_overflow`` connections (docs/deployment.md sizes them)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_sqlite_file(Path(parsed.database))
        # hide_parameters: even with statement logging on, values never reach the logs.
        module = sqlite_module()
        turns = _turns_for(parsed.database or ":memory:")
        engine = create_engine(
            url,
            module=module,
            connect_args={"timeout": SQLITE_WAIT_S, "factory": _taking_turns(module, turns)},
            # As many connections as requests under way: a request keeps its connection
            # from its sign-in to its end, and one waiting for a worker thread while
            # holding it must never leave another, in a worker thread, without one.
            # A SQLite connection is an open file; the worker threads bound the work.
            max_overflow=-1,
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "before_cursor_execute", _wait_for_turn)
        event.listen(engine, "handle_error", _refused_on_the_loop)
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(
            url,
            pool_pre_ping=True,
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
        )
        _transactions_from_the_first_write(engine)
        return engine
    raise DatabaseError(
        f"Unsupported database URL {parsed.drivername!r}: use sqlite or postgresql."
    )


# --- PostgreSQL: a transaction only from the first write --------------------------------
#
# PostgreSQL runs here at its default isolation, READ COMMITTED: inside a transaction
# each statement sees what was committed when it began, as a statement on its own
# does. So a read outside a transaction block sees what it would have seen inside one,
# and the block around a request that only reads bought nothing but two more trips to
# the server, its BEGIN and its ROLLBACK. The pace API (a sign-in and three reads) made
# six trips; one request at a time it took 3.3-4.2 ms, and 2.3-3.2 ms without them.
#
# So a connection taken from the pool starts in autocommit. Before the first statement
# that is not a plain SELECT (a write, a select that locks rows, a savepoint), it leaves
# autocommit and psycopg begins the transaction with that statement: from there on,
# commit or rollback included, all is as before. What a request writes is one
# transaction as it always was; only the reads before its first write are outside it,
# as on SQLite, where Python's module begins a transaction only before a write.

_PLAIN_READ = re.compile(r"\s*SELECT\b", re.IGNORECASE)
_LOCKS_ROWS = re.compile(r"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)


@lru_cache(maxsize=4096)
def needs_a_transaction(statement: str) -> bool:
    """Whether ``statement`` must run in a transaction: anything but a plain SELECT
    that locks no rows. (The statements are the app's own, compiled with their values
    kept apart, so no value can look like a clause here.)"""
    return _PLAIN_READ.match(statement) is None or _LOCKS_ROWS.search(statement) is not None


def _transactions_from_the_first_write(engine: Engine) -> None:
    """Connections of ``engine`` (PostgreSQL) read in autocommit until their first
    statement that needs a transaction. Not where the server is set to a stricter
    isolation than READ COMMITTED: there a transaction's reads share one snapshot."""

    def checked_out(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # The pool ended the connection's last transaction when it took it back.
        if dbapi_connection.info.transaction_status != TransactionStatus.IDLE:
            raise DisconnectionError("a pooled connection was not idle")  # the pool replaces it
        if engine.dialect.default_isolation_level == "READ COMMITTED":
            dbapi_connection.autocommit = True

    def before_statement(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        raw = connection.connection.dbapi_connection
        if (
            raw.autocommit
            and needs_a_transaction(statement)
            # Between autocommitted statements a connection is idle and may leave
            # autocommit; a broken one is left for the statement to report.
            and raw.info.transaction_status == TransactionStatus.IDLE
        ):
            raw.autocommit = False

    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "before_cursor_execute", before_statement)


# How long a write waits for the one before it, at most (SQLite's busy timeout too).
SQLITE_WAIT_S = 15

# The statements before which SQLite's Python module begins a transaction of its own
# (its default, "deferred" handling): each of them needs the file's one write lock.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_SQLITE_BUSY = 5  # SQLite's result code for "database is locked"


class WriteTurns:
    """One write transaction at a time among one process's connections to a SQLite file.

    SQLite lets one connection write at a time. Left to itself, a second writer retries
    on a timer, sleeping up to 100 ms between tries, and under a burst of writes a
    writer can lose the race many times: a check-in waited over a second behind its
    neighbours'. Here a writer waits on a lock instead, and the commit before it wakes
    it at once. Reads take no turn (in WAL mode they never wait for a writer). Another
    process on the same file (a command run beside the server) still meets SQLite's own
    wait, as before.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holder: int | None = None  # the thread whose connection writes now
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._queues_lock = threading.Lock()

    def take(self) -> bool:
        """Wait for this thread's turn; False if it did not come, or if this thread
        already holds it through another connection (waiting would never end): then
        SQLite's own wait decides, as it did before turns."""
        if self.holder == threading.get_ident():
            return False
        if not self.lock.acquire(timeout=SQLITE_WAIT_S):
            return False
        self.holder = threading.get_ident()
        return True

    async def take_on_the_loop(self) -> bool:
        """Wait for the turn without holding up the event loop; False if it did not
        come within SQLite's own wait.

        A write on the loop runs whole once it has the turn, so two never overlap there;
        the turn can be held only by a worker thread's write (a job, an import). The
        loop's writers wait in the order they came, and the first of them asks again
        after a tenth of a millisecond, then less and less often, up to every 5 ms.
        """
        loop = asyncio.get_running_loop()
        async with self._queue_on(loop):
            deadline = loop.time() + SQLITE_WAIT_S
            pause = 0.0001
            while not self.lock.acquire(blocking=False):
                if loop.time() > deadline:
                    return False
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.005)
        self.holder = threading.get_ident()
        return True

    def _queue_on(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        # One queue per event loop: a served process has one; tests start several.
        with self._queues_lock:
            queue = self._queues.get(loop)
            if queue is None:
                queue = self._queues[loop] = asyncio.Lock()
            return queue

    def give_back(self) -> None:
        self.holder = None
        self.lock.release()


_TURNS: dict[str, WriteTurns] = {}
_TURNS_LOCK = threading.Lock()


def _turns_for(database: str) -> WriteTurns:
    """The turns of one database file, shared by every engine of this process on it
    (each in-memory database is its own)."""
    if database == ":memory:":
        return WriteTurns()
    with _TURNS_LOCK:
        return _TURNS.setdefault(str(Path(database).resolve()), WriteTurns())


def _taking_turns(module: Any, turns: WriteTurns) -> type:
    """A SQLite connection class that gives its write turn back when its transaction
    ends: at commit, at rollback (the pool rolls back every connection it takes back),
    or when it closes."""

    class Connection(module.Connection):  # type: ignore[misc]
        turns_kept: WriteTurns = turns
        has_turn = False
        waits_for_others = True  # SQLite's own wait, for another process's write

        def take_turn(self) -> None:
            self.has_turn = self.turns_kept.take()

        async def take_turn_on_the_loop(self) -> bool:
            self.has_turn = await self.turns_kept.take_on_the_loop()
            if self.has_turn:
                # Another process's write (a command beside the server) would be
                # waited for on the loop: refused at once instead (_refused_on_the_loop).
                self.execute("PRAGMA busy_timeout=0")
                self.waits_for_others = False
            return self.has_turn

        def _ended(self, *, closed: bool = False) -> None:
            # A commit that failed leaves its transaction open: the turn stays with it.
            if self.has_turn and (closed or not self.in_transaction):
                self.has_turn = False
                self.turns_kept.give_back()
                if not closed and not self.waits_for_others:
                    self.execute(f"PRAGMA busy_timeout={SQLITE_WAIT_S * 1000}")
                    self.waits_for_others = True

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._ended()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._ended()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._ended(closed=True)

    return Connection


def _is_write(statement: str) -> bool:
    return statement[:16].lstrip()[:7].upper().startswith(_WRITES)


async def take_turn_on_the_loop(db: Session) -> bool:
    """Give ``db``'s connection the SQLite file's write turn, waited for on the event
    loop; it keeps it until its transaction ends. False if the turn did not come."""
    raw = db.connection().connection.dbapi_connection
    if raw is None or raw.has_turn:
        return raw is not None
    return bool(await raw.take_turn_on_the_loop())


def _refused_on_the_loop(context: ExceptionContext) -> None:
    """SQLite refused a statement on the loop because another process is writing (at
    once: see take_turn_on_the_loop): the request goes to a worker thread, to wait."""
    busy = getattr(context.original_exception, "sqlite_errorcode", None) == _SQLITE_BUSY
    if busy and _ON_THE_LOOP.get():
        raise WriteNeedsAThread from context.original_exception


def _wait_for_turn(connection: Any, _cursor: Any, statement: str, *_args: Any, **_kw: Any) -> None:
    raw = connection.connection.dbapi_connection
    if _ON_THE_LOOP.get() and not getattr(raw, "has_turn", False) and _is_write(statement):
        raise WriteNeedsAThread
    if (
        not getattr(raw, "has_turn", True)
        and not raw.in_transaction
        and raw.isolation_level is not None  # in autocommit each statement is its own
        and _is_write(statement)
    ):
        raw.take_turn()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets pages read while a write commits; FULL makes every commit survive
    # power loss; secure_delete overwrites what a person deletes.
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA secure_delete=ON",
        "PRAGMA busy_timeout=15000",
    ):
        cursor.execute(pragma)
    cursor.close()


def session_connection(db: Session) -> Connection:
    """The session's connection, for plain statements in its transaction (without the
    ORM's layer: :func:`plain_rows`, ``sealing.add_sealed``). What the session holds
    unsent goes first, as its own statements would send it (a flush with nothing to
    send costs nothing)."""
    if db.autoflush:
        db.flush()
    return db.connection()


def is_sqlite(db: Session) -> bool:
    return db.get_bind().dialect.name == "sqlite"


def keep(db: Session, *rows: object) -> None:
    """Hold ``rows`` for as long as the session lives (one request).

    The session's identity map holds rows weakly: a row nobody refers to is dropped
    and read again by the next ``db.get``. Rows that one request asks for many times
    (the membership, the couple, the safety screen) are kept, so later lookups find
    them without a query. Nothing changes in what is read: a deleted row leaves the
    identity map as before.
    """
    kept: list[object] = db.info.setdefault("kept", [])
    kept.extend(rows)


# Session.info: how many times the session has committed. A request on the event loop
# that must go to a worker thread runs again from its start only if it has committed
# nothing yet (web.deps.run_write).
COMMITS = "reconnect.commits"


def _count_commit(session: Session) -> None:
    session.info[COMMITS] = session.info.get(COMMITS, 0) + 1


def session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "after_commit", _count_commit)
    return factory


def _alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("reconnect") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run on every start.

    A database already at the newest revision, as at nearly every start, is left as it
    is after one question: Alembic's own upgrade reads and compiles every migration
    script first, even when there is nothing to run.
    """
    if revision == "head" and current_revision(engine) == head_revision():
        return
    command.upgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@cache
def head_revision() -> str | None:
    """The newest revision this version of Reconnect ships (read once per process: the
    migrations are part of the installed package)."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class _Prepared:
    sql: str
    names: tuple[str, ...] | None  # the parameters' order for a positional driver
    compiled: Compiled
    binds: dict[str, Callable[[Any], Any]]
    results: tuple[Callable[[Any], Any] | None, ...]


# By statement and driver; the statements are module constants, built once.
_PREPARED: dict[tuple[int, str, str], _Prepared] = {}


def _prepared(
    statement: Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]],
    dialect: Dialect,
) -> _Prepared:
    mark = (id(statement), dialect.name, dialect.driver)
    if (known := _PREPARED.get(mark)) is not None:
        return known
    compiled = statement.compile(dialect=dialect)
    if any(bind.expanding for bind in compiled.binds.values()):
        raise TypeError("a list parameter (IN) is expanded per call: read it through the ORM")
    binds: dict[str, Callable[[Any], Any]] = {}
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds[name] = process
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in statement.selected_columns
    )
    names = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    prepared = _Prepared(compiled.string, names, compiled, binds, results)
    _PREPARED[mark] = prepared
    # An id names one statement only while it lives.
    weakref.finalize(statement, _PREPARED.pop, mark, None)
    return prepared


def plain_rows(
    db: Session,
    statement: Select[*Ts] | CompoundSelect[*Ts],
    params: Mapping[str, Any],
) -> list[tuple[*Ts]]:
    """The rows of ``statement``, a select of plain columns, run on the driver's own
    cursor, in the session's transaction (:func:`session_connection`).

    SQLAlchemy compiles the statement once per driver and converts its parameters and
    columns with the types' own converters; what it does around each execution (its
    result objects, the compiled cache's lookup, the execution context) is left out.
    For a one-row read on an index that was more than half of the read's time: the
    pace's checkpoint took 172 µs through the connection and 65 µs here.

    Listeners of ``before_cursor_execute`` are called as for any statement (the write
    turn's check on SQLite, the tests' statement counts). For reads only: a write
    must go through the session, which takes its turn.
    """
    connection = session_connection(db)
    prepared = _prepared(statement, connection.dialect)
    values = prepared.compiled.construct_params(params) or {}
    for name, process in prepared.binds.items():
        values[name] = process(values[name])
    sent: Any = values if prepared.names is None else [values[n] for n in prepared.names]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, prepared.sql, sent, None, False)
        cursor.execute(prepared.sql, sent)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    results = prepared.results
    if not any(results):
        return rows  # type: ignore[no-any-return]  # the driver's tuples, as selected
    return [
        tuple(
            value if process is None else process(value)
            for process, value in zip(results, row, strict=True)
        )
        for row in rows
    ]


def plain_value(db: Session, statement: Select[T], params: Mapping[str, Any]) -> T | None:
    """The first column of ``statement``'s first row (None without one): :func:`plain_rows`."""
    rows = plain_rows(db, statement, params)
    return rows[0][0] if rows else None
