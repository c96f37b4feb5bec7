"""Garmin's FIT files (``.fit``): activities and daily monitoring, read with Garmin's SDK.

Garmin's watches and bike computers, and those of Wahoo, Coros, Suunto and others,
record in FIT, a compact binary format. The samples are the ``heart_rate`` of
``record`` messages (an activity, usually one a second) and of ``monitoring``
messages (the all-day files), with their UTC times, and the beats a chest strap
stores in ``hr`` messages (while swimming, or out of the watch's reach), one a
second, for the seconds the records give no heart rate for.

Garmin's SDK reads a whole file into memory and decodes under a megabyte a second
(a 9 MB file took 15 s and 50 MB more memory on a shared two-core machine), so a
file over :data:`MAX_FIT_BYTES` is refused before any of it is decoded; an activity
file is a few megabytes even for a day's recording.
"""

from __future__ import annotations

import io
import math
import struct
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from garmin_fit_sdk import FIT_EPOCH_S, Decoder, Profile, Stream

from reconnect.domain.heart.exports.reading import BinaryReader, BrokenFile, Reading, read_up_to
from reconnect.domain.validation import InvalidEntry

__all__ = ["MAX_FIT_BYTES", "FitFileTooLarge", "fit_readings", "is_fit"]

MAX_FIT_BYTES = 16 * 1024**2

_RECORD: int = Profile["mesg_num"]["RECORD"]
_MONITORING: int = Profile["mesg_num"]["MONITORING"]
_STORED_BEATS: int = Profile["mesg_num"]["HR"]
# A chest strap counts time in 1/1024 s on its own clock; an hr message gives that
# clock in full (32 bits) or only its low 12 bits, counted on from the beat before.
_BEAT_TICKS = 1024
# FIT times below this count seconds from the device's power-on, not from 1989; a
# time is 32 bits, so one above 0xFFFFFFFF comes from a damaged definition.
_SYSTEM_TIME_BELOW = 0x10000000
_UNREADABLE = -1
_HEADER = struct.Struct("<BBHI4s")


