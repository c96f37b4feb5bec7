"""The pacing pages speak in steps people can name, and agree with the pace.

Hana (hurt) and Ivan (involved) read Today, a practice, the check-in and the log form
at several places on the ladder. People never read "tier": they read what fits today
(the permitted step) and where they have reached together (the ladder), named as the
catalogue names them, and the two always agree with the engine's decision. Only what
fits today is offered; later steps are marked as later.
"""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from reconnect.domain.pacing.catalogue import load_catalogue
from reconnect.domain.pacing.history import Decision, LadderState
from reconnect.models import Membership, PaceDecision, Person
from reconnect.pacing import store
from tests.pages import Visitor, text_of
from tests.payloads import CALM_FORM

CATALOGUE = load_catalogue()
TIER_WORD = re.compile(r"\btiers?\b", re.IGNORECASE)
INTIMACY = {p.id for p in CATALOGUE.for_tier(6)}
SETTLING = {p.id for p in CATALOGUE.for_tier(0)}


def name(step: int) -> str:
    return CATALOGUE.tier(step).name


def words(page: BeautifulSoup) -> str:
    return " ".join(page.get_text(" ").split())


def couple_of(db, username: str):
    person = db.scalar(select(Person).where(Person.username == username))
    return db.get(Membership, person.id).couple


def reach(app, clock, step: int) -> None:
    """As if the couple had earned ``step`` together: a checkpoint the engine resumes from."""
    with app.state.reconnect.sessions() as db:
        couple = couple_of(db, "hana")
        earned = LadderState(as_of=clock.now, tier=step)
        checkpoint = Decision(
            0, step, (), None, False, (), couple.policy_version, clock.now, (), earned
        )
        db.add(
            PaceDecision(
                couple_id=couple.id,
                decided_at=clock.now,
                policy_version=couple.policy_version,
                permitted_tier=0,
                ladder_tier=step,
                data=json.dumps(checkpoint.to_dict()),
            )
        )
        db.commit()
    clock.advance(minutes=5)


def check_in(visitor: Visitor, **changes: str) -> None:
    assert visitor.post("/checkin", {**CALM_FORM, **changes}).status_code == 303


def decision(app, clock) -> Decision:
    with app.state.reconnect.sessions() as db:
        return store.current_pace(db, couple_of(db, "hana"), clock.now)


def new_couple(app, clock, hana, ivan) -> None:
    """Just paired: nothing earned, nobody checked in."""


def reached_openness_both_calm(app, clock, hana, ivan) -> None:
    reach(app, clock, 3)
    check_in(hana)
    check_in(ivan)


def reached_openness_hana_stirred_up(app, clock, hana, ivan) -> None:
    """The walkthrough's case: a gentler day than the step reached together."""
    reach(app, clock, 3)
    check_in(hana, activation="7")
    check_in(ivan)


def reached_the_top_not_ready(app, clock, hana, ivan) -> None:
    reach(app, clock, 6)
    check_in(hana)
    check_in(ivan)


def reached_openness_on_a_break(app, clock, hana, ivan) -> None:
    reached_openness_both_calm(app, clock, hana, ivan)
    assert ivan.post("/breaks", {"minutes": "30"}).status_code == 303


# Each state, with the (what fits today, where you have reached) the engine decides.
STATES = {
    "new": (new_couple, 0, 0),
    "openness, calm": (reached_openness_both_calm, 3, 3),
    "openness, stirred up": (reached_openness_hana_stirred_up, 1, 3),
    "the top, not ready": (reached_the_top_not_ready, 5, 6),
    # A break after flooding steps the ladder back once, and allows only settling.
    "openness, on a break": (reached_openness_on_a_break, 0, 2),
}


@pytest.fixture(params=list(STATES))
def state(request, app, clock, paired):
    set_up, permitted, reached = STATES[request.param]
    hana, ivan = paired
    set_up(app, clock, hana, ivan)
    return hana, ivan, permitted, reached


def test_today_names_what_fits_and_where_you_reached_and_agrees_with_the_pace(app, clock, state):
    hana, ivan, permitted, reached = state
    decided = decision(app, clock)
    assert (decided.permitted_tier, decided.ladder_tier) == (permitted, reached)
    for visitor in (hana, ivan):
        page = visitor.get("/today")
        heading = text_of(page, "#pace")
        assert heading.startswith(f"What fits today: {name(permitted)}")
        line = text_of(page, "#reached")
        assert line.startswith(f"Together you have reached: {name(reached)}")
        if permitted < reached:
            assert "Today asks for a gentler step, because" in line
            # The steps reached but not for today are later steps, and said to be reached.
            waiting = text_of(page, "#later-steps #waiting-steps")
            assert all(name(n) in waiting for n in range(permitted + 1, reached + 1))
        else:
            assert "gentler" not in line
            assert page.select_one("#waiting-steps") is None
        # What is listed as fitting today is the permitted step's practices.
        listed = {a["href"].rsplit("/", 1)[1] for a in page.select(".practices a")}
        assert listed == {p.id for p in CATALOGUE.for_tier(permitted)}
        # Any reason that names a step names one of these two, in their words.
        for reason in page.select(".reasons li"):
            assert not TIER_WORD.search(reason.get_text())
    # No page of the daily rhythm says "tier", for either partner.
    later = next((p.id for p in CATALOGUE if p.tier > permitted), None)
    paths = ["/today", "/checkin", "/experiences/new", f"/practices/{CATALOGUE.practices[0].id}"]
    if later is not None:
        paths.append(f"/practices/{later}")
    for visitor in (hana, ivan):
        for path in paths:
            page = visitor.get(path)
            assert visitor.last.status_code == 200, path
            found = TIER_WORD.search(words(page))
            assert found is None, (
                f"{path}: …{words(page)[max(0, found.start() - 80) : found.end() + 40]}…"
            )


