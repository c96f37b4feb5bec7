"""Heart-rate samples from a wearable's export, a calm baseline, and flooding.

Three export formats are read, each streamed so that memory stays flat whatever
the file's size (a 1 GB Apple Health export is read a chunk at a time):

- Apple Health ``export.xml``, or Apple's ``export.zip`` holding it;
- the heart-rate CSV files of a Fitbit account in Google Takeout;
- a plain ``timestamp,bpm`` CSV.

A bad row never stops an import: it is skipped and counted by reason. A file that
breaks part way (cut off, damaged) gives the samples read before the break and a
plain sentence saying what happened. See docs/heart-rate.md for the exact fields.

Nothing here touches a database or the web: functions take binary file objects
or iterables of :class:`Sample` and return values.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import zipfile
import zlib
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import Enum
from typing import IO, TYPE_CHECKING, Protocol, cast
from xml.parsers import expat

from reconnect.domain.validation import InvalidEntry, check_aware, check_scale

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "BASELINE_MIN_HOURS",
    "DETECT_BYTES",
    "DUPLICATE_MEMORY",
    "MAX_BPM",
    "MAX_UNZIPPED_BYTES",
    "MAX_ZIP_RATIO",
    "MIN_BPM",
    "ArchiveTooLarge",
    "FloodingPolicy",
    "Format",
    "HeartRateImport",
    "ImportReport",
    "Sample",
    "SkipReason",
    "UnknownFormat",
    "detect_format",
    "flooding",
    "read_heart_rate",
    "resting_baseline",
]

MIN_BPM = 25
MAX_BPM = 250

# How much of a file detect_format needs: Apple's export opens with a DTD of a few
# kilobytes before the first element.
DETECT_BYTES = 64 * 1024

# Duplicates are found among this many most recent distinct sample times. Holding
# every time ever seen would grow with the file; exports write a repeated reading
# next to the original, and the store's own uniqueness check catches the rest.
DUPLICATE_MEMORY = 50_000

_CHUNK = 256 * 1024
# A CSV line longer than this is not a heart-rate row; reading it whole could
# take unbounded memory.
_MAX_LINE = 64 * 1024

# An Apple export.zip is read only this far unzipped, and only if it unzips to at most
# this many times its zipped size: a real export.xml (text, repeated) zips to 1/10 to
# 1/30 of its size; a "zip bomb" of 47 MB unzipped to 10 GiB, 20 s of work.
MAX_UNZIPPED_BYTES = 4 * 1024**3
MAX_ZIP_RATIO = 100

_APPLE_HEART_RATE = "HKQuantityTypeIdentifierHeartRate"
_APPLE_UNIT = "count/min"
_APPLE_MEMBER_ENDING = "export.xml"

_GENERIC_COLUMNS = ("timestamp", "bpm")
_FITBIT_COLUMNS = ("timestamp", "beats per minute")


class BinaryReader(Protocol):
    """Anything with ``read(size) -> bytes``: an open file, an upload, a zip member."""

    def read(self, size: int = -1, /) -> bytes: ...


class Format(Enum):
    """The export formats :func:`read_heart_rate` understands."""

    APPLE_HEALTH_XML = "apple_health_xml"
    APPLE_HEALTH_ZIP = "apple_health_zip"
    FITBIT_CSV = "fitbit_csv"
    GENERIC_CSV = "generic_csv"


class UnknownFormat(InvalidEntry):
    """The file is none of the formats we read; ``message`` says what it looked like."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message)


