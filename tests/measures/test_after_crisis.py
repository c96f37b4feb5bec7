"""After a crisis answer (PHQ-9 item 9 above 0): the person may choose, there and then,
to let a consenting therapist know; a gentle check is offered once, a day later. The
partner is told nothing, and the database file does not show it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reconnect.models import QuestionnaireResponse, TherapistShare
from tests.pages import log_in, soup

pytestmark = pytest.mark.usefixtures("backend")

QUIET = {str(n): 0 for n in range(1, 10)}
CRISIS = {**QUIET, "9": 2}


def phq9(person, answers):
    taken = person.post("/api/v1/questionnaires/phq-9", {"answers": answers})
    assert taken.status_code == 201, taken.text
    return taken.json()


def shared_with(thea, hana):
    cid = hana.get("/api/v1/couples/current").json()["id"]
    return thea.get(f"/api/v1/caseload/{cid}").json()["shared_results"]


def stored(app):
    with app.state.reconnect.sessions() as db:
        shares = [(s.id, s.at, len(s.sealed)) for s in db.scalars(select(TherapistShare))]
        rows = db.scalar(select(func.count()).select_from(QuestionnaireResponse))
        return shares, rows


def test_the_therapist_learns_of_a_crisis_answer_only_when_the_person_chooses(
    app, thea, hana_and_ivan
):
    hana, ivan = hana_and_ivan
    taken = phq9(hana, CRISIS)
    assert taken["crisis"] is True and taken["can_tell_therapist"] is True
    assert [s["crisis"] for s in shared_with(thea, hana)] == [False]
    before = stored(app)
    ivan_sees = [ivan.get(path).text for path in ("/api/v1/me", "/api/v1/therapist/status")]

    told = hana.post(f"/api/v1/questionnaires/results/{taken['id']}/tell-therapist")
    assert told.status_code == 200 and told.json() == {"told": True}
    assert [s["crisis"] for s in shared_with(thea, hana)] == [True]
    # Telling again changes nothing; the database holds the same rows, the same times
    # and the same sealed lengths: the file does not show that anything was told.
    again = hana.post(f"/api/v1/questionnaires/results/{taken['id']}/tell-therapist")
    assert again.status_code == 200
    assert stored(app) == before
    # Ivan receives exactly what he received before.
    assert [ivan.get(p).text for p in ("/api/v1/me", "/api/v1/therapist/status")] == ivan_sees
    assert "phq-9" not in ivan.get("/api/v1/questionnaires/phq-9/history").text


def test_without_a_therapist_who_sees_the_couple_nothing_is_offered_or_sent(people):
    hana, _ = people.couple("hana", "ivan")
    taken = phq9(hana, CRISIS)
    assert taken["can_tell_therapist"] is False
    refused = hana.post(f"/api/v1/questionnaires/results/{taken['id']}/tell-therapist")
    assert refused.status_code == 409
    assert "nothing was sent" in refused.json()["error"]["message"]


def test_a_result_without_a_crisis_answer_or_someone_elses_has_nothing_to_tell(thea, hana_and_ivan):
    hana, ivan = hana_and_ivan
    quiet = phq9(hana, QUIET)
    assert quiet["can_tell_therapist"] is False
    assert (
        hana.post(f"/api/v1/questionnaires/results/{quiet['id']}/tell-therapist").status_code == 409
    )
    crisis = phq9(hana, CRISIS)
    for path in ("tell-therapist", "follow-up"):
        other = ivan.post(f"/api/v1/questionnaires/results/{crisis['id']}/{path}", {"how": "same"})
        assert other.status_code == 404, path
    assert [s["crisis"] for s in shared_with(thea, hana)] == [False, False]


def test_a_crisis_answer_is_sealed_at_the_same_length_as_a_quiet_one(app, people):
    hana = people.register("hana")
    phq9(hana, QUIET)
    phq9(hana, CRISIS)
    with app.state.reconnect.sessions() as db:
        lengths = {len(s) for s in db.scalars(select(QuestionnaireResponse.sealed))}
    assert len(lengths) == 1


def test_a_gentle_check_is_offered_once_from_the_next_day_for_a_week(people, clock):
    hana = people.register("hana")

    def a_day_later(days: int = 1) -> None:
        clock.advance(days=days)
        hana.token = people.login("hana")  # a session ends when left idle

    taken = phq9(hana, CRISIS)
    assert hana.get("/api/v1/questionnaires/follow-up").json() == {"due": None}
    a_day_later()
    due = hana.get("/api/v1/questionnaires/follow-up").json()["due"]
    assert due["id"] == taken["id"]
    answered = hana.post(f"/api/v1/questionnaires/results/{taken['id']}/follow-up", {"how": "same"})
    assert answered.status_code == 200 and answered.json() == {"resources": []}
    assert hana.get("/api/v1/questionnaires/follow-up").json() == {"due": None}
    # "Worse" brings the contacts back; an unknown answer is refused plainly.
    again = phq9(hana, CRISIS)
    a_day_later()
    wrong = hana.post(f"/api/v1/questionnaires/results/{again['id']}/follow-up", {"how": "meh"})
    assert wrong.status_code == 422
    worse = hana.post(f"/api/v1/questionnaires/results/{again['id']}/follow-up", {"how": "worse"})
    assert worse.json()["resources"]
    # Left unanswered, it is not offered after a week.
    last = phq9(hana, CRISIS)
    a_day_later(8)
    assert hana.get("/api/v1/questionnaires/follow-up").json() == {"due": None}
    assert last["crisis"]


def test_the_pages_offer_telling_and_the_check_and_the_partner_sees_neither(
    app, thea, hana_and_ivan, clock
):
    hana = log_in(app, "hana")
    form = hana.get("/questionnaires/phq-9")
    answers = {str(i["name"]): "0" for i in form.select("input[type=radio]")}
    page = soup(hana.post("/questionnaires/phq-9", {**answers, "9": "1"}))
    tell = page.select_one("form#tell-therapist")
    assert tell is not None and "never told" in tell.get_text()
    told = soup(hana.post(tell["action"], {}))
    assert hana.last.status_code == 200
    assert "Your therapist will know" in told.get_text()

    ivan = log_in(app, "ivan")
    ivan_today = ivan.get("/today").get_text()
    clock.advance(days=1)
    hana, ivan = log_in(app, "hana"), log_in(app, "ivan")
    today = hana.get("/today")
    card = today.select_one("#follow-up")
    assert card is not None and "How are you today?" in card.get_text()
    assert ivan.get("/today").select_one("#follow-up") is None
    assert "How are you today" not in ivan_today
    answered = soup(hana.post(card.select_one("form")["action"], {"how": "worse"}))
    assert answered.select("ul.resources li")
    assert hana.get("/today").select_one("#follow-up") is None
