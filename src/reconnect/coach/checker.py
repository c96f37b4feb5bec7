"""The message coach as a text checker for the false-connection detectors.

Detector (b) (minimizing) and the words part of (d) (pressuring forgiveness) take
any :class:`~reconnect.domain.insights.text_checker.TextChecker`. :func:`checker` gives them the
shipped phrase list plus the coach: the phrase list's flags exactly as before, and a
flag from the coach for a concern the phrase list did not find in that text.

The coach flags a shared text when its primary label is one of ``CONCERNS`` with a
confidence of at least ``THRESHOLD``. The flag quotes the sentence of the text the
coach reads as most of that kind (shortened to ``QUOTE_MAX`` characters), so the
finding can show its author which words it means, as a phrase-list flag does. The
finding goes to the author alone, sealed under their key.

The detectors run after every write, over two weeks of shared words, and a reading
takes the coach some milliseconds; so :class:`Memory` remembers, while the process
runs, *which* concern (if any) it found in a text and which sentence it meant. It
remembers them under a keyed digest of the text, whose key is random, made at start
and never stored, so nothing in it can be turned back into words; it never holds a
text, a sentence or a reading.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from reconnect import coach
from reconnect.domain.insights.text_checker import (
    TextChecker,
    TextConcern,
    TextFlag,
    load_phrase_list,
)

CONCERNS: dict[str, TextConcern] = {
    "minimizing": TextConcern.MINIMIZING,
    "pressuring_forgiveness": TextConcern.PRESSURING_FORGIVENESS,
    "defensiveness": TextConcern.DEFLECTING,
}
"""The coach's labels a detector reads, and the concern each one is."""

THRESHOLD = 0.55
"""The least confidence for a flag: below it, the coach's reading is only a lean, and
a finding built on a lean would feel like an accusation. On the corpus's 1,410
held-out messages, with the tuned blend, 0.55 flags 307 texts, 287 of them rightly
(68% of the 419 minimizing, pressuring and defensive messages), and 8 of the 439
opening ones (0.5 flags 11 of those); docs/coach.md has the figures and
tests/coach/test_api.py keeps them true."""

QUOTE_MAX = 90
MAX_SENTENCES = 12  # the quote is looked for among the first sentences only

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")

Read = Callable[[str], coach.Reading]


def _score(reading: coach.Reading, label: str) -> float:
    return next((s.confidence for s in reading.labels if s.label == label), 0.0)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= QUOTE_MAX:
        return text
    head = text[: QUOTE_MAX - 1]
    space = head.rfind(" ")
    return (head[:space] if space > QUOTE_MAX // 2 else head).rstrip(" ,;:") + "…"


# What the coach found in one text: the concern and the index of the sentence it
# meant, or nothing.
Found = tuple[TextConcern, int] | None
T = TypeVar("T")


class Memory(Generic[T]):
    """What was found in texts, by a keyed digest of each text, never the text; the
    ``size`` most recently used. The key lives in this process only, so nothing here
    can be matched against a guessed text from outside it."""

    def __init__(self, size: int = 4096) -> None:
        self._key = secrets.token_bytes(32)
        self._size = size
        self._found: OrderedDict[bytes, T] = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, text: str) -> bytes:
        return hmac.new(self._key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    def recall(self, text: str) -> tuple[bool, T | None]:
        digest = self._digest(text)
        with self._lock:
            if digest not in self._found:
                return False, None
            self._found.move_to_end(digest)
            return True, self._found[digest]

    def keep(self, text: str, found: T) -> None:
        with self._lock:
            self._found[self._digest(text)] = found
            while len(self._found) > self._size:
                self._found.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self._found.clear()


MEMORY: Memory[Found] = Memory()
"""The process's memory for the real coach; tests with a stand-in coach use their own."""


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]


class CoachChecker:
    """Flags a text whose primary label is minimizing, pressuring forgiveness or
    defensiveness, read with at least ``threshold`` confidence."""

    def __init__(
        self,
        read: Read | None = None,
        threshold: float = THRESHOLD,
        memory: Memory[Found] | None = None,
    ) -> None:
        self._read = read or coach.read
        self.threshold = threshold
        self.memory: Memory[Found] = memory or Memory()

    def check(self, text: str) -> tuple[TextFlag, ...]:
        known, found = self.memory.recall(text)
        if not known:
            found = self._find(text)
            self.memory.keep(text, found)
        if found is None:
            return ()
        concern, index = found
        sentences = _sentences(text)
        quote = sentences[index] if 0 <= index < len(sentences) else text
        return (TextFlag(concern, _shorten(quote)),)

    def _find(self, text: str) -> Found:
        reading = self._read(text)
        label = reading.label
        if label not in CONCERNS or reading.confidence < self.threshold:
            return None
        return CONCERNS[label], self._sentence_meant(text, label)

    def _sentence_meant(self, text: str, label: str) -> int:
        """The index of the sentence the coach reads as most ``label``; -1 for the
        whole text when it has only one."""
        sentences = _sentences(text)
        if len(sentences) <= 1:
            return -1
        scores = [_score(self._read(s), label) for s in sentences[:MAX_SENTENCES]]
        return scores.index(max(scores))


class WithPhrases:
    """The phrase list first, unchanged; then the coach, for concerns the phrase list
    did not flag in the same text (so one text is not flagged twice for one thing)."""

    def __init__(self, phrases: TextChecker, reader: TextChecker) -> None:
        self.phrases = phrases
        self.reader = reader

    def check(self, text: str) -> Sequence[TextFlag]:
        flags = tuple(self.phrases.check(text))
        found = {flag.concern for flag in flags}
        return flags + tuple(f for f in self.reader.check(text) if f.concern not in found)


def checker() -> TextChecker:
    """The checker the detectors use: the shipped phrase list plus the coach."""
    return WithPhrases(load_phrase_list(), CoachChecker(memory=MEMORY))
