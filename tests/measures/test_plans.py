"""Questionnaires that repeat: due on time, for a few days, never chased twice; set by a
person for themselves (privately) or by the consenting therapist for both partners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from reconnect.measures.plans import DUE_FOR, EVERY, OwnPlan, Plan, due
from reconnect.models import CoupleQuestionnairePlan, QuestionnairePlan
from tests.pages import log_in, pdf_text, soup

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
GAD7 = {str(n): 1 for n in range(1, 8)}
PHQ9 = {str(n): 0 for n in range(1, 10)}


def plan_of(every: int, since: datetime, answered: list[datetime]) -> OwnPlan:
    own = OwnPlan()
    own.set("gad-7", every, since)
    if answered:
        own.last["gad-7"] = max(answered).isoformat()
    return own


@settings(max_examples=200, deadline=None)
@given(
    every=st.sampled_from(sorted(EVERY)),
    answered_after=st.lists(st.integers(0, 90 * 24), max_size=6),
)
def test_a_repeat_is_due_for_a_few_days_at_each_turn_and_never_twice_for_one_miss(
    every, answered_after
):
    """Walking hour by hour through 90 days: each stretch of "due" lasts at most
    DUE_FOR, stretches are a whole interval apart unless an answer came between, and
    nothing is due within an interval after an answer."""
    answers = sorted(START + timedelta(hours=h) for h in answered_after)
    stretches: list[list[datetime]] = []
    now = START
    while now < START + timedelta(days=90):
        so_far = [a for a in answers if a <= now]
        is_due = bool(due(plan_of(every, START, so_far), Plan(), now))
        if so_far:
            assert not (is_due and now - so_far[-1] < timedelta(days=every))
        if is_due:
            if stretches and now - stretches[-1][-1] == timedelta(hours=1):
                stretches[-1].append(now)
            else:
                stretches.append([now])
        now += timedelta(hours=1)
    for stretch in stretches:
        assert stretch[-1] - stretch[0] < DUE_FOR
    # Without answers, exactly one stretch per turn, starting at each turn.
    if not answers:
        assert [s[0] for s in stretches] == [
            START + timedelta(days=every * n) for n in range(len(stretches))
        ]
        assert len(stretches) == -(-90 // every)


def test_a_therapists_request_and_a_persons_own_both_count_and_the_more_frequent_wins():
    own, couple = OwnPlan(), Plan()
    couple.set("phq-9", 14, START)
    own.set("phq-9", 7, START)
    own.set("gad-7", 28, START)
    found = {d.instrument_id: (d.every, d.asked_by) for d in due(own, couple, START)}
    assert found == {"phq-9": (7, "you"), "gad-7": (28, "you")}
    with pytest.raises(Exception, match="one, two or four weeks"):
        own.set("gad-7", 10, START)


@pytest.mark.usefixtures("backend")
def test_repeating_a_questionnaire_for_oneself_through_the_api(people, clock):
    hana = people.register("hana")

    def later(days: int) -> None:
        clock.advance(days=days)
        hana.token = people.login("hana")

    plan = hana.post("/api/v1/questionnaire-plan", {"instrument_id": "gad-7", "every_days": 14})
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert body["repeats"] == [{"instrument_id": "gad-7", "every_days": 14, "asked_by": "you"}]
    assert [d["instrument_id"] for d in body["due"]] == ["gad-7"]  # never answered: due now
    assert hana.post("/api/v1/questionnaires/gad-7", {"answers": GAD7}).status_code == 201
    assert hana.get("/api/v1/questionnaire-plan").json()["due"] == []
    later(14)
    assert [d["instrument_id"] for d in hana.get("/api/v1/questionnaire-plan").json()["due"]] == [
        "gad-7"
    ]
    later(3)  # missed: it goes quiet until its next turn
    assert hana.get("/api/v1/questionnaire-plan").json()["due"] == []
    later(11)
    assert len(hana.get("/api/v1/questionnaire-plan").json()["due"]) == 1
    wrong = hana.post("/api/v1/questionnaire-plan", {"instrument_id": "gad-7", "every_days": 10})
    assert wrong.status_code == 422
    unknown = hana.post("/api/v1/questionnaire-plan", {"instrument_id": "nope", "every_days": 7})
    assert unknown.status_code == 404
    stop = hana.post("/api/v1/questionnaire-plan", {"instrument_id": "gad-7", "every_days": 0})
    assert stop.json() == {"repeats": [], "due": []}


@pytest.mark.usefixtures("backend")
def test_a_therapist_asks_both_partners_and_each_ones_own_repeats_stay_private(
    app, people, hana_and_ivan
):
    hana, ivan = hana_and_ivan
    thea = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    cid = hana.get("/api/v1/couples/current").json()["id"]
    # Before Ivan agrees, Thea cannot ask anything of them.
    ask = {"instrument_id": "phq-9", "every_days": 14}
    assert thea.post(f"/api/v1/caseload/{cid}/questionnaire-plan", ask).status_code == 404
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    asked = thea.post(f"/api/v1/caseload/{cid}/questionnaire-plan", ask)
    assert asked.status_code == 200 and asked.json() == [
        {"instrument_id": "phq-9", "every_days": 14}
    ]
    (listed,) = thea.get(f"/api/v1/caseload/{cid}").json()["questionnaire_plan"]
    assert {k: listed[k] for k in ("instrument_id", "every_days")} == asked.json()[0]
    assert [(t["partner"], t["due"]) for t in listed["partners"]] == [
        ("hurt partner", True),
        ("involved partner", True),
    ]
    # Ivan also repeats the GAD-7 for himself: Hana never learns it.
    ivan.post("/api/v1/questionnaire-plan", {"instrument_id": "gad-7", "every_days": 7})
    for person in (hana, ivan):
        plan = person.get("/api/v1/questionnaire-plan").json()
        assert {"instrument_id": "phq-9", "every_days": 14, "asked_by": "your therapist"} in plan[
            "repeats"
        ]
    assert [
        r["instrument_id"] for r in hana.get("/api/v1/questionnaire-plan").json()["repeats"]
    ] == ["phq-9"]
    # Ivan answers: his is no longer due; Hana's still is.
    assert ivan.post("/api/v1/questionnaires/phq-9", {"answers": PHQ9}).status_code == 201
    assert [d["instrument_id"] for d in ivan.get("/api/v1/questionnaire-plan").json()["due"]] == [
        "gad-7"
    ]
    assert [d["instrument_id"] for d in hana.get("/api/v1/questionnaire-plan").json()["due"]] == [
        "phq-9"
    ]
    # The file holds the plans sealed: no questionnaire's name in them.
    with app.state.reconnect.sessions() as db:
        sealed = [*db.scalars(select(QuestionnairePlan.sealed))]
        sealed += [*db.scalars(select(CoupleQuestionnairePlan.sealed))]
    assert len(sealed) == 2  # Ivan's own, and the couple's: Hana has planned nothing
    assert not any(b"phq" in s or b"gad" in s for s in sealed)


@pytest.mark.usefixtures("backend")
@pytest.mark.usefixtures("thea")
def test_the_pages_show_what_is_due_and_who_asked(app, couple_id):
    cid = couple_id

    thea = log_in(app, "thea")
    page = thea.get(f"/caseload/{cid}")
    assert page.select_one("form[action$='/questionnaire-plan']") is not None
    thea.post(f"/caseload/{cid}/questionnaire-plan", {"instrument_id": "phq-9", "every_days": "14"})
    assert thea.last.status_code == 303
    assert "every two weeks" in thea.follow().select_one("#asked").get_text()

    hana = log_in(app, "hana")
    today = hana.get("/today").select_one("#questionnaires-due")
    assert today is not None and "your therapist asked for it" in today.get_text()
    listed = hana.get("/questionnaires")
    assert "Your therapist asked both of you" in listed.select_one("#asked-phq-9").get_text()
    hana.post("/questionnaire-plan", {"instrument_id": "gad-7", "every_days": "28"})
    assert hana.last.status_code == 303
    chosen = hana.follow().select_one("#every-gad-7 option[selected]")
    assert chosen["value"] == "28"
    wrong = soup(hana.post("/questionnaire-plan", {"instrument_id": "gad-7", "every_days": "x"}))
    assert hana.last.status_code == 422 and wrong.select_one("[role=alert]") is not None


def phq9(person, each: int) -> None:
    answers = {str(n): each for n in range(1, 9)} | {"9": 0}
    assert person.post("/api/v1/questionnaires/phq-9", {"answers": answers}).status_code == 201


@pytest.mark.usefixtures("backend")
def test_the_therapist_sees_partners_moving_apart_on_a_questionnaire(
    app, hana_and_ivan, thea, couple_id
):
    hana, ivan = hana_and_ivan
    cid = couple_id
    images = thea.get(f"/api/v1/caseload/{cid}/report.pdf").content.count(b"/Subtype /Image")

    phq9(hana, 3)
    phq9(ivan, 0)
    assert thea.get("/api/v1/caseload").json()[0]["diverging"] == []
    phq9(hana, 1)  # 24 to 8: a reliable improvement
    phq9(ivan, 0)  # no change yet: nothing to flag
    assert thea.get("/api/v1/caseload").json()[0]["diverging"] == []
    phq9(ivan, 2)  # 0 to 16: a reliable worsening
    title = thea.get(f"/api/v1/caseload/{cid}").json()["divergences"][0]["title"]
    assert thea.get(f"/api/v1/caseload/{cid}").json()["divergences"] == [
        {
            "instrument": "phq-9",
            "title": title,
            "better": "hurt partner",
            "worse": "involved partner",
        }
    ]
    assert thea.get("/api/v1/caseload").json()[0]["diverging"] == [title]
    page = log_in(app, "thea")
    assert title in page.get("/caseload").select_one("#cases").get_text()
    couple_page = page.get(f"/caseload/{cid}")
    notice = couple_page.select_one("#diverging-phq-9").get_text()
    assert "hurt partner's latest result is a reliable improvement" in " ".join(notice.split())
    assert "not a verdict" in notice
    # Both partners on one chart, each reliable change marked on its own line.
    charts = couple_page.select("figure.chart img[src*='/charts/scores-']")
    assert [img["src"].rsplit("/", 1)[1] for img in charts] == ["scores-phq-9.svg"]
    caption = couple_page.select_one("figure.chart:has(img[src$='scores-phq-9.svg']) figcaption")
    assert "both partners" in caption.get_text()
    said = " ".join(caption.get_text().split())
    assert "Hurt partner: 2 results, from 24.0 to 8.0, 1 reliable improvement" in said
    assert "involved partner: 3 results, from 0.0 to 16.0" in said
    svg = page.client.get(f"/caseload/{cid}/charts/scores-phq-9.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "Hurt partner" in svg.text and "Involved partner" in svg.text
    report = thea.get(f"/api/v1/caseload/{cid}/report.pdf")
    words = " ".join(pdf_text(report.content).split())
    assert "Moving apart on the" in words and f"{title}, both partners" in words
    assert report.content.count(b"/Subtype /Image") > images, "a chart for PHQ-9"
    # Nothing of it reaches either partner.
    for person in (hana, ivan):
        assert "diverg" not in person.get("/api/v1/insights").text.lower()


@pytest.mark.usefixtures("backend")
def test_a_phq9_every_two_weeks_from_request_to_both_partners_charted_apart(
    app, hana_and_ivan, thea, couple_id, clock
):
    """The issue's whole story: the therapist asks, both see it due, both answer, and
    the therapist sees each partner's turn, one chart and the two moving apart."""
    hana, ivan = hana_and_ivan
    cid = couple_id
    asked = thea.post(
        f"/api/v1/caseload/{cid}/questionnaire-plan", {"instrument_id": "phq-9", "every_days": 14}
    )
    assert asked.status_code == 200

    def turns() -> dict[str, tuple[bool, bool]]:
        plan = thea.get(f"/api/v1/caseload/{cid}").json()["questionnaire_plan"]
        assert [p["instrument_id"] for p in plan] == ["phq-9"]
        return {t["partner"]: (t["due"], t["last_shared"] is not None) for t in plan[0]["partners"]}

    assert turns() == {"hurt partner": (True, False), "involved partner": (True, False)}

    def due(person) -> list[str]:
        return [d["instrument_id"] for d in person.get("/api/v1/questionnaire-plan").json()["due"]]

    assert due(hana) == due(ivan) == ["phq-9"]
    phq9(hana, 3)
    phq9(ivan, 0)
    assert turns() == {"hurt partner": (False, True), "involved partner": (False, True)}
    clock.advance(days=14)
    assert turns() == {"hurt partner": (True, True), "involved partner": (True, True)}
    assert due(hana) == due(ivan) == ["phq-9"]
    phq9(hana, 1)  # 24 to 8: reliably better
    phq9(ivan, 2)  # 0 to 16: reliably worse
    assert turns() == {"hurt partner": (False, True), "involved partner": (False, True)}
    assert due(hana) == due(ivan) == []

    page = log_in(app, "thea").get(f"/caseload/{cid}")
    listed = " ".join(page.select_one("#asked-phq-9").get_text().split())
    assert "every two weeks" in listed and "Hurt partner: last shared" in listed
    assert "next turn from" in listed and "due since" not in listed
    assert page.select_one("#diverging-phq-9") is not None
    assert page.select_one("img[src$='/charts/scores-phq-9.svg']") is not None


