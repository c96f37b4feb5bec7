"""A small builder that writes a couple's signals as a story, for the pacing tests.

Hana is the hurt partner and Ivan the involved partner. Every entry goes through
the real ``signals_from_checkin`` / ``signals_from_rating``, so the tests exercise
the same path the web app will.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.engine import decide
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.pacing.history import Decision, History, Partner, Role
from reconnect.domain.pacing.policy import Policy, load_policy
from reconnect.domain.pacing.signals import (
    PauseSignal,
    ResumeSignal,
    Signal,
    signals_from_checkin,
    signals_from_rating,
)

HANA = "hana"  # the hurt partner
IVAN = "ivan"  # the involved partner
PARTNERS = (Partner(HANA, Role.HURT), Partner(IVAN, Role.INVOLVED))
START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)  # a Monday morning

CALM_CHECKIN: dict[str, Any] = {
    "activation": 2,
    "state": "settled",
    "safety": 7,
    "urgency": 3,
    "readiness": 5,
}
SAFE_RATING: dict[str, Any] = {
    "safety": 8,
    "activation_before": 3,
    "activation_after": 2,
    "staying": "stayed",
    "felt_pressured": False,
    "authenticity": 3,
    "vulnerability": 2,
    "transparency": 3,
    "presence": 3,
}


def checkin(at: datetime, **overrides: Any) -> CheckIn:
    return CheckIn(recorded_at=at, **{**CALM_CHECKIN, **overrides})


def rating(at: datetime, tier: int, practice_id: str = "p", **overrides: Any) -> ExperienceRating:
    return ExperienceRating(
        practice_id=practice_id, tier=tier, occurred_at=at, **{**SAFE_RATING, **overrides}
    )


_ids = itertools.count(1)


@dataclass
class Story:
    """Signals in the order they were written, plus helpers to add more."""

    policy: Policy = field(default_factory=lambda: load_policy("v1"))
    signals: list[Signal] = field(default_factory=list)

    def add(self, *signals: Signal) -> None:
        self.signals.extend(signals)
        self.signals.sort(key=lambda s: s.at)  # stable: same-time signals keep written order

    def checkin(self, person: str, at: datetime, **overrides: Any) -> None:
        self.add(*signals_from_checkin(person, checkin(at, **overrides), self.policy))

    def both_check_in(self, at: datetime, **overrides: Any) -> None:
        self.checkin(HANA, at, **overrides)
        self.checkin(IVAN, at, **overrides)

    def rate(
        self, person: str, experience_id: str, at: datetime, tier: int, **overrides: Any
    ) -> None:
        self.add(
            *signals_from_rating(person, experience_id, rating(at, tier, **overrides), self.policy)
        )

    def practice(
        self,
        at: datetime,
        tier: int,
        hana: dict[str, Any] | None = None,
        ivan: dict[str, Any] | None = None,
    ) -> str:
        """A shared practice both partners rate (safe unless told otherwise)."""
        experience_id = f"x{next(_ids)}"
        self.rate(HANA, experience_id, at, tier, **(hana or {}))
        self.rate(IVAN, experience_id, at, tier, **(ivan or {}))
        return experience_id

    def safe_day(self, day: datetime, tier: int, practices: int = 1) -> None:
        """A calm morning check-in for both, then ``practices`` safe practices."""
        self.both_check_in(day.replace(hour=8))
        for index in range(practices):
            self.practice(day.replace(hour=18, minute=index), tier)

    def pause(self, person: str, at: datetime) -> None:
        self.add(PauseSignal(person, at))

    def resume(self, person: str, at: datetime) -> None:
        self.add(ResumeSignal(person, at))

    def history(self, checkpoint: Decision | None = None) -> History:
        return History(PARTNERS, tuple(self.signals), checkpoint)

    def decide(self, now: datetime, checkpoint: Decision | None = None) -> Decision:
        return decide(self.history(checkpoint), self.policy, now)

    def climb_to(self, tier: int, start: datetime = START) -> datetime:
        """Earn ``tier`` with safe days; returns the morning after the last one."""
        day = start
        for current in range(tier):
            for _ in range(3):
                self.safe_day(day, current)
                day += timedelta(days=1)
        return day
