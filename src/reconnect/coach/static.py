"""The static model: MiniLM distilled into one vector per word piece, read with numpy
alone, and a logistic-regression head over the mean of a text's vectors.

Distilling (``reconnect coach distill``, which needs the ``coach`` extra) runs every
word piece of MiniLM's vocabulary through the encoder alone and keeps the mean of its
outputs: ``model/minilm-static-table.npz``. A plain install then reads with that table
and the word-piece cut of ``wordpiece.py``: no PyTorch, no download, a few milliseconds.
The head is ``model/static-logreg.npz``, trained like the embedding model's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reconnect.coach.embedding import BlendModel, EmbeddingModel
from reconnect.coach.embedding import encoder as minilm
from reconnect.coach.light import MODEL_DIR, LightModel
from reconnect.coach.wordpiece import UNKNOWN, WordPieces

NAME = "static-logreg"
BLEND = "static+tfidf"
TABLE = MODEL_DIR / "minilm-static-table.npz"
ARTEFACT = MODEL_DIR / f"{NAME}.npz"
MAX_PIECES = 128
"""A text is read from its first 128 word pieces, as the encoder it came from reads."""
KEPT = re.compile(r"(##)?[a-z0-9'\-.,!?;:\"()&$%/*+=@#_]+|\[UNK\]")
"""The pieces that keep a vector of their own: Latin letters, digits and punctuation
(the coach reads English); any other piece counts as unknown. The full vocabulary
still cuts the text, so the cut is the encoder's."""


def available() -> bool:
    return TABLE.is_file()


class StaticEncoder:
    """Text to unit-length vectors: the mean of its word pieces' vectors."""

    def __init__(self, vocabulary: Sequence[str], rows: np.ndarray, vectors: np.ndarray) -> None:
        self.pieces = WordPieces(vocabulary)
        self.row = np.asarray(rows, dtype=np.int32)
        """For each piece of the vocabulary, its row in ``vectors``."""
        self.vectors = np.asarray(vectors)
        self.dimensions = int(self.vectors.shape[1])

    @classmethod
    def load(cls, path: Path | None = None) -> StaticEncoder:
        with np.load(path or TABLE, allow_pickle=False) as data:
            return cls([str(p) for p in data["vocabulary"]], data["rows"], data["vectors"])

    def vector(self, text: str) -> np.ndarray:
        ids = self.pieces.ids(text)[:MAX_PIECES] or [self.pieces.unknown]
        mean = self.vectors[self.row[ids]].astype(np.float64).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        result: np.ndarray = mean / norm if norm else mean
        return result

    def encode(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        """The same call as sentence-transformers' ``encode`` (its options do not apply)."""
        if not texts:
            return np.zeros((0, self.dimensions))
        return np.stack([self.vector(text) for text in texts])


@functools.cache
def encoder() -> StaticEncoder:
    """The shipped table, loaded once per process (well under a second)."""
    return StaticEncoder.load()


class StaticModel(EmbeddingModel):
    name = NAME
    artefact = ARTEFACT

    @staticmethod
    def default_encoder() -> Any:
        return encoder()


class StaticBlend(BlendModel):
    name = BLEND

    @classmethod
    def load(cls) -> StaticBlend:
        return cls(StaticModel.load(), LightModel.load())


def distill(
    out: Path = TABLE,
    echo: Callable[[str], None] = print,
    batch: int = 512,
    only: Sequence[str] = (),
) -> StaticEncoder:
    """Run each word piece of MiniLM's vocabulary through the encoder alone (between its
    start and end markers) and keep the mean of the outputs, as float16; needs the
    ``coach`` extra. Takes a few minutes on a laptop's CPU. ``only``: just these pieces
    (and the unknown one) keep a vector, for a quick look."""
    import torch

    model = minilm()
    tokenizer, network = model.tokenizer, model[0].auto_model
    vocabulary = sorted(tokenizer.get_vocab(), key=tokenizer.get_vocab().__getitem__)
    wanted = set(only) | {UNKNOWN} if only else None
    kept = [
        i
        for i, piece in enumerate(vocabulary)
        if (piece in wanted if wanted is not None else KEPT.fullmatch(piece))
    ]
    unknown_row = kept.index(vocabulary.index(UNKNOWN))
    rows = np.full(len(vocabulary), unknown_row, dtype=np.int32)
    rows[kept] = np.arange(len(kept), dtype=np.int32)
    vectors = np.zeros((len(kept), network.config.hidden_size), dtype=np.float32)
    start, end = tokenizer.cls_token_id, tokenizer.sep_token_id
    with torch.inference_mode():
        for first in range(0, len(kept), batch):
            ids = torch.tensor([[start, i, end] for i in kept[first : first + batch]])
            hidden = network(input_ids=ids, attention_mask=torch.ones_like(ids))
            vectors[first : first + batch] = hidden.last_hidden_state.mean(dim=1).numpy()
            echo(f"  {min(first + batch, len(kept))} of {len(kept)} word pieces through MiniLM")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        vocabulary=np.array(vocabulary, dtype=np.str_),
        rows=rows,
        vectors=vectors.astype(np.float16),
    )
    return StaticEncoder(vocabulary, rows, vectors.astype(np.float16))
