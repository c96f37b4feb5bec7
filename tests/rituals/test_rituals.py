"""Rituals of connection: chosen from what the pace allows, marked by either partner,
resting when the pace steps back below them, shown week by week."""

from __future__ import annotations

import pytest

from tests.pacing.api_steps import up_one_step
from tests.pages import log_in

pytestmark = pytest.mark.usefixtures("backend")

WALK = {"practice_id": "walk-side-by-side", "rhythm": "daily"}


def test_chosen_within_the_pace_marked_by_either_and_resting_after_a_step_back(
    app, people, clock, hana_and_ivan
):
    hana, ivan = hana_and_ivan
    early = hana.post("/api/v1/rituals", WALK)
    assert early.status_code == 409 and early.json()["error"]["code"] == "ahead_of_pace"
    alone = hana.post("/api/v1/rituals", {"practice_id": "longer-out-breath"})
    assert alone.json()["error"]["code"] in {"not_shared", "ahead_of_pace"}
    up_one_step(people, clock, hana, ivan)
    chosen = hana.post("/api/v1/rituals", WALK)
    assert chosen.status_code == 201, chosen.text
    rid = chosen.json()["id"]
    assert [r["id"] for r in ivan.get("/api/v1/rituals").json()] == [rid], "Ivan reads it too"
    day = ivan.get("/api/v1/rituals").json()[0]["chosen_at"][:10]
    assert ivan.post(f"/api/v1/rituals/{rid}/done", {"day": day}).status_code == 200
    again = hana.post(f"/api/v1/rituals/{rid}/done", {"day": day})
    assert again.json()["days"] == [day], "a day done counts once, whoever marks it"
    assert hana.post(f"/api/v1/rituals/{rid}/done", {"day": "2030-01-01"}).status_code == 422

    # A lapse steps the pace back to tier 0: the walk rests, and nothing new is chosen.
    ivan.post("/api/v1/lapses", {"together": True})
    (ritual,) = hana.get("/api/v1/rituals").json()
    assert ritual["resting"] is True
    assert hana.post("/api/v1/rituals", WALK).status_code == 409
    page = log_in(app, "hana").get("/rituals")
    section = page.select_one(f"#ritual-{rid}")
    assert "rests for now" in section.get_text()
    assert section.select_one("form[action$='/done']") is None

    assert hana.post(f"/api/v1/rituals/{rid}/end").json()["ended_at"] is not None
    assert ivan.post(f"/api/v1/rituals/{rid}/done", {"day": day}).status_code == 409
    (exported,) = ivan.get("/api/v1/export").json()["rituals"]
    assert exported["days"] == [day] and exported["ended_at"] is not None, "in both exports"


def test_another_couple_and_a_therapist_never_reach_it(
    people, clock, hana_and_ivan, olga_and_oscar
):
    hana, ivan = hana_and_ivan
    olga, _ = olga_and_oscar
    up_one_step(people, clock, hana, ivan)
    rid = hana.post("/api/v1/rituals", WALK).json()["id"]
    olga.token = people.login("olga")
    assert olga.get("/api/v1/rituals").json() == []
    assert olga.post(f"/api/v1/rituals/{rid}/end").status_code == 404
    thea = people.register("thea", screen=None)
    assert thea.get("/api/v1/rituals").status_code == 409


def test_the_page_chooses_and_marks_a_ritual(app, people, clock, hana_and_ivan):
    hana, ivan = hana_and_ivan
    page = log_in(app, "ivan")
    assert page.get("/rituals").select_one("select#ritual-practice") is None, "tier 0: none yet"
    up_one_step(people, clock, hana, ivan)
    page = log_in(app, "ivan")
    form = page.get("/rituals").select_one("form[action='/rituals']")
    offered = [o["value"] for o in form.select("select#ritual-practice option")]
    assert "walk-side-by-side" in offered and "longer-out-breath" not in offered
    page.post("/rituals", {"practice_id": "walk-side-by-side", "rhythm": "weekly"})
    assert page.last.status_code == 303
    listed = page.follow()
    (section,) = listed.select("section[id^=ritual-]")
    assert "once a week" in section.get_text()
    done = section.select_one("form[action$='/done']")
    page.post(done["action"], {"day": done.select_one("input[name=day]")["value"]})
    assert page.last.status_code == 303
    assert "Done today." in log_in(app, "hana").get("/rituals").get_text()


def test_today_offers_the_rituals_not_yet_done_and_not_resting(app, people, clock, hana_and_ivan):
    hana, ivan = hana_and_ivan
    up_one_step(people, clock, hana, ivan)
    rid = hana.post("/api/v1/rituals", WALK).json()["id"]
    page = log_in(app, "ivan")
    listed = page.get("/today").select_one("#rituals-today + ul")
    assert listed is not None and "A quiet walk side by side" in listed.get_text()
    form = listed.select_one(f"form[action='/rituals/{rid}/done']")
    page.post(form["action"], {i["name"]: i["value"] for i in form.select("input[type=hidden]")})
    assert page.last.headers["location"] == "/today"
    assert page.follow().select_one("#rituals-today") is None, "done today: not offered again"
    clock.advance(days=1)
    hana.token, ivan.token = people.login("hana"), people.login("ivan")
    ivan.post("/api/v1/lapses", {"together": True})  # the pace steps back: it rests
    assert log_in(app, "ivan").get("/today").select_one("#rituals-today") is None


def test_weeks_of_a_ritual_are_drawn_on_its_page_and_progress(app, people, clock, hana_and_ivan):
    hana, ivan = hana_and_ivan
    up_one_step(people, clock, hana, ivan)
    rid = hana.post("/api/v1/rituals", {**WALK, "rhythm": "weekly"}).json()["id"]
    for _ in range(2):
        today = clock().date().isoformat()  # everyone here lives on UTC
        assert hana.post(f"/api/v1/rituals/{rid}/done", {"day": today}).status_code == 200
        clock.advance(days=7)
        hana.token, ivan.token = people.login("hana"), people.login("ivan")
    weeks = ivan.get("/api/v1/rituals").json()[0]["weeks"]
    assert [w["done"] for w in weeks] == [1, 1]
    page = log_in(app, "ivan")
    figure = page.get("/rituals").select_one(f"#ritual-{rid} figure.chart")
    image = figure.select_one("img")["src"]
    assert image == f"/progress/charts/couple/ritual-{rid}.svg"
    drawn = page.client.get(image)
    assert drawn.status_code == 200 and drawn.headers["content-type"].startswith("image/svg")
    assert page.get("/progress").select_one(f"img[src='{image}']") is not None
