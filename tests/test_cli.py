"""The ``reconnect`` command: help text, database upgrade, settings errors, docs in step."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reconnect.cli import main
from reconnect.settings import Settings, describe_settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *args, **env: runner.invoke(main, list(args), env=env or None)


def all_commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from all_commands(command, (*prefix, name))


def test_every_command_and_option_has_help(run):
    for path, command in all_commands(main):
        assert command.help, path
        result = run(*path, "--help")
        assert result.exit_code == 0, path
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, (path, param.name)


def test_top_level_help_lists_the_commands(run):
    result = run("--help")
    for name in ("serve", "db", "settings"):
        assert name in result.output


def test_serve_help_names_the_environment_variables(run):
    output = run("serve", "--help").output
    for env in ("RECONNECT_HOST", "RECONNECT_PORT", "RECONNECT_DATABASE_URL", "RECONNECT_DATA_DIR"):
        assert env in output


def test_db_upgrade_creates_and_migrates_a_fresh_database(run, tmp_path):
    result = run("db", "upgrade", "--data-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "latest" in result.output
    assert (tmp_path / "reconnect.db").exists()
    status = run("db", "status", "--data-dir", str(tmp_path))
    current, latest = (line.split()[-1] for line in status.output.splitlines())
    assert current == latest


def test_a_bad_setting_is_a_readable_error_not_a_traceback(run, tmp_path):
    result = run("db", "upgrade", "--data-dir", str(tmp_path), RECONNECT_PORT="eighty")
    assert result.exit_code == 2
    assert "RECONNECT_PORT" in result.output
    assert "Traceback" not in result.output


def test_a_placeholder_secret_is_refused(run, tmp_path):
    result = run("db", "upgrade", "--data-dir", str(tmp_path), RECONNECT_SECRET_KEY="changeme")
    assert result.exit_code == 2
    assert "RECONNECT_SECRET_KEY" in result.output


def test_an_unreachable_database_is_a_readable_error(run):
    result = run("db", "upgrade", "--database-url", "mysql://nobody@localhost/x")
    assert result.exit_code == 1
    assert "Unsupported" in result.output


def test_every_setting_is_documented():
    documented = DOCS.read_text()
    for env, _default, text in describe_settings():
        assert env in documented, env
        assert text, env
    assert len(describe_settings()) == len(Settings.model_fields)


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first = settings.ensure_secret_key()
    assert first == settings.ensure_secret_key()
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
