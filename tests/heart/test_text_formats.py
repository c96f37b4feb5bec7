"""Text and JSON heart-rate exports beyond Apple's and Takeout's: Fitbit's own JSON, FHIR,
Open mHealth, Fitabase and Apple-converter CSVs, semicolon CSVs; times written without
a time zone; and what a refused file is told."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reconnect.domain.heart.exports import importing
from reconnect.domain.heart.exports.formats import ACCEPTED, Format, detect_format
from reconnect.domain.heart.exports.importing import read_heart_rate
from reconnect.domain.heart.exports.reading import UnknownFormat
from reconnect.domain.heart.exports.report import ImportReport, SkipReason
from reconnect.domain.heart.samples import Sample
from tests.heart.uploads import traced_import

DATA = Path(__file__).parent / "data"
NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
NEW_YORK = ZoneInfo("America/New_York")


def run(data: bytes, **kwargs: object) -> tuple[list[Sample], ImportReport]:
    kwargs.setdefault("now", NOW)
    heart_rate = read_heart_rate(io.BytesIO(data), **kwargs)  # type: ignore[arg-type]
    samples = list(heart_rate)
    return samples, heart_rate.report


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def refusal(data: bytes) -> str:
    with pytest.raises(UnknownFormat) as caught:
        read_heart_rate(io.BytesIO(data), now=NOW)
    return caught.value.message


# ---------------------------------------------------------------- Fitbit's own JSON export


def test_a_fitbit_data_export_json_is_read_in_utc() -> None:
    data = (DATA / "fitbit_heart_rate-2024-10-27.json").read_bytes()
    samples, report = run(data, zone=BERLIN)
    assert report.format is Format.FITBIT_JSON
    assert samples == [
        Sample(at("2024-10-27T07:00:05+00:00"), 62),
        Sample(at("2024-10-27T07:00:10+00:00"), 64),
        Sample(at("2024-10-27T23:59:55+00:00"), 58),
    ]
    # The reading Fitbit itself had no confidence in is left out, and said so.
    assert report.skipped[SkipReason.UNREADABLE] == 1
    assert report.complete
    # Fitbit wrote these times in UTC: nothing was read in Berlin's time, so nothing is
    # said about it; 23:59:55 UTC is already 28 October in Berlin.
    assert report.local_times == 0
    assert report.summary == (
        "Imported 3 heart-rate samples from 27 October 2024 to 28 October 2024. "
        "Left out 1: 1 row we could not read."
    )


def test_a_compact_fitbit_json_with_decimal_bpm_and_a_bom_is_read() -> None:
    data = b'\xef\xbb\xbf[{"dateTime":"01/02/2025 00:00:00","value":{"bpm":71.5,"confidence":3}}]'
    samples, report = run(data, now=datetime(2025, 2, 1, tzinfo=UTC))
    assert samples == [Sample(datetime(2025, 1, 2, tzinfo=UTC), 72)]
    assert report.complete


@pytest.mark.parametrize(
    "entry",
    [
        b'{"dateTime": "27/10/24 07:00:00", "value": {"bpm": 60, "confidence": 2}}',
        b'{"dateTime": "10/27/24", "value": {"bpm": 60, "confidence": 2}}',
        b'{"dateTime": "10/27/24 07:00:00", "value": {"bpm": "sixty", "confidence": 2}}',
        b'{"dateTime": "10/27/24 07:00:00", "value": {"bpm": true, "confidence": 2}}',
        b'{"dateTime": "10/27/24 07:00:00", "value": 60}',
        b'{"value": {"bpm": 60, "confidence": 2}}',
        b'"10/27/24 07:00:00"',
    ],
)
def test_a_fitbit_entry_that_cannot_be_read_is_counted(entry: bytes) -> None:
    good = b'{"dateTime": "10/27/24 06:00:00", "value": {"bpm": 61, "confidence": 2}}'
    samples, report = run(b"[" + good + b"," + entry + b"," + good.replace(b"06", b"08") + b"]")
    assert [s.bpm for s in samples] == [61, 61]
    assert report.skipped == {r: int(r is SkipReason.UNREADABLE) for r in SkipReason}


def test_a_fitbit_json_cut_short_keeps_what_came_before() -> None:
    data = (DATA / "fitbit_heart_rate-2024-10-27.json").read_bytes()
    cut = data[: data.index(b'"10/27/24 07:00:20"')]
    samples, report = run(cut)
    assert [s.bpm for s in samples] == [62, 64]
    assert not report.complete
    assert report.problem is not None and "cut short" in report.problem


def test_a_damaged_fitbit_json_stops_at_the_damage() -> None:
    data = b'[{"dateTime": "10/27/24 06:00:00", "value": {"bpm": 61, "confidence": 2}} oops'
    samples, report = run(data)
    assert [s.bpm for s in samples] == [61]
    assert report.problem is not None and "damaged" in report.problem


def test_another_file_of_a_fitbit_export_is_refused_as_holding_no_heart_rate() -> None:
    steps = b'[{"dateTime": "10/27/24 07:00:00", "value": "12"}]'
    message = refusal(steps)
    assert "Fitbit" in message and "no heart-rate readings" in message
    assert "heart_rate-" in message  # where to look instead
    assert message.endswith(ACCEPTED)


class GeneratedFitbitJson(io.RawIOBase):
    """A Fitbit heart_rate JSON of ``days`` days at one reading every 5 seconds (1.2 MB a
    day), made up on the fly: never held whole in memory, not even here."""

    def __init__(self, days: int) -> None:
        self._chunks = self._generate(days)
        self._chunk = b""
        self._offset = 0
        self.entries = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._offset == len(self._chunk):
            self._chunk = b""  # let go of the day read before making the next
            self._chunk, self._offset = next(self._chunks, b""), 0
        n = min(len(buffer), len(self._chunk) - self._offset)
        buffer[:n] = self._chunk[self._offset : self._offset + n]
        self._offset += n
        return n

    def _generate(self, days: int) -> Iterator[bytes]:
        day = [
            f'{{"dateTime":"01/01/23 {t // 3600:02}:{t // 60 % 60:02}:{t % 60:02}",'
            f'"value":{{"bpm":{55 + t % 50},"confidence":2}}}}'
            for t in range(0, 24 * 3600, 5)
        ]
        template = ",".join(day).encode()
        yield b"["
        for n in range(days):
            date = f"{datetime(2023, 1, 1) + timedelta(days=n):%m/%d/%y}".encode()
            yield b"," if n else b" "
            yield template.replace(b"01/01/23", date)
            self.entries += len(day)
        yield b"]"


def peak_while_importing(days: int) -> int:
    """The most memory held at once (traced allocations) while importing ``days`` days."""
    export = GeneratedFitbitJson(days)
    heart_rate, imported, peak = traced_import(export, NOW)
    assert heart_rate.report.format is Format.FITBIT_JSON and heart_rate.report.complete
    assert imported == export.entries == days * 17_280
    return peak


def test_a_fitbit_json_is_read_in_flat_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # The importer remembers recent times to spot repeats, up to DUPLICATE_MEMORY of them
    # (a bounded few MB, tested with the Apple export); made small here, what is left is
    # the JSON reader's own memory. Under tracemalloc a MB takes about a second, so the
    # file is 1.2 MB and then 3.6 MB: held entries would add 10 MB or more.
    monkeypatch.setattr(importing, "DUPLICATE_MEMORY", 1_000)
    one_day = peak_while_importing(1)
    three_days = peak_while_importing(3)
    assert three_days < one_day + 256 * 1024, (
        f"{one_day / 1e6:.1f} MB, then {three_days / 1e6:.1f} MB"
    )


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_json_nested_absurdly_deep_is_stopped_before_it_takes_memory(opening: bytes) -> None:
    # The parser keeps a path per level: 5,000 levels would take some 60 MB, and
    # 100 KB of them all the memory there is.
    data = (
        (DATA / "fitbit_heart_rate-2024-10-27.json").read_bytes().rstrip()[:-1]
        + b","
        + opening * 5000
    )
    tracemalloc.start()
    try:
        _, report = run(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.problem is not None and "far deeper than any heart-rate export" in report.problem
    assert peak < 10 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# ---------------------------------------------------------------- FHIR


OBSERVATION = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
    "effectiveDateTime": "2024-05-01T08:00:00+02:00",
    "valueQuantity": {"value": 66, "unit": "/min", "system": "http://unitsofmeasure.org"},
}


def observation(**changes: object) -> dict[str, object]:
    return {**OBSERVATION, **changes}


def test_a_fhir_bundle_gives_its_heart_rate_observations_only() -> None:
    samples, report = run((DATA / "fhir_bundle_heart_rate.json").read_bytes())
    assert report.format is Format.FHIR_JSON
    assert samples == [
        Sample(at("2024-05-01T08:00:00+02:00"), 66),
        Sample(at("2024-05-01T19:30:00+00:00"), 72),  # from effectivePeriod.start
    ]
    # The patient and the blood pressure are passed over, not counted as left out.
    assert report.skipped_total == 0 and report.complete


def test_a_single_fhir_observation_is_read() -> None:
    samples, report = run(json.dumps(OBSERVATION, indent=2).encode())
    assert report.format is Format.FHIR_JSON
    assert samples == [Sample(at("2024-05-01T08:00:00+02:00"), 66)]
    assert report.summary == "Imported 1 heart-rate sample on 1 May 2024."


def test_fhir_ndjson_is_read_a_line_at_a_time() -> None:
    lines = [
        observation(effectiveDateTime="2024-05-01T08:00:00Z"),
        {"resourceType": "Patient", "id": "ivan"},
        observation(
            effectiveDateTime="2024-05-01T08:00:05Z",
            valueQuantity={"value": 68, "unit": "beats/minute", "code": "{beats}/min"},
        ),
    ]
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    samples, report = run(data)
    assert report.format is Format.FHIR_JSON
    assert samples == [
        Sample(at("2024-05-01T08:00:00Z"), 66),
        Sample(at("2024-05-01T08:00:05Z"), 68),
    ]
    assert report.skipped_total == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"valueQuantity": {"value": 66, "unit": "mmHg", "code": "mm[Hg]"}},
        {"valueQuantity": {"value": "66", "unit": "/min"}},
        {"effectiveDateTime": "2024-05-01"},  # a day, not a moment
        {"effectiveDateTime": "soon"},
        {"effectiveDateTime": None},
    ],
)
def test_a_fhir_heart_rate_that_cannot_be_read_is_counted(changes: dict[str, object]) -> None:
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": observation(effectiveDateTime="2024-05-01T07:00:00Z")},
            {"resource": observation(**changes)},
            {"resource": observation(effectiveDateTime="2024-05-01T09:00:00Z")},
        ],
    }
    samples, report = run(json.dumps(bundle).encode())
    assert [s.at for s in samples] == [at("2024-05-01T07:00:00Z"), at("2024-05-01T09:00:00Z")]
    assert report.skipped == {r: int(r is SkipReason.UNREADABLE) for r in SkipReason}


def test_fhir_observations_of_other_things_are_passed_over_quietly() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": observation(
                    code={"coding": [{"system": "http://loinc.org", "code": "8310-5"}]}
                )
            },
            {"resource": observation(status="entered-in-error")},
            {"resource": {"resourceType": "Patient"}},
        ],
    }
    samples, report = run(json.dumps(bundle).encode())
    assert samples == [] and report.skipped_total == 0 and report.complete
    assert report.summary == "This file holds no heart-rate readings."


def test_a_fhir_time_without_an_offset_is_read_in_the_persons_zone() -> None:
    data = json.dumps(observation(effectiveDateTime="2024-05-01T08:00:00")).encode()
    samples, report = run(data, zone=BERLIN)
    assert samples == [Sample(at("2024-05-01T08:00:00+02:00"), 66)]
    assert report.local_times == 1
    assert report.summary.endswith(
        "Times written without a time zone were read as Europe/Berlin time."
    )


# ---------------------------------------------------------------- Open mHealth


def omh_body(value: object, time_frame: dict[str, object]) -> dict[str, object]:
    return {
        "heart_rate": {"value": value, "unit": "beats/min"},
        "effective_time_frame": time_frame,
    }


def omh_point(body: dict[str, object], schema: str = "heart-rate") -> dict[str, object]:
    return {
        "header": {
            "id": "243c773b-8936-407e-9c23-270d1ea8bc38",
            "creation_date_time": "2024-05-02T09:00:00Z",
            "schema_id": {"namespace": "omh", "name": schema, "version": "2.0"},
        },
        "body": body,
    }


def test_an_open_mhealth_data_point_is_read() -> None:
    point = omh_point(omh_body(72, {"date_time": "2024-05-01T08:00:00-07:00"}))
    samples, report = run(json.dumps(point, indent=2).encode())
    assert report.format is Format.OPEN_MHEALTH_JSON
    assert samples == [Sample(at("2024-05-01T08:00:00-07:00"), 72)]
    assert report.complete


def test_a_bare_open_mhealth_body_is_read() -> None:
    body = omh_body(72, {"time_interval": {"start_date_time": "2024-05-01T08:00:00-07:00"}})
    samples, report = run(json.dumps(body).encode())
    assert report.format is Format.OPEN_MHEALTH_JSON
    assert samples == [Sample(at("2024-05-01T08:00:00-07:00"), 72)]


def test_a_list_of_open_mhealth_points_skips_other_schemas_quietly() -> None:
    points = [
        omh_point(omh_body(72, {"date_time": "2024-05-01T08:00:00Z"})),
        omh_point(
            {
                "step_count": {"value": 40, "unit": "steps"},
                "effective_time_frame": {"date_time": "2024-05-01T08:00:00Z"},
            },
            schema="step-count",
        ),
        omh_body(74.5, {"date_time": "2024-05-01T08:01:00Z"}),
        omh_body(80, {"time_interval": {"end_date_time": "2024-05-01T08:02:00Z"}}),
    ]
    samples, report = run(json.dumps(points).encode())
    assert samples == [
        Sample(at("2024-05-01T08:00:00Z"), 72),
        Sample(at("2024-05-01T08:01:00Z"), 75),
    ]
    # The steps are passed over; a heart rate with no start time cannot be placed.
    assert report.skipped == {r: int(r is SkipReason.UNREADABLE) for r in SkipReason}


def test_open_mhealth_data_of_another_kind_is_refused_as_holding_no_heart_rate() -> None:
    point = omh_point(
        {
            "step_count": {"value": 40, "unit": "steps"},
            "effective_time_frame": {"date_time": "2024-05-01T08:00:00Z"},
        },
        schema="step-count",
    )
    message = refusal(json.dumps(point).encode())
    assert "Open mHealth" in message and "no heart-rate readings" in message
    assert message.endswith(ACCEPTED)


# ---------------------------------------------------------------- Fitabase CSV


def test_an_open_mhealth_statistic_is_a_summary_not_a_reading() -> None:
    interval = {
        "time_interval": {
            "start_date_time": "2024-05-01T00:00:00Z",
            "end_date_time": "2024-05-02T00:00:00Z",
        }
    }
    lowest = {**omh_body(48, interval), "descriptive_statistic": "minimum"}
    reading = omh_body(72, {"date_time": "2024-05-01T08:00:00Z"})
    samples, report = run(json.dumps([lowest, reading]).encode())
    assert samples == [Sample(at("2024-05-01T08:00:00Z"), 72)]
    assert report.skipped_total == 0


@pytest.mark.parametrize("name", ["heart_rate", "Heart Rate", "heartrate", "HR"])
def test_a_csv_may_name_its_bpm_column_in_other_words(name: str) -> None:
    samples, report = run(f"timestamp,{name}\n2024-05-01T08:00:00Z,72\n".encode())
    assert report.format is Format.GENERIC_CSV
    assert samples == [Sample(at("2024-05-01T08:00:00Z"), 72)]


def test_a_fitabase_heartrate_seconds_csv_is_read_in_local_time() -> None:
    data = (DATA / "fitabase_heartrate_seconds_merged.csv").read_bytes()
    samples, report = run(data, zone=NEW_YORK)
    assert report.format is Format.FITABASE_CSV
    assert samples == [
        Sample(at("2016-04-12T07:21:00-04:00"), 97),
        Sample(at("2016-04-12T07:21:05-04:00"), 102),
        Sample(at("2016-04-12T12:05:10-04:00"), 88),  # 12 PM is noon
        Sample(at("2016-04-12T23:59:55-04:00"), 61),
    ]
    assert report.local_times == 4
    assert report.summary == (
        "Imported 4 heart-rate samples on 12 April 2016. "
        "Times written without a time zone were read as America/New_York time."
    )


def test_a_fitabase_time_just_after_midnight_is_read_as_such() -> None:
    samples, _ = run(b"Id,Time,Value\n1,4/13/2016 12:00:05 AM,60\n", zone=NEW_YORK)
    assert samples == [Sample(at("2016-04-13T00:00:05-04:00"), 60)]


@pytest.mark.parametrize(
    "time", ["2016-04-12 07:21:00", "4/12/2016 7:21:00", "13/12/2016 7:21:00 AM", "4/12/2016"]
)
def test_a_fitabase_time_in_another_shape_is_counted(time: str) -> None:
    samples, report = run(f"Id,Time,Value\n1,{time},60\n".encode())
    assert samples == [] and report.skipped[SkipReason.UNREADABLE] == 1


# ---------------------------------------------------------------- Apple-converter CSV


def test_an_apple_health_csv_from_a_converter_gives_heart_rate_rows_only() -> None:
    samples, report = run((DATA / "apple_health_converter.csv").read_bytes())
    assert report.format is Format.APPLE_HEALTH_CSV
    assert samples == [
        Sample(at("2024-05-01T08:00:00+01:00"), 64),
        Sample(at("2024-05-01T19:30:00+01:00"), 72),
    ]
    assert report.skipped_total == 0  # the steps are passed over, not left out
    assert report.local_times == 0


def test_an_apple_health_csv_with_short_type_names_and_no_unit() -> None:
    data = (
        b"type,startDate,endDate,value\n"
        b"HeartRate,2024-05-01 08:00:00 +0100,2024-05-01 08:00:00 +0100,64\n"
        b"RestingHeartRate,2024-05-01 00:00:00 +0100,2024-05-01 23:59:00 +0100,52\n"
        b"HKQuantityTypeIdentifierHeartRateVariabilitySDNN,2024-05-01 09:00:00 +0100,,44\n"
    )
    samples, report = run(data)
    assert samples == [Sample(at("2024-05-01T08:00:00+01:00"), 64)]
    assert report.skipped_total == 0


def test_an_apple_health_csv_with_only_time_and_value_is_heart_rate() -> None:
    samples, report = run(b"startDate,value\n2024-05-01 08:00:00 +0100,64\n")
    assert report.format is Format.APPLE_HEALTH_CSV
    assert samples == [Sample(at("2024-05-01T08:00:00+01:00"), 64)]


def test_an_apple_health_csv_row_in_another_unit_is_counted() -> None:
    data = (
        b"type,unit,startDate,value\n"
        b"HKQuantityTypeIdentifierHeartRate,count/s,2024-05-01 08:00:00 +0100,1.1\n"
        b"HKQuantityTypeIdentifierHeartRate,count/min,2024-05-01 08:01:00 +0100,66\n"
    )
    samples, report = run(data)
    assert [s.bpm for s in samples] == [66]
    assert report.skipped[SkipReason.UNREADABLE] == 1


def test_an_apple_health_csv_of_steps_only_says_it_holds_no_heart_rate() -> None:
    data = b"type,startDate,value\nHKQuantityTypeIdentifierStepCount,2024-05-01 08:00:00 +0100,31\n"
    samples, report = run(data)
    assert samples == [] and report.complete
    assert report.summary == "This file holds no heart-rate readings."


# ---------------------------------------------------------------- semicolons and decimal commas


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"timestamp;bpm\n2024-05-01T08:00:00Z;71,5\n", Format.GENERIC_CSV),
        (b'"timestamp";"beats per minute"\r\n2024-05-01T08:00:00Z;"71,5"\r\n', Format.FITBIT_CSV),
        (
            b"type;startDate;value\nHeartRate;2024-05-01 08:00:00 +0000;71,5\n",
            Format.APPLE_HEALTH_CSV,
        ),
        (b"\xef\xbb\xbfId;Time;Value\n1;5/1/2024 8:00:00 AM;71,5\n", Format.FITABASE_CSV),
    ],
)
def test_a_semicolon_csv_with_decimal_commas_is_read(data: bytes, expected: Format) -> None:
    samples, report = run(data)
    assert report.format is expected
    assert samples == [Sample(at("2024-05-01T08:00:00Z"), 72)]  # 71,5 rounds up
    assert report.skipped_total == 0


def test_a_comma_csv_does_not_take_a_decimal_comma() -> None:
    # Where commas part the columns, a comma in a number is not a decimal point.
    samples, report = run(b'timestamp,bpm\n2024-05-01T08:00:00Z,"71,5"\n')
    assert samples == [] and report.skipped[SkipReason.UNREADABLE] == 1


# ---------------------------------------------------------------- times without a time zone


def test_times_without_a_zone_are_read_in_the_persons_zone_and_said_so() -> None:
    data = b"timestamp,bpm\n2024-05-01 08:00:00,66\n2024-05-01T08:01:00+02:00,68\n"
    samples, report = run(data, zone=BERLIN)
    assert samples == [
        Sample(at("2024-05-01T08:00:00+02:00"), 66),
        Sample(at("2024-05-01T08:01:00+02:00"), 68),
    ]
    assert report.local_times == 1
    assert report.zone is BERLIN
    assert report.summary == (
        "Imported 2 heart-rate samples on 1 May 2024. "
        "Times written without a time zone were read as Europe/Berlin time."
    )


def test_a_fixed_offset_zone_is_named_by_its_offset() -> None:
    _, report = run(b"timestamp,bpm\n2024-05-01 08:00:00,66\n", zone=timezone(timedelta(hours=2)))
    assert report.summary.endswith("were read as UTC+02:00 time.")


def test_an_unnamed_zone_is_spoken_of_plainly() -> None:
    class Unnamed(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta:
            return timedelta(hours=-3)

        def dst(self, dt: datetime | None) -> timedelta:
            return timedelta(0)

        def tzname(self, dt: datetime | None) -> str | None:
            return None

    samples, report = run(b"timestamp,bpm\n2024-05-01 08:00:00,66\n", zone=Unnamed())
    assert samples == [Sample(at("2024-05-01T08:00:00-03:00"), 66)]
    assert report.summary.endswith("Times written without a time zone were read in your time zone.")


def test_the_summary_gives_the_persons_own_days() -> None:
    data = b"timestamp,bpm\n2024-05-01T23:30:00Z,66\n2024-05-02T03:00:00Z,68\n"
    _, in_los_angeles = run(data, zone=LOS_ANGELES)
    assert in_los_angeles.summary == "Imported 2 heart-rate samples on 1 May 2024."
    _, in_utc = run(data)
    assert in_utc.summary == "Imported 2 heart-rate samples from 1 May 2024 to 2 May 2024."
    assert in_los_angeles.first_at == at("2024-05-01T23:30:00Z")  # the instants are kept


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("first_bytes", "words"),
    [
        (b"", "The file is empty."),
        (b"<html><body>hello</body></html>", "not an Apple Health export"),
        (b"time,pulse\n", "this one has: time, pulse."),
        (b"\x89PNG\r\n\x1a\n\xff\xfe", "could not read this file as text"),
        (b'{"name": "Hana", "age": 41}', "JSON file"),
        (b"[1, 2, 3]", "JSON file"),
    ],
)
def test_every_refusal_says_what_the_file_looked_like_and_what_we_read(
    first_bytes: bytes, words: str
) -> None:
    with pytest.raises(UnknownFormat) as caught:
        detect_format(first_bytes)
    assert words in caught.value.message
    assert caught.value.message.endswith(ACCEPTED)


def test_the_list_of_what_we_read_is_short_and_names_each_format() -> None:
    assert len(ACCEPTED) < 450
    for name in ("Apple Health", "Fitbit", "Fitabase", "FHIR", "Open mHealth", "timestamp"):
        assert name in ACCEPTED


@pytest.mark.parametrize(
    ("first_bytes", "expected"),
    [
        (
            b'[{"dateTime":"10/27/24 07:00:05","value":{"bpm":62,"confidence":2}}',
            Format.FITBIT_JSON,
        ),
        (b'{"resourceType": "Bundle", "entry": [', Format.FHIR_JSON),
        (b'{"resourceType":"Observation","id":"1"}\n{"resourceType"', Format.FHIR_JSON),
        (b'  [{"header": {"schema_id": {"name": "heart-rate"', Format.OPEN_MHEALTH_JSON),
        (b'{"heart_rate": {"value": 72', Format.OPEN_MHEALTH_JSON),
        (b"Id,Time,Value\n2022484408,4/12/2016 7:21:00 AM,97\n", Format.FITABASE_CSV),
        (b"sourceName,type,unit,creationDate,startDate,endDate,value\n", Format.APPLE_HEALTH_CSV),
        (b"startDate;value\n", Format.APPLE_HEALTH_CSV),
        (b"timestamp;bpm\n", Format.GENERIC_CSV),
        (b"timestamp;beats per minute;data source\n", Format.FITBIT_CSV),
    ],
)
def test_detect_format_recognises_each_text_format(first_bytes: bytes, expected: Format) -> None:
    assert detect_format(first_bytes) is expected
