"""A large Apple Health export is read in flat memory, however big the file."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from reconnect.domain.heart.exports.formats import Format
from tests.heart.uploads import traced_import

NOW = datetime(2025, 1, 1, tzinfo=UTC)
SIZE = 50 * 1024 * 1024
PEAK_LIMIT = 30 * 1024 * 1024

HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<!DOCTYPE HealthData [\n<!ELEMENT HealthData (ExportDate,Me,(Record)*)>\n]>\n"
    b'<HealthData locale="en_GB">\n <ExportDate value="2024-12-31 21:00:00 +0100"/>\n'
)
DEVICE = (
    "&lt;&lt;HKDevice: 0x283f8c0a0&gt;, name:Apple Watch, manufacturer:Apple Inc., "
    "model:Watch, hardware:Watch6,2, software:10.4&gt;"
)
OTHER = (
    ' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Hana’s phone" '
    f'sourceVersion="17.4" device="{DEVICE}" unit="count" '
    'creationDate="{t}" startDate="{t}" endDate="{t}" value="31"/>\n'
)
HEART = (
    ' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Hana’s watch" '
    f'sourceVersion="10.4" device="{DEVICE}" unit="count/min" '
    'creationDate="{t}" startDate="{t}" endDate="{t}" value="{bpm}">\n'
    '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="1"/>\n </Record>\n'
)
FIRST_DAY = datetime(2023, 1, 1, tzinfo=UTC)


def one_day() -> tuple[bytes, int]:
    """A day of records dated 2023-01-01: steps every minute, heart rate every other."""
    lines: list[str] = []
    heart = 0
    for minute in range(24 * 60):
        t = f"{FIRST_DAY + timedelta(minutes=minute):%Y-%m-%d %H:%M:%S %z}"
        lines.append(OTHER.format(t=t))
        if minute % 2 == 0:
            lines.append(HEART.format(t=t, bpm=55 + minute % 50))
            heart += 1
    return "".join(lines).encode(), heart


class GeneratedExport(io.RawIOBase):
    """An Apple export made up on the fly: never held whole in memory, not even here."""

    def __init__(self, size: int) -> None:
        self._chunks = self._generate(size)
        self._pending = b""
        self.heart_records = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while len(self._pending) < len(buffer):
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._pending += chunk
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _generate(self, size: int) -> Iterator[bytes]:
        yield HEAD
        written = len(HEAD)
        template, heart_per_day = one_day()
        for day in itertools.count():
            date = f"{FIRST_DAY + timedelta(days=day):%Y-%m-%d}".encode()
            yield template.replace(b"2023-01-01", date)
            self.heart_records += heart_per_day
            written += len(template)
            if written >= size:
                break
        yield b"</HealthData>\n"


def test_a_50_mb_apple_export_is_read_in_flat_memory() -> None:
    export = GeneratedExport(SIZE)
    heart_rate, imported, peak = traced_import(export, NOW)
    report = heart_rate.report
    assert report.format is Format.APPLE_HEALTH_XML
    assert report.complete
    assert imported == report.imported == export.heart_records > 40_000
    assert peak < PEAK_LIMIT, f"peak {peak / 1024 / 1024:.1f} MB"
