"""JSON exports: Fitbit's own data export, FHIR heart-rate Observations, Open mHealth heart rate.

- Fitbit's ``heart_rate-YYYY-MM-DD.json``: a list of
  ``{"dateTime": "10/27/24 07:00:05", "value": {"bpm": 62, "confidence": 2}}``, in UTC.
- FHIR: Observations coded LOINC 8867-4 (heart rate), alone, in a Bundle's entries, or
  one per line (ndjson). Other resources and other Observations are passed over.
- Open mHealth ``heart-rate`` data points, or their bare bodies, alone or in a list. Data
  points of other schemas are passed over.

Every file is parsed as a stream with ijson, 64 KiB at a time, and only one entry,
resource or data point is ever built whole, so memory does not grow with the file. A time
written without an offset is yielded naive: the importer reads it in the person's zone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import accumulate
from operator import itemgetter
from typing import IO, Any

import ijson

from reconnect.domain.heart.exports.reading import BrokenFile, Reading

__all__ = ["fhir_readings", "fitbit_readings", "open_mhealth_readings"]

# Bytes handed to the parser at a time: what it finds in one piece is held at once.
_PIECE = 64 * 1024

# How deep values may nest. Real exports nest a few levels (a FHIR Bundle's coding sits
# at seven); ijson keeps a path string per level, so its memory grows with the square
# of the depth (20 KB of "[" would take 1 GB).
_MAX_DEPTH = 100
_NESTING = defaultdict(int, start_map=1, start_array=1, end_map=-1, end_array=-1)

# Fitbit writes its heart-rate times as month/day/two-digit year and a 24-hour clock, in UTC.
_FITBIT_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4}) (\d{1,2}):(\d{2}):(\d{2})")

_LOINC = "http://loinc.org"
_HEART_RATE_LOINC = "8867-4"
# FHIR Observations that are not real readings: withdrawn, or never made.
_NOT_READINGS = frozenset({"entered-in-error", "cancelled"})
# Ways a FHIR or Open mHealth heart rate writes "beats per minute" (UCUM codes first).
_PER_MINUTE = frozenset(
    {"/min", "{beats}/min", "{beat}/min", "1/min", "beats/min", "beats/minute", "bpm"}
)
_OPEN_MHEALTH_SCHEMA = "heart-rate"

_CUT_SHORT = (
    "The file ends part way, as if it was cut short; the readings before that point were imported."
)
_TOO_DEEP = (
    "The file nests its data far deeper than any heart-rate export does, so reading stopped there."
)
_DAMAGED = (
    "The file is damaged part way (it stops being valid JSON there), so reading stopped; "
    "the readings before that point were imported."
)


# ---------------------------------------------------------------- Fitbit


def fitbit_readings(stream: IO[bytes]) -> Iterator[Reading]:
    """A reading per entry of a Fitbit ``heart_rate-*.json`` list."""
    for entry in _parsed(stream, lambda found: ijson.items_coro(found, "item", use_float=True)):
        yield _fitbit_reading(entry)


def _fitbit_reading(entry: object) -> Reading:
    """An entry's time and rate; None when either is missing, or Fitbit had no confidence.

    Fitbit rates every reading's confidence from 0 to 3. At 0 the tracker itself could
    not trust the pulse it saw (loose on the wrist, just put on, moving hard), and a
    false high reading there could look like flooding, so such a reading is left out
    and counted as unreadable.
    """
    if not isinstance(entry, dict):
        return None
    value = entry.get("value")
    if not isinstance(value, dict) or value.get("confidence") == 0:
        return None
    rate = _number(value.get("bpm"))
    at = _fitbit_time(entry.get("dateTime"))
    if rate is None or at is None:
        return None
    return at, rate


def _fitbit_time(text: object) -> datetime | None:
    match = _FITBIT_TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    month, day, year, hour, minute, second = map(int, match.groups())
    try:
        return datetime(
            year + 2000 if year < 100 else year, month, day, hour, minute, second, tzinfo=UTC
        )
    except ValueError:
        return None


# ---------------------------------------------------------------- FHIR


def fhir_readings(stream: IO[bytes]) -> Iterator[Reading]:
    """A reading per heart-rate Observation: at the top, in a Bundle's entries, or per line.

    A Bundle's entries are built one at a time; the rest of each top-level value (a
    lone Observation, or a Bundle's own few fields) is built whole once it ends.
    """
    top: _Building | None = None
    entry: _Building | None = None
    in_list = False
    for prefix, event, value in _events(stream):
        if entry is not None:
            if entry.feed(event, value):
                yield from _fhir_resource(entry.value)
                entry = None
        elif event == "start_map" and (
            prefix == "entry.item.resource" or (in_list and prefix == "item")
        ):
            entry = _Building()
            entry.feed(event, value)
        elif prefix == "" and event in ("start_array", "end_array"):
            in_list = event == "start_array"  # a bare list of resources
        elif in_list or _in_entries(prefix, event, value):
            continue
        elif top is not None or (prefix == "" and event == "start_map"):
            top = top or _Building()
            if top.feed(event, value):
                yield from _fhir_resource(top.value)
                top = None


def _in_entries(prefix: str, event: str, value: object) -> bool:
    """Whether a parser event belongs to a Bundle's ``entry`` list (built one by one)."""
    if prefix == "":
        return event == "map_key" and value == "entry"
    return prefix == "entry" or prefix.startswith("entry.")


