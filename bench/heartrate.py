"""How fast a 200 MB Apple Health export is imported, and how much memory it takes.

Run: python bench/heartrate.py [--size-mb 200]

A synthetic export is written to a temporary file: heart-rate records (each with
its motion-context metadata, as the Watch writes them) among step, energy and
distance records, a workout now and then, and Apple's DTD at the top. The import
then runs in a fresh subprocess that does nothing but parse, so the peak resident
memory it reports (``ru_maxrss``) is the parser's alone and not the generator's.
The last line is the summary; the target is a peak under 200 MB.
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

TARGET_MB = 200
NOW = datetime(2030, 1, 1, tzinfo=UTC)

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="size of the export")
    parser.add_argument("--parse-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse_only:
        parse_only(args.parse_only)
        return 0

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.xml"
        print(f"writing a synthetic {args.size_mb} MB Apple Health export ...", flush=True)
        heart = write_export(path, args.size_mb)
        size_mb = path.stat().st_size / 1024 / 1024
        print(f"  {size_mb:.0f} MB, {heart:,} heart-rate records among the others")
        child = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, __file__, "--parse-only", str(path)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    if result["imported"] != heart or not result["complete"]:
        print(f"  import did not read every record: {result['summary']}")
        return 1
    rate = size_mb / result["seconds"]
    peak = result["peak_mb"]
    verdict = "PASS" if peak < TARGET_MB else "FAIL"
    print(f"  {result['summary']}")
    print(f"  parse {result['seconds']:.1f} s in a fresh process")
    print(
        f"heart-rate import {size_mb:.0f} MB: {rate:.0f} MB/s, peak {peak:.0f} MB "
        f"(target < {TARGET_MB} MB) {verdict}"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
