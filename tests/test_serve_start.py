"""Starting the app: a taken port is one line before any address, and scripts/serve
installs once, saying what it is doing, then starts at once until pyproject.toml changes."""

from __future__ import annotations

import gc
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconnect import cli
from reconnect.app import freeze_start_up_memory
from reconnect.cli import main
from reconnect.listen import listen_problem
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
TAKEN = re.compile(
    r"Error: Port (\d+) is already in use on 127\.0\.0\.1 \(another Reconnect, or another "
    r"program\)\. Start on another port with --port (\d+)\."
)


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other program is listening on, as another Reconnect would be."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def start(*args: str) -> tuple[int, list[str]]:
    environment = {"RECONNECT_PASSWORD_HASH_MEMORY_KIB": "256", "RECONNECT_HOST": "127.0.0.1"}
    result = CliRunner().invoke(main, list(args), env=environment)
    return result.exit_code, result.output.splitlines()


def assert_says_port_taken(line: str, port: int) -> None:
    said = TAKEN.fullmatch(line)
    assert said, line
    assert int(said[1]) == port
    suggested = int(said[2])
    assert suggested != port and listen_problem("127.0.0.1", suggested) is None


# --- a taken port -----------------------------------------------------------------


def test_serve_on_a_taken_port_says_so_in_one_line_before_anything_else(tmp_path, taken_port):
    status, lines = start("serve", "--port", str(taken_port), "--data-dir", str(tmp_path / "d"))
    assert status == 1
    assert len(lines) == 1, lines
    assert_says_port_taken(lines[0], taken_port)


def test_demo_on_a_taken_port_says_so_before_building_or_printing_an_address(tmp_path, taken_port):
    status, lines = start("demo", "--port", str(taken_port), "--data-dir", str(tmp_path / "d"))
    assert status == 1
    assert len(lines) == 1, lines
    assert_says_port_taken(lines[0], taken_port)
    assert "Open http" not in "\n".join(lines)
    assert not (tmp_path / "d" / "reconnect.db").exists(), "a running demo is not reset"


def test_demo_no_serve_does_not_need_the_port(tmp_path, taken_port):
    status, lines = start(
        "demo", "--no-serve", "--port", str(taken_port), "--data-dir", str(tmp_path / "d")
    )
    assert status == 0, lines
    assert lines[-1].startswith("Done.")


def test_a_port_taken_after_the_check_gets_the_same_line(tmp_path, taken_port, monkeypatch):
    """Another program may take the port between the check and uvicorn's own bind."""
    monkeypatch.setattr(cli, "listen_problem", lambda host, port: None)
    args = ("serve", "--port", str(taken_port), "--data-dir", str(tmp_path / "d"))
    # uvicorn runs its own event loop: on a thread of its own, since the browser tests
    # keep Playwright's loop running in this worker's main thread (seen in CI).
    with ThreadPoolExecutor(max_workers=1) as pool:
        status, lines = pool.submit(start, *args).result()
    assert status == 1
    assert lines[0].startswith("Reconnect "), lines
    assert len(lines) == 2, lines
    assert_says_port_taken(lines[1], taken_port)


def test_a_free_port_is_free():
    assert listen_problem("127.0.0.1", free_port()) is None


def test_a_host_that_is_not_this_machine_is_one_line_naming_the_options():
    problem = listen_problem("192.0.2.1", free_port())  # TEST-NET-1, never local
    assert problem is not None and "\n" not in problem
    assert "--host" in problem and "--port" in problem


# --- scripts/serve: install once, then start at once --------------------------------

FAKE_BASE_PYTHON = """#!/bin/sh
# The machine's python: only asked to make .venv.
[ "$1 $2" = "-m venv" ] || exit 9
mkdir -p "$3/bin"
cp "$FAKES/venv-python" "$3/bin/python"
cp "$FAKES/reconnect" "$3/bin/reconnect"
"""
FAKE_VENV_PYTHON = """#!/bin/sh
# .venv's python: pip is recorded (and fails when told to); anything else is real python.
if [ "$1 $2" = "-m pip" ]; then
  echo "$*" >> "$FAKES/pip.log"
  echo "Collecting fastapi (pretend)"
  exit "${PIP_STATUS:-0}"
fi
exec "$REAL_PYTHON" "$@"
"""
FAKE_RECONNECT = """#!/bin/sh
echo "reconnect $*"
"""


