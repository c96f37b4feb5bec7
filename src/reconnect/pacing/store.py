"""Storing check-ins and experiences, and computing the couple's pace from signals.

Private entries are kept whole for their owner only. What the pace reads are the
coarse signals each entry yields at the moment it is written (see
docs/pacing.md); every decision is stored with its policy version, so the pace
shown on any day can be reproduced, and the next decision resumes from it
instead of re-reading years of history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from reconnect import access, keys
from reconnect.database import is_sqlite, plain_rows, plain_value
from reconnect.domain.insights.couple_record import experience_half
from reconnect.domain.pacing.catalogue import (
    Catalogue,
    Lead,
    Practice,
    UnknownPractice,
    load_catalogue,
)
from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.engine import can_resume, decide, is_ahead_of_pace, reasons_for
from reconnect.domain.pacing.experiences import ExperienceRating, StartedBy
from reconnect.domain.pacing.history import COUPLE, Decision, History, Partner, Reason, Role
from reconnect.domain.pacing.limits import urgency_reason
from reconnect.domain.pacing.policy import BREAK_MINUTES_MAX, BREAK_MINUTES_MIN, Policy, load_policy
from reconnect.domain.pacing.signals import (
    LapseSignal,
    PauseSignal,
    ResumeSignal,
    Signal,
    signal_from_dict,
    signals_from_checkin,
    signals_from_rating,
    signals_from_solo_practice,
)
from reconnect.domain.validation import InvalidEntry
from reconnect.errors import Problem
from reconnect.heart import store as heart
from reconnect.models import (
    CheckInEntry,
    Couple,
    Experience,
    ExperienceFact,
    ExperienceRatingEntry,
    PaceDecision,
    PaceSignal,
    Person,
)
from reconnect.sealing import entry_context, open_entry, seal_entry

# A check-in may be dated a little ahead to allow for clocks that disagree.
CLOCK_SKEW = timedelta(minutes=5)
# ...and back at most this far: an entry from further back is a mistyped year, which
# would otherwise stretch every chart and the pace's arithmetic to year 1.
OLDEST_ENTRY_DAYS = 90


def check_when(when: datetime, now: datetime, what: str) -> datetime:
    """``when`` as given, or Problem: no later than a few minutes ahead of ``now`` and
    no earlier than :data:`OLDEST_ENTRY_DAYS` days before it. ``what``: "A check-in"."""
    if when > now + CLOCK_SKEW:
        raise Problem("in_future", f"{what} cannot be dated in the future.", 422)
    if when < now - timedelta(days=OLDEST_ENTRY_DAYS):
        raise Problem(
            "too_old",
            f"{what} can be dated up to {OLDEST_ENTRY_DAYS} days back. Please check the date.",
            422,
        )
    return when


def practice_window(
    started: datetime | None, ended: datetime | None, minutes: int, now: datetime
) -> tuple[datetime, datetime]:
    """When a practice went on, [started, ended], or Problem (422).

    Without either end it has just ended and lasted its time box; with one end, the
    other is that end's time box away. Neither end may be in the future, and it lasts
    more than no time and at most a day.
    """
    if started is not None:
        check_when(started, now, "A practice's start")
    if ended is not None:
        check_when(ended, now, "A practice's end")
    box = timedelta(minutes=minutes)
    if ended is None:
        ended = now if started is None else started + box
    if started is None:
        started = ended - box
    if ended <= started:
        raise Problem(
            "invalid_entry", "A practice ends after it starts. Please check both times.", 422
        )
    if ended - started > timedelta(days=1):
        raise Problem(
            "invalid_entry", "A practice lasts at most a day. Please check both times.", 422
        )
    return started, ended


def policy() -> Policy:
    """The newest policy: what a new couple is paced under."""
    return load_policy()


def policy_for(couple: Couple) -> Policy:
    """The policy this couple is paced under (couples older than v2 stay on v1 until
    an operator moves them: ``reconnect pace use-policy``)."""
    return load_policy(couple.policy_version)


def catalogue() -> Catalogue:
    return load_catalogue()


def practice(practice_id: str) -> Practice:
    try:
        return catalogue().get(practice_id)
    except UnknownPractice:
        raise Problem(
            "unknown_practice", "There is no practice with that name in the catalogue.", 422
        ) from None


def entry_problem(error: InvalidEntry) -> Problem:
    return Problem("invalid_entry", str(error), 422)


def _rating(data: dict[str, Any]) -> ExperienceRating:
    data["occurred_at"] = datetime.fromisoformat(data["occurred_at"])
    if data.get("ended_at"):
        data["ended_at"] = datetime.fromisoformat(data["ended_at"])
    return ExperienceRating(**data)


def load_checkin(row: CheckInEntry, key: bytes) -> CheckIn:
    return CheckIn.from_dict(open_entry(row, key))


def load_rating(row: ExperienceRatingEntry, key: bytes) -> ExperienceRating:
    return _rating(open_entry(row, key))


def _opened(table: str, rows: Any, key: bytes) -> list[dict[str, Any]]:
    """Entries read as plain (id, owner, sealed) columns, opened as :func:`open_entry`
    opens a row: a person's whole history has too many rows to build objects for."""
    unseal = keys.Opener(key)
    return [
        json.loads(unseal(sealed, entry_context(table, entry_id, owner_id)))
        for entry_id, owner_id, sealed in rows
    ]


