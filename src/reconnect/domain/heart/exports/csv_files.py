"""CSV exports: a Fitbit account's heart-rate CSV files, or a plain ``timestamp,bpm`` CSV.

The first line names the columns; rows are read one line at a time, each line at most
64 KiB.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import IO

from reconnect.domain.heart.exports.reading import BrokenFile, Reading

__all__ = ["FITBIT_COLUMNS", "GENERIC_COLUMNS", "columns_at", "csv_readings", "header_columns"]

# A CSV line longer than this is not a heart-rate row; reading it whole could
# take unbounded memory.
_MAX_LINE = 64 * 1024


GENERIC_COLUMNS = ("timestamp", "bpm")
FITBIT_COLUMNS = ("timestamp", "beats per minute")


def header_columns(line: str) -> list[str]:
    """The column names on a CSV file's first line, lower-cased."""
    try:
        row = next(csv.reader([line], skipinitialspace=True), [])
    except csv.Error:
        return []
    return [cell.strip().lower() for cell in row]


def columns_at(columns: list[str], wanted: tuple[str, str]) -> tuple[int, int] | None:
    """Where the two ``wanted`` columns are, or None when either is missing."""
    if all(name in columns for name in wanted):
        return columns.index(wanted[0]), columns.index(wanted[1])
    return None


def csv_readings(stream: IO[bytes], wanted: tuple[str, str], zone: tzinfo) -> Iterator[Reading]:
    lines = _Lines(stream)
    rows = csv.reader(lines, skipinitialspace=True)
    try:
        header = next(rows, None)
    except csv.Error:
        header = None
    positions = columns_at([c.strip().lower() for c in header or []], wanted)
    if positions is None:
        raise BrokenFile(
            f"The first line should name the columns {wanted[0]} and {wanted[1]}; "
            "it does not, so nothing was read."
        )
    when_at, rate_at = positions
    width = max(positions) + 1
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
        if not row or row == [""]:
            continue
        reading = _csv_reading(row, when_at, rate_at, width, zone)
        if reading is None and lines.ended_mid_line:
            raise BrokenFile(
                "The file ends part way through a row, as if it was cut short; "
                "the rows before it were imported."
            )
        yield reading


def _csv_reading(row: list[str], when_at: int, rate_at: int, width: int, zone: tzinfo) -> Reading:
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
