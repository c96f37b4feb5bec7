"""Preparing text for the coach: cleaning, bounding its length, and a cheap offline
check of whether it is English.

Nothing here keeps the text: it is read, measured, and handed back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 2000
"""The coach reads at most this many characters; longer text is cut at a word."""

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_COMMON_WORDS = """
    a about after again all am an and any are as at back be because been being but by
    can can't could did didn't do does don't done down even ever every feel felt for
    from get go going got had has have haven't he her here him his how i i'd i'll i'm
    i've if in is isn't it it's just know last let like me more much my need never no
    not now of off oh ok okay on one only or our out over please really right said say
    see she should so some still sorry talk tell than that that's the their them then
    there they thing think this time to today tomorrow tonight too up us very want was
    wasn't way we we're well were what when where which who why will with won't would
    yeah yes yet you you're your
    """
_COMMON = frozenset(_COMMON_WORDS.split())


@dataclass(frozen=True)
class Prepared:
    """Text ready for a model, or the reason it cannot be read (``text`` is empty)."""

    text: str
    notice: str | None


NOTHING = "There is nothing to read yet."
NO_WORDS = "The coach reads words, and there are none here to read."
ENGLISH_ONLY = "The coach reads English only."


def clean(text: str) -> str:
    """Control and format characters become spaces; runs of spaces become one."""
    kept = []
    for char in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(char)
        kept.append(" " if category[0] in {"C", "Z"} else char)
    return " ".join("".join(kept).split())


def bound(text: str, limit: int = MAX_CHARS) -> str:
    """The first ``limit`` characters, cut back to the last whole word when there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return head[:space] if space > limit // 2 else head


def is_english(text: str) -> bool:
    """Whether ``text`` reads as English: mostly Latin letters, and for anything longer
    than a few words, a fair share of very common English words.

    Short messages ("ok", "kids at 4?") are given the benefit of the doubt as long as
    their letters are Latin.
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if c.isascii())
    if latin / len(letters) < 0.9:
        return False
    words = _WORD.findall(text.lower().replace("’", "'"))
    if len(words) < 4:
        return True
    common = sum(1 for w in words if w in _COMMON)
    return common / len(words) >= 0.2


def prepare(text: str) -> Prepared:
    """The text a model should read, or why there is none."""
    cleaned = clean(text)
    if not cleaned:
        return Prepared("", NOTHING)
    if not any(c.isalpha() for c in cleaned):
        return Prepared("", NO_WORDS)
    bounded = bound(cleaned)
    if not is_english(bounded):
        return Prepared("", ENGLISH_ONLY)
    if len(bounded) < len(cleaned):
        return Prepared(bounded, f"The coach read the first {len(bounded)} characters.")
    return Prepared(bounded, None)
