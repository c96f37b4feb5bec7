"""The coach's ten labels, which of them tend to close or open connection, and for
each closing label a short, kind direction in our own words.

A direction is not a rewrite of what the person wrote: it names another way in, and
the person decides what to say.
"""

from __future__ import annotations

LABELS: tuple[str, ...] = (
    "minimizing",
    "pressuring_forgiveness",
    "defensiveness",
    "blame",
    "contempt",
    "stonewalling",
    "ownership",
    "validation",
    "presence",
    "neutral",
)

CLOSING: frozenset[str] = frozenset(
    {"minimizing", "pressuring_forgiveness", "defensiveness", "blame", "contempt", "stonewalling"}
)
OPENING: frozenset[str] = frozenset({"ownership", "validation", "presence"})

SUGGESTIONS: dict[str, str] = {
    "minimizing": (
        "This may read as making the hurt smaller than it feels. You could name what "
        "happened as it was, and ask how it landed for them."
    ),
    "pressuring_forgiveness": (
        "This may feel like a timetable for healing. You could say what you hope for "
        "and leave the pace to them."
    ),
    "defensiveness": (
        "This may sound like an explanation before an acknowledgement. You could start "
        "with the part that is yours, and keep the reasons for later."
    ),
    "blame": (
        "This may land as a judgement of who they are. You could describe one moment "
        "and what you felt, and what you need now."
    ),
    "contempt": (
        "This may come across as scorn, which is hard to hear through. You could say "
        "the hurt or the anger underneath in plain words."
    ),
    "stonewalling": (
        "This may close the door. If you need a break, you could say so and name when "
        "you will come back."
    ),
}
