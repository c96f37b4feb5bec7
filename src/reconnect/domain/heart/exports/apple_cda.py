"""Apple's ``export_cda.xml``: the HL7 CDA document the Health app writes beside export.xml.

A heart rate is an ``observation`` coded LOINC 8867-4, its time in
``effectiveTime/low`` (``20240501080000+0200``) and its rate in a ``value`` of type
PQ. The file is streamed with expat
(:mod:`~reconnect.domain.heart.exports.xml_stream`).

Some exports close ``ClinicalDocument`` early and carry on with more components after
it, which no XML parser accepts. The document is therefore read inside a wrapper
element of our own, so what follows the early close is read like the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from reconnect.domain.heart.exports.reading import BinaryReader, Reading
from reconnect.domain.heart.exports.xml_stream import local_name, parsed_readings, xml_chunks

__all__ = ["HEART_RATE_CODE", "cda_readings"]

HEART_RATE_CODE = "8867-4"
_LOINC = "2.16.840.1.113883.6.1"
# Apple writes count/min; other CDA writers use UCUM's /min or {beats}/min.
_UNITS = frozenset({"count/min", "/min", "{beats}/min", "1/min"})
_ENTITIES_REFUSED = (
    "This file declares XML entities, which Apple's export_cda.xml never does, so it was not read."
)
# HL7's timestamp: YYYYMMDDHHMM[SS[.fraction]][+-HHMM]. A date alone is no moment.
_HL7_TIME = re.compile(
    r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(?:\.(\d{1,6})\d*)?(?:([+-])(\d\d)(\d\d))?"
)
# The wrapper goes just before the root's start tag, looked for this far into the file.
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?ClinicalDocument[\s>/]")
_HEADER_LIMIT = 1024 * 1024
_WRAPPER = b"<reconnect-cda>"
_WRAPPER_END = b"</reconnect-cda>"


def cda_readings(stream: BinaryReader) -> Iterator[Reading]:
    """A reading per heart-rate observation, in file order.

    Other observations (blood pressure, respiratory rate, weight) are passed over
    silently; a heart-rate observation whose time, rate or unit cannot be read is
    ``None``. A time without an offset comes out naive, to be read in the person's zone.
    """
    chunks, wrapped = _wrapped(xml_chunks(stream))
    closing = _WRAPPER_END if wrapped else b""
    yield from parsed_readings(chunks, _Observations(), refused=_ENTITIES_REFUSED, closing=closing)


def _wrapped(chunks: Iterator[bytes]) -> tuple[Iterable[bytes], bool]:
    """The chunks with the wrapper's start tag before the root, and whether it was put.

    Only the header is held back (at most :data:`_HEADER_LIMIT`); a file whose root is
    not found there is read as it is. Line numbers stay true: the tag adds no line.
    """
    head = b""
    for chunk in chunks:
        head += chunk
        if _ROOT.search(head) or len(head) >= _HEADER_LIMIT:
            break
    root = _ROOT.search(head)
    if root is None:
        return _then([head], chunks), False
    return _then([head[: root.start()], _WRAPPER, head[root.start() :]], chunks), True


def _then(first: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


@dataclass
class _Observation:
    depth: int
    code: str | None = None
    system: str | None = None
    time: str | None = None
    value: str | None = None
    unit: str | None = None


class _Observations:
    """Follows the open elements and gathers each observation's own code, time and value.

    Only the observation's direct children count: its narrative ``text`` holds a
    ``value`` too, and the organizer around it an ``effectiveTime`` of its own.
    """

    def __init__(self) -> None:
        self.found: list[Reading] = []
        self._path: list[str] = []
        self._open: list[_Observation] = []

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self._path.append(local_name(name))
        name, depth = self._path[-1], len(self._path)
        if name == "observation":
            self._open.append(_Observation(depth))
            return
        if not self._open:
            return
        observation = self._open[-1]
        below = depth - observation.depth
        if below == 1 and name == "code":
            observation.code = attributes.get("code")
            observation.system = attributes.get("codeSystem")
        elif (below, name) == (1, "effectiveTime") or (
            (below, name) == (2, "low") and self._path[-2] == "effectiveTime"
        ):  # effectiveTime's own value, unless a low inside it follows
            observation.time = attributes.get("value")
        elif below == 1 and name == "value":
            observation.value = attributes.get("value")
            observation.unit = attributes.get("unit")

    def text(self, data: str) -> None:
        pass

    def end(self, name: str) -> None:
        if self._open and self._open[-1].depth == len(self._path):
            observation = self._open.pop()
            if observation.code == HEART_RATE_CODE and observation.system in (None, _LOINC):
                self.found.append(_reading(observation))
        if self._path:
            self._path.pop()


def _reading(observation: _Observation) -> Reading:
    if observation.unit is not None and observation.unit not in _UNITS:
        return None
    at = _hl7_time(observation.time or "")
    try:
        rate = float(observation.value or "")
    except ValueError:
        return None
    return (at, rate) if at is not None else None


def _hl7_time(text: str) -> datetime | None:
    """``20240501080000+0200`` as an aware datetime; naive without an offset."""
    match = _HL7_TIME.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, sign, zone_hours, zone_minutes = (
        match.groups()
    )
    try:
        zone = None
        if sign is not None:
            offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
            zone = timezone(-offset if sign == "-" else offset)
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        return None
