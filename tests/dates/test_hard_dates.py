"""Hard dates: marked privately, prepared for gently, and the pace never moves up near
one (policy v4); the partner reads only that the pace holds, and only near the date."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from reconnect.models import PaceSignal
from tests.pacing.api_steps import check_in
from tests.pages import log_in

pytestmark = pytest.mark.usefixtures("backend")

# The clock fixture stands at Monday 2 March 2026, 08:00 UTC.


def rules(person) -> dict[str, dict]:
    return {r["rule"]: r for r in person.get("/api/v1/pace").json()["reasons"]}


def holds(app) -> list[PaceSignal]:
    with app.state.reconnect.sessions() as db:
        return list(db.scalars(select(PaceSignal).where(PaceSignal.kind == "hold")))


def test_dates_are_marked_privately_and_checked(people, clock):
    hana = people.register("hana")
    ivan = people.register("ivan")
    marked = hana.post(
        "/api/v1/hard-dates", {"label": "The day I found out", "month": 3, "day": 13}
    )
    assert marked.status_code == 201, marked.text
    assert marked.json()["next_on"] == "2026-03-13"
    assert ivan.get("/api/v1/hard-dates").json() == []
    leap = hana.post("/api/v1/hard-dates", {"month": 2, "day": 29}).json()
    assert leap["label"] == "A hard day" and leap["next_on"] == "2027-02-28"
    for bad in ({"month": 2, "day": 30}, {"month": 13, "day": 1}, {"month": 4, "day": "x"}):
        response = hana.post("/api/v1/hard-dates", bad)
        assert response.status_code == 422, bad
    assert [d["day"] for d in hana.get("/api/v1/hard-dates").json()] == [29, 13]
    assert ivan.delete(f"/api/v1/hard-dates/{leap['id']}").status_code == 404
    assert hana.delete(f"/api/v1/hard-dates/{leap['id']}").status_code == 204
    assert hana.delete("/api/v1/hard-dates/not-an-id").status_code == 422
    assert hana.get("/api/v1/export").json()["hard_dates"] == [
        {"label": "The day I found out", "month": 3, "day": 13}
    ]


def test_near_the_date_today_prepares_and_the_pace_holds_for_both(
    app, people, clock, hana_and_ivan
):
    hana, ivan = hana_and_ivan
    check_in(hana)
    check_in(ivan)
    hana.post("/api/v1/hard-dates", {"label": "The day I found out", "month": 3, "day": 13})
    assert holds(app) == [], "ten days ahead: nothing yet"
    page = log_in(app, "hana")
    assert page.get("/today").select_one("#hard-date-near") is None

    clock.advance(days=8)  # Tuesday 10 March: three days before
    hana.token, ivan.token = people.login("hana"), people.login("ivan")
    page = log_in(app, "hana")
    notice = page.get("/today").select_one("#hard-date-near")
    assert notice is not None and "The day I found out is near" in notice.get_text()
    assert notice.select_one("a[href='/notes?draft=hard-days']") is not None
    draft = page.get("/notes?draft=hard-days").select_one("textarea").get_text()
    assert "hard ones for me" in draft and "found out" not in draft
    (hold,) = holds(app)
    assert json.loads(hold.data)["until"] == "2026-03-15T00:00:00+00:00", "the day after, whole"
    page.get("/today")
    check_in(hana)
    assert len(holds(app)) == 1, "one hold per date, however often she comes"
    assert "hard_date" in rules(hana)
    his = rules(ivan)
    assert "hard_date" not in his and his["holding"]["numbers"] == {}
    assert "found out" not in ivan.get("/api/v1/pace").text

    clock.advance(days=5)  # Sunday 15 March: over
    hana.token, ivan.token = people.login("hana"), people.login("ivan")
    assert {"holding", "hard_date"}.isdisjoint(rules(ivan))
    assert log_in(app, "hana").get("/today").select_one("#hard-date-near") is None


def test_the_page_marks_and_removes_a_date(app, people, clock):
    people.register("hana")
    page = log_in(app, "hana")
    form = page.get("/hard-dates")
    assert form.select_one(".mark.private") is not None
    page.post("/hard-dates", {"label": "Our anniversary", "day": "31", "month": "2"})
    assert page.last.status_code == 422
    page.post("/hard-dates", {"label": "Our anniversary", "day": "20", "month": "6"})
    assert page.last.status_code == 303
    listed = page.follow().select_one("#hard-dates")
    assert "Our anniversary: 20 June" in " ".join(listed.get_text().split())
    action = listed.select_one("form")["action"]
    page.post(action, {})
    assert page.last.status_code == 303
    assert page.follow().select_one("#hard-dates") is None