_ALL_OWN_CHECKINS = select(CheckInEntry.id, CheckInEntry.person_id, CheckInEntry.sealed).where(
    CheckInEntry.person_id == bindparam("person_id")
)
# The pace and Today read the person's latest check-in for its urgency note.
_LATEST_OWN_CHECKIN = _ALL_OWN_CHECKINS.order_by(
    CheckInEntry.recorded_at.desc(), CheckInEntry.id.desc()
).limit(1)
_ALL_OWN_RATINGS = select(
    ExperienceRatingEntry.id, ExperienceRatingEntry.person_id, ExperienceRatingEntry.sealed
).where(ExperienceRatingEntry.person_id == bindparam("person_id"))


def all_own_checkins(db: Session, person: Person, key: bytes) -> list[CheckIn]:
    """Every check-in of this person, opened with their key, in no particular order."""
    rows = plain_rows(db, _ALL_OWN_CHECKINS, {"person_id": person.id})
    return [CheckIn.from_dict(data) for data in _opened(CheckInEntry.__tablename__, rows, key)]


_OWN_RATINGS_SINCE = _ALL_OWN_RATINGS.where(ExperienceRatingEntry.created_at >= bindparam("since"))


def all_own_ratings(
    db: Session, person: Person, key: bytes, since: datetime | None = None
) -> list[ExperienceRating]:
    """Every reflection of this person (shared practices and those done alone), opened
    with their key, in no particular order; only those written at or after ``since``
    when it is given."""
    if since is None:
        rows = plain_rows(db, _ALL_OWN_RATINGS, {"person_id": person.id})
    else:
        asked = {"person_id": person.id, "since": since}
        rows = plain_rows(db, _OWN_RATINGS_SINCE, asked)
    return [_rating(data) for data in _opened(ExperienceRatingEntry.__tablename__, rows, key)]


# --- the couple's pace --------------------------------------------------------


def partners(couple: Couple) -> tuple[Partner, Partner]:
    first, second = couple.members
    return (
        Partner(str(first.person_id), Role(first.role)),
        Partner(str(second.person_id), Role(second.role)),
    )


# The reads every page of the pace makes, built once with named parameters: building a
# statement costs more than running it on an indexed table, and a statement kept
# whole is also looked up in SQLAlchemy's compiled cache without being walked again.
_ALL_SIGNALS = (
    select(PaceSignal.data)
    .where(PaceSignal.couple_id == bindparam("couple_id"), PaceSignal.at <= bindparam("until"))
    .order_by(PaceSignal.at, PaceSignal.id)
)
_SIGNALS_AFTER = _ALL_SIGNALS.where(PaceSignal.at > bindparam("after"))
_CHECKPOINT = (
    select(PaceDecision.data)
    .where(
        PaceDecision.couple_id == bindparam("couple_id"),
        PaceDecision.decided_at < bindparam("before"),
        PaceDecision.superseded.is_(False),
    )
    .order_by(PaceDecision.decided_at.desc(), PaceDecision.id.desc())
    .limit(1)
)


