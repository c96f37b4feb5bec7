"""Storing a person's heart-rate samples, sealed under their own key, and using them
to notice flooding during a shared practice.

Samples are packed compactly (seconds and bpm), compressed and sealed per import; a
large file is stored as several rows (parts) of at most PART_SAMPLES samples each, so
an import holds one part in memory however many samples the file has. A file already
imported is recognised by its hash and not stored again; samples already stored
(from an earlier import, or earlier in the same file) are skipped and counted as
duplicates. They are found without an index in clear: only the imports whose sealed
span overlaps the new samples' span are opened, one at a time, and their seconds in
that span kept as a sorted array (4 bytes a second) searched by bisection.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from reconnect import keys, localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.domain.heart import baseline_and_flooding as baselines
from reconnect.domain.heart.baseline_and_flooding import flooding
from reconnect.domain.heart.exports.apple_health import ArchiveTooLarge
from reconnect.domain.heart.exports.importing import read_heart_rate
from reconnect.domain.heart.exports.reading import UnknownFormat
from reconnect.domain.heart.exports.report import ImportReport, SkipReason
from reconnect.domain.heart.samples import CalmKind, CalmSample, Sample
from reconnect.domain.validation import InvalidEntry
from reconnect.errors import Problem
from reconnect.models import HeartRateImport, Person

_PACK = struct.Struct("<IB")  # seconds since 1970 (to 2106), bpm (25-250)
_PACK_SPAN = struct.Struct("<II")  # the first and last sample's seconds since 1970
_PACK_CALM = struct.Struct("<IBB")  # seconds since 1970, bpm, CalmKind's value
_PACKED = np.dtype([("t", "<u4"), ("b", "u1")])  # _PACK as a numpy record, 5 bytes
_NO_TIME = 2**32 - 1  # later than any time _PACK holds
# Samples per stored row: what an import holds in memory at once, whatever its size,
# and what a reading typed by hand opens at most per overlapping import.
PART_SAMPLES = 500_000
BASELINE_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class Imported:
    report: ImportReport
    duplicates_of_earlier_imports: int
    already_imported: bool
    # The first and last of the samples newly stored, None when none were: a practice
    # in this span may be judged again (a watch file is often imported the next day).
    new_span: tuple[datetime, datetime] | None = None

    @property
    def stored(self) -> int:
        return (
            0
            if self.already_imported
            else self.report.imported - self.duplicates_of_earlier_imports
        )

    @property
    def summary(self) -> str:
        if self.already_imported:
            return "This file was imported before; nothing was stored twice."
        extra = (
            f" {self.duplicates_of_earlier_imports} were already stored from an earlier "
            "import and were not stored again."
            if self.duplicates_of_earlier_imports
            else ""
        )
        return self.report.summary + extra


def _context(row: HeartRateImport) -> str:
    return f"entry:heart_rate_import:{row.id}:person:{row.person_id}"


def _span_context(row: HeartRateImport) -> str:
    return f"entry:heart_rate_import_span:{row.id}:person:{row.person_id}"


def _calm_context(row: HeartRateImport) -> str:
    return f"entry:heart_rate_import_calm:{row.id}:person:{row.person_id}"


def _seal_calm(row: HeartRateImport, data_key: bytes, calm: Iterator[CalmSample]) -> None:
    packed = b"".join(
        _PACK_CALM.pack(int(c.sample.at.timestamp()), c.sample.bpm, c.kind.value) for c in calm
    )
    row.calm_sealed = keys.seal(data_key, zlib.compress(packed, 6), _calm_context(row))


def _unpack_calm(row: HeartRateImport, data_key: bytes) -> Iterator[CalmSample]:
    if row.calm_sealed is None:
        return
    blob = zlib.decompress(keys.unseal(data_key, row.calm_sealed, _calm_context(row)))
    for seconds, bpm, kind in _PACK_CALM.iter_unpack(blob):
        yield CalmSample(Sample(_instant(seconds), bpm), CalmKind(kind))


def seal_span(row: HeartRateImport, data_key: bytes, first: int, last: int) -> None:
    """Seal the span (epoch seconds) the import's samples cover."""
    row.span_sealed = keys.seal(data_key, _PACK_SPAN.pack(first, last), _span_context(row))


