"""Heart-rate imports from device formats: Garmin's TCX, Apple's export_cda.xml, FIT files."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from garmin_fit_sdk import Encoder, Profile
from hypothesis import given, settings
from hypothesis import strategies as st

from reconnect.domain.heart.exports.apple_cda import cda_readings
from reconnect.domain.heart.exports.fit_files import MAX_FIT_BYTES, FitFileTooLarge
from reconnect.domain.heart.exports.formats import Format, detect_format
from reconnect.domain.heart.exports.importing import read_heart_rate
from reconnect.domain.heart.exports.report import ImportReport, SkipReason
from reconnect.domain.heart.exports.tcx import tcx_readings
from reconnect.domain.heart.samples import Sample
from reconnect.domain.validation import InvalidEntry

DATA = Path(__file__).parent / "data"
NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
SUMMER = timezone(timedelta(hours=2))


def run(data: bytes) -> tuple[list[Sample], ImportReport]:
    heart_rate = read_heart_rate(io.BytesIO(data), now=NOW)
    samples = list(heart_rate)
    return samples, heart_rate.report


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Dribble(io.RawIOBase):
    """A file handed out a few bytes at a time that remembers how far it was read."""

    def __init__(self, parts: Iterator[bytes]) -> None:
        self._parts = parts
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        part = next(self._parts, b"")
        self.read_so_far += len(part)
        return part


# ---------------------------------------------------------------- TCX

TCX_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">\n'
    b' <Activities><Activity Sport="Biking"><Id>2024-05-01T19:00:00Z</Id>\n'
    b'  <Lap StartTime="2024-05-01T19:00:00Z"><Track>\n'
)
TCX_TAIL = b"  </Track></Lap></Activity></Activities>\n</TrainingCenterDatabase>\n"


def trackpoint(time: str, bpm: str | None) -> bytes:
    rate = f"<HeartRateBpm><Value>{bpm}</Value></HeartRateBpm>" if bpm is not None else ""
    return f"   <Trackpoint><Time>{time}</Time>{rate}</Trackpoint>\n".encode()


def tcx(*points: bytes) -> bytes:
    return TCX_HEAD + b"".join(points) + TCX_TAIL


def test_a_garmin_tcx_gives_the_trackpoints_heart_rates_and_not_the_laps() -> None:
    samples, report = run((DATA / "garmin_run.tcx").read_bytes())
    assert samples == [
        Sample(utc("2024-05-01T19:00:00"), 112),
        Sample(utc("2024-05-01T19:00:05"), 118),  # the point between has no heart rate
        Sample(utc("2024-05-01T19:05:00"), 121),
    ]
    assert report.format is Format.TCX
    assert report.imported == 3
    assert report.skipped_total == 0
    assert report.complete


def test_a_tcx_with_prefixed_names_and_stravas_leading_spaces_is_read() -> None:
    data = (
        b'          <?xml version="1.0" encoding="UTF-8"?>\n'
        b'<ns2:TrainingCenterDatabase xmlns:ns2="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
        b"<ns2:Activities><ns2:Activity><ns2:Lap><ns2:Track><ns2:Trackpoint>"
        b"<ns2:Time>2024-05-01T21:00:05.000+02:00</ns2:Time>"
        b"<ns2:HeartRateBpm><ns2:Value>97</ns2:Value></ns2:HeartRateBpm>"
        b"</ns2:Trackpoint></ns2:Track></ns2:Lap></ns2:Activity></ns2:Activities>"
        b"</ns2:TrainingCenterDatabase>"
    )
    samples, report = run(data)
    assert samples == [Sample(utc("2024-05-01T19:00:05"), 97)]
    assert report.format is Format.TCX and report.complete


def test_a_tcx_time_without_an_offset_is_left_for_the_persons_zone() -> None:
    readings = list(tcx_readings(io.BytesIO(tcx(trackpoint("2024-05-01T19:00:05", "90")))))
    assert readings == [(datetime(2024, 5, 1, 19, 0, 5), 90.0)]


def test_a_tcx_time_without_an_offset_is_read_on_the_persons_clock() -> None:
    data = tcx(trackpoint("2024-05-01T21:00:05", "90"))
    heart_rate = read_heart_rate(io.BytesIO(data), now=NOW, zone=ZoneInfo("Europe/Berlin"))
    assert list(heart_rate) == [Sample(utc("2024-05-01T19:00:05"), 90)]


def test_a_bad_trackpoint_is_left_out_as_unreadable() -> None:
    samples, report = run(
        tcx(
            trackpoint("2024-05-01T19:00:00Z", "100"),
            trackpoint("yesterday", "101"),
            trackpoint("2024-05-01T19:00:02Z", "fast"),
            b"   <Trackpoint><HeartRateBpm><Value>102</Value></HeartRateBpm></Trackpoint>\n",
            trackpoint("2024-05-01T19:00:04Z", None),
            trackpoint("2024-05-01T19:00:05Z", "260"),
        )
    )
    assert [s.bpm for s in samples] == [100]
    assert report.skipped[SkipReason.UNREADABLE] == 3
    assert report.skipped[SkipReason.IMPOSSIBLE] == 1
    assert report.complete


def test_a_tcx_cut_short_keeps_the_trackpoints_before() -> None:
    whole = tcx(
        trackpoint("2024-05-01T19:00:00Z", "100"), trackpoint("2024-05-01T19:00:01Z", "101")
    )
    samples, report = run(whole[: whole.rindex(b"<Trackpoint>") + 20])
    assert [s.bpm for s in samples] == [100]
    assert report.problem is not None and "cut short" in report.problem


def test_a_damaged_tcx_stops_at_the_damage() -> None:
    samples, report = run(
        tcx(
            trackpoint("2024-05-01T19:00:00Z", "100"),
            b"   <Trackpoint <Time>\n",
            trackpoint("2024-05-01T19:00:02Z", "102"),
        )
    )
    assert [s.bpm for s in samples] == [100]
    assert report.problem is not None and "damaged at line 6" in report.problem


def test_entity_declarations_in_a_tcx_are_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE TrainingCenterDatabase [\n'
        b'<!ENTITY lol "lol">\n<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
        b"<TrainingCenterDatabase>&lol2;</TrainingCenterDatabase>\n"
    )
    samples, report = run(laughs)
    assert samples == []
    assert report.format is Format.TCX
    assert report.problem is not None and "declares XML entities" in report.problem


def test_an_external_entity_in_a_tcx_is_never_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("2024-05-01T19:00:00Z")
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE TrainingCenterDatabase [\n'
        b'<!ENTITY when SYSTEM "file://' + str(secret).encode() + b'">\n]>\n'
        b"<TrainingCenterDatabase><Trackpoint><Time>&when;</Time>"
        b"<HeartRateBpm><Value>70</Value></HeartRateBpm></Trackpoint></TrainingCenterDatabase>\n"
    )
    samples, report = run(data)
    assert samples == [] and not report.complete


def test_a_long_tcx_gives_its_first_samples_before_it_is_read_whole() -> None:
    def parts() -> Iterator[bytes]:
        yield TCX_HEAD
        start = datetime(2024, 5, 1, 19, 0, tzinfo=UTC)
        for block in range(400):
            points = (
                trackpoint((start + timedelta(seconds=block * 100 + i)).isoformat(), "120")
                for i in range(100)
            )
            yield b"".join(points)
        yield TCX_TAIL

    source = Dribble(parts())
    heart_rate = read_heart_rate(source, now=NOW)
    first = next(iter(heart_rate))
    assert first == Sample(utc("2024-05-01T19:00:00"), 120)
    assert source.read_so_far < 2 * 1024 * 1024  # the whole file is over 3 MB


# ---------------------------------------------------------------- Apple's export_cda.xml


def test_hanas_export_cda_gives_her_heart_rate_observations_only() -> None:
    samples, report = run((DATA / "apple_export_cda.xml").read_bytes())
    assert samples == [
        Sample(datetime(2024, 5, 1, 8, 0, tzinfo=SUMMER), 64),
        Sample(datetime(2024, 5, 1, 19, 30, tzinfo=SUMMER), 72),  # 71.6 rounds to 72
        Sample(datetime(2024, 5, 2, 20, 15, tzinfo=SUMMER), 104),
    ]
    assert report.format is Format.APPLE_HEALTH_CDA
    assert report.skipped_total == 0
    assert report.complete


def test_observations_written_after_the_documents_end_are_read_too() -> None:
    # Some iOS versions close ClinicalDocument early and write more components after it.
    whole = (DATA / "apple_export_cda.xml").read_bytes()
    split = whole.index(b"   <component>\n    <observation", whole.index(b"71.6"))
    data = (
        whole[:split]
        + b"  </organizer>\n </entry>\n</ClinicalDocument>\n<component>\n <section>\n"
        + b'  <entry typeCode="DRIV">\n   <organizer classCode="CLUSTER" moodCode="EVN">\n'
        + whole[split:].replace(b"</ClinicalDocument>", b" </section>\n</component>")
    )
    samples, report = run(data)
    assert [s.bpm for s in samples] == [64, 72, 104]
    assert report.complete


def cda(*observations: bytes) -> bytes:
    return (
        b'<?xml version="1.0"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n<entry><organizer>\n'
        + b"".join(observations)
        + b"</organizer></entry>\n</ClinicalDocument>\n"
    )


def observation(low: str, value: str, *, unit: str = "count/min", code: str = "8867-4") -> bytes:
    return (
        f'<component><observation classCode="OBS" moodCode="EVN">'
        f'<code code="{code}" codeSystem="2.16.840.1.113883.6.1" displayName="Heart rate"/>'
        f'<effectiveTime><low value="{low}"/><high value="{low}"/></effectiveTime>'
        f'<value xsi:type="PQ" value="{value}" unit="{unit}"/></observation></component>\n'
    ).encode()


def test_cda_times_keep_their_offsets_and_seconds() -> None:
    readings = list(
        cda_readings(
            io.BytesIO(
                cda(
                    observation("20190827185844-0230", "82"),
                    observation("20240501080000+0000", "60"),
                    observation("202405010800", "61"),
                )
            )
        )
    )
    assert readings == [
        (datetime(2019, 8, 27, 18, 58, 44, tzinfo=timezone(-timedelta(hours=2, minutes=30))), 82.0),
        (datetime(2024, 5, 1, 8, 0, tzinfo=UTC), 60.0),
        (datetime(2024, 5, 1, 8, 0), 61.0),  # no offset: read later in the person's zone
    ]


@pytest.mark.parametrize(
    "bad",
    [
        observation("20240501", "70"),  # a day, not a moment
        observation("2024-05-01T08:00:00Z", "70"),
        observation("20240501080000+0200", "seventy"),
        observation("20240501080000+0200", "70", unit="mmHg"),
        observation("20241301080000+0200", "70"),
    ],
)
def test_a_bad_heart_rate_observation_is_left_out_as_unreadable(bad: bytes) -> None:
    samples, report = run(cda(observation("20240501090000+0200", "66"), bad))
    assert [s.bpm for s in samples] == [66]
    assert report.skipped[SkipReason.UNREADABLE] == 1


def test_a_cda_cut_short_keeps_what_came_before() -> None:
    whole = cda(observation("20240501080000+0200", "60"), observation("20240501080500+0200", "61"))
    samples, report = run(whole[: whole.rindex(b"<component>") + 30])
    assert [s.bpm for s in samples] == [60]
    assert report.problem is not None and "cut short" in report.problem


def test_entity_declarations_in_a_cda_are_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE ClinicalDocument [\n'
        b'<!ENTITY lol "lol">\n<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
        b'<ClinicalDocument xmlns="urn:hl7-org:v3">&lol2;</ClinicalDocument>\n'
    )
    samples, report = run(laughs)
    assert samples == []
    assert report.format is Format.APPLE_HEALTH_CDA
    assert report.problem is not None and "declares XML entities" in report.problem


def test_a_long_cda_gives_its_first_samples_before_it_is_read_whole() -> None:
    start = datetime(2024, 5, 1, 0, 0)

    def parts() -> Iterator[bytes]:
        yield cda().split(b"</organizer>")[0]
        for block in range(300):
            times = (start + timedelta(minutes=block * 50 + i) for i in range(50))
            yield b"".join(observation(f"{t:%Y%m%d%H%M%S}+0200", "70") for t in times)
        yield b"</organizer></entry>\n</ClinicalDocument>\n"

    source = Dribble(parts())
    first = next(iter(read_heart_rate(source, now=NOW)))
    assert first == Sample(datetime(2024, 5, 1, 0, 0, tzinfo=SUMMER), 70)
    assert source.read_so_far < 2 * 1024 * 1024  # the whole file is over 4 MB


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_holding_only_export_cda_xml_is_read() -> None:
    data = zipped(
        {"apple_health_export/export_cda.xml": (DATA / "apple_export_cda.xml").read_bytes()}
    )
    samples, report = run(data)
    assert [s.bpm for s in samples] == [64, 72, 104]
    assert report.format is Format.APPLE_HEALTH_ZIP and report.complete


def test_export_xml_is_still_preferred_over_export_cda_xml() -> None:
    apple = (DATA / "apple_export.xml").read_bytes().replace(b'value="104"', b'value="99"')
    data = zipped(
        {
            "apple_health_export/export_cda.xml": (DATA / "apple_export_cda.xml").read_bytes(),
            "apple_health_export/export.xml": apple,
        }
    )
    samples, _ = run(data)
    assert [s.bpm for s in samples] == [64, 72, 99]


# ---------------------------------------------------------------- FIT files

MESSAGE = Profile["mesg_num"]
START = datetime(2024, 5, 1, 19, 0, tzinfo=UTC)


def fit(*messages: tuple[str, dict[str, Any]], kind: str = "activity") -> bytes:
    encoder = Encoder()
    encoder.on_mesg(
        MESSAGE["FILE_ID"],
        {
            "type": kind,
            "manufacturer": "garmin",
            "product": 3992,
            "serial_number": 1,
            "time_created": START,
        },
    )
    for name, fields in messages:
        encoder.on_mesg(MESSAGE[name], fields)
    return encoder.close()


def record(seconds: int, bpm: int | None) -> tuple[str, dict[str, Any]]:
    fields: dict[str, Any] = {
        "timestamp": START + timedelta(seconds=seconds),
        "distance": seconds * 2.5,
    }
    if bpm is not None:
        fields["heart_rate"] = bpm
    return ("RECORD", fields)


def test_a_fit_activity_gives_its_records_heart_rates() -> None:
    samples, report = run(fit(record(0, 112), record(1, None), record(5, 118), record(300, 121)))
    assert samples == [
        Sample(utc("2024-05-01T19:00:00"), 112),
        Sample(utc("2024-05-01T19:00:05"), 118),
        Sample(utc("2024-05-01T19:05:00"), 121),
    ]
    assert report.format is Format.FIT
    assert report.skipped_total == 0
    assert report.complete


def fit_seconds(at: datetime) -> int:
    return int(at.timestamp()) - 631065600  # FIT counts from 31 December 1989, UTC


def test_a_fit_monitoring_file_with_short_timestamps_is_read() -> None:
    # Past the point where the low 16 bits of the time go round from 65,535 to 0.
    late = START + timedelta(seconds=0x10000 - (fit_seconds(START) & 0xFFFF) + 30)
    data = fit(
        ("MONITORING", {"timestamp": START, "heart_rate": 61}),
        (
            "MONITORING",
            {"timestamp_16": fit_seconds(START + timedelta(minutes=1)) & 0xFFFF, "heart_rate": 63},
        ),
        ("MONITORING", {"timestamp_16": fit_seconds(START + timedelta(minutes=2)) & 0xFFFF}),
        ("MONITORING", {"timestamp_16": fit_seconds(late) & 0xFFFF, "heart_rate": 58}),
        kind="monitoring_b",
    )
    samples, report = run(data)
    assert samples == [
        Sample(START, 61),
        Sample(START + timedelta(minutes=1), 63),
        Sample(late, 58),
    ]
    assert report.complete


def test_a_fit_record_on_the_devices_own_clock_is_unreadable() -> None:
    # Below 0x10000000 a FIT time counts from the device's power-on, not a date.
    data = fit(("RECORD", {"timestamp": 5000, "heart_rate": 90}), record(10, 91))
    samples, report = run(data)
    assert [s.bpm for s in samples] == [91]
    assert report.skipped[SkipReason.UNREADABLE] == 1


def test_a_fit_file_cut_short_keeps_the_records_before() -> None:
    whole = fit(*(record(second, 100 + second) for second in range(10)))
    samples, report = run(whole[:-30])
    assert 0 < len(samples) < 10
    assert [s.bpm for s in samples] == list(range(100, 100 + len(samples)))
    assert not report.complete
    assert report.problem is not None and "cut short" in report.problem


def test_a_fit_file_failing_its_checksum_says_so() -> None:
    whole = fit(record(0, 100), record(1, 101))
    samples, report = run(whole[:-1] + bytes([whole[-1] ^ 0xFF]))
    assert [s.bpm for s in samples] == [100, 101]
    assert report.problem is not None and "checksum" in report.problem


def test_a_damaged_fit_file_stops_calmly() -> None:
    whole = fit(record(0, 100), record(1, 101), record(2, 102))
    size = len(whole) - len(fit(record(0, 100), record(1, 101)))  # one record's bytes
    last = len(whole) - 2 - size  # the last record's header, before the 2-byte checksum
    damaged = whole[:last] + b"\x0f" + whole[last + 1 :]  # a message type never defined
    samples, report = run(damaged)
    assert [s.bpm for s in samples] == [100, 101]
    assert report.problem is not None and "damaged" in report.problem


def test_a_fit_file_too_large_is_refused_before_reading() -> None:
    header = fit(record(0, 100))[:14]
    with pytest.raises(FitFileTooLarge) as refused:
        read_heart_rate(io.BytesIO(header + bytes(MAX_FIT_BYTES)), now=NOW)
    assert isinstance(refused.value, InvalidEntry)
    assert refused.value.field == "file"
    assert f"{MAX_FIT_BYTES // 1024**2} MB" in refused.value.message


@given(st.binary(max_size=300))
@settings(max_examples=60, deadline=None)
def test_any_bytes_after_a_header_end_in_a_report_never_a_traceback(tail: bytes) -> None:
    fit_start = fit(record(0, 100), record(1, 101))[:40]
    for head in (TCX_HEAD, cda().split(b"</organizer>")[0], fit_start):
        samples, report = run(head + tail)
        assert report.imported == len(samples)
        assert isinstance(report.summary, str)


@given(st.data())
@settings(max_examples=100, deadline=None)
def test_a_fit_file_damaged_anywhere_ends_in_a_report_never_a_traceback(
    data: st.DataObject,
) -> None:
    whole = bytearray(fit(record(0, 100), record(1, 101), ("MONITORING", {"heart_rate": 70})))
    for _ in range(data.draw(st.integers(1, 3))):
        whole[data.draw(st.integers(14, len(whole) - 1))] = data.draw(st.integers(0, 255))
    samples, report = run(bytes(whole))
    assert report.imported == len(samples)
    assert isinstance(report.summary, str)


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("first_bytes", "expected"),
    [
        (TCX_HEAD, Format.TCX),
        (b"     <?xml version='1.0'?>\n<TrainingCenterDatabase>", Format.TCX),
        (b'<ns2:TrainingCenterDatabase xmlns:ns2="x">', Format.TCX),
        (
            b'<?xml version="1.0"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3">',
            Format.APPLE_HEALTH_CDA,
        ),
        (
            b'<?xml version="1.0"?>\n<?xml-stylesheet type="text/xsl" href="CDA.xsl"?>\n'
            b'<ClinicalDocument xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
            Format.APPLE_HEALTH_CDA,
        ),
        (b"\x0e\x20\xe2\x52\x63\x00\x00\x00.FIT\x9a\x47", Format.FIT),
        (b"\x0c\x10\x00\x00\x00\x00\x00\x00.FIT", Format.FIT),
    ],
)
def test_detect_format_recognises_each_device_format(first_bytes: bytes, expected: Format) -> None:
    assert detect_format(first_bytes) is expected
