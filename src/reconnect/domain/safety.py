"""The private safety screen asked before couple features open.

Couple work is not suitable where there is violence or coercive control, whoever
uses it. Any "yes" routes the person, privately, to individual support; their
partner is told nothing, and the answers themselves are never stored. The screen is
offered again every few weeks (:func:`ask_again`), and can be answered again at any
time: what was safe at the start may not stay so.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from urllib.parse import quote


@dataclass(frozen=True)
class Question:
    id: str
    text: str


@dataclass(frozen=True)
class ContactPart:
    """A piece of a contact's words; ``href`` when a phone can call, text or open it."""

    text: str
    href: str | None = None


@dataclass(frozen=True)
class Resource:
    """A crisis or advocacy contact; ``countries`` (ISO 3166 codes) empty means everywhere."""

    name: str
    region: str
    contact: str
    note: str
    countries: tuple[str, ...] = ()

    @property
    def parts(self) -> tuple[ContactPart, ...]:
        """The contact's words, with each number a call or text link (see contact_parts)."""
        return contact_parts(self.contact)


# A phone number: digits, with spaces or hyphens between them, maybe a leading "+";
# never part of a word, a date or "24/7".
_NUMBER = r"(?<![\w/.+-])\+?\d(?:[\d -]*\d)?(?![\w/])"
_CONTACT = re.compile(
    rf"(?P<call>\bcall)(?P<either>\s+or\s+)(?P<call_or_text>text\s+(?P<n1>{_NUMBER}))"
    rf"|(?P<text_word>\btext\s+(?P<word>[a-z0-9]+)\s+to\s+(?P<n2>{_NUMBER}))"
    rf"|(?P<text>\btext\s+(?P<n3>{_NUMBER}))"
    rf"|(?P<tel>{_NUMBER})"
    r"|(?P<web>\b(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[^\s,;)]*)?)",
    re.IGNORECASE,
)


def _dial(number: str) -> str | None:
    """The number as a tel:/sms: URI wants it ("+" and digits), or None if too short."""
    digits = re.sub(r"[^\d+]", "", number)
    return digits if sum(c.isdigit() for c in digits) >= 3 else None


def contact_parts(contact: str) -> tuple[ContactPart, ...]:
    """A contact's words cut into parts that read back as exactly the same text.

    Each phone number becomes a ``tel:`` link; "text WORD to NUMBER" an ``sms:`` link
    with the word filled in; "text NUMBER" an ``sms:`` link, and in "Call or text
    NUMBER" the word "Call" a ``tel:`` link. A web address becomes an https link.
    Operators write contacts in plain words in ``data/resources.toml``.
    """
    parts: list[ContactPart] = []

    def add(text: str, href: str | None = None) -> None:
        if not text:
            return
        if href is None and parts and parts[-1].href is None:
            parts[-1] = ContactPart(parts[-1].text + text)
        else:
            parts.append(ContactPart(text, href))

    position = 0
    for match in _CONTACT.finditer(contact):
        add(contact[position : match.start()])
        position = match.end()
        whole = match.group()
        if match["call"] and (number := _dial(match["n1"])):
            add(match["call"], f"tel:{number}")
            add(match["either"])
            add(match["call_or_text"], f"sms:{number}")
        elif match["text_word"] and (number := _dial(match["n2"])):
            add(whole, f"sms:{number}?&body={quote(match['word'])}")
        elif match["text"] and (number := _dial(match["n3"])):
            add(whole, f"sms:{number}")
        elif match["tel"] and (number := _dial(match["tel"])):
            add(whole, f"tel:{number}")
        elif match["web"]:
            add(whole, whole if "://" in whole else f"https://{whole}")
        else:
            add(whole)
    add(contact[position:])
    return tuple(parts)


class IncompleteScreen(ValueError):
    """Some questions were not answered, or answers name unknown questions."""


QUESTIONS: tuple[Question, ...] = (
    Question(
        "physical_harm",
        "In the past year, has your partner hit, pushed, choked or otherwise hurt you "
        "physically, or threatened to?",
    ),
    Question(
        "fear",
        "Are you afraid of your partner, or of what they might do if you disagree or say no?",
    ),
    Question(
        "control",
        "Does your partner control your money, your phone, who you see or where you go, "
        "or check up on you in ways that frighten you?",
    ),
    Question(
        "sexual_pressure",
        "Has your partner made you do anything sexual you did not want to do?",
    ),
    Question(
        "unsafe_to_write",
        "Would you be in danger if your partner found out what you write or feel?",
    ),
    Question(
        "put_down",
        "Does your partner often insult you, call you names or make you feel small, "
        "whether alone or in front of others?",
    ),
    Question(
        "own_force",
        "In the past year, have you yourself hit, pushed, grabbed or otherwise hurt your "
        "partner, or threatened to?",
    ),
    Question(
        "children",
        "Has your partner threatened to hurt your children or take them away from you, or "
        "hurt them?",
    ),
    Question(
        "threats_of_self_harm",
        "Has your partner threatened to hurt or kill themselves if you leave, disagree or say no?",
    ),
)

# The screen is offered again this long after it was last answered (or put off), and
# a person may answer it again at any time.
ASK_AGAIN_AFTER = timedelta(weeks=8)


def ask_again(answered_at: datetime, put_off_at: datetime | None, now: datetime) -> bool:
    """Whether to offer the screen again: ``ASK_AGAIN_AFTER`` has passed since it was
    answered and since the offer was last put off."""
    since = max(answered_at, put_off_at) if put_off_at is not None else answered_at
    return now >= since + ASK_AGAIN_AFTER


def needs_support(answers: Mapping[str, bool]) -> bool:
    """True when any answer is yes. Every question must be answered, no others.

    Raises IncompleteScreen naming what is missing or unknown.
    """
    known = {question.id for question in QUESTIONS}
    missing = sorted(known - answers.keys())
    unknown = sorted(answers.keys() - known)
    if missing:
        raise IncompleteScreen("Please answer every question: " + ", ".join(missing) + ".")
    if unknown:
        raise IncompleteScreen("These are not questions of the screen: " + ", ".join(unknown) + ".")
    return any(answers[question_id] for question_id in known)


@cache
def _listed() -> tuple[Resource, ...]:
    raw = (resources.files(__package__) / "data" / "resources.toml").read_text("utf-8")
    return tuple(
        Resource(**{**entry, "countries": tuple(entry.get("countries", ()))})
        for entry in tomllib.loads(raw)["resource"]
    )


@cache
def crisis_resources(country: str | None = None) -> tuple[Resource, ...]:
    """Crisis and advocacy contacts, from ``data/resources.toml`` so operators can localise.

    With a ``country`` (an ISO 3166 code, such as the one a person's time zone is in),
    that country's contacts come first, then those for everywhere, then the rest; in
    the file's order within each group. Without one, those for everywhere come first.
    """

    def rank(resource: Resource) -> int:
        if country is not None and country in resource.countries:
            return 0
        return 1 if not resource.countries else 2

    return tuple(sorted(_listed(), key=rank))
