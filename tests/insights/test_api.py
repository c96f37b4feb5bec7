"""False-connection patterns noticed through the API, each shown only to whom it may be.

Hana is the hurt partner, Ivan the involved partner. A finding built from a person's
private entries reaches only that person; couple-level patterns reach both, worded
without blame and without anyone's private numbers.
"""

from __future__ import annotations

from unittest.mock import ANY

import pytest

from tests.pacing.api_steps import check_in
from tests.payloads import CALM, GOOD

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def couple(hana_and_ivan, clock):
    return hana_and_ivan


def patterns(person, audience: str | None = None) -> set[str]:
    found = person.get("/api/v1/insights").json()
    return {f["pattern"] for f in found if audience is None or f["audience"] == audience}


def shared_experience(hana, ivan, practice_id: str, hana_rating=GOOD, ivan_rating=GOOD) -> int:
    logged = hana.post("/api/v1/experiences", {"practice_id": practice_id, **hana_rating})
    assert logged.status_code == 201, logged.text
    joined = ivan.post("/api/v1/experiences", {"experience_id": logged.json()["id"], **ivan_rating})
    assert joined.status_code == 201, joined.text
    return int(logged.json()["id"])


def practice_of_tier(person, tier: int) -> str:
    return next(p["id"] for p in person.get("/api/v1/practices").json() if p["tier"] == tier)


def test_nothing_is_noticed_in_an_ordinary_calm_week(couple, clock):
    hana, ivan = couple
    for _ in range(3):
        check_in(hana)
        check_in(ivan)
        clock.advance(days=1)
    assert patterns(hana) == set() and patterns(ivan) == set()


def test_urgency_mistaken_for_readiness_is_named_to_its_owner_only(couple, clock):
    hana, ivan = couple
    for _ in range(3):
        check_in(hana, urgency=9, readiness=2, note="I need to know we are okay")
        clock.advance(hours=5)
    assert "urgency_as_readiness" in patterns(hana, "you")
    assert "urgency_as_readiness" not in patterns(ivan)
    assert "9" not in ivan.get("/api/v1/insights").text


def test_saying_okay_while_flooded_inside_is_reflected_privately(couple):
    hana, ivan = couple
    check_in(hana, activation=8, state="revved_up")
    hana.post("/api/v1/status", {"status": "okay", "words": ""})
    assert "pretending_okay" in patterns(hana, "you")
    assert patterns(ivan) & {"pretending_okay"} == set()


def test_minimizing_words_are_reflected_to_their_author_only(couple):
    hana, ivan = couple
    ivan.post("/api/v1/status", {"status": "okay", "words": "it was just a mistake"})
    assert "minimizing" in patterns(ivan, "you")
    assert "minimizing" not in patterns(hana)
    found = next(f for f in ivan.get("/api/v1/insights").json() if f["pattern"] == "minimizing")
    assert found["evidence"] == [{"kind": "status", "id": found["evidence"][0]["id"], "on": ANY}]
    assert found["severity"] == "gentle", "one status counts once"


def test_asking_again_after_a_no_is_reflected_to_the_one_asking(couple, clock):
    hana, ivan = couple
    first = ivan.post("/api/v1/proposals", {"practice_id": practice_of_tier(ivan, 3)}).json()
    hana.post(f"/api/v1/proposals/{first['id']}/decline")
    clock.advance(days=2)
    ivan.post("/api/v1/proposals", {"practice_id": practice_of_tier(ivan, 3)})
    assert "pressuring_forgiveness" in patterns(ivan, "you")
    assert "pressuring_forgiveness" not in patterns(hana, "you")


def test_intimacy_ahead_of_the_pace_is_a_couple_pattern_without_blame(couple):
    hana, ivan = couple
    check_in(hana, activation=7, state="revved_up")
    check_in(ivan)
    shared_experience(hana, ivan, practice_of_tier(hana, 5))
    for person in (hana, ivan):
        assert "rushing_intimacy" in patterns(person, "couple")
    text = ivan.get("/api/v1/insights").text
    assert "activation" not in text.lower() or "7" not in text


