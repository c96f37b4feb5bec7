"""The watch's calm readings make the calm baseline when an export has them (issue 15,
finding 8): Apple's daily resting heart rate first, then readings it marked as taken
sitting still, then every waking reading."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.heart.uploads import upload
from tests.pacing.api_steps import check_in
from tests.payloads import GOOD
from tests.zones_and_clock import move, set_clock

PACIFIC = ZoneInfo("America/Los_Angeles")
WALK = "walk-side-by-side"
STARTED = datetime(2026, 3, 5, 19, 0, tzinfo=PACIFIC)
ENDED = STARTED + timedelta(minutes=20)


def apple_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %z")


def record(kind: str, at: datetime, bpm: int, *, still: bool = False) -> str:
    """One Apple Health record, as the Health app writes it."""
    attributes = (
        f'type="HKQuantityTypeIdentifier{kind}" sourceName="Hana\u2019s Apple\u00a0Watch" '
        f'unit="count/min" creationDate="{apple_time(at)}" startDate="{apple_time(at)}" '
        f'endDate="{apple_time(at)}" value="{bpm}"'
    )
    if not still:
        return f" <Record {attributes}/>"
    return (
        f" <Record {attributes}>\n"
        '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="1"/>\n'
        " </Record>"
    )


def apple_export(*, resting: int | None = None, still: int | None = None) -> bytes:
    """Three busy days before the walk (80 bpm through every waking hour), each with
    the watch's resting heart rate and a few still readings when asked for; then
    the walk itself at 74 bpm."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<HealthData locale="en_US">']
    for day in range(3, 0, -1):
        morning = (STARTED - timedelta(days=day)).replace(hour=0)
        if resting is not None:
            lines.append(record("RestingHeartRate", morning, resting))
        for hour in range(7, 24):
            for minute in (0, 15, 30, 45):
                at = morning + timedelta(hours=hour, minutes=minute)
                lines.append(record("HeartRate", at, 80))
            if still is not None:
                for minute in (5, 20, 35):
                    at = morning + timedelta(hours=hour, minutes=minute)
                    lines.append(record("HeartRate", at, still, still=True))
    for minute in range(21):
        lines.append(record("HeartRate", STARTED + timedelta(minutes=minute), 74))
    lines.append("</HealthData>")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def before_the_walk(hana_and_ivan: Any, people: Any, clock: Any) -> tuple[Any, Any]:
    hana, ivan = hana_and_ivan
    move(hana, "America/Los_Angeles")
    set_clock(clock, people, ENDED + timedelta(minutes=5), hana, ivan)
    check_in(hana)
    check_in(ivan)
    return hana, ivan


def walk_and_break(hana: Any, ivan: Any, export: bytes) -> bool:
    """Import the export, log the walk; whether the partner is told of a break."""
    imported = upload(hana, export, "export.xml")
    assert imported.status_code == 201, imported.text
    body = {"practice_id": WALK, **GOOD, "started_at": STARTED.isoformat()}
    logged = hana.post("/api/v1/experiences", body)
    assert logged.status_code == 201, logged.text
    return ivan.get("/api/v1/pace").json()["break_until"] is not None


def test_the_watchs_resting_heart_rate_sets_the_baseline(before_the_walk):
    # Resting 60: 74 is 14 above it, flooding by the product's rule.
    assert walk_and_break(*before_the_walk, apple_export(resting=60))


def test_still_readings_set_it_when_there_is_no_resting_heart_rate(before_the_walk):
    assert walk_and_break(*before_the_walk, apple_export(still=62))


def test_without_calm_readings_every_waking_reading_sets_it(before_the_walk):
    # Busy days at 80: a walk at 74 is below the baseline, not flooding.
    assert not walk_and_break(*before_the_walk, apple_export())


def test_the_import_counts_resting_records_as_no_samples(before_the_walk):
    hana, _ = before_the_walk
    plain = upload(hana, apple_export(), "plain.xml").json()
    with_resting = upload(hana, apple_export(resting=60), "resting.xml").json()
    assert with_resting["imported"] == plain["imported"]
