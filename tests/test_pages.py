"""Pages, read with a real HTML parser: structure, flows, errors and safety controls."""

from __future__ import annotations

import pytest

from tests.pages import Visitor, soup, text_of


@pytest.fixture
def visitor(app):
    return Visitor(app)


def test_the_home_page_offers_quick_exit_safety_and_the_privacy_promise(visitor, app):
    page = visitor.get("/")
    assert visitor.last.status_code == 200
    assert page.find("h1").get_text()
    exit_link = page.select_one("a#quick-exit")
    assert exit_link["href"] == app.state.reconnect.settings.quick_exit_url
    assert page.select_one("#promise") is not None
    assert page.find("a", href="/safety") is not None
    assert page.find("meta", attrs={"name": "viewport"}) is not None
    assert page.find("html")["lang"] == "en"


def test_every_page_has_the_quick_exit_control_and_a_neutral_title(visitor):
    for path in ["/", "/safety", "/privacy", "/login", "/register"]:
        page = visitor.get(path)
        assert page.select_one("a#quick-exit") is not None, path
        assert page.title.get_text().startswith("Reconnect"), path


def test_the_safety_page_says_couple_work_is_not_for_abuse_and_lists_help(visitor):
    page = visitor.get("/safety")
    words = " ".join(page.get_text(" ").split())
    assert "coercive control" in words
    assert "not suitable" in words
    assert len(page.select("ul.resources li")) >= 5


def test_forms_without_a_csrf_token_are_refused(visitor, app):
    response = visitor.post("/register", {"username": "hana", "password": "x" * 20}, csrf=False)
    assert response.status_code == 403
    assert "expired" in text_of(soup(response), "main")


def test_cross_site_posts_are_refused_even_with_a_token(visitor):
    token = visitor.csrf()
    response = visitor.client.post(
        "/login",
        data={"csrf_token": token, "username": "hana", "password": "whatever"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


def test_registering_signs_in_and_leads_to_the_private_safety_questions(visitor):
    visitor.post("/register", {"username": "hana", "password": "quiet river under stone"})
    page = visitor.follow()
    assert visitor.last.url.path == "/safety-screen"
    assert page.select_one(".badge.private") is not None
    assert len(page.select("fieldset")) == 5


def test_a_weak_password_is_explained_on_the_page_and_the_name_kept(visitor):
    response = visitor.post("/register", {"username": "hana", "password": "password"})
    page = soup(response)
    assert response.status_code == 400
    assert "at least 12" in text_of(page, "#form-error")
    assert page.select_one("input#username")["value"] == "hana"


def test_a_wrong_password_gets_a_calm_message(visitor):
    visitor.register("hana")
    other = Visitor(visitor.client.app)
    response = other.post("/login", {"username": "hana", "password": "not it at all"})
    assert response.status_code == 401
    assert "do not match" in text_of(soup(response), "#form-error")


def test_signing_in_issues_a_fresh_session_cookie(visitor):
    visitor.register("hana")
    other = Visitor(visitor.client.app)
    other.client.cookies.set("reconnect_session", "planted-by-someone-else")
    other.post("/login", {"username": "hana", "password": "quiet river under stone"})
    assert other.last.status_code == 303
    issued = other.last.cookies.get("reconnect_session")
    assert issued and issued != "planted-by-someone-else"


def test_signing_out_ends_the_session_and_clears_the_browser(visitor):
    visitor.register("hana")
    old_cookie = visitor.client.cookies.get("reconnect_session")
    response = visitor.post("/logout", {})
    assert response.status_code == 303
    assert "cookies" in response.headers["clear-site-data"]
    replay = Visitor(visitor.client.app)
    replay.client.cookies.set("reconnect_session", old_cookie)
    replay.get("/couple")
    assert replay.last.status_code == 303
    assert replay.last.headers["location"] == "/login"


def test_a_concern_leads_to_support_and_the_couple_page_stays_closed(visitor):
    visitor.register("hana", screen=None)
    answers = {
        "physical_harm": "no",
        "fear": "yes",
        "control": "no",
        "sexual_pressure": "no",
        "unsafe_to_write": "no",
    }
    visitor.post("/safety-screen", answers)
    page = visitor.follow()
    assert visitor.last.url.path == "/support"
    assert len(page.select("ul.resources li")) >= 5
    couple_page = visitor.get("/couple")
    assert couple_page.select_one("form[action='/couple']") is None
    visitor.post("/support/continue", {})
    assert visitor.follow().select_one("form[action='/couple']") is not None


def test_unanswered_questions_are_pointed_out(visitor):
    visitor.register("hana", screen=None)
    response = visitor.post("/safety-screen", {"fear": "no"})
    assert response.status_code == 422
    assert "answer every question" in text_of(soup(response), "#form-error")


def test_two_browsers_pair_through_the_pages(app):
    hana, ivan = Visitor(app), Visitor(app)
    hana.register("hana")
    ivan.register("ivan")
    hana.post("/couple", {"role": "hurt"})
    assert text_of(hana.follow(), "#waiting")
    response = hana.post("/couple/invite", {})
    code = text_of(soup(response), "#invite-code")
    assert ivan.post("/couple/join", {"code": code, "role": "involved"}).status_code == 303
    assert "hana" in text_of(ivan.follow(), "#paired")
    assert "ivan" in text_of(hana.get("/couple"), "#paired")


@pytest.mark.parametrize(
    ("code", "message"),
    [("ABCDE-FGHJK-MNPQR-STVWX", "does not match"), ("", "does not match")],
)
def test_join_errors_are_shown_on_the_form(app, code, message):
    ivan = Visitor(app)
    ivan.register("ivan")
    response = ivan.post("/couple/join", {"code": code, "role": "involved"})
    assert response.status_code == 404
    assert message in text_of(soup(response), "#form-error")
    assert soup(response).select_one("form[action='/couple/join']") is not None


def test_unknown_pages_get_a_calm_404_page(visitor):
    page = visitor.get("/no/such/page")
    assert visitor.last.status_code == 404
    assert "nothing here" in page.get_text()


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/me", "/static/app.css"])
def test_security_headers_are_on_every_response(visitor, path):
    visitor.get(path)
    headers = visitor.last.headers
    csp = headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    if not path.startswith("/static"):
        assert headers["cache-control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite_lax(visitor):
    visitor.post("/register", {"username": "hana", "password": "quiet river under stone"})
    cookie = visitor.last.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
