"""A watch file imported the next morning judges the evening's shared practice again
(issue 15): a flood it shows steps the pace back from when it began, and only the
person whose heart it was is told."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.heart.uploads import csv_of, upload
from tests.pacing.api_steps import check_in, tier
from tests.pages import soup, text_of
from tests.payloads import GOOD
from tests.security.conftest import signed_in
from tests.zones_and_clock import move, set_clock

PACIFIC = ZoneInfo("America/Los_Angeles")
WALK = "walk-side-by-side"  # a tier-1 practice of 20 minutes, done together
STARTED = datetime(2026, 3, 5, 19, 0, tzinfo=PACIFIC)
ENDED = STARTED + timedelta(minutes=20)
LOGGED = ENDED + timedelta(minutes=5)
NEXT_MORNING = datetime(2026, 3, 6, 7, 30, tzinfo=PACIFIC)


def walk_file(rate: int, *, extra: int = 0) -> bytes:
    """The watch's minutes through the walk (``extra`` more after it, so that a second
    file covering the same walk is not the same file)."""
    return csv_of(STARTED, [rate] * (21 + extra), step_seconds=60)


@pytest.fixture
def walked(hana_and_ivan: Any, people: Any, clock: Any) -> tuple[Any, Any]:
    """Hana (Los Angeles) and Ivan on the first step, after a calm-rated walk at 19:00
    that both reflected on at 19:25; Hana's watch data is not imported yet. Next
    morning, her calm days are imported first."""
    hana, ivan = hana_and_ivan
    move(hana, "America/Los_Angeles")
    for _ in range(3):  # three calm days make the first step
        check_in(hana)
        check_in(ivan)
        clock.advance(days=1)
    set_clock(clock, people, LOGGED, hana, ivan)
    check_in(hana)
    check_in(ivan)
    assert tier(ivan) == 1
    body = {"practice_id": WALK, "started_at": STARTED.isoformat(), "ended_at": ENDED.isoformat()}
    logged = hana.post("/api/v1/experiences", {**body, **GOOD, "started_by": "me"})
    assert logged.status_code == 201, logged.text
    joined = ivan.post("/api/v1/experiences", {"experience_id": logged.json()["id"], **GOOD})
    assert joined.status_code == 201, joined.text
    assert tier(ivan) == 1
    set_clock(clock, people, NEXT_MORNING, hana, ivan)
    calm = csv_of(STARTED - timedelta(days=2), [64] * (60 * 40), step_seconds=60)
    imported = upload(hana, calm)
    assert imported.status_code == 201 and imported.json()["floods_found"] == []
    return hana, ivan


def test_a_watch_file_imported_next_morning_finds_the_flood_and_steps_back(walked):
    hana, ivan = walked
    imported = upload(hana, walk_file(118))
    assert imported.status_code == 201, imported.text
    [found] = imported.json()["floods_found"]
    assert found["practice"] == "A quiet walk side by side"
    assert datetime.fromisoformat(found["started_at"]) == STARTED
    assert datetime.fromisoformat(found["flooding_began_at"]) == STARTED
    assert "19:00" in found["message"] and "Only you see this" in found["message"]
    # A step back for the couple, from the evening on.
    assert tier(ivan) == tier(hana) == 0
    pace = ivan.get("/api/v1/pace").text.lower()
    assert "heart" not in pace and "118" not in pace


def test_a_calm_watch_file_changes_nothing(walked):
    hana, ivan = walked
    imported = upload(hana, walk_file(70))
    assert imported.status_code == 201
    assert imported.json()["floods_found"] == []
    assert tier(ivan) == tier(hana) == 1


def test_a_practice_is_stepped_back_for_once_however_many_files_cover_it(walked):
    hana, ivan = walked
    assert len(upload(hana, walk_file(118)).json()["floods_found"]) == 1
    again = upload(hana, walk_file(118, extra=30))
    assert again.status_code == 201
    assert again.json()["floods_found"] == []
    assert tier(ivan) == 0


def test_the_partners_watch_file_judges_only_the_partner(walked):
    hana, ivan = walked
    # Ivan's own watch was calm through the walk; Hana's is never imported.
    calm = csv_of(STARTED - timedelta(days=2), [64] * (60 * 40), step_seconds=60)
    assert upload(ivan, calm).status_code == 201
    assert upload(ivan, csv_of(STARTED, [66] * 21)).json()["floods_found"] == []
    assert tier(hana) == 1


def test_a_practice_from_weeks_ago_is_not_judged_again(walked, clock, people):
    hana, ivan = walked
    set_clock(clock, people, NEXT_MORNING + timedelta(days=20), hana, ivan)
    assert upload(hana, walk_file(118)).json()["floods_found"] == []


def test_the_pages_tell_only_the_person_whose_heart_it_was(app, walked):
    hana_api, _ = walked
    hana = signed_in(app, "hana")
    answer = hana.client.post(
        "/heart-rate/import",
        data={"csrf_token": hana.csrf()},
        files={"file": ("walk.csv", walk_file(118), "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert "your heart rate rose and stayed raised from 19:00" in text_of(soup(answer), "main")
    today = text_of(hana.get("/today"), "#heart-floods")
    assert "A quiet walk side by side" in today and "Only you see this" in today
    ivan = signed_in(app, "ivan")
    assert ivan.get("/today").select_one("#heart-floods") is None
    assert "heart rate" not in text_of(ivan.get("/today"), "main").lower()
    assert tier(hana_api) == 0


def test_a_flood_known_when_the_practice_is_logged_is_told_on_today_too(app, walked):
    hana_api, _ = walked
    assert upload(hana_api, walk_file(118)).status_code == 201
    # A second walk that evening's file already covers, logged after the import.
    second = {"practice_id": WALK, **GOOD, "started_at": STARTED.isoformat()}
    assert hana_api.post("/api/v1/experiences", second).status_code == 201
    hana = signed_in(app, "hana")
    assert len(hana.get("/today").select("#heart-floods li")) == 2
