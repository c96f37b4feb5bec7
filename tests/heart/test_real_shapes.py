"""Shapes found in real export files that our own fixtures had missed.

Each test writes a small file of its own with the shape a real file had; no real
file is copied here. Where the shape came from is said beside each test.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from garmin_fit_sdk import Encoder, Profile

from reconnect.domain.heart.exports.formats import Format
from reconnect.domain.heart.exports.importing import read_heart_rate
from reconnect.domain.heart.exports.report import ImportReport
from reconnect.domain.heart.samples import Sample

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
START = datetime(2024, 6, 2, 6, 30, tzinfo=UTC)
MESSAGE = Profile["mesg_num"]


def run(data: bytes) -> tuple[list[Sample], ImportReport]:
    heart_rate = read_heart_rate(io.BytesIO(data), now=NOW)
    samples = list(heart_rate)
    return samples, heart_rate.report


def fit(*messages: tuple[str, dict[str, Any]]) -> bytes:
    encoder = Encoder()
    encoder.on_mesg(
        MESSAGE["FILE_ID"],
        {"type": "activity", "manufacturer": "garmin", "product": 2691, "time_created": START},
    )
    for name, fields in messages:
        encoder.on_mesg(MESSAGE[name], fields)
    return encoder.close()


def record(seconds: int, bpm: int | None = None) -> tuple[str, dict[str, Any]]:
    fields: dict[str, Any] = {"timestamp": START + timedelta(seconds=seconds)}
    if bpm is not None:
        fields["heart_rate"] = bpm
    return ("RECORD", fields)


def packed_12_bits(values: list[int]) -> list[int]:
    """FIT's event_timestamp_12: the low 12 bits of each beat's time, two in three bytes."""
    out: list[int] = []
    for first, second in zip(values[::2], values[1::2], strict=True):
        out += [first & 0xFF, (first >> 8) | ((second & 0x0F) << 4), second >> 4]
    return out


def stored_beats(
    anchor_seconds: float, anchor_bpm: int, beats: list[tuple[float, int]]
) -> list[tuple[str, dict[str, Any]]]:
    """``hr`` messages as a chest strap stores them (HRM-Swim, HRM-Tri, HRM-Pro).

    An anchor message ties the strap's own beat clock (1/1024 s) to the time, then
    messages of eight beats each give the beats' clock in 12 bits and their rates.
    """
    clock = 900_000.0  # the strap's clock at the anchor, in seconds
    whole = int(anchor_seconds)
    messages = [
        (
            "HR",
            {
                "timestamp": START + timedelta(seconds=whole),
                "fractional_timestamp": anchor_seconds - whole,
                "event_timestamp": clock,
                "filtered_bpm": anchor_bpm,
            },
        )
    ]
    for start in range(0, len(beats), 8):
        eight = beats[start : start + 8]
        ticks = [round((clock + at - anchor_seconds) * 1024) & 0xFFF for at, _ in eight]
        messages.append(
            (
                "HR",
                {
                    "filtered_bpm": [bpm for _, bpm in eight],
                    "event_timestamp_12": packed_12_bits(ticks),
                },
            )
        )
    return messages


# ---------------------------------------------------------------- FIT: heart rate 0

# python-fitparse's null_compressed_speed_dist.fit: 1,808 records, every one with a
# heart_rate of 0, as apps write when no strap is paired; nick.fit has a few among
# real ones where the strap dropped out.


def test_a_fit_heart_rate_of_0_is_no_reading_not_an_impossible_one() -> None:
    samples, report = run(fit(record(0, 0), record(1, 0), record(2, 0)))
    assert samples == []
    assert report.skipped_total == 0
    assert report.summary == "This file holds no heart-rate readings."


def test_a_strap_dropping_out_to_0_leaves_out_only_those_seconds_quietly() -> None:
    samples, report = run(fit(record(0, 131), record(1, 0), record(2, 133)))
    assert [s.bpm for s in samples] == [131, 133]
    assert report.skipped_total == 0


# ---------------------------------------------------------------- FIT: beats stored by the strap

# python-fitparse's event_timestamp.fit: 4,376 records and not one heart_rate, but
# 1,415 ``hr`` messages holding the strap's beats (as Garmin's swim straps store
# them). Garmin's own SDK merges these into the records; we read nothing, and said
# the file held no heart rate.


def test_a_fit_file_whose_heart_rate_is_only_in_the_straps_stored_beats_is_read() -> None:
    beats = [(1.25 + 0.75 * n, 70 + n) for n in range(8)]  # 1.25 s, 2.0 s ... 6.5 s
    data = fit(*(record(second) for second in range(8)), *stored_beats(0.5, 69, beats))
    samples, report = run(data)
    # One reading a second: the first beat in each second, at that whole second.
    assert samples == [
        Sample(START, 69),
        Sample(START + timedelta(seconds=1), 70),
        Sample(START + timedelta(seconds=2), 71),
        Sample(START + timedelta(seconds=3), 73),
        Sample(START + timedelta(seconds=4), 74),
        Sample(START + timedelta(seconds=5), 75),
        Sample(START + timedelta(seconds=6), 77),
    ]
    assert report.format is Format.FIT
    assert report.skipped_total == 0
    assert report.complete


def test_stored_beats_fill_only_the_seconds_the_records_have_no_heart_rate_for() -> None:
    # garmin-fr935-cr.fit (fitdecode's tests): records with heart rates, and the
    # strap's stored beats over the same time; a swim leg's records have none.
    beats = [(float(second), 100 + second) for second in range(1, 9)]
    records = [record(0, 90), record(1, 91), record(2, 92), record(5), record(6), record(7, 97)]
    samples, report = run(fit(*records, *stored_beats(0.0, 99, beats)))
    assert [(int((s.at - START).total_seconds()), s.bpm) for s in samples] == [
        (0, 90),
        (1, 91),
        (2, 92),
        (3, 103),
        (4, 104),
        (5, 105),
        (6, 106),
        (7, 97),
        (8, 108),
    ]
    assert report.skipped_total == 0
