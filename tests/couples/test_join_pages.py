"""Joining a partner's couple space through the pages, without a dead end: every role
option reads as a sentence; a known code shows only the role that fits, already
chosen; a code comes first when none is known; a wrong or old code says so and tells
nothing of any couple; someone new who opens the invitation link finds their way
back to it after signing up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import update

from reconnect.domain.couples import ROLE_CHOICES
from reconnect.models import Invite, utcnow
from tests.conftest import NO_CONCERNS, PASSWORD
from tests.pages import Visitor, log_in, soup, text_of

SCREEN = {key: "no" for key in NO_CONCERNS}


def role_options(page: Any) -> dict[str, str]:
    """Each role radio's value, and the words a person reads beside it."""
    return {
        str(radio["value"]): " ".join(radio.parent.get_text(" ").split())
        for radio in page.select("input[name='role']")
    }


def invited_by(app: Any, name: str, role: str = "hurt") -> tuple[Visitor, str]:
    """``name`` creates a couple space as ``role`` and makes an invitation code."""
    inviter = Visitor(app)
    inviter.register(name)
    assert inviter.post("/couple", {"role": role}).status_code == 303
    return inviter, text_of(soup(inviter.post("/couple/invite", {})), "#invite-code")


def test_every_role_option_reads_as_a_sentence_on_the_couple_page(app):
    hana = Visitor(app)
    hana.register("hana")
    options = role_options(hana.get("/couple"))
    assert options == {role.value: sentence for role, sentence in ROLE_CHOICES.items()}
    assert options == {
        "hurt": "I am the hurt partner",
        "involved": "I am the involved partner",
        "both_hurt": "We have both been hurt",
    }


@pytest.mark.parametrize(
    ("theirs", "mine", "sentence", "said"),
    [
        (
            "hurt",
            "involved",
            "I am the involved partner",
            "Your partner said they are the hurt partner, so you join as the involved partner.",
        ),
        (
            "involved",
            "hurt",
            "I am the hurt partner",
            "Your partner said they are the involved partner, so you join as the hurt partner.",
        ),
        (
            "both_hurt",
            "both_hurt",
            "We have both been hurt",
            "Your partner said you have both been hurt, so you join as one of two hurt partners.",
        ),
    ],
)
def test_the_invitation_link_offers_only_the_role_that_fits_already_chosen(
    app, theirs, mine, sentence, said
):
    hana, code = invited_by(app, "hana", theirs)
    ivan = Visitor(app)
    ivan.register("ivan")
    page = ivan.get(f"/couple/join?code={quote(code)}")
    assert ivan.last.status_code == 200
    assert role_options(page) == {mine: sentence}
    assert page.select_one("input[name='role']").has_attr("checked")
    assert text_of(page, "#partner-chose") == said
    # Joining is one button away: the form is sent as it stands.
    form = {str(i["name"]): str(i.get("value", "")) for i in page.select("#join-role input")}
    del form["csrf_token"]
    assert form == {"code": code, "role": mine}
    ivan.post("/couple/join", form)
    assert ivan.last.headers["location"] == "/couple"
    assert "hana" in text_of(ivan.follow(), "#paired")
    assert "ivan" in text_of(hana.get("/couple"), "#paired")


def test_without_a_code_the_code_comes_first_and_then_the_role(app):
    _, code = invited_by(app, "hana")
    ivan = Visitor(app)
    ivan.register("ivan")
    first = ivan.get("/couple/join")
    assert first.select_one("input#code") is not None
    assert role_options(first) == {}, "no role is asked before the code is known"
    second = soup(ivan.post("/couple/join", {"code": code.lower().replace("-", " ")}))
    assert ivan.last.status_code == 200
    assert role_options(second) == {"involved": "I am the involved partner"}
    assert "hurt partner" in text_of(second, "#partner-chose")
    ivan.post("/couple/join", {"code": code, "role": "involved"})
    assert ivan.last.headers["location"] == "/couple"


@pytest.mark.parametrize("how", ["link", "typed"])
def test_a_wrong_code_keeps_its_clear_error_and_tells_nothing_of_a_couple(app, how):
    invited_by(app, "hana", "both_hurt")
    ivan = Visitor(app)
    ivan.register("ivan")
    wrong = "ABCDE-FGHJK-MNPQR-STVWX"
    if how == "link":
        page = ivan.get(f"/couple/join?code={wrong}")
    else:
        page = soup(ivan.post("/couple/join", {"code": wrong}))
    assert ivan.last.status_code == 404
    assert "does not match an invitation" in text_of(page, "#form-error")
    assert role_options(page) == {}
    assert page.select_one("#partner-chose") is None
    assert "hurt" not in page.select_one("main").get_text()
    assert page.select_one("input#code")["value"] == wrong, "kept, to correct it"


