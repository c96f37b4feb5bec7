"""The sign-in rate limit behaves the same whether its counters live in the database
or in Redis, and holds across processes because no process keeps its own count.

The Redis cases use the real Redis at 127.0.0.1:6379 under a key prefix of their
own; they skip with a reason when it is down, except in CI, where they must run. The
PostgreSQL cases keep the counters in a fresh PostgreSQL database of their own.

Besides the counting itself, this file holds what keeps guessing expensive without
letting one person lock another out: the device token a person's own browser or client
keeps after signing in, password checks inside a session, TOTP codes that work once,
and failed names kept only as keyed digests.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import redis
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from reconnect.app import create_app
from reconnect.models import LoginFailure
from reconnect.settings import Settings, load_settings
from tests.conftest import (
    PASSWORD,
    REDIS_URL,
    Clock,
    fresh_postgres_database,
    make_settings,
    run_coroutine,
    scratch_redis_prefix,
)
from tests.pages import Visitor, soup
from tests.ports import free_port

WRONG = "not the right password at all"


@dataclass(frozen=True)
class Store:
    """Where a test's counters live: the SQLite database, a PostgreSQL one, or Redis."""

    kind: str
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return str(self.changes.get("redis_prefix", ""))


@pytest.fixture(params=["database", pytest.param("postgres", marks=pytest.mark.postgres), "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "database":
        yield Store("database")
        return
    if request.param == "postgres":
        with fresh_postgres_database("reconnect_ratelimit") as url:
            yield Store("postgres", {"database_url": url})
        return
    with scratch_redis_prefix() as prefix:
        yield Store("redis", {"redis_url": REDIS_URL, "redis_prefix": prefix})


def limited_settings(tmp_path: Path, store: Store | None = None, **changes: Any) -> Settings:
    base = make_settings(tmp_path)
    values: dict[str, Any] = {
        "login_attempts_per_account": 3,
        "login_attempts_per_address": 5,
        "login_window_minutes": 15,
    }
    if store is not None:
        values.update(store.changes)
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

    def login(self, username: str, password: str = PASSWORD, **more: str) -> int:
        return self.sign_in(username, password, **more).status_code

    def sign_in(self, username: str, password: str = PASSWORD, **more: str) -> Any:
        answer = self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password, **more}
        )
        if answer.status_code >= 400:
            assert answer.json()["error"]["code"] in {
                "invalid_credentials",
                "second_step_needed",
                "too_many_attempts",
                "sign_in_unavailable",
            }
        return answer

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
    settings = limited_settings(tmp_path, redis_url="redis://127.0.0.1:9/0")
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
    pattern = f"{store.prefix}:*"
    keys = [key.decode() for key in redis.Redis.from_url(REDIS_URL).scan_iter(pattern)]
    assert len(keys) == 2, "one for the account, one for the address"
    assert not any("hana" in key or "testclient" in key for key in keys)
    assert all(0 < redis.Redis.from_url(REDIS_URL).ttl(key) <= 16 * 60 for key in keys)


# --- 4. a forged X-Forwarded-For does not spread guesses over made-up addresses ------


def test_serve_believes_no_forwarded_for_header_by_default(tmp_path, monkeypatch):
    """`reconnect serve` as an operator starts it: a sender on the same machine cannot
    claim another address with X-Forwarded-For, so the per-address limit holds."""
    import uvicorn

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **server: started.update(app=app, **server))
    environment = {
        "RECONNECT_DATA_DIR": str(tmp_path / "data"),
        "RECONNECT_PASSWORD_HASH_MEMORY_KIB": "256",
        "RECONNECT_LOGIN_ATTEMPTS_PER_ACCOUNT": "1000",
        "RECONNECT_LOGIN_ATTEMPTS_PER_ADDRESS": "5",
        # serve checks that its port is free first: the default may be taken on this machine.
        "RECONNECT_PORT": str(free_port()),
    }
    from reconnect.cli import main

    result = CliRunner().invoke(main, ["serve"], env=environment)
    assert result.exit_code == 0, result.output
    app = started.pop("app")
    config = uvicorn.Config(app, **started)
    config.load()  # wraps the app in uvicorn's proxy-headers middleware, as it serves

    async def guesses() -> list[int]:
        transport = httpx.ASGITransport(config.loaded_app, client=("127.0.0.1", 50123))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as web:
            answers = []
            for n in range(8):
                answer = await web.post(
                    "/api/v1/auth/login",
                    json={"username": "hana", "password": WRONG},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                )
                answers.append(answer.status_code)
            # The sign-in page counts the same address, whatever the header claims.
            form = soup(await web.get("/login")).select_one("input[name=csrf_token]")
            assert form is not None
            page = await web.post(
                "/login",
                data={"csrf_token": str(form["value"]), "username": "hana", "password": WRONG},
                headers={"X-Forwarded-For": "198.51.100.7"},
            )
            answers.append(page.status_code)
            return answers

    try:
        assert run_coroutine(guesses()) == [401] * 5 + [429] * 4
    finally:
        app.state.engine.dispose()


