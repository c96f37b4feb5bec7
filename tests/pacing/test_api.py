"""Check-ins, experiences and the shared pace through the API, on SQLite and PostgreSQL.

Hana is the hurt partner, Ivan the involved partner. Time is the app's clock,
moved by the test.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from reconnect.models import CheckInEntry, PaceDecision, PaceSignal, Person
from reconnect.pacing import store
from tests.pacing.api_steps import check_in, do_together, practice_at, tier
from tests.payloads import CALM, GOOD

pytestmark = pytest.mark.usefixtures("backend")

FLOODED = {**GOOD, "activation_before": 5, "activation_after": 9, "safety": 3}


@pytest.fixture
def couple(hana_and_ivan, clock):
    return hana_and_ivan


def calm_days(hana, ivan, clock, days: int = 3) -> None:
    """Both check in calm on ``days`` separate days: the first step, from tier 0."""
    for _ in range(days):
        check_in(hana)
        check_in(ivan)
        clock.advance(days=1)
    check_in(hana)
    check_in(ivan)


def test_a_check_in_is_stored_privately_and_listed_only_for_its_author(couple, app):
    hana, ivan = couple
    saved = check_in(hana, note="I could not sleep again")
    assert saved["note"] == "I could not sleep again"
    assert [c["id"] for c in hana.get("/api/v1/checkins").json()] == [saved["id"]]
    assert ivan.get("/api/v1/checkins").json() == []


def test_with_no_check_ins_the_pace_is_cautious(couple):
    hana, _ = couple
    pace = hana.get("/api/v1/pace").json()
    assert pace["permitted_tier"] <= 1
    assert pace["paused"] is False
    assert pace["practices"]


def test_the_more_activated_partner_sets_the_ceiling(couple, clock):
    hana, ivan = couple
    check_in(hana)
    check_in(ivan)
    calm = tier(hana)
    check_in(hana, activation=8)
    assert tier(hana) == tier(ivan) == 0
    assert calm >= 0


def test_the_partner_sees_the_pace_but_never_the_numbers_behind_it(couple):
    hana, ivan = couple
    check_in(ivan)
    check_in(hana, activation=9, urgency=9, readiness=1)
    hana_view = hana.get("/api/v1/pace").json()
    ivan_view = ivan.get("/api/v1/pace").json()
    assert hana_view["permitted_tier"] == ivan_view["permitted_tier"] == 0
    ivan_words = " ".join(r["message"] + str(r["numbers"]) for r in ivan_view["reasons"])
    assert "9" not in ivan_words
    assert "urgency" not in ivan_words.lower()
    hana_rules = {r["rule"] for r in hana_view["reasons"]}
    ivan_rules = {r["rule"] for r in ivan_view["reasons"]}
    assert hana_rules - ivan_rules, "Hana's own reasons (e.g. urgency) are hers alone"


def test_what_only_one_partner_may_read_is_never_kept_in_the_shared_rows(couple, app):
    """The urgency note and a person's own reasons say more than the pace: the shared
    tables (readable with the database file, no key needed) keep neither."""
    hana, ivan = couple
    check_in(ivan)
    check_in(hana, activation=7, urgency=9, readiness=2)
    own = {r["rule"] for r in hana.get("/api/v1/pace").json()["reasons"]}
    assert "urgency" in own, "Hana still reads it, from her own check-in"
    assert "urgency" not in {r["rule"] for r in ivan.get("/api/v1/pace").json()["reasons"]}
    with app.state.reconnect.sessions() as db:
        kinds = set(db.scalars(select(PaceSignal.kind)))
        audiences = {
            reason["audience"]
            for data in db.scalars(select(PaceDecision.data))
            for reason in json.loads(data)["reasons"]
        }
    assert "urgency_gap" not in kinds
    assert audiences == {"couple"}


def test_partner_answers_are_identical_for_any_activation_inside_a_band(couple, clock):
    hana, ivan = couple
    check_in(ivan)
    views = []
    for activation in (0, 3, 5):
        check_in(hana, activation=activation)
        views.append(ivan.get("/api/v1/pace").json())
        clock.advance(minutes=1)
    assert views[0] == views[1] == views[2]


def test_pause_dominates_and_only_the_person_who_paused_can_resume(couple):
    hana, ivan = couple
    check_in(hana)
    check_in(ivan)
    paused = ivan.post("/api/v1/pause").json()
    assert paused["paused"] and paused["permitted_tier"] == 0
    assert paused["can_resume"] is True
    seen_by_hana = hana.get("/api/v1/pace").json()
    assert seen_by_hana["paused"] and seen_by_hana["can_resume"] is False
    refused = hana.post("/api/v1/resume")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_your_pause"
    assert ivan.post("/api/v1/resume").json()["paused"] is False


def test_one_good_evening_never_advances_the_pace(couple, clock):
    hana, ivan = couple
    calm_days(hana, ivan, clock)
    start = tier(hana)
    assert start == 1
    for _ in range(5):
        check_in(hana)
        check_in(ivan)
        do_together(hana, ivan, start)
        clock.advance(minutes=30)
    assert tier(hana) == start


def test_calm_days_make_the_first_step_and_shared_practices_the_next(couple, clock):
    hana, ivan = couple
    check_in(hana)
    check_in(ivan)
    assert tier(hana) == 0
    calm_days(hana, ivan, clock)
    assert tier(hana) == 1
    for _ in range(3):
        check_in(hana)
        check_in(ivan)
        do_together(hana, ivan, 1)
        clock.advance(days=1)
    check_in(hana)
    check_in(ivan)
    assert tier(hana) == 2


def test_a_flood_steps_back_starts_the_chosen_break_and_caps_the_flooded(couple, clock):
    hana, ivan = couple
    calm_days(hana, ivan, clock)
    before = tier(hana)
    logged = hana.post(
        "/api/v1/experiences",
        {"practice_id": practice_at(hana, 1), "started_by": "me", "back_in_minutes": 90, **FLOODED},
    )
    assert logged.status_code == 201, logged.text
    pace = ivan.get("/api/v1/pace").json()
    assert pace["permitted_tier"] == 0
    back = datetime.fromisoformat(pace["break_until"]) - clock.now
    assert timedelta(minutes=89) < back <= timedelta(minutes=90)
    clock.advance(hours=2)
    check_in(ivan)
    # The break is over, but the newest thing known of Hana's body is activation 9.
    assert tier(ivan) == 0
    clock.advance(hours=12)
    check_in(hana)
    check_in(ivan)
    assert tier(hana) == before - 1


def test_a_practice_done_alone_stays_private_and_starts_no_break(couple, clock):
    hana, ivan = couple
    calm_days(hana, ivan, clock)
    alone = hana.post("/api/v1/experiences", {"practice_id": practice_at(hana, 0), **FLOODED})
    assert alone.status_code == 201, alone.text
    assert alone.json()["solo"] is True
    ivan_pace = ivan.get("/api/v1/pace").json()
    assert ivan_pace["break_until"] is None
    assert "flood_break" not in {r["rule"] for r in ivan_pace["reasons"]}
    assert ivan_pace["permitted_tier"] == 0  # only its effect on Hana's body reaches the pace
    joined = ivan.post("/api/v1/experiences", {"experience_id": alone.json()["id"], **GOOD})
    assert joined.status_code == 404


def test_an_experience_ahead_of_the_pace_is_kept_and_marked(couple):
    hana, _ = couple
    check_in(hana, activation=8)
    response = hana.post("/api/v1/experiences", {"practice_id": practice_at(hana, 5), **GOOD})
    assert response.status_code == 201
    assert response.json()["ahead_of_pace"] is True
    assert tier(hana) == 0


def test_every_write_stores_a_decision_for_the_audit_trail(couple, app):
    hana, ivan = couple
    check_in(hana)
    check_in(ivan)
    ivan.post("/api/v1/pause")
    with app.state.reconnect.sessions() as db:
        assert db.scalar(select(func.count()).select_from(PaceDecision)) == 3


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"activation": 11}, "invalid_input"),
        ({"activation": -1}, "invalid_input"),
        ({"state": "fine"}, "invalid_input"),
        ({"drivers": ["boredom"]}, "invalid_input"),
        ({"note": "x" * 5000}, "invalid_input"),
        ({"recorded_at": "2030-01-01T00:00:00+00:00"}, "in_future"),
        ({"recorded_at": "0001-01-01T00:00:00+00:00"}, "too_old"),
        ({"recorded_at": "1969-12-31T23:00:00+00:00"}, "too_old"),
        ({"recorded_at": "2026-03-01T10:00:00"}, "invalid_input"),
    ],
)
def test_bad_check_ins_are_refused_and_nothing_is_stored(couple, app, change, code):
    hana, _ = couple
    response = hana.post("/api/v1/checkins", {**CALM, **change})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    with app.state.reconnect.sessions() as db:
        assert db.scalar(select(func.count()).select_from(CheckInEntry)) == 0


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+00:00", "1969-07-20T20:17:00+00:00"])
@pytest.mark.parametrize("practice", ["walk-side-by-side", "longer-out-breath"])
def test_a_practice_dated_to_a_mistyped_year_is_refused_calmly(couple, clock, when, practice):
    """Issue 13, item 8: year 1 was a 500, 1969 stretched the progress page to 4 MB."""
    hana, _ = couple
    check_in(hana)
    response = hana.post(
        "/api/v1/experiences", {"practice_id": practice, "occurred_at": when, **GOOD}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_old"
    assert "90 days" in response.json()["error"]["message"]


def test_an_unknown_practice_is_refused(couple):
    hana, _ = couple
    response = hana.post("/api/v1/experiences", {"practice_id": "moonwalk", **GOOD})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_practice"


def test_a_partner_reflects_once_on_a_shared_experience(couple):
    hana, ivan = couple
    logged = do_together(hana, ivan, 1)
    again = ivan.post("/api/v1/experiences", {"experience_id": logged["id"], **GOOD})
    assert again.status_code == 409


def test_another_couples_experience_is_not_found(couple, olga_and_oscar):
    hana, _ = couple
    olga, _ = olga_and_oscar
    logged = hana.post("/api/v1/experiences", {"practice_id": practice_at(hana, 1), **GOOD})
    response = olga.post("/api/v1/experiences", {"experience_id": logged.json()["id"], **GOOD})
    assert response.status_code == 404


def test_a_back_dated_check_in_counts_from_when_it_was_true(couple, clock):
    hana, ivan = couple
    check_in(ivan)
    check_in(hana)
    clock.advance(hours=1)
    earlier = (clock.now - timedelta(minutes=30)).isoformat()
    check_in(hana, activation=9, recorded_at=earlier)
    assert tier(ivan) == 0


def test_a_back_dated_check_in_still_counts_after_an_earlier_dated_one(couple, clock):
    """Ivan's check-in dated 10:30 resumes from a decision made before then: not the
    one stored at 10:00, which was made before Hana's entry dated 9:30 was written."""
    hana, ivan = couple
    calm_days(hana, ivan, clock)
    clock.advance(hours=2)
    check_in(ivan)  # a decision at 10:00 that knows only calm
    assert tier(ivan) == 1
    clock.advance(hours=1)
    check_in(hana, activation=9, recorded_at=(clock.now - timedelta(minutes=90)).isoformat())
    assert tier(ivan) == 0
    clock.advance(hours=1)
    check_in(ivan, recorded_at=(clock.now - timedelta(minutes=90)).isoformat())
    assert tier(ivan) == 0


