"""Real headless Chromium (Debian's) driven by Playwright against a live local server."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from reconnect.app import create_app
from tests.conftest import IN_CI, Clock, make_settings

CHROMIUM = os.environ.get("RECONNECT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
QUICK_EXIT_URL = "https://neutral.example/weather"

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))


@pytest.fixture
def live_server(tmp_path: Path, server_clock: Clock) -> Iterator[str]:
    """The whole app on a fresh SQLite file, served by uvicorn on a free local port.

    Its clock is ``server_clock``, which a test may move forward.
    """
    settings = make_settings(tmp_path).model_copy(
        # Sign-ins last the month, so the journey test's days pass without re-signing in.
        update={"quick_exit_url": QUICK_EXIT_URL, "session_hours": 24 * 30}
    )
    app = create_app(settings)
    app.state.reconnect = replace(app.state.reconnect, clock=server_clock)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); runs in CI")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Opens pages in separate browser contexts: separate people, separate cookies."""
    contexts = []

    def open_page() -> Any:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        # Nothing may leave the machine: anything not on loopback is answered locally.
        context.route(
            lambda url: not url.startswith("http://127.0.0.1"),
            lambda route: route.fulfill(status=200, body="<title>Weather</title>Sunny"),
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
