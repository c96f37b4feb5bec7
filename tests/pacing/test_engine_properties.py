"""Properties the pace must keep for every history, checked with hypothesis."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reconnect.domain.pacing.catalogue import load_catalogue
from reconnect.domain.pacing.engine import decide, reasons_for
from reconnect.domain.pacing.history import COUPLE, History
from tests.pacing.histories import (
    DAYS,
    CheckInEvent,
    Life,
    PracticeEvent,
    at,
    build,
    calm_lives,
    lives,
    minutes,
    moments,
    ratings,
    with_activation,
)
from tests.pacing.story import HANA, IVAN, PARTNERS, START, Story

FAST = settings(max_examples=60, deadline=None)


@settings(max_examples=150, deadline=None)
@given(lives, st.data())
def test_raising_a_partners_activation_never_raises_the_tier(
    life: Life, data: st.DataObject
) -> None:
    """Same life twice, one check-in (or one activation-after) set higher in the second."""
    if not life.events:
        return
    checkins = [i for i, e in enumerate(life.events) if isinstance(e, CheckInEvent)]
    index = data.draw(st.sampled_from(checkins or [0]) | st.integers(0, len(life.events) - 1))
    # sampled_from spreads evenly over the scale, so the thresholds get hit.
    low = data.draw(st.sampled_from(range(10)))
    high = data.draw(st.sampled_from(range(low + 1, 11)))
    lower, higher = [*life.events], [*life.events]
    lower[index] = with_activation(life.events[index], low)
    higher[index] = with_activation(life.events[index], high)
    calm, tense = build(Life(life.start_tier, lower)), build(Life(life.start_tier, higher))
    changed = at(life.events[index].minute)
    # Right after the change, and across the whole story.
    for now in [changed + timedelta(minutes=1), changed + timedelta(hours=12), *moments()]:
        before, after = calm.decide(now), tense.decide(now)
        assert after.permitted_tier <= before.permitted_tier
        assert after.ladder_tier <= before.ladder_tier


@FAST
@given(lives, minutes, st.integers(0, 3), ratings)
def test_adding_a_flooding_experience_never_raises_the_tier(
    life: Life, minute: int, tier: int, hana: dict[str, object]
) -> None:
    flood = PracticeEvent(minute, tier, {**hana, "activation_after": 9}, hana, ivan_delay=0)
    without = build(life)
    with_flood = build(Life(life.start_tier, [*life.events, flood]))
    for now in moments():
        assert with_flood.decide(now).permitted_tier <= without.decide(now).permitted_tier
        assert with_flood.decide(now).ladder_tier <= without.decide(now).ladder_tier


@FAST
@given(st.integers(1, 25), st.integers(0, 5), st.lists(st.integers(0, 23 * 60), min_size=25))
def test_any_number_of_safe_experiences_on_one_day_never_advance(
    count: int, tier: int, times: list[int]
) -> None:
    story = Story()
    day = story.climb_to(tier)
    story.both_check_in(day)
    for minute in sorted(times[:count]):
        story.practice(day + timedelta(minutes=minute), tier)
    assert story.decide(day + timedelta(days=1)).ladder_tier == tier


@FAST
@given(lives, st.sampled_from([HANA, IVAN]), minutes)
def test_a_pause_dominates_everything_until_the_pauser_resumes(
    life: Life, person: str, minute: int
) -> None:
    story = build(life)
    # Drop this person's later resumes: their pause must then hold whatever else happens.
    story.signals = [s for s in story.signals if not (s.kind == "resume" and s.person_id == person)]
    story.pause(person, at(minute))
    tier_0 = tuple(p.id for p in load_catalogue().for_tier(0))
    for now in moments():
        if now < at(minute):
            continue
        decision = story.decide(now)
        assert decision.paused
        assert person in decision.paused_by
        assert decision.permitted_tier == 0
        assert decision.practices == tier_0


@FAST
@given(lives, st.lists(st.integers(0, (DAYS + 3) * 24), min_size=1, max_size=6))
def test_resuming_from_a_checkpoint_equals_replaying_from_the_start(
    life: Life, hours: list[int]
) -> None:
    story = build(life)
    checkpoint = None
    for hour in sorted(hours):
        now = START + timedelta(hours=hour, minutes=17)
        replayed = story.decide(now)
        # The store passes only the signals written after the checkpoint.
        after = [s for s in story.signals if checkpoint is None or s.at > checkpoint.decided_at]
        resumed = decide(History(PARTNERS, after, checkpoint), story.policy, now)
        assert resumed == replayed
        assert story.decide(now, checkpoint) == replayed  # the long history, bisected
        checkpoint = resumed


# Couple-level reasons may carry only numbers about the pace itself.
PACE_NUMBERS = {
    "ladder_tier",
    "permitted_tier",
    "today_limit",
    "gated_tier",
    "break_until",
    "break_minutes",
    "hold_until",
    "safe_experiences",
    "distinct_days",
    "needed_experiences",
    "needed_days",
    "window_days",
}


@FAST
@given(lives)
def test_a_partner_is_shown_only_couple_reasons_and_their_own(life: Life) -> None:
    story = build(life)
    for now in moments(step_hours=13):
        decision = story.decide(now)
        for person, other in ((HANA, IVAN), (IVAN, HANA)):
            shown = reasons_for(decision, person)
            assert all(r.audience in (COUPLE, person) for r in shown)
            assert not any(r.audience == other for r in shown)
        everyone = {r.audience for r in decision.reasons}
        assert everyone <= {COUPLE, HANA, IVAN}
        for reason in decision.reasons:
            if reason.audience == COUPLE:
                assert set(reason.numbers) <= PACE_NUMBERS, reason
                # Couple wording never speaks about one person's own check-in.
                assert not re.search(r"\byour (partner|latest|activation)", reason.message, re.I)
                assert not reason.message.startswith("Your"), reason


@FAST
@given(
    calm_lives,
    st.lists(
        st.tuples(
            st.integers(0, 10),
            st.sampled_from(["settled", "revved_up", "shut_down"]),
            st.integers(0, 10),
            st.integers(0, 10),
        ),
        min_size=2,
        max_size=2,
    ),
    st.integers(0, DAYS * 24),
)
def test_hanas_view_never_depends_on_ivans_private_numbers(
    life: Life, ivan_variants: list[tuple[int, str, int, int]], hour: int
) -> None:
    """Two worlds differing only in Ivan's last check-in: if the pace is the same,
    Hana must read exactly the same explanation in both."""
    views = []
    for activation, state, readiness, urgency in ivan_variants:
        story = build(life)
        story.checkin(
            IVAN,
            START + timedelta(hours=hour),
            activation=activation,
            state=state,
            readiness=readiness,
            urgency=urgency,
        )
        decision = story.decide(START + timedelta(hours=hour, minutes=30))
        pace = (
            decision.permitted_tier,
            decision.ladder_tier,
            decision.paused,
            decision.break_until,
        )
        views.append((pace, reasons_for(decision, HANA)))
    (pace_a, hana_a), (pace_b, hana_b) = views
    if pace_a == pace_b:
        assert hana_a == hana_b
