"""Closing the loops: whoever reaches out learns that the partner answered.

Hana (the hurt partner) tells Ivan of a trigger; his response reaches her Today page.
Ivan proposes a practice; Hana's yes or not now reaches his. Whoever answers is told
the answer was sent. Nothing private of either crosses over: only what was told or
answered.
"""

from __future__ import annotations

from reconnect.domain.pacing.catalogue import Lead
from reconnect.pacing import store as pace
from tests.conftest import Clock
from tests.moments.steps import respond, tell_trigger
from tests.pages import text_of


def test_the_response_to_a_told_trigger_reaches_the_partner_who_was_triggered(paired):
    hana, ivan = paired
    tell_trigger(hana, "a song on the radio")
    assert hana.get("/today").select_one("#trigger-responses") is None, "no answer yet"
    respond(ivan, "acknowledge")

    shown = text_of(hana.get("/today"), "#trigger-responses")
    assert "a song on the radio" in shown
    assert "I see it, and I am here." in shown
    assert "Your partner" in shown
    # Ivan's own page does not echo Hana's loop back to him.
    assert ivan.get("/today").select_one("#trigger-responses") is None


def test_the_one_who_responds_is_told_it_was_sent(paired):
    hana, ivan = paired
    tell_trigger(hana, "a date")
    page = respond(ivan, "comfort").follow()
    notice = text_of(page, "p[role=status]")
    assert "Sent" in notice and "Your partner will see" in notice
    assert page.select_one("form[action$='/respond']") is None, "nothing left to answer"


def test_a_private_trigger_has_no_response_to_show(paired):
    hana, ivan = paired
    tell_trigger(hana, "a private memory", tell=False)
    assert ivan.get("/today").select_one("form[action$='/respond']") is None
    assert "a private memory" not in ivan.get("/today").get_text()
    assert hana.get("/today").select_one("#trigger-responses") is None


def test_responses_older_than_a_week_leave_the_today_page(clock: Clock, paired):
    hana, ivan = paired
    tell_trigger(hana, "a message on a phone")
    respond(ivan, "space")
    assert "a message on a phone" in text_of(hana.get("/today"), "#trigger-responses")
    clock.advance(days=8)
    assert hana.get("/today").select_one("#trigger-responses") is None


def test_a_proposals_answer_reaches_the_partner_who_proposed(paired):
    hana, ivan = paired
    assert ivan.post("/proposals", {"practice_id": "longer-out-breath"}).status_code == 303
    assert ivan.get("/today").select_one("#proposal-answers") is None, "no answer yet"
    form = hana.get("/today").select_one("form[action$='/accept']")
    assert form is not None
    hana.post(str(form["action"]), {})
    answered = hana.follow()
    notice = text_of(answered, "p[role=status]")
    assert "Sent. Your partner will see your answer." in notice

    shown = text_of(ivan.get("/today"), "#proposal-answers")
    assert "yes" in shown.lower()
    assert "A longer out-breath" in shown
    assert hana.get("/today").select_one("#proposal-answers") is None, "only the proposer"


def test_not_now_reaches_the_proposer_without_asking_for_a_reason(paired):
    hana, ivan = paired
    assert ivan.post("/proposals", {"practice_id": "longer-out-breath"}).status_code == 303
    form = hana.get("/today").select_one("form[action$='/decline']")
    assert form is not None
    hana.post(str(form["action"]), {})
    assert "Your partner will see your answer" in text_of(hana.follow(), "p[role=status]")
    shown = text_of(ivan.get("/today"), "#proposal-answers")
    assert "not now" in shown.lower()
    assert "no reason" in shown.lower()


def test_answers_older_than_a_week_leave_the_today_page(clock: Clock, paired):
    hana, ivan = paired
    ivan.post("/proposals", {"practice_id": "longer-out-breath"})
    form = hana.get("/today").select_one("form[action$='/accept']")
    assert form is not None
    hana.post(str(form["action"]), {})
    assert ivan.get("/today").select_one("#proposal-answers") is not None
    clock.advance(days=8)
    assert ivan.get("/today").select_one("#proposal-answers") is None


def test_a_plain_visit_shows_no_sent_notice(paired):
    hana, _ = paired
    page = hana.get("/today")
    assert "Your partner will see your" not in page.get_text()


def test_a_proposal_of_a_later_step_says_so_to_the_one_asked(paired):
    hana, ivan = paired
    fits = hana.get("/today").select_one("#pace").contents[0].split(": ", 1)[1].strip()
    later = next(p for p in pace.catalogue() if p.tier == 4 and p.leads is not Lead.MORE_ACTIVATED)
    assert later.tier > 1, "a new couple starts well below"
    ivan.post("/proposals", {"practice_id": later.id})
    asked = hana.get("/today").select_one(".notice:has(form[action$='/accept'])")
    assert asked is not None
    note = text_of(asked, ".later-step")
    assert "later step than what fits today" in note and f"“{fits}”" in note
    # One that fits today carries no such note.
    ivan.post("/proposals", {"practice_id": "longer-out-breath"})
    notes = hana.get("/today").select(".notice:has(form[action$='/accept']) .later-step")
    assert len(notes) == 1
