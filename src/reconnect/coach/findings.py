"""The coach's findings in a message: every concern and every healthy marker it reads,
each pointing at the words it is about.

People in pain write several things at once ("You always overreact. It was just one
mistake, can we move on already?"), so one reading of the whole message names one
thing and misses the rest. Here the message is cut into parts, each part is read on
its own, and each part that reads clearly as one kind of language becomes a finding
with its place in the text (``start`` and ``end``, as a Python slice of the text that
was sent).

The parts are sentences. A sentence is also read clause by clause (either side of a
comma or semicolon, when both sides have ``CLAUSE_MIN_WORDS`` words or more), and when
its clauses read clearly as different things (or only a clause reads clearly), each
clause makes its own finding: "It was just one mistake, can we move on already?"
holds two. Otherwise the sentence is
read whole, because a clause alone can mislead ("I'm not going anywhere" alone reads
as a door closing; with ", take all the time you need" it is the opposite).

Some phrasings fool a model that reads words, and are known before any model runs
(:data:`PATTERNS`): an apology for the other's feelings rather than for what was done
("I'm sorry you feel that way"), an apology that turns into a case ("I'm sorry, but"),
a question that presses for an end to the hurt ("when will you be over this?"), a
sarcastic aside, and a greeting or small talk, which is neither closing nor opening.

When the reading of a part is not confident the coach says nothing about it rather
than praise or warn wrongly: a concern needs ``CONCERN_CONFIDENCE``, an opening marker
the higher ``PRAISE_CONFIDENCE`` and at least ``PRAISE_MIN_WORDS`` words. The whole
message is read too, and when it reads clearly as kind or everyday, a concern in one of
its parts needs ``KIND_MESSAGE_CONCERN_CONFIDENCE``.

Like the rest of the coach, nothing here keeps the text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass

from reconnect import coach
from reconnect.coach.labels import CLOSING, OPENING, SUGGESTIONS
from reconnect.coach.language import MAX_CHARS, SMALL_TALK

NON_APOLOGY = "non_apology"
TURNED_APOLOGY = "turned_apology"

PATTERN_SUGGESTIONS: dict[str, str] = {
    NON_APOLOGY: (
        "This may sound like sorrow for how they feel rather than for what happened. "
        "You could name what you did and how it affected them."
    ),
    TURNED_APOLOGY: (
        "An apology followed by \u201cbut\u201d can sound taken back. You could let the "
        "apology stand on its own, and keep the reasons for another time."
    ),
}

NAMES: dict[str, str] = {
    "minimizing": "Making it smaller",
    "pressuring_forgiveness": "Pressing for an end to the hurt",
    "defensiveness": "Explaining before acknowledging",
    "blame": "Blame",
    "contempt": "Scorn or sarcasm",
    "stonewalling": "Closing the conversation",
    NON_APOLOGY: "Sorry for their feelings",
    TURNED_APOLOGY: "An apology that turns",
    "ownership": "Owning your part",
    "validation": "Making room for their feelings",
    "presence": "Staying with them",
}
"""What a page calls each finding, in everyday words."""

CONCERN_CONFIDENCE = 0.45
"""The least confidence for a concern in a part of a message. Chosen on the corpus's
held-out several-part messages (``corpus.SEVERAL``): the best balance of concerns
named rightly and concerns found there (``bench/coach.py`` prints the others)."""
PRAISE_CONFIDENCE = 0.6
"""The least confidence for an opening marker: wrong praise costs more than silence."""
KIND_MESSAGE_CONCERN_CONFIDENCE = 0.8
"""The least confidence for a concern in a message that, read whole, reads clearly
(``PRAISE_CONFIDENCE``) as opening or everyday language: one short sentence of a real
apology ("No excuses.") must not be warned about on a guess."""
PRAISE_MIN_WORDS = 4
CLAUSE_MIN_WORDS = 3
MAX_SENTENCES = 30
"""The sentences read at most; a longer message is read from its start."""

# Which finding comes first: what most needs a second look. Opening markers follow
# every concern.
ORDER: tuple[str, ...] = (
    "contempt",
    "blame",
    NON_APOLOGY,
    "pressuring_forgiveness",
    "minimizing",
    TURNED_APOLOGY,
    "defensiveness",
    "stonewalling",
    "ownership",
    "validation",
    "presence",
)

_I = re.IGNORECASE


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), _I)


PATTERNS: tuple[tuple[re.Pattern[str], str | None], ...] = (
    # Sorrow for the other's feelings, or conditional on them, not for what was done
    # ("sorry you're upset", "sorry u still feel hurt", "I apologise if...").
    (
        _words(
            r"\bsorry\s+(?:that\s+)?(?:you|u)(?:['\u2019]?re|\s+r)\b",
            # "ur" is also "your" ("sorry ur day was rough"): only before a feeling.
            r"\bsorry\s+(?:that\s+)?ur\s+(?:still\s+|so\s+)?"
            r"(?:upset|hurt|angry|mad|sad|annoyed|offended|feeling|disappointed)\b",
            r"\bsorry\s+(?:that\s+)?(?:you|u)\s+(?:still\s+|really\s+|so\s+|ever\s+)?"
            r"(?:feel|felt|are|were|got|get|took|think|thought|see|saw|find|found|"
            r"didn['\u2019]?t|don['\u2019]?t)\b",
            r"\b(?:sorry|apologi[sz]e)\s+if\b",
            r"\bsorry\s+(?:for|about)\s+how\s+(?:you|u)\s+(?:feel|felt)\b",
        ),
        NON_APOLOGY,
    ),
    # An apology that turns: "I'm sorry, but", "sorry but you have to understand".
    (
        _words(r"\b(?:sorry|sry|soz|apologi[sz]e)\b[^.!?]{0,60}?\bbut\b"),
        TURNED_APOLOGY,
    ),
    # Questions and demands that press for an end to the hurt.
    (
        _words(
            r"\bwhen\s+(?:will|are|can)\s+you\s+(?:be\s+over|get\s+over|stop|move\s+on|forgive|let\s+(?:it|this)\s+go)",
            r"\bhow\s+long\s+(?:is|will|are|do)\b[^.!?]{0,40}\b(?:this|it|you)\b[^.!?]{0,30}\b(?:take|last|go\s+on|keep)",
            r"\b(?:move\s+on|get\s+over\s+(?:it|this)|let\s+(?:it|this)\s+go)\s+already\b",
            r"\bisn'?t\s+it\s+time\s+(?:to|you)\b",
            r"^\W*(?:just\s+|please\s+)?get\s+over\s+(?:it|this)\b",
            r"\b(?:need|have|got)\s+to\s+(?:get\s+over|move\s+on\s+from|let\s+go\s+of)\b",
            r"\bbe\s+over\s+(?:it|this)\s+by\s+now\b",
            r"\b(?:still|again)\s+on\s+about\s+this\b",
        ),
        "pressuring_forgiveness",
    ),
    # Telling the other their feelings are too big ("You're not overreacting" is not),
    # or making the affair itself small, said as a part's opening words ("I told
    # myself it was just a kiss" owns the telling, and is left to the model).
    (
        _words(
            r"\byou(?:'re|\u2019re|\s+are)\s+(?:just\s+)?(?:over-?reacting|being\s+"
            r"(?:dramatic|hysterical|paranoid|ridiculous|too\s+sensitive))\b",
            r"^\W*(?:but\s+|look,?\s+|honestly,?\s+)?(?:it|that)(?:\s+was|['\u2019]s|\s+is)\s+"
            r"(?:just|only)\s+(?:a|one)\s+(?:\w+\s+)?(?:mistake|kiss|fling|slip|text|night|time)\b",
            r"^\W*(?:but\s+)?(?:it|that|she|he)\s+(?:didn['\u2019]?t|did\s+not|never)\s+"
            r"(?:even\s+)?mean\s+anything\b",
        ),
        "minimizing",
    ),
    # Sarcasm: praise or thanks that mean their opposite.
    (
        _words(
            r"^\W*(?:oh\s+)?(?:great|wonderful|perfect|brilliant|lovely),?\s+(?:just\s+)?(?:great|perfect|another|so|more|thanks)\b",
            r"\byeah,?\s+right\b",
            r"\bthanks\s+(?:a\s+lot|so\s+much)\s+for\s+nothing\b",
            r"\bhow\s+(?:nice|lovely|convenient)\s+for\s+you\b",
            r"\bwell\s+done\s+you\b",
            r"\bsorry\s+i'?m\s+not\s+perfect\b",
        ),
        "contempt",
    ),
    # Greetings and small talk: neither closing nor opening, nothing to say.
    (SMALL_TALK, None),
)
"""Phrasings known before any model reads them: each with the finding it makes, or
None for "nothing to say" (small talk). The first that matches a part decides it."""

_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)]*(?=\s|$)|\n")
_CLAUSE_BREAK = re.compile(r"[,;]\s+")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")


@dataclass(frozen=True)
class Finding:
    """One thing the coach read in the message, and where.

    ``text[start:end]`` are the words it is about. ``suggestion`` is another way in
    for a concern, None for an opening marker. ``opening`` says which kind it is.
    """

    label: str
    start: int
    end: int
    confidence: float
    suggestion: str | None

    @property
    def opening(self) -> bool:
        return self.label in OPENING

    @property
    def name(self) -> str:
        return NAMES.get(self.label, self.label)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and not text[start].isalnum() and text[start] not in "\"'\u201c(":
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of ``text`` with words in it."""
    start = 0
    for end_mark in _SENTENCE_END.finditer(text):
        begin, end = _trimmed(text, start, end_mark.end())
        if _word_count(text[begin:end]):
            yield begin, end
        start = end_mark.end()
    begin, end = _trimmed(text, start, len(text))
    if _word_count(text[begin:end]):
        yield begin, end


