"""CSV exports: the layouts of heart-rate CSV we recognise by their first line, and their reader.

- a Fitbit account's heart-rate CSV from Google Takeout (``timestamp,beats per minute``);
- a plain ``timestamp,bpm`` CSV, for any other device or a spreadsheet;
- Fitabase's ``heartrate_seconds_merged.csv`` (``Id,Time,Value``, US 12-hour local times);
- the CSV that Apple-Health-export converter apps write (``startDate`` and ``value``, often
  with a ``type`` column naming each row's kind of record).

Each may be separated by commas or, as European spreadsheets save it, by semicolons; with
semicolons a decimal comma (``71,5``) is read as a decimal point. The first line names the
columns; rows are read one line at a time, each line at most 64 KiB. A time written
without an offset is yielded naive: the importer reads it in the person's zone.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from reconnect.domain.heart.exports.reading import BrokenFile, Reading

__all__ = [
    "APPLE_HEALTH_LAYOUT",
    "FITABASE_LAYOUT",
    "FITBIT_LAYOUT",
    "GENERIC_LAYOUT",
    "LAYOUTS",
    "CsvLayout",
    "csv_layout",
    "csv_readings",
    "header_columns",
]

# A CSV line longer than this is not a heart-rate row; reading it whole could
# take unbounded memory.
_MAX_LINE = 64 * 1024

# The separators tried, in this order: a header that reads as a layout with commas is a
# comma CSV, whatever else it holds.
_DELIMITERS = (",", ";")

# What an Apple-converter CSV's type column says on a heart-rate row: Apple's own name,
# or the short name some converters strip it to. Other kinds of record are passed over.
_APPLE_HEART_RATE = frozenset({"HKQuantityTypeIdentifierHeartRate", "HeartRate"})
_APPLE_UNIT = "count/min"

# Fitabase writes local times the US way: month/day/year and a 12-hour clock.
_US_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) ?([AaPp])[Mm]")


def iso_time(text: str) -> datetime | None:
    """An ISO 8601 time (``T`` or a space, offset with or without a colon), or None."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def us_time(text: str) -> datetime | None:
    """A US 12-hour time such as ``4/12/2016 7:21:00 AM`` (always naive), or None."""
    match = _US_TIME.fullmatch(text.strip())
    if match is None:
        return None
    month, day, year, hour, minute, second = (int(part) for part in match.groups()[:6])
    if not 1 <= hour <= 12:
        return None
    hour = hour % 12 + (12 if match[7] in "Pp" else 0)
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


@dataclass(frozen=True)
class CsvLayout:
    """One layout of heart-rate CSV: the columns its first line names, and how to read them.

    ``time`` and ``rate`` (and every name in ``also``) must be on the first line, in any
    order and any case. ``kind``, when the file has that column, names each row's kind
    of record: only heart-rate rows count, the others are passed over without a word.
    ``unit``, when the file has it and a row fills it, must say beats per minute.
    """

    time: str
    rate: str
    read_time: Callable[[str], datetime | None]
    also: tuple[str, ...] = ()
    kind: str | None = None
    unit: str | None = None

    def fits(self, columns: list[str]) -> bool:
        return all(name in columns for name in (self.time, self.rate, *self.also))


FITBIT_LAYOUT = CsvLayout("timestamp", "beats per minute", iso_time)
GENERIC_LAYOUT = CsvLayout("timestamp", "bpm", iso_time)
FITABASE_LAYOUT = CsvLayout("time", "value", us_time, also=("id",))
APPLE_HEALTH_LAYOUT = CsvLayout("startdate", "value", iso_time, kind="type", unit="unit")

# In the order detection tries them.
LAYOUTS = (FITBIT_LAYOUT, GENERIC_LAYOUT, FITABASE_LAYOUT, APPLE_HEALTH_LAYOUT)


# Other names people give the bpm column (spreadsheets, other apps' CSV files).
_BPM_NAMES = frozenset({"heart_rate", "heart rate", "heartrate", "hr"})


