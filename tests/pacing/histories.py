"""Hypothesis strategies for random but plausible couple histories."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from reconnect.domain.pacing.signals import signals_from_rating
from tests.pacing.story import HANA, IVAN, START, Story, rating

PEOPLE = st.sampled_from([HANA, IVAN])
# Mostly calm numbers, so that histories do climb; sometimes anything.
CALMISH = st.one_of(st.integers(0, 4), st.integers(0, 10))
HIGHISH = st.one_of(st.integers(6, 10), st.integers(0, 10))
DAYS = 21


@dataclass(frozen=True)
class CheckInEvent:
    person: str
    minute: int
    activation: int
    state: str
    readiness: int
    urgency: int


@dataclass(frozen=True)
class PracticeEvent:
    minute: int
    tier: int
    hana: dict[str, Any]
    ivan: dict[str, Any]
    ivan_delay: int | None  # minutes until Ivan rates; None: he never does


@dataclass(frozen=True)
class PauseEvent:
    person: str
    minute: int
    resume_after: int | None  # minutes until the same person resumes


Event = CheckInEvent | PracticeEvent | PauseEvent

minutes = st.integers(0, DAYS * 24 * 60)

checkins = st.builds(
    CheckInEvent,
    person=PEOPLE,
    minute=minutes,
    activation=CALMISH,
    state=st.sampled_from(["settled", "settled", "revved_up", "shut_down"]),
    readiness=HIGHISH,
    urgency=st.integers(0, 10),
)

ratings = st.fixed_dictionaries(
    {
        "safety": HIGHISH,
        "activation_before": CALMISH,
        "activation_after": CALMISH,
        "staying": st.sampled_from(["stayed"] * 6 + ["left_emotionally", "left_physically"]),
        "heart_rate_flooded": st.sampled_from([False] * 9 + [True]),
    }
)

practices = st.builds(
    PracticeEvent,
    minute=minutes,
    tier=st.integers(0, 3),
    hana=ratings,
    ivan=ratings,
    ivan_delay=st.one_of(st.none(), st.integers(0, 600), st.integers(0, 60)),
)

pauses = st.builds(
    PauseEvent,
    person=PEOPLE,
    minute=minutes,
    resume_after=st.one_of(st.none(), st.integers(1, 3 * 24 * 60)),
)


# Mostly safe ratings, where after is not above before, sometimes anything at all.
@st.composite
def safe_ratings(draw: st.DrawFn) -> dict[str, Any]:
    before = draw(st.integers(0, 5))
    return {
        "safety": draw(st.integers(6, 10)),
        "activation_before": before,
        "activation_after": max(0, before - draw(st.integers(0, 2))),
        "staying": "stayed",
        "heart_rate_flooded": False,
    }


def mostly(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> Any:
    """``usual`` about nineteen times in twenty, ``rare`` otherwise."""
    return st.integers(0, 19).flatmap(lambda n: rare if n == 0 else usual)


mostly_safe = mostly(safe_ratings(), ratings)
mostly_calm = mostly(st.integers(0, 4), st.integers(0, 10))


@st.composite
def routine(draw: st.DrawFn) -> list[Event]:
    """Daily life: morning check-ins and an evening practice that tries to climb
    a tier every four days, with noise, plus a few random events anywhere."""
    history: list[Event] = []
    for day in range(DAYS):
        for person in (HANA, IVAN):
            if draw(st.integers(0, 9)):  # one morning in ten, someone skips
                history.append(
                    CheckInEvent(
                        person,
                        day * 1440 + draw(st.integers(0, 60)),
                        activation=draw(mostly_calm),
                        state=draw(
                            mostly(st.just("settled"), st.sampled_from(["revved_up", "shut_down"]))
                        ),
                        readiness=draw(HIGHISH),
                        urgency=draw(st.integers(0, 10)),
                    )
                )
        if draw(st.integers(0, 4)):
            noise = draw(mostly(st.just(0), st.sampled_from([-1, 1])))
            history.append(
                PracticeEvent(
                    day * 1440 + 600 + draw(st.integers(0, 120)),
                    tier=min(6, max(0, day // 4 + noise)),  # shifted by Life.start_tier
                    hana=draw(mostly_safe),
                    ivan=draw(mostly_safe),
                    ivan_delay=draw(
                        mostly(st.sampled_from([0, 30, 300]), st.sampled_from([2000, None]))
                    ),
                )
            )
    extras = draw(st.lists(st.one_of(checkins, practices, pauses), max_size=6))
    return history + extras


@dataclass(frozen=True)
class Life:
    """A couple who earned ``start_tier`` before the story starts, then ``events``."""

    start_tier: int
    events: list[Event]


lives = st.builds(
    Life,
    start_tier=st.integers(0, 5),
    events=st.one_of(
        routine(),
        routine(),
        st.lists(
            st.one_of(checkins, checkins, practices, practices, practices, pauses), max_size=45
        ),
    ),
)
calm_lives = st.builds(Life, start_tier=st.integers(0, 5), events=routine())


def at(minute: int) -> datetime:
    return START + timedelta(minutes=minute)


def build(life: Life) -> Story:
    """Write a life into a story: a calm climb before START, then the events.

    Practice tiers of the events are shifted up by the starting tier, so that
    couples who start higher keep practising near their own ladder.
    """
    story = Story()
    story.climb_to(life.start_tier, START - timedelta(days=3 * life.start_tier))
    for index, original in enumerate(life.events):
        event = (
            replace(original, tier=min(6, original.tier + life.start_tier))
            if isinstance(original, PracticeEvent)
            else original
        )
        if isinstance(event, CheckInEvent):
            story.checkin(
                event.person,
                at(event.minute),
                activation=event.activation,
                state=event.state,
                readiness=event.readiness,
                urgency=event.urgency,
            )
        elif isinstance(event, PracticeEvent):
            experience_id = f"e{index}"
            story.rate(HANA, experience_id, at(event.minute), event.tier, **event.hana)
            if event.ivan_delay is not None:
                # Ivan writes his rating later than the practice happened.
                late = rating(at(event.minute), event.tier, **event.ivan)
                written = at(event.minute + event.ivan_delay)
                story.add(
                    *signals_from_rating(
                        IVAN, experience_id, late, story.policy, written_at=written
                    )
                )
        else:
            story.pause(event.person, at(event.minute))
            if event.resume_after is not None:
                story.resume(event.person, at(event.minute + event.resume_after))
    return story


def moments(step_hours: int = 17) -> list[datetime]:
    """Times to ask for a decision, across the whole story and a few days beyond."""
    return [START + timedelta(hours=h) for h in range(0, (DAYS + 4) * 24, step_hours)]


def with_activation(event: Event, activation: int) -> Event:
    """The same event with a partner's activation set (check-in, or after a practice)."""
    if isinstance(event, CheckInEvent):
        return replace(event, activation=activation)
    if isinstance(event, PracticeEvent):
        return replace(event, hana={**event.hana, "activation_after": activation})
    return event