def clauses(text: str, begin: int, end: int) -> list[tuple[int, int]]:
    """The sentence ``text[begin:end]`` cut at each comma or semicolon where both sides
    have ``CLAUSE_MIN_WORDS`` words or more (one part when there is no such place)."""
    found: list[tuple[int, int]] = []
    start = begin
    for brk in _CLAUSE_BREAK.finditer(text, begin, end):
        head, rest = text[start : brk.start()], text[brk.end() : end]
        if _word_count(head) >= CLAUSE_MIN_WORDS and _word_count(rest) >= CLAUSE_MIN_WORDS:
            found.append(_trimmed(text, start, brk.start()))
            start = brk.end()
    found.append(_trimmed(text, start, end))
    return [(s, e) for s, e in found if e > s]


def _pattern(part: str) -> tuple[bool, str | None]:
    """Whether a known phrasing decides this part, and the finding it makes."""
    for pattern, label in PATTERNS:
        if pattern.search(part):
            return True, label
    return False, None


def _suggestion(label: str) -> str | None:
    return PATTERN_SUGGESTIONS.get(label) or (SUGGESTIONS.get(label) if label in CLOSING else None)


def _judged(
    part: str, read: Callable[[str], coach.Reading], least: float
) -> tuple[str, float] | None:
    """The finding one part makes, as (label, confidence), or None; a concern needs a
    confidence of ``least``."""
    decided, label = _pattern(part)
    if decided:
        return (label, 1.0) if label is not None else None
    reading = read(part)
    if reading.label is None:
        return None
    if reading.label in CLOSING and reading.confidence >= least:
        return reading.label, reading.confidence
    if (
        reading.label in OPENING
        and reading.confidence >= PRAISE_CONFIDENCE
        and _word_count(part) >= PRAISE_MIN_WORDS
    ):
        return reading.label, reading.confidence
    return None  # neutral, or not sure enough to say anything


