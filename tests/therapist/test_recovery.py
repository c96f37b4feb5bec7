"""The consenting therapist sees the couple's commitments and rituals: both partners
share them by design (the couple key), so the therapist who has both partners'
agreement reads what each is, who offered it and its days week by week, on the couple
page, in the API and in the report; never anything private. Once either partner
withdraws their agreement, the therapist gets what any stranger gets: 404.

Hana was hurt and Ivan was involved; Thea is their therapist. The clock starts on
Monday 2 March 2026.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.pacing.api_steps import check_in, up_one_step
from tests.pages import log_in, pdf_text

pytestmark = pytest.mark.usefixtures("backend")

MONDAY = date(2026, 3, 2)
CANARY = "CANARY-therapist-must-not-see"
NO_CONTACT = {
    "what": "No contact with the affair partner",
    "looks_like": "If they get in touch, I tell you the same day.",
}
WALK = {"practice_id": "walk-side-by-side", "rhythm": "daily"}
WALK_TITLE = "A quiet walk side by side"


def day(n: int) -> str:
    return (MONDAY + timedelta(days=n)).isoformat()


def consenting_therapist(people, first, second):
    thea = people.register("thea", screen=None)
    code = first.post("/api/v1/therapist/invites").json()["code"]
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert second.post("/api/v1/therapist/consent").status_code == 204
    return thea


@pytest.fixture
def kept_and_walked(people, clock, hana_and_ivan):
    """Ivan's commitment kept on four of five recorded days over two weeks, one of them
    noticed by Hana; a daily walk they did on three days. Returns the couple's id, the
    commitment's and the ritual's."""
    hana, ivan = hana_and_ivan
    cid = ivan.post("/api/v1/commitments", NO_CONTACT).json()["id"]
    up_one_step(people, clock, hana, ivan)  # Thursday 5 March: a walk fits now
    check_in(hana, note=CANARY)
    for n, kept in ((0, True), (1, True), (2, False), (3, True)):
        answer = ivan.post(f"/api/v1/commitments/{cid}/days", {"day": day(n), "kept": kept})
        assert answer.status_code == 200, answer.text
    assert hana.post(f"/api/v1/commitments/{cid}/noticed", {"day": day(0)}).status_code == 200
    chosen = hana.post("/api/v1/rituals", WALK)
    assert chosen.status_code == 201, chosen.text
    rid = chosen.json()["id"]
    for n in (2, 3):
        assert ivan.post(f"/api/v1/rituals/{rid}/done", {"day": day(n)}).status_code == 200
    clock.advance(days=4)  # Monday 9 March
    hana.token, ivan.token = people.login("hana"), people.login("ivan")
    assert ivan.post(f"/api/v1/commitments/{cid}/days", {"day": day(7), "kept": True}).is_success
    assert hana.post(f"/api/v1/rituals/{rid}/done", {"day": day(7)}).status_code == 200
    thea = consenting_therapist(people, hana, ivan)
    couple = int(hana.get("/api/v1/couples/current").json()["id"])
    return couple, cid, rid, thea


def test_the_api_lists_each_commitment_and_ritual_with_its_days(
    people, hana_and_ivan, kept_and_walked
):
    hana, _ = hana_and_ivan
    couple, cid, rid, thea = kept_and_walked
    answer = thea.get(f"/api/v1/caseload/{couple}")
    assert answer.status_code == 200, answer.text
    assert CANARY not in answer.text
    (commitment,) = answer.json()["commitments"]
    assert commitment["id"] == cid
    assert commitment["what"] == NO_CONTACT["what"]
    assert commitment["looks_like"] == NO_CONTACT["looks_like"]
    assert commitment["offered_by"] == "involved partner"
    assert commitment["offered_at"].startswith("2026-03-02")
    assert commitment["ended_at"] is None
    assert commitment["days"] == [
        {"day": day(0), "kept": True, "noticed": True},
        {"day": day(1), "kept": True, "noticed": False},
        {"day": day(2), "kept": False, "noticed": False},
        {"day": day(3), "kept": True, "noticed": False},
        {"day": day(7), "kept": True, "noticed": False},
    ]
    assert commitment["weeks"] == [
        {"week_of": day(0), "kept": 3, "not_kept": 1, "noticed": 1},
        {"week_of": day(7), "kept": 1, "not_kept": 0, "noticed": 0},
    ]
    (ritual,) = answer.json()["rituals"]
    partners = hana.get("/api/v1/rituals").json()[0]
    assert ritual == {
        "id": rid,
        "practice_id": "walk-side-by-side",
        "title": WALK_TITLE,
        "rhythm": "daily",
        "every": "every day",
        "chosen_at": ritual["chosen_at"],
        "ended_at": None,
        "resting": partners["resting"],  # as the partners see it now
        "days": [day(2), day(3), day(7)],
        "weeks": [{"week_of": day(0), "done": 2}, {"week_of": day(7), "done": 1}],
    }
    assert ritual["chosen_at"].startswith("2026-03-05")


def test_a_ritual_rests_for_the_therapist_as_for_the_partners(app, hana_and_ivan, kept_and_walked):
    hana, ivan = hana_and_ivan
    couple, _, rid, thea = kept_and_walked
    check_in(hana)
    check_in(ivan)
    assert hana.get("/api/v1/rituals").json()[0]["resting"] is False
    assert thea.get(f"/api/v1/caseload/{couple}").json()["rituals"][0]["resting"] is False
    assert ivan.post("/api/v1/lapses", {"together": True}).status_code == 200
    assert hana.get("/api/v1/rituals").json()[0]["resting"] is True
    (ritual,) = thea.get(f"/api/v1/caseload/{couple}").json()["rituals"]
    assert ritual["resting"] is True
    page = log_in(app, "thea").get(f"/caseload/{couple}")
    assert "It rests for now" in page.select_one(f"#ritual-{rid}").get_text()


def test_the_couple_page_shows_them_with_their_weeks_charted(app, kept_and_walked):
    couple, cid, rid, _ = kept_and_walked
    thea = log_in(app, "thea")
    page = thea.get(f"/caseload/{couple}")
    assert thea.last.status_code == 200
    assert CANARY not in thea.last.text
    commitments = page.select_one("#commitments")
    assert commitments.select_one("h2").get_text() == "Commitments kept over time"
    section = commitments.select_one(f"#commitment-{cid}")
    words = " ".join(section.get_text(" ").split())
    assert NO_CONTACT["what"] in section.select_one("h3").get_text()
    assert NO_CONTACT["looks_like"] in words
    assert "Offered by the involved partner on 2 Mar 2026" in words
    figure = section.select_one("figure.chart")
    assert "kept on 4 of the 5 days recorded" in figure.get_text()
    assert figure.select_one("img")["alt"] in figure.select_one("figcaption").get_text()
    assert figure.select_one("table caption") is not None
    assert figure.select("th[scope=col]")
    rituals = page.select_one("#rituals")
    assert rituals.select_one("h2").get_text() == "Rituals of connection"
    section = rituals.select_one(f"#ritual-{rid}")
    assert section.select_one("h3").get_text().startswith(f"{WALK_TITLE}, every day")
    assert "done on 3 days" in section.select_one("figure.chart").get_text()
    for key in (f"kept-{cid}", f"ritual-{rid}"):
        chart = thea.client.get(f"/caseload/{couple}/charts/{key}.svg")
        assert chart.status_code == 200
        assert chart.headers["content-type"].startswith("image/svg")
    assert "a record, never a score" in " ".join(commitments.get_text(" ").split())


def test_the_report_gives_a_line_for_each(app, kept_and_walked):
    couple, _, _, _ = kept_and_walked
    thea = log_in(app, "thea")
    thea.get(f"/caseload/{couple}/report.pdf")
    assert thea.last.status_code == 200
    words = " ".join(pdf_text(thea.last.content).split())
    assert "Commitments kept over time" in words
    assert (
        f"{NO_CONTACT['what']}, offered by the involved partner: kept on 4 of 5 recorded days"
        in words
    )
    assert f"{WALK_TITLE}, every day: done on 3 days" in words
    assert CANARY not in words


def test_with_none_the_page_says_so(app, people, hana_and_ivan):
    hana, ivan = hana_and_ivan
    thea = consenting_therapist(people, hana, ivan)
    couple = int(hana.get("/api/v1/couples/current").json()["id"])
    page = log_in(app, "thea").get(f"/caseload/{couple}")
    assert "No commitments offered yet." in page.select_one("#commitments").get_text()
    assert "No rituals chosen yet." in page.select_one("#rituals").get_text()
    view = thea.get(f"/api/v1/caseload/{couple}").json()
    assert view["commitments"] == [] and view["rituals"] == []


def test_two_hurt_partners_are_told_apart_by_when_they_joined(app, people):
    bea, ben = people.couple("bea", "ben", role="both_hurt")
    offered = ben.post("/api/v1/commitments", NO_CONTACT)
    assert offered.status_code == 201, offered.text
    thea = consenting_therapist(people, bea, ben)
    couple = int(bea.get("/api/v1/couples/current").json()["id"])
    (commitment,) = thea.get(f"/api/v1/caseload/{couple}").json()["commitments"]
    assert commitment["offered_by"] == "partner who joined second"
    page = log_in(app, "thea").get(f"/caseload/{couple}")
    assert "Offered by the partner who joined second" in page.select_one("#commitments").get_text()


@pytest.mark.parametrize("who", [0, 1])
def test_once_either_partner_withdraws_the_therapist_sees_none_of_it(
    app, hana_and_ivan, kept_and_walked, who
):
    couple, cid, rid, thea = kept_and_walked
    thea_page = log_in(app, "thea")
    assert thea_page.get(f"/caseload/{couple}").select_one(f"#commitment-{cid}") is not None
    assert hana_and_ivan[who].post("/api/v1/therapist/revoke").status_code == 204
    answer = thea.get(f"/api/v1/caseload/{couple}")
    assert answer.status_code == 404
    assert NO_CONTACT["what"] not in answer.text
    page = thea_page.get(f"/caseload/{couple}")
    assert thea_page.last.status_code == 404
    assert page.select_one(f"#commitment-{cid}") is None
    assert NO_CONTACT["what"] not in thea_page.last.text
    for key in (f"kept-{cid}", f"ritual-{rid}"):
        assert thea_page.client.get(f"/caseload/{couple}/charts/{key}.svg").status_code == 404
    thea_page.get(f"/caseload/{couple}/report.pdf")
    assert thea_page.last.status_code == 404
