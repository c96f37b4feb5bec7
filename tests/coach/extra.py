"""Tests that need the coach extra (PyTorch and MiniLM's weights): they skip with a
reason without it, except in CI, which installs it and where they must run."""

from __future__ import annotations

import importlib.util

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
