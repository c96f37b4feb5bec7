"""The light model: TF-IDF over words and character runs, and a logistic regression,
computed with numpy alone from exported arrays (no pickle, no scikit-learn).

The artefact is ``model/tfidf-logreg.npz``: the terms and their idf weights, the
coefficients and intercepts, and the labels in the order of the coefficients' rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reconnect.coach.features import terms
from reconnect.coach.labels import LABELS

NAME = "tfidf-logreg"
MODEL_DIR = Path(__file__).parent / "model"
ARTEFACT = MODEL_DIR / f"{NAME}.npz"
MANIFEST = "manifest.json"
"""Written by training beside the artefacts: the chosen model and every model's figures."""


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    result: np.ndarray = exp / exp.sum(axis=-1, keepdims=True)
    return result


class LightModel:
    """TF-IDF (sublinear term frequency, l2-normalised) and a multinomial logistic
    regression, reordered so probabilities follow ``LABELS``."""

    name = NAME

    def __init__(
        self,
        vocabulary: Sequence[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        labels: Sequence[str],
    ) -> None:
        if sorted(labels) != sorted(LABELS):
            raise ValueError(f"the model's labels {list(labels)} are not the coach's")
        order = [list(labels).index(label) for label in LABELS]
        self.index = {term: i for i, term in enumerate(vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.coef = np.asarray(coef, dtype=np.float64)[order]
        self.intercept = np.asarray(intercept, dtype=np.float64)[order]

    @classmethod
    def load(cls, path: Path | None = None) -> LightModel:
        with np.load(path or ARTEFACT, allow_pickle=False) as data:
            return cls(
                [str(t) for t in data["vocabulary"]],
                data["idf"],
                data["coef"],
                data["intercept"],
                [str(label) for label in data["labels"]],
            )

    def save(self, path: Path) -> None:
        vocabulary = sorted(self.index, key=self.index.__getitem__)
        np.savez_compressed(
            path,
            vocabulary=np.array(vocabulary, dtype=np.str_),
            idf=self.idf,
            coef=self.coef,
            intercept=self.intercept,
            labels=np.array(LABELS, dtype=np.str_),
        )

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's non-zero features: (column indices, tf-idf values, l2-normalised)."""
        counts = Counter(i for t in terms(text) if (i := self.index.get(t)) is not None)
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        values = tf * self.idf[columns]
        return columns, values / np.linalg.norm(values)

    def probabilities(self, text: str) -> list[float]:
        columns, values = self.vector(text)
        logits = self.coef[:, columns] @ values + self.intercept
        return [float(p) for p in softmax(logits)]
