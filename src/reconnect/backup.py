"""Backing up and restoring the SQLite database, verified every time.

A backup is made with ``VACUUM INTO`` rather than the page-by-page backup API:
both read one consistent snapshot while the app keeps writing, but ``VACUUM INTO``
writes only live rows, so pages freed by deleted entries never reach the copy.

A restore never touches the live database until the replacement has been copied
beside it, synced, checked and migrated; the previous database is kept next to it
as ``<name>.before-restore``, so a restore cannot lose anything either. What people
ended on purpose after the backup stays ended: every sign-in the backup held is
removed, and therapist links and consents withdrawn since (missing from the database
being replaced) are removed from the copy too.

PostgreSQL is backed up with its own tools; ``pg_commands`` says which.
"""

from __future__ import annotations

import os
import shlex
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from reconnect.database import (
    make_engine,
    normalise_url,
    private_folder,
    sqlite_module,
    upgrade,
)

# How long a restore waits for another process to let go of the live database
# before saying it is in use (the app's own busy timeout is 15 s; this is a check).
IN_USE_TIMEOUT_MS = 2000


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Verified:
    """What a verified SQLite copy holds."""

    path: Path
    size: int
    revision: str | None
    rows: dict[str, int]


@dataclass(frozen=True)
class Withdrawn:
    """What a restore took out of the backup, so that nothing ended comes back."""

    sign_ins: int
    # False when there was no readable database to compare with; the counts are 0.
    compared: bool
    replaced_existed: bool
    therapist_links: int = 0
    consents: int = 0


@dataclass(frozen=True)
class Restored:
    verified: Verified
    previous: Path | None
    revision: str | None
    withdrawn: Withdrawn


def sqlite_path(database_url: str) -> Path | None:
    """The file behind an SQLite URL, or None for PostgreSQL (backed up with its own tools)."""
    try:
        url = make_url(normalise_url(database_url))
    except ArgumentError:
        raise BackupError(f"{database_url!r} is not a database URL.") from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        return None
    if backend != "sqlite":
        raise BackupError(f"Unsupported database URL {url.drivername!r}: use sqlite or postgresql.")
    if not url.database or url.database == ":memory:":
        raise BackupError("This SQLite database lives only in memory; there is no file to copy.")
    return Path(url.database)


def pg_commands(database_url: str, path: str) -> tuple[str, str]:
    """The pg_dump and pg_restore commands for this PostgreSQL database, password left out."""
    given = make_url(normalise_url(database_url))
    # Built afresh: URL.set() cannot remove a password, and it must not be echoed.
    url = URL.create(
        "postgresql",
        username=given.username,
        host=given.host,
        port=given.port,
        database=given.database,
        query=given.query,
    )
    target = shlex.quote(url.render_as_string(hide_password=False))
    file = shlex.quote(path)
    dump = f"pg_dump --format=custom --file={file} {target}"
    # One transaction: a restore that fails half-way changes nothing.
    restore = (
        f"pg_restore --clean --if-exists --no-owner --single-transaction --dbname={target} {file}"
    )
    return dump, restore


# --- backup ----------------------------------------------------------------------


def backup(live: Path, target: Path, *, force: bool = False) -> Verified:
    """Copy the live database to ``target`` as one consistent snapshot, then verify it.

    The copy is written to a temporary file beside ``target`` and renamed into place
    only once it is synced and verified, so ``target`` is never half-written.
    """
    if not live.is_file():
        raise BackupError(f"There is no database at {live}, so there is nothing to back up.")
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give the name of the backup file to write.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    if _same_file(live, target):
        raise BackupError("The backup would overwrite the live database; choose another path.")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; pass --force to replace it.")

    with _scratch_file(target.parent, target.name) as scratch:
        try:
            with closing(_connect(live)) as source:
                source.execute("VACUUM INTO ?", (str(scratch),))
        except sqlite_module().Error as error:
            raise BackupError(f"Could not read {live}: {error}.") from None
        _fsync(scratch)
        verified = verify(scratch, name=f"The backup of {live}")
        os.replace(scratch, target)
    _fsync_dir(target.parent)
    return Verified(target, verified.size, verified.revision, verified.rows)


# --- verify ----------------------------------------------------------------------