@pytest.mark.parametrize(("started_by", "ivan_told"), [("partner", False), ("me", True)])
def test_the_one_who_started_intimacy_is_the_one_the_person_logging_names(
    couple, started_by, ivan_told
):
    """Issue 12, finding 10: Ivan, the calmer one, logs it; who started it is asked."""
    hana, ivan = couple
    check_in(hana, activation=5)
    check_in(ivan)
    logged = ivan.post(
        "/api/v1/experiences",
        {
            "practice_id": practice_of_tier(ivan, 5),
            "started_by": started_by,
            **{**GOOD, "activation_before": 1},
        },
    )
    assert logged.status_code == 201, logged.text
    joined = hana.post(
        "/api/v1/experiences",
        {"experience_id": logged.json()["id"], **{**GOOD, "activation_before": 5}},
    )
    assert joined.status_code == 201, joined.text
    check_in(ivan)  # his own findings are brought up to date when he next writes
    assert ("rushing_intimacy" in patterns(ivan, "you")) is ivan_told
    assert "rushing_intimacy" not in patterns(hana, "you")


def test_feeling_pressured_is_reflected_only_to_the_one_who_felt_it(couple):
    hana, ivan = couple
    check_in(hana)
    check_in(ivan)
    shared_experience(
        hana, ivan, practice_of_tier(hana, 5), hana_rating={**GOOD, "felt_pressured": True}
    )
    assert "rushing_intimacy" in patterns(hana, "you")
    assert "rushing_intimacy" not in patterns(ivan, "you")


def test_conversations_left_early_again_and_again_are_a_couple_pattern(couple, clock):
    hana, ivan = couple
    left = {**GOOD, "staying": "left_emotionally", "safety": 4}
    for _ in range(2):
        check_in(hana)
        check_in(ivan)
        shared_experience(hana, ivan, practice_of_tier(hana, 4), ivan_rating=left)
        clock.advance(days=1)
    check_in(hana)
    # Private writes never rewrite the couple's patterns (that would tell the partner
    # when they were made); the next thing shared brings them up to date.
    assert "avoiding_conversations" not in patterns(hana, "couple")
    assert hana.post("/api/v1/status", {"status": "okay", "words": ""}).status_code == 201
    assert "avoiding_conversations" in patterns(hana, "couple")
    assert "avoiding_conversations" in patterns(ivan, "couple")
    found = next(f for f in ivan.get("/api/v1/insights").json() if f["audience"] == "couple")
    assert found["found_at"].endswith(("T00:00:00Z", "T00:00:00+00:00")), "a day, no time"


def test_affection_right_after_a_hard_unresolved_talk_is_a_couple_pattern(couple, clock):
    hana, ivan = couple
    check_in(hana)
    check_in(ivan)
    hard = {**GOOD, "activation_after": 8, "safety": 4}
    shared_experience(hana, ivan, practice_of_tier(hana, 4), hana_rating=hard)
    clock.advance(hours=5)
    shared_experience(hana, ivan, practice_of_tier(hana, 5))
    for person in (hana, ivan):
        assert "affection_bypass" in patterns(person, "couple")


def test_findings_are_stored_sealed(couple, app):
    from sqlalchemy import select

    from reconnect.models import Finding

    hana, _ = couple
    check_in(hana, activation=8, state="revved_up")
    hana.post("/api/v1/status", {"status": "okay"})
    with app.state.reconnect.sessions() as db:
        rows = db.scalars(select(Finding)).all()
        assert rows
        assert all(b"pretending" not in r.sealed and b"okay" not in r.sealed for r in rows)


def test_private_check_ins_without_a_partner_are_never_analysed_for_a_couple(people):
    uma = people.register("uma")
    uma.post("/api/v1/checkins", {**CALM, "urgency": 10, "readiness": 0})
    assert uma.get("/api/v1/insights").json() == []
