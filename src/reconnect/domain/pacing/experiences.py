"""One partner's private reflection after a shared practice.

Like a check-in, a rating stays with the person who wrote it; the pace only sees
the coarse signals from :func:`reconnect.domain.pacing.signals.signals_from_rating`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from reconnect.domain.validation import (
    NOTE_MAX_CHARS,
    SCALE_MAX,
    InvalidEntry,
    check_aware,
    check_choice,
    check_flag,
    check_scale,
    check_text,
)

__all__ = [
    "NOTE_MAX_CHARS",
    "PRACTICE_ID_MAX_CHARS",
    "QUALITIES",
    "QUALITY_LABELS",
    "QUALITY_MAX",
    "STARTED_BY_LABELS",
    "STAYING_LABELS",
    "ExperienceRating",
    "InvalidEntry",
    "StartedBy",
    "Staying",
]

PRACTICE_ID_MAX_CHARS = 80
TOP_TIER = 6
QUALITY_MAX = 4
# The four qualities of a practice, each 0 to QUALITY_MAX, as the reflection form asks them.
QUALITY_LABELS: dict[str, str] = {
    "authenticity": "Authenticity: I said what was true for me",
    "vulnerability": "Vulnerability: I let myself be seen",
    "transparency": "Transparency: nothing important was hidden",
    "presence": "Presence: I stayed with it, without escaping",
}
QUALITIES = tuple(QUALITY_LABELS)


class Staying(Enum):
    """Whether a person stayed present through the practice."""

    STAYED = "stayed"
    LEFT_EMOTIONALLY = "left_emotionally"
    LEFT_PHYSICALLY = "left_physically"


STAYING_LABELS: dict[Staying, str] = {
    Staying.STAYED: "I stayed present",
    Staying.LEFT_EMOTIONALLY: "I left emotionally (went numb, far away or defensive)",
    Staying.LEFT_PHYSICALLY: "I left the room or stopped",
}


class StartedBy(Enum):
    """Who started a shared practice, as the person logging it says. Logging a
    practice is not starting it; nothing is assumed from who logs it."""

    ME = "me"
    PARTNER = "partner"
    BOTH = "both"  # together, or not sure


STARTED_BY_LABELS: dict[StartedBy, str] = {
    StartedBy.ME: "I did",
    StartedBy.PARTNER: "My partner did",
    StartedBy.BOTH: "We both did, or I'm not sure",
}


@dataclass(frozen=True)
class ExperienceRating:
    """How a shared practice felt to one partner.

    Safety and activation are whole numbers from 0 to 10; the four qualities
    (authenticity, vulnerability, transparency, presence) from 0 to 4. ``tier`` is
    the tier of the practice (0 to 6). ``staying`` accepts a :class:`Staying` member
    or its string value. ``heart_rate_flooded`` is filled in by heart-rate import
    later; it defaults to ``False``. Invalid input raises :class:`InvalidEntry`.
    """

    practice_id: str
    tier: int
    occurred_at: datetime
    safety: int
    activation_before: int
    activation_after: int
    staying: Staying
    felt_pressured: bool
    authenticity: int
    vulnerability: int
    transparency: int
    presence: int
    heart_rate_flooded: bool = False
    note: str = field(default="", repr=False)  # private words stay out of logs
    # When it ended: how the person was afterwards is known from then. None in entries
    # written before it was asked (then: when it happened).
    ended_at: datetime | None = None

    def __post_init__(self) -> None:
        practice_id = check_text(
            "practice_id", "The practice", self.practice_id, PRACTICE_ID_MAX_CHARS
        )
        if not practice_id.strip():
            raise InvalidEntry("practice_id", "Choose which practice this was.")
        check_scale("tier", "The step of the practice", self.tier, 0, TOP_TIER)
        check_aware("occurred_at", "When it happened", self.occurred_at)
        if self.ended_at is not None:
            check_aware("ended_at", "When it ended", self.ended_at)
        check_scale("safety", "Felt safety", self.safety, 0, SCALE_MAX)
        check_scale("activation_before", "Activation before", self.activation_before, 0, SCALE_MAX)
        check_scale("activation_after", "Activation after", self.activation_after, 0, SCALE_MAX)
        staying = check_choice("staying", "Staying present", self.staying, Staying)
        object.__setattr__(self, "staying", staying)
        check_flag("felt_pressured", "Feeling pressured", self.felt_pressured)
        for name in QUALITIES:
            check_scale(name, name.capitalize(), getattr(self, name), 0, QUALITY_MAX)
        check_flag("heart_rate_flooded", "Heart-rate flooding", self.heart_rate_flooded)
        check_text("note", "The note", self.note, NOTE_MAX_CHARS)

    @property
    def left(self) -> bool:
        """True when the person left, emotionally or physically."""
        return self.staying is not Staying.STAYED
