"""The pages and API answers read on every visit ask the database a fixed, small number
of questions, however long the couple's history: ten weeks of the demo couple here.

A count that grows is a lookup repeated per row, or per helper, that used to be read
once; the limits are what each read needs today (the sign-in's one included).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from reconnect.accounts.auth import kdf_params
from reconnect.demo import HURT, INVOLVED, PASSWORD, build_demo
from tests.demo import NOW
from tests.pages import Visitor

PAGES = {
    "/today": 12,
    "/checkin": 2,
    "/notes": 4,
    "/progress": 10,
    "/moments": 6,
}
API = {
    "/api/v1/pace": 5,
    "/api/v1/notes": 3,
    "/api/v1/status": 3,
    "/api/v1/triggers": 5,
    "/api/v1/proposals": 3,
}


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    """Every statement the app sends to the database while the block runs."""
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)


@pytest.fixture
def demo_app(app: Any) -> Any:
    state = app.state.reconnect
    build_demo(state.sessions, state.hasher, kdf_params(state.settings), NOW)
    app.state.reconnect = replace(state, clock=lambda: NOW + timedelta(hours=1))
    return app


def browser(app: Any, username: str) -> Visitor:
    visitor = Visitor(app)
    assert visitor.post("/login", {"username": username, "password": PASSWORD}).status_code == 303
    return visitor


def api_headers(app: Any, username: str) -> dict[str, str]:
    answer = TestClient(app, base_url="http://127.0.0.1").post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.mark.parametrize("username", [HURT, INVOLVED])
def test_each_hot_page_asks_a_few_questions(demo_app, username):
    visitor = browser(demo_app, username)
    for path, limit in PAGES.items():
        visitor.get(path)  # a first visit may set a cookie or load what is cached
        with statements(demo_app) as sent:
            visitor.get(path)
        assert visitor.last.status_code == 200, path
        assert len(sent) <= limit, f"{path}: {len(sent)} statements\n" + "\n".join(sent)


@pytest.mark.parametrize("username", [HURT, INVOLVED])
def test_each_hot_api_read_asks_a_few_questions(demo_app, username):
    client = TestClient(demo_app, base_url="http://127.0.0.1")
    headers = api_headers(demo_app, username)
    for path, limit in API.items():
        with statements(demo_app) as sent:
            answer = client.get(path, headers=headers)
        assert answer.status_code == 200, path
        assert len(sent) <= limit, f"{path}: {len(sent)} statements\n" + "\n".join(sent)