def _signals(db: Session, couple_id: int, after: datetime | None, until: datetime) -> list[Signal]:
    asked = {"couple_id": couple_id, "until": until}
    if after is None:
        rows = plain_rows(db, _ALL_SIGNALS, asked)
    else:
        rows = plain_rows(db, _SIGNALS_AFTER, {**asked, "after": after})
    return [signal_from_dict(json.loads(data)) for (data,) in rows]


def _checkpoint(db: Session, couple_id: int, before: datetime) -> Decision | None:
    """The latest stored decision made strictly before ``before``."""
    data = plain_value(db, _CHECKPOINT, {"couple_id": couple_id, "before": before})
    return _stored_decision(data) if data else None


@lru_cache(maxsize=1024)
def _stored_decision(data: str) -> Decision:
    """A stored decision read back, remembered by its text: the pace, Today and each
    check-in of a couple resume from the same one until the next decision, and reading
    it back cost more than the statement that finds it. A decision is an immutable
    value, and its state is pruned to the engine's windows (a few kilobytes)."""
    return Decision.from_dict(json.loads(data))


def current_pace(
    db: Session, couple: Couple, now: datetime, *, changed_from: datetime | None = None
) -> Decision:
    """The pace at ``now``. Reads only signals and the last stored decision.

    ``changed_from``: the earliest time a signal was just added at; the engine
    resumes from a decision made before it, so a back-dated check-in counts.
    """
    resume_before = min(now, changed_from) if changed_from else now + timedelta(microseconds=1)
    checkpoint = _checkpoint(db, couple.id, resume_before)
    after = checkpoint.decided_at if checkpoint else None
    history = History(
        partners(couple), _signals(db, couple.id, after, now), checkpoint, couple.time_zone
    )
    return decide(history, policy_for(couple), now, catalogue=catalogue())


# On the table, not the mapped class: the ORM's bulk insert cost three times as much.
_NEW_SIGNALS = insert(PaceSignal.metadata.tables[PaceSignal.__tablename__])
_NEW_DECISION = insert(PaceDecision.metadata.tables[PaceDecision.__tablename__])


def _add_signals(db: Session, couple: Couple, person: Person, signals: Sequence[Signal]) -> None:
    rows = [
        {
            "couple_id": couple.id,
            "person_id": person.id,
            "kind": signal.kind,
            "at": signal.at,
            "data": json.dumps(signal.to_dict()),
        }
        for signal in signals
        # An owner-only signal is never in the shared rows: only its owner reads it,
        # from their own sealed check-in (reasons_for_person). The pace is the same.
        if not getattr(signal, "owner_only", False)
    ]
    if rows:  # one plain statement for them all: nothing reads them back as objects
        db.execute(_NEW_SIGNALS, rows)


def reasons_for_person(
    db: Session, person: Person, key: bytes, couple: Couple, decision: Decision, now: datetime
) -> tuple[Reason, ...]:
    """What ``person`` may read about ``decision``: the couple's reasons, their own, and
    the urgency note their own latest check-in calls for (read under their key)."""
    reasons = reasons_for(decision, str(person.id))
    if any(r.rule == "urgency" for r in reasons):
        return reasons
    latest = plain_rows(db, _LATEST_OWN_CHECKIN, {"person_id": person.id})
    if not latest:
        return reasons
    rules = policy_for(couple)
    checkin = CheckIn.from_dict(_opened(CheckInEntry.__tablename__, latest, key)[0])
    fresh = now - checkin.recorded_at < rules.urgency_window
    if fresh and checkin.urgency_gap >= rules.urgency_gap_min:
        return (*reasons, urgency_reason(str(person.id), rules))
    return reasons