def verify(path: Path, name: str | None = None) -> Verified:
    """Check an SQLite file page by page and row by row; raise BackupError if anything is off.

    Opening the file may write to it (a WAL left beside it is recovered), so callers
    pass a copy, never a file someone asked us only to read; ``name`` is what the
    messages call it.
    """
    name = name or path.name
    module = sqlite_module()
    try:
        with closing(_connect(path)) as db:
            problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                shown = "; ".join(str(p) for p in problems[:5])
                raise BackupError(f"{name} is damaged (integrity_check: {shown}).")
            orphans = db.execute("PRAGMA foreign_key_check").fetchall()
            if orphans:
                raise BackupError(
                    f"{name} has {len(orphans)} rows pointing at rows that do not "
                    f"exist (foreign_key_check), starting in table {orphans[0][0]}."
                )
            tables = [
                row[0]
                for row in db.execute(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            # Table names come from the file's own schema, quoted; never user input.
            rows = {
                table: db.execute(f'SELECT count(*) FROM "{_quoted(table)}"').fetchone()[0]  # noqa: S608 # nosec B608 - a quoted identifier read from the file itself
                for table in tables
            }
            revision = None
            if "alembic_version" in tables:
                found = db.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = found[0] if found else None
    except module.DatabaseError as error:
        if "malformed" in str(error):
            raise BackupError(f"{name} is damaged ({error}).") from None
        raise BackupError(f"{name} is not a readable SQLite database ({error}).") from None
    rows.pop("alembic_version", None)
    return Verified(path, path.stat().st_size, revision, rows)


# --- restore ---------------------------------------------------------------------


def restore(source: Path, live: Path, *, database_url: str) -> Restored:
    """Replace the live database with a verified copy of ``source``, keeping the old one.

    Nothing beside the live database changes until the copy is checked and
    migrated; then the old database becomes ``<name>.before-restore`` and the copy
    takes its name in one atomic rename. The app must not be running.
    """
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}.")
    if live.exists() and _same_file(source, live):
        raise BackupError("That file is the live database itself; choose a backup file.")
    private_folder(live.parent)

    with _scratch_file(live.parent, live.name) as scratch:
        # Check a copy: opening an SQLite file can write to it, and a backup is
        # someone's only other copy of their words.
        _copy(source, scratch)
        source_wal = Path(f"{source}-wal")
        if source_wal.is_file():
            # Committed writes may still sit in the WAL beside the file (a copy of a
            # live database, or a kept .before-restore); take them along.
            _copy(source_wal, Path(f"{scratch}-wal"))
        verified = verify(scratch, name=str(source))
        _check_revision(verified.revision)
        scratch_url = make_url(database_url).set(database=str(scratch))
        engine = make_engine(scratch_url.render_as_string(hide_password=False))
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        withdrawn = _keep_ended_things_ended(scratch, live)
        _single_file(scratch)
        _fsync(scratch)
        migrated = verify(scratch, name=f"{source} after migrating")

        previous = _set_aside(live) if live.exists() else None
        os.replace(scratch, live)
    _fsync_dir(live.parent)
    return Restored(verified, previous, migrated.revision, withdrawn)


_THERAPIST_TABLES = {"therapist_link", "therapist_consent", "therapist_invite"}
# A link of the backup that the database being replaced also has: the same therapist
# with the same couple (a link withdrawn and given again has a new id).
_LINK_STILL_THERE = """EXISTS (SELECT 1 FROM live.therapist_link AS now
    WHERE now.couple_id = therapist_link.couple_id
    AND now.therapist_id = therapist_link.therapist_id)"""
_CONSENT_STILL_THERE = """EXISTS (SELECT 1 FROM live.therapist_consent AS given
    JOIN live.therapist_link AS now ON now.id = given.link_id
    JOIN main.therapist_link AS backed_up ON backed_up.id = therapist_consent.link_id
    WHERE now.couple_id = backed_up.couple_id AND now.therapist_id = backed_up.therapist_id
    AND given.person_id = therapist_consent.person_id)"""


def _keep_ended_things_ended(copy: Path, live: Path) -> Withdrawn:
    """In the migrated ``copy``: end every sign-in, and remove the therapist links,
    consents and unused therapist invitations that ``live`` no longer has.

    A backup is an old state: the sign-ins it holds may have been ended since (a
    stolen phone signed out), and a partner may have withdrawn consent since. The
    database being replaced is the only record of that; without it (a new machine,
    or a damaged file) nothing can be compared, and ``compared`` says so.
    """
    module = sqlite_module()
    with closing(_connect(copy)) as db:
        db.execute("PRAGMA foreign_keys = ON")  # a link's consents and shares go with it
        sign_ins = db.execute("DELETE FROM auth_session").rowcount
        if not live.exists():
            return Withdrawn(sign_ins, compared=False, replaced_existed=False)
        try:
            # Only read; opening it may fold its WAL in, as setting it aside does anyway.
            db.execute("ATTACH DATABASE ? AS live", (str(live.resolve()),))
            tables = {row[0] for row in db.execute("SELECT name FROM live.sqlite_schema")}
        except module.DatabaseError:
            return Withdrawn(sign_ins, compared=False, replaced_existed=True)
        if not _THERAPIST_TABLES.issubset(tables):
            return Withdrawn(sign_ins, compared=False, replaced_existed=True)
        consents = db.execute(
            f"DELETE FROM therapist_consent WHERE NOT {_CONSENT_STILL_THERE} "  # noqa: S608 # nosec B608 - constant SQL
            f"AND link_id IN (SELECT id FROM therapist_link WHERE {_LINK_STILL_THERE})"
        ).rowcount
        links = db.execute(
            f"DELETE FROM therapist_link WHERE NOT {_LINK_STILL_THERE}"  # noqa: S608 # nosec B608 - constant SQL
        ).rowcount
        # An invitation code carries the couple key: one used or replaced since stays gone.
        db.execute(
            "DELETE FROM therapist_invite WHERE code_hash NOT IN "
            "(SELECT code_hash FROM live.therapist_invite)"
        )
        db.execute("DETACH DATABASE live")
    return Withdrawn(sign_ins, True, True, therapist_links=links, consents=consents)


def _check_revision(revision: str | None) -> None:
    if revision is None:
        raise BackupError(
            "This file has no Reconnect schema version, so it is not a Reconnect backup."
        )
    scripts = ScriptDirectory(str(resources.files("reconnect") / "migrations"))
    try:
        known = scripts.get_revision(revision)
    except CommandError:
        known = None
    # get_revision also matches a prefix; only the exact revision counts.
    if known is None or known.revision != revision:
        raise BackupError(
            f"This backup is at schema {revision}, which this version of Reconnect does "
            "not know: it was made by a newer Reconnect. Upgrade Reconnect, then restore."
        )


def _set_aside(live: Path) -> Path:
    """Fold the live database's WAL into it and keep it as ``<name>.before-restore``."""
    module = sqlite_module()
    try:
        with closing(_connect(live, timeout_ms=IN_USE_TIMEOUT_MS)) as db:
            # Leaving WAL mode needs the only connection, so this doubles as the
            # check that the app is stopped; it also folds the WAL into the file.
            db.execute("PRAGMA journal_mode=DELETE").fetchone()
    except module.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise BackupError(
                f"{live} is in use; stop Reconnect (reconnect serve) and restore again."
            ) from None
        # A damaged live database is still kept, with its WAL beside it (below).
    except module.DatabaseError:
        pass

    kept = _free_name(live.with_name(live.name + ".before-restore"))
    try:
        os.link(live, kept)  # the old database keeps its inode; no moment without one
    except OSError:
        _copy(live, kept)
    for suffix in ("-wal", "-journal"):
        leftover = Path(f"{live}{suffix}")
        if leftover.exists():
            # Never paired with the new file: that is how WAL corrupts a database.
            os.replace(leftover, Path(f"{kept}{suffix}"))
    with suppress(FileNotFoundError):
        Path(f"{live}-shm").unlink()  # an index only, rebuilt from the WAL
    _fsync_dir(live.parent)
    return kept


def _free_name(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2``... so an earlier kept database is never replaced."""
    candidate, number = path, 0
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.{number}")
    return candidate


def _single_file(path: Path) -> None:
    """Leave WAL mode so the file stands alone (the app turns WAL back on when it opens it)."""
    with closing(_connect(path)) as db:
        db.execute("PRAGMA journal_mode=DELETE").fetchone()


# --- files -----------------------------------------------------------------------


def _connect(path: Path, timeout_ms: int = 15000) -> Any:
    """Open an existing SQLite file; never create one by accident."""
    module = sqlite_module()
    uri = f"file:{_uri_path(path)}?mode=rw"
    db = module.connect(uri, uri=True, timeout=timeout_ms / 1000, isolation_level=None)
    db.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")
    return db


def _uri_path(path: Path) -> str:
    # '?' and '#' would end the path part of an SQLite URI.
    return str(path.resolve()).replace("%", "%25").replace("?", "%3F").replace("#", "%23")


@contextmanager
def _scratch_file(folder: Path, name: str) -> Iterator[Path]:
    """An empty, private (0600) file beside the final one, removed unless renamed away."""
    scratch = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        yield scratch
    finally:
        for leftover in (scratch, *(Path(f"{scratch}{s}") for s in ("-wal", "-shm", "-journal"))):
            with suppress(FileNotFoundError):
                leftover.unlink()


def _copy(source: Path, target: Path) -> None:
    """Copy byte for byte and sync; a new file is private (0600) like the database."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
        while chunk := reader.read(1024 * 1024):
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    # A rename is durable only once the folder itself is synced.
    _fsync(folder)


def _quoted(identifier: str) -> str:
    """An SQL identifier safe inside double quotes, whatever a file's table is called."""
    return identifier.replace('"', '""')
