"""Real headless Chromium (Debian's) driven by Playwright against a live local server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reconnect.accounts.auth import kdf_params
from reconnect.app import create_app
from reconnect.demo import HURT, build_demo
from reconnect.models import Membership, Person
from tests.conftest import IN_CI, Clock, make_settings
from tests.demo import NOW
from tests.ports import serving

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
    with serving(app) as port:
        yield f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Demo:
    """The demo couple's server: its address and the couple's id (for the therapist)."""

    base: str
    couple_id: int


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One server per test process with the demo couple (Hana, Ivan and Thea, their
    therapist) and ten weeks of history, its clock standing at ``tests.demo.NOW``.

    Shared: tests that use it look, add people of their own, or add moments between
    Hana and Ivan that no other test counts on.
    """
    settings = make_settings(tmp_path_factory.mktemp("demo")).model_copy(
        update={"quick_exit_url": QUICK_EXIT_URL, "demo": True}
    )
    app = create_app(settings)
    state = app.state.reconnect
    build_demo(state.sessions, state.hasher, kdf_params(settings), NOW)
    app.state.reconnect = replace(state, clock=Clock(NOW))
    with state.sessions() as db:
        hana = select(Person.id).where(Person.username == HURT)
        couple_id = db.scalar(select(Membership.couple_id).where(Membership.person_id.in_(hana)))
    assert couple_id is not None
    with serving(app) as port:
        yield Demo(f"http://127.0.0.1:{port}", couple_id)
    app.state.engine.dispose()


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


def local_context(
    browser: Any,
    width: int = 390,
    height: int = 844,
    *,
    origin: str = "http://127.0.0.1",
    **options: Any,
) -> Any:
    """A new browser context (a person of their own) with a phone's viewport unless told.

    Nothing may leave the machine: anything not on ``origin`` is answered locally.
    """
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    context.route(
        lambda url: not url.startswith(origin),
        lambda route: route.fulfill(status=200, body="<title>Weather</title>Sunny"),
    )
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Opens pages in separate browser contexts: separate people, separate cookies."""
    contexts = []

    def open_page() -> Any:
        context = local_context(browser)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
