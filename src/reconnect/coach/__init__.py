"""The message coach: reads text a partner is about to share and reflects which kind of
language it leans towards, among ten labels, with a short direction for the labels
that tend to close connection.

It suggests and never blocks. It runs on this machine, offline, and keeps nothing: the
text is neither stored nor logged, here or in the models behind it.

    >>> from reconnect import coach
    >>> coach.read("I'm not going anywhere, take your time.").label
    'presence'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from reconnect.coach import keywords
from reconnect.coach.labels import CLOSING, LABELS, OPENING, SUGGESTIONS
from reconnect.coach.language import prepare

__all__ = [
    "CLOSING",
    "LABELS",
    "OPENING",
    "LabelScore",
    "Reading",
    "model_name",
    "read",
]


@dataclass(frozen=True)
class LabelScore:
    label: str
    confidence: float


@dataclass(frozen=True)
class Reading:
    """What the coach read in a text.

    ``label`` is None when the text could not be read (nothing there, no words, not
    English); ``notice`` then says why in plain words. ``notice`` also says when only
    the start of a long text was read. ``suggestion`` is set for closing labels only.
    """

    label: str | None
    confidence: float
    labels: tuple[LabelScore, ...]
    suggestion: str | None
    notice: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "confidence": self.confidence,
            "labels": [{"label": s.label, "confidence": s.confidence} for s in self.labels],
            "suggestion": self.suggestion,
            "notice": self.notice,
        }


class Model(Protocol):
    """A model answers one probability per label, in the order of ``LABELS``."""

    name: str

    def probabilities(self, text: str) -> Sequence[float]: ...


class _Keywords:
    name = keywords.NAME

    def probabilities(self, text: str) -> Sequence[float]:
        return keywords.probabilities(text)


_model: Model | None = None


def _current() -> Model:
    global _model
    if _model is None:
        _model = _Keywords()
    return _model


def model_name() -> str:
    """Which model answers ``read``: e.g. "minilm-logreg", "tfidf-logreg" or "keywords"."""
    return _current().name


def _scores(probabilities: Sequence[float]) -> tuple[LabelScore, ...]:
    values = [p if math.isfinite(p) and p > 0 else 0.0 for p in probabilities]
    total = sum(values) or 1.0
    scores = [
        LabelScore(label, round(v / total, 4)) for label, v in zip(LABELS, values, strict=True)
    ]
    return tuple(sorted(scores, key=lambda s: (-s.confidence, LABELS.index(s.label))))


def read(text: str) -> Reading:
    """What the coach reads in ``text``. Never raises for a str; keeps nothing."""
    prepared = prepare(text if isinstance(text, str) else "")
    if not prepared.text:
        return Reading(None, 0.0, (), None, prepared.notice)
    scores = _scores(_current().probabilities(prepared.text))
    top = scores[0]
    suggestion = SUGGESTIONS.get(top.label) if top.label in CLOSING else None
    return Reading(top.label, top.confidence, scores, suggestion, prepared.notice)
