"""How fast heart-rate files are read and stored, and how much memory it takes.

Run: python bench/heartrate.py [--size-mb 200] [--samples 8000000] [--stored 10000000]

Three measures, each in a fresh subprocess so its peak resident memory
(``ru_maxrss``) is its own and not the generator's:

- parsing: a synthetic Apple Health export of ``--size-mb`` MB (heart-rate records,
  each with its motion-context metadata as the Watch writes them, among step, energy
  and distance records, a workout now and then, and Apple's DTD at the top) is read
  and nothing stored. Target: a peak under 200 MB.
- storing: a CSV of ``--samples`` samples is imported through the store into a
  throw-away SQLite database, beside an earlier import of a million samples that
  overlaps it by half a million seconds, with a thousand seconds the file repeats far
  apart (the reader only remembers recent ones, so the store must find them). The
  duplicates counted are checked. Target: a peak under 150 MB.
- a reading typed by hand beside ``--stored`` samples stored in 200 imports: the
  median time of ``add_reading`` at a new second. Target: under 50 ms.

The last line is the summary of all three, PASS only when every target is met.
Give ``--only parse|store|reading`` to run one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TARGET_MB = 200
STORE_TARGET_MB = 150
READING_TARGET_MS = 50
NOW = datetime(2030, 1, 1, tzinfo=UTC)
CSV_START = datetime(2022, 1, 1, tzinfo=UTC)
CSV_STEP = 5  # seconds between samples
EARLIER = 1_000_000  # samples of the earlier import, half of them inside the new file
REPEATS = 1_000  # seconds the new file repeats, far from their first appearance
STORED_IMPORTS = 200

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 (synthetic) -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
  value         CDATA #IMPLIED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
]>
<HealthData locale="en_GB">
 <ExportDate value="2029-12-31 21:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth=""
     HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexNotSet"/>
"""
WATCH = (
    'sourceName="Apple Watch" sourceVersion="10.4" device="&lt;&lt;HKDevice: 0x283f8c0a0&gt;, '
    "name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, "
    'software:10.4&gt;"'
)
PHONE = 'sourceName="iPhone" sourceVersion="17.4"'
OTHER_TYPES = (
    ("HKQuantityTypeIdentifierStepCount", "count", PHONE),
    ("HKQuantityTypeIdentifierActiveEnergyBurned", "kcal", WATCH),
    ("HKQuantityTypeIdentifierBasalEnergyBurned", "kcal", WATCH),
    ("HKQuantityTypeIdentifierDistanceWalkingRunning", "km", PHONE),
)
FORMAT = "%Y-%m-%d %H:%M:%S +0100"


def write_export(path: Path, size_mb: int, seed: int = 5) -> int:
    """Write about ``size_mb`` MB of export to ``path``; return the heart-rate records."""
    rng = random.Random(seed)
    size = size_mb * 1024 * 1024
    moment = datetime(2020, 1, 1, 7, 0)
    heart = 0
    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD)
        while written < size:
            lines: list[str] = []
            for _ in range(2000):
                moment += timedelta(seconds=rng.randint(20, 90))
                t = moment.strftime(FORMAT)
                if rng.random() < 0.4:
                    heart += 1
                    lines.append(
                        f' <Record type="HKQuantityTypeIdentifierHeartRate" {WATCH} '
                        f'unit="count/min" creationDate="{t}" startDate="{t}" endDate="{t}" '
                        f'value="{rng.randint(52, 118)}">\n'
                        f'  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" '
                        f'value="{rng.randint(0, 2)}"/>\n </Record>\n'
                    )
                else:
                    kind, unit, source = rng.choice(OTHER_TYPES)
                    lines.append(
                        f' <Record type="{kind}" {source} unit="{unit}" creationDate="{t}" '
                        f'startDate="{t}" endDate="{t}" value="{rng.uniform(0.1, 90):.3f}"/>\n'
                    )
                if rng.random() < 0.001:
                    lines.append(
                        f' <Workout workoutActivityType="HKWorkoutActivityTypeWalking" '
                        f'duration="31.5" durationUnit="min" {WATCH} creationDate="{t}" '
                        f'startDate="{t}" endDate="{t}">\n'
                        f'  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" '
                        f'startDate="{t}" endDate="{t}" average="104" minimum="88" '
                        f'maximum="131" unit="count/min"/>\n </Workout>\n'
                    )
            block = "".join(lines)
            out.write(block)
            written += len(block.encode())
        out.write("</HealthData>\n")
    return heart


def parse_only(path: Path) -> None:
    """Child process: import the file, print timings and peak memory as JSON."""
    from reconnect.domain.heart.exports.importing import read_heart_rate

    started = time.perf_counter()
    with path.open("rb") as upload:
        heart_rate = read_heart_rate(upload, now=NOW)
        imported = sum(1 for _ in heart_rate)
    seconds = time.perf_counter() - started
    report = heart_rate.report
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(
        json.dumps(
            {
                "seconds": seconds,
                "imported": imported,
                "skipped": report.skipped_total,
                "complete": report.complete,
                "peak_mb": peak_kb / 1024,
                "summary": report.summary,
            }
        )
    )


