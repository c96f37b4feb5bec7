"""One heart-rate reading (:class:`Sample`) and the range of rates that can be real.

Both sides use it: the export readers in :mod:`reconnect.domain.heart.exports` make
samples, and :mod:`reconnect.domain.heart.baseline_and_flooding` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import NamedTuple

from reconnect.domain.validation import InvalidEntry, check_aware, check_scale

__all__ = ["MAX_BPM", "MIN_BPM", "CalmKind", "CalmReading", "CalmSample", "Sample"]

MIN_BPM = 25
MAX_BPM = 250


@dataclass(frozen=True, slots=True)
class Sample:
    """One heart-rate reading: when (with a time zone) and beats per minute.

    Invalid values raise :class:`InvalidEntry`, so a reading typed by hand is
    checked the same way as an imported one.
    """

    at: datetime
    bpm: int

    def __post_init__(self) -> None:
        check_aware("at", "The time of a heart-rate reading", self.at)
        if self.at.timestamp() < 0:
            raise InvalidEntry("at", "A heart-rate reading cannot be dated before 1970.")
        check_scale("bpm", "A heart rate", self.bpm, MIN_BPM, MAX_BPM)


class CalmKind(Enum):
    """Readings a watch marks as calm, which make a better calm baseline."""

    DEVICE_RESTING = 1  # the watch's own resting heart rate for a day (not a sample)
    STILL = 2  # a sample the watch marked as taken sitting still


class CalmReading(NamedTuple):
    """A calm reading as an export reader found it, before it is checked."""

    at: datetime
    rate: float
    kind: CalmKind


@dataclass(frozen=True, slots=True)
class CalmSample:
    """A checked calm reading."""

    sample: Sample
    kind: CalmKind
