"""Shared checks for private entries, with calm messages a person can act on.

Every check raises :class:`InvalidEntry`, which names the field so the web layer
can put the message next to the right input.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)

SCALE_MAX = 10
"""Every 0-to-10 answer tops out here: activation, felt safety, urgency, readiness,
a trigger's strength."""
NOTE_MAX_CHARS = 4000
"""A private note, on a check-in or a reflection."""


class InvalidEntry(ValueError):
    """An entry a person typed cannot be stored as it is.

    ``field`` is the entry's attribute name; ``message`` is a full sentence in
    plain words, safe to show to the person who typed it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_scale(field: str, label: str, value: object, low: int, high: int) -> int:
    """Return ``value`` if it is a whole number from ``low`` to ``high``."""
    # bool is an int subclass; True must not sneak in as a 1.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidEntry(field, f"{label} is a number from {low} to {high}.")
    return value


def check_flag(field: str, label: str, value: object) -> bool:
    """Return ``value`` if it is a yes/no answer."""
    if not isinstance(value, bool):
        raise InvalidEntry(field, f"{label} is a yes or no answer.")
    return value


def check_aware(field: str, label: str, value: object) -> datetime:
    """Return ``value`` if it is a datetime that knows its time zone."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidEntry(field, f"{label} needs a date and time with a time zone.")
    return value


def check_not_in_future(field: str, label: str, when: datetime, now: datetime) -> datetime:
    """Refuse a time after ``now``: an entry describes what already happened."""
    if when > now:
        raise InvalidEntry(field, f"{label} cannot be in the future.")
    return when


def check_text(field: str, label: str, value: object, limit: int) -> str:
    """Return ``value`` if it is text no longer than ``limit`` characters."""
    if not isinstance(value, str):
        raise InvalidEntry(field, f"{label} should be text.")
    if len(value) > limit:
        raise InvalidEntry(
            field, f"{label} can be up to {limit} characters; this one has {len(value)}."
        )
    return value


def check_choice(field: str, label: str, value: object, kind: type[E]) -> E:
    """Return ``value`` as a member of the enum ``kind``; its string value is accepted too."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(member.value) for member in kind)
        raise InvalidEntry(field, f"{label} is one of: {choices}.") from None
