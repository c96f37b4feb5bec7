"""Tests that need the coach extra (PyTorch and MiniLM's weights): they skip with a
reason without it, except in CI, which installs it and where they must run. And a
fresh interpreter, for what a plain process loads."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import IN_CI


def need(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if not missing:
        return
    reason = f"needs {', '.join(missing)} (pip install 'reconnect[coach]'; runs in CI)"
    if IN_CI:
        pytest.fail(f"CI installs the coach extra, yet this is missing: {reason}")
    pytest.skip(reason)


def run_python(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter (this one), its output captured: what a plain
    process loads, with nothing the test run imported before."""
    return subprocess.run(  # noqa: S603 (this interpreter, our own script)
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
