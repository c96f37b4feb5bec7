"""A couples therapist says so when they sign up: from the start they have their own
navigation and caseload, skip the partners' private safety questions, learn what to
do next, and their account never creates or joins a couple space."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from reconnect.models import Membership, Person
from tests.conftest import PASSWORD, People
from tests.pages import Visitor, soup, text_of


def nav_links(page: Any) -> list[str]:
    nav = page.select_one("nav.nav")
    assert nav is not None
    return [str(a["href"]) for a in nav.find_all("a")]


def sign_up(app: Any, username: str, account: str | None) -> tuple[Visitor, Any]:
    visitor = Visitor(app)
    form = {"username": username, "password": PASSWORD}
    if account is not None:
        form["account"] = account
    page = soup(visitor.post("/register", form))
    assert visitor.last.status_code == 200, visitor.last.text
    assert page.select_one("#recovery-key") is not None
    return visitor, page


def stored_as_therapist(app: Any, username: str) -> bool:
    with app.state.reconnect.sessions() as db:
        return bool(db.scalar(select(Person.is_therapist).where(Person.username == username)))


def test_the_sign_up_form_asks_partner_or_therapist(app):
    page = Visitor(app).get("/register")
    choices = {
        str(radio["value"]): " ".join(radio.parent.get_text(" ").split())
        for radio in page.select("input[name='account']")
    }
    assert choices == {
        "partner": "I am a partner in a couple",
        "therapist": "I am a couples therapist",
    }
    assert page.select_one("input[name='account'][value='partner']").has_attr("checked")


@pytest.mark.parametrize("account", [None, "partner"])
def test_a_partner_signs_up_as_before(app, account):
    visitor, page = sign_up(app, "nina", account)
    assert not stored_as_therapist(app, "nina")
    assert "/couple" in nav_links(page)
    # The partners' way on: the private safety questions, then the couple page.
    visitor.get("/couple")
    assert visitor.last.headers["location"] == "/safety-screen"


@pytest.fixture
def tess(app) -> Visitor:
    """Tess, who signed up as a couples therapist; no couple has linked her yet."""
    visitor, page = sign_up(app, "tess", "therapist")
    assert nav_links(page) == ["/caseload", "/account"], "her own navigation at once"
    return visitor


def test_a_therapist_is_one_from_the_start(app, tess):
    assert stored_as_therapist(app, "tess")
    home = tess.get("/")
    assert home.select_one("main a[href='/caseload']") is not None
    assert home.select_one("main a[href='/safety-screen']") is None
    signed_in_again = Visitor(app)
    signed_in_again.post("/login", {"username": "tess", "password": PASSWORD})
    assert signed_in_again.last.headers["location"] == "/caseload"


def test_an_empty_caseload_says_what_to_do_next(app, tess):
    page = tess.get("/caseload")
    assert tess.last.status_code == 200
    assert nav_links(page) == ["/caseload", "/account"]
    said = text_of(page, "#no-cases")
    assert "code" in said and "Therapist page" in said and "Join a couple" in said
    assert page.select_one("form[action='/therapist/join'] input[name='code']") is not None


def test_a_therapist_skips_the_partners_safety_questions(app, tess):
    for path in ("/couple", "/couple/join", "/couple/join?code=ABCDE-FGHJK-MNPQR-STVWX"):
        page = tess.get(path)
        assert tess.last.status_code == 200, path
        assert "cannot create or join" in text_of(page, "#therapist-account")
        assert page.select_one("main a[href='/caseload']") is not None
        assert page.select_one("input[name='role']") is None


def test_a_therapist_cannot_create_or_join_a_couple_space(app, tess, people: People):
    uma = people.register("uma")
    uma.post("/api/v1/couples", {"role": "hurt"})
    code = uma.post("/api/v1/couples/invites").json()["code"]
    for path, form in (
        ("/couple", {"role": "hurt"}),
        ("/couple/join", {"code": code, "role": "involved"}),
        ("/couple/join", {"code": code}),
        ("/couple/invite", {}),
        ("/couple/time-zone", {"time_zone": "Europe/Paris"}),
    ):
        page = soup(tess.post(path, form))
        assert tess.last.status_code == 403, path
        assert "cannot create or join" in text_of(page, "#therapist-account")
    # Through the API too: a clear answer, never a server error.
    token = people.login("tess")
    api = {"Authorization": f"Bearer {token}"}
    for path, body in (
        ("/api/v1/couples", {"role": "hurt"}),
        ("/api/v1/couples/join", {"code": code, "role": "involved"}),
        ("/api/v1/couples/invites", None),
    ):
        answer = people.client.post(path, json=body, headers=api)
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "therapist_account"
        assert "therapist" in answer.json()["error"]["message"]
    with app.state.reconnect.sessions() as db:
        assert db.scalars(select(Membership.person_id)).all() == [uma_id(db)]
    # Uma's code still works for her partner.
    assert "hurt partner" in text_of(
        _screened(app, "ivan").get(f"/couple/join?code={quote(code)}"), "#partner-chose"
    )


def test_a_therapist_account_joins_a_couple_as_their_therapist(app, tess, hana_and_ivan):
    hana, ivan = hana_and_ivan
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    tess.post("/therapist/join", {"code": code})
    assert tess.last.headers["location"] == "/caseload"
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    page = tess.get("/caseload")
    assert page.select_one("#cases a") is not None and page.select_one("#no-cases") is None


def uma_id(db: Any) -> int:
    return int(db.scalar(select(Person.id).where(Person.username == "uma")))


def _screened(app: Any, name: str) -> Visitor:
    visitor = Visitor(app)
    visitor.register(name)
    return visitor