def _fhir_resource(resource: object) -> Iterator[Reading]:
    """The resource's reading if it is a heart-rate Observation; nothing for any other."""
    if (
        isinstance(resource, dict)
        and resource.get("resourceType") == "Observation"
        and resource.get("status") not in _NOT_READINGS
        and _codes_heart_rate(resource.get("code"))
    ):
        yield _fhir_reading(resource)


def _codes_heart_rate(code: object) -> bool:
    codings = code.get("coding") if isinstance(code, dict) else None
    return isinstance(codings, list) and any(
        isinstance(coding, dict)
        and coding.get("code") == _HEART_RATE_LOINC
        and coding.get("system", _LOINC) == _LOINC
        for coding in codings
    )


def _fhir_reading(observation: dict[str, Any]) -> Reading:
    when = observation.get("effectiveDateTime") or observation.get("effectiveInstant")
    period = observation.get("effectivePeriod")
    if when is None and isinstance(period, dict):
        when = period.get("start")
    quantity = observation.get("valueQuantity")
    if not isinstance(quantity, dict):
        return None
    unit = quantity.get("code") or quantity.get("unit")
    if unit is not None and unit not in _PER_MINUTE:
        return None
    return _reading(when, quantity.get("value"))


# ---------------------------------------------------------------- Open mHealth


def open_mhealth_readings(stream: IO[bytes]) -> Iterator[Reading]:
    """A reading per heart-rate data point (or bare body): alone, in a list, or per line."""
    point: _Building | None = None
    for prefix, event, value in _events(stream):
        if point is None and event == "start_map" and prefix in ("", "item"):
            point = _Building()
        if point is not None and point.feed(event, value):
            yield from _open_mhealth_point(point.value)
            point = None


def _open_mhealth_point(point: object) -> Iterator[Reading]:
    """The reading of a heart-rate data point or body; nothing for one of another schema."""
    if not isinstance(point, dict):
        return
    body: object = point
    if "body" in point:
        header = point.get("header")
        schema = header.get("schema_id") if isinstance(header, dict) else None
        name = schema.get("name") if isinstance(schema, dict) else None
        if name not in (None, _OPEN_MHEALTH_SCHEMA):
            return
        body = point["body"]
    # A statistic (a day's minimum, an hour's average) is a summary, not a reading.
    if isinstance(body, dict) and "heart_rate" in body and "descriptive_statistic" not in body:
        yield _open_mhealth_reading(body)


