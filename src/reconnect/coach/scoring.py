"""F1 per label and macro-F1, the measure the coach's models are compared by."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconnect.coach.labels import LABELS


@dataclass(frozen=True)
class Score:
    macro_f1: float
    per_label: dict[str, float]
    accuracy: float
    count: int
    confusion: tuple[tuple[int, ...], ...] = ()
    """How many messages of each label (rows, in the order of ``LABELS``) were read as
    each label (columns, the same order; a last column for no reading)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "count": self.count,
            "per_label": {label: round(f1, 4) for label, f1 in self.per_label.items()},
        }


def score(truth: Sequence[str], predicted: Sequence[str | None]) -> Score:
    """F1 for each label (0 when a label is neither expected nor predicted correctly),
    and their unweighted mean over all ten labels."""
    if len(truth) != len(predicted):
        raise ValueError("one prediction per message")
    per_label = {}
    for label in LABELS:
        hits = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p == label)
        expected = sum(1 for t in truth if t == label)
        guessed = sum(1 for p in predicted if p == label)
        per_label[label] = 2 * hits / (expected + guessed) if expected + guessed else 0.0
    correct = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p)
    columns = [*LABELS, None]
    confusion = tuple(
        tuple(
            sum(1 for t, p in zip(truth, predicted, strict=True) if t == row and p == column)
            for column in columns
        )
        for row in LABELS
    )
    return Score(
        macro_f1=sum(per_label.values()) / len(LABELS),
        per_label=per_label,
        accuracy=correct / len(truth) if truth else 0.0,
        count=len(truth),
        confusion=confusion,
    )


def confusion_table(result: Score) -> list[str]:
    """The confusion matrix as lines of text, with each label's F1 at the end of its row."""
    numbers = "".join(f"{i:>5}" for i in range(1, len(LABELS) + 1))
    lines = [f"  {'read as:':<27}{numbers}  none     F1"]
    for i, (label, row) in enumerate(zip(LABELS, result.confusion, strict=True), start=1):
        counts = "".join(f"{n:>5}" for n in row)
        lines.append(f"  {i:>2} {label:<24}{counts}  {result.per_label[label]:.3f}")
    return lines
