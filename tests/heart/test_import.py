"""Heart-rate imports: each format, the rows left out and why, and files that break."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from xml.parsers import expat
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconnect.domain.heart.exports import apple_health
from reconnect.domain.heart.exports.apple_health import ArchiveTooLarge
from reconnect.domain.heart.exports.formats import ACCEPTED, Format, detect_format
from reconnect.domain.heart.exports.importing import (
    DUPLICATE_MEMORY,
    HeartRateImport,
    read_heart_rate,
)
from reconnect.domain.heart.exports.reading import UnknownFormat
from reconnect.domain.heart.exports.report import ImportReport, SkipReason
from reconnect.domain.heart.samples import Sample
from reconnect.domain.validation import InvalidEntry

DATA = Path(__file__).parent / "data"
NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
SUMMER = timezone(timedelta(hours=2))

APPLE_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<!DOCTYPE HealthData [\n<!ELEMENT HealthData (ExportDate,Me,(Record)*)>\n]>\n"
    b'<HealthData locale="en_GB">\n <ExportDate value="2024-05-02 21:00:00 +0200"/>\n'
)


def apple_record(start: str, value: str, *, unit: str = "count/min") -> bytes:
    return (
        f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="watch" unit="{unit}" '
        f'startDate="{start}" endDate="{start}" value="{value}"/>\n'
    ).encode()


def apple(*records: bytes) -> bytes:
    return APPLE_HEAD + b"".join(records) + b"</HealthData>\n"


def run(data: bytes, **kwargs: object) -> tuple[list[Sample], ImportReport]:
    heart_rate = read_heart_rate(io.BytesIO(data), now=NOW, **kwargs)  # type: ignore[arg-type]
    samples = list(heart_rate)
    return samples, heart_rate.report


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------- each format


def test_hanas_apple_export_gives_her_heart_rate_records_only() -> None:
    samples, report = run((DATA / "apple_export.xml").read_bytes())
    assert samples == [
        Sample(at("2024-05-01 08:00:00+02:00"), 64),
        Sample(at("2024-05-01 19:30:00+02:00"), 72),  # 71.6 rounds to 72
        Sample(at("2024-05-02 20:15:00+02:00"), 104),
    ]
    assert report.format is Format.APPLE_HEALTH_XML
    assert report.imported == 3
    assert report.skipped_total == 0
    assert report.complete
    assert report.first_at == at("2024-05-01 08:00:00+02:00")
    assert report.last_at == at("2024-05-02 20:15:00+02:00")
    assert report.summary == "Imported 3 heart-rate samples from 1 May 2024 to 2 May 2024."


def test_an_apple_export_zip_is_read_from_its_member(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        zipped.write(DATA / "apple_export.xml", "apple_health_export/export.xml")
    with archive.open("rb") as upload:
        heart_rate = read_heart_rate(upload, now=NOW)
        samples = list(heart_rate)
    assert heart_rate.format is Format.APPLE_HEALTH_ZIP
    assert [s.bpm for s in samples] == [64, 72, 104]
    assert heart_rate.report.complete


@pytest.mark.parametrize(
    "member",
    [
        "apple_health_export/Export.xml",  # another case
        "exportación de Salud/export.xml",  # the folder in the phone's language
        "Downloads/health 2024/EXPORT.XML",  # another folder, and deeper
        "export.xml",  # no folder at all
    ],
)
def test_any_member_ending_in_export_xml_is_read(member: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("__MACOSX/apple_health_export/._export.xml", b"\x00\x05\x16\x07")
        zipped.write(DATA / "apple_export.xml", member)
    buffer.seek(0)
    samples, report = run(buffer.getvalue())
    assert report.format is Format.APPLE_HEALTH_ZIP
    assert [s.bpm for s in samples] == [64, 72, 104]
    assert report.complete


def test_export_xml_is_preferred_over_other_members_ending_in_it() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("apple_health_export/old_export.xml", apple())
        zipped.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        zipped.write(DATA / "apple_export.xml", "apple_health_export/export.xml")
    samples, _ = run(buffer.getvalue())
    assert [s.bpm for s in samples] == [64, 72, 104]


def test_the_zip_limits_apply_to_a_member_found_by_its_ending() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Santé/Export.xml", APPLE_HEAD + b" " * (20 * 1024 * 1024))
    with pytest.raises(ArchiveTooLarge, match="unzips to far more"):
        read_heart_rate(io.BytesIO(buffer.getvalue()), now=NOW)


def test_an_ios_16_export_with_its_broken_dtd_is_read() -> None:
    raw = (DATA / "apple_export_ios16.xml").read_bytes()
    with pytest.raises(expat.ExpatError):  # the fixture has the defect
        expat.ParserCreate().Parse(raw, True)
    samples, report = run(raw)
    assert samples == [
        Sample(at("2024-05-01 08:00:00-07:00"), 66),
        Sample(at("2024-05-01 19:30:00-07:00"), 78),
    ]
    assert report.complete, report.problem


def test_an_ios_16_export_is_read_from_its_zip_too() -> None:
    samples, report = run(zipped((DATA / "apple_export_ios16.xml").read_bytes()))
    assert [s.bpm for s in samples] == [66, 78] and report.complete


def test_damage_after_a_repaired_dtd_is_reported_at_its_true_line() -> None:
    raw = (DATA / "apple_export_ios16.xml").read_bytes().replace(b"<Me ", b"<Me <")
    _, report = run(raw)
    assert report.problem is not None and "damaged at line 29" in report.problem


def test_entities_in_a_broken_dtd_are_still_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n'
        b"<!ELEMENT WorkoutActivity (WorkoutEvent*)\n"
        b'<!ENTITY lol "lol">\n<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
        b"]>\n<HealthData>&lol2;</HealthData>\n"
    )
    samples, report = run(laughs)
    assert samples == []
    assert report.problem is not None and "declares XML entities" in report.problem


def test_a_vertical_tab_skips_no_sample() -> None:
    records = [
        apple_record(f"2024-05-01 08:{minute:02}:00 +0200", str(60 + minute)) for minute in range(6)
    ]
    records[2] = records[2].replace(b'sourceName="watch"', b'sourceName="Hana\x0bs watch"')
    records[4] = b" \x0b\x1f\x00" + records[4]
    samples, report = run(apple(*records))
    assert [s.bpm for s in samples] == [60, 61, 62, 63, 64, 65]
    assert report.complete, report.problem


def test_control_characters_across_chunks_are_skipped_in_a_large_file() -> None:
    filler = apple_record("2024-05-01 07:00:00 +0200", "300")  # left out as impossible
    count = (2 * 256 * 1024) // len(filler) + 1
    tabbed = apple_record("2024-05-01 08:00:00 +0200", "70").replace(b" value", b"\x0b value")
    samples, report = run(apple(*([filler] * count), tabbed, *([filler] * count), tabbed))
    assert [s.bpm for s in samples] == [70]  # the second is a repeat
    assert report.skipped[SkipReason.DUPLICATE] == 1 and report.complete


def test_ivans_fitbit_takeout_csv_is_read() -> None:
    samples, report = run((DATA / "fitbit_heart_rate_2024-10-27.csv").read_bytes())
    assert report.format is Format.FITBIT_CSV
    assert samples == [
        Sample(datetime(2024, 10, 27, 0, 0, 4, tzinfo=UTC), 65),
        Sample(datetime(2024, 10, 27, 0, 0, 9, tzinfo=UTC), 62),
        Sample(datetime(2024, 10, 27, 0, 0, 14, tzinfo=UTC), 61),
    ]
    assert report.summary == "Imported 3 heart-rate samples on 27 October 2024."


def test_a_fitbit_csv_without_the_data_source_column_is_read_too() -> None:
    samples, _ = run(b"timestamp,beats per minute\n2024-10-27T00:00:04Z,65.0\n")
    assert samples == [Sample(datetime(2024, 10, 27, 0, 0, 4, tzinfo=UTC), 65)]


def test_a_timestamp_bpm_csv_reads_naive_times_in_the_given_zone() -> None:
    samples, report = run((DATA / "timestamp_bpm.csv").read_bytes(), zone=BERLIN)
    assert report.format is Format.GENERIC_CSV
    assert [(s.at.astimezone(SUMMER).strftime("%H:%M"), s.bpm) for s in samples] == [
        ("08:00", 66),
        ("08:01", 68),  # written without an offset: Berlin summer time
        ("08:02", 70),
    ]
    assert all(s.at.utcoffset() is not None for s in samples)


def test_a_generic_csv_tolerates_a_bom_crlf_extra_columns_and_blank_lines() -> None:
    data = b"\xef\xbb\xbfnote, BPM ,Timestamp\r\nsofa,61,2024-05-01T08:00:00+00:00\r\n\r\n"
    samples, report = run(data)
    assert samples == [Sample(datetime(2024, 5, 1, 8, tzinfo=UTC), 61)]
    assert report.complete and report.skipped_total == 0


def test_naive_times_default_to_utc() -> None:
    samples, _ = run(b"timestamp,bpm\n2024-05-01 08:00:00,61\n")
    assert samples[0].at == datetime(2024, 5, 1, 8, tzinfo=UTC)


def test_the_format_can_be_named_instead_of_detected() -> None:
    samples, report = run(b"timestamp,bpm\n2024-05-01T08:00:00Z,61\n", format=Format.GENERIC_CSV)
    assert report.format is Format.GENERIC_CSV and len(samples) == 1


def test_an_import_is_read_once() -> None:
    heart_rate = read_heart_rate(io.BytesIO(b"timestamp,bpm\n"), now=NOW)
    list(heart_rate)
    with pytest.raises(RuntimeError):
        iter(heart_rate)


def test_now_needs_a_time_zone() -> None:
    with pytest.raises(InvalidEntry):
        read_heart_rate(io.BytesIO(b"timestamp,bpm\n"), now=datetime(2025, 1, 1))


# ---------------------------------------------------------------- rows left out


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (b"2024-05-01T08:00:00Z,24", SkipReason.IMPOSSIBLE),
        (b"2024-05-01T08:00:00Z,251", SkipReason.IMPOSSIBLE),
        (b"2024-05-01T08:00:00Z,24.9", SkipReason.IMPOSSIBLE),
        (b"2024-05-01T08:00:00Z,250.1", SkipReason.IMPOSSIBLE),
        (b"2024-05-01T08:00:00Z,-70", SkipReason.IMPOSSIBLE),
        (b"2024-05-01T08:00:00Z,inf", SkipReason.IMPOSSIBLE),
        (b"2025-01-01T12:00:01Z,70", SkipReason.IN_FUTURE),
        (b"2025-01-01T13:00:01+01:00,70", SkipReason.IN_FUTURE),
        (b"2024-05-01T08:00:00Z,", SkipReason.UNREADABLE),
        (b"2024-05-01T08:00:00Z,seventy", SkipReason.UNREADABLE),
        (b"2024-05-01T08:00:00Z,nan", SkipReason.UNREADABLE),
        (b"yesterday morning,70", SkipReason.UNREADABLE),
        (b"2024-05-01T08:00:00Z", SkipReason.UNREADABLE),
        (b"2024-13-01T08:00:00Z,70", SkipReason.UNREADABLE),
    ],
)
def test_a_bad_csv_row_is_left_out_with_its_reason(row: bytes, reason: SkipReason) -> None:
    data = b"timestamp,bpm\n2024-05-01T07:00:00Z,60\n" + row + b"\n2024-05-01T09:00:00Z,62\n"
    samples, report = run(data)
    assert [s.bpm for s in samples] == [60, 62]  # the rows around it still count
    assert report.skipped == {r: int(r is reason) for r in SkipReason}
    assert report.complete


@pytest.mark.parametrize(
    ("rate", "bpm"), [("25", 25), ("250", 250), ("25.0", 25), ("249.6", 250), ("72.5", 73)]
)
def test_the_ends_of_the_possible_range_are_kept(rate: str, bpm: int) -> None:
    samples, report = run(b"timestamp,bpm\n2024-05-01T08:00:00Z," + rate.encode() + b"\n")
    assert [s.bpm for s in samples] == [bpm] and report.skipped_total == 0


def test_a_reading_exactly_now_is_not_in_the_future() -> None:
    samples, _ = run(b"timestamp,bpm\n2025-01-01T12:00:00Z,70\n")
    assert len(samples) == 1


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (apple_record("2024-05-01 08:00:00 +0200", "260"), SkipReason.IMPOSSIBLE),
        (apple_record("2024-05-01 08:00:00 +0200", "12"), SkipReason.IMPOSSIBLE),
        (apple_record("2026-05-01 08:00:00 +0200", "70"), SkipReason.IN_FUTURE),
        (apple_record("2024-05-01 08:00:00", "70"), SkipReason.UNREADABLE),  # no offset
        (apple_record("1 May 2024", "70"), SkipReason.UNREADABLE),
        (apple_record("2024-05-01 08:00:00 +0200", "fast"), SkipReason.UNREADABLE),
        (apple_record("2024-05-01 08:00:00 +0200", "1.2", unit="count/s"), SkipReason.UNREADABLE),
        (
            b' <Record type="HKQuantityTypeIdentifierHeartRate" unit="count/min" value="70"/>\n',
            SkipReason.UNREADABLE,
        ),
        (apple_record("2024-05-01 07:00:00 +0200", "61"), SkipReason.DUPLICATE),
        (apple_record("2024-05-01 05:00:00 +0000", "63"), SkipReason.DUPLICATE),  # same instant
    ],
)
def test_a_bad_apple_record_is_left_out_with_its_reason(record: bytes, reason: SkipReason) -> None:
    samples, report = run(
        apple(
            apple_record("2024-05-01 07:00:00 +0200", "60"),
            record,
            apple_record("2024-05-01 09:00:00 +0200", "62"),
        )
    )
    assert [s.bpm for s in samples] == [60, 62]
    assert report.skipped == {r: int(r is reason) for r in SkipReason}


def test_the_summary_counts_what_was_left_out_calmly() -> None:
    data = b"timestamp,bpm\n" + b"".join(
        [
            b"2024-05-01T08:00:00Z,70\n",
            b"2024-05-01T08:00:00Z,70\n",
            b"2024-05-01T08:01:00Z,300\n",
            b"2024-05-01T08:02:00Z,20\n",
            b"2030-05-01T08:02:00Z,70\n",
            b"soon,70\n",
        ]
    )
    _, report = run(data)
    assert report.summary == (
        "Imported 1 heart-rate sample on 1 May 2024. Left out 5: 1 row we could not read, "
        "2 heart rates outside 25 to 250 bpm, 1 time in the future, 1 repeated reading."
    )


def test_an_export_with_nothing_usable_says_so() -> None:
    _, report = run(b"timestamp,bpm\n2024-05-01T08:00:00Z,7\n")
    assert report.imported == 0 and report.first_at is None
    assert report.summary.startswith("No heart-rate samples were imported. Left out 1:")


def test_duplicates_are_remembered_over_a_bounded_stretch() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    times = range(DUPLICATE_MEMORY + 1)
    rows = [f"{(start + timedelta(seconds=i)).isoformat()},70\n" for i in times]
    near = rows[-1]  # repeated straight after: caught
    far = rows[0]  # repeated after DUPLICATE_MEMORY newer times: left to the store
    data = ("timestamp,bpm\n" + "".join(rows) + near + far).encode()
    _, report = run(data)
    assert report.skipped[SkipReason.DUPLICATE] == 1
    assert report.imported == DUPLICATE_MEMORY + 2


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(
                min_value=datetime(2020, 1, 1),
                max_value=datetime(2026, 1, 1),
                timezones=st.just(UTC),
            ),
            st.integers(-10, 400),
        ),
        max_size=40,
    )
)
def test_every_row_is_either_imported_or_counted(rows: list[tuple[datetime, int]]) -> None:
    body = "".join(f"{when.isoformat()},{rate}\n" for when, rate in rows)
    samples, report = run(("timestamp,bpm\n" + body).encode())
    assert report.imported == len(samples)
    assert report.imported + report.skipped_total == len(rows)
    assert len({s.at for s in samples}) == len(samples)
    assert all(25 <= s.bpm <= 250 and s.at <= NOW for s in samples)
    if samples:
        assert report.first_at == min(s.at for s in samples)
        assert report.last_at == max(s.at for s in samples)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_after_a_header_end_in_a_report_never_a_traceback(tail: bytes) -> None:
    for head in (b"timestamp,bpm\n", b"timestamp,beats per minute\n", APPLE_HEAD):
        samples, report = run(head + tail)
        assert report.imported == len(samples)
        assert isinstance(report.summary, str)


# ---------------------------------------------------------------- files that break


def test_an_apple_export_cut_mid_element_keeps_what_came_before() -> None:
    whole = apple(
        apple_record("2024-05-01 08:00:00 +0200", "60"),
        apple_record("2024-05-01 08:05:00 +0200", "61"),
    )
    cut = whole[: whole.rindex(b"<Record") + 40]
    samples, report = run(cut)
    assert [s.bpm for s in samples] == [60]
    assert not report.complete
    assert report.problem is not None and "cut short" in report.problem
    assert report.summary.startswith("Imported 1 heart-rate sample on 1 May 2024. The file stops")


def test_an_apple_export_without_its_closing_tag_is_flagged() -> None:
    whole = apple(apple_record("2024-05-01 08:00:00 +0200", "60"))
    samples, report = run(whole.replace(b"</HealthData>\n", b""))
    assert [s.bpm for s in samples] == [60]
    assert not report.complete


def test_a_damaged_apple_export_stops_at_the_damage() -> None:
    data = apple(
        apple_record("2024-05-01 08:00:00 +0200", "60"),
        b" <Record type=oops>\n",
        apple_record("2024-05-01 08:10:00 +0200", "62"),
    )
    samples, report = run(data)
    assert [s.bpm for s in samples] == [60]
    assert report.problem is not None and "damaged at line 8" in report.problem


def test_entity_declarations_are_refused_before_any_expansion() -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n'
        b'<!ENTITY lol "lol">\n<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
        b"]>\n<HealthData>&lol2;</HealthData>\n"
    )
    samples, report = run(laughs)
    assert samples == []
    assert report.problem is not None and "declares XML entities" in report.problem


def test_an_external_entity_is_never_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("2024-05-01 08:00:00 +0200")
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n'
        b'<!ENTITY when SYSTEM "file://' + str(secret).encode() + b'">\n]>\n'
        b'<HealthData><Record type="HKQuantityTypeIdentifierHeartRate" '
        b'startDate="&when;" value="70"/></HealthData>\n'
    )
    samples, report = run(data)
    assert samples == [] and not report.complete


def test_a_csv_with_a_broken_header_reads_nothing_and_says_why() -> None:
    samples, report = run(b"time,pulse\n2024-05-01T08:00:00Z,70\n", format=Format.GENERIC_CSV)
    assert samples == []
    assert report.problem == (
        "The first line should name the columns timestamp and bpm; it does not, "
        "so nothing was read."
    )


def test_a_csv_cut_mid_row_keeps_the_rows_before() -> None:
    samples, report = run(b"timestamp,bpm\n2024-05-01T08:00:00Z,70\n2024-05-01T08:0")
    assert [s.bpm for s in samples] == [70]
    assert report.problem is not None and "part way through a row" in report.problem


def test_a_last_row_without_a_newline_is_fine_when_whole() -> None:
    samples, report = run(b"timestamp,bpm\n2024-05-01T08:00:00Z,70")
    assert len(samples) == 1 and report.complete


def test_a_line_that_is_not_text_is_one_unreadable_row() -> None:
    data = (
        b"timestamp,bpm\n2024-05-01T08:00:00Z,70\n\xff\xfe7\xc3,70\n"
        b"2024-05-01T08:01:00Z,71,\xff\n2024-05-01T08:02:00Z,72\n"
    )
    samples, report = run(data)
    assert [s.bpm for s in samples] == [70, 71, 72]
    assert report.skipped[SkipReason.UNREADABLE] == 1
    assert report.complete


def test_a_quote_left_open_stops_the_import_without_reading_the_rest_whole() -> None:
    good = b"2024-05-01T08:00:00Z,70\n"
    data = b"timestamp,bpm\n" + good + b'2024-05-01T08:01:00Z,"7\n' + good * 20_000
    samples, report = run(data)
    assert [s.bpm for s in samples] == [70]
    assert report.problem is not None and "of the file is damaged" in report.problem


def test_an_endless_line_is_not_read_whole() -> None:
    samples, report = run(b"timestamp,bpm\n2024-05-01T08:00:00Z,70\n" + b"7" * 200_000)
    assert len(samples) == 1
    assert report.problem is not None and "far too long" in report.problem


def test_a_damaged_zip_is_refused_calmly(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(DATA / "apple_export.xml", "apple_health_export/export.xml")
    cut = archive.read_bytes()[:300]
    with pytest.raises(UnknownFormat, match="damaged or incomplete"):
        read_heart_rate(io.BytesIO(cut), now=NOW)


def test_a_zip_without_an_apple_export_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("holiday.jpg", b"not a photo")
    buffer.seek(0)
    with pytest.raises(UnknownFormat, match=r"no export\.xml inside") as refused:
        read_heart_rate(buffer, now=NOW)
    assert "it holds: holiday.jpg" in refused.value.message
    assert refused.value.message.endswith(ACCEPTED)  # what to upload instead


def test_a_zip_member_damaged_inside_keeps_what_was_read(tmp_path: Path) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    times = [start + timedelta(minutes=m) for m in range(3000)]  # well over one read
    records = [apple_record(f"{t:%Y-%m-%d %H:%M:%S %z}", "70") for t in times]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("apple_health_export/export.xml", apple(*records))
    data = bytearray(buffer.getvalue())
    spot = data.rindex(b'value="70"')
    data[spot + 7] = ord("1")  # the stored bytes no longer match the checksum
    samples, report = run(bytes(data))
    assert 1000 < len(samples) < 3000  # the reads before the last one were imported
    assert report.problem is not None and "could not be read to the end" in report.problem


# ---------------------------------------------------------------- zip bombs


def zipped(member: bytes, *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("apple_health_export/export.xml", member)
    return buffer.getvalue()


def declaring(archive: bytes, size: int) -> bytes:
    """The same archive, its table of contents claiming the member unzips to ``size``."""
    data = bytearray(archive)
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = size.to_bytes(4, "little")
    return bytes(data)


def test_a_zip_that_unzips_far_beyond_its_size_is_refused_before_reading() -> None:
    bomb = zipped(APPLE_HEAD + b" " * (20 * 1024 * 1024) + b"</HealthData>\n")
    assert len(bomb) < 100_000
    with pytest.raises(ArchiveTooLarge, match="unzips to far more") as refused:
        read_heart_rate(io.BytesIO(bomb), now=NOW)
    assert "export.xml" in str(refused.value)


def test_a_zip_whose_member_claims_more_than_the_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 4 GiB and more needs zip64 headers; a lower limit shows the same check.
    monkeypatch.setattr(apple_health, "MAX_UNZIPPED_BYTES", 1024**3)
    record = apple_record("2024-05-01 08:00:00 +0200", "70")
    claimed = declaring(zipped(apple(record), method=zipfile.ZIP_STORED), 0xFFFF_FFF0)
    with pytest.raises(ArchiveTooLarge, match="larger than"):
        read_heart_rate(io.BytesIO(claimed), now=NOW)


def test_a_zip_member_that_unzips_past_what_it_declared_stops_there() -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    records = [
        apple_record(f"{start + timedelta(minutes=m):%Y-%m-%d %H:%M:%S %z}", "70")
        for m in range(3000)
    ]
    honest = zipped(apple(*records))
    samples, report = run(declaring(honest, 200_000))  # the member says it is smaller
    assert len(samples) < 3000
    assert report.problem is not None and "could not be read to the end" in report.problem


def test_only_the_compression_apple_uses_is_unzipped() -> None:
    record = apple_record("2024-05-01 08:00:00 +0200", "70")
    with pytest.raises(UnknownFormat, match="compressed in a way"):
        read_heart_rate(io.BytesIO(zipped(apple(record), method=zipfile.ZIP_BZIP2)), now=NOW)


def test_an_ordinary_export_zip_is_well_inside_the_limits() -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    records = [
        apple_record(f"{start + timedelta(minutes=m):%Y-%m-%d %H:%M:%S %z}", str(60 + m % 40))
        for m in range(5000)
    ]
    samples, report = run(zipped(apple(*records)))
    assert len(samples) == 5000 and report.complete


# ---------------------------------------------------------------- format detection


@pytest.mark.parametrize(
    ("first_bytes", "expected"),
    [
        (APPLE_HEAD, Format.APPLE_HEALTH_XML),
        (b'\xef\xbb\xbf\n<HealthData locale="en">', Format.APPLE_HEALTH_XML),
        (b"PK\x03\x04\x14\x00", Format.APPLE_HEALTH_ZIP),
        (b"timestamp,beats per minute,data source\n", Format.FITBIT_CSV),
        (b"timestamp,beats per minute", Format.FITBIT_CSV),
        (b"timestamp,bpm\n2024", Format.GENERIC_CSV),
        (b'"Timestamp", "BPM"\r\n', Format.GENERIC_CSV),
    ],
)
def test_detect_format_recognises_each_format(first_bytes: bytes, expected: Format) -> None:
    assert detect_format(first_bytes) is expected


@pytest.mark.parametrize(
    ("first_bytes", "words"),
    [
        (b"", "The file is empty."),
        (b"  \n ", "The file is empty."),
        (b"<html><body>hello</body></html>", "not an Apple Health export"),
        (b"time,pulse\n", "this one has: time, pulse."),
        (b"\x89PNG\r\n\x1a\n\xff\xfe", "could not read this file as text"),
        (b"%PDF-1.7\n", "this one has: %pdf-1.7."),
    ],
)
def test_detect_format_says_plainly_what_it_cannot_read(first_bytes: bytes, words: str) -> None:
    with pytest.raises(UnknownFormat) as caught:
        detect_format(first_bytes)
    assert words in caught.value.message
    assert caught.value.field == "file"


def test_an_unknown_file_is_refused_before_anything_is_read() -> None:
    with pytest.raises(UnknownFormat):
        read_heart_rate(io.BytesIO(b"name,age\nHana,41\n"), now=NOW)


def test_a_stream_that_hands_back_small_pieces_is_still_detected() -> None:
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = data

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            piece, self._data = self._data[:7], self._data[7:]
            return piece

    heart_rate = read_heart_rate(Trickle((DATA / "apple_export.xml").read_bytes()), now=NOW)
    assert isinstance(heart_rate, HeartRateImport)
    assert [s.bpm for s in heart_rate] == [64, 72, 104]