def span(row: HeartRateImport, data_key: bytes) -> tuple[int, int]:
    """The first and last sample's epoch seconds; read from the samples themselves for
    an import from before migration 0010, whose span was not sealed yet."""
    if row.span_sealed is not None:
        first, last = _PACK_SPAN.unpack(keys.unseal(data_key, row.span_sealed, _span_context(row)))
        return first, last
    times = [
        t
        for t, _ in _PACK.iter_unpack(
            zlib.decompress(keys.unseal(data_key, row.sealed, _context(row)))
        )
    ]
    return min(times), max(times)


def _file_hash(data_key: bytes, digest: bytes) -> str:
    # Keyed with the person's own key: the stored hash says nothing to anyone
    # who holds a copy of the same export.
    return hmac.new(data_key, digest, hashlib.sha256).hexdigest()


def _unpack(blob: bytes) -> Iterator[Sample]:
    for seconds, bpm in _PACK.iter_unpack(zlib.decompress(blob)):
        yield Sample(datetime.fromtimestamp(seconds, UTC), bpm)


Seconds = npt.NDArray[np.uint32]
Mask = npt.NDArray[np.bool_]


def _stored_seconds(db: Session, row: HeartRateImport, data_key: bytes) -> Seconds:
    """The seconds of one import's samples, in stored order. The sealed bytes are read
    on their own, never kept on the row (the session would hold them)."""
    sealed = db.scalar(select(HeartRateImport.sealed).where(HeartRateImport.id == row.id))
    raw = zlib.decompress(keys.unseal(data_key, sealed or b"", _context(row)))
    return np.frombuffer(raw, dtype=_PACKED)["t"]


def _stored_between(db: Session, signed_in: SignedIn, first: int, last: int) -> Seconds:
    """Every stored second from ``first`` to ``last`` (epoch seconds), sorted: only the
    imports whose sealed span overlaps are opened, one at a time."""
    pieces: list[Seconds] = []
    for row in _overlapping_seconds(db, signed_in.person, signed_in.data_key, first, last):
        seconds = _stored_seconds(db, row, signed_in.data_key)
        pieces.append(seconds[(seconds >= first) & (seconds <= last)])  # a compact copy
        del seconds
    return np.sort(np.concatenate(pieces)) if pieces else np.empty(0, np.uint32)


def _among(values: Seconds, sorted_seconds: Seconds) -> Mask:
    """Which of ``values`` are in ``sorted_seconds`` (sorted), by bisection."""
    if not len(sorted_seconds) or not len(values):
        return np.zeros(len(values), dtype=np.bool_)
    at = np.searchsorted(sorted_seconds, values)
    np.minimum(at, len(sorted_seconds) - 1, out=at)
    found: Mask = sorted_seconds[at] == values
    return found


def _first_of_each_second(seconds: Seconds) -> Mask:
    """True for each sample whose second has not come before it in ``seconds``."""
    keep = np.ones(len(seconds), dtype=np.bool_)
    ordered = np.sort(seconds)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    if len(repeated):
        positions = np.flatnonzero(_among(seconds, repeated))
        _, first = np.unique(seconds[positions], return_index=True)
        keep[positions] = False
        keep[positions[first]] = True
    return keep


