"""Pages, read with a real HTML parser: structure, flows, errors and safety controls."""

from __future__ import annotations

import pytest

from reconnect.domain.safety import QUESTIONS
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


def test_registering_shows_the_recovery_key_once_then_the_private_safety_questions(visitor):
    response = visitor.post(
        "/register", {"username": "hana", "password": "quiet river under stone"}
    )
    shown = soup(response)
    key = text_of(shown, "#recovery-key")
    assert len(key.replace("-", "")) == 32
    assert shown.select_one(".mark.private") is not None
    # It is not stored anywhere a later page could show it again.
    assert key not in visitor.get("/").get_text()
    page = visitor.get(shown.find("a", string=lambda s: s and "continue" in s)["href"])
    assert visitor.last.url.path == "/safety-screen"
    assert page.select_one(".mark.private") is not None
    assert len(page.select("fieldset")) == len(QUESTIONS)
    assert page.select_one("h1").get_text() == "A few private questions first"


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
    assert "storage" in response.headers["clear-site-data"]
    assert not visitor.client.cookies.get("reconnect_session")
    assert visitor.client.cookies.get("reconnect_device"), "the browser stays known"
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
        "put_down": "no",
        "own_force": "no",
        "children": "no",
        "threats_of_self_harm": "no",
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


# --- the daily rhythm: check in, today, practices, reflections ------------------------


CHECKIN_FORM = {
    "activation": "3",
    "state": "settled",
    "safety": "7",
    "urgency": "4",
    "readiness": "5",
    "drivers": "wish_for_closeness",
    "note": "slept a little",
}


def test_the_check_in_page_is_private_and_has_every_scale(paired):
    hana, _ = paired
    page = hana.get("/checkin")
    assert page.select_one(".mark.private") is not None
    for name in ("activation", "safety", "urgency", "readiness"):
        assert len(page.select(f"input[name={name}]")) == 11, name
    assert len(page.select("input[name=state]")) == 3


def test_a_check_in_leads_to_today_with_the_pace_and_what_to_do(paired):
    hana, _ = paired
    assert hana.post("/checkin", CHECKIN_FORM).status_code == 303
    page = hana.follow()
    assert "saved" in text_of(page, "[role=status]")
    assert "What fits today" in text_of(page, "#pace")
    assert page.select(".practices li a")
    assert page.select_one("form[action='/pause']") is not None


def test_a_half_filled_check_in_keeps_what_was_chosen(paired):
    hana, _ = paired
    response = hana.post("/checkin", {**CHECKIN_FORM, "safety": ""})
    page = soup(response)
    assert response.status_code == 422
    assert "each scale" in text_of(page, "#form-error")
    assert page.select_one("input[name=activation][value='3']").has_attr("checked")
    assert page.select_one("textarea#note").get_text() == "slept a little"


def test_the_partner_sees_a_pause_but_cannot_lift_it(paired):
    hana, ivan = paired
    hana.post("/pause", {})
    ivan_page = ivan.get("/today")
    assert "pause is in place" in text_of(ivan_page, "#main")
    assert ivan_page.select_one("form[action='/resume']") is None
    hana_page = hana.get("/today")
    assert hana_page.select_one("form[action='/resume']") is not None


def test_a_practice_page_shows_steps_time_box_and_stop_rule(paired):
    hana, _ = paired
    page = hana.get("/practices/longer-out-breath")
    assert page.find("h1").get_text()
    assert len(page.select("ol li")) >= 3
    assert "When to stop" in page.get_text()
    assert page.find("a", href="/experiences/new?practice=longer-out-breath")


def test_an_unknown_practice_page_is_a_calm_404(paired):
    hana, _ = paired
    hana.get("/practices/no-such-thing")
    assert hana.last.status_code == 404


REFLECTION = {
    "safety": "8",
    "activation_before": "4",
    "activation_after": "3",
    "staying": "stayed",
    "felt_pressured": "no",
    "authenticity": "3",
    "vulnerability": "2",
    "transparency": "3",
    "presence": "3",
}


def test_the_form_asks_who_started_a_shared_practice_and_when_you_will_be_back(paired):
    hana, _ = paired
    form = hana.get("/experiences/new?practice=walk-side-by-side")
    starters = {i["value"] for i in form.select("input[name=started_by]")}
    assert starters == {"me", "partner", "both"}
    legend = form.select_one("input[name=started_by]").find_parent("fieldset").legend
    assert "Who started it?" in legend.get_text()
    label = text_of(form, "label[for=back_in_minutes]")
    assert "when will you be back" in label
    minutes = [o["value"] for o in form.select("#back_in_minutes option") if o["value"]]
    assert minutes and min(map(int, minutes)) >= 20 and max(map(int, minutes)) <= 1440


def test_a_practice_done_alone_never_reaches_the_partners_pages(paired):
    """Issue 12, finding 11: no break, no 'waiting for your reflection', no shared week."""
    hana, ivan = paired
    overwhelmed = {**REFLECTION, "activation_after": "9", "practice_id": "longer-out-breath"}
    assert hana.post("/experiences", overwhelmed).status_code == 303
    today = ivan.get("/today")
    assert not today.select("a[href^='/experiences/new?experience=']")
    words = text_of(today, "#main")
    assert "waiting for your reflection" not in words.lower()
    assert "overwhelmed" not in words
    assert "A longer out-breath" not in text_of(ivan.get("/summary"), "#main")


def test_a_reflection_logged_by_one_partner_waits_for_the_other(paired):
    hana, ivan = paired
    answers = {
        "practice_id": "walk-side-by-side",
        "started_by": "partner",
        "safety": "8",
        "activation_before": "4",
        "activation_after": "3",
        "staying": "stayed",
        "felt_pressured": "no",
        "authenticity": "3",
        "vulnerability": "2",
        "transparency": "3",
        "presence": "3",
    }
    assert hana.post("/experiences", answers).status_code == 303
    waiting = ivan.get("/today").select("a[href^='/experiences/new?experience=']")
    assert len(waiting) == 1
    form = ivan.get(waiting[0]["href"])
    assert form.select_one("input[name=experience_id]") is not None
    assert form.select_one("select#practice_id") is None
