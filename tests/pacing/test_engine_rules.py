"""Each default pacing rule, on both sides of each of its thresholds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconnect.domain.pacing.catalogue import load_catalogue
from reconnect.domain.pacing.engine import can_resume, is_ahead_of_pace, reasons_for
from tests.pacing.story import HANA, IVAN, START, Story

H = timedelta(hours=1)
D = timedelta(days=1)


def test_a_calm_couple_starts_at_tier_0_and_climbs_with_safe_days() -> None:
    story = Story()
    assert story.decide(START + H).ladder_tier == 0
    morning = story.climb_to(3)
    story.both_check_in(morning)
    decision = story.decide(morning + H)
    assert decision.ladder_tier == 3
    assert decision.permitted_tier == 3


# --- Rule 1: today's ceiling follows the more activated partner -----------------------


@pytest.mark.parametrize(
    ("activation", "state", "expected"),
    [
        (5, "settled", 3),
        (6, "revved_up", 1),
        (7, "revved_up", 1),
        (8, "revved_up", 0),
        (10, "revved_up", 0),
        (2, "shut_down", 0),
    ],
)
def test_the_more_activated_partner_sets_todays_ceiling(
    activation: int, state: str, expected: int
) -> None:
    story = Story()
    morning = story.climb_to(3)
    story.checkin(IVAN, morning, activation=1)
    story.checkin(HANA, morning, activation=activation, state=state)
    assert story.decide(morning + H).permitted_tier == expected


def test_a_ceiling_lasts_24_hours_from_the_checkin() -> None:
    story = Story()
    morning = story.climb_to(3)
    story.checkin(IVAN, morning)
    story.checkin(HANA, morning, activation=9)
    assert story.decide(morning + 24 * H - timedelta(seconds=1)).permitted_tier == 0
    assert story.decide(morning + 24 * H).permitted_tier == 3


def test_a_later_calm_checkin_replaces_an_earlier_activated_one() -> None:
    story = Story()
    morning = story.climb_to(3)
    story.checkin(IVAN, morning)
    story.checkin(HANA, morning, activation=9)
    story.checkin(HANA, morning + 3 * H, activation=3)
    assert story.decide(morning + 4 * H).permitted_tier == 3


def test_a_partner_silent_for_more_than_72_hours_counts_as_unknown() -> None:
    story = Story()
    morning = story.climb_to(3)
    story.checkin(IVAN, morning)
    story.checkin(HANA, morning)
    story.checkin(HANA, morning + 48 * H)
    assert story.decide(morning + 72 * H).permitted_tier == 3
    decision = story.decide(morning + 72 * H + timedelta(seconds=1))
    assert decision.permitted_tier == 1
    own = [r for r in reasons_for(decision, IVAN) if r.audience == IVAN]
    assert [r.rule for r in own] == ["ceiling"]
    assert own[0].numbers["hours_without_checkin"] == 72


def test_nobody_ever_checked_in_means_at_most_tier_1() -> None:
    story = Story()
    story.climb_to(3)
    story.signals = [s for s in story.signals if s.kind == "experience"]
    assert story.decide(START + 30 * D).permitted_tier == 1


# --- Rule 2: advance only after safe experiences on separate days ---------------------


def test_three_safe_days_advance_one_tier_and_two_do_not() -> None:
    story = Story()
    story.safe_day(START, 0)
    story.safe_day(START + D, 0)
    assert story.decide(START + D + 20 * H).ladder_tier == 0
    story.safe_day(START + 2 * D, 0)
    assert story.decide(START + 2 * D + 20 * H).ladder_tier == 1


def test_three_safe_experiences_on_two_days_do_not_advance() -> None:
    story = Story()
    story.safe_day(START, 0, practices=2)
    story.safe_day(START + D, 0)
    assert story.decide(START + D + 20 * H).ladder_tier == 0


@pytest.mark.parametrize(("last_day", "advanced"), [(14, True), (15, False)])
def test_safe_days_must_fall_within_14_days(last_day: int, advanced: bool) -> None:
    story = Story()
    for day in (0, 7, last_day):
        story.safe_day(START + day * D, 0)
    decision = story.decide(START + last_day * D + 20 * H)
    assert decision.ladder_tier == (1 if advanced else 0)


@pytest.mark.parametrize(("safety", "counts"), [(5, False), (6, True)])
def test_both_partners_must_rate_safety_at_least_6(safety: int, counts: bool) -> None:
    story = Story()
    story.safe_day(START, 0)
    story.safe_day(START + D, 0)
    story.both_check_in(START + 2 * D)
    story.practice(START + 2 * D + 10 * H, 0, ivan={"safety": safety})
    assert story.decide(START + 2 * D + 20 * H).ladder_tier == (1 if counts else 0)


@pytest.mark.parametrize(("staying", "counts"), [("left_emotionally", False), ("stayed", True)])
def test_nobody_may_have_left(staying: str, counts: bool) -> None:
    story = Story()
    story.safe_day(START, 0)
    story.safe_day(START + D, 0)
    story.both_check_in(START + 2 * D)
    story.practice(START + 2 * D + 10 * H, 0, hana={"staying": staying})
    assert story.decide(START + 2 * D + 20 * H).ladder_tier == (1 if counts else 0)


@pytest.mark.parametrize(
    ("hana", "ivan", "counts"),
    [
        # Hana came in more activated (band 6-7 vs 0-3): only her direction matters.
        ({"activation_before": 6, "activation_after": 7}, {"activation_before": 2}, False),
        ({"activation_before": 6, "activation_after": 6}, {"activation_before": 2}, True),
        (
            {"activation_before": 6, "activation_after": 5},
            {"activation_before": 2, "activation_after": 3},
            True,
        ),
        # Same band: we cannot tell who was more activated, so both must be not worse.
        (
            {"activation_before": 1, "activation_after": 1},
            {"activation_before": 2, "activation_after": 3},
            False,
        ),
        (
            {"activation_before": 1, "activation_after": 1},
            {"activation_before": 2, "activation_after": 2},
            True,
        ),
    ],
)
def test_the_more_activated_partner_must_not_leave_more_activated(
    hana: dict[str, int], ivan: dict[str, int], counts: bool
) -> None:
    story = Story()
    story.safe_day(START, 0)
    story.safe_day(START + D, 0)
    story.both_check_in(START + 2 * D)
    story.practice(START + 2 * D + 10 * H, 0, hana=hana, ivan=ivan)
    assert story.decide(START + 2 * D + 20 * H).ladder_tier == (1 if counts else 0)


def test_an_experience_rated_by_only_one_partner_does_not_count() -> None:
    story = Story()
    story.safe_day(START, 0)
    story.safe_day(START + D, 0)
    story.both_check_in(START + 2 * D)
    story.rate(HANA, "solo", START + 2 * D + 10 * H, 0)
    assert story.decide(START + 2 * D + 20 * H).ladder_tier == 0
    story.rate(IVAN, "solo", START + 3 * D, 0)  # Ivan rates it the next morning
    assert story.decide(START + 3 * D + H).ladder_tier == 1


def test_experiences_at_another_tier_do_not_count() -> None:
    story = Story()
    for day in range(3):
        story.safe_day(START + day * D, 1)
    assert story.decide(START + 3 * D).ladder_tier == 0


def test_an_experience_ahead_of_the_pace_never_counts() -> None:
    story = Story()
    morning = story.climb_to(2)
    for day in range(3):
        today = morning + day * D
        story.checkin(IVAN, today)
        story.checkin(HANA, today, activation=7)  # today is capped at tier 1
        story.practice(today + 10 * H, 2)
    decision = story.decide(morning + 3 * D)
    assert decision.ladder_tier == 2
    assert is_ahead_of_pace(story.decide(morning + 10 * H), 2)
    assert not is_ahead_of_pace(story.decide(morning + 10 * H), 1)


def test_the_ladder_stops_at_the_top_tier() -> None:
    story = Story()
    morning = story.climb_to(6)
    for day in range(3):
        story.safe_day(morning + day * D, 6)
    assert story.decide(morning + 4 * D).ladder_tier == 6


# --- Rule 3: a flood steps back, starts a break and holds the ladder ------------------


@pytest.mark.parametrize(
    ("overrides", "flooded"),
    [
        ({"activation_after": 8}, True),
        ({"activation_after": 7, "activation_before": 7}, False),
        ({"staying": "left_physically"}, True),
        ({"heart_rate_flooded": True}, True),
    ],
)
def test_a_flood_steps_back_one_tier(overrides: dict[str, object], flooded: bool) -> None:
    story = Story()
    morning = story.climb_to(3)
    story.both_check_in(morning)
    story.practice(morning + 10 * H, 3, hana=overrides)
    decision = story.decide(morning + 11 * H)
    assert decision.ladder_tier == (2 if flooded else 3)


def test_a_flood_starts_a_break_of_20_minutes_with_only_self_soothing() -> None:
    story = Story()
    morning = story.climb_to(3)
    story.both_check_in(morning)
    flood_at = morning + 10 * H
    story.practice(flood_at, 3, ivan={"activation_after": 9})
    during = story.decide(flood_at + timedelta(minutes=19))
    assert during.permitted_tier == 0
    assert during.break_until == flood_at + timedelta(minutes=20)
    assert set(during.practices) == {p.id for p in load_catalogue().for_tier(0)}
    assert "flood_break" in {r.rule for r in during.reasons}
    after = story.decide(flood_at + timedelta(minutes=20))
    assert after.break_until is None
    assert after.permitted_tier == 2


def test_both_partners_flooding_in_one_experience_steps_back_once() -> None:
    story = Story()
    morning = story.climb_to(3)
    story.both_check_in(morning)
    flood = {"activation_after": 9}
    story.practice(morning + 10 * H, 3, hana=flood, ivan=flood)
    assert story.decide(morning + 11 * H).ladder_tier == 2


def test_a_flood_at_tier_0_stays_at_tier_0() -> None:
    story = Story()
    story.both_check_in(START)
    story.practice(START + H, 0, hana={"activation_after": 10})
    assert story.decide(START + 2 * H).ladder_tier == 0


def test_no_advance_for_72_hours_after_a_flood() -> None:
    story = Story()
    morning = story.climb_to(2)  # climbed on days 0-5; morning is day 6
    story.both_check_in(morning)
    flood_at = morning + 11 * H  # 19:00
    story.practice(flood_at, 2, hana={"activation_after": 9})  # back to tier 1
    for day in (1, 2, 3):  # 18:00 on the next three days: all within 72 hours
        story.safe_day(morning + day * D, 1)
    assert story.decide(morning + 3 * D + 12 * H).ladder_tier == 1
    story.safe_day(morning + 4 * D, 1)  # past the hold: the evidence now counts
    assert story.decide(morning + 4 * D + 12 * H).ladder_tier == 2


def test_safe_days_before_a_flood_do_not_count_afterwards() -> None:
    story = Story()
    story.safe_day(START, 0)
    story.safe_day(START + D, 0)
    story.practice(START + D + 3 * H, 0, hana={"activation_after": 8})
    story.safe_day(START + 5 * D, 0)
    assert story.decide(START + 5 * D + 12 * H).ladder_tier == 0


# --- Rule 4: urgency is not readiness --------------------------------------------------


@pytest.mark.parametrize(("urgency", "named"), [(8, False), (9, True)])
def test_urgency_ahead_of_readiness_is_named_to_that_partner_only(
    urgency: int, named: bool
) -> None:
    story = Story()
    story.checkin(HANA, START, urgency=urgency, readiness=5)
    story.checkin(IVAN, START)
    decision = story.decide(START + H)
    hana_rules = [r.rule for r in reasons_for(decision, HANA)]
    assert ("urgency" in hana_rules) is named
    assert "urgency" not in [r.rule for r in reasons_for(decision, IVAN)]


def test_urgency_never_raises_the_tier() -> None:
    story = Story()
    morning = story.climb_to(2)
    story.checkin(HANA, morning, urgency=10, readiness=0, activation=6)
    story.checkin(IVAN, morning, urgency=10, readiness=0)
    quiet = Story(signals=[s for s in story.signals if s.kind != "urgency_gap"])
    assert story.decide(morning + H).permitted_tier == quiet.decide(morning + H).permitted_tier == 1


def test_the_urgency_note_fades_after_24_hours() -> None:
    story = Story()
    story.checkin(HANA, START, urgency=10, readiness=1)
    story.checkin(IVAN, START)
    later = story.decide(START + 24 * H)
    assert "urgency" not in [r.rule for r in later.reasons]


# --- Rule 5: pause ----------------------------------------------------------------------


def test_a_pause_suggests_only_tier_0_and_only_the_pauser_can_resume() -> None:
    story = Story()
    morning = story.climb_to(3)
    story.both_check_in(morning)
    story.pause(HANA, morning + H)
    paused = story.decide(morning + 2 * H)
    assert paused.paused and paused.paused_by == (HANA,)
    assert paused.permitted_tier == 0
    assert paused.ladder_tier == 3
    assert set(paused.practices) == {p.id for p in load_catalogue().for_tier(0)}
    assert can_resume(paused, HANA)
    assert not can_resume(paused, IVAN)

    story.resume(IVAN, morning + 3 * H)  # ignored: Ivan did not pause
    assert story.decide(morning + 4 * H).paused

    story.resume(HANA, morning + 5 * H)
    resumed = story.decide(morning + 6 * H)
    assert not resumed.paused
    assert resumed.permitted_tier == 3


def test_when_both_paused_each_lifts_only_their_own_pause() -> None:
    story = Story()
    story.both_check_in(START)
    story.pause(HANA, START + H)
    story.pause(IVAN, START + 2 * H)
    story.resume(HANA, START + 3 * H)
    decision = story.decide(START + 4 * H)
    assert decision.paused_by == (IVAN,)
    assert not can_resume(decision, HANA)


def test_no_advance_while_paused() -> None:
    story = Story()
    story.pause(IVAN, START)
    for day in range(3):
        story.safe_day(START + day * D, 0)
    assert story.decide(START + 3 * D).ladder_tier == 0


def test_only_the_pauser_reads_the_pauser_message() -> None:
    story = Story()
    story.both_check_in(START)
    story.pause(HANA, START + H)
    decision = story.decide(START + 2 * H)
    hana = [r.message for r in reasons_for(decision, HANA) if r.rule == "pause"]
    ivan = [r.message for r in reasons_for(decision, IVAN) if r.rule == "pause"]
    assert len(hana) == len(ivan) == 1
    assert hana[0].startswith("You paused")
    assert not ivan[0].startswith("You paused")


# --- Tier 6 needs both partners ready ----------------------------------------------------


@pytest.mark.parametrize(
    ("hana_readiness", "ivan_readiness", "expected"), [(7, 7, 6), (6, 7, 5), (7, 6, 5)]
)
def test_tier_6_opens_only_when_both_report_readiness(
    hana_readiness: int, ivan_readiness: int, expected: int
) -> None:
    story = Story()
    morning = story.climb_to(6)
    story.checkin(HANA, morning, readiness=hana_readiness)
    story.checkin(IVAN, morning, readiness=ivan_readiness)
    decision = story.decide(morning + H)
    assert decision.ladder_tier == 6
    assert decision.permitted_tier == expected


def test_readiness_for_closeness_expires_after_24_hours() -> None:
    story = Story()
    morning = story.climb_to(6)
    story.checkin(HANA, morning, readiness=8)
    story.checkin(IVAN, morning + 12 * H, readiness=8)
    assert story.decide(morning + 23 * H).permitted_tier == 6
    assert story.decide(morning + 24 * H).permitted_tier == 5


# --- floods reported outside a logged experience (the flooding break) ----------------


def test_a_flood_tap_steps_back_once_and_sets_the_agreed_return_time():
    from datetime import UTC, datetime, timedelta

    from reconnect.domain.pacing.engine import decide
    from reconnect.domain.pacing.history import History, Partner, Role
    from reconnect.domain.pacing.policy import load_policy
    from reconnect.domain.pacing.signals import ExperienceSignal, FloodSignal

    policy = load_policy("v1")
    hana, ivan = Partner("1", Role.HURT), Partner("2", Role.INVOLVED)
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    # Earn tier 2 first: three safe shared practices on three days, twice.
    signals: list = []
    for day in range(6):
        at = start + timedelta(days=day)
        for who in ("1", "2"):
            signals.append(
                ExperienceSignal(who, at, f"e{day}", day // 3, at.date(), True, False, 1, True)
            )
    before = decide(History((hana, ivan), signals), policy, start + timedelta(days=6))
    assert before.ladder_tier == 2
    tap = start + timedelta(days=6, hours=1)
    back_at = tap + timedelta(hours=2)
    signals.append(FloodSignal("2", tap, "b1", back_at))
    # The same conversation, logged later as flooded, is the same episode.
    later = tap + timedelta(minutes=30)
    signals.append(ExperienceSignal("1", later, "e9", 2, later.date(), False, True, 2, False))
    during = decide(History((hana, ivan), signals), policy, tap + timedelta(minutes=45))
    assert during.break_until == back_at
    assert during.permitted_tier == 0
    assert during.ladder_tier == 1  # one episode, one step back: not two
    after = decide(History((hana, ivan), signals), policy, back_at + timedelta(minutes=1))
    assert after.break_until is None