def write_csv(path: Path, samples: int, seed: int = 7) -> int:
    """A CSV of ``samples`` readings every CSV_STEP seconds from CSV_START, then
    REPEATS rows at seconds already written (from its middle, far back); return the
    rows written."""
    rng = random.Random(seed)
    start = int(CSV_START.timestamp())
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp,bpm\n")
        for block in range(0, samples, 100_000):
            out.write(
                "".join(
                    f"{datetime.fromtimestamp(start + i * CSV_STEP, UTC).isoformat()},"
                    f"{rng.randint(52, 118)}\n"
                    for i in range(block, min(samples, block + 100_000))
                )
            )
        middle = samples // 2
        out.write(
            "".join(
                f"{datetime.fromtimestamp(start + (middle + 7 * k) * CSV_STEP, UTC).isoformat()},"
                f"{rng.randint(52, 118)}\n"
                for k in range(min(REPEATS, samples // 14))
            )
        )
    return samples + min(REPEATS, samples // 14)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _database(folder: Path) -> Any:
    """A throw-away SQLite database in ``folder`` with one person, made on the first
    call (migrations run then only, so a later process holds no Alembic); returns
    (sessions, signed_in)."""
    from sqlalchemy import select
    from sqlalchemy.orm import sessionmaker

    from reconnect.accounts.signed_in import SignedIn
    from reconnect.database import make_engine, upgrade
    from reconnect.models import Person

    path, key_file = folder / "bench.sqlite", folder / "bench.key"
    made = path.exists()
    engine = make_engine(f"sqlite:///{path}")
    if not made:
        upgrade(engine)
        key_file.write_bytes(os.urandom(32))
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as db:
        person = db.scalar(select(Person))
        if person is None:
            person = Person(
                username="bench-heart",
                password_hash="-",  # noqa: S106 - a made-up person
                kdf_salt=b"\0" * 16,
                kdf_memory_kib=1,
                kdf_time_cost=1,
                kdf_parallelism=1,
                key_by_password=b"-",
                key_by_recovery=b"-",
            )
            db.add(person)
    signed_in = SignedIn(person=person, data_key=key_file.read_bytes(), token_hash="-")  # noqa: S106
    return sessions, signed_in


def _store_samples(db: Any, signed_in: Any, times: Any, rng: Any) -> None:
    """One import row holding ``times`` (a numpy array), sealed as the store seals."""
    import zlib

    import numpy as np

    from reconnect import keys
    from reconnect.heart import store as heart
    from reconnect.models import HeartRateImport

    packed = np.empty(len(times), dtype=[("t", "<u4"), ("b", "u1")])
    packed["t"] = times
    packed["b"] = rng.integers(52, 118, len(times), dtype=np.uint8)
    row = HeartRateImport(person_id=signed_in.person.id, file_hash=os.urandom(32).hex(), sealed=b"")
    db.add(row)
    db.flush()
    row.sealed = keys.seal(
        signed_in.data_key, zlib.compress(packed.tobytes(), 6), heart._context(row)
    )
    heart.seal_span(row, signed_in.data_key, int(times[0]), int(times[-1]))
    db.flush()


def store_setup(folder: Path) -> None:
    """Child process: the database, and the earlier import the new file overlaps."""
    import numpy as np

    sessions, signed_in = _database(folder)
    start = int(CSV_START.timestamp())
    with sessions.begin() as db:
        earlier = start - (EARLIER // 2) * CSV_STEP
        times = np.arange(earlier, earlier + EARLIER * CSV_STEP, CSV_STEP, dtype=np.uint32)
        _store_samples(db, signed_in, times, np.random.default_rng(3))
    print(json.dumps({"ready": True}))


def store_only(path: Path, folder: Path) -> None:
    """Child process: import the CSV into the database store_setup made; print JSON."""
    from reconnect.heart import store as heart

    sessions, signed_in = _database(folder)
    before_mb = _rss_mb()
    started = time.perf_counter()
    with sessions.begin() as db, path.open("rb") as upload:
        imported = heart.import_file(db, signed_in=signed_in, upload=upload, now=NOW)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(
        json.dumps(
            {
                "seconds": seconds,
                "imported": imported.report.imported,
                "duplicates": imported.duplicates_of_earlier_imports,
                "stored": imported.stored,
                "before_mb": before_mb,
                "peak_mb": peak_kb / 1024,
                "summary": imported.summary,
            }
        )
    )


def reading_only(stored: int) -> None:
    """Child process: store ``stored`` samples in STORED_IMPORTS imports, then time
    readings typed by hand at new seconds and at stored ones; print JSON."""
    import numpy as np

    from reconnect.errors import Problem
    from reconnect.heart import store as heart

    rng = np.random.default_rng(4)
    per_import = stored // STORED_IMPORTS
    start = int(CSV_START.timestamp())
    step = 6
    with tempfile.TemporaryDirectory() as folder:
        sessions, signed_in = _database(Path(folder))
        with sessions.begin() as db:
            for i in range(STORED_IMPORTS):
                first = start + i * per_import * step
                times = np.arange(first, first + per_import * step, step, dtype=np.uint32)
                _store_samples(db, signed_in, times, rng)
        new_ms: list[float] = []
        refused_ms: list[float] = []
        for k in range(7):
            stored_second = start + (k + 1) * (per_import * STORED_IMPORTS // 8) * step
            for second, into in ((stored_second + 1, new_ms), (stored_second, refused_ms)):
                at = datetime.fromtimestamp(second, UTC)
                began = time.perf_counter()
                refused = False
                with sessions.begin() as db:
                    try:
                        heart.add_reading(db, signed_in=signed_in, at=at, bpm=80, now=NOW)
                    except Problem as problem:
                        refused = problem.status == 409
                into.append((time.perf_counter() - began) * 1000)
                if refused != (into is refused_ms):
                    raise SystemExit(f"the reading at {at} was wrongly {'refused' * refused}")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "new_ms": sorted(new_ms)[len(new_ms) // 2],
                "refused_ms": sorted(refused_ms)[len(refused_ms) // 2],
                "peak_mb": peak_kb / 1024,
            }
        )
    )


def _child(*arguments: str) -> dict[str, Any]:
    child = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, *arguments],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def measure_parse(size_mb_wanted: int) -> tuple[str, bool]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.xml"
        print(f"writing a synthetic {size_mb_wanted} MB Apple Health export ...", flush=True)
        heart = write_export(path, size_mb_wanted)
        size_mb = path.stat().st_size / 1024 / 1024
        print(f"  {size_mb:.0f} MB, {heart:,} heart-rate records among the others")
        result = _child("--parse-only", str(path))
    if result["imported"] != heart or not result["complete"]:
        print(f"  import did not read every record: {result['summary']}")
        return "parse: did not read every record FAIL", False
    rate = size_mb / result["seconds"]
    peak = result["peak_mb"]
    ok = peak < TARGET_MB
    print(f"  {result['summary']}")
    print(f"  parse {result['seconds']:.1f} s in a fresh process")
    return (
        f"parse {size_mb:.0f} MB {rate:.0f} MB/s peak {peak:.0f} MB (< {TARGET_MB}) "
        f"{'PASS' if ok else 'FAIL'}"
    ), ok


def measure_store(samples: int) -> tuple[str, bool]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "heart-rate.csv"
        print(f"writing a CSV of {samples:,} samples ...", flush=True)
        rows = write_csv(path, samples)
        print(f"  {path.stat().st_size / 1024 / 1024:.0f} MB, {rows:,} rows")
        _child("--store-setup", folder)
        result = _child("--store-only", str(path), "--folder", folder)
    expected = min(samples, EARLIER - EARLIER // 2) + (rows - samples)
    print(f"  {result['summary']}")
    print(
        f"  import {result['seconds']:.1f} s; resident before the import "
        f"{result['before_mb']:.0f} MB, peak {result['peak_mb']:.0f} MB"
    )
    counted = result["imported"] == rows and result["duplicates"] == expected
    if not counted:
        print(f"  expected {rows:,} read and {expected:,} duplicates")
    ok = counted and result["peak_mb"] < STORE_TARGET_MB
    return (
        f"store {samples / 1e6:g}M samples peak {result['peak_mb']:.0f} MB "
        f"(< {STORE_TARGET_MB}) {'PASS' if ok else 'FAIL'}"
    ), ok


def measure_reading(stored: int) -> tuple[str, bool]:
    print(f"a reading typed by hand beside {stored:,} stored samples ...", flush=True)
    result = _child("--reading-only", "--stored", str(stored))
    print(
        f"  median {result['new_ms']:.1f} ms at a new second, "
        f"{result['refused_ms']:.1f} ms refused at a stored one; peak {result['peak_mb']:.0f} MB"
    )
    ok = result["new_ms"] < READING_TARGET_MS and result["refused_ms"] < READING_TARGET_MS
    return (
        f"reading beside {stored / 1e6:g}M {result['new_ms']:.1f} ms "
        f"(< {READING_TARGET_MS}) {'PASS' if ok else 'FAIL'}"
    ), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="size of the export")
    parser.add_argument("--samples", type=int, default=8_000_000, help="samples to store")
    parser.add_argument("--stored", type=int, default=10_000_000, help="beside a reading")
    parser.add_argument("--only", choices=("parse", "store", "reading"))
    parser.add_argument("--parse-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store-setup", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reading-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse_only:
        parse_only(args.parse_only)
        return 0
    if args.store_setup:
        store_setup(args.store_setup)
        return 0
    if args.store_only:
        store_only(args.store_only, args.folder)
        return 0
    if args.reading_only:
        reading_only(args.stored)
        return 0

    parts: list[tuple[str, bool]] = []
    if args.only in (None, "parse"):
        parts.append(measure_parse(args.size_mb))
    if args.only in (None, "store"):
        parts.append(measure_store(args.samples))
    if args.only in (None, "reading"):
        parts.append(measure_reading(args.stored))
    ok = all(passed for _, passed in parts)
    print(f"heart-rate: {'; '.join(text for text, _ in parts)}. Overall {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
