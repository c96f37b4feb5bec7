"""``reconnect backup`` and ``reconnect restore``: a backup taken while the app serves
holds exactly what was written before it, and a restore changes nothing unless the
backup is sound.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from reconnect.app import create_app
from reconnect.backup import pg_commands
from reconnect.cli import main
from reconnect.database import current_revision, head_revision, make_engine, sqlite_module, upgrade
from reconnect.settings import Settings
from tests.conftest import PASSWORD, People

OPERATIONS = Path(__file__).resolve().parents[1] / "docs" / "operations.md"
CHECKIN = {
    "activation": 3,
    "state": "settled",
    "safety": 7,
    "urgency": 2,
    "readiness": 5,
    "drivers": [],
    "body_signals": [],
}

Run = Callable[..., Result]


@pytest.fixture
def run() -> Run:
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(main, [str(a) for a in args], input=input)


def live_file(settings: Settings) -> Path:
    return settings.data_dir / "reconnect.db"


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file in the folder and a hash of its bytes: 'nothing changed' made checkable."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def sqlite_rows(path: Path, sql: str) -> list[Any]:
    with closing(sqlite_module().connect(f"file:{path}?mode=ro", uri=True)) as db:
        return list(db.execute(sql))


@contextmanager
def serving(settings: Settings) -> Iterator[People]:
    """The app started afresh on the same data folder, as after a restart."""
    app = create_app(settings)
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            yield People(client)
    finally:
        app.state.engine.dispose()


def notes_of(people: People, username: str) -> list[str]:
    token = people.login(username)
    listed = people.client.get("/api/v1/checkins", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200, listed.text
    return sorted(item["note"] for item in listed.json())


def can_sign_in(people: People, username: str) -> bool:
    answer = people.client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    return answer.status_code == 200


# --- backup ------------------------------------------------------------------------


def test_a_backup_taken_while_serving_restores_exactly_what_it_held(
    app: Any, people: People, settings: Settings, run: Run, tmp_path: Path
) -> None:
    hana, _ = people.couple("hana", "ivan")
    assert hana.post("/api/v1/checkins", {**CHECKIN, "note": "before the backup"}).is_success
    backup = tmp_path / "backups" / "monday.db"
    backup.parent.mkdir()

    made = run("backup", backup, "--data-dir", settings.data_dir)  # the client is still open

    assert made.exit_code == 0, made.output
    assert "integrity_check: ok" in made.output
    assert "checkin: 1 rows" in made.output
    assert "person: 2 rows" in made.output

    people.register("olga")
    assert hana.post("/api/v1/checkins", {**CHECKIN, "note": "after the backup"}).is_success
    app.state.engine.dispose()  # the app stops, as it must before a restore

    restored = run("restore", backup, "--yes", "--data-dir", settings.data_dir)

    assert restored.exit_code == 0, restored.output
    assert "reconnect.db.before-restore" in restored.output
    with serving(settings) as after:
        assert notes_of(after, "hana") == ["before the backup"]
        assert can_sign_in(after, "ivan")
        assert not can_sign_in(after, "olga")
        token = after.login("ivan")
        couple = after.client.get(
            "/api/v1/couples/current", headers={"Authorization": f"Bearer {token}"}
        )
        assert couple.status_code == 200, couple.text


def test_a_restore_ends_every_sign_in_and_keeps_withdrawn_therapist_consent_withdrawn(
    app: Any, people: People, settings: Settings, run: Run, tmp_path: Path
) -> None:
    hana, ivan = people.couple("hana", "ivan")
    thea = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    couple_id = hana.get("/api/v1/couples/current").json()["id"]
    assert [c["couple_id"] for c in thea.get("/api/v1/caseload").json()] == [couple_id]
    backup = tmp_path / "with-thea.db"
    assert run("backup", backup, "--data-dir", settings.data_dir).exit_code == 0
    # After the backup: Ivan withdraws, and Hana signs out of this device.
    assert ivan.post("/api/v1/therapist/revoke").status_code == 204
    assert hana.post("/api/v1/auth/logout").status_code == 204
    app.state.engine.dispose()

    restored = run("restore", backup, "--yes", "--data-dir", settings.data_dir)

    assert restored.exit_code == 0, restored.output
    said = " ".join(restored.output.split())
    assert "Every sign-in was ended" in said
    assert "withdrawn after the backup was made is kept withdrawn: 1 therapist link" in said
    with serving(settings) as after:
        for person in (hana, ivan, thea):  # the tokens of before the restore
            answer = after.client.get("/api/v1/me", headers=person.headers)
            assert answer.status_code == 401, person.username
        thea_again = {"Authorization": f"Bearer {after.login('thea')}"}
        assert after.client.get("/api/v1/caseload", headers=thea_again).json() == []
        seen = after.client.get(f"/api/v1/caseload/{couple_id}", headers=thea_again)
        assert seen.status_code == 404
        ivan_again = {"Authorization": f"Bearer {after.login('ivan')}"}
        status = after.client.get("/api/v1/therapist/status", headers=ivan_again)
        assert status.status_code in {200, 404}
        assert status.status_code == 404 or not status.json().get("active")


def test_a_consent_given_again_but_not_by_both_stays_partial_after_a_restore(
    app: Any, people: People, settings: Settings, run: Run, tmp_path: Path
) -> None:
    hana, ivan = people.couple("hana", "ivan")
    thea = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    backup = tmp_path / "both-consented.db"
    assert run("backup", backup, "--data-dir", settings.data_dir).exit_code == 0
    assert ivan.post("/api/v1/therapist/revoke").status_code == 204
    code = hana.post("/api/v1/therapist/invites").json()["code"]  # Hana alone invites again
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    app.state.engine.dispose()

    restored = run("restore", backup, "--yes", "--data-dir", settings.data_dir)

    assert restored.exit_code == 0, restored.output
    assert "0 therapist links and 1 consent the backup still held" in " ".join(
        restored.output.split()
    )
    with serving(settings) as after:
        thea_again = {"Authorization": f"Bearer {after.login('thea')}"}
        assert after.client.get("/api/v1/caseload", headers=thea_again).json() == []


def test_with_no_database_to_compare_the_restore_says_what_it_could_not_check(
    app: Any, people: People, settings: Settings, run: Run, tmp_path: Path
) -> None:
    people.register("hana")
    backup = tmp_path / "only-copy.db"
    assert run("backup", backup, "--data-dir", settings.data_dir).exit_code == 0
    app.state.engine.dispose()
    fresh = tmp_path / "new-machine"

    restored = run("restore", backup, "--yes", "--data-dir", fresh)

    assert restored.exit_code == 0, restored.output
    said = " ".join(restored.output.split())
    assert "Every sign-in was ended" in said
    assert "no current database to compare with" in said
    assert "ask each couple to check their therapist page" in said


def test_the_postgresql_restore_says_what_pg_restore_brings_back(run: Run) -> None:
    result = run("restore", "monday.dump", "--yes", "--database-url", "postgresql://r@h/db")

    said = " ".join(result.output.split())
    assert "sign-ins" in said and "therapist" in said


def test_the_database_a_restore_replaced_is_kept_whole(
    app: Any, people: People, settings: Settings, run: Run, tmp_path: Path
) -> None:
    hana = people.register("hana")
    backup = tmp_path / "early.db"
    assert run("backup", backup, "--data-dir", settings.data_dir).exit_code == 0
    assert hana.post("/api/v1/checkins", {**CHECKIN, "note": "written later"}).is_success
    app.state.engine.dispose()

    assert run("restore", backup, "--yes", "--data-dir", settings.data_dir).exit_code == 0

    kept = settings.data_dir / "reconnect.db.before-restore"
    assert sqlite_rows(kept, "PRAGMA integrity_check") == [("ok",)]
    assert sqlite_rows(kept, "SELECT count(*) FROM checkin") == [(1,)]
    assert not Path(f"{live_file(settings)}-wal").exists()  # no old WAL beside the new file
    with serving(load_from(settings, kept)) as before:
        assert notes_of(before, "hana") == ["written later"]


def load_from(settings: Settings, path: Path) -> Settings:
    return settings.model_copy(update={"database_url": f"sqlite:///{path}"})


def test_a_second_restore_keeps_the_first_kept_database_too(
    app: Any, settings: Settings, run: Run, tmp_path: Path
) -> None:
    backup = tmp_path / "b.db"
    assert run("backup", backup, "--data-dir", settings.data_dir).exit_code == 0
    app.state.engine.dispose()

    for _ in range(2):
        assert run("restore", backup, "--yes", "--data-dir", settings.data_dir).exit_code == 0

    names = {p.name for p in settings.data_dir.iterdir()}
    assert {"reconnect.db.before-restore", "reconnect.db.before-restore.1"} <= names


def test_the_backup_passes_sqlites_own_checks_and_is_private(
    people: People, settings: Settings, run: Run, tmp_path: Path
) -> None:
    people.couple("hana", "ivan")
    backup = tmp_path / "b.db"

    assert run("backup", backup, "--data-dir", settings.data_dir).exit_code == 0

    assert sqlite_rows(backup, "PRAGMA integrity_check") == [("ok",)]
    assert sqlite_rows(backup, "PRAGMA foreign_key_check") == []
    assert sqlite_rows(backup, "PRAGMA journal_mode") == [("delete",)]  # one file, no WAL
    assert os.stat(backup).st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_write_still_in_progress_is_not_in_the_backup_and_does_not_block_it(
    app: Any, settings: Settings, run: Run, tmp_path: Path
) -> None:
    with closing(sqlite_module().connect(live_file(settings), isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("CREATE TABLE half_written (x)")

        made = run("backup", tmp_path / "b.db", "--data-dir", settings.data_dir)

        writer.execute("ROLLBACK")
    assert made.exit_code == 0, made.output
    assert "half_written" not in made.output


def test_an_existing_file_is_replaced_only_with_force(
    app: Any, settings: Settings, run: Run, tmp_path: Path
) -> None:
    target = tmp_path / "b.db"
    target.write_text("an older backup")

    refused = run("backup", target, "--data-dir", settings.data_dir)

    assert refused.exit_code == 1
    assert "already exists; pass --force" in refused.output
    assert target.read_text() == "an older backup"

    forced = run("backup", target, "--force", "--data-dir", settings.data_dir)

    assert forced.exit_code == 0, forced.output
    assert sqlite_rows(target, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (lambda tmp: tmp / "no-such-folder" / "b.db", "does not exist"),
        (lambda tmp: tmp, "is a folder"),
        (lambda tmp: tmp / "data" / "reconnect.db", "would overwrite the live database"),
    ],
)
def test_a_bad_backup_path_is_a_calm_message(
    app: Any,
    settings: Settings,
    run: Run,
    tmp_path: Path,
    where: Callable[[Path], Path],
    message: str,
) -> None:
    result = run("backup", where(tmp_path), "--force", "--data-dir", settings.data_dir)

    assert result.exit_code in {1, 2}
    assert message in result.output or "is a directory" in result.output
    assert "Traceback" not in result.output
    assert sqlite_rows(live_file(settings), "PRAGMA integrity_check") == [("ok",)]


def test_backing_up_a_database_that_does_not_exist_creates_nothing(
    run: Run, tmp_path: Path
) -> None:
    result = run("backup", tmp_path / "b.db", "--data-dir", tmp_path / "empty")

    assert result.exit_code == 1
    assert "There is no database" in result.output
    assert list(tmp_path.iterdir()) == []


def test_postgresql_is_backed_up_with_pg_dump(run: Run) -> None:
    url = "postgresql://reconnect:s3cret@db.internal:5433/reconnect"

    result = run("backup", "/backups/monday.dump", "--database-url", url)

    assert result.exit_code == 1
    assert (
        "pg_dump --format=custom --file=/backups/monday.dump "
        "postgresql://reconnect@db.internal:5433/reconnect"
    ) in result.output
    assert "s3cret" not in result.output


def test_postgresql_is_restored_with_pg_restore(run: Run) -> None:
    result = run("restore", "monday.dump", "--yes", "--database-url", "postgresql://r@h/db")

    assert result.exit_code == 1
    assert (
        "pg_restore --clean --if-exists --no-owner --single-transaction "
        "--dbname=postgresql://r@h/db monday.dump"
    ) in result.output


# --- restore refuses and changes nothing --------------------------------------------


@pytest.fixture
def stopped(app: Any, people: People, settings: Settings) -> Iterator[Path]:
    """Hana's data in a live database whose app has stopped; yields its folder."""
    people.register("hana")
    app.state.engine.dispose()
    yield settings.data_dir


