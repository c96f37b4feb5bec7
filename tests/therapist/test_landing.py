"""A therapist's own front door: after sign-in, the caseload, with navigation of their
own (Caseload, Account, Sign out) rather than the partners' check-ins and couple space.
Partners' navigation stays as it was.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from tests.conftest import People
from tests.pages import Visitor, log_in

# The four daily places first, then the rest under "More".
PARTNER_LINKS = [
    "/today",
    "/checkin",
    "/notes",
    "/progress",
    "/",
    "/moments",
    "/commitments",
    "/rituals",
    "/disclosure",
    "/letters",
    "/hard-dates",
    "/insights",
]
PARTNER_LINKS += ["/questionnaires", "/couple", "/safety", "/account"]


def nav_links(page: BeautifulSoup) -> list[str]:
    nav = page.select_one("nav.nav")
    assert nav is not None, "signed in, there is a navigation"
    return [str(a["href"]) for a in nav.find_all("a")]


def signs_out(page: BeautifulSoup) -> bool:
    nav = page.select_one("nav.nav")
    return nav is not None and nav.select_one("form[action='/logout'] button") is not None


@pytest.fixture
def thea(people: People, hana_and_ivan) -> str:
    """Thea, the therapist Hana invited and Ivan agreed to."""
    hana, ivan = hana_and_ivan
    therapist = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert therapist.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    return "thea"


def test_a_therapist_lands_on_the_caseload_after_sign_in(app, thea):
    browser = log_in(app, thea)
    assert browser.last.headers["location"] == "/caseload"
    page = browser.follow()
    assert browser.last.status_code == 200
    assert page.select_one("#cases") is not None


def test_a_therapist_sees_therapist_navigation(app, thea):
    page = log_in(app, thea).get("/caseload")
    assert nav_links(page) == ["/caseload", "/account"]
    assert signs_out(page)


def test_a_therapist_waiting_for_consent_is_a_therapist_too(app, people: People, hana_and_ivan):
    hana, _ = hana_and_ivan
    therapist = people.register("theo", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert therapist.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    browser = log_in(app, "theo")
    assert browser.last.headers["location"] == "/caseload"
    assert nav_links(browser.follow()) == ["/caseload", "/account"]


def test_the_therapists_home_and_today_point_to_the_caseload(app, thea):
    browser = log_in(app, thea)
    home = browser.get("/")
    assert browser.last.status_code == 200
    assert home.select_one("main a[href='/caseload']") is not None
    assert home.select_one("main a[href='/couple']") is None
    assert "couple space" not in home.select_one("main").get_text().lower()
    today = browser.get("/today")
    assert browser.last.status_code == 200
    assert today.select_one("main a[href='/caseload']") is not None
    assert today.select_one("main a[href='/couple']") is None
    assert today.select_one("main a[href='/checkin']") is None


def test_partners_keep_their_navigation_and_landing(app, paired):
    for username in ("hana", "ivan"):
        browser = log_in(app, username)
        assert browser.last.headers["location"] == "/"
        page = browser.follow()
        assert nav_links(page) == PARTNER_LINKS
        assert signs_out(page)
        assert "/caseload" not in nav_links(browser.get("/today"))


def test_someone_new_has_the_partners_navigation(app):
    browser = Visitor(app)
    browser.register("nina")
    assert nav_links(browser.get("/")) == PARTNER_LINKS