@pytest.mark.usefixtures("backend")
def test_two_hurt_partners_are_told_apart_on_the_chart_and_when_moving_apart(app, people):
    uma, vic = people.couple("uma", "vic", role="both_hurt")
    therapist = people.register("thea", screen=None)
    code = uma.post("/api/v1/therapist/invites").json()["code"]
    assert therapist.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert vic.post("/api/v1/therapist/consent").status_code == 204
    cid = uma.get("/api/v1/couples/current").json()["id"]
    for person, first, then in ((uma, 3, 1), (vic, 0, 2)):
        phq9(person, first)
        phq9(person, then)
    view = therapist.get(f"/api/v1/caseload/{cid}").json()
    assert [(r["partner"], r["total"]) for r in view["shared_results"]] == [
        ("partner who joined first", 24),
        ("partner who joined first", 8),
        ("partner who joined second", 0),
        ("partner who joined second", 16),
    ]
    assert [(d["better"], d["worse"]) for d in view["divergences"]] == [
        ("partner who joined first", "partner who joined second")
    ]
    svg = log_in(app, "thea").client.get(f"/caseload/{cid}/charts/scores-phq-9.svg").text
    assert "Partner who joined first" in svg and "Partner who joined second" in svg


@pytest.mark.usefixtures("backend")
def test_the_calendar_file_and_the_week_say_when_a_questionnaire_is_due_neutrally(app, people):
    from icalendar import Calendar

    hana_api = people.register("hana")
    hana_api.post("/api/v1/questionnaire-plan", {"instrument_id": "gad-7", "every_days": 7})
    hana = log_in(app, "hana")
    hana.get("/summary/reminders.ics?at=09:00")
    assert hana.last.status_code == 200
    file = hana.last.content
    events = [e for e in Calendar.from_ical(file).walk("VEVENT")]
    asked = [e for e in events if str(e["SUMMARY"]) == "A few questions"]
    assert len(asked) == 1  # due now: one reminder for this turn, none again for it
    assert len(events) == 8  # and a week of check-ins
    assert b"gad" not in file.lower() and b"anxiety" not in file.lower()
    week = hana.get("/summary").select_one("#questionnaires-week").get_text()
    assert "due now" in week


@pytest.mark.usefixtures("backend")
def test_the_export_holds_the_plan_and_not_the_therapists_share_id(app, people):
    hana = people.register("hana")
    hana.post("/api/v1/questionnaire-plan", {"instrument_id": "gad-7", "every_days": 28})
    hana.post("/api/v1/questionnaires/gad-7", {"answers": GAD7})
    exported = hana.get("/api/v1/export").json()
    assert exported["questionnaire_plan"]["repeat"] == {"gad-7": 28}
    assert set(exported["questionnaire_plan"]["last"]) == {"gad-7"}
    assert "therapist_share" not in exported["questionnaires"][0]