def test_the_pace_needs_a_partner(people):
    uma = people.register("uma")
    response = uma.get("/api/v1/pace")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_paired"
    # ...but private check-ins are always possible.
    assert uma.post("/api/v1/checkins", CALM).status_code == 201


def test_every_stored_decision_is_reproduced_by_replaying_all_signals(couple, clock, app):
    from reconnect.domain.pacing.engine import decide
    from reconnect.domain.pacing.history import Decision, History
    from reconnect.domain.pacing.policy import load_policy
    from reconnect.domain.pacing.signals import signal_from_dict
    from reconnect.models import Couple, PaceSignal
    from reconnect.pacing.store import partners

    hana, ivan = couple
    for day in range(6):
        check_in(hana, activation=3 if day != 3 else 7)
        check_in(ivan)
        do_together(hana, ivan, tier(hana), hana_rating=FLOODED if day == 4 else GOOD)
        if day == 2:
            ivan.post("/api/v1/pause")
            ivan.post("/api/v1/resume")
        clock.advance(days=1)
    with app.state.reconnect.sessions() as db:
        couple_row = db.scalars(select(Couple)).first()
        signals = [
            signal_from_dict(json.loads(data))
            for data in db.scalars(select(PaceSignal.data).order_by(PaceSignal.at, PaceSignal.id))
        ]
        stored = [
            Decision.from_dict(json.loads(data))
            for data in db.scalars(select(PaceDecision.data).order_by(PaceDecision.id))
        ]
        who = partners(couple_row)
    assert len(stored) > 20
    for decision in stored:
        replayed = decide(
            History(who, signals, time_zone=couple_row.time_zone),
            load_policy(decision.policy_version),
            decision.decided_at,
        )
        assert (replayed.permitted_tier, replayed.ladder_tier, replayed.break_until) == (
            decision.permitted_tier,
            decision.ladder_tier,
            decision.break_until,
        )


