"""Pacing steps a person takes through the API: check in, read the pace, find a
practice and do it together."""

from __future__ import annotations

from tests.payloads import CALM, GOOD


def check_in(person, **changes):
    response = person.post("/api/v1/checkins", {**CALM, **changes})
    assert response.status_code == 201, response.text
    return response.json()


def tier(person) -> int:
    response = person.get("/api/v1/pace")
    assert response.status_code == 200, response.text
    return int(response.json()["permitted_tier"])


def practice_at(person, level: int) -> str:
    practices = person.get("/api/v1/practices").json()
    return next(p["id"] for p in practices if p["tier"] == level)


def do_together(hana, ivan, level: int, hana_rating=GOOD, ivan_rating=GOOD) -> dict:
    """A shared practice at ``level`` (tier 0 is practised alone, so at least tier 1)."""
    logged = hana.post(
        "/api/v1/experiences",
        {"practice_id": practice_at(hana, max(level, 1)), "started_by": "me", **hana_rating},
    )
    assert logged.status_code == 201, logged.text
    joined = ivan.post("/api/v1/experiences", {"experience_id": logged.json()["id"], **ivan_rating})
    assert joined.status_code == 201, joined.text
    return logged.json()


def up_one_step(people, clock, hana, ivan) -> None:
    """Three calm days together: the first step opens (tier 1)."""
    for _ in range(3):
        check_in(hana)
        check_in(ivan)
        clock.advance(days=1)
        hana.token, ivan.token = people.login("hana"), people.login("ivan")
    check_in(hana)
    check_in(ivan)
