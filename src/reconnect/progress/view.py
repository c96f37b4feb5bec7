"""Assembling a person's and a couple's progress from storage, for the pages.

A person's charts come from their own entries, opened with their key; the couple's
come only from shared data: the stored pace decisions and the coarse experience
signals and facts. Stored entries become the domain's plain points here, on the
clock of the person looking.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from reconnect import access, localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.database import plain_rows
from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.pacing.signals import ExperienceSignal, signal_from_dict
from reconnect.domain.progress.points import (
    CheckInPoint,
    ExperiencePoint,
    ScorePoint,
    SharedExperience,
)
from reconnect.measures import store as measures
from reconnect.models import (
    CheckInEntry,
    Experience,
    ExperienceFact,
    PaceSignal,
)
from reconnect.pacing import store as pace
from reconnect.pacing.changes import PaceChanges, pace_changes
from reconnect.progress import charts as progress


def checkin_point(checkin: CheckIn, zone: localtime.Zone = UTC) -> CheckInPoint:
    """The chart point for a stored check-in (its date in ``zone``; the note stays out)."""
    return CheckInPoint(
        day=localtime.local_day(checkin.recorded_at, zone),
        activation=checkin.activation,
        safety=checkin.safety,
        urgency=checkin.urgency,
        readiness=checkin.readiness,
        state=checkin.state,
    )


def experience_point(
    rating: ExperienceRating,
    *,
    safe: bool,
    vulnerable_share: bool = False,
    zone: localtime.Zone = UTC,
) -> ExperiencePoint:
    """The chart point for a stored rating (its date in ``zone``); ``safe`` comes from
    the pacing policy."""
    return ExperiencePoint(
        day=localtime.local_day(rating.occurred_at, zone),
        tier=rating.tier,
        safe=safe,
        safety=rating.safety,
        authenticity=rating.authenticity,
        vulnerability=rating.vulnerability,
        transparency=rating.transparency,
        presence=rating.presence,
        left=rating.left,
        vulnerable_share=vulnerable_share,
    )


def person(
    db: Session, signed_in: SignedIn, today: date, instruments_dir: str = ""
) -> progress.PersonDashboard:
    checkins, experiences = person_inputs(db, signed_in)
    scores = score_charts(db, signed_in, instruments_dir)
    return progress.person_dashboard(checkins, experiences, today, scores)


def score_charts(
    db: Session, signed_in: SignedIn, instruments_dir: str = ""
) -> list[progress.Chart]:
    """One chart for each questionnaire this person has answered, with reliable change
    marked; a questionnaire without a total (the ECR-S) gets one chart for each of its
    parts instead. From their own results, opened with their key."""
    known = measures.instruments(instruments_dir)
    answered = measures.histories(db, signed_in=signed_in, instruments=known)
    zone = localtime.zone(signed_in.person.time_zone)
    charts = []
    for instrument_id in sorted(answered):
        instrument, history = known[instrument_id], answered[instrument_id]

        def day(taken: measures.Taken) -> date:
            return localtime.local_day(taken.taken_at, zone)

        if instrument.total_range is not None:
            points = [
                ScorePoint(day(t), t.score.total, t.change.direction.value if t.change else None)
                for t in history
                if t.score.total is not None
            ]
            key, top = f"scores-{instrument.id}", instrument.total_range.high
            charts.append(progress.score_chart(key, instrument.title, points, top))
            continue
        for sub in instrument.subscales:
            changes = [t.subscale_changes.get(sub.id) for t in history]
            points = [
                ScorePoint(day(t), t.score.subscales[sub.id], c.direction.value if c else None)
                for t, c in zip(history, changes, strict=True)
                if sub.id in t.score.subscales
            ]
            key, title = f"scores-{instrument.id}-{sub.id}", f"{instrument.title}: {sub.title}"
            charts.append(progress.score_chart(key, title, points, sub.range.high))
    return charts


def person_inputs(
    db: Session, signed_in: SignedIn
) -> tuple[list[CheckInPoint], list[ExperiencePoint]]:
    """This person's own chart points, opened with their key, on their own local days."""
    me, key = signed_in.person, signed_in.data_key
    zone = localtime.zone(me.time_zone)
    policy = pace.policy()
    checkins = [checkin_point(checkin, zone) for checkin in pace.all_own_checkins(db, me, key)]
    experiences = []
    for rating in pace.all_own_ratings(db, me, key):
        safe = rating.safety >= policy.advance_safety_min and not rating.left
        experiences.append(
            experience_point(rating, safe=safe, vulnerable_share=rating.tier == 3, zone=zone)
        )
    return checkins, experiences


# Built once, as each page that shows the couple's progress reads them.
_LEFT_EXPERIENCES = (
    select(ExperienceFact.experience_id)
    .join(Experience, Experience.id == ExperienceFact.experience_id)
    .where(Experience.couple_id == bindparam("couple_id"), ExperienceFact.left.is_(True))
)
_EXPERIENCE_SIGNALS = select(PaceSignal.data).where(
    PaceSignal.couple_id == bindparam("couple_id"), PaceSignal.kind == "experience"
)


def couple_inputs(
    db: Session, signed_in: SignedIn
) -> tuple[PaceChanges, list[SharedExperience]] | None:
    """The couple's shared chart points: how the pace changed (on the clock of the
    person looking) and coarse experience facts."""
    membership = access.membership_of(db, signed_in.person)
    if membership is None:
        return None
    couple_id = membership.couple_id
    changes = pace_changes(db, couple_id, localtime.zone(signed_in.person.time_zone))
    asked = {"couple_id": couple_id}
    left = {experience_id for (experience_id,) in plain_rows(db, _LEFT_EXPERIENCES, asked)}
    halves: dict[str, list[ExperienceSignal]] = {}
    for (data,) in plain_rows(db, _EXPERIENCE_SIGNALS, asked):
        signal = signal_from_dict(json.loads(data))
        if isinstance(signal, ExperienceSignal):
            halves.setdefault(signal.experience_id, []).append(signal)
    shared = [
        SharedExperience(
            day=min(h.day for h in pair),
            tier=pair[0].tier,
            safe=all(h.safe for h in pair),
            left=int(experience_id) in left,
        )
        for experience_id, pair in halves.items()
        if len(pair) == 2
    ]
    return changes, shared


def usual_checkin_hour(db: Session, signed_in: SignedIn) -> time:
    """The local hour this person last checked in at (08:00 before any check-in)."""
    last = db.scalar(
        select(CheckInEntry.recorded_at)
        .where(CheckInEntry.person_id == signed_in.person.id)
        .order_by(CheckInEntry.recorded_at.desc())
        .limit(1)
    )
    zone = localtime.zone(signed_in.person.time_zone)
    return time(localtime.to_local(last, zone).hour if last else 8)


def next_checkins(
    db: Session, signed_in: SignedIn, now: datetime, days: int = 7, at: time | None = None
) -> list[datetime]:
    """The next week's check-in times, in this person's zone, at the local time they
    chose (``at``), or else the hour they usually check in. Each day keeps that local
    time across a change of daylight saving time."""
    zone = localtime.zone(signed_in.person.time_zone)
    chosen = at or usual_checkin_hour(db, signed_in)

    def on(day: date) -> datetime:
        return localtime.at_hour(day, chosen.hour, zone, chosen.minute)

    today = localtime.local_day(now, zone)
    first_day = today if on(today) > now else today + timedelta(days=1)
    return [on(first_day + timedelta(days=n)) for n in range(days)]
