"""Each person's writes that feed shared work (notes, shared statuses, heart-rate
imports and readings by hand) are limited per window, so one partner cannot slow the
other's requests, or another couple's, by writing hundreds of times.

The limits are set low here through the settings. Over one: 429 with Retry-After and
the code ``slow_down`` in the API; on a page, a calm sentence saying when the person
can write again, with what they wrote still in the form. The counts live in the
database or in Redis (the real one at 127.0.0.1:6379, under a prefix of this test's
own), shared by every process, and only ever count one person.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reconnect.app import create_app
from reconnect.models import LoginFailure
from reconnect.ratelimit import in_words
from reconnect.settings import Settings
from tests.conftest import REDIS_URL, ApiPerson, make_settings, scratch_redis_prefix
from tests.heart.uploads import csv_of, upload
from tests.pages import Visitor, soup

LOW = {
    "notes_per_hour": 3,
    "statuses_per_hour": 2,
    "heart_imports_per_day": 2,
    "heart_readings_per_hour": 3,
    # Some tests walk a day on; their people stay signed in.
    "session_hours": 48,
}


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Where the counts live: the database, or Redis under a prefix of this test's own."""
    if request.param == "database":
        yield {}
        return
    with scratch_redis_prefix() as prefix:
        yield {"redis_url": REDIS_URL, "redis_prefix": prefix}


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The conftest's settings with low write limits; in the store a test asks for
    (``store``), else the database."""
    where = request.getfixturevalue("store") if "store" in request.fixturenames else {}
    return make_settings(tmp_path).model_copy(update={**LOW, **where})


def retry_after(answer: Any) -> int:
    value = answer.headers["Retry-After"]
    assert value.isdigit(), value
    return int(value)


def refused(answer: Any) -> str:
    """The API's refusal: 429 ``slow_down`` with Retry-After; its message."""
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"]["code"] == "slow_down"
    assert retry_after(answer) > 0
    return str(answer.json()["error"]["message"])


def note(person: ApiPerson, text: str = "thinking of you") -> Any:
    return person.post("/api/v1/notes", {"text": text})


# --- the API, in both stores -------------------------------------------------------------


def test_notes_wait_after_the_limit_and_the_partner_and_others_do_not(
    store, clock, hana_and_ivan, olga_and_oscar
):
    hana, ivan = hana_and_ivan
    olga, _ = olga_and_oscar
    assert note(hana).status_code == 201
    clock.advance(minutes=10)
    assert [note(hana).status_code for _ in range(2)] == [201, 201]
    clock.advance(minutes=10)
    answer = note(hana, "one more")
    message = refused(answer)
    # The first note leaves the hour 40 minutes from now (give or take the clock's ms).
    assert 39 * 60 <= retry_after(answer) <= 40 * 60
    assert "That is a lot of notes in a short time" in message
    assert "This note was not sent yet; you can send again in 40 minutes." in message
    assert "one more" not in [n["text"] for n in ivan.get("/api/v1/notes").json()["notes"]]
    # Each person counts alone: the partner and another couple write on.
    assert [note(ivan).status_code for _ in range(3)] == [201, 201, 201]
    assert note(olga).status_code == 201
    # And other kinds of write are counted apart.
    assert hana.post("/api/v1/status", {"status": "okay"}).status_code == 201
    clock.advance(minutes=39)
    assert note(hana).status_code == 429, "the first note is still within the hour"
    clock.advance(minutes=1, seconds=1)
    assert note(hana).status_code == 201
    assert note(hana).status_code == 429, "the second and third are still within the hour"


def test_statuses_wait_after_the_limit(store, clock, hana_and_ivan):
    hana, ivan = hana_and_ivan
    shared = [hana.post("/api/v1/status", {"status": "okay"}).status_code for _ in range(2)]
    assert shared == [201, 201]
    answer = hana.post("/api/v1/status", {"status": "struggling", "words": "a hard hour"})
    assert "you can share again in 60 minutes" in refused(answer)
    assert 59 * 60 <= retry_after(answer) <= 3600
    assert "a hard hour" not in ivan.get("/api/v1/status").text
    assert ivan.post("/api/v1/status", {"status": "okay"}).status_code == 201
    clock.advance(hours=1, seconds=1)
    assert hana.post("/api/v1/status", {"status": "struggling"}).status_code == 201


def test_heart_rate_imports_wait_a_day_and_readings_an_hour(store, clock, hana_and_ivan):
    hana, ivan = hana_and_ivan
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    files = [csv_of(start.replace(day=5 + i), [70, 71]) for i in range(3)]
    assert [upload(hana, f).status_code for f in files[:2]] == [201, 201]
    answer = upload(hana, files[2])
    message = refused(answer)
    assert "That is a lot of heart-rate imports in one day" in message
    assert "you can import again in about 24 hours" in message
    assert 23 * 3600 < retry_after(answer) <= 24 * 3600
    assert upload(ivan, files[2]).status_code == 201

    def reading(minute: int) -> Any:
        return hana.post("/api/v1/heart-rate", {"at": f"2026-01-10T09:{minute:02d}:00Z", "bpm": 70})

    assert [reading(m).status_code for m in range(3)] == [201, 201, 201]
    assert "you can add readings again in" in refused(reading(3))
    clock.advance(hours=1, seconds=1)
    assert reading(4).status_code == 201
    assert refused(upload(hana, files[2])), "imports wait the whole day"
    clock.advance(hours=23)
    assert upload(hana, files[2]).status_code == 201


