"""The private safety screen asked before couple features open.

Couple work is not suitable where there is violence or coercive control. Any
"yes" routes the person, privately, to individual support; their partner is
told nothing, and the answers themselves are never stored.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Question:
    id: str
    text: str


@dataclass(frozen=True)
class Resource:
    name: str
    region: str
    contact: str
    note: str


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
)


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
def crisis_resources() -> tuple[Resource, ...]:
    """Crisis and advocacy contacts, from ``data/resources.toml`` so operators can localise."""
    raw = (resources.files(__package__) / "data" / "resources.toml").read_text("utf-8")
    return tuple(Resource(**entry) for entry in tomllib.loads(raw)["resource"])