class ArchiveTooLarge(InvalidEntry):
    """A zip archive that would unzip beyond what any heart-rate export needs."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message)
        self.message = message


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


@dataclass(frozen=True)
class ImportReport:
    """What one import read, what it left out and why, and whether it finished.

    ``skipped`` holds a count for every :class:`SkipReason` (zero included).
    ``first_at`` and ``last_at`` are the earliest and latest imported sample.
    ``problem`` is ``None`` when the whole file was read; otherwise it is a
    sentence saying where the file broke (the samples before the break count).
    """

    format: Format
    imported: int
    skipped: dict[SkipReason, int]
    first_at: datetime | None
    last_at: datetime | None
    problem: str | None = None

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
            first, last = _day(self.first_at), _day(self.last_at)
            span = f"on {first}" if first == last else f"from {first} to {last}"
            sentence = f"Imported {_samples(self.imported)} {span}."
        else:
            sentence = "No heart-rate samples were imported."
        reasons = [reason.describe(n) for reason, n in self.skipped.items() if n]
        if reasons:
            sentence += f" Left out {self.skipped_total:,}: {', '.join(reasons)}."
        if self.problem:
            sentence += f" {self.problem}"
        return sentence


def _samples(count: int) -> str:
    return f"{count:,} heart-rate sample{'' if count == 1 else 's'}"


def _day(when: datetime) -> str:
    return f"{when.day} {when:%B %Y}"


class _Broken(Exception):
    """The file cannot be read past this point; ``message`` says why, calmly."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# A reading as a parser found it: a time and a rate, or None for a row it could not read.
_Reading = tuple[datetime, float] | None


def detect_format(first_bytes: bytes) -> Format:
    """Say which parser applies to a file that starts with ``first_bytes``.

    Pass at least :data:`DETECT_BYTES` bytes (or the whole file, if shorter).
    Raises :class:`UnknownFormat` with a sentence a person can act on.
    """
    if first_bytes.startswith(b"PK\x03\x04"):
        return Format.APPLE_HEALTH_ZIP
    head = first_bytes.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head:
        raise UnknownFormat("The file is empty.")
    if head.startswith(b"<"):
        if b"<!DOCTYPE HealthData" in head or b"<HealthData" in head:
            return Format.APPLE_HEALTH_XML
        raise UnknownFormat(
            "This looks like an XML file, but not an Apple Health export "
            "(we look for export.xml from the Health app)."
        )
    try:
        first_line = head.split(b"\n", 1)[0].decode("utf-8").strip()
    except UnicodeDecodeError:
        raise UnknownFormat(
            "We could not read this file as text. Upload an Apple Health export, "
            "a Fitbit heart-rate CSV, or a CSV with timestamp and bpm columns."
        ) from None
    columns = _header(first_line)
    if _columns_at(columns, _FITBIT_COLUMNS) is not None:
        return Format.FITBIT_CSV
    if _columns_at(columns, _GENERIC_COLUMNS) is not None:
        return Format.GENERIC_CSV
    shown = ", ".join(c for c in columns if c)[:120] or "nothing we recognise"
    raise UnknownFormat(
        "We could not tell what kind of file this is. A CSV needs a first line naming "
        f"the columns timestamp and bpm (or timestamp and beats per minute); this one has: {shown}."
    )


def _header(line: str) -> list[str]:
    try:
        row = next(csv.reader([line], skipinitialspace=True), [])
    except csv.Error:
        return []
    return [cell.strip().lower() for cell in row]


def _columns_at(columns: list[str], wanted: tuple[str, str]) -> tuple[int, int] | None:
    if all(name in columns for name in wanted):
        return columns.index(wanted[0]), columns.index(wanted[1])
    return None


def read_heart_rate(
    source: BinaryReader,
    *,
    now: datetime,
    zone: tzinfo = UTC,
    format: Format | None = None,
) -> HeartRateImport:
    """Start importing the export in ``source`` (a binary file object).

    The format is detected from the file's first bytes unless ``format`` is given;
    an unrecognised file raises :class:`UnknownFormat` here, before anything is
    read. Samples come out as the returned object is iterated; its ``report`` is
    final once iteration ends. ``now`` (aware) marks the future: later samples are
    skipped. ``zone`` is used for CSV timestamps written without an offset.

    An Apple ``export.zip`` needs a seekable ``source`` (zip keeps its table of
    contents at the end); an uploaded or opened file is.
    """
    check_aware("now", "The current time", now)
    prefix = _read_up_to(source, DETECT_BYTES)
    kind = format or detect_format(prefix)
    if kind is Format.APPLE_HEALTH_ZIP:
        readings: Iterator[_Reading] = _zip_readings(source)
    else:
        stream = io.BufferedReader(_Rejoined(prefix, source), buffer_size=_CHUNK)
        if kind is Format.APPLE_HEALTH_XML:
            readings = _apple_readings(stream)
        else:
            wanted = _FITBIT_COLUMNS if kind is Format.FITBIT_CSV else _GENERIC_COLUMNS
            readings = _csv_readings(stream, wanted, zone)
    return HeartRateImport(kind, readings, now)


