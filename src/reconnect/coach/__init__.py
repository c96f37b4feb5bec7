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

import json
import logging
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Protocol

from reconnect.coach import embedding, keywords, light, static, tuned
from reconnect.coach.labels import CLOSING, LABELS, OPENING, SUGGESTIONS
from reconnect.coach.language import is_small_talk, prepare

__all__ = [
    "CLOSING",
    "LABELS",
    "OPENING",
    "LabelScore",
    "Reading",
    "model_name",
    "read",
    "use",
]

logger = logging.getLogger(__name__)


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


MODEL_NAMES = (
    tuned.BLEND,
    tuned.NAME,
    embedding.BLEND,
    embedding.NAME,
    static.BLEND,
    static.NAME,
    light.NAME,
    keywords.NAME,
)
_model: Model | None = None
_lock = threading.Lock()


def _load(name: str) -> Model:
    if name == tuned.BLEND:
        return tuned.TunedBlend.load()
    if name == tuned.NAME:
        return tuned.tuned()
    if name == embedding.BLEND:
        return embedding.BlendModel.load()
    if name == embedding.NAME:
        return embedding.EmbeddingModel.load()
    if name == static.BLEND:
        return static.StaticBlend.load()
    if name == static.NAME:
        return static.StaticModel.load()
    if name == light.NAME:
        return light.LightModel.load()
    if name == keywords.NAME:
        return _Keywords()
    raise ValueError(f"no coach model is called {name!r}; the models are {MODEL_NAMES}")


def _ranked() -> list[str]:
    """The trained models, best first: by macro-F1 on the test split, as the last
    training measured them (the manifest), the light model when there is none."""
    try:
        manifest = json.loads((light.MODEL_DIR / light.MANIFEST).read_text(encoding="utf-8"))
        scores = {str(k): float(v["macro_f1"]) for k, v in manifest["test_scores"].items()}
        chosen = str(manifest["chosen"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return [light.NAME]
    others = sorted((n for n in scores if n not in {chosen, keywords.NAME}), key=scores.__getitem__)
    return [chosen, *reversed(others)]


def _runs_here(name: str) -> bool:
    if name in {embedding.NAME, embedding.BLEND}:
        return embedding.available()
    if name in {static.NAME, static.BLEND}:
        return static.available()
    if name in {tuned.NAME, tuned.BLEND}:
        return tuned.available()
    return name in MODEL_NAMES


def _best_available() -> Model:
    """The best trained model that can run here, else the light model, else the keywords.

    The embedding models run only with the ``coach`` extra installed; the tuned, static
    and light models need numpy alone.
    """
    names = [name for name in _ranked() if _runs_here(name)]
    for name in dict.fromkeys([*names, light.NAME]):
        try:
            return _load(name)
        except Exception:  # a missing or damaged artefact must not stop the app
            logger.warning("The coach could not load its %s model.", name, exc_info=True)
    return _Keywords()


def _current() -> Model:
    global _model
    with _lock:
        if _model is None:
            _model = _best_available()
        return _model


def use(name: str | None) -> str:
    """Answer with the model called ``name`` from now on (None: the best available one),
    and return the name of the model that answers. Raises ValueError for an unknown name,
    and what loading raises when the model cannot run here."""
    global _model
    chosen = _load(name) if name is not None else _best_available()
    with _lock:
        _model = chosen
    return chosen.name


def model_name() -> str:
    """Which model answers ``read``: one of ``MODEL_NAMES`` ("tuned+tfidf" on every
    install, "static+tfidf" if the tuned model's file is missing).

    The model loads on first use; calling this at startup loads it ahead of the first
    reading (the embedding model takes a few seconds).
    """
    return _current().name


def _scores(probabilities: Sequence[float]) -> tuple[LabelScore, ...]:
    values = [p if math.isfinite(p) and p > 0 else 0.0 for p in probabilities]
    total = sum(values)
    if not total:  # nothing to go on: every label alike
        values, total = [1.0] * len(LABELS), float(len(LABELS))
    scores = [
        LabelScore(label, round(v / total, 4)) for label, v in zip(LABELS, values, strict=True)
    ]
    return tuple(sorted(scores, key=lambda s: (-s.confidence, LABELS.index(s.label))))


@contextmanager
def together(texts: Sequence[str]) -> Iterator[None]:
    """Within the block, readings of ``texts`` in this thread come from one batch where
    the model reads faster that way (the embedding models); nothing outlives it."""
    ahead = getattr(_current(), "ahead", None)
    with ExitStack() as stack:
        prepared = [p.text for p in map(prepare, texts) if p.text] if ahead else []
        if ahead is not None and prepared:
            try:
                stack.enter_context(ahead(prepared))
            except Exception:  # a hint: a failing batch leaves each text to be read alone
                logger.warning("The coach's model could not read a batch; parts are read alone.")
        yield


def read(text: str) -> Reading:
    """What the coach reads in ``text``. Never raises for a str; keeps nothing."""
    prepared = prepare(text if isinstance(text, str) else "")
    if not prepared.text:
        return Reading(None, 0.0, (), None, prepared.notice)
    probabilities: Sequence[float]
    if is_small_talk(prepared.text):  # everyday talk, whatever the model leans to
        probabilities = [float(label == "neutral") for label in LABELS]
    else:
        model = _current()
        try:
            probabilities = model.probabilities(prepared.text)
        except Exception:  # the reading is a hint: a failing model must not fail the page
            logger.warning("The coach's %s model failed; the keywords answered.", model.name)
            probabilities = keywords.probabilities(prepared.text)
    scores = _scores(probabilities)
    top = scores[0]
    suggestion = SUGGESTIONS.get(top.label) if top.label in CLOSING else None
    return Reading(top.label, top.confidence, scores, suggestion, prepared.notice)
