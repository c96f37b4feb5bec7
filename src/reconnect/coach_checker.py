"""The message coach as a text checker for the false-connection detectors.

Detector (b) (minimizing) and the words part of (d) (pressuring forgiveness) take
any :class:`~reconnect.domain.detectors.TextChecker`. :func:`checker` gives them the
shipped phrase list plus the coach: the phrase list's flags exactly as before, and a
flag from the coach for a concern the phrase list did not find in that text.

The coach flags a shared text when its primary label is one of ``CONCERNS`` with a
confidence of at least ``THRESHOLD``. The flag quotes the sentence of the text the
coach reads as most of that kind (shortened to ``QUOTE_MAX`` characters), so the
finding can show its author which words it means, as a phrase-list flag does. The
finding goes to the author alone, sealed under their key; the reading itself is
kept only while one refresh of the detectors runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from reconnect import coach
from reconnect.domain.detectors import TextChecker, TextConcern, TextFlag, load_phrase_list

CONCERNS: dict[str, TextConcern] = {
    "minimizing": TextConcern.MINIMIZING,
    "pressuring_forgiveness": TextConcern.PRESSURING_FORGIVENESS,
    "defensiveness": TextConcern.DEFLECTING,
}
"""The coach's labels a detector reads, and the concern each one is."""

THRESHOLD = 0.5
"""The least confidence for a flag: below it, the coach's reading is only a lean, and
a finding built on a lean would feel like an accusation. Documented in docs/coach.md."""

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


class CoachChecker:
    """Flags a text whose primary label is minimizing, pressuring forgiveness or
    defensiveness, read with at least ``threshold`` confidence."""

    def __init__(self, read: Read = coach.read, threshold: float = THRESHOLD) -> None:
        self._read = read
        self.threshold = threshold
        # One refresh asks about the same text once per detector; ask the coach once.
        self._seen: dict[str, tuple[TextFlag, ...]] = {}

    def check(self, text: str) -> tuple[TextFlag, ...]:
        if text not in self._seen:
            self._seen[text] = self._flags(text)
        return self._seen[text]

    def _flags(self, text: str) -> tuple[TextFlag, ...]:
        reading = self._read(text)
        label = reading.label
        if label not in CONCERNS or reading.confidence < self.threshold:
            return ()
        return (TextFlag(CONCERNS[label], self._quote(text, label)),)

    def _quote(self, text: str, label: str) -> str:
        """The sentence the coach reads as most ``label``; the text's start if it has
        only one."""
        sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
        if len(sentences) <= 1:
            return _shorten(text)
        best = max(sentences[:MAX_SENTENCES], key=lambda s: _score(self._read(s), label))
        return _shorten(best)


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
    """The checker the detectors use: the shipped phrase list plus the coach. Make a
    new one for each run, so nothing read is remembered beyond it."""
    return WithPhrases(load_phrase_list(), CoachChecker())
