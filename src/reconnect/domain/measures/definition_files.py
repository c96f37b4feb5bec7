"""Loading questionnaire definitions from TOML files, each checked as it is loaded.

A problem raises :class:`~reconnect.domain.measures.definitions.InvalidDefinition`
naming the file and the field, so an operator can fix it without reading code.

Shipped in ``domain/measures/instruments/``: PHQ-9, GAD-7 and PCL-5, whose licences allow
the item text to be redistributed. Instruments free only for research or clinical
use are supplied by an operator as files in a folder (see
:func:`load_operator_folder`); ``instruments/examples/`` holds example
definitions with placeholder item text. A definition may also be a FHIR R4
``Questionnaire`` in a ``.json`` file (:mod:`reconnect.domain.measures.fhir`), checked
by the same rules. See docs/questionnaires.md.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from reconnect.domain.measures.definitions import (
    SHIPPED,
    Band,
    Flag,
    Instrument,
    InvalidDefinition,
    Item,
    Option,
    ReliableChangeData,
    Rule,
    ScoreRange,
    Subscale,
    UnknownInstrument,
)
from reconnect.domain.measures.fhir import definition_table

__all__ = [
    "example_folder",
    "instrument_from_json",
    "instrument_from_questionnaire",
    "instrument_from_text",
    "load_instrument",
    "load_operator_folder",
    "load_shipped",
]

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ITEM_ID = re.compile(r"[A-Za-z0-9_-]+")
# Bands describe how strong symptoms are; wording that reads as a diagnosis is refused.
_DIAGNOSTIC_WORDS = ("diagnos", "disorder", "probable")

_TOP_KEYS = frozenset(
    {
        "id",
        "title",
        "version",
        "licence",
        "instructions",
        "reported_as",
        "higher_is",
        "notes",
        "scoring",
        "range",
        "options",
        "items",
        "subscales",
        "bands",
        "reliable_change",
        "flags",
    }
)
_ITEM_KEYS = frozenset({"id", "text", "reverse", "subscale", "options"})
_SUBSCALE_KEYS = frozenset({"id", "title", "scoring", "reliable_change"})
_BAND_KEYS = frozenset({"label", "min", "max", "description"})
_FLAG_KEYS = frozenset({"id", "item", "at_least", "message"})
_RC_KEYS = frozenset({"points", "sd", "reliability", "source"})


def _instruments_folder() -> Traversable:
    return resources.files("reconnect.domain.measures").joinpath("instruments")


def example_folder() -> Path:
    """The folder of example operator definitions (placeholder item text; not loaded by default)."""
    return Path(str(_instruments_folder().joinpath("examples")))


def load_instrument(path_or_id: str | os.PathLike[str]) -> Instrument:
    """Load a built-in instrument by id (``"phq-9"``) or any definition file by path:
    TOML, or a FHIR Questionnaire in a ``.json`` file.

    Raises :class:`InvalidDefinition` naming the file and field, or
    :class:`UnknownInstrument` for an id that is not built in.
    """
    if isinstance(path_or_id, str) and _SLUG.fullmatch(path_or_id):
        if path_or_id not in SHIPPED:
            raise UnknownInstrument(path_or_id)
        return _load_shipped_one(path_or_id)
    path = Path(path_or_id)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidDefinition(str(path), "(file)", f"cannot be read ({error})") from None
    if path.suffix.lower() == ".json":
        return instrument_from_json(text, str(path))
    return instrument_from_text(text, str(path))


@cache
def _load_shipped_one(instrument_id: str) -> Instrument:
    resource = _instruments_folder().joinpath(f"{instrument_id}.toml")
    return instrument_from_text(
        resource.read_text(encoding="utf-8"), f"instruments/{instrument_id}.toml"
    )


def load_shipped() -> tuple[Instrument, ...]:
    """The built-in instruments (PHQ-9, GAD-7, PCL-5), checked and cached."""
    return tuple(_load_shipped_one(instrument_id) for instrument_id in SHIPPED)


def load_operator_folder(
    folder: str | os.PathLike[str],
) -> tuple[tuple[Instrument, ...], tuple[InvalidDefinition, ...]]:
    """Load every ``*.toml`` definition and ``*.json`` FHIR Questionnaire in ``folder``,
    in the order of their names; never raises for a bad file.

    Returns the instruments that loaded and one :class:`InvalidDefinition` per
    file that did not, so the app starts without the broken one and can say why.
    An id already used by a built-in instrument or an earlier file is a problem too.
    """
    path = Path(folder)
    if not path.is_dir():
        return (), (InvalidDefinition(str(path), "(folder)", "does not exist or is not a folder"),)
    taken = {instrument_id: "the built-in instruments" for instrument_id in SHIPPED}
    instruments: list[Instrument] = []
    problems: list[InvalidDefinition] = []
    for file in sorted([*path.glob("*.toml"), *path.glob("*.json")]):
        try:
            instrument = load_instrument(file)
        except InvalidDefinition as problem:
            problems.append(problem)
            continue
        if instrument.id in taken:
            problems.append(
                InvalidDefinition(
                    str(file), "id", f"{instrument.id!r} is already used by {taken[instrument.id]}"
                )
            )
            continue
        taken[instrument.id] = str(file)
        instruments.append(instrument)
    return tuple(instruments), tuple(problems)


def instrument_from_text(text: str, file: str) -> Instrument:
    """Parse and check one definition; ``file`` is the name used in error messages."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidDefinition(file, "(TOML syntax)", str(error)) from None
    return _Reader(file).instrument(table)


