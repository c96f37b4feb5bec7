"""The practice catalogue: graded tiers of practices, kept as TOML data files.

One file per tier in ``domain/pacing/practices/tier<N>.toml``. The files are checked
when they are loaded, so a broken edit fails loudly at start-up rather than
quietly on someone's Today page.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "DISCLOSURE",
    "TIERS",
    "Catalogue",
    "InvalidCatalogue",
    "Lead",
    "Practice",
    "Tier",
    "UnknownPractice",
    "load_catalogue",
]

TIERS = range(7)
# The disclosure session of the recovery arc (reconnect.disclosure): a practice held
# when the couple prepared for it, never offered as something to repeat.
DISCLOSURE = "the-full-account"
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class InvalidCatalogue(ValueError):
    """A practice file is missing a field, repeats an id, or leaves a tier empty."""


class UnknownPractice(LookupError):
    """No practice in the catalogue has this id."""

    def __init__(self, practice_id: str) -> None:
        super().__init__(f"There is no practice called {practice_id!r}.")
        self.practice_id = practice_id


class Lead(Enum):
    """Who starts a practice."""

    SELF = "self"  # each partner on their own
    EITHER = "either"
    INVOLVED = "involved"  # offered by the involved partner, never demanded
    MORE_ACTIVATED = "more_activated"  # the partner who needs it slower today


@dataclass(frozen=True)
class Practice:
    """One practice: what to do, for how long, and when to stop."""

    id: str
    tier: int
    title: str
    leads: Lead
    minutes: int
    steps: tuple[str, ...]
    stop_rule: str


@dataclass(frozen=True)
class Tier:
    """A step of the ladder: its number, its name, a short name and its purpose.

    People see the name ("Being near each other") and never the number; the short
    name ("Near each other") labels a chart's axis or a narrow table.
    """

    number: int
    name: str
    short: str
    purpose: str


@dataclass(frozen=True)
class Catalogue:
    """All tiers and practices, in file order; look-ups by id and by tier."""

    tiers: tuple[Tier, ...]
    practices: tuple[Practice, ...]
    _by_id: dict[str, Practice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Practice] = {}
        for practice in self.practices:
            if practice.id in by_id:
                raise InvalidCatalogue(f"practice id {practice.id!r} is used twice")
            by_id[practice.id] = practice
        numbers = [tier.number for tier in self.tiers]
        if sorted(numbers) != list(TIERS):
            raise InvalidCatalogue(f"the catalogue needs tiers 0 to 6 once each, not {numbers}")
        for number in TIERS:
            if not any(p.tier == number for p in self.practices):
                raise InvalidCatalogue(f"tier {number} has no practices")
        object.__setattr__(self, "_by_id", by_id)

    def get(self, practice_id: str) -> Practice:
        """The practice with this id; raises :class:`UnknownPractice`."""
        try:
            return self._by_id[practice_id]
        except KeyError:
            raise UnknownPractice(practice_id) from None

    def for_tier(self, tier: int) -> tuple[Practice, ...]:
        """The practices of exactly this tier, in file order."""
        return tuple(p for p in self.practices if p.tier == tier)

    def tier(self, number: int) -> Tier:
        """The description of one tier; raises ``LookupError`` for other numbers."""
        for tier in self.tiers:
            if tier.number == number:
                return tier
        raise LookupError(f"there is no tier {number}")

    def __iter__(self) -> Iterator[Practice]:
        return iter(self.practices)

    def __len__(self) -> int:
        return len(self.practices)


@cache
def load_catalogue() -> Catalogue:
    """Read and check the shipped catalogue (cached: the files never change at run time)."""
    folder = resources.files("reconnect.domain.pacing").joinpath("practices")
    tables = []
    for number in TIERS:
        path = folder.joinpath(f"tier{number}.toml")
        if not path.is_file():
            raise InvalidCatalogue(f"practices/tier{number}.toml is missing")
        tables.append(tomllib.loads(path.read_text(encoding="utf-8")))
    return catalogue_from_tables(tables)


def catalogue_from_tables(tables: Sequence[Mapping[str, Any]]) -> Catalogue:
    """Build a catalogue from parsed tier files; raises :class:`InvalidCatalogue`."""
    tiers: list[Tier] = []
    practices: list[Practice] = []
    for table in tables:
        number = _field(table, "tier", int, "a tier file")
        if number not in TIERS:
            raise InvalidCatalogue(f"tier {number} is outside 0 to 6")
        where = f"tier {number}"
        name, short = _field(table, "name", str, where), _field(table, "short", str, where)
        tiers.append(Tier(number, name, short, _field(table, "purpose", str, where)))
        entries = table.get("practices")
        if not isinstance(entries, list) or not entries:
            raise InvalidCatalogue(f"{where} lists no practices")
        practices.extend(_practice(entry, number) for entry in entries)
    return Catalogue(tuple(tiers), tuple(practices))


def _practice(entry: Any, tier: int) -> Practice:
    if not isinstance(entry, dict):
        raise InvalidCatalogue(f"tier {tier}: a practice must be a table")
    practice_id = _field(entry, "id", str, f"a practice in tier {tier}")
    where = f"practice {practice_id!r}"
    if not _SLUG.fullmatch(practice_id):
        raise InvalidCatalogue(f"{where}: ids are lower-case words joined by hyphens")
    leads = _field(entry, "leads", str, where)
    try:
        lead = Lead(leads)
    except ValueError:
        raise InvalidCatalogue(f"{where}: leads must be one of {[m.value for m in Lead]}") from None
    minutes = _field(entry, "minutes", int, where)
    if not 1 <= minutes <= 180:
        raise InvalidCatalogue(f"{where}: the time box must be 1 to 180 minutes")
    steps = entry.get("steps")
    if (
        not isinstance(steps, list)
        or len(steps) < 3
        or not all(isinstance(s, str) and s.strip() for s in steps)
    ):
        raise InvalidCatalogue(f"{where}: needs at least three written steps")
    return Practice(
        id=practice_id,
        tier=tier,
        title=_field(entry, "title", str, where),
        leads=lead,
        minutes=minutes,
        steps=tuple(steps),
        stop_rule=_field(entry, "stop_rule", str, where),
    )


def _field(table: Mapping[str, Any], key: str, kind: type[Any], where: str) -> Any:
    value = table.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, kind)
        or (kind is str and not value.strip())
    ):
        raise InvalidCatalogue(f"{where}: {key!r} is missing or not a {kind.__name__}")
    return value
