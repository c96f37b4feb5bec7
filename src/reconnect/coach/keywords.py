"""The keyword baseline: hand-written cue phrases per label. It exists to be beaten,
and to answer when no trained model is available.

Each cue found adds one to its label; probabilities are a softmax over the counts,
with ``neutral`` winning when nothing matches.
"""

from __future__ import annotations

import math
import re

from reconnect.coach.labels import LABELS

NAME = "keywords"

CUES: dict[str, tuple[str, ...]] = {
    "minimizing": (
        "only a few",
        "just a few",
        "didn't mean anything",
        "meant nothing",
        "not a big deal",
        "no big deal",
        "bigger than it",
        "blowing it out",
        "overreacting",
        "it's over now",
        "it was nothing",
        "just texts",
        "worse than us",
        "other couples",
    ),
    "pressuring_forgiveness": (
        "let it go",
        "move on",
        "get over",
        "back to normal",
        "how we were",
        "how long",
        "what more do you want",
        "i said sorry",
        "i already apologized",
        "forgive me already",
        "when will you",
        "months",
    ),
    "defensiveness": (
        "only did it because",
        "because you",
        "that's not fair",
        "not fair",
        "i've been trying",
        "what about you",
        "what about the",
        "you did too",
        "but you",
        "sorry but",
        "i had my reasons",
        "wasn't my fault",
    ),
    "blame": (
        "you always",
        "you never",
        "you're so",
        "you are so",
        "selfish",
        "all on you",
        "your fault",
        "you only care",
        "you ruin",
        "you don't care",
    ),
    "contempt": (
        "poor you",
        "pathetic",
        "what a great",
        "disgust",
        "oh please",
        "yeah right",
        "congratulations",
        "loser",
        "joke",
        "sure you are",
    ),
    "stonewalling": (
        "i'm done",
        "done talking",
        "whatever",
        "leave me alone",
        "not doing this",
        "don't wait up",
        "going out",
        "stop talking",
        "nothing to say",
        "forget it",
    ),
    "ownership": (
        "my choice",
        "i lied",
        "i was wrong",
        "my fault",
        "i broke",
        "mine to",
        "i take responsibility",
        "no excuse",
        "i chose",
        "i hurt you",
    ),
    "validation": (
        "makes sense",
        "every reason",
        "i hear",
        "of course you",
        "you're right to",
        "i understand why",
        "that must",
        "it's understandable",
    ),
    "presence": (
        "not going anywhere",
        "take your time",
        "come back",
        "i'm here",
        "tell me more",
        "stay with",
        "twenty minutes",
        "can we pause",
        "need a break",
        "i'm listening",
    ),
    "neutral": (),
}

_PATTERNS = {
    label: [re.compile(r"(?<![a-z])" + re.escape(cue) + r"(?![a-z])") for cue in cues]
    for label, cues in CUES.items()
}


def probabilities(text: str) -> list[float]:
    """A probability per label, in the order of ``LABELS``."""
    lowered = text.lower().replace("’", "'")
    counts = [sum(1 for p in _PATTERNS[label] if p.search(lowered)) for label in LABELS]
    if not any(counts):
        counts[LABELS.index("neutral")] = 1
    weights = [math.exp(2.0 * c) for c in counts]
    total = sum(weights)
    return [w / total for w in weights]