class Project:
    """A copy of scripts/serve and pyproject.toml, with a pip that only takes notes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "scripts").mkdir(parents=True)
        shutil.copy(ROOT / "scripts" / "serve", root / "scripts" / "serve")
        shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
        self.fakes = root / "fakes"
        self.fakes.mkdir()
        for name, text in [
            ("python", FAKE_BASE_PYTHON),
            ("venv-python", FAKE_VENV_PYTHON),
            ("reconnect", FAKE_RECONNECT),
        ]:
            (self.fakes / name).write_text(text)
            (self.fakes / name).chmod(0o755)

    def serve(self, *args: str, pip_status: int = 0) -> subprocess.CompletedProcess[str]:
        environment = {
            **os.environ,
            "PYTHON": str(self.fakes / "python"),
            "REAL_PYTHON": sys.executable,
            "FAKES": str(self.fakes),
            "PIP_STATUS": str(pip_status),
        }
        return subprocess.run(  # noqa: S603 - a copy of our own script, with fakes
            [str(self.root / "scripts" / "serve"), *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def pip_runs(self) -> list[str]:
        log = self.fakes / "pip.log"
        return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def project(tmp_path) -> Project:
    return Project(tmp_path / "project")


def test_the_first_start_says_what_it_does_and_lets_pip_show_its_progress(project):
    started = project.serve("--port", "8123")
    assert started.returncode == 0, started.stderr
    assert "virtual environment" in started.stdout
    assert "Installing" in started.stdout
    assert "Collecting fastapi" in started.stdout, "pip's own lines are shown"
    [pip] = project.pip_runs()
    assert "install" in pip and "-e ." in pip
    assert "--quiet" not in pip and " -q" not in pip
    assert started.stdout.splitlines()[-1] == "reconnect serve --port 8123"


def test_a_second_start_does_not_install_again(project):
    project.serve()
    again = project.serve()
    assert again.returncode == 0, again.stderr
    assert len(project.pip_runs()) == 1
    assert again.stdout.splitlines() == ["reconnect serve"]


def test_a_changed_pyproject_installs_again_and_says_why(project):
    project.serve()
    with (project.root / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# a new dependency\n")
    changed = project.serve()
    assert changed.returncode == 0, changed.stderr
    assert len(project.pip_runs()) == 2
    assert "pyproject.toml has changed" in changed.stdout
    project.serve()
    assert len(project.pip_runs()) == 2


def test_a_failed_install_is_tried_again_and_does_not_start(project):
    failed = project.serve(pip_status=1)
    assert failed.returncode != 0
    assert "reconnect serve" not in failed.stdout
    retried = project.serve()
    assert retried.returncode == 0, retried.stderr
    assert len(project.pip_runs()) == 2
    assert retried.stdout.splitlines()[-1] == "reconnect serve"


def test_a_venv_made_by_something_else_is_installed_into_once(project):
    """A .venv from scripts/test, or from before this check, has no record: install once."""
    subprocess.run(  # noqa: S603 - the test's own fake python
        [str(project.fakes / "python"), "-m", "venv", str(project.root / ".venv")],
        env={**os.environ, "FAKES": str(project.fakes)},
        check=True,
    )
    first = project.serve()
    assert "virtual environment" not in first.stdout
    assert "Installing" in first.stdout
    project.serve()
    assert len(project.pip_runs()) == 1


# --- memory at start-up -------------------------------------------------------------


def test_what_start_up_made_is_left_out_of_full_collections():
    """A served process freezes start-up's objects once the coach has loaded: full
    collections then walk what requests made, not the 300,000 objects of start-up
    (each such pass held every request for about 150 ms)."""
    gc.collect()
    before = len(gc.get_objects(generation=2))
    try:
        freeze_start_up_memory()
        assert gc.get_freeze_count() >= before
        assert len(gc.get_objects(generation=2)) < before / 10
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("command", [["serve"], ["demo"]])
def test_a_serving_process_settles_its_memory_before_it_serves(tmp_path, monkeypatch, command):
    said: list[str] = []
    monkeypatch.setattr(cli, "settle_memory", lambda: said.append("settle"))
    monkeypatch.setattr(cli, "_serving", lambda *args, **kw: said.append("serve"))
    code, output = start(*command, "--data-dir", str(tmp_path), "--port", str(free_port()))
    assert code == 0, output
    assert said == ["settle", "serve"]
