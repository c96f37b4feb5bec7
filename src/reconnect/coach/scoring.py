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
    return Score(
        macro_f1=sum(per_label.values()) / len(LABELS),
        per_label=per_label,
        accuracy=correct / len(truth) if truth else 0.0,
        count=len(truth),
    )
