"""Importing an export file: detect its format, read it, check every reading.

:func:`read_heart_rate` returns a :class:`HeartRateImport`; iterating it yields the
samples, already checked (impossible, future, repeated and unreadable readings are
counted instead), and its ``report`` says what was left out and why. A bad row never
stops an import; a file that breaks part way gives the samples read before the break
and a plain sentence saying what happened. See docs/heart-rate.md for the fields.

Nothing here touches a database or the web: it takes a binary file object and
returns values.
"""

from __future__ import annotations

import io
import math
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo
from typing import IO, TYPE_CHECKING

from reconnect.domain.heart.exports.apple_cda import cda_readings
from reconnect.domain.heart.exports.apple_health import xml_readings, zip_readings
from reconnect.domain.heart.exports.csv_files import (
    APPLE_HEALTH_LAYOUT,
    FITABASE_LAYOUT,
    FITBIT_LAYOUT,
    GENERIC_LAYOUT,
    csv_readings,
)
from reconnect.domain.heart.exports.fit_files import fit_readings
from reconnect.domain.heart.exports.formats import DETECT_BYTES, Format, detect_format
from reconnect.domain.heart.exports.json_files import (
    fhir_readings,
    fitbit_readings,
    open_mhealth_readings,
)
from reconnect.domain.heart.exports.reading import (
    CHUNK_BYTES,
    AnyReading,
    BinaryReader,
    BrokenFile,
    Reading,
    read_up_to,
)
from reconnect.domain.heart.exports.report import ImportReport, SkipReason
from reconnect.domain.heart.exports.tcx import tcx_readings
from reconnect.domain.heart.samples import (
    MAX_BPM,
    MIN_BPM,
    CalmKind,
    CalmReading,
    CalmSample,
    Sample,
)
from reconnect.domain.validation import check_aware

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["DUPLICATE_MEMORY", "HeartRateImport", "read_heart_rate"]

# Duplicates are found among this many most recent distinct sample times. Holding
# every time ever seen would grow with the file; exports write a repeated reading
# next to the original, and the store's own uniqueness check catches the rest.
DUPLICATE_MEMORY = 50_000


# The readers, by format. One that needs the whole file (a zip archive keeps its table
# of contents at the end) is handed the source; the others read the file's bytes as a
# stream, the bytes read for detection included.
_WHOLE_FILE_READERS: dict[Format, Callable[[BinaryReader], Iterator[AnyReading]]] = {
    Format.APPLE_HEALTH_ZIP: zip_readings,
}
_STREAM_READERS: dict[Format, Callable[[IO[bytes], tzinfo], Iterator[AnyReading]]] = {
    Format.APPLE_HEALTH_XML: lambda stream, zone: xml_readings(stream),
    Format.FITBIT_CSV: lambda stream, zone: csv_readings(stream, FITBIT_LAYOUT),
    Format.GENERIC_CSV: lambda stream, zone: csv_readings(stream, GENERIC_LAYOUT),
    Format.FITABASE_CSV: lambda stream, zone: csv_readings(stream, FITABASE_LAYOUT),
    Format.APPLE_HEALTH_CSV: lambda stream, zone: csv_readings(stream, APPLE_HEALTH_LAYOUT),
    Format.FITBIT_JSON: lambda stream, zone: fitbit_readings(stream),
    Format.FHIR_JSON: lambda stream, zone: fhir_readings(stream),
    Format.OPEN_MHEALTH_JSON: lambda stream, zone: open_mhealth_readings(stream),
    Format.TCX: lambda stream, zone: tcx_readings(stream),
    Format.APPLE_HEALTH_CDA: lambda stream, zone: cda_readings(stream),
    Format.FIT: lambda stream, zone: fit_readings(stream),
}


def read_heart_rate(
    source: BinaryReader,
    *,
    now: datetime,
    zone: tzinfo = UTC,
    format: Format | None = None,
) -> HeartRateImport:
    """Start importing the export in ``source`` (a binary file object).

    The format is detected from the file's first bytes unless ``format`` is given;
    an unrecognised file raises
    :class:`~reconnect.domain.heart.exports.reading.UnknownFormat` here, before
    anything is read. Samples come out as the returned object is iterated; its
    ``report`` is final once iteration ends. ``now`` (aware) marks the future: later samples are
    skipped. ``zone`` is the person's own: a time written without an offset (a reader
    yields it naive) is read in it, and the report's days are its days.

    An Apple ``export.zip`` needs a seekable ``source`` (zip keeps its table of
    contents at the end); an uploaded or opened file is.
    """
    check_aware("now", "The current time", now)
    prefix = read_up_to(source, DETECT_BYTES)
    kind = format or detect_format(prefix)
    if kind in _WHOLE_FILE_READERS:
        readings = _WHOLE_FILE_READERS[kind](source)
    else:
        stream = io.BufferedReader(_Rejoined(prefix, source), buffer_size=CHUNK_BYTES)
        readings = _STREAM_READERS[kind](stream, zone)
    return HeartRateImport(kind, readings, now, zone)