def _store(db: Session, couple: Couple, decision: Decision) -> Decision:
    """Keep ``decision`` for the audit trail, as the checkpoint the next one resumes
    from, with only the couple's reasons: a person's own are worked out again when
    they look (they say more than the pace)."""
    couple_only = tuple(r for r in decision.reasons if r.audience == COUPLE)
    row = {
        "couple_id": couple.id,
        "decided_at": decision.decided_at,
        "policy_version": decision.policy_version,
        "permitted_tier": decision.permitted_tier,
        "ladder_tier": decision.ladder_tier,
        "data": json.dumps(replace(decision, reasons=couple_only).to_dict()),
    }
    db.execute(_NEW_DECISION, row)  # plain: nothing reads it back as an object
    return decision


def _decide_and_store(
    db: Session, couple: Couple, now: datetime, changed_from: datetime
) -> Decision:
    return _store(db, couple, current_pace(db, couple, now, changed_from=changed_from))


_LOCK_COUPLE = (
    select(Couple.id).where(Couple.id == bindparam("couple_id")).with_for_update(key_share=True)
)
_NEWEST_DECISION = select(func.max(PaceDecision.decided_at)).where(
    PaceDecision.couple_id == bindparam("couple_id")
)


def _hold_couple(db: Session, couple: Couple) -> datetime | None:
    """Take the couple's row lock until commit, and return its newest decision's time.

    Two requests of one couple (both partners at once, on two worker processes) must
    not decide side by side: each would miss the other's signals, and the later
    decision, the one every next request resumes from, would lose a pause. The lock
    makes them decide one after the other. SQLite has no row locks (it would send a
    plain read): there, one writer at a time is the lock, and the statement is left out.
    FOR NO KEY UPDATE: rows that only refer to the couple (signals, experiences) lock
    its key for share, which this lock lets pass; FOR UPDATE would deadlock with them.
    """
    if not is_sqlite(db):
        db.execute(_LOCK_COUPLE, {"couple_id": couple.id})
    return plain_value(db, _NEWEST_DECISION, {"couple_id": couple.id})


def add_signals_and_decide(
    db: Session, couple: Couple, person: Person, signals: Sequence[Signal], now: datetime
) -> Decision:
    """Store new signals and the decision they lead to (resuming from before the earliest).

    A request that read the clock before another one of the couple decided takes
    effect just after that decision: its signals dated ``now`` move there, so no
    stored decision, and none resumed from it, ever misses them. (Signals dated
    earlier on purpose, such as a back-dated check-in, keep their time.)
    """
    newest = _hold_couple(db, couple)
    if newest is not None and now <= newest:
        moment = newest + timedelta(microseconds=1)
        signals = [replace(s, at=moment) if s.at == now else s for s in signals]
        now = moment
    _add_signals(db, couple, person, signals)
    earliest = min(s.at for s in signals)
    if newest is not None and earliest <= newest:
        # Decisions made since then lack these signals: none is resumed from again.
        db.execute(
            update(PaceDecision)
            .where(PaceDecision.couple_id == couple.id, PaceDecision.decided_at >= earliest)
            .values(superseded=True)
        )
    return _decide_and_store(db, couple, now, earliest)


# --- writes -------------------------------------------------------------------


def record_checkin(
    db: Session, *, person: Person, key: bytes, fields: dict[str, Any], now: datetime
) -> CheckInEntry:
    """Store a private check-in; if the person paces with a partner, add its signals.

    ``fields`` are the check-in's fields; ``recorded_at`` defaults to ``now`` and
    may not lie in the future.
    """
    recorded_at = check_when(fields.get("recorded_at") or now, now, "A check-in")
    try:
        checkin = CheckIn(**{**fields, "recorded_at": recorded_at})
    except InvalidEntry as error:
        raise entry_problem(error) from None
    row = CheckInEntry(person_id=person.id, recorded_at=recorded_at, created_at=now)
    seal_entry(db, row, key, checkin)
    try:
        couple = access.get_couple_for_person(db, person=person, data_key=key)
    except Problem:
        # Private check-ins help a person on their own too; without a partner to
        # pace with, they yield no signals.
        return row
    signals = signals_from_checkin(str(person.id), checkin, policy_for(couple), logged_at=now)
    add_signals_and_decide(db, couple, person, signals, now)
    return row


_OWN_CHECKINS = (
    select(CheckInEntry)
    .where(CheckInEntry.person_id == bindparam("person_id"))
    .order_by(CheckInEntry.recorded_at.desc(), CheckInEntry.id.desc())
    .limit(bindparam("limit"))
)


