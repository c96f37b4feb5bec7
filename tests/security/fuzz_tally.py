"""The count of schemathesis cases run, summed over pytest-xdist workers and printed in
the terminal summary: a CI log shows how much the API was exercised, not only that it
passed. A pytest plugin: scripts/test loads it with ``-p tests.security.fuzz_tally``."""

from __future__ import annotations

from typing import Any

import pytest


class FuzzTally:
    cases = 0
    operations = 0


TALLY = FuzzTally()
WORKER_KEY = "reconnect_schemathesis"


def pytest_sessionfinish(session: pytest.Session) -> None:
    # On an xdist worker, hand the tally to the controller, which prints it.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[WORKER_KEY] = (TALLY.cases, TALLY.operations)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    cases, operations = getattr(node, "workeroutput", {}).get(WORKER_KEY, (0, 0))
    TALLY.cases += cases
    TALLY.operations += operations


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TALLY.cases:
        terminalreporter.write_sep("-", "schemathesis")
        terminalreporter.write_line(
            f"{TALLY.cases} generated API cases run against {TALLY.operations} operations"
        )
