"""The labelled corpus the coach is trained and measured on, and its fixed split.

One file per label in ``corpus/``: ``<label>.txt``, one message per line; blank lines
and lines starting with ``# `` are skipped. Every third message of each file (the 3rd,
6th, 9th, ...) is in the test split; the others are in the train split. The split
depends only on the order of the lines, so every model is measured on the same
messages, and no message of the test split is ever seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconnect.coach.labels import LABELS
from reconnect.coach.language import bound, clean

CORPUS_DIR = Path(__file__).parent / "corpus"
TEST_EVERY = 3


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    position: int
    """The message's place among its label's messages, counting from 1."""

    @property
    def is_test(self) -> bool:
        return self.position % TEST_EVERY == 0


def load(directory: Path = CORPUS_DIR) -> list[Example]:
    """Every labelled message, label by label in the order of ``LABELS``, cleaned the way
    the coach cleans what it reads. A label without a file has no messages."""
    examples: list[Example] = []
    for label in LABELS:
        path = directory / f"{label}.txt"
        if not path.is_file():
            continue
        position = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            position += 1
            examples.append(Example(bound(clean(line)), label, position))
    return examples


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(train, test): every third message of each label is for testing."""
    return [e for e in examples if not e.is_test], [e for e in examples if e.is_test]