def own_checkins(db: Session, person: Person, limit: int = 100) -> list[CheckInEntry]:
    return list(db.scalars(_OWN_CHECKINS, {"person_id": person.id, "limit": limit}))


def record_experience(
    db: Session,
    *,
    person: Person,
    key: bytes,
    practice_id: str | None,
    experience_id: int | None,
    occurred_at: datetime | None,
    rating: dict[str, Any],
    now: datetime,
    started_by: str | None = None,
    back_in_minutes: int | None = None,
    ended_at: datetime | None = None,
) -> tuple[Experience | None, ExperienceRatingEntry]:
    """Log a practice with this person's private reflection.

    With ``experience_id`` the person adds their reflection to one their partner
    logged; otherwise a new shared experience is created, and ``started_by`` (one
    a :class:`StartedBy` value) says who started it. A practice one does alone (the
    catalogue's ``leads = "self"``) is private: no shared experience is made, the
    partner never sees it, and only how the person was afterwards reaches the pace
    (the experience returned is then None). One logged above the permitted tier is
    kept and marked ahead of the pace; it never counts towards advancing.
    ``back_in_minutes``: if it overwhelmed this person, when they will be back.

    ``occurred_at`` is when the practice started and ``ended_at`` when it ended (see
    :func:`practice_window` for the defaults); the experience is dated at its start, and
    the person's heart rate is judged over the whole window. A reflection on a shared
    experience starts at the experience's time.
    """
    # A shared item is 404 for anyone outside its couple, a former partner included,
    # so it is looked up before anything else is said.
    shared = (
        access.get_experience_for_person(db, person=person, experience_id=experience_id)
        if experience_id
        else None
    )
    if (
        back_in_minutes is not None
        and not BREAK_MINUTES_MIN <= back_in_minutes <= BREAK_MINUTES_MAX
    ):
        raise Problem(
            "invalid_entry",
            "A break lasts at least 20 minutes, so bodies can settle, and at most a day.",
            422,
        )
    if started_by is not None and started_by not in {who.value for who in StartedBy}:
        raise Problem("invalid_entry", "Say who started it: you, your partner, or both.", 422)
    if shared is None:
        if practice_id is None:
            raise Problem("invalid_entry", "Choose which practice this was.", 422)
        chosen = practice(practice_id)
        if chosen.leads is Lead.SELF:
            started, ended = practice_window(occurred_at, ended_at, chosen.minutes, now)
            return None, _record_solo(
                db,
                person=person,
                key=key,
                chosen=chosen,
                window=(started, ended),
                rating=rating,
                now=now,
            )
    couple = access.get_couple_for_person(db, person=person, data_key=key)
    couple_policy = policy_for(couple)
    if shared is not None:
        experience = shared
        if practice_id is not None and practice_id != experience.practice_id:
            raise Problem("practice_mismatch", "That experience was a different practice.", 422)
        already = db.scalar(
            select(ExperienceRatingEntry.id).where(
                ExperienceRatingEntry.experience_id == experience.id,
                ExperienceRatingEntry.person_id == person.id,
            )
        )
        if already is not None:
            raise Problem("already_reflected", "You already logged how this one went.", 409)
        window = practice_window(
            experience.occurred_at, ended_at, practice(experience.practice_id).minutes, now
        )
    else:
        window = practice_window(occurred_at, ended_at, chosen.minutes, now)
        # The partner logged this same practice close to then: one practice, one shared
        # experience, and this is the person's reflection on it (over their own window).
        experience = _partners_log(db, couple, person, chosen.id, window) or _new_experience(
            db, couple, person, chosen, window[0], started_by, now
        )
    reflection = _reflection(db, person, key, experience.practice_id, window, rating)
    row = ExperienceRatingEntry(experience_id=experience.id, person_id=person.id, created_at=now)
    seal_entry(db, row, key, reflection)
    signals = signals_from_rating(
        str(person.id),
        str(experience.id),
        reflection,
        couple_policy,
        written_at=now,
        back_in_minutes=back_in_minutes,
    )
    half = experience_half(
        str(person.id), str(experience.id), reflection, couple_policy, written_at=now
    )
    # What the detectors need of this half, kept apart from the sealed reflection.
    db.add(
        ExperienceFact(
            experience_id=experience.id,
            person_id=person.id,
            left=half.left,
            ended_activated=half.ended_activated,
        )
    )
    db.flush()
    # The engine itself never counts an experience above the permitted tier.
    add_signals_and_decide(db, couple, person, signals, now)
    return experience, row


