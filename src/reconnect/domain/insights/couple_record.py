"""What the detectors read: one couple's :class:`CoupleRecord`.

Storage puts it together from plain data: shared experiences with each partner's
coarse :class:`ExperienceHalf`, the permitted tiers over time, shared statuses,
proposals and texts, and the :class:`PrivateEntries` of each partner whose key is
unlocked right now. The record sorts its lists by time once; :func:`window` and
:func:`closed_window` find a detector's time window in them by binary search.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from reconnect.domain.insights.detector_settings import DetectorSettings, load_detector_settings
from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.pacing.history import Partner
from reconnect.domain.pacing.policy import Policy
from reconnect.domain.pacing.signals import ExperienceSignal, signals_from_rating

__all__ = [
    "CoupleRecord",
    "ExperienceHalf",
    "InvalidRecord",
    "Mood",
    "PermittedTier",
    "PrivateEntries",
    "Proposal",
    "Response",
    "SharedExperience",
    "SharedStatus",
    "SharedText",
    "at_time",
    "check_now",
    "checkin_time",
    "closed_window",
    "experience_half",
    "occurred_time",
    "rating_time",
    "window",
]


T = TypeVar("T")


class InvalidRecord(ValueError):
    """The record names someone outside the couple or is otherwise inconsistent."""


@dataclass(frozen=True)
class ExperienceHalf:
    """One partner's coarse facts about a shared experience.

    ``signal`` is the pacing signal of their rating (safe, flooded, band before,
    not worse after). Two more yes/no facts that the signal does not carry are
    derived when the rating is written (use :func:`experience_half`): ``left``,
    they did not stay present (emotionally or physically); ``ended_activated``,
    their activation after reached the affection-bypass line (7 in v1).
    """

    signal: ExperienceSignal
    left: bool
    ended_activated: bool

    @property
    def person_id(self) -> str:
        return self.signal.person_id


@dataclass(frozen=True)
class SharedExperience:
    """A shared practice, as both partners' side of the app knows it.

    ``logged_by``: who logged it. ``initiated_by``: who started it, as the person
    logging it said; None when nobody said (practices logged before the form asked).
    Logging is not starting: the one who writes it down is often the other one.
    ``ahead_of_pace``: storage sets it when the experience is logged, from
    ``pacing.is_ahead_of_pace`` against the decision of that moment.
    ``halves``: each partner's :class:`ExperienceHalf`, keyed by person id, as
    their ratings arrive (a missing half is simply not known yet).
    """

    id: str
    practice_id: str
    tier: int
    occurred_at: datetime
    logged_by: str
    ahead_of_pace: bool
    halves: Mapping[str, ExperienceHalf] = field(default_factory=dict)
    initiated_by: str | None = None

    @property
    def started_by(self) -> str | None:
        return self.initiated_by

    @property
    def someone_left(self) -> bool:
        return any(half.left for half in self.halves.values())

    @property
    def ended_unresolved(self) -> bool:
        """Someone left, or someone's activation after reached the line."""
        return any(half.left or half.ended_activated for half in self.halves.values())


@dataclass(frozen=True)
class PermittedTier:
    """From ``at`` on (until the next change), the pace permitted ``tier``.

    Storage derives these from the stored pacing decisions.
    """

    at: datetime
    tier: int


class Mood(Enum):
    """How a partner says they are today, in the status their partner sees."""

    OKAY = "okay"
    STRUGGLING = "struggling"
    NEED_SPACE = "need_space"


@dataclass(frozen=True)
class SharedStatus:
    """A status a partner chose to share: a mood, optional words, a time."""

    id: str
    person_id: str
    at: datetime
    mood: Mood
    words: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mood", Mood(self.mood))


