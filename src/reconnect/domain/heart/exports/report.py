"""What one import read, what it left out and why: :class:`ImportReport`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timezone, tzinfo
from enum import Enum
from zoneinfo import ZoneInfo

from reconnect.domain.heart.exports.formats import Format
from reconnect.domain.heart.samples import MAX_BPM, MIN_BPM

__all__ = ["ImportReport", "SkipReason"]


class SkipReason(Enum):
    """Why a row of an export was left out."""

    UNREADABLE = "unreadable"
    IMPOSSIBLE = "impossible"
    IN_FUTURE = "in_future"
    DUPLICATE = "duplicate"

    def describe(self, count: int) -> str:
        one, many = _REASON_WORDS[self]
        return f"{count:,} {one if count == 1 else many}"


_REASON_WORDS = {
    SkipReason.UNREADABLE: ("row we could not read", "rows we could not read"),
    SkipReason.IMPOSSIBLE: (
        f"heart rate outside {MIN_BPM} to {MAX_BPM} bpm",
        f"heart rates outside {MIN_BPM} to {MAX_BPM} bpm",
    ),
    SkipReason.IN_FUTURE: ("time in the future", "times in the future"),
    SkipReason.DUPLICATE: ("repeated reading", "repeated readings"),
}


@dataclass(frozen=True)
class ImportReport:
    """What one import read, what it left out and why, and whether it finished.

    ``skipped`` holds a count for every :class:`SkipReason` (zero included).
    ``first_at`` and ``last_at`` are the earliest and latest imported sample.
    ``problem`` is ``None`` when the whole file was read; otherwise it is a
    sentence saying where the file broke (the samples before the break count).
    ``zone`` is the person's: ``local_times`` readings were written without an offset
    and read in it, and the summary's days are its days, not UTC's.
    """

    format: Format
    imported: int
    skipped: dict[SkipReason, int]
    first_at: datetime | None
    last_at: datetime | None
    problem: str | None = None
    zone: tzinfo = UTC
    local_times: int = 0

    @property
    def complete(self) -> bool:
        return self.problem is None

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def summary(self) -> str:
        """A calm account of the import, fit to show to the person who uploaded it."""
        if self.imported and self.first_at and self.last_at:
            first = _day(self.first_at.astimezone(self.zone))
            last = _day(self.last_at.astimezone(self.zone))
            span = f"on {first}" if first == last else f"from {first} to {last}"
            sentence = f"Imported {_samples(self.imported)} {span}."
        elif self.complete and not self.skipped_total:
            sentence = "This file holds no heart-rate readings."
        else:
            sentence = "No heart-rate samples were imported."
        reasons = [reason.describe(n) for reason, n in self.skipped.items() if n]
        if reasons:
            sentence += f" Left out {self.skipped_total:,}: {', '.join(reasons)}."
        if self.local_times:
            sentence += f" Times written without a time zone were read {_as_zone(self.zone)}."
        if self.problem:
            sentence += f" {self.problem}"
        return sentence


def _samples(count: int) -> str:
    return f"{count:,} heart-rate sample{'' if count == 1 else 's'}"


def _day(when: datetime) -> str:
    return f"{when.day} {when:%B %Y}"


def _as_zone(zone: tzinfo) -> str:
    """How the zone is named to a person: ``as Europe/Berlin time``, or plainly."""
    name = None
    if isinstance(zone, ZoneInfo):
        name = zone.key
    elif isinstance(zone, timezone):
        name = zone.tzname(None)
    return f"as {name} time" if name else "in your time zone"