def _new_experience(
    db: Session,
    couple: Couple,
    person: Person,
    chosen: Practice,
    when: datetime,
    started_by: str | None,
    now: datetime,
) -> Experience:
    # Judged against the pace in force when it happened, not when it was logged.
    pace_then = current_pace(db, couple, min(when, now))
    experience = Experience(
        couple_id=couple.id,
        practice_id=chosen.id,
        tier=chosen.tier,
        occurred_at=when,
        created_by=person.id,
        started_by=_starter(couple, person, started_by),
        created_at=now,
        ahead_of_pace=is_ahead_of_pace(pace_then, chosen.tier),
    )
    db.add(experience)
    db.flush()
    return experience


_REFLECTED_ON = select(ExperienceRatingEntry.experience_id).where(
    ExperienceRatingEntry.person_id == bindparam("person_id"),
    # Reflections on practices done alone have no experience: NOT IN over a NULL is
    # never true, so they are left out, or nothing would ever wait.
    ExperienceRatingEntry.experience_id.is_not(None),
)
"""The shared experiences a person (``person_id``) has reflected on."""


def joined_partners_log(experience: Experience, person: Person, experience_id: int | None) -> bool:
    """Whether a log of a practice (not a reflection asked for by ``experience_id``)
    became this person's reflection on the one their partner had just logged."""
    return experience_id is None and experience.created_by != person.id


SAME_PRACTICE_WITHIN = timedelta(hours=3)
"""A practice the partner logged this close to when this person says they did it, and
that still waits for this person's reflection, is the same one, logged by both."""


def _partners_log(
    db: Session,
    couple: Couple,
    person: Person,
    practice_id: str,
    window: tuple[datetime, datetime],
) -> Experience | None:
    """The shared experience of ``practice_id`` the partner logged as started close to
    this ``window``'s start, that this person has not reflected on."""
    at = window[0]
    return db.scalar(
        select(Experience)
        .where(
            Experience.couple_id == couple.id,
            Experience.practice_id == practice_id,
            Experience.created_by != person.id,
            Experience.occurred_at >= at - SAME_PRACTICE_WITHIN,
            Experience.occurred_at <= at + SAME_PRACTICE_WITHIN,
            Experience.id.not_in(_REFLECTED_ON),
        )
        .order_by(Experience.occurred_at.desc())
        .limit(1),
        {"person_id": person.id},
    )


def _starter(couple: Couple, person: Person, started_by: str | None) -> int | None:
    if started_by == StartedBy.ME.value:
        return person.id
    if started_by == StartedBy.PARTNER.value:
        return next(m.person_id for m in couple.members if m.person_id != person.id)
    return None  # together, or not said: never guessed from who logged it


def _reflection(
    db: Session,
    person: Person,
    key: bytes,
    practice_id: str,
    window: tuple[datetime, datetime],
    rating: dict[str, Any],
) -> ExperienceRating:
    chosen = practice(practice_id)
    occurred_at, ended_at = window
    # A flooding heart rate while the practice went on counts as flooding (rule 3).
    hr_flooded = heart.flooded_during(db, person, key, occurred_at, ended_at)
    try:
        return ExperienceRating(
            practice_id=chosen.id,
            tier=chosen.tier,
            occurred_at=occurred_at,
            ended_at=ended_at,
            heart_rate_flooded=hr_flooded,
            **rating,
        )
    except InvalidEntry as error:
        raise entry_problem(error) from None