class Response(Enum):
    """The answer to a proposal. A decline never carries a reason."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True)
class Proposal:
    """One partner proposes a practice; the other may accept or decline."""

    id: str
    by: str
    practice_id: str
    tier: int
    at: datetime
    response: Response | None = None
    responded_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.response is not None:
            object.__setattr__(self, "response", Response(self.response))
            if self.responded_at is None:
                raise InvalidRecord(f"proposal {self.id!r} has a response but no time")


@dataclass(frozen=True)
class SharedText:
    """Words a partner chose to share (a note, a reply, a letter): ``kind`` says which."""

    id: str
    author: str
    at: datetime
    text: str
    kind: str = "note"


@dataclass(frozen=True)
class PrivateEntries:
    """One person's own private entries, present only while their key is unlocked.

    ``checkins`` by check-in id; ``ratings`` by the id of the shared experience
    they rate. Any order; the record sorts them by time once.
    """

    person_id: str
    checkins: Mapping[str, CheckIn] = field(default_factory=dict)
    ratings: Mapping[str, ExperienceRating] = field(default_factory=dict)


@dataclass(frozen=True)
class CoupleRecord:
    """Everything the detectors read for one couple.

    Lists may come in any order; they are sorted by time once, here. ``private``
    holds, by person id, the private entries of each partner whose key is
    unlocked right now (often just one, or none). Storage may pass the whole
    history or only what
    :func:`~reconnect.domain.insights.detector_settings.history_needed_since` asks for.
    """

    partners: tuple[Partner, Partner]
    experiences: Sequence[SharedExperience] = ()
    permitted_tiers: Sequence[PermittedTier] = ()
    statuses: Sequence[SharedStatus] = ()
    proposals: Sequence[Proposal] = ()
    shared_texts: Sequence[SharedText] = ()
    private: Mapping[str, PrivateEntries] = field(default_factory=dict)
    # Sorted copies of the private entries, built once.
    _checkins: Mapping[str, tuple[tuple[str, CheckIn], ...]] = field(
        init=False, repr=False, compare=False
    )
    _ratings: Mapping[str, tuple[tuple[str, ExperienceRating], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if len(self.partners) != 2 or self.partners[0].person_id == self.partners[1].person_id:
            raise InvalidRecord("a record has two different partners")
        people = set(self.person_ids)

        def check(person: str, what: str) -> None:
            if person not in people:
                raise InvalidRecord(f"{what} names someone outside this couple")

        experiences = tuple(sorted(self.experiences, key=occurred_time))
        for experience in experiences:
            check(experience.logged_by, f"experience {experience.id!r}")
            if experience.started_by is not None:
                check(experience.started_by, f"experience {experience.id!r}")
            for person, half in experience.halves.items():
                check(person, f"experience {experience.id!r}")
                if half.person_id != person or half.signal.experience_id != experience.id:
                    raise InvalidRecord(f"experience {experience.id!r} holds another's half")
        statuses = tuple(sorted(self.statuses, key=at_time))
        for status in statuses:
            check(status.person_id, f"status {status.id!r}")
        proposals = tuple(sorted(self.proposals, key=at_time))
        for proposal in proposals:
            check(proposal.by, f"proposal {proposal.id!r}")
        texts = tuple(sorted(self.shared_texts, key=at_time))
        for text in texts:
            check(text.author, f"text {text.id!r}")
        for person, entries in self.private.items():
            check(person, "private entries")
            if entries.person_id != person:
                raise InvalidRecord("private entries are filed under their owner's id")
        set_ = object.__setattr__
        set_(self, "experiences", experiences)
        set_(self, "permitted_tiers", tuple(sorted(self.permitted_tiers, key=at_time)))
        set_(self, "statuses", statuses)
        set_(self, "proposals", proposals)
        set_(self, "shared_texts", texts)
        set_(self, "private", dict(self.private))
        set_(
            self,
            "_checkins",
            {
                person: tuple(sorted(e.checkins.items(), key=lambda i: i[1].recorded_at))
                for person, e in self.private.items()
            },
        )
        set_(
            self,
            "_ratings",
            {
                person: tuple(sorted(e.ratings.items(), key=lambda i: i[1].occurred_at))
                for person, e in self.private.items()
            },
        )

    @property
    def person_ids(self) -> tuple[str, str]:
        return (self.partners[0].person_id, self.partners[1].person_id)

    def other(self, person_id: str) -> str:
        first, second = self.person_ids
        return second if person_id == first else first


def experience_half(
    person_id: str,
    experience_id: str,
    rating: ExperienceRating,
    policy: Policy,
    *,
    settings: DetectorSettings | None = None,
    written_at: datetime | None = None,
) -> ExperienceHalf:
    """The half storage keeps in the clear when ``person_id`` rates ``experience_id``.

    Call it when the rating is written, next to ``signals_from_rating``; the
    rating itself is then encrypted under its author's key.
    """
    settings = settings if settings is not None else load_detector_settings()
    signals = signals_from_rating(person_id, experience_id, rating, policy, written_at=written_at)
    signal = next(s for s in signals if isinstance(s, ExperienceSignal))
    return ExperienceHalf(
        signal=signal,
        left=rating.left,
        ended_activated=rating.activation_after >= settings.affection_bypass.ended_activation_min,
    )


def at_time(item: Any) -> datetime:
    """The sort key of statuses, proposals, texts and permitted tiers: ``item.at``."""
    when: datetime = item.at
    return when


def occurred_time(item: SharedExperience) -> datetime:
    """The sort key of shared experiences: when they happened."""
    return item.occurred_at


def window(
    items: Sequence[T], start: datetime, end: datetime, key: Callable[[T], datetime]
) -> Sequence[T]:
    """The items with ``start < key(item) <= end``; ``items`` sorted by ``key``."""
    low = bisect_right(items, start, key=key)
    high = bisect_right(items, end, key=key, lo=low)
    return items[low:high]


def closed_window(
    items: Sequence[T], start: datetime, end: datetime, key: Callable[[T], datetime]
) -> Sequence[T]:
    """The items with ``start <= key(item) < end``."""
    low = bisect_left(items, start, key=key)
    high = bisect_left(items, end, key=key, lo=low)
    return items[low:high]


def check_now(now: datetime) -> None:
    """Refuse a ``now`` without a time zone."""
    if now.utcoffset() is None:
        raise ValueError("now must carry a time zone")


def rating_time(item: tuple[str, ExperienceRating]) -> datetime:
    """The sort key of a person's (experience id, rating) pairs."""
    return item[1].occurred_at


def checkin_time(item: tuple[str, CheckIn]) -> datetime:
    """The sort key of a person's (check-in id, check-in) pairs."""
    return item[1].recorded_at
