"""Garmin's Training Center XML (``.tcx``): one activity's trackpoints.

Garmin Connect, Fitbit, Strava and many apps export an activity as TCX. The samples
are the ``Trackpoint`` elements that carry a ``HeartRateBpm``; a lap's average and
maximum heart rate are summaries, not readings, and are passed over. The file is
streamed with expat (:mod:`~reconnect.domain.heart.exports.xml_stream`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from reconnect.domain.heart.exports.reading import BinaryReader, Reading
from reconnect.domain.heart.exports.xml_stream import local_name, parsed_readings, xml_chunks

__all__ = ["tcx_readings"]

_ENTITIES_REFUSED = (
    "This file declares XML entities, which a TCX export never does, so it was not read."
)
# A time or a heart rate is a few dozen characters; text beyond this is not a reading
# (and is not held in memory).
_LONGEST_TEXT = 64


def tcx_readings(stream: BinaryReader) -> Iterator[Reading]:
    """A reading per trackpoint with a heart rate, in file order.

    A trackpoint without ``HeartRateBpm`` (GPS only, or the strap dropped out) is
    passed over silently; one whose time or rate cannot be read is ``None``. A time
    written without an offset comes out naive, to be read in the person's zone.
    """
    return parsed_readings(xml_chunks(stream), _Trackpoints(), refused=_ENTITIES_REFUSED)


class _Trackpoints:
    """Follows the path of open elements and gathers each trackpoint's time and rate.

    Only ``Trackpoint/Time`` and ``Trackpoint/HeartRateBpm/Value`` are read, so the
    same ``Value`` under a lap's ``AverageHeartRateBpm`` is never taken for a sample.
    """

    def __init__(self) -> None:
        self.found: list[Reading] = []
        self._path: list[str] = []
        self._text: list[str] | None = None
        self._time: str | None = None
        self._rate: str | None = None

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self._path.append(local_name(name))
        if self._path[-1] == "Trackpoint":
            self._time = self._rate = None
        self._text = [] if self._wanted() is not None else None

    def text(self, data: str) -> None:
        if self._text is not None and sum(map(len, self._text)) < _LONGEST_TEXT:
            self._text.append(data)

    def end(self, name: str) -> None:
        wanted = self._wanted()
        if wanted is not None and self._text is not None:
            value = "".join(self._text).strip()
            if wanted == "time":
                self._time = value
            else:
                self._rate = value
        elif self._path and self._path[-1] == "Trackpoint" and self._rate is not None:
            self.found.append(_reading(self._time, self._rate))
        self._text = None
        if self._path:
            self._path.pop()

    def _wanted(self) -> str | None:
        """``"time"`` or ``"rate"`` when the innermost open element holds one."""
        if self._path[-2:] == ["Trackpoint", "Time"]:
            return "time"
        if self._path[-3:] == ["Trackpoint", "HeartRateBpm", "Value"]:
            return "rate"
        return None


def _reading(time: str | None, rate: str) -> Reading:
    if time is None:
        return None
    try:
        return datetime.fromisoformat(time), float(rate)
    except ValueError:
        return None
