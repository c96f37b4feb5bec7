"""Shared status, triggers and responses, proposals, and the flooding break, via the API.

Hana is the hurt partner, Ivan the involved partner, Olga is in another couple.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from reconnect.models import SharedStatus, Trigger
from tests.pacing.api_steps import check_in, tier
from tests.payloads import CALM

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def couple(hana_and_ivan, clock):
    return hana_and_ivan


def test_a_shared_status_is_all_the_partner_sees(couple, app):
    hana, ivan = couple
    hana.post("/api/v1/checkins", {**CALM, "activation": 9, "note": "private words"})
    shared = hana.post("/api/v1/status", {"status": "okay", "words": "a slow morning"})
    assert shared.status_code == 201
    seen = ivan.get("/api/v1/status").json()["statuses"]
    assert seen == [
        {"who": "partner", "status": "okay", "words": "a slow morning", "at": seen[0]["at"]}
    ]
    assert "private words" not in ivan.get("/api/v1/status").text
    with app.state.reconnect.sessions() as db:
        assert b"a slow morning" not in db.scalar(select(SharedStatus.sealed))


def test_the_latest_status_of_the_day_counts(couple, clock):
    hana, ivan = couple
    hana.post("/api/v1/status", {"status": "struggling"})
    clock.advance(hours=2)
    hana.post("/api/v1/status", {"status": "need_space", "words": "a walk alone"})
    statuses = ivan.get("/api/v1/status").json()["statuses"]
    assert [(s["who"], s["status"]) for s in statuses] == [("partner", "need_space")]
    clock.advance(days=2)
    assert ivan.get("/api/v1/status").json()["statuses"] == []


def test_a_trigger_not_told_stays_private(couple, app):
    hana, ivan = couple
    logged = hana.post("/api/v1/triggers", {"what": "his phone buzzed", "strength": 7})
    assert logged.status_code == 201
    assert ivan.get("/api/v1/triggers").json() == {"mine": [], "to_respond": []}
    assert hana.get("/api/v1/triggers").json()["mine"][0]["what"] == "his phone buzzed"
    with app.state.reconnect.sessions() as db:
        row = db.scalar(select(Trigger))
        assert row.told_sealed is None and b"phone" not in row.sealed


def test_a_told_trigger_prompts_a_response_whose_time_and_kind_are_kept(couple, clock):
    hana, ivan = couple
    trigger = hana.post(
        "/api/v1/triggers", {"what": "the song", "strength": 6, "tell_partner": True}
    ).json()
    waiting = ivan.get("/api/v1/triggers").json()["to_respond"]
    assert [(t["id"], t["what"], t["strength"]) for t in waiting] == [
        (trigger["id"], "the song", 6)
    ]
    clock.advance(minutes=4)
    answered = ivan.post(f"/api/v1/triggers/{trigger['id']}/respond", {"kind": "comfort"})
    assert answered.status_code == 200
    mine = hana.get("/api/v1/triggers").json()["mine"][0]
    assert mine["response_kind"] == "comfort"
    took = datetime.fromisoformat(mine["responded_at"]) - datetime.fromisoformat(mine["at"])
    assert 230 <= took.total_seconds() <= 250
    again = ivan.post(f"/api/v1/triggers/{trigger['id']}/respond", {"kind": "space"})
    assert again.status_code == 409
    assert ivan.get("/api/v1/triggers").json()["to_respond"] == []


@pytest.mark.parametrize("kind", ["defend", "explain", ""])
def test_there_is_no_way_to_defend_in_a_response(couple, kind):
    hana, ivan = couple
    trigger = hana.post(
        "/api/v1/triggers", {"what": "a date", "strength": 5, "tell_partner": True}
    ).json()
    response = ivan.post(f"/api/v1/triggers/{trigger['id']}/respond", {"kind": kind})
    assert response.status_code == 422


def test_only_the_partner_told_can_respond(couple, olga_and_oscar):
    hana, _ = couple
    olga, _ = olga_and_oscar
    trigger = hana.post(
        "/api/v1/triggers", {"what": "a date", "strength": 5, "tell_partner": True}
    ).json()
    for person in (hana, olga):
        response = person.post(f"/api/v1/triggers/{trigger['id']}/respond", {"kind": "space"})
        assert response.status_code == 404


def test_triggers_are_logged_by_the_hurt_partner(couple):
    _, ivan = couple
    response = ivan.post("/api/v1/triggers", {"what": "guilt", "strength": 5})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "hurt_partner_only"


@pytest.mark.parametrize(
    "body", [{"what": "", "strength": 3}, {"what": "x", "strength": 11}, {"what": "x"}]
)
def test_bad_triggers_are_refused(couple, body):
    hana, _ = couple
    assert hana.post("/api/v1/triggers", body).status_code == 422


def test_a_flooding_break_is_seen_by_both_and_steps_the_pace_down(couple, clock):
    hana, ivan = couple
    check_in(hana)
    check_in(ivan)
    started = ivan.post("/api/v1/breaks", {"minutes": 30})
    assert started.status_code == 201
    return_at = started.json()["return_at"]
    for person in (hana, ivan):
        pace = person.get("/api/v1/pace").json()
        assert pace["break_until"] == return_at
        assert pace["permitted_tier"] == 0
        assert all(p["tier"] == 0 for p in pace["practices"]), "self-soothing only"
    clock.advance(minutes=31)
    assert hana.get("/api/v1/pace").json()["break_until"] is None


@pytest.mark.parametrize("minutes", [5, 19, 24 * 60 + 1])
def test_a_break_lasts_at_least_20_minutes_and_at_most_a_day(couple, minutes):
    hana, _ = couple
    assert hana.post("/api/v1/breaks", {"minutes": minutes}).status_code == 422


def test_a_proposal_can_be_declined_without_a_reason(couple):
    hana, ivan = couple
    proposal = ivan.post("/api/v1/proposals", {"practice_id": "longer-out-breath"})
    assert proposal.status_code == 201
    proposal_id = proposal.json()["id"]
    seen = hana.get("/api/v1/proposals").json()
    assert [(p["id"], p["mine"], p["response"]) for p in seen] == [(proposal_id, False, None)]
    declined = hana.post(f"/api/v1/proposals/{proposal_id}/decline")
    assert declined.status_code == 200
    assert declined.json()["response"] == "declined"
    assert set(declined.json()) == {
        "id",
        "at",
        "mine",
        "practice_id",
        "tier",
        "response",
        "responded_at",
    }, "there is no reason field"
    assert ivan.post(f"/api/v1/proposals/{proposal_id}/accept").status_code == 404
    assert hana.post(f"/api/v1/proposals/{proposal_id}/accept").status_code == 409


def test_affection_and_intimacy_are_never_proposed(couple):
    _, ivan = couple
    practices = ivan.get("/api/v1/practices").json()
    for practice in (p for p in practices if p["leads"] == "more_activated"):
        response = ivan.post("/api/v1/proposals", {"practice_id": practice["id"]})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "not_proposable"


def test_another_couple_cannot_see_or_answer_proposals(couple, olga_and_oscar):
    hana, ivan = couple
    olga, _ = olga_and_oscar
    proposal = ivan.post("/api/v1/proposals", {"practice_id": "longer-out-breath"}).json()
    assert olga.post(f"/api/v1/proposals/{proposal['id']}/decline").status_code == 404
    assert olga.get("/api/v1/proposals").json() == []
    assert tier(hana) >= 0


def test_after_the_partner_leaves_her_own_triggers_are_still_hers(couple):
    hana, ivan = couple
    hana.post("/api/v1/triggers", {"what": "a song in the shop", "strength": 6})
    hana.post("/api/v1/triggers", {"what": "his old car", "strength": 4, "tell_partner": True})
    assert ivan.post("/api/v1/couples/leave").status_code == 204
    listed = hana.get("/api/v1/triggers")
    assert listed.status_code == 200, listed.text
    assert [t["what"] for t in listed.json()["mine"]] == ["his old car", "a song in the shop"]
    assert listed.json()["to_respond"] == []
