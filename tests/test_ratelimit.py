"""The sign-in rate limit behaves the same whether its counters live in the database
or in Redis, and holds across processes because no process keeps its own count.

The Redis cases use the real Redis at 127.0.0.1:6379 under a key prefix of their
own; they skip with a reason when it is down, except in CI, where they must run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from reconnect.app import create_app
from reconnect.settings import Settings
from tests.conftest import IN_CI, PASSWORD, Clock, make_settings

REDIS_URL = "redis://127.0.0.1:6379/0"
WRONG = "not the right password at all"


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "database":
        yield ""
        return
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"Redis must be reachable in CI at {REDIS_URL}: {error}")
        pytest.skip(f"Redis not reachable at {REDIS_URL} (runs in CI): {error}")
    prefix = f"reconnect-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def limited_settings(tmp_path: Path, prefix: str, **changes: Any) -> Settings:
    base = make_settings(tmp_path)
    values: dict[str, Any] = {
        "login_attempts_per_account": 3,
        "login_attempts_per_address": 5,
        "login_window_minutes": 15,
    }
    if prefix:
        values.update(redis_url=REDIS_URL, redis_prefix=prefix)
    return base.model_copy(update={**values, **changes})


class Site:
    """One app process (as one worker would be), on its own clock."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.app = create_app(settings)
        self.app.state.reconnect = replace(self.app.state.reconnect, clock=clock)
        self.client = TestClient(self.app, base_url="http://127.0.0.1")

    def register(self, username: str) -> None:
        answer = self.client.post(
            "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 201, answer.text

    def login(self, username: str, password: str = PASSWORD) -> int:
        answer = self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        if answer.status_code >= 400:
            assert answer.json()["error"]["code"] in {
                "invalid_credentials",
                "second_step_needed",
                "too_many_attempts",
                "sign_in_unavailable",
            }
        return answer.status_code

    def close(self) -> None:
        self.client.close()
        self.app.state.engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))


@pytest.fixture
def site(tmp_path: Path, store: str, clock: Clock) -> Iterator[Site]:
    running = Site(limited_settings(tmp_path, store), clock)
    yield running
    running.close()


def test_an_account_is_paused_after_its_failures_then_free_once_the_window_passes(site, clock):
    site.register("hana")
    site.register("ivan")
    assert [site.login("hana", WRONG) for _ in range(4)] == [401, 401, 401, 429]
    assert site.login("hana") == 429, "even the right password waits for the window"
    assert site.login("ivan") == 200, "another account is not affected"
    clock.advance(minutes=14)
    assert site.login("hana") == 429, "the window has not passed yet"
    clock.advance(minutes=2)
    assert site.login("hana") == 200


def test_an_address_is_paused_after_failures_across_accounts(site, clock):
    for name in ("hana", "ivan", "olga"):
        site.register(name)
    tries = [site.login(name, WRONG) for name in ("hana", "ivan", "olga", "hana", "ivan")]
    assert tries == [401] * 5
    assert site.login("olga") == 429, "five failures from this address"
    clock.advance(minutes=16)
    assert site.login("olga") == 200


def test_a_wrong_second_step_counts_as_a_failure(site):
    import pyotp

    site.register("hana")
    token = site.client.post(
        "/api/v1/auth/login", json={"username": "hana", "password": PASSWORD}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    secret = site.client.get("/api/v1/auth/totp/new", headers=headers).json()["secret"]
    on = site.client.post(
        "/api/v1/auth/totp",
        headers=headers,
        json={"secret": secret, "code": pyotp.TOTP(secret).now()},
    )
    assert on.status_code == 204, on.text
    # The right password without the code from the authenticator app.
    assert [site.login("hana") for _ in range(4)] == [401, 401, 401, 429]


def test_two_processes_share_one_count(tmp_path, store, clock):
    """Failures made through one process count in the other: a worker keeps no count."""
    settings = limited_settings(tmp_path, store)
    first = Site(settings, clock)
    second = Site(settings, clock)
    try:
        first.register("hana")
        assert first.login("hana", WRONG) == 401
        assert second.login("hana", WRONG) == 401
        assert first.login("hana", WRONG) == 401
        assert second.login("hana") == 429
        assert first.login("hana") == 429
    finally:
        first.close()
        second.close()


def test_without_its_redis_the_sign_in_is_refused_calmly(tmp_path, clock):
    # A port nothing listens on: the limit cannot be checked, so nobody gets in.
    settings = limited_settings(tmp_path, "unreachable", redis_url="redis://127.0.0.1:9/0")
    unreachable = Site(settings, clock)
    try:
        unreachable.register("hana")
        answer = unreachable.client.post(
            "/api/v1/auth/login", json={"username": "hana", "password": PASSWORD}
        )
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "sign_in_unavailable"
    finally:
        unreachable.close()


@pytest.mark.parametrize("store", ["redis"], indirect=True)
def test_redis_keys_name_neither_the_account_nor_the_address(tmp_path, store, clock):
    running = Site(limited_settings(tmp_path, store), clock)
    try:
        running.register("hana")
        assert running.login("hana", WRONG) == 401
    finally:
        running.close()
    keys = [key.decode() for key in redis.Redis.from_url(REDIS_URL).scan_iter(f"{store}:*")]
    assert len(keys) == 2, "one for the account, one for the address"
    assert not any("hana" in key or "testclient" in key for key in keys)
    assert all(0 < redis.Redis.from_url(REDIS_URL).ttl(key) <= 16 * 60 for key in keys)