def test_a_corrupt_backup_is_refused(
    stopped: Path, settings: Settings, run: Run, tmp_path: Path
) -> None:
    backup = tmp_path / "b.db"
    assert run("backup", backup, "--data-dir", stopped).exit_code == 0
    damaged = bytearray(backup.read_bytes())
    page = 4096
    damaged[2 * page : 6 * page] = b"\xa5" * (4 * page)  # scribble over whole pages
    backup.write_bytes(bytes(damaged))
    before = fingerprint(stopped)

    result = run("restore", backup, "--yes", "--data-dir", stopped)

    assert result.exit_code == 1
    assert "damaged" in result.output or "not a readable SQLite database" in result.output
    assert "Nothing was changed" in result.output
    assert fingerprint(stopped) == before


def test_a_file_that_is_not_sqlite_is_refused(stopped: Path, run: Run, tmp_path: Path) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text("Dear Ivan, " * 500)
    before = fingerprint(stopped)

    result = run("restore", letter, "--yes", "--data-dir", stopped)

    assert result.exit_code == 1
    assert "not a readable SQLite database" in result.output
    assert fingerprint(stopped) == before
    assert "Traceback" not in result.output


def test_a_missing_backup_is_refused(stopped: Path, run: Run, tmp_path: Path) -> None:
    before = fingerprint(stopped)

    result = run("restore", tmp_path / "nowhere.db", "--yes", "--data-dir", stopped)

    assert result.exit_code == 1
    assert "There is no backup file" in result.output
    assert fingerprint(stopped) == before