class FitFileTooLarge(InvalidEntry):
    """A FIT file far larger than any activity or monitoring file."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message)


def is_fit(first_bytes: bytes) -> bool:
    """Whether a file starts with a FIT header: its size (12 or 14), then ``.FIT`` at byte 8."""
    return len(first_bytes) >= 12 and first_bytes[0] in (12, 14) and first_bytes[8:12] == b".FIT"


def fit_readings(stream: BinaryReader) -> Iterator[Reading]:
    """A reading per record or monitoring message with a heart rate, in file order,
    and one a second from the strap's stored beats where the records have none.

    The file is read whole here, and refused with :class:`FitFileTooLarge` when it is
    over :data:`MAX_FIT_BYTES`; decoding waits until the readings are asked for.
    Messages without a heart rate (or with 0, as apps write with no strap) are passed
    over; one whose time is missing or on the device's own clock is ``None``. Where the
    file is damaged or cut short, the readings before are yielded, then
    :class:`BrokenFile` says what happened.
    """
    data = read_up_to(stream, MAX_FIT_BYTES + 1)
    if len(data) > MAX_FIT_BYTES:
        raise FitFileTooLarge(
            f"This FIT file is larger than the {MAX_FIT_BYTES // 1024**2} MB we read, far "
            "larger than an activity or a day's monitoring, so nothing was imported. "
            "Upload one activity's file at a time."
        )
    return _decoded(data)


def _decoded(data: bytes) -> Iterator[Reading]:
    heart_rates = _HeartRates()
    decoder = Decoder(Stream.from_bytes_io(io.BytesIO(data)))
    _, errors = decoder.read(
        apply_scale_and_offset=True,
        convert_datetimes_to_dates=False,
        convert_types_to_strings=False,
        enable_crc_check=True,
        expand_sub_fields=False,
        expand_components=False,
        merge_heart_rates=False,
        mesg_listener=heart_rates.listen,
    )
    problem = _fit_break(errors[0], data) if errors else None
    del decoder, data  # the file and the decoder's messages are not needed any more
    for seconds, rate in heart_rates.merged():
        if seconds == _UNREADABLE:
            yield None
        else:
            yield datetime.fromtimestamp(FIT_EPOCH_S + seconds, UTC), float(rate)
    if problem is not None:
        raise BrokenFile(problem)


class _HeartRates:
    """Collects (time, rate) from each message as Garmin's decoder hands it over.

    Kept in two compact arrays, a few bytes a reading. The decoder also keeps every
    message it decodes until it is done; each is emptied here once read, which keeps
    that to a few dozen bytes a message instead of a dictionary of all its fields.
    """

    def __init__(self) -> None:
        self.times = array("q")
        self.rates = array("H")
        self._last_time: int | None = None
        self._beats = _StoredBeats()

    def listen(self, number: int, message: dict[str, Any]) -> None:
        at = self._time(message.get("timestamp"), message.get("timestamp_16"))
        rate = message.get("heart_rate")
        # 0 is what apps write with no strap paired, or when it drops out: no reading.
        if number in (_RECORD, _MONITORING) and isinstance(rate, int) and rate != 0:
            self.times.append(_UNREADABLE if at is None else at)
            # A damaged definition can make any field any size; out of range is impossible.
            self.rates.append(rate if 0 <= rate <= 0xFFFF else 0xFFFF)
        elif number == _STORED_BEATS:
            self._beats.listen(message)
        message.clear()

    def merged(self) -> Iterator[tuple[int, int]]:
        """(time, rate) of every reading; the strap's stored beats fill the seconds
        that no record or monitoring message gives a heart rate for, in time order."""
        beats = zip(self._beats.times, self._beats.rates, strict=True)
        beat = next(beats, None)
        for seconds, rate in zip(self.times, self.rates, strict=True):
            while beat is not None and seconds != _UNREADABLE and beat[0] <= seconds:
                if beat[0] < seconds:
                    yield beat
                beat = next(beats, None)
            yield seconds, rate
        if beat is not None:
            yield beat
            yield from beats

    def _time(self, timestamp: object, short: object) -> int | None:
        """The message's time in FIT seconds, or None when it cannot be known.

        Monitoring files give most times as ``timestamp_16``, the low 16 bits of the
        time, counted on from the time before (a full ``timestamp`` in any message, or
        the last time worked out this way), as Garmin's own decoders do.
        """
        if isinstance(timestamp, int):
            at = timestamp
        elif isinstance(short, int) and self._last_time is not None:
            at = self._last_time + ((short - self._last_time) & 0xFFFF)
        else:
            return None
        self._last_time = at
        return at if _SYSTEM_TIME_BELOW <= at <= 0xFFFFFFFF else None


class _StoredBeats:
    """The beats a chest strap stores in ``hr`` messages, one reading a second.

    An anchor message ties the strap's clock to the time (``timestamp`` and
    ``fractional_timestamp``, with one ``event_timestamp``); the messages after it
    hold up to eight beats each, their clock in ``event_timestamp_12`` (the low 12
    bits, two to three bytes) or ``event_timestamp``, and their ``filtered_bpm``.
    The first beat in each second is kept, at that whole second.
    """

    def __init__(self) -> None:
        self.times = array("q")
        self.rates = array("H")
        self._anchor: tuple[float, int] | None = None  # (FIT seconds, strap ticks)
        self._ticks = 0

    def listen(self, message: dict[str, Any]) -> None:
        timestamp = message.get("timestamp")
        clock = message.get("event_timestamp")
        rates = message.get("filtered_bpm")
        if isinstance(timestamp, int) and isinstance(clock, int | float):
            fraction = message.get("fractional_timestamp")
            self._ticks = round(clock * _BEAT_TICKS)
            self._anchor = (
                timestamp + (fraction if isinstance(fraction, int | float) else 0),
                self._ticks,
            )
            self._beat(rates[0] if isinstance(rates, list) and rates else rates)
            return
        if self._anchor is None or not isinstance(rates, list):
            return
        packed = message.get("event_timestamp_12")
        if isinstance(clock, list):
            clocks = [
                (round(tick * _BEAT_TICKS), 0xFFFFFFFF)
                for tick in clock
                if isinstance(tick, int | float)
            ]
        elif isinstance(packed, list):
            clocks = [(low, 0xFFF) for low in _unpacked_12_bits(packed)]
        else:
            return
        for (low, mask), rate in zip(clocks, rates, strict=False):
            self._ticks += (low - self._ticks) & mask
            self._beat(rate)

    def _beat(self, rate: object) -> None:
        if self._anchor is None or not isinstance(rate, int) or not 0 < rate < 0xFF:
            return
        anchor_seconds, anchor_ticks = self._anchor
        second = math.floor(anchor_seconds + (self._ticks - anchor_ticks) / _BEAT_TICKS)
        if not _SYSTEM_TIME_BELOW <= second <= 0xFFFFFFFF:
            return
        if self.times and self.times[-1] == second:
            return  # one reading a second
        self.times.append(second)
        self.rates.append(rate)


def _unpacked_12_bits(packed: list[Any]) -> Iterator[int]:
    """The 12-bit values packed two to every three bytes, low bits first."""
    for at in range(0, len(packed) - 2, 3):
        first, middle, last = packed[at : at + 3]
        if not (isinstance(first, int) and isinstance(middle, int) and isinstance(last, int)):
            return
        yield first | (middle & 0x0F) << 8
        yield middle >> 4 | last << 4


def _fit_break(error: Exception, data: bytes) -> str:
    """A sentence for what stopped the decoder; its own messages are for developers."""
    said = str(error)
    if "CRC" in said:
        return (
            "This FIT file fails its own checksum, so part of it may be damaged; "
            "the samples read from it were imported."
        )
    if "Compressed timestamp" in said:
        return (
            "This FIT file writes some times in a compressed form we cannot read yet, "
            "so reading stopped there; the samples before that point were imported."
        )
    if len(data) >= _HEADER.size:
        header_size, _, _, data_size, _ = _HEADER.unpack_from(data)
        if len(data) < header_size + data_size + 2:
            return (
                "The file stops part way, as if it was cut short while copying; "
                "the samples before that point were imported."
            )
    return (
        "The file is damaged part way, so reading stopped there; "
        "the samples before that point were imported."
    )
