"""A stand-in for the message coach's model, and the sample texts it reads."""

from __future__ import annotations

from reconnect import coach
from reconnect.coach.labels import SUGGESTIONS

CLOSING_WORDS = "You're overreacting. It was one stupid mistake, get over it."
OPENING_WORDS = "I hear how much this hurt you, and your anger makes sense to me."
UNLISTED_WORDS = "That chapter is closed. I am sure you see it too."  # no listed phrase
UNLISTED_SENTENCE = "That chapter is closed."


def fake_reader(by_sentence: dict[str, tuple[str, float]]):
    """A stand-in coach: each known text gets its label; anything else is neutral."""

    def read(text: str) -> coach.Reading:
        label, confidence = by_sentence.get(text.strip(), ("neutral", 0.9))
        rest = (1 - confidence) / (len(coach.LABELS) - 1)
        others = [coach.LabelScore(o, rest) for o in coach.LABELS if o != label]
        scores = (coach.LabelScore(label, confidence), *others)
        suggestion = SUGGESTIONS[label] if label in coach.CLOSING else None
        return coach.Reading(label, confidence, scores, suggestion, None)

    return read
