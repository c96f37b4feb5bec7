"""The ``reconnect`` command. Every option's help comes from the settings' help text."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session

from reconnect import __version__, access
from reconnect.accounts import auth
from reconnect.accounts import your_data as account
from reconnect.accounts.auth import kdf_params
from reconnect.accounts.signed_in import SignedIn
from reconnect.app import create_app, settle_memory
from reconnect.coach.corpus import CORPUS_DIR
from reconnect.coach.embedding import available as embedding_available
from reconnect.coach.light import MODEL_DIR
from reconnect.coach.static import TABLE, distill
from reconnect.coach.train import TrainingError, train, tune
from reconnect.database import (
    DatabaseError,
    NotPrivate,
    current_revision,
    head_revision,
    make_engine,
    refuse_shared,
    session_factory,
    upgrade,
)
from reconnect.demo import build_demo
from reconnect.domain.pacing.policy import UnknownPolicy, load_policy
from reconnect.errors import Problem
from reconnect.jobs import (
    Jobs,
    describe_queue,
    make_queue,
    serving_with_worker,
    with_job_key,
    worker_problem,
)
from reconnect.keys import SealBroken
from reconnect.lan import listen_host, on_lan
from reconnect.listen import (
    CannotListen,
    bind_failure_said,
    listen_problem,
    run_workers,
    server_options,
)
from reconnect.measures.cli import questionnaires
from reconnect.models import Couple, Person, utcnow
from reconnect.pacing import store as pacing
from reconnect.pacing.cli import simulate_command
from reconnect.settings import Settings, SettingsError, describe_settings, load_settings


def _help(field: str) -> str:
    info = Settings.model_fields[field]
    return f"{info.description} [env: RECONNECT_{field.upper()}]"


def database_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--data-dir", type=click.Path(file_okay=False), help=_help("data_dir"))(
        func
    )
    return click.option("--database-url", help=_help("database_url"))(func)


def settings_from(**flags: Any) -> Settings:
    try:
        return load_settings(**flags)
    except SettingsError as error:
        raise click.UsageError(str(error)) from None


def fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


class Main(click.Group):
    """The ``reconnect`` group: a data folder or database others can read stops any
    command that opens it, with one line saying what to run and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NotPrivate as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(2)


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconnect")
def main() -> None:
    """Reconnect: rebuild connection after a betrayal, at the pace of the more
    activated partner.

    Every option can also be set in the environment (shown as [env: ...]).
    """


@main.command()
@click.option("--host", help=_help("host"))
@click.option("--port", type=int, help=_help("port"))
@click.option("--workers", type=int, help=_help("workers"))
@click.option(
    "--lan",
    is_flag=True,
    help="Serve the phones on this computer's local network, over HTTPS with a certificate "
    "kept in the data folder; with --host, on that IP address only (docs/household.md).",
)
@database_options
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    lan: bool,
    data_dir: str | None,
    database_url: str | None,
) -> None:
    """Start the web app (creating and upgrading the database first).

    With --workers N, N processes share the port (uvicorn's own process manager,
    which restarts a worker that dies); the schema is upgraded once, before any
    worker starts. Several workers need PostgreSQL.
    """

    if lan:
        host = listen_host(host)  # every address, or the IP address given with --host
    settings = settings_from(
        host=host, port=port, workers=workers, data_dir=data_dir, database_url=database_url
    )
    # The web processes seal each refresh under the job key, and the worker opens it.
    settings = with_job_key(settings)
    if settings.workers > 1 and settings.is_sqlite:
        click.echo(
            f"Error: {settings.workers} workers need PostgreSQL (SQLite takes one writing "
            "process); set RECONNECT_DATABASE_URL=postgresql://... or use --workers 1.",
            err=True,
        )
        sys.exit(2)
    phones = on_lan(settings) if lan else None
    server = server_options(settings) | (phones.certificate.ssl_options if phones else {})
    address = phones.address if phones else f"http://{settings.host}:{settings.port}"
    if settings.workers == 1:
        try:
            app = create_app(settings)
        except DatabaseError as error:
            fail(str(error))
        _refuse_a_taken_port(settings)
        click.echo(f"Reconnect {__version__} at {address}  (Ctrl+C stops)")
        if phones:
            click.echo(phones.announcement())
        _older_policy_notice(app.state.engine)
        settle_memory()
        _serving(settings, uvicorn.run, app, **server)
        return
    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
    except DatabaseError as error:
        fail(str(error))
    # Made once here: workers starting together would race to create it.
    settings.ensure_secret_key()
    _refuse_a_taken_port(settings)
    # Each worker builds its settings from the environment; the flags go with them.
    os.environ.update(
        RECONNECT_HOST=settings.host,
        RECONNECT_PORT=str(settings.port),
        RECONNECT_DATA_DIR=str(settings.data_dir),
        RECONNECT_DATABASE_URL=settings.database_url,
        # The web processes' job key, in their environment only (the worker's comes
        # on its standard input).
        RECONNECT_JOB_KEY=settings.job_key,
    )
    click.echo(
        f"Reconnect {__version__} at {address} with {settings.workers} workers  (Ctrl+C stops)"
    )
    if phones:
        click.echo(phones.announcement())
    worker_app = "reconnect.cli:worker_app"
    _serving(settings, run_workers, worker_app, factory=True, workers=settings.workers, **server)


