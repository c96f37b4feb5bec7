"""The private check-in: about a minute, on a phone, a few times a day at most.

A check-in stays with the person who wrote it. The pace never reads it directly:
:func:`reconnect.domain.pacing.signals.signals_from_checkin` turns it into coarse signals
at the moment it is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from reconnect.domain.validation import (
    NOTE_MAX_CHARS,
    SCALE_MAX,
    InvalidEntry,
    check_aware,
    check_choice,
    check_scale,
    check_text,
)

__all__ = [
    "BODY_SIGNAL_MAX_CHARS",
    "BODY_SIGNAL_MAX_COUNT",
    "DRIVER_LABELS",
    "NOTE_MAX_CHARS",
    "SCALE_MAX",
    "STATE_LABELS",
    "SUGGESTED_BODY_SIGNALS",
    "CheckIn",
    "Driver",
    "InvalidEntry",
    "State",
]

BODY_SIGNAL_MAX_COUNT = 8
BODY_SIGNAL_MAX_CHARS = 40

# Offered as quick taps; a person may type their own words instead.
SUGGESTED_BODY_SIGNALS: tuple[str, ...] = (
    "tight chest",
    "racing heart",
    "short breath",
    "knot in the stomach",
    "clenched jaw",
    "tense shoulders",
    "hot face",
    "cold hands",
    "shaky",
    "restless",
    "lump in the throat",
    "heavy",
    "numb",
    "foggy",
    "tired",
    "slow breath",
    "loose shoulders",
    "warm",
    "steady",
)


class State(Enum):
    """Where a person is, in plain window-of-tolerance words."""

    SETTLED = "settled"
    REVVED_UP = "revved_up"
    SHUT_DOWN = "shut_down"


class Driver(Enum):
    """What is behind the pull to reconnect right now."""

    REASSURANCE = "reassurance"
    RELIEF = "relief_of_guilt_or_tension"
    FEAR_OF_LOSS = "fear_of_loss"
    WISH_FOR_CLOSENESS = "wish_for_closeness"
    OTHER = "other"


# How the check-in form words each choice; the API takes the values.
STATE_LABELS: dict[State, str] = {
    State.SETTLED: "Settled: I can think and feel at the same time",
    State.REVVED_UP: "Revved up: racing, tense, on edge",
    State.SHUT_DOWN: "Shut down: numb, far away, heavy",
}
DRIVER_LABELS: dict[Driver, str] = {
    Driver.REASSURANCE: "Wanting reassurance that we still matter",
    Driver.RELIEF: "Wanting relief from guilt or tension",
    Driver.FEAR_OF_LOSS: "Fear of losing each other",
    Driver.WISH_FOR_CLOSENESS: "A calm wish for closeness",
    Driver.OTHER: "Something else",
}


@dataclass(frozen=True)
class CheckIn:
    """One person's private check-in.

    All scales are whole numbers from 0 to 10. ``recorded_at`` must carry a time
    zone. ``state`` and ``drivers`` accept the enum members or their string values
    (the web layer passes strings); they are stored as enum members. Invalid input
    raises :class:`InvalidEntry` naming the field.
    """

    activation: int
    state: State
    safety: int
    urgency: int
    readiness: int
    recorded_at: datetime
    drivers: tuple[Driver, ...] = ()
    body_signals: tuple[str, ...] = ()
    note: str = field(default="", repr=False)  # private words stay out of logs

    def __post_init__(self) -> None:
        check_scale("activation", "Activation", self.activation, 0, SCALE_MAX)
        object.__setattr__(self, "state", check_choice("state", "State", self.state, State))
        check_scale("safety", "Felt safety", self.safety, 0, SCALE_MAX)
        check_scale("urgency", "Urgency", self.urgency, 0, SCALE_MAX)
        check_scale("readiness", "Readiness", self.readiness, 0, SCALE_MAX)
        check_aware("recorded_at", "The check-in time", self.recorded_at)
        object.__setattr__(self, "drivers", _drivers(self.drivers))
        object.__setattr__(self, "body_signals", _body_signals(self.body_signals))
        check_text("note", "The note", self.note, NOTE_MAX_CHARS)

    @property
    def urgency_gap(self) -> int:
        """How far urgency runs ahead of readiness (negative when it does not)."""
        return self.urgency - self.readiness

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckIn:
        """A check-in read back from storage, as the app wrote it (its fields by name,
        the time in ISO 8601, choices by their values).

        It was checked when it was written, and sealed under its owner's key since, so
        it is not checked again: a page may read a person's whole history, and a rule
        made stricter later must not make an earlier entry unreadable. Fields added
        since the entry was written take their defaults.
        """
        entry = object.__new__(cls)
        put = object.__setattr__
        put(entry, "activation", data["activation"])
        put(entry, "state", State(data["state"]))
        put(entry, "safety", data["safety"])
        put(entry, "urgency", data["urgency"])
        put(entry, "readiness", data["readiness"])
        put(entry, "recorded_at", datetime.fromisoformat(data["recorded_at"]))
        put(entry, "drivers", tuple(Driver(driver) for driver in data.get("drivers", ())))
        put(entry, "body_signals", tuple(data.get("body_signals", ())))
        put(entry, "note", data.get("note", ""))
        return entry


def _drivers(value: object) -> tuple[Driver, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise InvalidEntry("drivers", "What drives the pull is a list of choices.")
    drivers = tuple(check_choice("drivers", "Each driver", item, Driver) for item in value)
    if len(set(drivers)) != len(drivers):
        raise InvalidEntry("drivers", "Each driver can be chosen once.")
    return drivers


def _body_signals(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise InvalidEntry("body_signals", "Body signals are a list of short words.")
    if len(value) > BODY_SIGNAL_MAX_COUNT:
        raise InvalidEntry(
            "body_signals", f"Pick up to {BODY_SIGNAL_MAX_COUNT} body signals; fewer is fine."
        )
    cleaned: list[str] = []
    for item in value:
        text = check_text("body_signals", "A body signal", item, BODY_SIGNAL_MAX_CHARS).strip()
        if not text:
            raise InvalidEntry("body_signals", "A body signal cannot be empty.")
        if text not in cleaned:
            cleaned.append(text)
    return tuple(cleaned)
