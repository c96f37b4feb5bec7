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
    yeah yes yet you you're your u ur im dont cant
    """
_COMMON = frozenset(_COMMON_WORDS.split())
_OTHER_WORDS = """
    je tu il nous vous ils le la les des du une est et pas pour avec dans sur qui que
    ne mais ce cette moi toi suis très plus rien
    yo el los las del por para con una es y pero muy eso esta está estoy te tengo nada
    en quiero ahora contigo mismo hablar puedo porque cuando como
    ich du er wir ihr der das und ist nicht mit ein eine zu auf dich mich sehr aber
    io che il di non per sono della questo tutto ti lo
    eu não você com um uma muito está isso mas
    ik je jij het een niet en van dat wat ook maar met
    """
_OTHER = frozenset(_OTHER_WORDS.split()) - _COMMON


SMALL_TALK = re.compile(
    r"^\W*(?:hi|hey|hello|hiya|morning|good\s+(?:morning|night|evening|afternoon)|"
    r"night|ok|okay|k|yes|yeah|yep|no|nope|sure|thanks|thank\s+you|ta|bye|"
    r"see\s+you(?:\s+later|\s+soon)?|love\s+you|x+|home\s+soon|on\s+my\s+way|"
    r"how\s+are\s+you|how\s+was\s+your\s+day)\b(?:\s+(?:there|love|babe|you|x+))?\W*$",
    re.IGNORECASE,
)
"""Greetings and small talk ("hi", "thanks", "on my way x"), the whole text or a part
of it: neither closing nor opening, whatever a model leans to for a word or two."""


def is_small_talk(text: str) -> bool:
    return SMALL_TALK.search(text) is not None


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
    """Whether ``text`` reads as English: mostly Latin letters, and, from three words on,
    not more of another language's very common words than of English's.

    Terse English ("Council tax letter came.") has few common words of either kind and
    is read; "Je ne veux plus en parler" has French ones and is not.
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if c.isascii())
    if latin / len(letters) < 0.9:
        return False
    words = _WORD.findall(text.lower().replace("’", "'"))
    if len(words) < 3:
        return True
    english = sum(1 for w in words if w in _COMMON)
    other = sum(1 for w in words if w in _OTHER)
    return not (other / len(words) >= 0.2 and other > english)


def prepare(text: str) -> Prepared:
    """The text a model should read, or why there is none."""
    text = text.lstrip()
    head = text[: MAX_CHARS * 4]  # so a huge text costs no more than a long one
    cleaned = clean(head)
    if not cleaned:
        return Prepared("", NOTHING)
    if not any(c.isalpha() for c in cleaned):
        return Prepared("", NO_WORDS)
    bounded = bound(cleaned)
    if not is_english(bounded):
        return Prepared("", ENGLISH_ONLY)
    if len(bounded) < len(cleaned) or len(head) < len(text):
        return Prepared(bounded, f"The coach read the first {len(bounded)} characters.")
    return Prepared(bounded, None)