def _refuse_a_taken_port(settings: Settings) -> None:
    """Stop in one line naming --port when the server could not listen where asked;
    asked before any address is printed (a data folder others can read, or a database
    that cannot be reached, is said first)."""

    problem = listen_problem(settings.host, settings.port)
    if problem:
        fail(problem)


def _serving(settings: Settings, run: Callable[..., None], *args: Any, **kw: Any) -> None:
    """``run(*args, **kw)``, the server, with the job worker beside it when the queue is
    the data folder's; a port taken since ``_refuse_a_taken_port`` is the same line."""

    try:
        with bind_failure_said(settings.host, settings.port):
            serving_with_worker(settings, run, *args, **kw)
    except CannotListen as error:
        fail(str(error))


def worker_app() -> Any:
    """The app of one ``serve --workers N`` process; the parent has migrated already."""

    app = create_app(load_settings(), migrate=False)
    settle_memory()
    return app


@main.command()
@click.option("--host", help=_help("host"))
@click.option("--port", type=int, help=_help("port"))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Folder for the demo database [default: a 'demo' folder inside the data folder].",
)
@click.option("--database-url", help=_help("database_url"))
@click.option("--no-serve", is_flag=True, help="Only create the demo data; do not start the app.")
def demo(
    host: str | None,
    port: int | None,
    data_dir: str | None,
    database_url: str | None,
    no_serve: bool,
) -> None:
    """Create (or reset) a demo couple with ten weeks of history and serve it.

    The demo lives in its own database, away from real data. Open the printed
    address to look around as either partner.
    """

    base = settings_from()
    settings = with_job_key(
        settings_from(
            host=host,
            port=port,
            data_dir=data_dir or base.data_dir / "demo",
            database_url=database_url,
            demo=True,
        )
    )
    if not no_serve:
        _refuse_a_taken_port(settings)  # before a demo someone may be using is reset
    try:
        app = create_app(settings)
    except DatabaseError as error:
        fail(str(error))
    state = app.state.reconnect
    click.echo("Creating the demo couple and ten weeks of history...")
    build_demo(state.sessions, state.hasher, kdf_params(settings), utcnow())
    address = f"http://{settings.host}:{settings.port}/demo"
    if no_serve:
        click.echo(f"Done. Start it with: reconnect demo, then open {address}")
        return
    click.echo(f"Open {address} to continue as either partner  (Ctrl+C stops)")
    server = {"host": settings.host, "port": settings.port, "log_level": "warning"}
    settle_memory()
    _serving(settings, uvicorn.run, app, **server)


