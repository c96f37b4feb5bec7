"""Questionnaires: validated measures as TOML definition files, scored by published rules.

A definition holds the items, the response options, which items are reverse-keyed,
the subscales, the scoring rule, the score range, the severity bands, the data for
reliable change (Jacobson–Truax) and flags such as PHQ-9 item 9. Every file is
checked when it is loaded; a problem raises :class:`InvalidDefinition` naming the
file and the field, so an operator can fix it without reading code.

Shipped in ``domain/measures/instruments/``: PHQ-9, GAD-7 and PCL-5, whose licences allow
the item text to be redistributed. Instruments free only for research or clinical
use are supplied by an operator as files in a folder (see
:func:`load_operator_folder`); ``instruments/examples/`` holds example
definitions with placeholder item text. See docs/questionnaires.md.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = [
    "RELIABLE_Z",
    "SHIPPED",
    "Band",
    "Change",
    "Direction",
    "Flag",
    "Instrument",
    "InvalidAnswers",
    "InvalidDefinition",
    "Item",
    "NoReliableChangeData",
    "Option",
    "ReliableChangeData",
    "Rule",
    "Score",
    "ScoreRange",
    "Subscale",
    "UnknownInstrument",
    "example_folder",
    "instrument_from_text",
    "load_instrument",
    "load_operator_folder",
    "load_shipped",
    "reliable_change",
    "score",
]

# Jacobson & Truax (1991): a change is reliable when |RCI| exceeds this.
RELIABLE_Z = 1.96
# The built-in instruments, in the order they are offered.
SHIPPED = ("phq-9", "gad-7", "pcl-5")

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


class InvalidDefinition(ValueError):
    """A definition file cannot be used as it is.

    ``file`` names the file, ``field`` the place inside it (``items[3].text``,
    positions counting from 0) and ``problem`` what is wrong, in plain words.
    """

    def __init__(self, file: str, field: str, problem: str) -> None:
        super().__init__(f"{file}: {field}: {problem}")
        self.file = file
        self.field = field
        self.problem = problem


class UnknownInstrument(LookupError):
    """No built-in questionnaire has this id."""

    def __init__(self, instrument_id: str) -> None:
        super().__init__(
            f"There is no built-in questionnaire called {instrument_id!r}; "
            f"the built-in ones are {', '.join(SHIPPED)}."
        )
        self.instrument_id = instrument_id


class InvalidAnswers(ValueError):
    """A set of answers cannot be scored; ``message`` is safe to show to the person."""

    def __init__(self, item: str | None, message: str) -> None:
        super().__init__(message)
        self.item = item
        self.message = message


class NoReliableChangeData(LookupError):
    """The definition gives no reliable-change value for this scale."""


class Rule(Enum):
    """How item scores combine into a scale score."""

    SUM = "sum"
    MEAN = "mean"


class Direction(Enum):
    """What a change between two administrations means for the person."""

    IMPROVED = "improved"
    WORSE = "worse"
    NO_RELIABLE_CHANGE = "no reliable change"


@dataclass(frozen=True)
class Option:
    """One response option: the number scored and the words shown."""

    value: int
    label: str


@dataclass(frozen=True)
class ScoreRange:
    """The lowest and highest score a scale can take, inclusive."""

    low: float
    high: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high


@dataclass(frozen=True)
class Item:
    """One question. ``reverse`` items are scored as (lowest + highest − answer)."""

    id: str
    text: str
    options: tuple[Option, ...]
    reverse: bool = False
    subscale: str | None = None

    @property
    def low(self) -> int:
        return min(option.value for option in self.options)

    @property
    def high(self) -> int:
        return max(option.value for option in self.options)

    def scored(self, answer: int) -> int:
        """The value this answer adds to the score, after reverse-keying."""
        return self.low + self.high - answer if self.reverse else answer


@dataclass(frozen=True)
class ReliableChangeData:
    """What is needed to judge whether a change is larger than measurement error.

    With ``sd`` and ``reliability`` (test–retest r) the Jacobson–Truax index is
    computed; with only ``points``, a change of at least that many points counts
    as reliable. ``source`` names where the figures come from.
    """

    points: float | None
    sd: float | None
    reliability: float | None
    source: str

    @property
    def standard_error_of_difference(self) -> float | None:
        """SD · √2 · √(1 − r), the denominator of the RCI; None without SD and r."""
        if self.sd is None or self.reliability is None:
            return None
        return self.sd * math.sqrt(2) * math.sqrt(1 - self.reliability)


@dataclass(frozen=True)
class Subscale:
    """A group of items scored together (PCL-5 clusters, ECR-S anxiety and avoidance)."""

    id: str
    title: str
    rule: Rule
    item_ids: tuple[str, ...]
    range: ScoreRange
    reliable_change: ReliableChangeData | None = None


@dataclass(frozen=True)
class Band:
    """A range of total scores with a label that describes symptom level, never a diagnosis."""

    label: str
    low: float
    high: float
    description: str = ""

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high


@dataclass(frozen=True)
class Flag:
    """Raised when ``item`` is answered with ``at_least`` or more (PHQ-9 item 9 → crisis)."""

    id: str
    item: str
    at_least: int
    message: str


@dataclass(frozen=True)
class Instrument:
    """A checked questionnaire definition. Build one with :func:`load_instrument`."""

    id: str
    title: str
    version: str
    licence: str
    instructions: str
    reported_as: str
    higher_is_worse: bool
    items: tuple[Item, ...]
    subscales: tuple[Subscale, ...]
    total_rule: Rule | None
    total_range: ScoreRange | None
    bands: tuple[Band, ...]
    reliable_change: ReliableChangeData | None
    flags: tuple[Flag, ...]
    notes: tuple[str, ...]
    file: str

    def item(self, item_id: str) -> Item:
        """The item with this id; raises ``LookupError``."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise LookupError(f"{self.id} has no item {item_id!r}")

    def subscale(self, subscale_id: str) -> Subscale:
        """The subscale with this id; raises ``LookupError``."""
        for subscale in self.subscales:
            if subscale.id == subscale_id:
                return subscale
        raise LookupError(f"{self.id} has no subscale {subscale_id!r}")

    def band_for(self, total: float) -> Band | None:
        """The band this total falls in, or None when the bands leave a gap there."""
        return next((band for band in self.bands if total in band), None)