def test_an_expired_code_says_so_and_offers_no_role(app):
    _, code = invited_by(app, "hana")
    with app.state.reconnect.sessions() as db:
        db.execute(update(Invite).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    ivan = Visitor(app)
    ivan.register("ivan")
    page = ivan.get(f"/couple/join?code={code}")
    assert ivan.last.status_code == 410
    assert "expired" in text_of(page, "#form-error")
    assert role_options(page) == {} and page.select_one("#partner-chose") is None


def test_a_role_that_does_not_fit_is_refused_with_the_fitting_one_offered(app):
    _, code = invited_by(app, "hana")
    ivan = Visitor(app)
    ivan.register("ivan")
    page = soup(ivan.post("/couple/join", {"code": code, "role": "hurt"}))
    assert ivan.last.status_code == 409
    assert "so you join as the involved partner" in text_of(page, "#form-error")
    assert role_options(page) == {"involved": "I am the involved partner"}


def test_someone_new_who_opens_the_link_is_brought_back_to_it_after_signing_up(app):
    _, code = invited_by(app, "hana")
    ivan = Visitor(app)
    page = ivan.get(f"/couple/join?code={quote(code)}")
    assert ivan.last.status_code == 200
    assert page.select_one("main a[href='/register']") is not None
    assert page.select_one("main a[href='/login']") is not None
    assert "hurt" not in page.select_one("main").get_text(), "nothing of the couple yet"
    ivan.register("ivan", screen=None)
    # The safety questions lead to the couple page, which leads back to the invitation.
    ivan.post("/safety-screen", SCREEN)
    assert ivan.last.headers["location"] == "/couple"
    ivan.get("/couple")
    assert ivan.last.status_code == 303
    back = ivan.follow()
    assert role_options(back) == {"involved": "I am the involved partner"}
    ivan.post("/couple/join", {"code": code, "role": "involved"})
    assert ivan.last.headers["location"] == "/couple"
    assert "hana" in text_of(ivan.follow(), "#paired")
    # The code is forgotten: the couple page stays put from now on.
    assert "reconnect_join" not in ivan.client.cookies
    ivan.get("/couple")
    assert ivan.last.status_code == 200


def test_someone_with_an_account_who_signs_in_from_the_link_goes_on_to_joining(app):
    _, code = invited_by(app, "hana")
    Visitor(app).register("ivan")
    ivan = Visitor(app)  # the phone, where nobody is signed in yet
    ivan.get(f"/couple/join?code={quote(code)}")
    ivan.post("/login", {"username": "ivan", "password": PASSWORD})
    assert ivan.last.headers["location"] == "/couple"
    ivan.follow()
    assert ivan.last.headers["location"] == f"/couple/join?code={quote(code)}"
    assert role_options(ivan.follow()) == {"involved": "I am the involved partner"}


def test_a_plain_sign_in_lands_on_the_home_page(app):
    Visitor(app).register("ivan")
    ivan = Visitor(app)
    ivan.post("/login", {"username": "ivan", "password": PASSWORD})
    assert ivan.last.headers["location"] == "/"


def test_a_signed_in_person_before_the_safety_questions_keeps_the_code(app):
    _, code = invited_by(app, "hana")
    ivan = Visitor(app)
    ivan.register("ivan", screen=None)
    ivan.get(f"/couple/join?code={quote(code)}")
    assert ivan.last.headers["location"] == "/safety-screen"
    ivan.post("/safety-screen", SCREEN)
    ivan.get("/couple")
    assert ivan.last.headers["location"] == f"/couple/join?code={quote(code)}"


def test_a_kept_code_that_no_longer_works_says_so_once(app):
    _, code = invited_by(app, "hana")
    ivan = Visitor(app)
    ivan.get(f"/couple/join?code={quote(code)}")
    with app.state.reconnect.sessions() as db:
        db.execute(update(Invite).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    ivan.register("ivan")
    ivan.get("/couple")
    assert "expired" in text_of(ivan.follow(), "#form-error")
    page = ivan.get("/couple")
    assert ivan.last.status_code == 200, "no loop: the couple page is shown"
    assert role_options(page) == {r.value: s for r, s in ROLE_CHOICES.items()}


# --- who may use the join page, and what each learns ------------------------------


@pytest.fixture
def join_world(app, people, hana_and_ivan, olga_and_oscar) -> dict[str, str]:
    """Hana (hurt) and Ivan (involved); Olga of another couple; Thea, their therapist
    with both partners' consent; Theo, Olga's, waiting for Oscar's; Uma's open
    invitation; and Nina, new, who has answered the safety questions."""
    hana, ivan = hana_and_ivan
    olga, _ = olga_and_oscar
    for name, inviter in (("thea", hana), ("theo", olga)):
        therapist = people.register(name, screen=None)
        code = inviter.post("/api/v1/therapist/invites").json()["code"]
        assert therapist.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    uma = people.register("uma")
    uma.post("/api/v1/couples", {"role": "both_hurt"})
    people.register("nina")
    return {"code": uma.post("/api/v1/couples/invites").json()["code"]}


# What each learns from Uma's valid code: only Nina, free to join, sees the role.
JOIN_ACCESS = {
    "anonymous": (200, 303),
    "hana": (409, 409),  # hurt partner: in a couple space already
    "ivan": (409, 409),  # involved partner
    "olga": (409, 409),  # another couple's partner
    "thea": (200, 403),  # therapist with consent: told this account has no couple space
    "theo": (200, 403),  # therapist without consent yet
    "nina": (200, 200),
}


@pytest.mark.parametrize("who", list(JOIN_ACCESS))
def test_the_join_page_for_every_role(app, join_world, who):
    code = join_world["code"]
    visitor = Visitor(app) if who == "anonymous" else log_in(app, who)
    by_link = visitor.get(f"/couple/join?code={quote(code)}")
    link_status, post_status = JOIN_ACCESS[who]
    assert visitor.last.status_code == link_status
    by_form = soup(visitor.post("/couple/join", {"code": code}))
    assert visitor.last.status_code == post_status
    for page in (by_link, by_form):
        told = page.select_one("#partner-chose")
        if who == "nina":
            assert told is not None and "both been hurt" in told.get_text()
        else:
            assert told is None and role_options(page) == {}
    if who == "anonymous":
        assert visitor.last.headers["location"] == "/login"
    if who in {"thea", "theo"}:
        assert by_link.select_one("#therapist-account") is not None
        assert by_form.select_one("#therapist-account") is not None
    if who in {"hana", "ivan", "olga"}:
        assert "already belong" in text_of(by_link, "#form-error")
