"""Signals reveal only coarse facts; decisions are stored, read back and reproduced."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconnect.domain.pacing.engine import decide
from reconnect.domain.pacing.history import Decision, History, Partner, Role, signals_needed_after
from reconnect.domain.pacing.policy import load_policy
from reconnect.domain.pacing.signals import (
    CeilingSignal,
    ExperienceSignal,
    InvalidSignal,
    PauseSignal,
    signal_from_dict,
    signals_from_checkin,
    signals_from_rating,
)
from tests.pacing.story import HANA, IVAN, PARTNERS, START, Story, checkin, rating

POLICY = load_policy("v1")
scale = st.integers(0, 10)


def coarse_checkin(activation: int, state: str, readiness: int, urgency: int) -> tuple[object, ...]:
    """What the policy says a check-in may reveal: its ceiling class and two yes/no facts."""
    if activation >= 8 or state == "shut_down":
        ceiling = "stop"
    elif activation >= 6:
        ceiling = "slow"
    else:
        ceiling = "none"
    return ceiling, readiness >= 7, urgency - readiness >= 4


@settings(max_examples=300)
@given(
    st.tuples(scale, st.sampled_from(["settled", "revved_up", "shut_down"]), scale, scale, scale),
    st.tuples(scale, st.sampled_from(["settled", "revved_up", "shut_down"]), scale, scale, scale),
)
def test_checkins_in_the_same_band_yield_identical_signals(
    one: tuple[int, str, int, int, int], other: tuple[int, str, int, int, int]
) -> None:
    def signals(values: tuple[int, str, int, int, int]) -> Any:
        activation, state, safety, readiness, urgency = values
        entry = checkin(
            START,
            activation=activation,
            state=state,
            safety=safety,
            readiness=readiness,
            urgency=urgency,
            note="private",
            body_signals=["shaky"],
        )
        return signals_from_checkin(HANA, entry, POLICY)

    a, b = one, other
    same_band = coarse_checkin(a[0], a[1], a[3], a[4]) == coarse_checkin(b[0], b[1], b[3], b[4])
    assert (signals(a) == signals(b)) is same_band


@pytest.mark.parametrize(
    ("activation", "state", "max_tier"),
    [
        (5, "settled", 6),
        (6, "revved_up", 1),
        (7, "settled", 1),
        (8, "settled", 0),
        (0, "shut_down", 0),
    ],
)
def test_a_checkin_yields_a_ceiling_until_24_hours_later(
    activation: int, state: str, max_tier: int
) -> None:
    ceiling = signals_from_checkin(
        HANA, checkin(START, activation=activation, state=state), POLICY
    )[0]
    assert ceiling == CeilingSignal(HANA, START, max_tier, START + timedelta(hours=24))


def test_a_rating_reveals_only_its_coarse_facts() -> None:
    quiet = rating(START, 2, activation_before=4, activation_after=5, safety=6)
    loud = rating(
        START,
        2,
        activation_before=5,
        activation_after=5,
        safety=10,
        felt_pressured=True,
        authenticity=0,
        presence=4,
        note="what I really felt",
    )
    [a], [b] = (signals_from_rating(HANA, "x1", r, POLICY) for r in (quiet, loud))
    assert isinstance(a, ExperienceSignal) and isinstance(b, ExperienceSignal)
    assert (
        (a.safe, a.flooded, a.band_before) == (b.safe, b.flooded, b.band_before) == (True, False, 1)
    )
    assert not a.not_worse_after and b.not_worse_after
    assert "what I really felt" not in json.dumps(b.to_dict())


def test_a_rating_takes_effect_when_it_is_written() -> None:
    late = START + timedelta(hours=30)
    [signal] = signals_from_rating(HANA, "x1", rating(START, 1), POLICY, written_at=late)
    assert signal.at == late
    assert isinstance(signal, ExperienceSignal) and signal.day == START.date()


def test_every_signal_kind_survives_json() -> None:
    story = Story()
    story.checkin(HANA, START, urgency=10, readiness=0)
    story.practice(START + timedelta(hours=1), 0, hana={"activation_after": 9})
    story.pause(IVAN, START + timedelta(hours=2))
    story.resume(IVAN, START + timedelta(hours=3))
    kinds = {s.kind for s in story.signals}
    assert kinds == {"ceiling", "closeness", "urgency_gap", "experience", "pause", "resume"}
    for signal in story.signals:
        assert signal_from_dict(json.loads(json.dumps(signal.to_dict()))) == signal


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "mood", "person_id": HANA, "at": START.isoformat()},
        {"kind": "pause", "person_id": HANA, "at": "2025-03-03T08:00:00"},  # no time zone
        {"kind": "pause", "person_id": "", "at": START.isoformat()},
        {"kind": "ceiling", "person_id": HANA, "at": START.isoformat(), "max_tier": "0"},
    ],
)
def test_unreadable_signal_rows_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidSignal):
        signal_from_dict(data)


# --- decisions ---------------------------------------------------------------------------


def lived_story() -> Story:
    """Two weeks: a climb, an evening that floods, a pause, recovery."""
    story = Story()
    morning = story.climb_to(2)
    story.both_check_in(morning, urgency=9, readiness=2)
    story.practice(morning + timedelta(hours=11), 2, ivan={"activation_after": 9})
    story.pause(HANA, morning + timedelta(days=1))
    story.resume(HANA, morning + timedelta(days=2))
    for day in range(4, 8):
        story.safe_day(morning + timedelta(days=day), 1)
    return story


def test_a_decision_survives_json() -> None:
    story = lived_story()
    for hours in range(0, 24 * 16, 5):
        decision = story.decide(START + timedelta(hours=hours))
        assert Decision.from_dict(json.loads(json.dumps(decision.to_dict()))) == decision


def test_stored_decisions_are_reproducible_from_stored_signals_and_the_policy_version() -> None:
    story = lived_story()
    # The web app: decide now and then from the last stored decision, store each one.
    stored_signals = [json.dumps(s.to_dict()) for s in story.signals]
    audit: list[str] = []
    checkpoint = None
    for hours in range(0, 24 * 16, 7):
        now = START + timedelta(hours=hours)
        since = signals_needed_after(checkpoint)
        tail = [s for s in story.signals if since is None or s.at > since]
        checkpoint = decide(History(PARTNERS, tail, checkpoint), story.policy, now)
        audit.append(json.dumps(checkpoint.to_dict()))
    assert {Decision.from_dict(json.loads(a)).ladder_tier for a in audit} >= {0, 1, 2}
    # A therapist re-checks the trail later, from the stored rows alone.
    signals = [signal_from_dict(json.loads(row)) for row in stored_signals]
    for row in audit:
        stored = Decision.from_dict(json.loads(row))
        policy = load_policy(stored.policy_version)
        assert decide(History(PARTNERS, signals), policy, stored.decided_at) == stored


def test_signals_after_now_are_not_yet_seen() -> None:
    story = lived_story()
    now = START + timedelta(days=7)
    earlier = Story(signals=[s for s in story.signals if s.at <= now])
    assert story.decide(now) == earlier.decide(now)


def test_a_checkpoint_from_the_future_is_ignored() -> None:
    story = lived_story()
    late = story.decide(START + timedelta(days=14))
    now = START + timedelta(days=6)
    assert story.decide(now, checkpoint=late) == story.decide(now)


def test_signals_out_of_order_are_refused() -> None:
    story = Story()
    story.pause(HANA, START + timedelta(hours=2))
    signals = [*story.signals, PauseSignal(IVAN, START)]
    with pytest.raises(ValueError, match="sorted"):
        decide(History(PARTNERS, signals), POLICY, START + timedelta(days=1))


def test_a_signal_from_outside_the_couple_is_refused() -> None:
    signals = [PauseSignal("olga", START)]
    with pytest.raises(ValueError, match="outside this couple"):
        decide(History(PARTNERS, signals), POLICY, START + timedelta(hours=1))


def test_a_history_needs_two_different_people() -> None:
    with pytest.raises(ValueError):
        History((Partner(HANA, Role.HURT), Partner(HANA, Role.INVOLVED)))
    with pytest.raises(ValueError):
        Partner("couple", Role.BOTH_HURT)


def test_now_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        decide(History(PARTNERS), POLICY, START.replace(tzinfo=None))
