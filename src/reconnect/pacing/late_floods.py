"""Flooding found after the fact: heart-rate data that arrives once a shared practice
has been reflected on.

People import a watch's export the next morning, not while they log the evening's
practice. When newly stored samples cover a shared practice this person has already
reflected on, and that reflection was not counted as flooded, the practice is judged
again over when it went on. A flood found this way steps the pace back from the
moment it began (the engine replays from before a back-dated signal), and the person,
only they, is told what was found. Their reflection is marked, so the same practice
is never counted twice.

Only recent practices are judged again (:data:`LOOK_BACK`): a file covering last
season's evenings should not rewrite the couple's whole path since then. A practice
done alone is not judged again: it never paced the couple, and its reflection told
the partner nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reconnect import access, localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.after_write import look_again
from reconnect.domain.pacing.catalogue import UnknownPractice, load_catalogue
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.pacing.signals import FloodSignal, is_flooded
from reconnect.errors import Problem
from reconnect.heart import store as heart
from reconnect.models import ExperienceRatingEntry
from reconnect.pacing import store as pace
from reconnect.sealing import seal_entry

__all__ = [
    "LOOK_BACK",
    "FloodSeen",
    "LateFlood",
    "after_new_samples",
    "judge_again",
    "recent_floods",
]

# Practices reflected on this long before the import are judged again; older ones are not.
LOOK_BACK = timedelta(days=14)


@dataclass(frozen=True)
class FloodSeen:
    """A practice of this person's whose heart rate showed flooding."""

    practice_title: str
    started_at: datetime


@dataclass(frozen=True)
class LateFlood:
    """A shared practice whose heart rate, read later, showed flooding."""

    practice_title: str
    started_at: datetime
    began_at: datetime  # when the raised heart rate began

    def described(self, local: localtime.Local) -> str:
        """What was found, told calmly to the person whose heart it was."""
        return (
            f"During “{self.practice_title}” ({local.moment(self.started_at)}), your heart "
            f"rate rose and stayed raised from {local.time(self.began_at)}. That can be a "
            "sign your body was flooded, so the pace now takes it into account from that "
            "moment. Only you see this."
        )


def judge_again(
    db: Session, *, signed_in: SignedIn, covered: tuple[datetime, datetime], now: datetime
) -> list[LateFlood]:
    """Judge again this person's recent shared practices that newly stored samples
    (from ``covered[0]`` to ``covered[1]``) overlap; step the pace back for each flood."""
    person, key = signed_in.person, signed_in.data_key
    first, last = covered
    try:
        couple = access.get_couple_for_person(db, person=person, data_key=key)
    except Problem:
        return []  # no couple to pace; nothing to step back
    policy = pace.policy_for(couple)
    found: list[tuple[ExperienceRatingEntry, ExperienceRating, datetime]] = []
    # A practice ends (give or take a clock's skew) before its reflection is written.
    since = max(first - pace.CLOCK_SKEW, now - LOOK_BACK)
    for row in _reflections_since(db, person.id, since, shared_only=True):
        rating = pace.load_rating(row, key)
        started, ended = rating.occurred_at, rating.ended_at or rating.occurred_at
        if ended < first or started > last or is_flooded(rating, policy):
            continue  # not covered, or already counted as flooded when it was written
        began = heart.flooding_began(db, person, key, started, ended)
        if began is not None:
            found.append((row, rating, began))
    if not found:
        return []
    signals = []
    for row, rating, began in found:
        marked = replace(rating, heart_rate_flooded=True)
        seal_entry(db, row, key, marked)
        # The break it would have started is long over; the step back is what remains.
        signals.append(FloodSignal(str(person.id), began, f"heart-rate:{row.id}", began))
    pace.add_signals_and_decide(db, couple, person, signals, now)
    return [
        LateFlood(_title(rating.practice_id), rating.occurred_at, began)
        for _, rating, began in found
    ]


def after_new_samples(
    db: Session, signed_in: SignedIn, covered: tuple[datetime, datetime] | None, now: datetime
) -> list[LateFlood]:
    """The step after storing heart-rate samples (``covered``: the first and last newly
    stored, None when none were): judge again, then let the detectors look again at the
    person's own side if a reflection changed."""
    if covered is None:
        return []
    floods = judge_again(db, signed_in=signed_in, covered=covered, now=now)
    if floods:
        look_again(db, signed_in=signed_in, now=now, shared=False)
    return floods


def recent_floods(
    db: Session, *, signed_in: SignedIn, now: datetime, days: int = 7
) -> list[FloodSeen]:
    """This person's own practices of the last ``days`` days whose heart rate showed
    flooding, newest first: told to them alone, on their own pages."""
    since = now - timedelta(days=days)
    ratings = pace.all_own_ratings(db, signed_in.person, signed_in.data_key, since=since)
    return [
        FloodSeen(_title(r.practice_id), r.occurred_at)
        for r in sorted(ratings, key=lambda r: r.occurred_at, reverse=True)
        if r.heart_rate_flooded and r.occurred_at >= since
    ]


def _title(practice_id: str) -> str:
    try:
        return load_catalogue().get(practice_id).title
    except UnknownPractice:
        return "a practice"  # one an older catalogue had


def _reflections_since(
    db: Session, person_id: int, since: datetime, *, shared_only: bool
) -> list[ExperienceRatingEntry]:
    """This person's reflections written at or after ``since``, oldest first."""
    query = select(ExperienceRatingEntry).where(
        ExperienceRatingEntry.person_id == person_id, ExperienceRatingEntry.created_at >= since
    )
    if shared_only:
        query = query.where(ExperienceRatingEntry.experience_id.is_not(None))
    return list(db.scalars(query.order_by(ExperienceRatingEntry.created_at)))