def test_a_shared_practice_waits_for_a_reflection_after_one_done_alone(couple, app, clock):
    """A reflection on a practice done alone belongs to no shared practice; it must not
    hide the shared ones still waiting for this person's reflection."""
    hana, ivan = couple
    calm_days(hana, ivan, clock)
    alone = hana.post("/api/v1/experiences", {"practice_id": practice_at(hana, 0), **GOOD})
    assert alone.status_code == 201, alone.text
    assert alone.json()["solo"] is True
    together = ivan.post("/api/v1/experiences", {"practice_id": practice_at(ivan, 1), **GOOD})
    assert together.status_code == 201, together.text
    assert together.json()["solo"] is False
    with app.state.reconnect.sessions() as db:
        person = db.scalar(select(Person).where(Person.username == "hana"))
        assert person is not None and person.membership is not None
        waiting = store.awaiting_reflection(db, person, person.membership.couple)
        assert [e.id for e in waiting] == [together.json()["id"]]


def test_both_logging_the_same_practice_makes_one_shared_experience(couple, app, clock):
    """Both partners press "we have finished" and each logs it before reading that the
    other has: the second log joins the first as its reflection, so the practice (a
    disclosure session, say) is not counted, or waited on, twice."""
    hana, ivan = couple
    calm_days(hana, ivan, clock)
    alone = hana.post("/api/v1/experiences", {"practice_id": practice_at(hana, 0), **GOOD})
    assert alone.status_code == 201 and alone.json()["solo"] is True
    walk = practice_at(hana, 1)
    first = ivan.post("/api/v1/experiences", {"practice_id": walk, "started_by": "me", **GOOD})
    assert first.status_code == 201, first.text
    clock.advance(minutes=20)
    second = hana.post("/api/v1/experiences", {"practice_id": walk, **GOOD})
    assert second.status_code == 201, second.text
    assert second.json()["id"] == first.json()["id"] and second.json()["joined"] is True
    assert first.json()["joined"] is False
    again = hana.post("/api/v1/experiences", {"experience_id": first.json()["id"], **GOOD})
    assert again.status_code == 409, "her reflection is on it already"
    with app.state.reconnect.sessions() as db:
        for name in ("hana", "ivan"):
            person = db.scalar(select(Person).where(Person.username == name))
            assert person is not None and person.membership is not None
            assert store.awaiting_reflection(db, person, person.membership.couple) == []
    # Done again the next day, it is a new experience.
    clock.advance(days=1)
    later = hana.post("/api/v1/experiences", {"practice_id": walk, **GOOD})
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert later.json()["joined"] is False