class HeartRateImport:
    """An import in progress: iterate it once for the samples, then read ``report``.

    Samples are yielded in file order, already checked: a reading that is
    impossible, in the future, a repeat, or unreadable is counted instead.
    """

    def __init__(self, kind: Format, readings: Iterator[_Reading], now: datetime) -> None:
        self.format = kind
        self._readings = readings
        self._now = now
        self._counts = dict.fromkeys(SkipReason, 0)
        self._imported = 0
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._problem: str | None = None
        self._recent: set[int] = set()
        self._recent_order: deque[int] = deque()
        self._started = False

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
        )

    def _samples(self) -> Iterator[Sample]:
        try:
            for reading in self._readings:
                sample = self._admit(reading)
                if sample is not None:
                    yield sample
        except _Broken as broken:
            self._problem = broken.message

    def _admit(self, reading: _Reading) -> Sample | None:
        if reading is None:
            self._counts[SkipReason.UNREADABLE] += 1
            return None
        at, rate = reading
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


def _read_up_to(source: BinaryReader, size: int) -> bytes:
    """Up to ``size`` bytes: a stream may hand back less than asked before its end."""
    parts: list[bytes] = []
    wanted = size
    while wanted > 0:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


# ---------------------------------------------------------------- Apple Health


def _zip_readings(source: BinaryReader) -> Iterator[_Reading]:
    seek = getattr(source, "seek", None)
    seekable = getattr(source, "seekable", None)
    if seek is None or (seekable is not None and not seekable()):
        raise UnknownFormat(
            "This zip archive has to be uploaded as a whole file; it could not be read."
        )
    seek(0)
    try:
        archive = zipfile.ZipFile(cast(IO[bytes], source))
        name = _export_member(archive)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise UnknownFormat(
            "This zip archive is damaged or incomplete, so nothing in it could be read. "
            "Exporting again from the Health app usually helps."
        ) from None
    if name is None:
        raise UnknownFormat(
            "This zip archive has no export.xml inside (Apple Health keeps it in "
            "apple_health_export/export.xml), so it does not look like an Apple Health "
            f"export; it holds: {_member_names(archive)}."
        )
    _check_unzipped_size(archive.getinfo(name))
    return _zip_member_readings(archive, name)


def _check_unzipped_size(member: zipfile.ZipInfo) -> None:
    """Refuse a member that would unzip too far, before unzipping any of it.

    The sizes are the archive's own claims; zipfile never hands out more than the
    claimed size (past it, the checksum fails and reading stops). Other methods than
    deflate are refused: Python's bzip2 and lzma readers can unzip a whole block at once.
    """
    name = member.filename.rsplit("/", 1)[-1]
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnknownFormat(
            f"The {name} in this zip archive is compressed in a way the Health app does "
            "not use, so it was not read. Exporting again from the Health app usually helps."
        )
    if member.file_size > MAX_UNZIPPED_BYTES:
        raise ArchiveTooLarge(
            f"The {name} in this zip archive says it is {member.file_size / 1024**3:.1f} GiB, "
            f"larger than the {MAX_UNZIPPED_BYTES // 1024**3} GiB we read, so nothing was "
            "imported. Upload the export.xml itself, or a shorter export."
        )
    if member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1):
        raise ArchiveTooLarge(
            f"The {name} in this zip archive unzips to far more than a real export does "
            f"(over {MAX_ZIP_RATIO} times its zipped size), so it was not read. "
            "Exporting again from the Health app usually helps."
        )


