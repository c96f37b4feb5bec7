"""A person's calm resting heart rate, and when a heart rate counts as flooding.

Both are pure functions of :class:`~reconnect.domain.heart.samples.Sample` values;
the method is described in docs/heart-rate.md.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import Enum

from reconnect.domain.heart.samples import MAX_BPM, MIN_BPM, Sample
from reconnect.domain.validation import check_scale

__all__ = [
    "BASELINE_MIN_HOURS",
    "DEVICE_RESTING_MIN_DAYS",
    "Baseline",
    "BaselineSource",
    "FloodingPolicy",
    "calm_baseline",
    "flooding",
    "resting_baseline",
]

BASELINE_MIN_HOURS = 24
# The device's own resting heart rate (one a day) is used once it gave this many.
DEVICE_RESTING_MIN_DAYS = 3
_BASELINE_MIN_PER_HOUR = 3
_BASELINE_PERCENTILE = 10
# Hours 00:00-06:59 local time are left out: a sleeping heart rate sits well below a
# calm waking one, and a baseline set by sleep would call ordinary talk "flooding".
_NIGHT_HOURS = range(0, 7)


def resting_baseline(samples: Iterable[Sample], *, zone: tzinfo | None = None) -> int | None:
    """A person's calm resting heart rate, or ``None`` while there is too little data.

    Samples are grouped by clock hour (in ``zone``, or in each sample's own offset
    when ``zone`` is None) and night hours are dropped. Each hour with at least
    three samples gives its median; the baseline is the 10th percentile (nearest
    rank) of those hourly medians, once at least :data:`BASELINE_MIN_HOURS` hours
    qualify. Memory grows with the number of hours, not samples.
    """
    hours: dict[datetime, Counter[int]] = {}
    for sample in samples:
        local = sample.at.astimezone(zone) if zone is not None else sample.at
        if local.hour in _NIGHT_HOURS:
            continue
        hour = local.replace(minute=0, second=0, microsecond=0)
        hours.setdefault(hour, Counter())[sample.bpm] += 1
    medians = sorted(
        _median(rates) for rates in hours.values() if rates.total() >= _BASELINE_MIN_PER_HOUR
    )
    if len(medians) < BASELINE_MIN_HOURS:
        return None
    rank = math.ceil(_BASELINE_PERCENTILE / 100 * len(medians))
    return round(medians[rank - 1])


def _median(rates: Counter[int]) -> float:
    return statistics.median(rates.elements())


class BaselineSource(Enum):
    """Which readings a calm baseline came from, best first."""

    DEVICE_RESTING = "device_resting"  # the watch's own resting heart rate, once a day
    STILL_READINGS = "still_readings"  # readings the watch marked as taken sitting still
    ALL_READINGS = "all_readings"  # every waking reading


@dataclass(frozen=True)
class Baseline:
    bpm: int
    source: BaselineSource


def calm_baseline(
    readings: Iterable[Sample],
    *,
    device_resting: Iterable[Sample] = (),
    still: Iterable[Sample] = (),
    zone: tzinfo | None = None,
) -> Baseline | None:
    """The calm baseline from the best readings there are enough of, or ``None``.

    1. ``device_resting``: the resting heart rate the watch itself works out (Apple's
       RestingHeartRate records, one a day), once there are
       :data:`DEVICE_RESTING_MIN_DAYS`: their median. It is measured while awake and
       at rest, which is what the flooding rule compares against.
    2. ``still``: readings the watch marked as taken sitting still (Apple's
       "sedentary" motion context), by :func:`resting_baseline`'s method.
    3. All ``readings``, by :func:`resting_baseline`'s method.
    """
    resting = [sample.bpm for sample in device_resting]
    if len(resting) >= DEVICE_RESTING_MIN_DAYS:
        return Baseline(math.floor(statistics.median(resting) + 0.5), BaselineSource.DEVICE_RESTING)
    for source, samples in (
        (BaselineSource.STILL_READINGS, still),
        (BaselineSource.ALL_READINGS, readings),
    ):
        bpm = resting_baseline(samples, zone=zone)
        if bpm is not None:
            return Baseline(bpm, source)
    return None


# ---------------------------------------------------------------- flooding


@dataclass(frozen=True)
class FloodingPolicy:
    """When a heart rate counts as flooding (Gottman's diffuse physiological arousal).

    A sample is *raised* when it is at least ``absolute_bpm``, or at least
    ``above_baseline_bpm`` over the person's calm baseline. Flooding needs raised
    samples one after another, the first and last at least ``sustained_seconds``
    apart (so at least two), with no gap longer than ``max_gap_seconds`` between
    neighbours: one artefact spike, or two raised readings with an unknown stretch
    between them, is not flooding.
    """

    absolute_bpm: int = 100
    above_baseline_bpm: int = 10
    sustained_seconds: int = 30
    max_gap_seconds: int = 600

    def __post_init__(self) -> None:
        check_scale("absolute_bpm", "The flooding heart rate", self.absolute_bpm, MIN_BPM, MAX_BPM)
        check_scale("above_baseline_bpm", "The rise over baseline", self.above_baseline_bpm, 1, 100)
        check_scale("sustained_seconds", "The sustained time", self.sustained_seconds, 1, 3600)
        check_scale("max_gap_seconds", "The longest gap", self.max_gap_seconds, 1, 86_400)

    def threshold(self, baseline: int | None) -> int:
        """The lowest heart rate that counts as raised for someone with this baseline."""
        if baseline is None:
            return self.absolute_bpm
        return min(self.absolute_bpm, baseline + self.above_baseline_bpm)


def flooding(
    samples_during: Iterable[Sample],
    baseline: int | None,
    policy: FloodingPolicy | None = None,
) -> datetime | None:
    """When flooding began during a practice or conversation, or ``None``.

    ``samples_during`` are the samples inside the window (any order). Without a
    baseline only the absolute threshold applies. The time returned is the first
    sample of the first sustained run of raised samples (see :class:`FloodingPolicy`).
    """
    rule = policy or FloodingPolicy()
    threshold = rule.threshold(baseline)
    sustained = timedelta(seconds=rule.sustained_seconds)
    max_gap = timedelta(seconds=rule.max_gap_seconds)
    run_start: datetime | None = None
    previous: datetime | None = None
    for sample in sorted(samples_during, key=lambda s: s.at):
        if sample.bpm < threshold:
            run_start = None
        elif run_start is None or previous is None or sample.at - previous > max_gap:
            run_start = sample.at
        previous = sample.at
        if run_start is not None and sample.at - run_start >= sustained:
            return run_start
    return None