class HeartRateImport:
    """An import in progress: iterate it once for the samples, then read ``report``.

    Samples are yielded in file order, already checked: a reading that is
    impossible, in the future, a repeat, or unreadable is counted instead.
    """

    def __init__(
        self, kind: Format, readings: Iterator[AnyReading], now: datetime, zone: tzinfo = UTC
    ) -> None:
        self.format = kind
        self._readings = readings
        self._now = now
        self._zone = zone
        self._local_times = 0
        self._counts = dict.fromkeys(SkipReason, 0)
        self._imported = 0
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._problem: str | None = None
        self._recent: set[int] = set()
        self._recent_order: deque[int] = deque()
        self._started = False
        # The watch's calm readings, kept compactly (still readings can be most of a file).
        self._calm_times, self._calm_rates, self._calm_kinds = array("I"), array("B"), array("B")

    def __iter__(self) -> Iterator[Sample]:
        if self._started:
            raise RuntimeError("An import can be read once.")
        self._started = True
        return self._samples()

    @property
    def report(self) -> ImportReport:
        """The counts so far; final once iteration has ended."""
        return ImportReport(
            format=self.format,
            imported=self._imported,
            skipped=dict(self._counts),
            first_at=self._first,
            last_at=self._last,
            problem=self._problem,
            zone=self._zone,
            local_times=self._local_times,
        )

    @property
    def calm_count(self) -> int:
        """How many calm readings were kept (final once iteration has ended)."""
        return len(self._calm_times)

    def calm(self) -> Iterator[CalmSample]:
        """The watch's calm readings, checked like samples: its daily resting heart rate
        (not a sample) and samples it marked as taken sitting still (also samples)."""
        for seconds, rate, kind in zip(
            self._calm_times, self._calm_rates, self._calm_kinds, strict=True
        ):
            yield CalmSample(Sample(datetime.fromtimestamp(seconds, UTC), rate), CalmKind(kind))

    def _keep_calm(self, reading: CalmReading) -> None:
        at = (
            reading.at
            if reading.at.utcoffset() is not None
            else reading.at.replace(tzinfo=self._zone)
        )
        if MIN_BPM <= reading.rate <= MAX_BPM and at.timestamp() >= 0 and at <= self._now:
            self._calm_times.append(int(at.timestamp()))
            self._calm_rates.append(math.floor(reading.rate + 0.5))
            self._calm_kinds.append(reading.kind.value)

    def _samples(self) -> Iterator[Sample]:
        try:
            for reading in self._readings:
                if isinstance(reading, CalmReading):
                    self._keep_calm(reading)
                    continue
                sample = self._admit(reading)
                if sample is not None:
                    yield sample
        except BrokenFile as broken:
            self._problem = broken.message

    def _admit(self, reading: Reading) -> Sample | None:
        if reading is None:
            self._counts[SkipReason.UNREADABLE] += 1
            return None
        at, rate = reading
        if at.utcoffset() is None:  # written without an offset: the person's own clock
            at = at.replace(tzinfo=self._zone)
            self._local_times += 1
        key = round(at.timestamp() * 1000)
        # NaN fails the first test too; a time before 1970 is not a real reading.
        if not MIN_BPM <= rate <= MAX_BPM or at.timestamp() < 0:
            reason = SkipReason.IMPOSSIBLE
        elif at > self._now:
            reason = SkipReason.IN_FUTURE
        elif key in self._recent:
            reason = SkipReason.DUPLICATE
        else:
            self._remember(key)
            self._imported += 1
            if self._first is None or at < self._first:
                self._first = at
            if self._last is None or at > self._last:
                self._last = at
            return Sample(at, math.floor(rate + 0.5))  # halves round up, as people expect
        self._counts[reason] += 1
        return None

    def _remember(self, key: int) -> None:
        self._recent.add(key)
        self._recent_order.append(key)
        if len(self._recent_order) > DUPLICATE_MEMORY:
            self._recent.discard(self._recent_order.popleft())


class _Rejoined(io.RawIOBase):
    """The bytes already read for detection, followed by the rest of the source."""

    def __init__(self, prefix: bytes, rest: BinaryReader) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        target = memoryview(buffer).cast("B")
        if self._prefix:
            n = min(len(target), len(self._prefix))
            target[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(target))
        target[: len(data)] = data
        return len(data)
