"""Scoring a questionnaire by its published rules, and reliable change between two scores.

:func:`score` turns one set of answers into a :class:`Score` (total, subscales,
band, flags); :func:`reliable_change` says whether the change between two scores is
larger than measurement error (Jacobson & Truax, 1991).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from reconnect.domain.measures.definitions import Band, Instrument, Rule

__all__ = [
    "RELIABLE_Z",
    "Change",
    "Direction",
    "InvalidAnswers",
    "NoReliableChangeData",
    "Score",
    "reliable_change",
    "score",
]

# Jacobson & Truax (1991): a change is reliable when |RCI| exceeds this.
RELIABLE_Z = 1.96


class InvalidAnswers(ValueError):
    """A set of answers cannot be scored; ``message`` is safe to show to the person."""

    def __init__(self, item: str | None, message: str) -> None:
        super().__init__(message)
        self.item = item
        self.message = message


class NoReliableChangeData(LookupError):
    """The definition gives no reliable-change value for this scale."""


class Direction(Enum):
    """What a change between two administrations means for the person."""

    IMPROVED = "improved"
    WORSE = "worse"
    NO_RELIABLE_CHANGE = "no reliable change"


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
