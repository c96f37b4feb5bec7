"""The words of the moments between check-ins: a shared status, a trigger and the
partner's response, a proposal and its answer.

Each choice is defined once, here or with the detectors that read it, and the API,
the pages and storage take it from here.
"""

from __future__ import annotations

from enum import Enum

# The detectors read shared statuses and proposals, so their moods and answers are
# defined with the record they read; these are the same enums, not copies.
from reconnect.domain.insights.couple_record import Mood, Response
from reconnect.domain.pacing.history import Role

__all__ = [
    "STATUS_LABELS",
    "TRIGGER_RESPONSE_WORDS",
    "TRIGGER_ROLES",
    "WORDS_MAX",
    "Mood",
    "Response",
    "TriggerResponse",
]

WORDS_MAX = 500
"""A status's few words, or what a trigger was."""

STATUS_LABELS: dict[Mood, str] = {
    Mood.OKAY: "Okay",
    Mood.STRUGGLING: "Struggling",
    Mood.NEED_SPACE: "Needing some space",
}


class TriggerResponse(Enum):
    """How the partner who was told about a trigger answers. There is no way to
    explain or defend."""

    ACKNOWLEDGE = "acknowledge"
    COMFORT = "comfort"
    SPACE = "space"


TRIGGER_RESPONSE_WORDS: dict[TriggerResponse, str] = {
    TriggerResponse.ACKNOWLEDGE: "I see it, and I am here.",
    TriggerResponse.COMFORT: "I would like to comfort you, if you want that.",
    TriggerResponse.SPACE: "I will give you space, and I am not going anywhere.",
}

TRIGGER_ROLES = frozenset({Role.HURT, Role.BOTH_HURT})
"""Triggers are logged by the partner who was hurt (either, when both were)."""
