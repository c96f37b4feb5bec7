"""Every answer carries the headers that keep a shared computer and a hostile page out.

A strict Content-Security-Policy, nosniff and no-referrer on every response: pages,
errors, redirects, static files and the API. Nothing personal is cached, logging out
tells the browser to forget, session cookies cannot be read by scripts or sent from
other sites, and page titles say nothing about who is using the app.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD
from tests.pages import Visitor
from tests.payloads import CALM_FORM
from tests.security.conftest import api_addresses, page_addresses, send_form, signed_in

CANARY = "canary-7f3e the words only I know"


def assert_protective_headers(response: Any) -> None:
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    policy = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert "'unsafe-inline'" not in policy, where
    assert directives.get("object-src") == ["'none'"], where
    assert directives.get("base-uri") == ["'none'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "no-referrer", where


def assert_not_stored(response: Any) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    assert "no-store" in response.headers.get("cache-control", ""), where


@pytest.fixture
def hana_wrote(app, hana_and_ivan, hanas_experience) -> int:
    """Hana's note holds a canary, written through the page as a person would."""
    hana = signed_in(app, "hana")
    assert send_form(hana, "/checkin", {**CALM_FORM, "note": CANARY}).status_code == 303
    return hanas_experience


def test_every_page_has_the_protective_headers_for_everyone(app, hana_wrote):
    for visitor in (Visitor(app), signed_in(app, "hana"), signed_in(app, "ivan")):
        for address in page_addresses(hana_wrote):
            visitor.get(address)
            assert_protective_headers(visitor.last)


def test_signed_in_pages_and_api_answers_are_never_cached(app, people, hana_wrote, couple_id):
    hana = signed_in(app, "hana")
    for address in page_addresses(hana_wrote):
        hana.get(address)
        assert_not_stored(hana.last)
    token = {"Authorization": f"Bearer {people.login('hana')}"}
    for path in api_addresses(couple_id):
        answer = people.client.get(path, headers=token)
        assert answer.status_code < 500, path  # a caseload is a therapist's: 4xx for Hana
        assert_protective_headers(answer)
        assert_not_stored(answer)


def test_errors_redirects_static_files_and_the_schema_have_them_too(app, client):
    answers = [
        client.get("/nowhere"),  # 404 page
        client.get("/api/v1/nowhere"),  # 404 JSON
        client.get("/logout"),  # 405
        client.get("/api/v1/me"),  # 401
        client.post("/api/v1/auth/register", json={"username": 3}),  # 422
        client.post(
            "/api/v1/auth/register", content=b"{", headers={"content-type": "application/json"}
        ),
        client.post("/checkin", data={}),  # 403, no CSRF token
        client.get("/today", follow_redirects=False),  # 303 to sign in
        client.get("/static/app.css"),
        client.get("/static/app.js"),
        client.get("/openapi.json"),
    ]
    assert [a.status_code for a in answers] == [
        404,
        404,
        405,
        401,
        422,
        400,
        403,
        303,
        200,
        200,
        200,
    ]
    for answer in answers:
        assert_protective_headers(answer)
        if not answer.request.url.path.startswith("/static/"):
            assert_not_stored(answer)


def test_a_body_too_large_answer_has_them_too(app, client):
    too_big = b"x" * (app.state.reconnect.settings.max_body_bytes + 1)
    answer = client.post("/api/v1/checkins", content=too_big)
    assert answer.status_code == 413
    assert_protective_headers(answer)
    assert_not_stored(answer)


def test_a_crash_answer_has_them_too(app):
    def crash() -> None:
        raise RuntimeError("a bug in a handler")

    app.add_api_route("/api/v1/crash-for-test", crash)  # this app instance only
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/crash-for-test")
    assert answer.status_code == 500
    assert_protective_headers(answer)
    assert_not_stored(answer)


def test_signing_out_tells_the_browser_to_forget(app, hana_and_ivan):
    hana = signed_in(app, "hana")
    response = send_form(hana, "/logout", {})
    assert response.status_code == 303
    forget = {part.strip() for part in response.headers["clear-site-data"].split(",")}
    assert forget >= {'"cache"', '"storage"'}
    # Every cookie goes but the device cookie, which keeps this browser known to the
    # account (ratelimit.py); "cookies" here would clear that one too.
    deleted = {name for name, cookie in cookies_set(response).items() if cookie["max-age"] == "0"}
    assert deleted == {"reconnect_session", "reconnect_csrf"}
    assert_protective_headers(response)


def test_deleting_the_account_forgets_every_cookie(app, hana_and_ivan):
    hana = signed_in(app, "hana")
    response = send_form(hana, "/account/delete", {"password": PASSWORD})
    assert response.status_code == 200
    forget = {part.strip() for part in response.headers["clear-site-data"].split(",")}
    assert forget >= {'"cache"', '"cookies"', '"storage"'}


# --- cookies ----------------------------------------------------------------------------


def cookies_set(response: Any) -> dict[str, Any]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return dict(jar)


def sign_in_over(base_url: str, app: Any) -> tuple[TestClient, Any]:
    browser = TestClient(app, base_url=base_url, follow_redirects=False)
    page = BeautifulSoup(browser.get("/login").text, "html.parser")
    token = page.select_one("input[name=csrf_token]")["value"]
    answer = browser.post(
        "/login", data={"csrf_token": token, "username": "hana", "password": PASSWORD}
    )
    assert answer.status_code == 303, answer.text
    return browser, answer


def test_over_http_the_session_cookie_is_httponly_and_same_site_lax(app, hana_and_ivan):
    _, answer = sign_in_over("http://127.0.0.1", app)
    session = cookies_set(answer)["reconnect_session"]
    assert session["httponly"]
    assert session["samesite"].lower() == "lax"
    assert session["path"] == "/"


def test_over_https_every_cookie_is_host_prefixed_and_secure(app, hana_and_ivan):
    _, answer = sign_in_over("https://testserver", app)
    set_on_sign_in = cookies_set(answer)
    assert "__Host-reconnect" in set_on_sign_in
    first_visit = cookies_set(TestClient(app, base_url="https://testserver").get("/login"))
    assert "__Host-reconnect-csrf" in first_visit
    for name, cookie in {**set_on_sign_in, **first_visit}.items():
        assert name.startswith("__Host-"), name
        assert cookie["secure"], name
        assert cookie["httponly"], name
        assert cookie["samesite"].lower() == "lax", name
        assert cookie["path"] == "/", name
        assert not cookie["domain"], name


def test_over_https_signing_out_deletes_the_cookie_in_a_way_browsers_accept(app, hana_and_ivan):
    browser, _ = sign_in_over("https://testserver", app)
    token = browser.cookies.get("__Host-reconnect-csrf")
    answer = browser.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 303
    deleted = cookies_set(answer)["__Host-reconnect"]
    assert deleted["max-age"] == "0"
    assert deleted["secure"]
    assert deleted["path"] == "/"


# --- titles -------------------------------------------------------------------------------


def test_page_titles_name_the_app_and_nothing_personal(app, hana_wrote):
    for name in ("hana", "ivan"):
        visitor = signed_in(app, name)
        for address in [*page_addresses(hana_wrote), "/nowhere"]:
            page = visitor.get(address)
            if not visitor.last.headers["content-type"].startswith("text/html"):
                continue  # a download, such as the export
            title = page.title
            assert title is not None, address
            text = title.get_text()
            assert text.startswith("Reconnect"), (address, text)
            for private in ("hana", "ivan", CANARY):
                assert private not in text.lower(), (address, text)
