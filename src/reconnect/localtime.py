"""Local time: every day, week and time a person sees is in their own time zone.

Times are stored in UTC; a person (and a couple, for its shared days) has an IANA zone
name. This module is the one place that checks a zone name, turns a UTC moment into a
local one, cuts local days and weeks, and writes a time the way the pages show it.
It is pure: no database, no request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TypeAlias
from zoneinfo import TZPATH, ZoneInfo, available_timezones

from reconnect.errors import Problem

__all__ = [
    "DEFAULT_ZONE",
    "ZONE_NAME_MAX",
    "Local",
    "Zone",
    "at_hour",
    "check_zone",
    "day_bounds",
    "day_start",
    "from_local",
    "is_known",
    "local_day",
    "to_local",
    "week_bounds",
    "week_start",
    "zone",
    "zone_choices",
]

DEFAULT_ZONE = "UTC"
# Zone names in the IANA database are at most 32 characters; the column holds 64.
ZONE_NAME_MAX = 64
# Old aliases that the database still carries; they are accepted but not offered.
_NOT_OFFERED = ("Etc/", "SystemV/", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/")

# A zone, or a stored zone name.
Zone: TypeAlias = tzinfo | str


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def is_known(name: str) -> bool:
    """True for a zone name in the IANA database, such as "Europe/Paris" or "UTC"."""
    return 0 < len(name) <= ZONE_NAME_MAX and name in _known()


def check_zone(name: str) -> str:
    """The name itself if it is a known IANA zone; otherwise a Problem (422)."""
    name = name.strip()
    if not is_known(name):
        raise Problem(
            "invalid_time_zone",
            "That time zone is not one we know. Please choose one from the list, "
            "such as Europe/London or America/Los_Angeles.",
            422,
        )
    return name


@cache
def zone(name: str) -> ZoneInfo:
    """The zone for a stored name; UTC for a name the database no longer has."""
    return ZoneInfo(name if is_known(name) else DEFAULT_ZONE)


@cache
def zone_choices() -> tuple[str, ...]:
    """The zone names a person picks from: the current IANA names, sorted, and UTC."""
    offered = (n for n in _known() if "/" in n and not n.startswith(_NOT_OFFERED))
    return (DEFAULT_ZONE, *sorted(offered))


@cache
def _zone_countries() -> dict[str, str]:
    """Each zone's country (ISO 3166 code) from the time-zone database's ``zone.tab``."""
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, OSError):
        tables = (Path(folder, "zone.tab") for folder in TZPATH)
        text = next((t.read_text("utf-8") for t in tables if t.is_file()), "")
    rows = (line.split("\t") for line in text.splitlines() if not line.startswith("#"))
    return {row[2]: row[0] for row in rows if len(row) >= 3}


def country_of(name: str) -> str | None:
    """The country a zone is in ("Europe/London" → "GB"), or None for "UTC" and the like."""
    return _zone_countries().get(name)


def _tz(where: Zone) -> tzinfo:
    return zone(where) if isinstance(where, str) else where


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a stored time must carry its time zone (UTC)")
    return moment


def to_local(moment: datetime, where: Zone) -> datetime:
    """The same instant, on the clock of ``where``."""
    return _aware(moment).astimezone(_tz(where))


def from_local(moment: datetime, where: Zone) -> datetime:
    """A wall-clock time as read in ``where`` (a form's ``datetime-local`` value, which
    has no offset) as a UTC instant. An aware time keeps its own offset. Of the two
    readings of an hour repeated when clocks go back, the first is taken."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_tz(where))
    return moment.astimezone(UTC)


def local_day(moment: datetime, where: Zone) -> date:
    """The calendar day of ``moment`` as lived in ``where``."""
    return to_local(moment, where).date()


def day_start(day: date, where: Zone) -> datetime:
    """The UTC instant at which ``day`` begins in ``where`` (its local midnight)."""
    return datetime.combine(day, time(), tzinfo=_tz(where)).astimezone(UTC)


def day_bounds(day: date, where: Zone) -> tuple[datetime, datetime]:
    """``day`` in ``where`` as UTC instants: [start, end). Not always 24 hours long."""
    return day_start(day, where), day_start(day + timedelta(days=1), where)


def at_hour(day: date, hour: int, where: Zone, minute: int = 0) -> datetime:
    """``hour:minute`` on ``day`` in ``where`` (aware, in that zone)."""
    return datetime.combine(day, time(hour, minute), tzinfo=_tz(where))


def week_start(day: date) -> date:
    """The Monday of the week holding ``day``."""
    return day - timedelta(days=day.weekday())


def week_bounds(day: date, where: Zone) -> tuple[datetime, datetime]:
    """The local week (Monday to Sunday) holding ``day``, as UTC instants: [start, end)."""
    monday = week_start(day)
    return day_start(monday, where), day_start(monday + timedelta(days=7), where)


@dataclass(frozen=True)
class Local:
    """How one person sees times: their zone, and the few formats the pages use.

    Templates get one as ``local``: ``{{ local.moment(n.at) }}`` shows "Tue 3 Mar, 19:20".
    """

    zone_name: str = DEFAULT_ZONE

    @classmethod
    def of(cls, name: str | None) -> Local:
        return cls(name if name and is_known(name) else DEFAULT_ZONE)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.zone_name)

    def at(self, moment: datetime) -> datetime:
        return to_local(moment, self.tz)

    def today(self, now: datetime) -> date:
        return local_day(now, self.tz)

    def short_name(self, moment: datetime) -> str:
        """The zone's abbreviation at that moment ("PST", "CEST"), or its offset."""
        return self.at(moment).tzname() or self.zone_name

    def time(self, moment: datetime, *, with_zone: bool = False) -> str:
        """ "19:20", or "19:20 PST" when the zone helps (a time two people read)."""
        text = f"{self.at(moment):%H:%M}"
        return f"{text} {self.short_name(moment)}" if with_zone else text

    def day(self, moment: datetime | date) -> str:
        """ "Tue 3 Mar"."""
        value = self.at(moment) if isinstance(moment, datetime) else moment
        return f"{value:%a} {value.day} {value:%b}"

    def calendar_date(self, moment: datetime | date) -> str:
        """ "3 Mar 2026", for tables that span years."""
        value = self.at(moment) if isinstance(moment, datetime) else moment
        return f"{value.day} {value:%b %Y}"

    def week(self, day: date) -> str:
        """ "Mon 2 Mar to Sun 8 Mar": the local week (Monday to Sunday) holding ``day``."""
        monday = week_start(day)
        return f"{self.day(monday)} to {self.day(monday + timedelta(days=6))}"

    def moment(self, moment: datetime, *, with_zone: bool = False) -> str:
        """ "Tue 3 Mar, 19:20" (and the zone's short name when asked)."""
        return f"{self.day(moment)}, {self.time(moment, with_zone=with_zone)}"

    def soon(self, moment: datetime, now: datetime) -> str:
        """A time coming up, as both partners read it: "19:20 PST" later today, and
        "Wed 4 Mar, 07:00 PST" on another local day."""
        if self.today(moment) == self.today(now):
            return self.time(moment, with_zone=True)
        return self.moment(moment, with_zone=True)

    def iso(self, moment: datetime) -> str:
        """The ISO 8601 value with this zone's offset, for ``<time datetime>`` and JSON."""
        return self.at(moment).isoformat()