@dataclass(frozen=True)
class Score:
    """The result of one administration."""

    instrument_id: str
    instrument_version: str
    answers: Mapping[str, int]
    total: float | None
    subscales: Mapping[str, float]
    band: Band | None
    flags: tuple[str, ...]

    @property
    def crisis(self) -> bool:
        """True when an answer means crisis resources open at once (PHQ-9 item 9)."""
        return "crisis" in self.flags


@dataclass(frozen=True)
class Change:
    """Reliable change on one scale (``"total"`` or a subscale id) between two scores."""

    scale: str
    before: float
    after: float
    difference: float
    rci: float | None
    reliable: bool
    direction: Direction


# Scoring ----------------------------------------------------------------------


def score(instrument: Instrument, answers: Mapping[str, int]) -> Score:
    """Score one set of answers by the instrument's rules.

    ``answers`` maps every item id to one of that item's option values. Missing,
    extra or out-of-range answers raise :class:`InvalidAnswers`.
    """
    _check_answers(instrument, answers)
    scored = {item.id: item.scored(answers[item.id]) for item in instrument.items}
    total = None
    if instrument.total_rule is not None:
        total = _combine(instrument.total_rule, list(scored.values()))
    subscales = {
        sub.id: _combine(sub.rule, [scored[item_id] for item_id in sub.item_ids])
        for sub in instrument.subscales
    }
    flags = tuple(flag.id for flag in instrument.flags if answers[flag.item] >= flag.at_least)
    return Score(
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        answers=dict(answers),
        total=total,
        subscales=subscales,
        band=None if total is None else instrument.band_for(total),
        flags=tuple(dict.fromkeys(flags)),
    )


def _check_answers(instrument: Instrument, answers: Mapping[str, int]) -> None:
    for number, item in enumerate(instrument.items, start=1):
        if item.id not in answers:
            raise InvalidAnswers(item.id, f"Question {number} has no answer yet.")
        value = answers[item.id]
        allowed = [option.value for option in item.options]
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise InvalidAnswers(
                item.id,
                f"Question {number} takes one of the listed answers "
                f"({', '.join(str(v) for v in allowed)}).",
            )
    known = {item.id for item in instrument.items}
    extra = sorted(str(key) for key in answers if key not in known)
    if extra:
        raise InvalidAnswers(
            extra[0], f"{instrument.title} has no question {extra[0]!r}; please check the form."
        )


def _combine(rule: Rule, values: Sequence[int]) -> float:
    if rule is Rule.SUM:
        return sum(values)
    return sum(values) / len(values)


def reliable_change(
    instrument: Instrument, before: Score, after: Score, scale: str = "total"
) -> Change:
    """Whether the change from ``before`` to ``after`` is larger than measurement error.

    With SD and test–retest r in the definition, RCI = (x2 − x1) / (SD·√2·√(1 − r))
    and the change is reliable when |RCI| > 1.96 (Jacobson & Truax, 1991). With only
    a documented number of points, it is reliable when |x2 − x1| ≥ points and RCI
    is None. ``scale`` is ``"total"`` or a subscale id.
    """
    for result in (before, after):
        if result.instrument_id != instrument.id:
            raise ValueError(
                f"a {result.instrument_id} score cannot be compared on {instrument.id}"
            )
    if scale == "total":
        data = instrument.reliable_change
        x1, x2 = before.total, after.total
    else:
        data = instrument.subscale(scale).reliable_change
        x1, x2 = before.subscales.get(scale), after.subscales.get(scale)
    if data is None:
        raise NoReliableChangeData(f"{instrument.id} gives no reliable-change value for {scale}")
    if x1 is None or x2 is None:
        raise NoReliableChangeData(f"{instrument.id} has no {scale} score")
    difference = x2 - x1
    denominator = data.standard_error_of_difference
    rci: float | None = None
    if denominator is not None:
        rci = difference / denominator
        reliable = abs(rci) > RELIABLE_Z
    else:
        # The loader refuses a table with neither points nor SD and r.
        reliable = data.points is not None and abs(difference) >= data.points
    if not reliable:
        direction = Direction.NO_RELIABLE_CHANGE
    elif (difference < 0) == instrument.higher_is_worse:
        direction = Direction.IMPROVED
    else:
        direction = Direction.WORSE
    return Change(scale, x1, x2, difference, rci, reliable, direction)


# Loading ----------------------------------------------------------------------


def _instruments_folder() -> Traversable:
    return resources.files("reconnect.domain.measures").joinpath("instruments")


def example_folder() -> Path:
    """The folder of example operator definitions (placeholder item text; not loaded by default)."""
    return Path(str(_instruments_folder().joinpath("examples")))


def load_instrument(path_or_id: str | os.PathLike[str]) -> Instrument:
    """Load a built-in instrument by id (``"phq-9"``) or any definition file by path.

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
    """Load every ``*.toml`` definition in ``folder``; never raises for a bad file.

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
    for file in sorted(path.glob("*.toml")):
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


class _Reader:
    """Reads one parsed file, raising :class:`InvalidDefinition` at the first problem."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, field: str, problem: str) -> InvalidDefinition:
        return InvalidDefinition(self.file, field, problem)

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