def test_a_backup_from_a_newer_reconnect_is_refused(
    stopped: Path, run: Run, tmp_path: Path
) -> None:
    backup = tmp_path / "b.db"
    assert run("backup", backup, "--data-dir", stopped).exit_code == 0
    with closing(sqlite_module().connect(backup)) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
        db.commit()
    before = fingerprint(stopped)

    result = run("restore", backup, "--yes", "--data-dir", stopped)

    assert result.exit_code == 1
    assert "made by a newer Reconnect" in result.output
    assert fingerprint(stopped) == before


def test_an_sqlite_file_that_is_not_a_reconnect_backup_is_refused(
    stopped: Path, run: Run, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    with closing(sqlite_module().connect(other)) as db:
        db.execute("CREATE TABLE recipes (name)")
    before = fingerprint(stopped)

    result = run("restore", other, "--yes", "--data-dir", stopped)

    assert result.exit_code == 1
    assert "not a Reconnect backup" in result.output
    assert fingerprint(stopped) == before


def test_restore_asks_first_and_no_keeps_everything(
    stopped: Path, run: Run, tmp_path: Path
) -> None:
    backup = tmp_path / "b.db"
    assert run("backup", backup, "--data-dir", stopped).exit_code == 0
    before = fingerprint(stopped)

    result = run("restore", backup, "--data-dir", stopped, input="n\n")

    assert "Replace" in result.output
    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    assert fingerprint(stopped) == before


def test_restore_refuses_while_the_app_has_the_database_open(
    people: People, settings: Settings, run: Run, tmp_path: Path
) -> None:
    people.register("hana")  # leaves a connection open in the app's pool
    backup = tmp_path / "b.db"
    assert run("backup", backup, "--data-dir", settings.data_dir).exit_code == 0

    result = run("restore", backup, "--yes", "--data-dir", settings.data_dir)

    assert result.exit_code == 1
    assert "in use; stop Reconnect" in result.output
    assert not (settings.data_dir / "reconnect.db.before-restore").exists()
    assert can_sign_in(people, "hana")


def test_an_older_backup_is_brought_up_to_the_latest_schema(run: Run, tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir(mode=0o700)  # a data folder is private, or the app will not open it
    engine = make_engine(f"sqlite:///{old / 'reconnect.db'}")
    upgrade(engine, "0001")
    first = current_revision(engine)
    engine.dispose()
    backup = tmp_path / "b.db"
    assert run("backup", backup, "--data-dir", old).exit_code == 0

    result = run("restore", backup, "--yes", "--data-dir", tmp_path / "new")

    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'reconnect.db'}")
    assert first != head_revision()
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_operations_guide_shows_the_commands_the_cli_prints() -> None:
    guide = OPERATIONS.read_text()
    dump, restore = pg_commands(
        "postgresql://reconnect@db.internal/reconnect", "/backups/reconnect.dump"
    )

    assert dump in guide
    assert restore in guide
    for words in ("reconnect backup", "reconnect restore", "--force", "--yes", "before-restore"):
        assert words in guide, words


def test_a_database_copied_with_its_wal_restores_with_everything_in_the_wal(
    app: Any, people: People, settings: Settings, run: Run, tmp_path: Path
) -> None:
    hana = people.register("hana")
    assert hana.post("/api/v1/checkins", {**CHECKIN, "note": "only in the WAL"}).is_success
    live = live_file(settings)
    copy = tmp_path / "copied.db"
    with closing(sqlite_module().connect(live)) as db:
        # Hold a read transaction so the WAL stays while it is copied with its file.
        db.execute("BEGIN")
        db.execute("SELECT count(*) FROM checkin").fetchone()
        copy.write_bytes(live.read_bytes())
        Path(f"{copy}-wal").write_bytes(Path(f"{live}-wal").read_bytes())
    app.state.engine.dispose()
    elsewhere = tmp_path / "elsewhere"

    restored = run("restore", copy, "--yes", "--data-dir", elsewhere)

    assert restored.exit_code == 0, restored.output
    assert "checkin: 1 rows" in restored.output
    assert Path(f"{copy}-wal").stat().st_size > 0  # the source was only read
