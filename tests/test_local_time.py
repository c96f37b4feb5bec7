"""Local time: each person sees days, weeks and times in their own zone; stored times
stay UTC.

Hana lives in Los Angeles (UTC-8 until 8 March 2026, then UTC-7); Ivan, her partner,
starts in UTC; Olga, of another couple, must not be able to move their days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.routing import APIRoute
from icalendar import Calendar

from reconnect import localtime
from reconnect.app import ROUTERS
from reconnect.errors import Problem
from reconnect.web.deps import answer_in_local_time
from tests.conftest import PASSWORD
from tests.pacing.api_steps import check_in, practice_at
from tests.pages import Visitor, soup, text_of
from tests.payloads import CALM, GOOD
from tests.security.conftest import signed_in
from tests.zones_and_clock import move, patch, set_clock

LA = "America/Los_Angeles"
PACIFIC = ZoneInfo(LA)


def at_pacific(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PACIFIC)  # type: ignore[misc]


# --- the module ---------------------------------------------------------------------


def test_only_zones_of_the_iana_database_are_accepted():
    assert localtime.check_zone(" Europe/Paris ") == "Europe/Paris"
    assert localtime.check_zone("UTC") == "UTC"
    for wrong in ("", "Mars/Olympus_Mons", "europe/paris", "+02:00", "A" * 300, "../etc/passwd"):
        with pytest.raises(Problem) as refused:
            localtime.check_zone(wrong)
        assert refused.value.code == "invalid_time_zone"
        assert refused.value.status == 422


def test_a_local_day_starts_at_local_midnight_and_may_be_23_hours_long():
    start, end = localtime.day_bounds(date(2026, 3, 8), LA)  # clocks go forward
    assert start == datetime(2026, 3, 8, 8, tzinfo=UTC)
    assert end - start == timedelta(hours=23)
    assert localtime.local_day(datetime(2026, 3, 3, 7, 30, tzinfo=UTC), LA) == date(2026, 3, 2)
    monday, next_monday = localtime.week_bounds(date(2026, 3, 4), LA)
    assert monday == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert next_monday == datetime(2026, 3, 9, 7, tzinfo=UTC)


def test_a_time_typed_without_an_offset_is_read_on_the_persons_clock():
    typed = datetime(2026, 3, 2, 19, 0)
    assert localtime.from_local(typed, LA) == datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    aware = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    assert localtime.from_local(aware, LA) == aware


def test_the_pages_formats():
    local = localtime.Local.of(LA)
    moment = datetime(2026, 3, 4, 3, 20, tzinfo=UTC)  # Tuesday evening in California
    assert local.moment(moment) == "Tue 3 Mar, 19:20"
    assert local.time(moment, with_zone=True) == "19:20 PST"
    assert local.calendar_date(moment) == "3 Mar 2026"
    assert local.iso(moment) == "2026-03-03T19:20:00-08:00"
    assert local.soon(moment, now=moment - timedelta(hours=1)) == "19:20 PST"
    assert local.soon(moment, now=moment - timedelta(days=1)) == "Tue 3 Mar, 19:20 PST"
    assert localtime.Local.of("Not/A_Zone").zone_name == "UTC"


# --- registration -------------------------------------------------------------------


def test_the_register_form_carries_a_hidden_zone_field_that_app_js_fills(app):
    visitor = Visitor(app)
    page = visitor.get("/register")
    field = page.select_one("form[action='/register'] input[name='time_zone']")
    assert field is not None and field["type"] == "hidden"
    assert field.has_attr("data-browser-time-zone")
    assert not page.select("script:not([src])"), "no inline script: the CSP forbids it"
    script = visitor.client.get("/static/app.js").text
    assert "data-browser-time-zone" in script and "resolvedOptions().timeZone" in script


def test_registering_in_a_browser_keeps_its_zone(app):
    visitor = Visitor(app)
    sent = {"username": "hana", "password": PASSWORD, "time_zone": LA}
    assert visitor.post("/register", sent).status_code == 200
    assert text_of(visitor.get("/account"), "#zone-now") == "America/Los Angeles"


def test_without_javascript_a_new_account_lives_in_utc(app):
    visitor = Visitor(app)
    assert visitor.post("/register", {"username": "hana", "password": PASSWORD}).status_code == 200
    assert text_of(visitor.get("/account"), "#zone-now") == "UTC"


def test_an_unknown_zone_is_refused_on_the_page_with_a_list_to_choose_from(app):
    visitor = Visitor(app)
    sent = {"username": "hana", "password": PASSWORD, "time_zone": "Mars/Olympus_Mons"}
    page = soup(visitor.post("/register", sent))
    assert visitor.last.status_code == 422
    assert "time zone" in text_of(page, "#form-error")
    picker = page.select_one("select#time_zone[name='time_zone']")
    assert picker is not None
    assert page.select_one("label[for='time_zone']") is not None
    assert picker.select_one(f"option[value='{LA}']") is not None
    assert visitor.post("/login", {"username": "hana", "password": PASSWORD}).status_code == 401


def test_the_api_registers_with_or_without_a_zone_and_refuses_an_unknown_one(client):
    def register(name: str, **zone: str) -> Any:
        return client.post(
            "/api/v1/auth/register", json={"username": name, "password": PASSWORD, **zone}
        )

    assert register("hana", time_zone=LA).json()["time_zone"] == LA
    assert register("ivan").json()["time_zone"] == "UTC"
    refused = register("olga", time_zone="Mars/Olympus_Mons")
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_time_zone"
    too_long = register("olga", time_zone="A" * 65)
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "invalid_input"


# --- changing zones -----------------------------------------------------------------


def test_a_person_changes_their_zone_on_the_account_page(app, people):
    people.register("hana")
    hana = signed_in(app, "hana")
    page = hana.get("/account")
    picker = page.select_one("#zone select[name='time_zone']")
    assert picker is not None and picker.find("option", selected=True)["value"] == "UTC"
    assert page.select_one(f"label[for='{picker['id']}']") is not None
    page = soup(hana.post("/account/time-zone", {"time_zone": "Asia/Tokyo"}))
    assert hana.last.status_code == 200
    assert text_of(page, "#zone-now") == "Asia/Tokyo"
    assert page.select_one("#zone option[selected]")["value"] == "Asia/Tokyo"
    page = soup(hana.post("/account/time-zone", {"time_zone": "Nowhere/Special"}))
    assert hana.last.status_code == 422
    assert text_of(page, "#zone-now") == "Asia/Tokyo"


def test_an_invalid_zone_through_the_api_is_a_problem_not_a_crash(people):
    hana = people.register("hana")
    for body in ({"time_zone": "Nowhere/Special"}, {"time_zone": ""}, {"zone": LA}, {}):
        answer = patch(hana, "/api/v1/me", body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] in {"invalid_time_zone", "invalid_input"}
    assert hana.get("/api/v1/me").json()["time_zone"] == "UTC"


def test_either_partner_changes_the_couples_zone(app, hana_and_ivan):
    hana, ivan = hana_and_ivan
    assert hana.get("/api/v1/couples/current").json()["time_zone"] == "UTC"
    changed = patch(ivan, "/api/v1/couples/current", {"time_zone": LA})
    assert changed.status_code == 200, changed.text
    assert hana.get("/api/v1/couples/current").json()["time_zone"] == LA
    browser = signed_in(app, "hana")
    page = soup(browser.post("/couple/time-zone", {"time_zone": "Europe/Lisbon"}))
    assert browser.last.status_code == 200
    assert text_of(page, "#couple-zone-now") == "Europe/Lisbon"
    assert ivan.get("/api/v1/couples/current").json()["time_zone"] == "Europe/Lisbon"
    page = soup(browser.post("/couple/time-zone", {"time_zone": "Atlantis/Capital"}))
    assert browser.last.status_code == 422
    assert "time zone" in text_of(page, "#form-error")
    assert text_of(page, "#couple-zone-now") == "Europe/Lisbon"
    # The person's own zone is a separate thing, and stayed as it was.
    assert ivan.get("/api/v1/me").json()["time_zone"] == "UTC"


def test_nobody_outside_the_couple_can_move_its_days(people, hana_and_ivan, olga_and_oscar):
    hana, _ = hana_and_ivan
    olga, _ = olga_and_oscar
    uma = people.register("uma")
    assert patch(olga, "/api/v1/couples/current", {"time_zone": LA}).status_code == 200
    assert hana.get("/api/v1/couples/current").json()["time_zone"] == "UTC"
    alone = patch(uma, "/api/v1/couples/current", {"time_zone": LA})
    assert alone.status_code == 404
    assert alone.json()["error"]["code"] == "no_couple"
    refused = patch(hana, "/api/v1/couples/current", {"time_zone": "Nowhere/Special"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_time_zone"


# --- what a person sees -------------------------------------------------------------


def test_the_break_return_time_is_shown_in_pacific_time(app, clock, people, hana_and_ivan):
    hana, ivan = hana_and_ivan
    move(hana, LA)
    set_clock(
        clock, people, datetime(2026, 3, 3, 3, 0, tzinfo=UTC), hana, ivan
    )  # Monday 19:00 in California
    started = hana.post("/api/v1/breaks", {"minutes": 60})
    assert started.status_code == 201, started.text
    assert started.json()["return_at"].startswith("2026-03-02T20:00:00")
    assert started.json()["return_at"].endswith("-08:00")
    page = signed_in(app, "hana").get("/today")
    shown = page.select_one("[aria-labelledby='break-title'] time")
    assert shown is not None
    assert shown.get_text(strip=True) == "20:00 PST"
    shown_at = datetime.fromisoformat(shown["datetime"])
    assert shown_at.replace(microsecond=0) == datetime(2026, 3, 3, 4, tzinfo=UTC)
    # Ivan, in UTC, reads the same moment on his own clock.
    theirs = signed_in(app, "ivan").get("/today")
    assert text_of(theirs, "[aria-labelledby='break-title'] time") == "04:00 UTC"
    until = ivan.get("/api/v1/pace").json()["break_until"]
    assert until.startswith("2026-03-03T04:00:00") and until.endswith("Z")


def test_an_experience_is_shown_at_the_readers_local_time(app, clock, people, hana_and_ivan):
    hana, ivan = hana_and_ivan
    move(ivan, LA)
    set_clock(
        clock, people, datetime(2026, 3, 4, 3, 20, tzinfo=UTC), hana, ivan
    )  # Tuesday 19:20 in California
    check_in(hana)
    shared = practice_at(hana, 1)  # tier 0 is practised alone, and stays private
    started = "2026-03-04T03:20:00+00:00"
    logged = hana.post(
        "/api/v1/experiences", {"practice_id": shared, **GOOD, "started_at": started}
    )
    assert logged.status_code == 201, logged.text
    page = signed_in(app, "ivan").get(f"/experiences/new?experience={logged.json()['id']}")
    assert "Tue 3 Mar, 19:20" in page.get_text()
    assert "UTC" not in page.get_text()
    today = signed_in(app, "ivan").get("/today")
    assert "Tue 3 Mar" in today.get_text()


def test_api_datetimes_carry_the_askers_offset(clock, people, hana_and_ivan):
    hana, ivan = hana_and_ivan
    move(hana, LA)
    set_clock(clock, people, datetime(2026, 3, 3, 3, 0, tzinfo=UTC), hana, ivan)
    check_in(hana)
    check_in(ivan)
    recorded = hana.get("/api/v1/checkins").json()[0]["recorded_at"]
    assert recorded.startswith("2026-03-02T19:00:00") and recorded.endswith("-08:00")
    assert ivan.get("/api/v1/checkins").json()[0]["recorded_at"].endswith("Z")
    sessions = hana.get("/api/v1/sessions").json()
    assert all(s["created_at"].endswith("-08:00") for s in sessions)
    # What is sent with an offset is stored as that instant.
    back = hana.post("/api/v1/checkins", {**CALM, "recorded_at": "2026-03-02T23:30:00+09:00"})
    assert back.json()["recorded_at"] == "2026-03-02T06:30:00-08:00"


def checkin_days(page: Any) -> list[str]:
    rows = page.select("#me-activation-safety-caption ~ details table tbody tr")
    return [row.find("td").get_text(strip=True) for row in rows]


def test_the_weekly_summary_and_charts_cut_days_at_local_midnight(app, clock, people):
    hana = people.register("hana")
    move(hana, LA)
    set_clock(
        clock, people, datetime(2026, 3, 3, 20, 0, tzinfo=UTC), hana
    )  # Tuesday noon in California
    # Sunday 23:30 in California is already Monday in UTC.
    late_sunday = at_pacific(2026, 3, 1, 23, 30).isoformat()
    assert hana.post("/api/v1/checkins", {**CALM, "recorded_at": late_sunday}).status_code == 201
    browser = signed_in(app, "hana")
    summary = browser.get("/summary")
    assert text_of(summary, "#week-dates").startswith("Mon 2 Mar to Sun 8 Mar")
    assert "check-in with yourself" not in text_of(summary, "#mine")
    assert checkin_days(browser.get("/progress")) == ["2026-03-01"]
    # Monday 23:30 in California (Tuesday in UTC) is this week, on Monday.
    late_monday = at_pacific(2026, 3, 2, 23, 30).isoformat()
    assert hana.post("/api/v1/checkins", {**CALM, "recorded_at": late_monday}).status_code == 201
    assert "1 check-in with yourself" in text_of(browser.get("/summary"), "#mine")
    assert checkin_days(browser.get("/progress")) == ["2026-03-01", "2026-03-02"]
    # The same entries, seen from UTC, fall on the next days.
    move(hana, "UTC")
    assert "2 check-ins with yourself" in text_of(browser.get("/summary"), "#mine")
    assert checkin_days(browser.get("/progress")) == ["2026-03-02", "2026-03-03"]


def test_the_calendar_file_keeps_the_local_hour_across_daylight_saving(app, clock, people):
    hana = people.register("hana")
    move(hana, LA)
    set_clock(
        clock, people, datetime(2026, 3, 5, 3, 0, tzinfo=UTC), hana
    )  # Wednesday 19:00 in California
    check_in(hana)
    browser = signed_in(app, "hana")
    browser.get("/summary/reminders.ics")
    assert browser.last.status_code == 200
    calendar = Calendar.from_ical(browser.last.content)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [LA]
    starts = [event.decoded("dtstart") for event in calendar.walk("VEVENT")]
    assert len(starts) == 7
    assert {(s.hour, s.minute) for s in starts} == {(19, 0)}
    assert [s.astimezone(PACIFIC).date() for s in starts] == [
        date(2026, 3, 5) + timedelta(days=n) for n in range(7)
    ]
    # Clocks go forward on 8 March: the same local hour is an hour earlier in UTC.
    offsets = {s.date(): s.utcoffset() for s in starts}
    assert offsets[date(2026, 3, 7)] == timedelta(hours=-8)
    assert offsets[date(2026, 3, 9)] == timedelta(hours=-7)


def test_account_sign_ins_show_local_times(app, clock, people):
    hana = people.register("hana")
    move(hana, LA)
    set_clock(clock, people, datetime(2026, 3, 3, 3, 0, tzinfo=UTC), hana)
    page = signed_in(app, "hana").get("/account")
    assert "Mon 2 Mar, 19:00" in text_of(page, "#sessions")
    assert "UTC" not in text_of(page, "#sessions")


def test_a_therapist_reads_the_couples_pace_on_their_own_calendar(app, clock, people):
    clock.now = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # already 3 March in Tokyo
    hana, ivan = people.couple("hana", "ivan")
    check_in(hana)
    check_in(ivan)
    thea = people.register("thea", screen=None)
    move(thea, "Asia/Tokyo")
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    couple_id = hana.get("/api/v1/couples/current").json()["id"]
    case = thea.get(f"/api/v1/caseload/{couple_id}").json()
    assert case["tiers"] and all(at.endswith("+09:00") for at, _ in case["tiers"])
    page = signed_in(app, "thea").get(f"/caseload/{couple_id}")
    days = {row.find("td").get_text(strip=True) for row in page.select("#tiers tbody tr")}
    assert days == {"3 Mar 2026"}


def test_every_api_route_writes_times_on_the_askers_clock():
    # A datetime is written in the asker's zone only where the route runs
    # answer_in_local_time; a router made without api_router() would answer in UTC.
    missing = [
        f"{sorted(route.methods)} {route.path}"
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/api/")
        if answer_in_local_time not in {d.dependency for d in route.dependencies}
    ]
    assert missing == []
