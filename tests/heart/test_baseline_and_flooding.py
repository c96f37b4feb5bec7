"""A person's calm baseline, and when a heart rate during a conversation means flooding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconnect.domain.heart.baseline_and_flooding import (
    BASELINE_MIN_HOURS,
    DEVICE_RESTING_MIN_DAYS,
    Baseline,
    BaselineSource,
    FloodingPolicy,
    calm_baseline,
    flooding,
    resting_baseline,
)
from reconnect.domain.heart.samples import Sample
from reconnect.domain.validation import InvalidEntry

MORNING = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)  # a Monday, awake
CONVERSATION = datetime(2025, 3, 3, 19, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


def waking_hours(count: int, start: datetime = MORNING) -> list[datetime]:
    """``count`` clock hours from 08:00 to 23:00, day after day."""
    hours: list[datetime] = []
    day = start
    while len(hours) < count:
        hours.extend(day + timedelta(hours=h) for h in range(16))
        day += timedelta(days=1)
    return hours[:count]


def hour_of(bpm: int, start: datetime, *, per_hour: int = 4) -> list[Sample]:
    return [Sample(start + i * 10 * MINUTE, bpm) for i in range(per_hour)]


def readings(start: datetime, *rates: int, every: timedelta = 10 * SECOND) -> list[Sample]:
    return [Sample(start + i * every, bpm) for i, bpm in enumerate(rates)]


# ---------------------------------------------------------------- a sample


@pytest.mark.parametrize("bpm", [24, 251, 72.0, True, "72"])
def test_a_sample_refuses_a_heart_rate_no_one_has(bpm: object) -> None:
    with pytest.raises(InvalidEntry) as caught:
        Sample(MORNING, bpm)  # type: ignore[arg-type]
    assert caught.value.message == "A heart rate is a number from 25 to 250."


def test_a_sample_needs_a_time_zone() -> None:
    with pytest.raises(InvalidEntry) as caught:
        Sample(datetime(2025, 3, 3, 8), 70)
    assert caught.value.field == "at"


# ---------------------------------------------------------------- baseline


def test_hanas_baseline_is_a_low_percentile_of_her_hourly_medians() -> None:
    # 30 waking hours: medians 60, 61, ..., 89. The 10th percentile of 30 is the 3rd.
    samples = [s for i, h in enumerate(waking_hours(30)) for s in hour_of(60 + i, h)]
    assert resting_baseline(samples) == 62


def test_a_baseline_needs_enough_hours() -> None:
    enough = [s for h in waking_hours(BASELINE_MIN_HOURS) for s in hour_of(64, h)]
    assert resting_baseline(enough) == 64
    assert resting_baseline(enough[4:]) is None  # one hour short
    assert resting_baseline([]) is None


def test_an_hour_needs_three_samples_to_count() -> None:
    hours = waking_hours(BASELINE_MIN_HOURS)
    thin = [s for h in hours for s in hour_of(64, h, per_hour=2)]
    assert resting_baseline(thin) is None
    just = [s for h in hours for s in hour_of(64, h, per_hour=3)]
    assert resting_baseline(just) == 64


def test_sleeping_hours_do_not_pull_the_baseline_down() -> None:
    awake = [s for h in waking_hours(BASELINE_MIN_HOURS) for s in hour_of(66, h)]
    nights = [
        s
        for day in range(5)
        for hour in range(7)
        for s in hour_of(48, datetime(2025, 3, 3 + day, hour, tzinfo=UTC))
    ]
    assert resting_baseline(awake + nights) == 66
    assert resting_baseline(nights) is None


def test_night_is_judged_on_the_local_clock() -> None:
    tokyo = timezone(timedelta(hours=9))
    # 08:00-23:00 UTC is 17:00-08:00 in Tokyo: the hours from midnight to seven drop out.
    samples = [s for h in waking_hours(BASELINE_MIN_HOURS) for s in hour_of(64, h)]
    assert resting_baseline(samples) == 64
    assert resting_baseline(samples, zone=tokyo) is None
    local = [Sample(s.at.astimezone(tokyo), s.bpm) for s in samples]
    assert resting_baseline(local) is None  # each sample's own offset is its clock


def days_on_the_local_clock(where: tzinfo, days: int = 3) -> list[Sample]:
    """Sleep from midnight to seven at 52 bpm, waking hours at 74 to 89, on ``where``'s
    clock, stored as a server stores them: in UTC."""
    samples: list[Sample] = []
    for day in range(days):
        for hour in range(24):
            start = datetime(2025, 1, 6 + day, hour, tzinfo=where)  # January: UTC-8
            bpm = 52 if hour < 7 else 74 + hour - 7
            samples.extend(Sample(s.at.astimezone(UTC), s.bpm) for s in hour_of(bpm, start))
    return samples


def test_a_baseline_in_los_angeles_equals_one_in_utc_at_the_same_local_times() -> None:
    los_angeles, policy = ZoneInfo("America/Los_Angeles"), FloodingPolicy()
    in_utc = resting_baseline(days_on_the_local_clock(UTC), zone=UTC)
    in_los_angeles = resting_baseline(days_on_the_local_clock(los_angeles), zone=los_angeles)
    assert in_utc == in_los_angeles == 75
    assert policy.threshold(in_utc) == policy.threshold(in_los_angeles) == 85
    # Read on UTC's clock, her sleep would count as waking rest.
    assert resting_baseline(days_on_the_local_clock(los_angeles), zone=UTC) == 52


# The better readings, when the watch gives them (Apple's RestingHeartRate records and
# readings marked "sedentary"): a busy person's waking hours run at 80 here.
BUSY = [s for h in waking_hours(40) for s in hour_of(80, h)]
STILL = [s for h in waking_hours(30) for s in hour_of(66, h)]


def resting_records(*rates: int) -> list[Sample]:
    return [Sample(MORNING + timedelta(days=i), bpm) for i, bpm in enumerate(rates)]


def test_the_watchs_own_resting_heart_rate_comes_first() -> None:
    found = calm_baseline(BUSY, device_resting=resting_records(61, 59, 64), still=STILL)
    assert found == Baseline(61, BaselineSource.DEVICE_RESTING)


def test_a_few_days_of_resting_records_are_needed() -> None:
    too_few = resting_records(*[60] * (DEVICE_RESTING_MIN_DAYS - 1))
    found = calm_baseline(BUSY, device_resting=too_few, still=STILL)
    assert found == Baseline(66, BaselineSource.STILL_READINGS)


def test_still_readings_come_before_all_readings() -> None:
    assert calm_baseline(BUSY, still=STILL) == Baseline(66, BaselineSource.STILL_READINGS)
    assert calm_baseline(BUSY, still=STILL[:8]) == Baseline(80, BaselineSource.ALL_READINGS)
    assert calm_baseline(BUSY) == Baseline(80, BaselineSource.ALL_READINGS)
    assert calm_baseline(BUSY[:8]) is None


def test_still_readings_are_read_on_the_local_clock_too() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert calm_baseline(BUSY[:8], still=STILL, zone=tokyo) is None


def test_one_artefact_in_an_hour_does_not_move_its_median() -> None:
    samples = [s for h in waking_hours(BASELINE_MIN_HOURS) for s in hour_of(70, h)]
    spikes = [Sample(h + 5 * MINUTE, 30) for h in waking_hours(BASELINE_MIN_HOURS)]
    assert resting_baseline(samples + spikes) == 70


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(40, 120), min_size=BASELINE_MIN_HOURS, max_size=80))
def test_the_baseline_lies_within_the_hourly_medians(medians: list[int]) -> None:
    samples = [
        s
        for rate, h in zip(medians, waking_hours(len(medians)), strict=True)
        for s in hour_of(rate, h)
    ]
    baseline = resting_baseline(reversed(samples))  # order does not matter
    assert baseline is not None
    assert min(medians) <= baseline <= max(medians)
    assert sum(m < baseline for m in medians) <= len(medians) * 0.1


# ---------------------------------------------------------------- flooding


def test_the_default_policy_matches_the_product() -> None:
    policy = FloodingPolicy()
    assert (policy.absolute_bpm, policy.above_baseline_bpm) == (100, 10)
    assert policy.threshold(None) == 100
    assert policy.threshold(72) == 82
    assert policy.threshold(95) == 100  # 100 bpm is flooding whatever the baseline


@pytest.mark.parametrize(("bpm", "flooded"), [(99, False), (100, True)])
def test_100_bpm_is_flooding_without_a_baseline(bpm: int, flooded: bool) -> None:
    samples = readings(CONVERSATION, 80, bpm, bpm, bpm, bpm)
    expected = CONVERSATION + 10 * SECOND if flooded else None
    assert flooding(samples, None) == expected


@pytest.mark.parametrize(("bpm", "flooded"), [(71, False), (72, True)])
def test_ten_over_a_calm_baseline_is_flooding(bpm: int, flooded: bool) -> None:
    samples = readings(CONVERSATION, 61, bpm, bpm, bpm, bpm)
    assert (flooding(samples, 62) is not None) is flooded


@pytest.mark.parametrize(("seconds", "flooded"), [(29, False), (30, True)])
def test_raised_readings_must_last_thirty_seconds(seconds: int, flooded: bool) -> None:
    samples = [Sample(CONVERSATION, 104), Sample(CONVERSATION + seconds * SECOND, 104)]
    assert (flooding(samples, None) == CONVERSATION) is flooded


def test_a_single_spike_is_not_flooding() -> None:
    assert flooding(readings(CONVERSATION, 70, 140, 70, 71, 70), 62) is None


def test_a_dip_between_raised_readings_starts_the_count_again() -> None:
    samples = readings(CONVERSATION, 104, 104, 104, 90, 104, 104, 104, 104)
    assert flooding(samples, None) == CONVERSATION + 40 * SECOND


def test_a_long_gap_between_readings_is_not_a_run() -> None:
    apart = [Sample(CONVERSATION, 104), Sample(CONVERSATION + 11 * MINUTE, 104)]
    assert flooding(apart, None) is None
    close = [Sample(CONVERSATION, 104), Sample(CONVERSATION + 10 * MINUTE, 104)]
    assert flooding(close, None) == CONVERSATION


def test_samples_may_come_in_any_order() -> None:
    samples = readings(CONVERSATION, 70, 70, 104, 104, 104, 104, 70)
    assert flooding(reversed(samples), None) == CONVERSATION + 20 * SECOND


def test_no_samples_no_flooding() -> None:
    assert flooding([], 60) is None


def test_a_policy_can_be_stricter() -> None:
    gentle = FloodingPolicy(absolute_bpm=95, above_baseline_bpm=8, sustained_seconds=10)
    samples = readings(CONVERSATION, 70, 95, 95)
    assert flooding(samples, None, gentle) == CONVERSATION + 10 * SECOND
    assert flooding(samples, None) is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"absolute_bpm": 20},
        {"above_baseline_bpm": 0},
        {"sustained_seconds": 0},
        {"max_gap_seconds": 0},
        {"absolute_bpm": 100.5},
    ],
)
def test_a_policy_refuses_numbers_that_make_no_sense(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidEntry):
        FloodingPolicy(**overrides)  # type: ignore[arg-type]


rates = st.lists(st.integers(40, 160), max_size=30)


@settings(max_examples=100, deadline=None)
@given(rates, st.integers(45, 95), st.integers(0, 29))
def test_raising_one_reading_never_ends_flooding(
    values: list[int], baseline: int, index: int
) -> None:
    if not values:
        return
    index %= len(values)
    before = readings(CONVERSATION, *values)
    higher = [*values]
    higher[index] = min(250, higher[index] + 20)
    after = readings(CONVERSATION, *higher)
    if flooding(before, baseline) is not None:
        assert flooding(after, baseline) is not None


@settings(max_examples=100, deadline=None)
@given(rates, st.integers(45, 95))
def test_flooding_starts_at_a_raised_reading_that_lasts(values: list[int], baseline: int) -> None:
    samples = readings(CONVERSATION, *values)
    began = flooding(samples, baseline)
    threshold = FloodingPolicy().threshold(baseline)
    if began is None:
        # No four raised readings in a row (10 s apart, so 30 s).
        runs = "".join("x" if v >= threshold else "." for v in values)
        assert "xxxx" not in runs
    else:
        start = samples.index(next(s for s in samples if s.at == began))
        assert all(s.bpm >= threshold for s in samples[start : start + 4])
        assert len(samples[start : start + 4]) == 4
