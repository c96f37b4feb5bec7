"""The disclosure session: each partner prepares privately, the session opens only
when both are ready and the pace allows a hard conversation, each reflects privately
afterwards (and the reflections pace what comes next), and a lapse opens it again."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from tests.pacing.api_steps import check_in, do_together, tier
from tests.pages import log_in
from tests.payloads import GOOD

pytestmark = pytest.mark.usefixtures("backend")

ACCOUNT = {
    "timeline": "It began in March at work and went on until the summer.",
    "hidden": "I deleted messages and said I was working late.",
    "contact_since": "She wrote once in October; I did not answer.",
}
QUESTIONS = {
    "questions": "Did you love her?\nWho else knew?",
    "limits": ["sexual_detail"],
    "other_limits": "Where you met.",
}
FLOODED = {**GOOD, "activation_before": 5, "activation_after": 9, "safety": 2}


def climb_to(people, clock, hana, ivan, level: int) -> None:
    """Calm days, then three days of a shared practice at each step, up to ``level``."""
    for _ in range(40):
        check_in(hana)
        check_in(ivan)
        reached = tier(hana)
        if reached >= level:
            return
        if reached >= 1:
            do_together(hana, ivan, reached)
        clock.advance(days=1)
        hana.token, ivan.token = people.login("hana"), people.login("ivan")
    raise AssertionError(f"the pace did not reach {level} in 40 days")


def test_prepared_privately_held_under_the_pace_reflected_on_and_reopened_by_a_lapse(
    people, clock, hana_and_ivan
):
    hana, ivan = hana_and_ivan
    assert hana.get("/api/v1/disclosure").json()["parts"] == ["questions"]
    assert ivan.get("/api/v1/disclosure").json()["parts"] == ["account"]

    # Each prepares their own part only, privately.
    wrong = hana.post("/api/v1/disclosure/preparation", {"account": ACCOUNT})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "not_your_part"
    early = ivan.post("/api/v1/disclosure/ready")
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_prepared"
    assert ivan.post("/api/v1/disclosure/preparation", {"account": ACCOUNT}).status_code == 204
    assert hana.post("/api/v1/disclosure/preparation", QUESTIONS).status_code == 204
    seen_by_ivan = ivan.get("/api/v1/disclosure").json()
    assert seen_by_ivan["prepared"]["account"] == ACCOUNT
    assert seen_by_ivan["partner_questions"] is None, "hers stay hers until she is ready"
    assert "account" not in hana.get("/api/v1/disclosure").json()["prepared"]

    # Ready: her questions and limits reach him, so the account can keep to them; his
    # account stays his, to give in the session.
    assert hana.post("/api/v1/disclosure/ready").status_code == 204
    assert ivan.post("/api/v1/disclosure/ready").status_code == 204
    seen_by_ivan = ivan.get("/api/v1/disclosure").json()
    assert seen_by_ivan["partner_questions"]["limits"] == ["sexual_detail"]
    # A limit she adds once ready reaches him too: it must hold in the session.
    stricter = {**QUESTIONS, "limits": ["sexual_detail", "comparisons"]}
    assert hana.post("/api/v1/disclosure/preparation", stricter).status_code == 204
    seen_by_ivan = ivan.get("/api/v1/disclosure").json()
    assert seen_by_ivan["partner_questions"]["limits"] == ["sexual_detail", "comparisons"]
    assert seen_by_ivan["partner_ready"] is True
    seen_by_hana = hana.get("/api/v1/disclosure").json()
    assert seen_by_hana["accounts_left"] == [] and seen_by_hana["partner_questions"] is None
    # Both ready, but the pace does not reach hard conversations yet.
    assert seen_by_hana["may_start"] is False and "pace" in seen_by_hana["why_not"]

    climb_to(people, clock, hana, ivan, 4)
    assert hana.get("/api/v1/disclosure").json()["may_start"] is True
    # A pause holds it, whoever paused.
    assert ivan.post("/api/v1/pause").status_code == 200
    assert hana.get("/api/v1/disclosure").json()["may_start"] is False
    assert ivan.post("/api/v1/resume").status_code == 200
    assert hana.get("/api/v1/disclosure").json()["may_start"] is True

    # The session is held; it overwhelms Hana, and her reflection caps the pace.
    held = ivan.post(
        "/api/v1/experiences",
        {"practice_id": "the-full-account", "started_by": "me", **GOOD},
    )
    assert held.status_code == 201, held.text
    assert held.json()["ahead_of_pace"] is False
    waiting = hana.get("/api/v1/disclosure").json()
    assert [s["reflected"] for s in waiting["sessions"]] == [False]
    assert waiting["open"] is False
    before = tier(hana)
    reflected = hana.post(
        "/api/v1/experiences",
        {"experience_id": held.json()["id"], "back_in_minutes": 60, **FLOODED},
    )
    assert reflected.status_code == 201
    assert tier(hana) < before, "an overwhelming session steps the pace back"
    assert [s["reflected"] for s in hana.get("/api/v1/disclosure").json()["sessions"]] == [True]
    again = hana.post("/api/v1/disclosure/ready")
    assert again.status_code == 409 and again.json()["error"]["code"] == "session_held"

    # Afterwards he may leave the account for her to read again.
    assert ivan.post("/api/v1/disclosure/leave-account").status_code == 204
    (left,) = hana.get("/api/v1/disclosure").json()["accounts_left"]
    assert left["account"] == ACCOUNT and left["session"] == 1

    # Something new comes to light, recorded together: the step opens for both.
    clock.advance(days=1)
    hana.token, ivan.token = people.login("hana"), people.login("ivan")
    assert ivan.post("/api/v1/lapses", {"together": True}).status_code == 200
    for person in (hana, ivan):
        step = person.get("/api/v1/disclosure").json()
        assert step["open"] is True and step["reopened"] is True
        assert step["ready"] is False and step["partner_ready"] is False


def test_a_lapse_recorded_alone_opens_the_step_for_its_recorder_only(people, clock, hana_and_ivan):
    hana, ivan = hana_and_ivan
    ivan.post("/api/v1/disclosure/preparation", {"account": ACCOUNT})
    hana.post("/api/v1/disclosure/preparation", QUESTIONS)
    held = ivan.post("/api/v1/experiences", {"practice_id": "the-full-account", **GOOD})
    assert held.json()["ahead_of_pace"] is True, "held ahead of the pace: kept, never counted"
    clock.advance(hours=2)
    assert ivan.post("/api/v1/lapses", {"together": False}).status_code == 200
    assert ivan.get("/api/v1/disclosure").json()["reopened"] is True
    assert hana.get("/api/v1/disclosure").json()["open"] is False, "she is not told"
    # Once he says he is ready for a further session, she sees it open too.
    assert ivan.post("/api/v1/disclosure/ready").status_code == 204
    step = hana.get("/api/v1/disclosure").json()
    assert step["open"] is True and step["partner_ready"] is True


def test_a_therapist_reads_the_account_first_and_only_its_writer_reads_the_answer(
    people, hana_and_ivan
):
    hana, ivan = hana_and_ivan
    ivan.post("/api/v1/disclosure/preparation", {"account": ACCOUNT})
    nobody = ivan.post("/api/v1/disclosure/ask-therapist")
    assert nobody.status_code == 409 and nobody.json()["error"]["code"] == "no_therapist"
    thea = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    assert ivan.post("/api/v1/disclosure/ask-therapist").status_code == 204
    couple = int(hana.get("/api/v1/couples/current").json()["id"])
    (asked,) = thea.get(f"/api/v1/caseload/{couple}").json()["disclosure_accounts"]
    assert asked["account"] == ACCOUNT
    url = f"/api/v1/caseload/{couple}/disclosure/{asked['id']}/reading"
    assert hana.post(url, {"text": "Not a therapist."}).status_code == 404
    assert thea.post(url, {"text": "Clear and owned. Bring it."}).status_code == 204
    assert ivan.get("/api/v1/disclosure").json()["reading"] == "Clear and owned. Bring it."
    assert hana.get("/api/v1/disclosure").json()["reading"] is None


def test_a_refused_preparation_comes_back_as_it_was_written(app, hana_and_ivan):
    browser = log_in(app, "hana")
    browser.get("/disclosure")
    words = "Who else knew?\nWhen did it end?"
    form = {"part": "questions", "questions": words, "limits": "not-a-limit"}
    answer = BeautifulSoup(browser.post("/disclosure", form).text, "html.parser")
    assert browser.last.status_code == 422
    assert answer.select_one("#questions").get_text() == words, "nothing she wrote is lost"
    assert "Choose limits from the list" in answer.get_text()


def test_the_therapist_sees_when_sessions_were_held_never_what_was_said(app, people, hana_and_ivan):
    import io

    import pypdfium2

    hana, ivan = hana_and_ivan
    thea = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    ivan.post("/api/v1/disclosure/preparation", {"account": ACCOUNT})
    held = ivan.post("/api/v1/experiences", {"practice_id": "the-full-account", **GOOD})
    assert held.status_code == 201
    couple = int(hana.get("/api/v1/couples/current").json()["id"])
    assert len(thea.get(f"/api/v1/caseload/{couple}").json()["disclosure_accounts"]) == 0
    report = thea.get(f"/api/v1/caseload/{couple}/report.pdf")
    document = pypdfium2.PdfDocument(io.BytesIO(report.content))
    text = "".join(page.get_textpage().get_text_range() for page in document)
    assert "Sessions held:" in text and "deleted messages" not in text
    page = log_in(app, "thea").get(f"/caseload/{couple}")
    assert "Sessions held:" in page.select_one("#disclosure").get_text()
    assert "deleted messages" not in page.get_text()
