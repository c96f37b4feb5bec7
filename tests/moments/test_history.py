"""The history of moments: everything the partner did for you stays to be found after
the Today page has moved on, and nothing private of the other ever shows in it."""

from __future__ import annotations

from reconnect.domain.pacing.catalogue import Lead
from reconnect.pacing import store as pace
from tests.moments.steps import respond, tell_trigger
from tests.pages import Visitor, text_of


def proposable() -> str:
    near = pace.catalogue().for_tier(1)
    return next(p.id for p in near if p.leads is not Lead.MORE_ACTIVATED)


def test_a_response_stays_in_the_history_after_the_today_page_lets_it_go(paired, clock):
    hana, ivan = paired
    tell_trigger(hana, "a song on the radio")
    respond(ivan, "space")
    clock.advance(days=30)
    assert hana.get("/today").select_one("#trigger-responses") is None, "Today has moved on"

    mine = text_of(hana.get("/moments"), "#own-triggers")
    assert "a song on the radio" in mine
    assert "They answered: “I will give you space, and I am not going anywhere.”" in mine
    theirs = text_of(ivan.get("/moments"), "#told-to-me")
    assert "a song on the radio" in theirs and "You answered" in theirs


def test_a_told_trigger_waiting_for_an_answer_points_to_where_to_answer(paired):
    hana, ivan = paired
    tell_trigger(hana, "a date")
    assert "They have not answered yet" in text_of(hana.get("/moments"), "#own-triggers")
    waiting = ivan.get("/moments").select_one("#told-to-me a[href='/today']")
    assert waiting is not None


def test_the_partners_page_is_the_same_whatever_the_other_keeps_private(paired, clock):
    hana, ivan = paired
    tell_trigger(hana, "a date")
    before = ivan.get("/moments")
    tell_trigger(hana, "a private memory", tell=False)
    after = ivan.get("/moments")
    # Nothing of the private entry, not even its time or the count of entries.
    assert str(before.select_one("main")) == str(after.select_one("main"))
    assert "a private memory" in text_of(hana.get("/moments"), "#own-triggers")
    assert "You kept this to yourself" in text_of(hana.get("/moments"), "#own-triggers")


def test_proposals_and_their_answers_are_in_both_histories(paired):
    hana, ivan = paired
    assert ivan.post("/proposals", {"practice_id": proposable()}).status_code == 303
    assert "Your partner has not answered yet" in text_of(ivan.get("/moments"), "#proposals")
    decline = hana.get("/today").select_one("form[action$='/decline']")
    hana.post(str(decline["action"]), {})
    assert "Your partner said not now" in text_of(ivan.get("/moments"), "#proposals")
    assert "You said not now" in text_of(hana.get("/moments"), "#proposals")


def test_someone_without_a_partner_yet_sees_their_own_and_what_comes_next(app):
    olga = Visitor(app)
    olga.register("olga")
    page = olga.get("/moments")
    assert olga.last.status_code == 200
    assert page.select_one("#told-to-me") is None and page.select_one("#proposals") is None
    assert "Once you share a couple space" in page.get_text()


def test_someone_whose_partner_has_not_joined_yet_sees_their_own(app):
    hana = Visitor(app)
    hana.register("hana")
    assert hana.post("/couple", {"role": "hurt"}).status_code in {200, 303}
    page = hana.get("/moments")
    assert hana.last.status_code == 200
    assert "Once you share a couple space" in page.get_text()


def test_each_side_shows_for_whoever_can_log_triggers(paired):
    """Triggers are the hurt partner's to log: the involved partner is not asked for
    any, and the hurt partner is not shown an always-empty list of the other's."""
    hana, ivan = paired
    theirs, mine = ivan.get("/moments"), hana.get("/moments")
    assert theirs.select_one("#own-triggers") is None
    assert theirs.select_one("#told-to-me") is not None
    assert mine.select_one("#own-triggers") is not None
    assert mine.select_one("#told-to-me") is None
