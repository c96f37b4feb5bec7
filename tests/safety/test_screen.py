"""The private safety screen: a concern routes a person to support, and the partner cannot tell."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reconnect.domain.safety import QUESTIONS
from reconnect.models import SafetyScreen
from tests.conftest import NO_CONCERNS

pytestmark = pytest.mark.usefixtures("backend")


def concern(question_id: str = "fear") -> dict[str, bool]:
    return {**NO_CONCERNS, question_id: True}


def test_questions_come_with_ids_and_text(people):
    hana = people.register("hana", screen=None)
    questions = hana.get("/api/v1/safety-screen").json()["questions"]
    assert [q["id"] for q in questions] == [q.id for q in QUESTIONS]
    assert all(len(q["text"]) > 20 for q in questions)


def test_couple_features_stay_closed_until_the_screen_is_answered(people):
    hana = people.register("hana", screen=None)
    response = hana.post("/api/v1/couples", {"role": "hurt"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "safety_screen_needed"
    hana.post("/api/v1/safety-screen", {"answers": NO_CONCERNS})
    assert hana.post("/api/v1/couples", {"role": "hurt"}).status_code == 201


@pytest.mark.parametrize("question", [q.id for q in QUESTIONS])
def test_any_concern_offers_support_and_keeps_joint_features_off(people, question):
    hana = people.register("hana", screen=None)
    result = hana.post("/api/v1/safety-screen", {"answers": concern(question)}).json()
    assert result["joint_features"] is False
    assert any("Domestic" in r["name"] for r in result["resources"])
    blocked = hana.post("/api/v1/couples", {"role": "hurt"})
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "joint_features_off"


def test_the_person_can_choose_to_continue(people):
    hana = people.register("hana", screen=concern())
    assert hana.post("/api/v1/safety-screen/continue").json()["joint_features"] is True
    assert hana.post("/api/v1/couples", {"role": "hurt"}).status_code == 201


def test_no_concerns_opens_joint_features_without_resources(people):
    hana = people.register("hana", screen=None)
    result = hana.post("/api/v1/safety-screen", {"answers": NO_CONCERNS}).json()
    assert result == {"joint_features": True, "resources": []}


@pytest.mark.parametrize(
    "answers",
    [{}, {"fear": True}, {**NO_CONCERNS, "mood": False}, {**NO_CONCERNS, "fear": "yes"}],
)
def test_incomplete_or_odd_answers_change_nothing(people, app, answers):
    hana = people.register("hana", screen=None)
    response = hana.post("/api/v1/safety-screen", {"answers": answers})
    assert response.status_code == 422
    with app.state.reconnect.sessions() as db:
        assert db.scalars(select(SafetyScreen)).all() == []


def test_the_answers_themselves_are_never_stored_and_the_outcome_only_sealed(people, app):
    hana = people.register("hana", screen=concern("control"))
    with app.state.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM safety_screen")
        columns, row = rows.keys(), rows.one()
    assert set(columns) == {"person_id", "sealed"}
    assert row.person_id == hana.get("/api/v1/me").json()["id"]
    assert b"true" not in row.sealed and len(row.sealed) > 28  # nonce, tag and a ciphertext


PARTNER_VIEWS = ["/api/v1/me", "/api/v1/couples/current"]


def partner_views(person) -> list[bytes]:
    return [person.get(path).content for path in PARTNER_VIEWS]


def test_the_partner_cannot_tell_a_concern_was_raised(hana_and_ivan):
    hana, ivan = hana_and_ivan
    before = partner_views(ivan)
    # Hana answers again, privately, and this time raises a concern.
    result = hana.post("/api/v1/safety-screen", {"answers": concern("fear")}).json()
    assert result["joint_features"] is False
    assert partner_views(ivan) == before
    # ...and when she chooses to continue, Ivan still sees exactly the same.
    hana.post("/api/v1/safety-screen/continue")
    assert partner_views(ivan) == before


def test_a_partner_who_raised_a_concern_looks_like_any_other(people):
    # Two couples: Anna has no concerns; Cleo raises one after joining.
    ana, bo = people.register("anna"), people.register("boris")
    cleo, dan = people.register("cleo"), people.register("dani")
    for inviter in (bo, dan):
        inviter.post("/api/v1/couples", {"role": "involved"})
    for joiner, inviter in ((ana, bo), (cleo, dan)):
        code = inviter.post("/api/v1/couples/invites").json()["code"]
        assert (
            joiner.post("/api/v1/couples/join", {"code": code, "role": "hurt"}).status_code == 200
        )
    cleo.post("/api/v1/safety-screen", {"answers": concern("physical_harm")})
    bo_view = bo.get("/api/v1/couples/current").json()
    dan_view = dan.get("/api/v1/couples/current").json()
    for view in (bo_view, dan_view):
        view.pop("id")
        view["partner"].pop("username")
    assert bo_view == dan_view


def test_the_database_file_cannot_tell_a_concern_from_none_by_its_length(people, app):
    """The outcome is sealed, but JSON's "true" and "false" differ by a byte, and a
    time where "null" stood by more: the partner holding the file must not read the
    answer from the ciphertext's length."""
    people.register("anna")  # no concerns
    cleo = people.register("cleo", screen=concern("fear"))
    dani = people.register("dani", screen=concern("control"))
    dani.post("/api/v1/safety-screen/continue")
    cleo.post("/api/v1/safety-screen/later")
    with app.state.engine.connect() as connection:
        lengths = {len(r.sealed) for r in connection.exec_driver_sql("SELECT * FROM safety_screen")}
    assert len(lengths) == 1, lengths