class _Parts:
    """Stores an import's samples part by part, skipping seconds already stored."""

    def __init__(self, db: Session, signed_in: SignedIn, digest: bytes, file_hash: str):
        self.db, self.signed_in = db, signed_in
        self.digest, self.file_hash = digest, file_hash
        self.rows = 0
        self.duplicates = 0
        self.first, self.last = _NO_TIME, 0  # of the samples stored

    def store(self, times: array[int], rates: array[int], calm: list[CalmSample]) -> None:
        seconds = np.frombuffer(times, dtype=np.uint32)
        keep = _first_of_each_second(seconds)
        if len(seconds):
            earlier = _stored_between(
                self.db, self.signed_in, int(seconds.min()), int(seconds.max())
            )
            keep &= ~_among(seconds, earlier)
            del earlier
        kept = int(np.count_nonzero(keep))
        self.duplicates += len(seconds) - kept
        if not kept and not calm:
            return
        packed = np.empty(kept, dtype=_PACKED)
        packed["t"] = seconds[keep]
        packed["b"] = np.frombuffer(rates, dtype=np.uint8)[keep]
        del keep, seconds
        # The first row carries the file's own hash (a second upload is recognised by
        # it); the others a hash of it and their number, as unreadable as the first.
        part = self.digest if not self.rows else self.digest + f":part:{self.rows}".encode()
        data_key = self.signed_in.data_key
        row = HeartRateImport(
            person_id=self.signed_in.person.id,
            file_hash=self.file_hash if not self.rows else _file_hash(data_key, part),
            sealed=b"",
        )
        self.db.add(row)
        self.db.flush()
        row.sealed = keys.seal(data_key, zlib.compress(packed.tobytes(), 6), _context(row))
        # The span covers the calm readings too (a day's resting rate is dated at midnight).
        calm_times = [int(c.sample.at.timestamp()) for c in calm]
        first = int(packed["t"].min()) if kept else _NO_TIME
        last = int(packed["t"].max()) if kept else 0
        del packed
        seal_span(row, data_key, min([first, *calm_times]), max([last, *calm_times]))
        if calm:
            _seal_calm(row, data_key, iter(calm))
        self.db.flush()
        self.db.expunge(row)  # the session would hold its sealed bytes till the end
        self.rows += 1
        self.first, self.last = min(self.first, first), max(self.last, last)


def import_file(db: Session, *, signed_in: SignedIn, upload: IO[bytes], now: datetime) -> Imported:
    """Import a watch's or tracker's export file (any format docs/heart-rate.md lists).

    Raises Problem for a file that is not a heart-rate export at all; a damaged
    file keeps what was read before the damage, and the report says so.
    """
    digest = hashlib.sha256()
    while chunk := upload.read(1 << 20):
        digest.update(chunk)
    upload.seek(0)
    file_hash = _file_hash(signed_in.data_key, digest.digest())
    known = db.scalar(
        select(HeartRateImport.id).where(
            HeartRateImport.person_id == signed_in.person.id,
            HeartRateImport.file_hash == file_hash,
        )
    )
    try:
        # A CSV written without offsets is in the person's own local time.
        zone = localtime.zone(signed_in.person.time_zone)
        reading = read_heart_rate(upload, now=now, zone=zone)
    except UnknownFormat as error:
        raise Problem("unknown_format", error.message, 422) from None
    except ArchiveTooLarge as error:
        raise Problem("archive_too_large", error.message, 422) from None
    except InvalidEntry as error:
        raise Problem("invalid_file", str(error), 422) from None
    if known is not None:
        for _ in reading:  # read through only to report, nothing is stored
            pass
        return Imported(reading.report, 0, already_imported=True)
    parts = _Parts(db, signed_in, digest.digest(), file_hash)
    times, rates = array("I"), array("B")
    for sample in reading:
        times.append(int(sample.at.timestamp()))
        rates.append(sample.bpm)
        if len(times) == PART_SAMPLES:
            parts.store(times, rates, [])
            times, rates = array("I"), array("B")
    # The last part keeps the calm readings (read once the file is read through).
    parts.store(times, rates, list(reading.calm()) if reading.calm_count else [])
    new_span = (_instant(parts.first), _instant(parts.last)) if parts.last else None
    return Imported(reading.report, parts.duplicates, already_imported=False, new_span=new_span)


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def add_reading(db: Session, *, signed_in: SignedIn, at: datetime, bpm: int, now: datetime) -> None:
    """A single reading entered by hand, checked like an imported one."""
    if at > now:
        raise Problem("in_future", "A reading cannot be dated in the future.", 422)
    try:
        Sample(at, bpm)
    except InvalidEntry as error:
        raise Problem("invalid_entry", str(error), 422) from None
    seconds = int(at.timestamp())
    # Only the imports whose sealed span covers this second are opened.
    for stored in _overlapping_seconds(db, signed_in.person, signed_in.data_key, seconds, seconds):
        if np.any(_stored_seconds(db, stored, signed_in.data_key) == seconds):
            raise Problem("duplicate", "A reading at that moment is already stored.", 409)
    row = HeartRateImport(
        person_id=signed_in.person.id,
        file_hash=_file_hash(signed_in.data_key, f"reading:{seconds}".encode()),
        sealed=b"",
    )
    db.add(row)
    db.flush()
    row.sealed = keys.seal(
        signed_in.data_key, zlib.compress(_PACK.pack(seconds, bpm)), _context(row)
    )
    seal_span(row, signed_in.data_key, seconds, seconds)
    db.flush()


