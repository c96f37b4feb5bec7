"""A lapse or a new disclosure: either partner records it, alone or together; the pace
steps back and holds for two weeks; the other partner reads only that the pace holds
(unless it was recorded together), and a consenting therapist sees that it happened,
never what. The engine's part is in the stories and the properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconnect.domain.pacing.engine import decide
from reconnect.domain.pacing.history import Decision, History, LadderState
from reconnect.domain.pacing.policy import load_policy
from reconnect.domain.pacing.signals import LapseSignal
from tests.pacing.api_steps import check_in
from tests.pacing.story import HANA, PARTNERS
from tests.pages import log_in

pytestmark = pytest.mark.usefixtures("backend")


def rules(person) -> dict[str, dict]:
    return {r["rule"]: r for r in person.get("/api/v1/pace").json()["reasons"]}


def test_recorded_alone_the_other_reads_only_that_the_pace_holds(people, clock, hana_and_ivan):
    hana, ivan = hana_and_ivan
    check_in(hana)
    check_in(ivan)
    before = rules(ivan)
    recorded = hana.post("/api/v1/lapses", {"together": False})
    assert recorded.status_code == 200, recorded.text
    hers, his = rules(hana), rules(ivan)
    assert "lapse" in hers and "Your partner sees only that the" in hers["lapse"]["message"]
    assert "lapse" not in his and "holding" in his
    assert his["holding"]["numbers"] == {}, "not even when: that would date her record"
    assert set(his) - set(before) == {"holding"}
    # Thirteen days on it still holds; after fourteen it is over.
    clock.advance(days=13)
    ivan.token, hana.token = people.login("ivan"), people.login("hana")
    assert "holding" in rules(ivan)
    clock.advance(days=1, minutes=1)
    ivan.token, hana.token = people.login("ivan"), people.login("hana")
    assert {"holding", "lapse"}.isdisjoint(rules(ivan)) and "lapse" not in rules(hana)


def test_recorded_together_both_read_why_and_the_therapist_sees_that_it_happened(
    app, people, hana_and_ivan, couple_id
):
    hana, ivan = hana_and_ivan
    thea = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    assert thea.get(f"/api/v1/caseload/{couple_id}").json()["lapses"] == []

    assert ivan.post("/api/v1/lapses", {"together": True}).status_code == 200
    for person in (hana, ivan):
        reasons = rules(person)
        assert "You recorded together" in reasons["lapse"]["message"]
        assert "holding" not in reasons
    (lapse,) = thea.get(f"/api/v1/caseload/{couple_id}").json()["lapses"]
    assert lapse["together"] is True
    page = log_in(app, "thea").get(f"/caseload/{couple_id}")
    assert "recorded by both partners together" in page.select_one("#lapses").get_text()
    assert ivan.post("/api/v1/lapses", {"together": "yes"}).status_code == 422


def test_the_page_says_who_will_see_what_and_records_it(app, hana_and_ivan):
    page = log_in(app, "hana")
    today = page.get("/today")
    assert today.select_one("#lapse-link a[href='/lapse']") is not None
    form = page.get("/lapse")
    assert form.select_one(".mark.private") is not None
    assert form.select_one(".mark.shared") is not None
    assert "never" in form.select_one("main").get_text() or "not asked" in form.get_text()
    page.post("/lapse", {"together": "no"})
    assert page.last.status_code == 303
    reasons = page.follow().get_text()
    assert "You recorded that something new came to light" in " ".join(reasons.split())


def test_before_policy_v4_a_lapse_changes_nothing() -> None:
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    checkpoint = LadderState(as_of=start, tier=3)
    signals = (LapseSignal(HANA, start + timedelta(hours=1), together=True),)
    now = start + timedelta(hours=2)
    for version, expected in (("v3", 3), ("v4", 2)):
        history = History(PARTNERS, signals, _decision(checkpoint, version), "UTC")
        assert decide(history, load_policy(version), now).ladder_tier == expected, version


def _decision(state: LadderState, version: str) -> Decision:
    return Decision(
        permitted_tier=state.tier,
        ladder_tier=state.tier,
        practices=(),
        break_until=None,
        paused=False,
        paused_by=(),
        policy_version=version,
        decided_at=state.as_of,
        reasons=(),
        state=state,
    )
