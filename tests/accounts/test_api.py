"""Registering, signing in and out through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reconnect.models import Person
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("backend")


def register(client, username="hana", password=PASSWORD):
    return client.post("/api/v1/auth/register", json={"username": username, "password": password})


def login(client, username="hana", password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def count_people(app) -> int:
    with app.state.reconnect.sessions() as db:
        return db.scalar(select(func.count()).select_from(Person))


def test_a_person_registers_signs_in_and_sees_themselves(client):
    created = register(client, "Hana@Example.org")
    assert created.status_code == 201
    assert created.json()["username"] == "hana@example.org"
    token = login(client, "hana@example.org").json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json() == {
        "id": created.json()["id"],
        "username": "hana@example.org",
        "time_zone": "UTC",
        "safety_screen_answered": False,
        "joint_features": False,
        "couple": None,
    }


def test_usernames_ignore_case_so_duplicates_are_refused(client, app):
    assert register(client, "hana").status_code == 201
    again = register(client, "HANA")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "username_taken"
    assert count_people(app) == 1


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short pass", "at least 12"),
        ("password1234", "most common"),
        ("qwertyuiop12", "most common"),
        ("aaaaaaaaaaaaaaaa", "most common"),
        ("123456789012", "most common"),
        ("hana-the-long-one", "username"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(client, app, password, why):
    response = register(client, "hana", password)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "weak_password"
    assert why in response.json()["error"]["message"]
    assert count_people(app) == 0


@pytest.mark.parametrize("username", ["", "ab", "has space", "a" * 300, "<script>"])
def test_unusable_usernames_get_a_clear_error(client, username):
    response = register(client, username)
    assert response.status_code in {400, 422}
    assert response.json()["error"]["code"] in {"invalid_username", "invalid_input"}


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'{"username": 3, "password": "x"}', b'{"username": "a"}', b"null"],
)
def test_malformed_bodies_get_4xx_json_never_500(client, app, body):
    response = client.post(
        "/api/v1/auth/register", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    assert set(response.json()["error"]) >= {"code", "message"}
    assert count_people(app) == 0


def test_oversized_bodies_are_refused_before_reading(client, app):
    huge = b'{"username": "hana", "password": "' + b"x" * 300_000 + b'"}'
    response = client.post(
        "/api/v1/auth/register", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert count_people(app) == 0


def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    register(client)
    wrong = login(client, "hana", "not the right password")
    unknown = login(client, "nobody-here", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_repeated_failures_are_rate_limited_per_account(client):
    register(client)
    statuses = [login(client, "hana", "wrong password!!").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # Even the right password waits until the window passes.
    assert login(client).status_code == 429
    assert login(client).json()["error"]["code"] == "too_many_attempts"


def test_each_login_gets_a_new_token_and_logout_kills_only_that_one(client):
    register(client)
    first, second = login(client).json()["token"], login(client).json()["token"]
    assert first != second
    out = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {first}"})
    assert out.status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    )


def test_tokens_are_stored_only_as_hashes(client, app):
    register(client)
    token = login(client).json()["token"]
    with app.state.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT token_hash FROM auth_session").all()
    assert rows and all(token not in row[0] for row in rows)


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer nonsense", "Basic aGFuYTpwdw=="])
def test_missing_or_bad_tokens_get_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_passwords_are_hashed_with_argon2id(client, app):
    register(client)
    with app.state.reconnect.sessions() as db:
        stored = db.scalar(select(Person.password_hash))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