def test_no_proxy_is_trusted_unless_the_operator_names_one():
    assert load_settings().trusted_proxies == ""
    assert load_settings(trusted_proxies="10.0.0.2").trusted_proxies == "10.0.0.2"


# --- 5. one person cannot lock another out of their own device ----------------------


def test_the_partner_cannot_lock_a_person_out_of_the_client_she_signed_in_with(site, store):
    site.register("hana")
    first = site.sign_in("hana")
    assert first.status_code == 200
    device = first.json()["device_token"]
    assert "hana" not in device
    # Ivan, at another client (or the same one without her token), guesses on.
    assert [site.login("hana", WRONG) for _ in range(6)] == [401, 401, 401, 429, 429, 429]
    assert site.login("hana") == 429, "an unknown client still waits for the window"
    again = site.sign_in("hana", device_token=device)
    assert again.status_code == 200, "her own client, known from before, is spared"
    assert again.json()["device_token"] != device, "each sign-in gives a fresh device token"


def test_a_known_device_that_keeps_guessing_is_paused_on_its_own(site, clock):
    site.register("hana")
    device = site.sign_in("hana").json()["device_token"]
    tries = [site.login("hana", WRONG, device_token=device) for _ in range(4)]
    assert tries == [401, 401, 401, 429]
    assert site.login("hana", device_token=device) == 429
    assert site.login("hana") == 200, "other clients are not held back by that device"
    clock.advance(minutes=16)
    assert site.login("hana", device_token=device) == 200


def test_a_device_token_counts_only_for_the_account_that_earned_it(site):
    site.register("hana")
    site.register("ivan")
    hanas_device = site.sign_in("hana").json()["device_token"]
    assert [site.login("ivan", WRONG) for _ in range(4)] == [401, 401, 401, 429]
    assert site.login("ivan", device_token=hanas_device) == 429
    assert site.login("ivan", device_token="made-up.token") == 429


def test_a_browser_that_signed_in_before_is_spared_when_someone_else_guesses(site):
    site.register("hana")
    hanas_browser, other_browser = Visitor(site.app), Visitor(site.app)
    hanas_browser.post("/login", {"username": "hana", "password": PASSWORD})
    assert hanas_browser.last.status_code == 303
    hanas_browser.post("/logout", {})
    assert hanas_browser.client.cookies.get("reconnect_device"), "signing out keeps it"
    for _ in range(6):
        other_browser.post("/login", {"username": "hana", "password": WRONG})
    assert other_browser.last.status_code == 429
    assert "Please wait a few minutes" in soup(other_browser.last).get_text()
    other_browser.post("/login", {"username": "hana", "password": PASSWORD})
    assert other_browser.last.status_code == 429
    hanas_browser.post("/login", {"username": "hana", "password": PASSWORD})
    assert hanas_browser.last.status_code == 303


# --- 6. password checks inside a session are counted like sign-ins ------------------


def _enable_totp(site: Site, headers: dict[str, str]) -> str:
    secret = site.client.get("/api/v1/auth/totp/new", headers=headers).json()["secret"]
    on = site.client.post(
        "/api/v1/auth/totp",
        headers=headers,
        json={"secret": secret, "code": pyotp.TOTP(secret).now()},
    )
    assert on.status_code == 204, on.text
    return secret


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/auth/password", "current_password"),
        ("/api/v1/auth/totp/disable", "password"),
        ("/api/v1/account/delete", "password"),
    ],
)
def test_password_guesses_inside_a_session_are_counted(site, clock, path, field):
    site.register("hana")
    headers = {"Authorization": f"Bearer {site.sign_in('hana').json()['token']}"}
    if "totp" in path:
        _enable_totp(site, headers)

    def confirm(password: str) -> Any:
        body = {field: password}
        if field == "current_password":
            body["new_password"] = "another quiet river stone"
        return site.client.post(path, headers=headers, json=body)

    assert [confirm(WRONG).status_code for _ in range(3)] == [403, 403, 403]
    refused = confirm(PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert "wait a few minutes" in refused.json()["error"]["message"]
    assert site.client.get("/api/v1/me", headers=headers).status_code == 200, "nothing changed"
    clock.advance(minutes=16)
    assert confirm(PASSWORD).status_code == 204


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/account/password", "current_password"),
        ("/account/totp/disable", "password"),
        ("/account/delete", "password"),
    ],
)
def test_password_guesses_on_the_account_page_are_counted(site, path, field):
    site.register("hana")
    browser = Visitor(site.app)
    browser.post("/login", {"username": "hana", "password": PASSWORD})
    assert browser.last.status_code == 303

    def confirm(password: str) -> Any:
        body = {field: password}
        if field == "current_password":
            body["new_password"] = "another quiet river stone"
        return browser.post(path, body)

    assert [confirm(WRONG).status_code for _ in range(3)] == [403, 403, 403]
    refused = confirm(PASSWORD)
    assert refused.status_code == 429
    assert "Please wait a few minutes" in soup(refused).get_text()
    assert browser.get("/account") and browser.last.status_code == 200, "still signed in"