def _open_mhealth_reading(body: dict[str, Any]) -> Reading:
    rate = body["heart_rate"]
    frame = body.get("effective_time_frame")
    if not isinstance(rate, dict) or not isinstance(frame, dict):
        return None
    if rate.get("unit", "beats/min") not in _PER_MINUTE:
        return None
    when = frame.get("date_time")
    interval = frame.get("time_interval")
    if when is None and isinstance(interval, dict):
        when = interval.get("start_date_time")
    return _reading(when, rate.get("value"))


# ---------------------------------------------------------------- shared


def _reading(when: object, value: object) -> Reading:
    """A reading from an ISO 8601 moment and a number, or None when either is not one."""
    at = _moment(when)
    rate = _number(value)
    if at is None or rate is None:
        return None
    return at, rate


def _moment(text: object) -> datetime | None:
    """An ISO 8601 date and time (naive when written without an offset); a bare day is not one."""
    if not isinstance(text, str) or len(text) < 16 or text[10] not in "Tt ":
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class _Building:
    """One JSON value being built from parser events, and how deep the parser is in it."""

    def __init__(self) -> None:
        self._builder = ijson.ObjectBuilder()
        self._depth = 0

    def feed(self, event: str, value: object) -> bool:
        """Add one event; True once the value is whole."""
        self._builder.event(event, value)
        if event in ("start_map", "start_array"):
            self._depth += 1
        elif event in ("end_map", "end_array"):
            self._depth -= 1
        return self._depth == 0

    @property
    def value(self) -> object:
        return self._builder.value


def _events(stream: IO[bytes]) -> Iterator[tuple[str, str, object]]:
    """The parser's events for every top-level value in the file (one, or one per line)."""
    return _parsed(
        stream, lambda found: ijson.parse_coro(found, multiple_values=True, use_float=True)
    )


def _parsed(stream: IO[bytes], start: Callable[[Any], Any]) -> Iterator[Any]:
    """What the parser ``start(found)`` puts in ``found``, as the file is fed to it.

    What was found before damage is still given; then :class:`BrokenFile` says where
    the file stopped being readable.
    """
    found = ijson.sendable_list()
    parser = start(found)
    nesting = _Nesting()
    problem = None
    for piece in _pieces(stream):
        try:
            nesting.check(piece)
            parser.send(piece)
        except ijson.JSONError:
            problem = _DAMAGED
        yield from found
        del found[:]
        if problem:
            raise BrokenFile(problem)
    try:
        parser.close()
    except ijson.JSONError as error:
        problem = _CUT_SHORT if "premature EOF" in str(error) else _DAMAGED
    yield from found
    if problem:
        raise BrokenFile(problem)


class _Nesting:
    """How deep the file's values nest, checked on each piece before the parser sees it.

    A fast parser that only reports where values start and end reads the piece first;
    a piece that goes deeper than ``_MAX_DEPTH`` raises :class:`BrokenFile` before the
    parser that keeps paths can take the memory. Damage is left to that parser to find.
    """

    def __init__(self) -> None:
        self._events = ijson.sendable_list()
        self._scanner = ijson.basic_parse_coro(self._events, multiple_values=True)
        self._depth = 0
        self._damaged = False

    def check(self, piece: bytes) -> None:
        if self._damaged:
            raise BrokenFile(_DAMAGED)
        try:
            self._scanner.send(piece)
        except ijson.JSONError:
            self._damaged = True  # the parser stops at the same place
        steps = list(map(_NESTING.__getitem__, map(itemgetter(0), self._events)))
        del self._events[:]
        deepest = max(accumulate(steps, initial=self._depth))
        self._depth += sum(steps)
        if deepest > _MAX_DEPTH:
            raise BrokenFile(_TOO_DEEP)


def _pieces(stream: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes a piece at a time, without a leading byte-order mark."""
    first = True
    while True:
        try:
            piece = stream.read(_PIECE)
        except (OSError, EOFError):
            raise BrokenFile(
                "The file could not be read to the end (it may be damaged); "
                "the readings before that point were imported."
            ) from None
        if not piece:
            return
        if first:
            piece = piece.removeprefix(b"\xef\xbb\xbf")
            first = False
        yield piece