def instrument_from_json(text: str, file: str) -> Instrument:
    """Parse and check a FHIR Questionnaire; ``file`` is the name that error messages use."""
    try:
        resource = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidDefinition(file, "(JSON syntax)", str(error)) from None
    return instrument_from_questionnaire(resource, file)


def instrument_from_questionnaire(resource: Any, file: str) -> Instrument:
    """Check a FHIR Questionnaire (parsed JSON) by the rules every definition meets.

    Errors name the place in the Questionnaire (``item[3].answerOption[1]``,
    ``extension[5] (bands).label``).
    """
    read = definition_table(resource, file)
    return _Reader(file, read.places).instrument(read.table)


class _Reader:
    """Reads one parsed file, raising :class:`InvalidDefinition` at the first problem.

    ``places`` maps the fields of a table read from another format (a FHIR
    Questionnaire) to where they are in that file, for the error message.
    """

    def __init__(self, file: str, places: Mapping[str, str] | None = None) -> None:
        self.file = file
        # Longest first, so "items[1].options" is found before "items[1]".
        self.places = sorted((places or {}).items(), key=lambda pair: -len(pair[0]))

    def fail(self, field: str, problem: str) -> InvalidDefinition:
        return InvalidDefinition(self.file, self.place(field), problem)

    def place(self, field: str) -> str:
        for key, place in self.places:
            if field == key or field.startswith((f"{key}.", f"{key}[")):
                return place + field[len(key) :]
        return field

    def only(self, table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                path = f"{where}.{key}" if where else key
                raise self.fail(path, "is not a field this format knows (check the spelling)")

    def text(
        self, table: Mapping[str, Any], key: str, where: str, default: str | None = None
    ) -> str:
        path = f"{where}.{key}" if where else key
        value = table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "is missing or is not text")
        return value.strip()

    def integer(self, table: Mapping[str, Any], key: str, where: str) -> int:
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{where}.{key}" if where else key, "is missing or not a whole number")
        return value

    def optional_number(self, table: Mapping[str, Any], key: str, where: str) -> float | None:
        return None if table.get(key) is None else self.number(table, key, where)

    def number(self, table: Mapping[str, Any], key: str, where: str) -> float:
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(f"{where}.{key}" if where else key, "is missing or not a number")
        return value

    def boolean(self, table: Mapping[str, Any], key: str, where: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key}", "is true or false")
        return value

    def tables(self, table: Mapping[str, Any], key: str, required: bool) -> list[dict[str, Any]]:
        value = table.get(key, [] if not required else None)
        if not isinstance(value, list) or (required and not value):
            raise self.fail(key, "needs at least one entry ([[" + key + "]])")
        for index, entry in enumerate(value):
            if not isinstance(entry, dict):
                raise self.fail(f"{key}[{index}]", "is not a table")
        return value

    def rule(self, value: Any, field: str) -> Rule:
        try:
            return Rule(value)
        except ValueError:
            raise self.fail(field, "is sum or mean") from None

    def total_rule(self, value: Any) -> Rule | None:
        if value == "none":
            return None
        try:
            return Rule(value)
        except ValueError:
            raise self.fail("scoring.total", "is sum, mean or none") from None

    def options(self, entries: Any, where: str) -> tuple[Option, ...]:
        if not isinstance(entries, list) or len(entries) < 2:
            raise self.fail(where, "needs at least two response options")
        options: list[Option] = []
        for index, entry in enumerate(entries):
            here = f"{where}[{index}]"
            if not isinstance(entry, dict):
                raise self.fail(here, "is not a table with value and label")
            self.only(entry, frozenset({"value", "label"}), here)
            options.append(
                Option(self.integer(entry, "value", here), self.text(entry, "label", here))
            )
        values = [option.value for option in options]
        if len(set(values)) != len(values):
            raise self.fail(where, "repeats a value")
        return tuple(options)

    def reliable(self, value: Any, where: str) -> ReliableChangeData | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(where, "is a table with points, or sd and reliability, and source")
        self.only(value, _RC_KEYS, where)
        points = self.optional_number(value, "points", where)
        sd = self.optional_number(value, "sd", where)
        r = self.optional_number(value, "reliability", where)
        if (sd is None) != (r is None):
            raise self.fail(where, "sd and reliability are given together")
        if points is None and sd is None:
            raise self.fail(where, "needs points, or sd and reliability")
        if points is not None and points <= 0:
            raise self.fail(f"{where}.points", "is above 0")
        if sd is not None and sd <= 0:
            raise self.fail(f"{where}.sd", "is above 0")
        if r is not None and not 0 <= r < 1:
            raise self.fail(f"{where}.reliability", "is from 0 up to (not including) 1")
        return ReliableChangeData(points, sd, r, self.text(value, "source", where))

    def instrument(self, table: Mapping[str, Any]) -> Instrument:
        self.only(table, _TOP_KEYS, "")
        instrument_id = self.text(table, "id", "")
        if not _SLUG.fullmatch(instrument_id):
            raise self.fail("id", "is lower-case letters and digits joined by hyphens")
        higher_is = table.get("higher_is")
        if higher_is not in ("worse", "better"):
            raise self.fail("higher_is", "is worse or better (what a higher score means)")
        notes = table.get("notes", [])
        if not isinstance(notes, list) or not all(isinstance(n, str) and n.strip() for n in notes):
            raise self.fail("notes", "is a list of text")

        scoring = table.get("scoring")
        if not isinstance(scoring, dict):
            raise self.fail("scoring", "is missing (a table with total and subscales rules)")
        self.only(scoring, frozenset({"total", "subscales"}), "scoring")
        total_rule = self.total_rule(scoring.get("total"))
        subscale_rule = self.rule(scoring.get("subscales", "sum"), "scoring.subscales")

        default_options = None
        if "options" in table:
            default_options = self.options(table["options"], "options")
        subscale_entries = self.tables(table, "subscales", required=False)
        subscale_ids = [
            self.text(e, "id", f"subscales[{i}]") for i, e in enumerate(subscale_entries)
        ]
        items = self.items(table, default_options, subscale_ids)

        subscales = []
        for index, entry in enumerate(subscale_entries):
            where = f"subscales[{index}]"
            self.only(entry, _SUBSCALE_KEYS, where)
            sub_id = subscale_ids[index]
            if subscale_ids.index(sub_id) != index:
                raise self.fail(f"{where}.id", f"{sub_id!r} is used twice")
            rule = subscale_rule
            if "scoring" in entry:
                rule = self.rule(entry["scoring"], f"{where}.scoring")
            members = tuple(item for item in items if item.subscale == sub_id)
            if not members:
                raise self.fail(where, f"no item belongs to subscale {sub_id!r}")
            subscales.append(
                Subscale(
                    id=sub_id,
                    title=self.text(entry, "title", where),
                    rule=rule,
                    item_ids=tuple(item.id for item in members),
                    range=_range_of(rule, members),
                    reliable_change=self.reliable(
                        entry.get("reliable_change"), f"{where}.reliable_change"
                    ),
                )
            )
        if total_rule is None and not subscales:
            raise self.fail("scoring.total", "is none, so the instrument needs subscales")

        total_range = self.total_range(table, total_rule, items)
        bands = self.bands(table, total_rule, total_range)
        reliable = self.reliable(table.get("reliable_change"), "reliable_change")
        if reliable is not None and total_rule is None:
            raise self.fail("reliable_change", "applies to the total, and this instrument has none")
        return Instrument(
            id=instrument_id,
            title=self.text(table, "title", ""),
            version=self.text(table, "version", ""),
            licence=self.text(table, "licence", ""),
            instructions=self.text(table, "instructions", ""),
            reported_as=self.text(table, "reported_as", ""),
            higher_is_worse=higher_is == "worse",
            items=items,
            subscales=tuple(subscales),
            total_rule=total_rule,
            total_range=total_range,
            bands=bands,
            reliable_change=reliable,
            flags=self.flags(table, items),
            notes=tuple(note.strip() for note in notes),
            file=self.file,
        )

    def items(
        self,
        table: Mapping[str, Any],
        default_options: tuple[Option, ...] | None,
        subscale_ids: Sequence[str],
    ) -> tuple[Item, ...]:
        items: list[Item] = []
        seen: set[str] = set()
        for index, entry in enumerate(self.tables(table, "items", required=True)):
            where = f"items[{index}]"
            self.only(entry, _ITEM_KEYS, where)
            item_id = self.text(entry, "id", where)
            if not _ITEM_ID.fullmatch(item_id):
                raise self.fail(f"{where}.id", "is letters, digits, hyphens or underscores")
            if item_id in seen:
                raise self.fail(f"{where}.id", f"{item_id!r} is used twice")
            seen.add(item_id)
            if "options" in entry:
                options = self.options(entry["options"], f"{where}.options")
            elif default_options is not None:
                options = default_options
            else:
                raise self.fail(
                    f"{where}.options", "is missing, and there are no shared [[options]]"
                )
            subscale = entry.get("subscale")
            if subscale is not None and subscale not in subscale_ids:
                raise self.fail(
                    f"{where}.subscale", f"names no subscale in [[subscales]]: {subscale!r}"
                )
            items.append(
                Item(
                    id=item_id,
                    text=self.text(entry, "text", where),
                    options=options,
                    reverse=self.boolean(entry, "reverse", where),
                    subscale=subscale,
                )
            )
        return tuple(items)

    def total_range(
        self, table: Mapping[str, Any], rule: Rule | None, items: Sequence[Item]
    ) -> ScoreRange | None:
        declared = table.get("range")
        if rule is None:
            if declared is not None:
                raise self.fail("range", "is for a total score, and scoring.total is none")
            return None
        if not isinstance(declared, dict):
            raise self.fail("range", "is missing (a table with min and max of the total)")
        self.only(declared, frozenset({"min", "max"}), "range")
        expected = _range_of(rule, items)
        for key, want in (("min", expected.low), ("max", expected.high)):
            got = self.number(declared, key, "range")
            if not math.isclose(got, want):
                raise self.fail(f"range.{key}", f"is {got}, but the items give {want:g}")
        return expected

    def bands(
        self, table: Mapping[str, Any], rule: Rule | None, total: ScoreRange | None
    ) -> tuple[Band, ...]:
        entries = self.tables(table, "bands", required=False)
        if not entries:
            return ()
        if total is None:
            raise self.fail("bands", "describe a total score, and scoring.total is none")
        bands: list[Band] = []
        for index, entry in enumerate(entries):
            where = f"bands[{index}]"
            self.only(entry, _BAND_KEYS, where)
            label = self.text(entry, "label", where)
            if any(word in label.lower() for word in _DIAGNOSTIC_WORDS):
                raise self.fail(f"{where}.label", "describes symptom level, never a diagnosis")
            low = self.number(entry, "min", where)
            high = self.number(entry, "max", where)
            if low > high:
                raise self.fail(f"{where}.max", "is below min")
            if low < total.low or high > total.high:
                raise self.fail(where, f"lies outside the score range {total.low:g}–{total.high:g}")
            if bands:
                previous = bands[-1]
                if low <= previous.high:
                    raise self.fail(f"{where}.min", "overlaps the band before it")
                # Sums are whole numbers: the bands must cover every one of them.
                if rule is Rule.SUM and low != previous.high + 1:
                    raise self.fail(f"{where}.min", f"leaves a gap after {previous.high:g}")
            elif rule is Rule.SUM and low != total.low:
                raise self.fail(
                    f"{where}.min", f"is {low:g}; the first band starts at {total.low:g}"
                )
            bands.append(Band(label, low, high, str(entry.get("description", "")).strip()))
        if rule is Rule.SUM and bands[-1].high != total.high:
            raise self.fail(f"bands[{len(bands) - 1}].max", f"the last band ends at {total.high:g}")
        return tuple(bands)

    def flags(self, table: Mapping[str, Any], items: Sequence[Item]) -> tuple[Flag, ...]:
        flags: list[Flag] = []
        by_id = {item.id: item for item in items}
        for index, entry in enumerate(self.tables(table, "flags", required=False)):
            where = f"flags[{index}]"
            self.only(entry, _FLAG_KEYS, where)
            flag_id = self.text(entry, "id", where)
            if not _SLUG.fullmatch(flag_id):
                raise self.fail(f"{where}.id", "is lower-case letters and digits joined by hyphens")
            item_id = self.text(entry, "item", where)
            if item_id not in by_id:
                raise self.fail(f"{where}.item", f"names no item: {item_id!r}")
            at_least = self.integer(entry, "at_least", where)
            item = by_id[item_id]
            if not item.low < at_least <= item.high:
                raise self.fail(f"{where}.at_least", f"is above {item.low} and at most {item.high}")
            flags.append(Flag(flag_id, item_id, at_least, self.text(entry, "message", where)))
        return tuple(flags)


def _range_of(rule: Rule, items: Sequence[Item]) -> ScoreRange:
    low = sum(item.low for item in items)
    high = sum(item.high for item in items)
    if rule is Rule.MEAN:
        return ScoreRange(low / len(items), high / len(items))
    return ScoreRange(low, high)
