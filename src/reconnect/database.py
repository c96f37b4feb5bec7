"""Connecting to the database and keeping its schema current.

SQLite is the default and runs through pysqlite3, which bundles a current SQLite:
the one Python 3.11 links here (3.40) has the WAL-reset corruption bug fixed only
in 3.51.3, and a tool that must never lose a word cannot run on it.
"""

from __future__ import annotations

import os
import shlex
import stat
from contextlib import suppress
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIN_SQLITE = (3, 51, 3)

# Session.info: what runs when a request unlocks a person's data key, each called with
# the session and the SignedIn (reconnect.jobs uses it to pick up a refresh that a
# crash left waiting). Sessions made outside the app have none.
UNLOCKED = "reconnect.unlocked"


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
        engine = create_engine(
            url, module=sqlite_module(), connect_args={"timeout": 15}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            url,
            pool_pre_ping=True,
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
        )
    raise DatabaseError(
        f"Unsupported database URL {parsed.drivername!r}: use sqlite or postgresql."
    )


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


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("reconnect") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run on every start."""
    command.upgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