def header_columns(line: str, delimiter: str = ",") -> list[str]:
    """The column names on a CSV file's first line, lower-cased; another name for the
    bpm column (``heart_rate``, ``heart rate``, ``heartrate``, ``hr``) reads as ``bpm``."""
    try:
        row = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
    except csv.Error:
        return []
    names = [cell.strip().lower() for cell in row]
    return ["bpm" if name in _BPM_NAMES and "bpm" not in names else name for name in names]


def csv_layout(line: str) -> tuple[CsvLayout, str] | None:
    """The layout a CSV's first ``line`` names and its separator, or None."""
    for delimiter in _DELIMITERS:
        columns = header_columns(line, delimiter)
        for layout in LAYOUTS:
            if layout.fits(columns):
                return layout, delimiter
    return None


@dataclass(frozen=True)
class _Columns:
    """Where one file keeps what ``_row_reading`` needs, and how its numbers are written."""

    layout: CsvLayout
    time: int
    rate: int
    kind: int | None
    unit: int | None
    width: int
    delimiter: str

    @classmethod
    def find(cls, layout: CsvLayout, line: str) -> _Columns | None:
        for delimiter in _DELIMITERS:
            columns = header_columns(line, delimiter)
            if layout.fits(columns):
                kind = _position(columns, layout.kind)
                unit = _position(columns, layout.unit)
                time, rate = columns.index(layout.time), columns.index(layout.rate)
                return cls(
                    layout=layout,
                    time=time,
                    rate=rate,
                    kind=kind,
                    unit=unit,
                    width=max(p for p in (time, rate, kind, unit) if p is not None) + 1,
                    delimiter=delimiter,
                )
        return None

    @property
    def decimal_comma(self) -> bool:
        """Where semicolons part the columns, a comma in a number is its decimal point."""
        return self.delimiter == ";"


def _position(columns: list[str], name: str | None) -> int | None:
    return columns.index(name) if name is not None and name in columns else None


def csv_readings(stream: IO[bytes], layout: CsvLayout) -> Iterator[Reading]:
    """A reading per row of a CSV in ``layout``; rows of another kind of record yield nothing."""
    lines = _Lines(stream)
    columns = _Columns.find(layout, next(lines, ""))
    if columns is None:
        names = " and ".join((layout.time, layout.rate, *layout.also))
        raise BrokenFile(
            f"The first line should name the columns {names}; it does not, so nothing was read."
        )
    rows = csv.reader(lines, delimiter=columns.delimiter, skipinitialspace=True)
    while True:
        try:
            row = next(rows, None)
        except csv.Error:
            raise BrokenFile(
                f"Line {lines.number:,} of the file is damaged, so reading stopped there; "
                "the samples before it were imported."
            ) from None
        if row is None:
            return
        if not row or row == [""] or _other_kind(row, columns):
            continue
        reading = _row_reading(row, columns)
        if reading is None and lines.ended_mid_line:
            raise BrokenFile(
                "The file ends part way through a row, as if it was cut short; "
                "the rows before it were imported."
            )
        yield reading


def _other_kind(row: list[str], columns: _Columns) -> bool:
    """Whether the row names a kind of record other than heart rate (so is not ours)."""
    if columns.kind is None or len(row) <= columns.kind:
        return False
    return row[columns.kind].strip() not in _APPLE_HEART_RATE


def _row_reading(row: list[str], columns: _Columns) -> Reading:
    if len(row) < columns.width:
        return None
    if columns.unit is not None and row[columns.unit].strip() not in ("", _APPLE_UNIT):
        return None
    at = columns.layout.read_time(row[columns.time])
    cell = row[columns.rate].strip()
    if columns.decimal_comma:
        cell = cell.replace(",", ".")
    try:
        rate = float(cell)
    except ValueError:
        return None
    if at is None or math.isnan(rate):
        return None
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
            raise BrokenFile(
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
                raise BrokenFile(
                    f"Line {self.number:,} is far too long for a heart-rate row, so reading "
                    "stopped there; the rows before it were imported."
                )
            self.ended_mid_line = True
        return line.decode("utf-8", errors="replace")