def test_two_processes_share_one_count(store, settings, hana_and_ivan, clock):
    """Notes sent through one process count in another: no process keeps a count."""
    hana, _ = hana_and_ivan
    other = create_app(settings)
    other.state.reconnect = replace(other.state.reconnect, clock=clock)
    try:
        with TestClient(other, base_url="http://127.0.0.1") as client:
            elsewhere = ApiPerson(client, "hana", hana.token)
            assert note(hana).status_code == 201
            assert note(elsewhere).status_code == 201
            assert note(hana).status_code == 201
            assert note(elsewhere).status_code == 429
            assert note(hana).status_code == 429
    finally:
        other.state.engine.dispose()


# --- where the counts are kept --------------------------------------------------------


@pytest.mark.parametrize("store", ["redis"], indirect=True)
def test_redis_keys_are_digests_that_expire_with_their_window(store, hana_and_ivan, app):
    hana, _ = hana_and_ivan
    note(hana)
    client = redis.Redis.from_url(REDIS_URL)
    keys = [key.decode() for key in client.scan_iter(f"{store['redis_prefix']}:writes:*")]
    assert len(keys) == 1
    assert re.fullmatch(rf"{store['redis_prefix']}:writes:[0-9a-f]{{64}}", keys[0])
    assert 0 < client.ttl(keys[0]) <= 3600 + 60


def test_the_database_keeps_digests_and_only_stored_writes_count(hana_and_ivan, app, clock):
    hana, _ = hana_and_ivan
    assert note(hana, "   ").status_code == 422, "a refused note is not counted"
    assert [note(hana).status_code for _ in range(3)] == [201, 201, 201]
    with app.state.reconnect.sessions() as db:
        keys = db.scalars(select(LoginFailure.key).distinct()).all()
        assert len(keys) == 1 and re.fullmatch(r"[0-9a-f]{64}", keys[0])
        assert db.scalar(select(func.count()).select_from(LoginFailure)) == 3
    assert note(hana).status_code == 429
    # A day later the old rows are gone once anyone starts a new window.
    clock.advance(days=1, minutes=1)
    assert note(hana).status_code == 201
    with app.state.reconnect.sessions() as db:
        assert db.scalar(select(func.count()).select_from(LoginFailure)) == 1


def test_a_wait_is_said_in_plain_words():
    assert [in_words(s) for s in (1, 10, 11, 59, 60, 61, 720, 5340, 5400, 86400)] == [
        "a few seconds",
        "a few seconds",
        "less than a minute",
        "less than a minute",
        "1 minute",
        "2 minutes",
        "12 minutes",
        "89 minutes",
        "about 2 hours",
        "about 24 hours",
    ]


# --- the pages ---------------------------------------------------------------------------


def test_a_note_over_the_limit_stays_in_the_box_with_a_calm_word(paired, clock):
    hana, ivan = paired
    for i in range(3):
        assert hana.post("/notes", {"text": f"note {i}"}).status_code == 303
    words = "I keep thinking about what you said <3"
    answer = hana.post("/notes", {"text": words})
    assert answer.status_code == 429
    assert 0 < retry_after(answer) <= 3600
    page = soup(answer)
    assert page.select_one("textarea[name=text]").get_text() == words
    error = page.select_one("#form-error").get_text()
    assert "That is a lot of notes in a short time" in error
    assert "Your words are kept here; you can send again in 60 minutes." in error
    # Nothing reached Ivan, who can still write.
    assert words not in ivan.get("/notes").get_text()
    assert ivan.post("/notes", {"text": "here"}).status_code == 303


def test_a_status_over_the_limit_waits_in_its_form(paired, clock):
    hana, ivan = paired
    for _ in range(2):
        assert hana.post("/status", {"status": "okay"}).status_code == 303
    answer = hana.post("/status", {"status": "need_space", "words": "a walk alone"})
    assert answer.status_code == 429
    assert retry_after(answer) > 0
    page = soup(answer)
    assert page.select_one("input[name=words]")["value"] == "a walk alone"
    assert page.select_one("input[name=status][checked]")["value"] == "need_space"
    assert "you can share again in 60 minutes" in page.select_one("#form-error").get_text()
    assert ivan.post("/status", {"status": "okay"}).status_code == 303


def test_an_import_over_the_limit_says_when_on_the_import_page(app, hana_and_ivan, clock):
    visitor = Visitor(app)
    visitor.post("/login", {"username": "hana", "password": "quiet river under stone"})

    def send(day: int) -> Any:
        content = csv_of(datetime(2026, 1, day, 9, 0, tzinfo=UTC), [70, 71])
        return visitor.client.post(
            "/heart-rate/import",
            data={"csrf_token": visitor.csrf()},
            files={"file": ("hr.csv", content, "text/csv")},
        )

    assert [send(5).status_code, send(6).status_code] == [200, 200]
    answer = send(7)
    assert answer.status_code == 429
    assert retry_after(answer) > 23 * 3600
    error = soup(answer).select_one("#form-error").get_text()
    assert "you can import again in about 24 hours" in error
    assert soup(answer).select_one("input[type=file]") is not None
