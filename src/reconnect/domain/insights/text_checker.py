"""Shared words, checked: the pluggable :class:`TextChecker` the word detectors use.

The shipped checker is a :class:`PhraseList` of whole-word phrases from
``data/minimizing.toml`` (:func:`load_phrase_list`); the message coach
(``reconnect.coach.checker``) is another. :func:`flagged_words` runs a checker
over the shared texts and statuses with words in a time window.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cache
from importlib import resources
from typing import Protocol

from reconnect.domain.insights.couple_record import CoupleRecord, at_time, window
from reconnect.domain.insights.detector_settings import InvalidDetectorSettings
from reconnect.domain.insights.findings import Evidence

__all__ = [
    "PhraseList",
    "TextChecker",
    "TextConcern",
    "TextFlag",
    "flagged_words",
    "load_phrase_list",
]


class TextConcern(Enum):
    """What a flagged phrase does."""

    MINIMIZING = "minimizing"
    PRESSURING_FORGIVENESS = "pressuring_forgiveness"
    DEFLECTING = "deflecting"


@dataclass(frozen=True)
class TextFlag:
    """One concern found in a text, with the listed phrase that matched."""

    concern: TextConcern
    phrase: str


class TextChecker(Protocol):
    """Anything that can look at shared words: the phrase list, or the message coach
    (``reconnect.coach.checker``)."""

    def check(self, text: str) -> Sequence[TextFlag]: ...


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_SPACE = re.compile(r"\s+")


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", text.translate(_APOSTROPHES).casefold()).strip()


class PhraseList:
    """A :class:`TextChecker` over fixed phrases, matched as whole words."""

    def __init__(self, phrases: Mapping[TextConcern, Sequence[str]], version: str = "") -> None:
        self.version = version
        self._patterns: list[tuple[TextConcern, re.Pattern[str], dict[str, str]]] = []
        for concern, listed in phrases.items():
            cleaned = {_normalise(p): p for p in listed if _normalise(p)}
            if not cleaned:
                continue
            # Longest first, so "it was just" wins over a shorter overlapping phrase.
            alternatives = "|".join(
                re.escape(p).replace(r"\ ", r"\s+") for p in sorted(cleaned, key=len, reverse=True)
            )
            pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
            self._patterns.append((concern, pattern, cleaned))

    def check(self, text: str) -> tuple[TextFlag, ...]:
        normal = _normalise(text)
        flags: list[TextFlag] = []
        for concern, pattern, listed in self._patterns:
            seen: list[str] = []
            for match in pattern.finditer(normal):
                phrase = listed.get(_normalise(match.group(0)), match.group(0))
                if phrase not in seen:
                    seen.append(phrase)
            flags.extend(TextFlag(concern, phrase) for phrase in seen)
        return tuple(flags)


@cache
def load_phrase_list() -> PhraseList:
    """The shipped phrase list, ``data/minimizing.toml``."""
    path = resources.files("reconnect.domain.insights").joinpath("data", "minimizing.toml")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    phrases: dict[TextConcern, list[str]] = {}
    for concern in TextConcern:
        table = data.get(concern.value)
        listed = table.get("phrases") if isinstance(table, dict) else None
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise InvalidDetectorSettings(f"minimizing.toml: [{concern.value}] phrases is missing")
        phrases[concern] = listed
    return PhraseList(phrases, version=str(data.get("version", "")))


def _shared_words(
    record: CoupleRecord, start: datetime, now: datetime
) -> list[tuple[str, Evidence, str]]:
    """(author, evidence, words) of every shared text and status with words, in the window."""
    items: list[tuple[str, Evidence, str]] = [
        (t.author, Evidence("text", t.id, t.at.date()), t.text)
        for t in window(record.shared_texts, start, now, at_time)
    ]
    items.extend(
        (s.person_id, Evidence("status", s.id, s.at.date()), s.words)
        for s in window(record.statuses, start, now, at_time)
        if s.words.strip()
    )
    return items


def flagged_words(
    record: CoupleRecord,
    start: datetime,
    now: datetime,
    checker: TextChecker,
    concerns: set[TextConcern],
) -> dict[str, tuple[list[Evidence], list[str]]]:
    """Per author: the flagged shared texts and the phrases found in them."""
    by_author: dict[str, tuple[list[Evidence], list[str]]] = {}
    for author, evidence, words in _shared_words(record, start, now):
        phrases = [f.phrase for f in checker.check(words) if f.concern in concerns]
        if phrases:
            refs, seen = by_author.setdefault(author, ([], []))
            refs.append(evidence)
            seen.extend(p for p in phrases if p not in seen)
    return by_author