def test_the_new_questions_cover_put_downs_ones_own_force_children_and_threats(people):
    asked = {
        q["id"]: q["text"]
        for q in people.register("hana").get("/api/v1/safety-screen").json()["questions"]
    }
    assert {"put_down", "own_force", "children", "threats_of_self_harm"} <= asked.keys()
    assert "have you yourself" in asked["own_force"]
    for question in ("put_down", "own_force", "children", "threats_of_self_harm"):
        assert concern(question)[question] is True


def test_the_screen_is_offered_again_after_eight_weeks_and_rests_when_put_off(app, people, clock):
    from tests.pages import log_in

    hana, _ = people.couple("hana", "ivan")
    assert log_in(app, "hana").get("/today").select_one("#safety-again") is None
    assert hana.get("/api/v1/safety-screen").json()["ask_again"] is False
    clock.advance(weeks=8)
    page = log_in(app, "hana")  # weeks later: signed in afresh
    offer = page.get("/today").select_one("#safety-again")
    assert offer is not None and "Only you see this" in offer.get_text()
    assert offer.select_one("a[href='/safety-screen']") is not None
    # "Not now" rests it for another eight weeks, never nagging in between.
    page.post("/safety-screen/later", {})
    assert page.last.status_code == 303
    assert page.follow().select_one("#safety-again") is None
    clock.advance(weeks=7)
    page = log_in(app, "hana")
    assert page.get("/today").select_one("#safety-again") is None
    clock.advance(weeks=1)
    page = log_in(app, "hana")
    assert page.get("/today").select_one("#safety-again") is not None
    # Answering again, at any time, is what resets it.
    again = page.get("/safety-screen")
    assert "again" in again.select_one("h1").get_text()
    page.post("/safety-screen", {q.id: "no" for q in QUESTIONS})
    assert page.get("/today").select_one("#safety-again") is None


def test_a_concern_raised_on_answering_again_routes_privately_and_the_partner_sees_nothing(
    people, clock, hana_and_ivan
):
    hana, ivan = hana_and_ivan
    clock.advance(weeks=9)
    ivan.token = people.login("ivan")
    hana.token = people.login("hana")
    assert hana.get("/api/v1/safety-screen").json()["ask_again"] is True
    before = partner_views(ivan)
    result = hana.post("/api/v1/safety-screen", {"answers": concern("own_force")}).json()
    assert result["joint_features"] is False and result["resources"]
    assert hana.post("/api/v1/couples/invites").status_code == 403
    assert hana.get("/api/v1/safety-screen").json()["ask_again"] is False
    assert partner_views(ivan) == before
