"""What the database file gives away: who may read it, and what it shows to whoever does.

Threat 1 of docs/privacy.md. The file, its WAL and SHM, backups and the secret key
are for the account that runs Reconnect alone; and a stolen copy shows in clear only
what docs/privacy.md ("What a stolen database file shows") lists, which
``READABLE`` below mirrors column by column.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconnect.app import create_app
from reconnect.backup import backup
from reconnect.cli import main
from reconnect.database import NotPrivate
from tests.conftest import make_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- who may read the files -------------------------------------------------------


def test_the_data_folder_is_0700_and_its_files_0600(tmp_path, hana_and_ivan, app, settings):
    database = Path(app.state.engine.url.database)
    assert mode(settings.data_dir) == 0o700
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    files.append(settings.data_dir / "secret_key")
    assert all(path.exists() for path in files)
    assert {path.name: oct(mode(path)) for path in files} == {
        path.name: oct(0o600) for path in files
    }
    copy = tmp_path / "copy.db"
    backup(database, copy)
    assert mode(copy) == 0o600


def test_a_database_others_can_read_is_refused_at_start(tmp_path):
    settings = make_settings(tmp_path)
    create_app(settings).state.engine.dispose()
    database = settings.data_dir / "reconnect.db"
    database.chmod(0o644)
    with pytest.raises(NotPrivate) as refused:
        create_app(settings)
    assert f"chmod 600 {database}*" in str(refused.value)


@pytest.mark.parametrize(
    "args",
    [
        ["serve"],
        ["db", "upgrade"],
        ["db", "status"],
        ["backup", "{tmp}/copy.db"],
        ["export", "--user", "hana", "--output", "{tmp}/out.json"],
        ["reset-password", "--user", "hana"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
@pytest.mark.parametrize("shared", ["folder", "database", "wal"])
def test_every_command_refuses_a_shared_data_folder_in_one_line(tmp_path, args, shared):
    data = tmp_path / "data"
    result = CliRunner().invoke(main, ["db", "upgrade", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    database = data / "reconnect.db"
    target = {"folder": data, "database": database, "wal": Path(f"{database}-wal")}[shared]
    target.touch()
    target.chmod(0o755 if shared == "folder" else 0o644)

    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data)], input="x\n")

    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: Other users of this computer can read ")
    assert lines[0].endswith(f"Run: chmod 700 {data}; chmod 600 {database}*")
    assert "Traceback" not in result.output


def test_a_shared_secret_key_is_refused(tmp_path):
    settings = make_settings(tmp_path)
    settings.ensure_secret_key()
    (settings.data_dir / "secret_key").chmod(0o640)
    with pytest.raises(NotPrivate, match="secret_key"):
        settings.ensure_secret_key()
