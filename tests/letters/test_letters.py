"""Letters: drafted privately (the coach reads along for the writer alone), shared only
when the writer chooses, answered once by the reader."""

from __future__ import annotations

import pytest

from tests.pages import log_in, soup

pytestmark = pytest.mark.usefixtures("backend")

IMPACT = "When I found the messages, the floor went out from under me."
ACCOUNT = "I lied to you for a year. That was my choice, and the hurt is mine to own."


def test_drafts_stay_private_until_shared_and_the_reader_answers_once(hana_and_ivan):
    hana, ivan = hana_and_ivan
    wrong = hana.post("/api/v1/letters", {"kind": "accountability", "text": "x"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "not_your_letter"
    draft = hana.post("/api/v1/letters", {"kind": "impact", "text": IMPACT})
    assert draft.status_code == 200, draft.text
    lid = draft.json()["id"]
    assert ivan.get("/api/v1/letters").json() == {"mine": [], "to_me": []}
    assert IMPACT not in ivan.get("/api/v1/letters").text
    assert ivan.post(f"/api/v1/letters/{lid}/share").status_code == 404, "not his to share"
    assert ivan.post(f"/api/v1/letters/{lid}/reply", {"text": "..."}).status_code == 404

    rewritten = hana.post("/api/v1/letters", {"kind": "impact", "text": IMPACT + " Still."})
    assert rewritten.json()["id"] == lid, "one letter of each kind, rewritten in place"
    assert hana.post(f"/api/v1/letters/{lid}/share").status_code == 204
    (received,) = ivan.get("/api/v1/letters").json()["to_me"]
    assert received["text"] == IMPACT + " Still." and received["kind"] == "impact"
    # Later changes stay hers until she shares again.
    hana.post("/api/v1/letters", {"kind": "impact", "text": "A newer draft."})
    assert ivan.get("/api/v1/letters").json()["to_me"][0]["text"] == IMPACT + " Still."

    assert (
        ivan.post(f"/api/v1/letters/{lid}/reply", {"text": "I read it. I hear you."}).status_code
        == 204
    )
    again = ivan.post(f"/api/v1/letters/{lid}/reply", {"text": "More."})
    assert again.status_code == 409
    (mine,) = hana.get("/api/v1/letters").json()["mine"]
    assert mine["reply"] == "I read it. I hear you." and mine["text"] == "A newer draft."
    assert hana.post(f"/api/v1/letters/{lid}/reply", {"text": "x"}).status_code == 404


def test_another_couple_never_reaches_a_letter(hana_and_ivan, olga_and_oscar):
    hana, _ = hana_and_ivan
    olga, _ = olga_and_oscar
    lid = hana.post("/api/v1/letters", {"kind": "impact", "text": IMPACT}).json()["id"]
    hana.post(f"/api/v1/letters/{lid}/share")
    assert olga.get("/api/v1/letters").json() == {"mine": [], "to_me": []}
    assert olga.post(f"/api/v1/letters/{lid}/reply", {"text": "x"}).status_code == 404
    assert olga.post(f"/api/v1/letters/{lid}/share").status_code == 404


def test_the_page_reads_a_draft_with_the_coach_then_saves_and_shares(app, hana_and_ivan):
    page = log_in(app, "ivan")
    form = page.get("/letters")
    assert form.select_one("#write-accountability .mark.private") is not None
    assert form.select_one("#write-impact") is None, "the impact letter is Hana's"
    read = soup(page.post("/letters/preview", {"kind": "accountability", "text": ACCOUNT}))
    assert read.select_one("#coach-reading") is not None
    assert read.select_one("#letter-accountability").get_text() == ACCOUNT, "nothing lost"
    page.post("/letters", {"kind": "accountability", "text": ACCOUNT})
    assert page.last.status_code == 303
    saved = page.follow()
    share = saved.select_one("#write-accountability form[action$='/share']")
    page.post(share["action"], {})
    assert page.last.status_code == 303
    hanas = log_in(app, "hana").get("/letters")
    assert ACCOUNT in hanas.select_one("section[id^=letter-]").get_text()