def calm_baseline(db: Session, person: Person, data_key: bytes, before: datetime) -> int | None:
    """This person's calm resting heart rate from the 30 days before ``before``, or
    None while there is too little: the watch's own resting heart rate when it gave
    one, else readings taken sitting still, else all waking samples (the rule is
    :func:`~reconnect.domain.heart.baseline_and_flooding.calm_baseline`). Night hours
    are the person's own night (their time zone), not UTC's: for someone in UTC-8,
    UTC's night is their afternoon, and their sleep would otherwise count as calm
    waking rest."""
    start = before - BASELINE_LOOKBACK
    rows = _overlapping(db, person, data_key, start, before)
    history = [s for row in rows for s in _unpack_row(row, data_key) if start <= s.at <= before]
    calm = [
        c for row in rows for c in _unpack_calm(row, data_key) if start <= c.sample.at <= before
    ]
    found = baselines.calm_baseline(
        history,
        device_resting=[c.sample for c in calm if c.kind is CalmKind.DEVICE_RESTING],
        still=[c.sample for c in calm if c.kind is CalmKind.STILL],
        zone=localtime.zone(person.time_zone),
    )
    return found.bpm if found else None


def samples_between(
    db: Session, person: Person, data_key: bytes, start: datetime, end: datetime
) -> list[Sample]:
    return [
        sample
        for row in _overlapping(db, person, data_key, start, end)
        for sample in _unpack_row(row, data_key)
        if start <= sample.at <= end
    ]


def _overlapping(
    db: Session, person: Person, data_key: bytes, start: datetime, end: datetime
) -> list[HeartRateImport]:
    """This person's imports whose span overlaps [start, end]. The spans are sealed:
    each is opened (a few bytes) to find them."""
    return _overlapping_seconds(
        db, person, data_key, int(start.timestamp()), int(end.timestamp()) + 1
    )


def _overlapping_seconds(
    db: Session, person: Person, data_key: bytes, first: int, last: int
) -> list[HeartRateImport]:
    """This person's imports whose span overlaps [first, last] (epoch seconds). The
    samples themselves are not read here: a row loads them when they are asked for."""
    rows = db.scalars(
        select(HeartRateImport)
        .where(HeartRateImport.person_id == person.id)
        .options(defer(HeartRateImport.sealed), defer(HeartRateImport.calm_sealed))
    )
    return [row for row in rows if _overlaps(span(row, data_key), first, last)]


def _unpack_row(row: HeartRateImport, data_key: bytes) -> Iterator[Sample]:
    return _unpack(keys.unseal(data_key, row.sealed, _context(row)))


def _overlaps(covered: tuple[int, int], first: int, last: int) -> bool:
    return covered[0] <= last and covered[1] >= first


def flooding_began(
    db: Session, person: Person, data_key: bytes, start: datetime, end: datetime
) -> datetime | None:
    """When this person's heart rate began to show flooding while a practice went on,
    from when it started to when it ended (not from when it was logged, which comes
    after), or None."""
    during = samples_between(db, person, data_key, start, end)
    if not during:
        return None
    # The calm baseline on the person's own clock (their night, not UTC's).
    return flooding(during, calm_baseline(db, person, data_key, start))


def flooded_during(
    db: Session, person: Person, data_key: bytes, start: datetime, end: datetime
) -> bool:
    """Whether :func:`flooding_began` finds flooding in the window."""
    return flooding_began(db, person, data_key, start, end) is not None


__all__ = [
    "Imported",
    "SkipReason",
    "add_reading",
    "calm_baseline",
    "flooded_during",
    "flooding_began",
    "import_file",
]