def _sentence_findings(
    text: str,
    span: tuple[int, int],
    read: Callable[[str], coach.Reading],
    by_clause: bool,
    least: float,
) -> list[Finding]:
    """A sentence's findings: one for the whole sentence, or one per clause when its
    clauses read clearly as different things (then the sentence holds several), or
    when only a clause reads clearly."""
    begin, end = span
    whole = _judged(text[begin:end], read, least)
    pieces = clauses(text, begin, end) if by_clause else []
    if len(pieces) > 1:
        judged = [(s, e, _judged(text[s:e], read, least)) for s, e in pieces]
        each = [
            Finding(j[0], s, e, round(j[1], 4), _suggestion(j[0]))
            for s, e, j in judged
            if j is not None
        ]
        if len({f.label for f in each}) > 1 or (whole is None and each):
            return each
    if whole is None:
        return []
    return [Finding(whole[0], begin, end, round(whole[1], 4), _suggestion(whole[0]))]


def _reads_kind(reading: coach.Reading) -> bool:
    """Whether a whole message reads clearly as opening or everyday language."""
    return (
        reading.label is not None
        and reading.label not in CLOSING
        and reading.confidence >= PRAISE_CONFIDENCE
    )


def find(
    text: str,
    read: Callable[[str], coach.Reading] | None = None,
    *,
    by_clause: bool = True,
    concern_confidence: float = CONCERN_CONFIDENCE,
    whole: coach.Reading | None = None,
) -> list[Finding]:
    """Every concern and healthy marker in ``text``, most needing a look first: at most
    one per sentence, or one per clause of a sentence that says several things. Only
    the first ``MAX_SENTENCES`` sentences of the first ``MAX_CHARS`` characters are read.

    ``read`` reads one part (the coach's model by default); ``by_clause=False`` reads
    whole sentences only (``bench/coach.py`` compares the two, and measures other
    ``concern_confidence`` values). ``whole``: the reading of the whole text, when the
    caller has it already, so it is not read again. Never raises for a str."""
    if not isinstance(text, str):
        return []
    read_part = read or coach.read
    read_first = list(itertools.islice(sentences(text[:MAX_CHARS]), MAX_SENTENCES))
    # Every part a reading may be asked for, read in one batch where the model can.
    parts = [text[b:e] for b, e in read_first]
    if by_clause:
        parts += [text[s:e] for b, e in read_first for s, e in clauses(text, b, e)]
    found: list[Finding] = []
    if whole is None and read_first:
        parts.append(text)
    with coach.together(parts) if read is None else nullcontext():
        least = concern_confidence
        if read_first and _reads_kind(whole or read_part(text)):
            least = max(least, KIND_MESSAGE_CONCERN_CONFIDENCE)
        for begin, end in read_first:
            found += _sentence_findings(text, (begin, end), read_part, by_clause, least)
    return sorted(found, key=lambda f: (ORDER.index(f.label), -f.confidence, f.start))