@main.command()
@click.option("--threads", type=int, help=_help("job_threads"))
@database_options
def worker(threads: int | None, data_dir: str | None, database_url: str | None) -> None:
    """Work the job queue (the detectors' refreshes) beside the web processes.

    Ctrl+C or SIGTERM stops it once the jobs in hand are done; a job cut short, or
    left by a crash, is done when a worker next starts (docs/deployment.md).
    """

    settings = settings_from(job_threads=threads, data_dir=data_dir, database_url=database_url)
    problem = worker_problem(settings)
    if problem:
        fail(problem)
    try:
        engine = make_engine(settings.database_url)
        if current_revision(engine) != head_revision():
            fail("The database is not up to date; run: reconnect db upgrade")
        jobs = Jobs(make_queue(settings), session_factory(engine), settings.job_key)
        waiting = jobs.sweep(stale_only=False)
    except DatabaseError as error:
        fail(str(error))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    click.echo(f"Reconnect {__version__} worker on {describe_queue(settings)}  (Ctrl+C stops)")
    if waiting:
        click.echo(f"{waiting} refreshes were waiting from before; they are queued first.")
    jobs.consumer(settings.job_threads, in_process=False).run()


def _older_policy_notice(engine: Any) -> None:
    """Say so when couples are still paced under an older policy (after an upgrade)."""

    with Session(engine) as db:
        older = pacing.couples_on_older_policy(db)
    if older:
        newest = pacing.policy().version
        click.echo(
            f"{older} couple(s) are paced under an older pacing policy; "
            f"`reconnect pace use-policy {newest} --all` moves them (docs/operations.md)."
        )


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@database_options
def db_upgrade(data_dir: str | None, database_url: str | None) -> None:
    """Create the database if needed and apply every pending migration."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
        click.echo(f"Database is at revision {current_revision(engine)} (latest).")
        _older_policy_notice(engine)
    except DatabaseError as error:
        fail(str(error))


@db.command("status")
@database_options
def db_status(data_dir: str | None, database_url: str | None) -> None:
    """Show the schema revision the database is at and the latest one."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    try:
        engine = make_engine(settings.database_url)
        click.echo(f"current: {current_revision(engine) or 'empty'}")
        click.echo(f"latest:  {head_revision()}")
    except DatabaseError as error:
        fail(str(error))


@main.command()
def settings() -> None:
    """List every setting, its environment variable, default and meaning."""

    for env, default, text in describe_settings():
        click.echo(f"{env}\n    {text}\n    default: {default or '(empty)'}")


# --- backup and restore (see docs/operations.md) ----------------------------------
# Imported here rather than at the top so this section stays self-contained.
# ClickException prints "Error: ..." and exits 1 just like fail(), and type
# checkers know that it does not return.

from reconnect.backup import (  # noqa: E402
    BackupError,
    Verified,
    Withdrawn,
    backup,
    pg_commands,
    restore,
    sqlite_path,
)


def _size(size: int) -> str:
    return f"{size / 1024:.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MiB"


def _show_contents(verified: Verified) -> None:
    click.echo("  integrity_check: ok; foreign_key_check: ok")
    for table, count in verified.rows.items():
        click.echo(f"  {table}: {count} rows")


