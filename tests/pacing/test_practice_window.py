"""When a practice went on: flooding is judged over [started, ended], not from the
moment it was logged (issue 15: a walk from 19:00 to 19:20 at 118 bpm, logged at 19:25)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.heart.uploads import csv_of, upload
from tests.pacing.api_steps import check_in
from tests.pages import soup
from tests.payloads import GOOD
from tests.security.conftest import signed_in
from tests.zones_and_clock import move, set_clock

PACIFIC = ZoneInfo("America/Los_Angeles")
WALK = "walk-side-by-side"  # 20 minutes, done together
# An evening in March, in Los Angeles (UTC-8): the walk, then logging it five minutes later.
STARTED = datetime(2026, 3, 3, 19, 0, tzinfo=PACIFIC)
ENDED = datetime(2026, 3, 3, 19, 20, tzinfo=PACIFIC)
LOGGED = datetime(2026, 3, 3, 19, 25, tzinfo=PACIFIC)


def after_the_walk(couple: Any, people: Any, clock: Any, now: datetime) -> tuple[Any, Any]:
    """Hana (in Los Angeles) with a calm baseline, then 118 bpm through the walk."""
    hana, ivan = couple
    move(hana, "America/Los_Angeles")
    set_clock(clock, people, now, hana, ivan)
    calm = csv_of(STARTED - timedelta(days=2), [64] * (60 * 40), step_seconds=60)
    assert upload(hana, calm).status_code == 201
    assert upload(hana, csv_of(STARTED, [118] * 21, step_seconds=60)).status_code == 201
    check_in(hana)
    check_in(ivan)
    assert ivan.get("/api/v1/pace").json()["break_until"] is None
    return hana, ivan


@pytest.fixture
def walked(hana_and_ivan: Any, people: Any, clock: Any) -> tuple[Any, Any]:
    """After the walk, at 19:25."""
    return after_the_walk(hana_and_ivan, people, clock, LOGGED)


@pytest.fixture
def just_walked(hana_and_ivan: Any, people: Any, clock: Any) -> tuple[Any, Any]:
    """The moment the walk ended, 19:20."""
    return after_the_walk(hana_and_ivan, people, clock, ENDED)


def partner_sees_only_the_break(ivan: Any) -> None:
    pace = ivan.get("/api/v1/pace")
    assert pace.json()["break_until"] is not None
    assert "118" not in pace.text
    assert "heart" not in pace.text.lower()


def test_a_walk_logged_after_it_ended_is_judged_over_when_it_went_on(walked):
    hana, ivan = walked
    logged = hana.post(
        "/api/v1/experiences",
        {
            "practice_id": WALK,
            **GOOD,
            "started_at": STARTED.isoformat(),
            "ended_at": ENDED.isoformat(),
        },
    )
    assert logged.status_code == 201, logged.text
    # Dated at its start: that is when the pace reads it as having happened.
    assert datetime.fromisoformat(logged.json()["occurred_at"]) == STARTED
    partner_sees_only_the_break(ivan)


def test_occurred_at_still_works_as_the_start(walked):
    hana, ivan = walked
    body = {"practice_id": WALK, **GOOD, "occurred_at": STARTED.isoformat()}
    assert hana.post("/api/v1/experiences", body).status_code == 201
    partner_sees_only_the_break(ivan)


def test_a_walk_logged_right_after_it_ended_is_taken_to_have_lasted_its_time_box(just_walked):
    hana, ivan = just_walked
    logged = hana.post("/api/v1/experiences", {"practice_id": WALK, **GOOD})
    assert logged.status_code == 201, logged.text
    started = datetime.fromisoformat(logged.json()["occurred_at"])
    assert abs(started - STARTED) < timedelta(seconds=1)  # the clock ticks on
    partner_sees_only_the_break(ivan)


def test_a_calm_walk_logged_later_is_not_a_flood(hana_and_ivan, people, clock):
    hana, ivan = hana_and_ivan
    move(hana, "America/Los_Angeles")
    set_clock(clock, people, LOGGED, hana, ivan)
    calm = csv_of(STARTED - timedelta(days=2), [64] * (60 * 48), step_seconds=60)
    assert upload(hana, calm).status_code == 201
    body = {"practice_id": WALK, **GOOD, "started_at": STARTED.isoformat()}
    assert hana.post("/api/v1/experiences", body).status_code == 201
    assert ivan.get("/api/v1/pace").json()["break_until"] is None


@pytest.mark.parametrize(
    ("started", "ended", "says"),
    [
        (ENDED, STARTED, "ends after it starts"),
        (STARTED, STARTED, "ends after it starts"),
        (STARTED - timedelta(days=2), ENDED, "at most a day"),
        (STARTED, LOGGED + timedelta(hours=1), "future"),
        (LOGGED + timedelta(hours=1), None, "future"),
        ("yesterday evening", None, ""),
        (STARTED.replace(tzinfo=None), ENDED, ""),
    ],
)
def test_a_window_that_cannot_be_is_refused_calmly(walked, started, ended, says):
    hana, ivan = walked
    body: dict[str, Any] = {"practice_id": WALK, **GOOD}
    for name, value in (("started_at", started), ("ended_at", ended)):
        if value is not None:
            body[name] = value if isinstance(value, str) else value.isoformat()
    refused = hana.post("/api/v1/experiences", body)
    assert refused.status_code == 422, refused.text
    assert says in refused.json()["error"]["message"]
    assert ivan.get("/api/v1/pace").json()["break_until"] is None


# --- the page ---------------------------------------------------------------------

ANSWERS = {
    **{k: str(v) for k, v in GOOD.items() if k != "felt_pressured"},
    "felt_pressured": "no",
}


def test_the_page_asks_when_it_started_and_ended(app, walked):
    hana = signed_in(app, "hana")
    page = hana.get(f"/experiences/new?practice={WALK}")
    for name in ("started_at", "ended_at"):
        field = page.select_one(f"form[action='/experiences'] input[name='{name}']")
        assert field is not None and field["type"] == "datetime-local"
        assert not field.has_attr("required")
        assert page.select_one(f"label[for='{field['id']}']") is not None


def test_the_page_reads_the_times_on_the_persons_own_clock(app, walked):
    _, ivan = walked
    hana = signed_in(app, "hana")
    form = {**ANSWERS, "practice_id": WALK, "started_at": "2026-03-03T19:00"}
    hana.post("/experiences", {**form, "ended_at": "2026-03-03T19:20"})
    assert hana.last.status_code == 303, hana.last.text
    partner_sees_only_the_break(ivan)


def test_the_page_defaults_to_just_ended(app, just_walked):
    _, ivan = just_walked
    hana = signed_in(app, "hana")
    hana.post("/experiences", {**ANSWERS, "practice_id": WALK})
    assert hana.last.status_code == 303, hana.last.text
    partner_sees_only_the_break(ivan)


@pytest.mark.parametrize(
    ("started", "ended", "says"),
    [
        ("2026-03-03T19:20", "2026-03-03T19:00", "ends after it starts"),
        ("2026-03-01T19:00", "2026-03-03T19:20", "at most a day"),
        ("2026-03-03T21:00", "", "future"),
        ("half past seven", "", "as shown in the form"),
    ],
)
def test_the_page_refuses_a_window_that_cannot_be_and_keeps_the_answers(
    app, walked, started, ended, says
):
    hana = signed_in(app, "hana")
    page = hana.post(
        "/experiences", {**ANSWERS, "practice_id": WALK, "started_at": started, "ended_at": ended}
    )
    assert hana.last.status_code == 422
    assert says in hana.last.text

    kept = soup(page).select_one("input[name='started_at']")
    assert kept is not None and kept["value"] == started


def test_logging_the_walk_the_partner_just_logged_adds_a_reflection_to_theirs(app, hana_and_ivan):
    _, ivan = hana_and_ivan
    logged = ivan.post("/api/v1/experiences", {"practice_id": WALK, "started_by": "me", **GOOD})
    assert logged.status_code == 201, logged.text
    hana = signed_in(app, "hana")
    hana.post("/experiences", {**ANSWERS, "practice_id": WALK})
    assert hana.last.headers["location"] == "/today?joined=1"
    said = " ".join(p.get_text(" ") for p in hana.follow().select("[role=status]"))
    assert "Your partner had already logged this practice" in said
    assert "Only you see your reflection" in said
    # Her own log of a practice he has not logged is new, and says nothing of the kind.
    hana.post("/experiences", {**ANSWERS, "practice_id": "shared-chores"})
    assert hana.last.headers["location"] == "/today"