@pytest.fixture
def at_the_start(paired):
    """A new couple: only settling on your own fits."""
    return paired


def test_at_the_start_today_offers_settling_and_keeps_later_steps_closed(at_the_start):
    hana, _ = at_the_start
    page = hana.get("/today")
    offered = {a["href"].rsplit("/", 1)[1] for a in page.select(".practices a")}
    assert offered == SETTLING and not offered & INTIMACY
    later = page.select_one("details.moment#later-steps")
    assert later is not None and not later.has_attr("open"), "later steps stay folded away"
    summary = text_of(later, "summary")
    assert "Later steps" in summary
    shown = words(later)
    assert all(name(step) in shown for step in range(1, 7))
    assert "open as you go" in shown
    assert later.select("a") == [], "nothing invites a jump ahead"


def test_at_the_start_the_log_form_offers_what_fits_first_and_marks_later_steps(at_the_start):
    hana, _ = at_the_start
    page = hana.get("/experiences/new")
    groups = page.select("select#practice_id optgroup")
    assert groups, "practices are grouped by step"
    first = groups[0]
    assert first["label"] == f"Fits today: {name(0)}"
    assert {o["value"] for o in first.select("option")} == SETTLING
    fitting = [g for g in groups if "later" not in g["label"].lower()]
    assert not {o["value"] for g in fitting for o in g.select("option")} & INTIMACY
    intimacy = next(g for g in groups if name(6) in g["label"])
    assert "Later step" in intimacy["label"]
    # Something done anyway can still be logged honestly.
    assert {o["value"] for o in intimacy.select("option")} == INTIMACY
    for option in page.select("select#practice_id option"):
        assert not TIER_WORD.search(option.get_text())


def test_a_later_steps_practice_says_so_and_what_fits_today(at_the_start):
    hana, _ = at_the_start
    page = hana.get("/practices/lying-close")
    notice = text_of(page, "#later-step")
    assert "later step" in notice.lower()
    assert f"What fits today: {name(0)}" in notice
    assert page.select_one("form[action='/proposals']") is None, "no invitation to jump ahead"
    fitting = hana.get("/practices/longer-out-breath")
    assert fitting.select_one("#later-step") is None


def test_the_break_box_lists_what_to_do_on_your_own(app, clock, paired):
    hana, ivan = paired
    assert ivan.post("/breaks", {"minutes": "30"}).status_code == 303
    box = hana.get("/today").select_one("section[aria-labelledby='break-title']")
    assert box is not None
    linked = {a["href"].rsplit("/", 1)[1] for a in box.select("a")}
    assert linked == SETTLING
    assert not words(box).endswith(":")


def test_each_block_says_who_sees_it_and_no_page_says_it_once_for_all(paired):
    hana, ivan = paired
    check_in(hana, urgency="9", readiness="1")
    page = hana.get("/today")
    assert "Shared: your partner sees this" not in words(page)
    assert page.select_one("#pace .mark.shared") is not None
    assert page.select_one("#own-reasons-title .mark.private") is not None
    trigger = next(s for s in page.select("details.moment summary") if "triggered" in s.get_text())
    assert "Private unless you choose to tell your partner" in text_of(trigger, ".mark.private")
    # Ivan reads the pace, never Hana's own reasons.
    assert ivan.get("/today").select_one("#own-reasons") is None
    for path in ("/checkin", "/experiences/new"):
        form_page = hana.get(path)
        assert "Private: only you see this" not in words(form_page)
        assert form_page.select_one(".mark.private") is not None
    assert "your partner sees which practice" in text_of(hana.get("/experiences/new"), "#who-sees")


def test_answers_at_emotional_moments_are_clear_buttons(paired):
    hana, ivan = paired
    assert (
        hana.post(
            "/triggers", {"what": "a song", "strength": "4", "tell_partner": "yes"}
        ).status_code
        == 303
    )
    assert hana.post("/proposals", {"practice_id": "longer-out-breath"}).status_code == 303
    page = ivan.get("/today")
    responses = page.select("form[action$='/respond'] button")
    assert responses and all("secondary" not in b.get("class", []) for b in responses)
    yes = page.select_one("form[action$='/accept'] button")
    not_now = page.select_one("form[action$='/decline'] button")
    assert yes is not None and "secondary" not in yes.get("class", [])
    assert not_now is not None and "secondary" in not_now.get("class", [])