def _export_member(archive: zipfile.ZipFile) -> str | None:
    """The member holding the export: any name ending in export.xml, in any case and
    any folder (the folder is named in the phone's language). A file named exactly
    export.xml comes first, then the shortest path; macOS's ``__MACOSX`` and ``._``
    copies are resource forks, not exports."""
    candidates = [
        name
        for name in archive.namelist()
        if name.lower().endswith(_APPLE_MEMBER_ENDING)
        and not name.startswith("__MACOSX/")
        and not name.rsplit("/", 1)[-1].startswith("._")
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda name: (name.rsplit("/", 1)[-1].lower() != _APPLE_MEMBER_ENDING, len(name)),
    )


def _member_names(archive: zipfile.ZipFile) -> str:
    names = [name for name in archive.namelist() if not name.endswith("/")]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5:,} more" if len(names) > 5 else "")
    return shown[:300] or "nothing"


def _zip_member_readings(archive: zipfile.ZipFile, name: str) -> Iterator[_Reading]:
    with archive, archive.open(name) as member:
        yield from _apple_readings(member)


_ENTITIES_REFUSED = (
    "This file declares XML entities, which an Apple Health export never does, so it was not read."
)


def _apple_readings(stream: BinaryReader) -> Iterator[_Reading]:
    """Heart-rate records of an Apple Health export.xml, read with expat.

    expat is driven directly rather than through ElementTree: no tree is built,
    so memory stays flat without clearing elements, and it is faster. Entity
    declarations are refused outright, which rules out "billion laughs" expansion
    (Apple's export has a DTD, so a DOCTYPE alone cannot be refused); expat never
    fetches external entities or DTDs.
    """
    found: list[_Reading] = []
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse_entities(*_: object) -> None:
        raise _Broken(_ENTITIES_REFUSED)

    def record(name: str, attributes: dict[str, str]) -> None:
        if name == "Record" and attributes.get("type") == _APPLE_HEART_RATE:
            found.append(_apple_reading(attributes))

    parser.EntityDeclHandler = refuse_entities
    parser.StartElementHandler = record
    for chunk in _tolerant_chunks(stream):
        failure: expat.ExpatError | None = None
        try:
            parser.Parse(chunk, not chunk)
        except expat.ExpatError as error:
            failure = error
        yield from found
        found.clear()
        if failure is not None:
            raise _Broken(_xml_break(failure, at_end=not chunk))
        if not chunk:
            return


# XML 1.0 allows no control characters but tab, line feed and carriage return, yet
# real exports hold some (a vertical tab in a device name). None of these bytes can be
# part of a longer UTF-8 character, so they are removed from the raw bytes.
_XML_FORBIDDEN = bytes(c for c in range(32) if c not in (0x09, 0x0A, 0x0D))
# The DTD sits at the top of the file; it is looked for this far, no further.
_HEADER_LIMIT = 1024 * 1024


def _tolerant_chunks(stream: BinaryReader) -> Iterator[bytes]:
    """The export's bytes a chunk at a time, made readable, ending with ``b""``.

    Control characters are dropped everywhere. The header is held back (at most
    :data:`_HEADER_LIMIT` bytes) until the root element starts, so that the DTD can be
    repaired by :func:`_repair_header`; after that, chunks pass straight through.
    """
    chunks = iter(lambda: _read(stream).translate(None, _XML_FORBIDDEN), b"")
    head = b""
    for chunk in chunks:
        head += chunk
        if b"<HealthData" in head or len(head) >= _HEADER_LIMIT:
            break
    if head:
        yield _repair_header(head)
    yield from chunks
    yield b""


def _repair_header(head: bytes) -> bytes:
    """The header with the DTD's internal subset emptied, unless it declares entities.

    iOS 16 (Export Version 12) writes a DTD that is not well-formed: a declaration
    left open and stray lines before ``]>``. The subset only describes the elements;
    nothing here reads it, so it is replaced by as many line breaks (line numbers in
    messages stay true). A subset declaring entities is refused here, whole: no entity
    is ever declared to the parser, let alone expanded.
    """
    doctype = head.find(b"<!DOCTYPE")
    root = head.find(b"<HealthData")
    end = root if root >= 0 else len(head)
    opening = head.find(b"[", doctype, end)
    closing = head.rfind(b"]>", 0, end)
    if doctype < 0 or opening < 0 or closing < opening:
        return head
    subset = head[opening + 1 : closing]
    if b"<!ENTITY" in subset:
        raise _Broken(_ENTITIES_REFUSED)
    return head[: opening + 1] + b"\n" * subset.count(b"\n") + head[closing:]