def _sqlite_file_or_fail(settings: Settings, path: str, tool: str) -> Path:
    try:
        live = sqlite_path(settings.database_url)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if live is None:
        dump, restore_command = pg_commands(settings.database_url, path)
        command = dump if tool == "pg_dump" else restore_command
        after = (
            "\npg_restore brings back everything the dump held, the sign-ins and therapist "
            "consents of then included; it cannot know what was ended since. Afterwards end "
            "every sign-in (DELETE FROM auth_session;) and ask each couple to check their "
            "therapist page. See docs/operations.md."
            if tool == "pg_restore"
            else ""
        )
        raise click.ClickException(
            f"This database is PostgreSQL; use {tool}, which knows its own format:\n"
            f"  {command}\n"
            "Give the password through PGPASSWORD or ~/.pgpass. See docs/operations.md."
            f"{after}"
        )
    if live.parent.exists():
        refuse_shared(live.parent, live, *(Path(f"{live}{end}") for end in ("-wal", "-shm")))
    return live


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
@database_options
def backup_command(path: str, force: bool, data_dir: str | None, database_url: str | None) -> None:
    """Copy the SQLite database to PATH, safely while the app is serving, and verify it.

    The copy is one consistent snapshot, checked with PRAGMA integrity_check and
    foreign_key_check before it is given PATH. For PostgreSQL, use pg_dump.
    """
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    live = _sqlite_file_or_fail(settings, path, "pg_dump")
    try:
        verified = backup(live, Path(path), force=force)
    except (BackupError, DatabaseError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Backed up {live} to {verified.path} ({_size(verified.size)}, "
        f"schema {verified.revision or 'none'})."
    )
    _show_contents(verified)


@main.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@database_options
def restore_command(path: str, yes: bool, data_dir: str | None, database_url: str | None) -> None:
    """Replace the SQLite database with the backup at PATH; stop the app first.

    The backup is verified (integrity, foreign keys, a schema this version knows)
    before anything changes, then migrated to the latest schema. The database it
    replaces is kept beside it as <name>.before-restore.
    """
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    live = _sqlite_file_or_fail(settings, path, "pg_restore")
    source = Path(path)
    if not source.is_file():
        raise click.ClickException(f"There is no backup file at {source}. Nothing was changed.")
    if not yes and not click.confirm(
        f"Replace {live} with the backup {source}? The current database is kept as "
        f"{live.name}.before-restore. Everyone will sign in again",
        default=False,
    ):
        raise click.ClickException("Restore cancelled; nothing was changed.")
    try:
        restored = restore(source, live, database_url=settings.database_url)
    except (BackupError, DatabaseError) as error:
        raise click.ClickException(f"{error} Nothing was changed.") from None
    except OSError as error:
        raise click.ClickException(
            f"{error}. Check {live} and the files beside it named {live.name}.before-restore*."
        ) from None
    click.echo(
        f"Restored {live} from {source} (schema {restored.verified.revision}, "
        f"now {restored.revision})."
    )
    _show_contents(restored.verified)
    if restored.previous:
        click.echo(f"The database it replaced is kept as {restored.previous}.")
    _say_what_stays_ended(restored.withdrawn)


def _say_what_stays_ended(withdrawn: Withdrawn) -> None:
    def count(n: int, thing: str) -> str:
        return f"{n} {thing}{'' if n == 1 else 's'}"

    click.echo(
        f"Every sign-in was ended ({count(withdrawn.sign_ins, 'sign-in')} in the backup): "
        "everyone signs in again with their password."
    )
    if withdrawn.compared:
        click.echo(
            "Therapist access withdrawn after the backup was made is kept withdrawn: "
            f"{count(withdrawn.therapist_links, 'therapist link')} and "
            f"{count(withdrawn.consents, 'consent')} the backup still held were removed."
        )
    else:
        why = (
            "The database it replaced could not be read"
            if withdrawn.replaced_existed
            else "There was no current database to compare with"
        )
        click.echo(
            f"Warning: {why}, so therapist access withdrawn after the backup was made may "
            "be back: ask each couple to check their therapist page (either partner can "
            "withdraw again at once)."
        )
    click.echo(
        "The data is as it was at the backup: anything written, deleted or left since "
        "(an account, a couple space) is as it was then."
    )


# --- end of backup and restore -------------------------------------------------------


# --- a person's data, for operators (each needs that person's own secret) ------------


def _open_app(data_dir: str | None, database_url: str | None) -> Any:

    try:
        return create_app(settings_from(data_dir=data_dir, database_url=database_url))
    except DatabaseError as error:
        fail(str(error))


@main.command("export")
@click.option("--user", "username", required=True, help="The person whose data to export.")
@click.option(
    "--format",
    "kind",
    type=click.Choice(["json", "csv", "fhir"]),
    default="json",
    show_default=True,
    help="JSON document, a zip of CSV files, or the questionnaire results as FHIR.",
)
@click.option("--output", type=click.Path(dir_okay=False), required=True, help="File to write.")
@click.option(
    "--recovery-key", is_flag=True, help="Ask for the person's recovery key instead of password."
)
@database_options
def export_command(
    username: str,
    kind: str,
    output: str,
    recovery_key: bool,
    data_dir: str | None,
    database_url: str | None,
) -> None:
    """Export everything one person owns, decrypted, for that person.

    Their private entries open only with their password or recovery key, which is
    asked for without echoing; the partner's private data is never included.
    """

    app = _open_app(data_dir, database_url)
    secret = click.prompt(
        "Recovery key" if recovery_key else f"Password for {username}", hide_input=True
    )
    with app.state.reconnect.sessions() as db:
        person = db.scalar(
            select(Person).where(Person.username == auth.normalise_username(username))
        )
        key = None
        if person is not None:
            key = (
                auth.unlock_with_recovery_key(person, secret)
                if recovery_key
                else _unlock_or_none(person, secret)
            )
        if person is None or key is None:
            fail("That person and secret do not match; nothing was exported.")
        signed_in = SignedIn(person, key, "")
        if kind == "fhir":
            bundle = account.export_fhir(db, signed_in, utcnow())
        else:
            document = account.export(db, signed_in, utcnow())
    target = Path(output)
    if kind == "fhir":
        target.write_text(json.dumps(bundle, indent=2, ensure_ascii=False))
        results = len(bundle["entry"])
        click.echo(f"Wrote {target}: {results} questionnaire result(s) as FHIR.")
        return
    if kind == "csv":
        target.write_bytes(account.export_csv_zip(document))
    else:
        target.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    click.echo(
        f"Wrote {target}: {len(document['checkins'])} check-ins, "
        f"{len(document['reflections'])} reflections."
    )


def _unlock_or_none(person: Any, password: str) -> bytes | None:

    try:
        return auth.unlock_with_password(person, password)
    except SealBroken:
        return None


@main.command("reset-password")
@click.option("--user", "username", required=True, help="The person who lost their password.")
@database_options
def reset_password_command(username: str, data_dir: str | None, database_url: str | None) -> None:
    """Give someone a fresh start when both password and recovery key are lost.

    Their private history was locked with a key only those opened, so it cannot be
    read by anyone any more; it is removed, and they begin again with new keys.
    What goes: check-ins, reflections, triggers, questionnaire results, heart-rate
    imports, private insights and two-step sign-in; they leave their couple space,
    which their partner keeps and can invite them back to; a therapist's links end.
    """

    app = _open_app(data_dir, database_url)
    state = app.state.reconnect
    with state.sessions() as db:
        person = db.scalar(
            select(Person).where(Person.username == auth.normalise_username(username))
        )
        if person is None:
            fail(f"There is no account called {username!r}.")
        click.echo(
            f"{username}'s private history cannot be opened without their password or recovery "
            "key. It will be removed and they will start fresh: their check-ins, reflections, "
            "triggers, questionnaire results, heart-rate imports and private insights. "
            "They answer the safety questions again, two-step sign-in is turned off, and "
            "they leave their couple space; their "
            "partner keeps it, with everything shared and the pace, and can invite them again."
        )
        click.confirm("Continue?", abort=True)
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        try:
            fresh = account.start_fresh(
                db, person=person, new_password=password, hasher=state.hasher
            )
        except Problem as problem:
            fail(problem.message)
        db.commit()
    _say_what_the_reset_removed(username, fresh)
    click.echo("Done. Give them this new recovery key, once, to keep safe:")
    click.echo(f"  {fresh.account.recovery_key}")


def _say_what_the_reset_removed(username: str, fresh: Any) -> None:
    def count(n: int, thing: str) -> str:
        return f"{n} {thing}{'' if n == 1 else 's'}"

    click.echo("Removed: " + ", ".join(count(n, kind) for kind, n in fresh.removed.items()) + ".")
    if fresh.two_step_turned_off:
        click.echo(
            f"{username}'s two-step sign-in was turned off; they can turn it on again "
            "on their Account page."
        )
    if fresh.partner_username:
        click.echo(
            f"{username} left the couple space: {fresh.partner_username} keeps it, with "
            f"everything shared and the pace, and can invite {username} again from the "
            f"Couple page; once {username} joins, what the couple shared opens for them again."
        )
    elif fresh.left_couple:
        click.echo(f"{username} left the couple space they had made; no partner had joined it.")
    if fresh.therapist_links:
        click.echo(
            f"{count(fresh.therapist_links, 'therapist link')} ended; a couple can invite "
            f"{username} again."
        )
    if fresh.therapist_consents:
        click.echo(
            f"{username}'s consent to the couple's therapist was withdrawn; they can give "
            "it again on the Therapist page."
        )


@main.group()
def pace() -> None:
    """The couples' pacing policies."""


@pace.command("use-policy")
@click.argument("version")
@click.option("--user", "username", help="Move only this person's couple.")
@click.option("--all", "everyone", is_flag=True, help="Move every couple not yet on VERSION.")
@database_options
def pace_use_policy(
    version: str,
    username: str | None,
    everyone: bool,
    data_dir: str | None,
    database_url: str | None,
) -> None:
    """Pace couples under policy VERSION (for example v3) from now on.

    Each couple keeps the tier it has earned; decisions made before stay
    reproducible under the policy they name. New couples always start on the newest
    policy. Try a policy on a story first: reconnect simulate --policy.
    """

    if bool(username) == everyone:
        fail("Say which couples to move: --user NAME, or --all.")
    try:
        load_policy(version)
    except UnknownPolicy as error:
        fail(str(error))
    app = _open_app(data_dir, database_url)
    state = app.state.reconnect
    with state.sessions() as db:
        if username:
            person = db.scalar(select(Person).where(Person.username == username.casefold()))
            membership = access.membership_of(db, person) if person else None
            if membership is None:
                fail(f"{username} is not in a couple space.")
            couples = [membership.couple]
        else:
            couples = list(db.scalars(select(Couple).order_by(Couple.id)))
        moved = 0
        for couple in couples:
            if couple.policy_version == version:
                continue
            moved += 1
            if len(couple.members) < 2:
                couple.policy_version = version  # nothing decided yet: it simply starts there
            else:
                pacing.use_policy(db, couple, version, state.clock())
        db.commit()
    click.echo(f"{moved} couple(s) now paced under {version}; {len(couples) - moved} already were.")


@main.group()
def coach() -> None:
    """The message coach's models."""


@coach.command("train")
@click.option(
    "--embedding/--no-embedding",
    default=None,
    help="Train the embedding models too: MiniLM's (with the coach extra) and the static "
    "one (from its distilled table) [default: each where it can be trained].",
)
@click.option(
    "--corpus-dir",
    type=click.Path(file_okay=False, exists=True),
    help="Folder of <label>.txt files [default: the corpus inside the package].",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    help="Where to write the models [default: the package's model folder, which the app loads].",
)
def coach_train(embedding: bool | None, corpus_dir: str | None, out_dir: str | None) -> None:
    """Retrain the coach from its corpus and write the models it ships with.

    Every third message of each label is held out for testing; the figures printed
    are on those messages only. Needs scikit-learn: pip install 'reconnect[train]'.
    """

    try:
        train(
            Path(corpus_dir) if corpus_dir else CORPUS_DIR,
            Path(out_dir) if out_dir else MODEL_DIR,
            with_embedding=embedding,
            echo=click.echo,
        )
    except TrainingError as error:
        fail(str(error))


@coach.command("distill")
def coach_distill() -> None:
    """Distil MiniLM into the table of word-piece vectors the static model reads with
    numpy alone (a plain install needs no PyTorch; distilling does). Then run `reconnect
    coach train` for its head and figures."""
    if not embedding_available():
        fail("Distilling needs the coach extra: pip install 'reconnect[coach]'")
    table = distill(echo=click.echo)
    click.echo(f"Done: {len(table.row)} word pieces, {table.dimensions} dimensions, in {TABLE}.")


@coach.command("tune")
def coach_tune() -> None:
    """Fine-tune the first two layers of MiniLM on the corpus into the tuned model, which
    a plain install reads with numpy alone; needs the coach extra and scikit-learn, and
    takes about nine minutes on two cores. Then run `reconnect coach train` for its
    figures on the test split."""
    try:
        path = tune(echo=click.echo)
    except TrainingError as error:
        fail(str(error))
    click.echo(f"Done: {path}.")


main.add_command(questionnaires)
main.add_command(simulate_command)


if __name__ == "__main__":  # pragma: no cover
    main()
