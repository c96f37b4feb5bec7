"""Commitments kept over time: offered by the involved partner, recorded day by day,
noticed by the other, shown week by week; the app never checks anything itself."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.pages import log_in

pytestmark = pytest.mark.usefixtures("backend")

# The clock fixture stands at Monday 2 March 2026, 08:00 UTC.
MONDAY = date(2026, 3, 2)
NO_CONTACT = {
    "what": "No contact with the affair partner",
    "looks_like": "If they get in touch, I tell you the same day.",
}


def test_offered_kept_noticed_and_shown_week_by_week(app, people, clock, hana_and_ivan):
    hana, ivan = hana_and_ivan  # Hana was hurt; Ivan was involved
    refused = hana.post("/api/v1/commitments", NO_CONTACT)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_yours_to_offer"
    offered = ivan.post("/api/v1/commitments", NO_CONTACT)
    assert offered.status_code == 201, offered.text
    cid = offered.json()["id"]
    assert [c["what"] for c in hana.get("/api/v1/commitments").json()] == [NO_CONTACT["what"]]
    assert hana.get("/api/v1/commitments").json()[0]["mine"] is False

    days = f"/api/v1/commitments/{cid}/days"
    for n in range(10):
        kept = n != 4  # one honest "not kept" on Friday
        response = ivan.post(days, {"day": (MONDAY + timedelta(n)).isoformat(), "kept": kept})
        assert response.status_code == 200, response.text
        clock.advance(days=1)
        ivan.token, hana.token = people.login("ivan"), people.login("hana")
    assert hana.post(days, {"day": MONDAY.isoformat(), "kept": True}).status_code == 403
    future = (MONDAY + timedelta(30)).isoformat()
    assert ivan.post(days, {"day": future, "kept": True}).json()["error"]["code"] == "invalid_day"
    too_old = MONDAY.isoformat()  # ten days ago now
    assert ivan.post(days, {"day": too_old, "kept": True}).status_code == 422

    noticed = f"/api/v1/commitments/{cid}/noticed"
    assert hana.post(noticed, {"day": MONDAY.isoformat()}).status_code == 200
    friday = (MONDAY + timedelta(4)).isoformat()
    assert hana.post(noticed, {"day": friday}).json()["error"]["code"] == "nothing_to_notice"
    assert ivan.post(noticed, {"day": MONDAY.isoformat()}).status_code == 403
    weeks = hana.get("/api/v1/commitments").json()[0]["weeks"]
    assert [(w["week_of"], w["kept"], w["not_kept"], w["noticed"]) for w in weeks] == [
        ("2026-03-02", 6, 1, 1),
        ("2026-03-09", 3, 0, 0),
    ]

    # Both see it on the page and as a chart on Progress; only Ivan records.
    hanas = log_in(app, "hana").get("/commitments")
    section = hanas.select_one(f"#commitment-{cid}")
    assert section.select_one(f"form[action='/commitments/{cid}/days']") is None
    assert section.select_one(f"form[action='/commitments/{cid}/noticed']") is not None
    figure = section.select_one("figure.chart")
    assert "kept on 9 of the 10 days recorded" in figure.get_text()
    ivans = log_in(app, "ivan")
    assert ivans.get("/commitments").select_one(f"form[action='/commitments/{cid}/days']")
    chart = ivans.client.get(f"/progress/charts/couple/kept-{cid}.svg")
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg")

    ended = ivan.post(f"/api/v1/commitments/{cid}/end")
    assert ended.status_code == 200 and ended.json()["ended_at"] is not None
    today = (MONDAY + timedelta(10)).isoformat()
    assert ivan.post(days, {"day": today, "kept": True}).status_code == 409
    assert len(hana.get("/api/v1/commitments").json()[0]["days"]) == 10, "its days stay"


def test_another_couple_and_the_therapist_never_reach_it(people, hana_and_ivan, olga_and_oscar):
    _, ivan = hana_and_ivan
    olga, oscar = olga_and_oscar
    cid = ivan.post("/api/v1/commitments", NO_CONTACT).json()["id"]
    for person in (olga, oscar):
        assert person.get("/api/v1/commitments").json() == []
        answer = person.post(f"/api/v1/commitments/{cid}/noticed", {"day": "2026-03-02"})
        assert answer.status_code == 404
    thea = people.register("thea", screen=None)
    assert thea.get("/api/v1/commitments").status_code == 409


def test_the_page_offers_and_records_in_the_involved_partners_words(app, hana_and_ivan):
    page = log_in(app, "ivan")
    offered = page.post("/commitments", NO_CONTACT)
    assert offered.status_code == 303
    listed = page.follow()
    (section,) = listed.select("section[id^=commitment-]")
    assert NO_CONTACT["looks_like"] in section.get_text()
    assert listed.select_one(".mark.shared") is not None
    form = section.select_one("form[action$='/days']")
    day = form.select_one("option")["value"]
    page.post(form["action"], {"day": day, "kept": "yes"})
    assert page.last.status_code == 303
    assert "kept" in page.follow().select_one("ul.kept-days").get_text()
    hanas = log_in(app, "hana").get("/commitments")
    assert hanas.select_one("form[action='/commitments']") is None, "hers to notice"