def _apple_reading(attributes: dict[str, str]) -> _Reading:
    if attributes.get("unit", _APPLE_UNIT) != _APPLE_UNIT:
        return None
    try:
        at = datetime.fromisoformat(attributes["startDate"])
        rate = float(attributes["value"])
    except (KeyError, ValueError):
        return None
    return (at, rate) if at.utcoffset() is not None else None


def _xml_break(error: expat.ExpatError, *, at_end: bool) -> str:
    if at_end:
        return (
            f"The file stops part way (around line {error.lineno:,}), as if the export "
            "was cut short; the samples before that point were imported."
        )
    return (
        f"The file is damaged at line {error.lineno:,}, so reading stopped there; "
        "the samples before that point were imported."
    )


def _read(stream: BinaryReader) -> bytes:
    try:
        return stream.read(_CHUNK)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error):
        raise _Broken(
            "The file could not be read to the end (it may be damaged); "
            "the samples before that point were imported."
        ) from None


# ---------------------------------------------------------------- CSV


def _csv_readings(stream: IO[bytes], wanted: tuple[str, str], zone: tzinfo) -> Iterator[_Reading]:
    lines = _Lines(stream)
    rows = csv.reader(lines, skipinitialspace=True)
    try:
        header = next(rows, None)
    except csv.Error:
        header = None
    positions = _columns_at([c.strip().lower() for c in header or []], wanted)
    if positions is None:
        raise _Broken(
            f"The first line should name the columns {wanted[0]} and {wanted[1]}; "
            "it does not, so nothing was read."
        )
    when_at, rate_at = positions
    width = max(positions) + 1
    while True:
        try:
            row = next(rows, None)
        except csv.Error:
            raise _Broken(
                f"Line {lines.number:,} of the file is damaged, so reading stopped there; "
                "the samples before it were imported."
            ) from None
        if row is None:
            return
        if not row or row == [""]:
            continue
        reading = _csv_reading(row, when_at, rate_at, width, zone)
        if reading is None and lines.ended_mid_line:
            raise _Broken(
                "The file ends part way through a row, as if it was cut short; "
                "the rows before it were imported."
            )
        yield reading


def _csv_reading(row: list[str], when_at: int, rate_at: int, width: int, zone: tzinfo) -> _Reading:
    if len(row) < width:
        return None
    try:
        at = datetime.fromisoformat(row[when_at].strip())
        rate = float(row[rate_at])
    except ValueError:
        return None
    if math.isnan(rate):
        return None
    if at.utcoffset() is None:
        at = at.replace(tzinfo=zone)
    return at, rate


class _Lines:
    """Text lines of a CSV file, each at most ``_MAX_LINE`` bytes, noting a cut-off last line.

    Each line is decoded on its own, with undecodable bytes replaced: a line of
    stray bytes becomes a row we could not read rather than the end of the import.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.ended_mid_line = False
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            line = self._stream.readline(_MAX_LINE)
        except (OSError, EOFError):
            raise _Broken(
                "The file could not be read to the end (it may be damaged); "
                "the rows before that point were imported."
            ) from None
        if not line:
            raise StopIteration
        self.number += 1
        if self.number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line.endswith((b"\n", b"\r")):
            if len(line) >= _MAX_LINE:
                raise _Broken(
                    f"Line {self.number:,} is far too long for a heart-rate row, so reading "
                    "stopped there; the rows before it were imported."
                )
            self.ended_mid_line = True
        return line.decode("utf-8", errors="replace")


# ---------------------------------------------------------------- baseline


# The baseline method, described in docs/heart-rate.md.
BASELINE_MIN_HOURS = 24
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