def _record_solo(
    db: Session,
    *,
    person: Person,
    key: bytes,
    chosen: Practice,
    window: tuple[datetime, datetime],
    rating: dict[str, Any],
    now: datetime,
) -> ExperienceRatingEntry:
    """A practice done alone: kept only as the person's own sealed reflection.

    The partner's side never learns of it: no shared experience, no break for the
    couple, nothing waiting for a reflection. If the person paces with a partner,
    how they were afterwards limits the pace as a check-in at that moment would.
    """
    reflection = _reflection(db, person, key, chosen.id, window, rating)
    row = ExperienceRatingEntry(experience_id=None, person_id=person.id, created_at=now)
    seal_entry(db, row, key, reflection)
    try:
        couple = access.get_couple_for_person(db, person=person, data_key=key)
    except Problem:
        return row
    signals = signals_from_solo_practice(
        str(person.id), reflection, policy_for(couple), written_at=now
    )
    add_signals_and_decide(db, couple, person, signals, now)
    return row


_NEWEST_EXPERIENCE = (
    select(Experience.occurred_at)
    .where(Experience.couple_id == bindparam("couple_id"))
    .order_by(Experience.occurred_at.desc())
    .limit(1)
)
_NOT_REFLECTED_SINCE = (
    select(Experience)
    .where(
        Experience.couple_id == bindparam("couple_id"),
        Experience.id.not_in(_REFLECTED_ON),
        Experience.occurred_at >= bindparam("since"),
    )
    .order_by(Experience.occurred_at.desc())
)


def awaiting_reflection(db: Session, person: Person, couple: Couple) -> list[Experience]:
    """Shared experiences of the last two weeks this person has not reflected on yet."""
    newest = plain_value(db, _NEWEST_EXPERIENCE, {"couple_id": couple.id})
    if newest is None:
        return []
    since = newest - timedelta(days=14)
    found = db.scalars(
        _NOT_REFLECTED_SINCE, {"couple_id": couple.id, "person_id": person.id, "since": since}
    )
    return list(found)


def pause(db: Session, *, person: Person, key: bytes, now: datetime) -> Decision:
    couple = access.get_couple_for_person(db, person=person, data_key=key)
    signal = PauseSignal(str(person.id), now)
    return add_signals_and_decide(db, couple, person, [signal], now)


def record_lapse(
    db: Session, *, person: Person, key: bytes, together: bool, now: datetime
) -> Decision:
    """Something new came to light, or the affair partner made contact: under policy v4
    the ladder steps back and no new step opens for two weeks. ``together``: both
    partners know and record it as a couple; otherwise the other partner reads only
    that the pace holds. What happened is never asked or stored."""
    couple = access.get_couple_for_person(db, person=person, data_key=key)
    signal = LapseSignal(str(person.id), now, together)
    return add_signals_and_decide(db, couple, person, [signal], now)


def resume(db: Session, *, person: Person, key: bytes, now: datetime) -> Decision:
    couple = access.get_couple_for_person(db, person=person, data_key=key)
    if not can_resume(current_pace(db, couple, now), str(person.id)):
        raise Problem(
            "not_your_pause",
            "Only the person who paused can resume. The pause stays until they are ready.",
            403,
        )
    return add_signals_and_decide(db, couple, person, [ResumeSignal(str(person.id), now)], now)


def use_policy(db: Session, couple: Couple, version: str, now: datetime) -> Decision | None:
    """Move a couple to another pacing policy from ``now`` on; None if already on it.

    The couple keeps what it has earned: the pace at ``now`` under the old policy
    becomes the checkpoint the new policy resumes from, and is stored as a decision
    that names the new version. Decisions made before stay reproducible under the
    version each names; later ones resume from this one (docs/pacing.md).
    Raises UnknownPolicy for a version that does not exist.
    """
    target = load_policy(version)
    if couple.policy_version == target.version:
        return None
    _hold_couple(db, couple)
    carried = current_pace(db, couple, now)
    couple.policy_version = target.version
    history = History(partners(couple), (), carried, couple.time_zone)
    return _store(db, couple, decide(history, target, now, catalogue=catalogue()))


def couples_on_older_policy(db: Session) -> int:
    """How many couples are still paced under a policy older than the newest."""
    newest = policy().version
    return db.scalar(select(func.count(Couple.id)).where(Couple.policy_version != newest)) or 0
