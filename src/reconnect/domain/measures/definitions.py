"""What a questionnaire definition holds: a checked :class:`Instrument`.

A definition holds the items, the response options, which items are reverse-keyed,
the subscales, the scoring rule, the score range, the severity bands, the data for
reliable change (Jacobson–Truax) and flags such as PHQ-9 item 9. Definitions are
read from TOML files by :mod:`reconnect.domain.measures.definition_files` and scored
by :mod:`reconnect.domain.measures.scoring`. See docs/questionnaires.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "SHIPPED",
    "Band",
    "Flag",
    "Instrument",
    "InvalidDefinition",
    "Item",
    "Option",
    "ReliableChangeData",
    "Rule",
    "ScoreRange",
    "Subscale",
    "UnknownInstrument",
]

# The built-in instruments, in the order they are offered.
SHIPPED = ("phq-9", "gad-7", "pcl-5")


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


class Rule(Enum):
    """How item scores combine into a scale score."""

    SUM = "sum"
    MEAN = "mean"


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
    """A checked questionnaire definition.

    Build one with :func:`~reconnect.domain.measures.definition_files.load_instrument`.
    """

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