# --- 7. a TOTP code works once ---------------------------------------------------


def test_a_two_step_code_signs_in_once_through_the_api(site):
    site.register("hana")
    headers = {"Authorization": f"Bearer {site.sign_in('hana').json()['token']}"}
    secret = _enable_totp(site, headers)
    code = pyotp.TOTP(secret).now()
    assert site.login("hana", totp=code) == 200
    replayed = site.sign_in("hana", totp=code)
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "second_step_needed"
    earlier = pyotp.TOTP(secret).at(datetime.now(UTC).timestamp() - 30)
    assert site.login("hana", totp=earlier) == 401, "a code from before the used one is refused"
    later = pyotp.TOTP(secret).at(datetime.now(UTC).timestamp() + 30)
    assert site.login("hana", totp=later) == 200, "the next code still works"


def test_a_two_step_code_signs_in_once_through_the_pages(site):
    site.register("hana")
    headers = {"Authorization": f"Bearer {site.sign_in('hana').json()['token']}"}
    secret = _enable_totp(site, headers)
    code = pyotp.TOTP(secret).now()
    first, second = Visitor(site.app), Visitor(site.app)
    first.post("/login", {"username": "hana", "password": PASSWORD, "totp": code})
    assert first.last.status_code == 303
    second.post("/login", {"username": "hana", "password": PASSWORD, "totp": code})
    assert second.last.status_code == 401
    assert "used already" in soup(second.last).get_text()


# --- 11. failed names are kept only as keyed digests, and never logged -------------


# Someone types their password into the name box by mistake.
TYPED_NAME = "my-own-secret-passphrase"


def test_a_failed_name_is_kept_only_as_a_keyed_digest(site, store, caplog):
    caplog.set_level(logging.DEBUG)
    assert site.login(TYPED_NAME, WRONG) == 401
    assert site.login("hana", WRONG) == 401
    browser = Visitor(site.app)
    browser.post("/login", {"username": TYPED_NAME + "-page", "password": WRONG})
    assert browser.last.status_code == 401
    assert TYPED_NAME not in caplog.text, "the typed name is never logged"
    if store.kind == "redis":
        pattern = f"{store.prefix}:*"
        names = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(pattern)]
    else:
        with site.app.state.reconnect.sessions() as db:
            names = list(db.scalars(select(LoginFailure.key)))
    assert names, "the failures are counted"
    unkeyed = hashlib.sha256(f"account:{TYPED_NAME}".encode()).hexdigest()
    for name in names:
        assert TYPED_NAME not in name
        assert unkeyed not in name, "a plain hash could be checked against guesses"
    if store.kind == "database":
        # Nor in the file, its WAL, or next to the digests: the key is not in there.
        secret = site.app.state.reconnect.secret.encode()
        for path in Path(site.app.state.reconnect.settings.data_dir).glob("reconnect.db*"):
            assert TYPED_NAME.encode() not in path.read_bytes(), path.name
            assert secret not in path.read_bytes(), path.name


def test_two_sign_ins_racing_with_one_code_let_only_one_in(site, store):
    """Both read the person before either writes: the compare-and-set lets one through."""
    from reconnect.accounts import auth
    from reconnect.models import Person

    site.register("hana")
    headers = {"Authorization": f"Bearer {site.sign_in('hana').json()['token']}"}
    secret = _enable_totp(site, headers)
    code = pyotp.TOTP(secret).now()
    sessions = site.app.state.reconnect.sessions
    with sessions() as first, sessions() as second:
        hana_first = first.scalar(select(Person).where(Person.username == "hana"))
        hana_second = second.scalar(select(Person).where(Person.username == "hana"))
        key = auth.unlock_with_password(hana_first, PASSWORD)
        assert auth.second_step_problem(first, hana_first, key, code) == ""
        first.commit()
        assert auth.second_step_problem(second, hana_second, key, code) == auth.CODE_USED
