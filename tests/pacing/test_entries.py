"""Check-ins and experience ratings: what they accept and how they refuse."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconnect.domain.pacing.checkins import (
    BODY_SIGNAL_MAX_CHARS,
    BODY_SIGNAL_MAX_COUNT,
    NOTE_MAX_CHARS,
    SUGGESTED_BODY_SIGNALS,
    CheckIn,
    Driver,
    State,
)
from reconnect.domain.pacing.experiences import ExperienceRating, Staying
from reconnect.domain.validation import InvalidEntry, check_not_in_future
from reconnect.sealing import to_json
from tests.pacing.story import CALM_CHECKIN, SAFE_RATING, START, checkin, rating


def refused(build: Any, **kwargs: Any) -> InvalidEntry:
    with pytest.raises(InvalidEntry) as caught:
        build(**kwargs)
    return caught.value


def test_a_checkin_keeps_what_the_person_said() -> None:
    entry = checkin(
        START,
        activation=6,
        state="revved_up",
        drivers=["reassurance", Driver.FEAR_OF_LOSS],
        body_signals=[" tight chest", "tight chest ", "shaky"],
        note="hard morning",
    )
    assert entry.state is State.REVVED_UP
    assert entry.drivers == (Driver.REASSURANCE, Driver.FEAR_OF_LOSS)
    assert entry.body_signals == ("tight chest", "shaky")
    assert "hard morning" not in repr(entry)  # private words stay out of logs


@pytest.mark.parametrize("field", ["activation", "safety", "urgency", "readiness"])
@pytest.mark.parametrize("value", [-1, 11, 2.5, True, "7", None])
def test_scales_outside_0_to_10_are_refused_calmly(field: str, value: object) -> None:
    error = refused(checkin, at=START, **{field: value})
    assert error.field == field
    assert error.message.endswith("is a number from 0 to 10.")


@pytest.mark.parametrize("value", [0, 10])
def test_scale_ends_are_accepted(value: int) -> None:
    assert checkin(START, activation=value, readiness=value).activation == value


def test_the_activation_message_reads_plainly() -> None:
    assert refused(checkin, at=START, activation=12).message == (
        "Activation is a number from 0 to 10."
    )


def test_an_unknown_state_lists_the_choices() -> None:
    error = refused(checkin, at=START, state="fine")
    assert error.field == "state"
    assert "settled, revved_up, shut_down" in error.message


def test_a_checkin_time_needs_a_time_zone() -> None:
    error = refused(CheckIn, recorded_at=datetime(2025, 1, 1, 9), **CALM_CHECKIN)
    assert error.field == "recorded_at"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"drivers": ["reassurance", "reassurance"]}, "drivers"),
        ({"drivers": ["boredom"]}, "drivers"),
        ({"drivers": "reassurance"}, "drivers"),
        ({"body_signals": ["x"] * (BODY_SIGNAL_MAX_COUNT + 1)}, "body_signals"),
        ({"body_signals": ["x" * 41]}, "body_signals"),
        ({"body_signals": ["   "]}, "body_signals"),
        ({"note": "x" * 4001}, "note"),
    ],
)
def test_lists_and_text_have_limits(overrides: dict[str, Any], field: str) -> None:
    assert refused(checkin, at=START, **overrides).field == field


def test_limits_themselves_are_accepted() -> None:
    entry = checkin(
        START, body_signals=[f"s{i}" for i in range(BODY_SIGNAL_MAX_COUNT)], note="x" * 4000
    )
    assert len(entry.body_signals) == BODY_SIGNAL_MAX_COUNT


def test_suggested_body_signals_fit_the_limits() -> None:
    assert len(SUGGESTED_BODY_SIGNALS) >= 10
    checkin(START, body_signals=list(SUGGESTED_BODY_SIGNALS[:BODY_SIGNAL_MAX_COUNT]))


def test_urgency_gap_is_urgency_minus_readiness() -> None:
    assert checkin(START, urgency=9, readiness=2).urgency_gap == 7


def test_a_future_time_is_refused_by_the_helper() -> None:
    now = START
    check_not_in_future("recorded_at", "The check-in time", now, now)
    with pytest.raises(InvalidEntry, match="cannot be in the future"):
        check_not_in_future("recorded_at", "The check-in time", now + timedelta(minutes=1), now)


# --- experience ratings ---------------------------------------------------------------


def test_a_rating_keeps_what_the_person_said() -> None:
    entry = rating(START, 2, staying="left_emotionally")
    assert entry.staying is Staying.LEFT_EMOTIONALLY
    assert entry.left
    assert not rating(START, 2).left
    assert entry.heart_rate_flooded is False


@pytest.mark.parametrize("field", ["authenticity", "vulnerability", "transparency", "presence"])
@pytest.mark.parametrize(("value", "ok"), [(0, True), (4, True), (5, False), (-1, False)])
def test_the_four_qualities_run_from_0_to_4(field: str, value: int, ok: bool) -> None:
    if ok:
        assert getattr(rating(START, 1, **{field: value}), field) == value
    else:
        error = refused(rating, at=START, tier=1, **{field: value})
        assert error.field == field
        assert error.message == f"{field.capitalize()} is a number from 0 to 4."


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tier": 7}, "tier"),
        ({"tier": -1}, "tier"),
        ({"safety": 11}, "safety"),
        ({"activation_before": -1}, "activation_before"),
        ({"activation_after": 11}, "activation_after"),
        ({"staying": "wandered"}, "staying"),
        ({"felt_pressured": "no"}, "felt_pressured"),
        ({"heart_rate_flooded": 1}, "heart_rate_flooded"),
        ({"practice_id": " "}, "practice_id"),
        ({"note": "x" * 4001}, "note"),
    ],
)
def test_ratings_refuse_bad_input_by_field(overrides: dict[str, Any], field: str) -> None:
    values = {
        "practice_id": "p",
        "tier": 1,
        "occurred_at": START,
        **SAFE_RATING,
        **overrides,
    }
    assert refused(ExperienceRating, **values).field == field


def test_a_rating_time_needs_a_time_zone() -> None:
    naive = datetime(2025, 1, 1, 19)
    error = refused(rating, at=naive, tier=1)
    assert error.field == "occurred_at"
    assert rating(datetime(2025, 1, 1, 19, tzinfo=UTC), 1).tier == 1


VALID_CHECKINS = st.builds(
    CheckIn,
    activation=st.integers(0, 10),
    state=st.sampled_from(State),
    safety=st.integers(0, 10),
    urgency=st.integers(0, 10),
    readiness=st.integers(0, 10),
    recorded_at=st.datetimes(
        min_value=datetime(2000, 1, 1), timezones=st.sampled_from([UTC, ZoneInfo("Asia/Kolkata")])
    ),
    drivers=st.lists(st.sampled_from(Driver), unique=True).map(tuple),
    body_signals=st.lists(
        st.text(min_size=1, max_size=BODY_SIGNAL_MAX_CHARS).filter(str.strip),
        max_size=BODY_SIGNAL_MAX_COUNT,
        unique=True,
    ).map(lambda signals: tuple(s.strip() for s in signals)),
    note=st.text(max_size=200),
)


@settings(max_examples=200)
@given(VALID_CHECKINS)
def test_a_checkin_reads_back_from_storage_as_it_was_written(entry: CheckIn) -> None:
    stored = json.loads(to_json(entry))  # exactly what is sealed, then opened
    restored = CheckIn.from_dict(stored)
    assert restored == entry  # every field, compared: one left unset would raise here
    assert restored.recorded_at.utcoffset() == entry.recorded_at.utcoffset()


def test_an_entry_written_before_a_field_existed_reads_with_its_default() -> None:
    stored = json.loads(to_json(checkin(START)))
    for later in ("drivers", "body_signals", "note"):
        del stored[later]
    restored = CheckIn.from_dict(stored)
    assert (restored.drivers, restored.body_signals, restored.note) == ((), (), "")


def test_a_stored_entry_is_not_refused_by_a_rule_made_stricter_since() -> None:
    stored = json.loads(to_json(checkin(START, note="n" * NOTE_MAX_CHARS)))
    stored["note"] += " and more words than the limit allows today"
    assert CheckIn.from_dict(stored).note.endswith("allows today")
