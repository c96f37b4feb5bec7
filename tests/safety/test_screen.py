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
