"""The labelled corpus the coach is trained and measured on, and its fixed split.

One file per label in ``corpus/``: ``<label>.txt``, one message per line; blank lines
and lines starting with ``# `` are skipped. Every third message of each file (the 3rd,
6th, 9th, ...) is in the test split; the others are in the train split. The split
depends only on the order of the lines, so every model is measured on the same
messages, and no message of the test split is ever seen in training.

``several.tsv`` holds messages that say several things at once, each part labelled
(``label<TAB>words<TAB>label<TAB>words...``; the message is the parts joined by
spaces). Every third of them is held out the same way, to measure how the coach's
findings cut and read a whole message; the parts of the others teach the models
alongside the label files. Parts labelled with a phrasing the findings know before
any model (a non-apology, an apology that turns) teach no model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconnect.coach.labels import CLOSING, LABELS
from reconnect.coach.language import bound, clean

CORPUS_DIR = Path(__file__).parent / "corpus"
SEVERAL = "several.tsv"
TEST_EVERY = 3
PATTERN_LABELS = frozenset({"non_apology", "turned_apology"})
"""Concerns the findings name from known phrasings alone (``findings.PATTERNS``)."""
CONCERNS = CLOSING | PATTERN_LABELS


class CorpusError(ValueError):
    """A line of the corpus cannot be read; the message says which and why."""


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


@dataclass(frozen=True)
class Several:
    """A message that says several things at once, with each part's label."""

    parts: tuple[tuple[str, str], ...]
    """(label, words) of each part, in order."""
    position: int

    @property
    def text(self) -> str:
        return " ".join(words for _, words in self.parts)

    @property
    def concerns(self) -> frozenset[str]:
        return frozenset(label for label, _ in self.parts if label in CONCERNS)

    @property
    def is_test(self) -> bool:
        return self.position % TEST_EVERY == 0


def load_several(directory: Path = CORPUS_DIR) -> list[Several]:
    """Every several-part message of ``several.tsv`` (none when there is no such file)."""
    path = directory / SEVERAL
    if not path.is_file():
        return []
    messages: list[Several] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        labels, words = fields[0::2], [field.strip() for field in fields[1::2]]
        unknown = set(labels) - set(LABELS) - PATTERN_LABELS
        if len(fields) % 2 or len(fields) < 4 or unknown or not all(words):
            raise CorpusError(
                f"{path.name} line {number}: expected label<TAB>words pairs, two or more,"
                f" with known labels{f' (not {sorted(unknown)})' if unknown else ''}."
            )
        messages.append(Several(tuple(zip(labels, words, strict=True)), len(messages) + 1))
    return messages


def parts_to_learn(messages: list[Several]) -> list[Example]:
    """The parts of the messages not held out, as examples for the models to learn from
    (a part is held out with its message)."""
    return [
        Example(bound(clean(words)), label, message.position)
        for message in messages
        if not message.is_test
        for label, words in message.parts
        if label in LABELS
    ]
