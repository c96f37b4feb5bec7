"""Running the false-connection detectors for a person whose key is unlocked, and
keeping what they found sealed: under the person's own key for findings built from
their private entries, under the couple key for couple-level patterns.

Detectors run after a person writes something (a check-in, a reflection, a status,
a proposal or an answer), on the job queue (reconnect.jobs), never when a page is
merely read.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reconnect import access, keys
from reconnect.accounts.signed_in import SignedIn
from reconnect.coach import checker as coach_checker
from reconnect.couples.store import couple_key_for
from reconnect.domain.insights import findings as d
from reconnect.domain.insights.couple_record import (
    CoupleRecord,
    ExperienceHalf,
    Mood,
    PermittedTier,
    PrivateEntries,
    Proposal,
    Response,
    SharedExperience,
    SharedStatus,
    SharedText,
)
from reconnect.domain.insights.detector_settings import history_needed_since, words_needed_since
from reconnect.domain.insights.detectors import run_detectors
from reconnect.domain.pacing.signals import ExperienceSignal, signal_from_dict
from reconnect.errors import Problem
from reconnect.models import (
    CheckInEntry,
    Experience,
    ExperienceFact,
    ExperienceRatingEntry,
    Finding,
    Membership,
    PaceDecision,
    PaceSignal,
    Person,
)
from reconnect.moments import store as moments
from reconnect.notes import store as notes
from reconnect.pacing import store as pace

COUPLE = "couple"
# The most notes one refresh reads: the newest, within the word windows (two weeks).
# Far above what a couple writes (the note limit is 60 an hour); a flood of notes
# makes a pattern no less visible in its newest 500.
TEXTS_READ = 500


def finding_context(row: Finding) -> str:
    owner = f"person:{row.person_id}" if row.person_id else f"couple:{row.couple_id}"
    return f"finding:{row.id}:{owner}"


def _record(
    db: Session, signed_in: SignedIn, membership: Membership, now: datetime
) -> CoupleRecord:
    couple = membership.couple
    since = history_needed_since(now)
    words_since = max(since, words_needed_since(now))
    me = signed_in.person
    key = signed_in.data_key

    halves: dict[str, dict[str, ExperienceHalf]] = {}
    facts = {
        (str(f.experience_id), str(f.person_id)): f
        for f in db.scalars(
            select(ExperienceFact)
            .join(Experience, Experience.id == ExperienceFact.experience_id)
            .where(Experience.couple_id == couple.id, Experience.occurred_at >= since)
        )
    }
    for data in db.scalars(
        select(PaceSignal.data).where(
            PaceSignal.couple_id == couple.id,
            PaceSignal.kind == "experience",
            PaceSignal.at >= since,
        )
    ):
        signal = signal_from_dict(json.loads(data))
        if not isinstance(signal, ExperienceSignal):  # selected by kind; never happens
            continue
        fact = facts.get((signal.experience_id, signal.person_id))
        halves.setdefault(signal.experience_id, {})[signal.person_id] = ExperienceHalf(
            signal,
            left=fact.left if fact else False,
            ended_activated=fact.ended_activated if fact else False,
        )
    experiences = [
        SharedExperience(
            id=str(e.id),
            practice_id=e.practice_id,
            tier=e.tier,
            occurred_at=e.occurred_at,
            logged_by=str(e.created_by or ""),
            ahead_of_pace=e.ahead_of_pace,
            halves=halves.get(str(e.id), {}),
            initiated_by=str(e.started_by) if e.started_by is not None else None,
        )
        for e in db.scalars(
            select(Experience).where(
                Experience.couple_id == couple.id, Experience.occurred_at >= since
            )
        )
        if e.created_by is not None
    ]
    tiers = [
        PermittedTier(at, tier)
        for at, tier in db.execute(
            select(PaceDecision.decided_at, PaceDecision.permitted_tier)
            .where(PaceDecision.couple_id == couple.id, PaceDecision.decided_at >= since)
            .order_by(PaceDecision.decided_at)
        )
    ]
    statuses = [
        SharedStatus(str(s.id), str(person_id), s.at, Mood(s.content["status"]), s.content["words"])
        for person_id, s in moments.statuses_since(db, signed_in=signed_in, since=since)
    ]
    proposals = [
        Proposal(
            str(p["id"]),
            str(p["by"]),
            p["practice_id"],
            p["tier"],
            p["at"],
            Response(p["response"]) if p["response"] else None,
            p["responded_at"],
        )
        for p in moments.proposals(db, signed_in=signed_in)
        if p["at"] >= since
    ]
    # Status words reach the word detectors through ``statuses``; here only the notes,
    # from the word windows only, and the newest TEXTS_READ of those: what one person
    # can write most of costs the couple's refresh a bounded amount.
    texts = [
        SharedText(f"note-{n.id}", str(person_id), n.at, n.content["text"], "note")
        for person_id, n in notes.notes_since(db, signed_in=signed_in, since=words_since)
    ][-TEXTS_READ:]
    checkins = {
        str(row.id): pace.load_checkin(row, key)
        for row in db.scalars(
            select(CheckInEntry).where(
                CheckInEntry.person_id == me.id, CheckInEntry.recorded_at >= since
            )
        )
    }
    ratings = {
        str(row.experience_id): pace.load_rating(row, key)
        for row in db.scalars(
            select(ExperienceRatingEntry).where(
                ExperienceRatingEntry.person_id == me.id,
                ExperienceRatingEntry.experience_id.is_not(None),
                ExperienceRatingEntry.created_at >= since,
            )
        )
    }
    return CoupleRecord(
        partners=pace.partners(couple),
        experiences=experiences,
        permitted_tiers=tiers,
        statuses=statuses,
        proposals=proposals,
        shared_texts=texts,
        private={str(me.id): PrivateEntries(str(me.id), checkins, ratings)},
    )


def refresh(
    db: Session, *, person: Person, data_key: bytes, now: datetime, shared: bool = True
) -> tuple[d.Finding, ...]:
    """Run every detector for this person and replace what is stored for them, and
    for the couple when ``shared``. Does nothing for a person without a partner.

    ``shared``: the write was one the partner sees anyway (a status, a note, a
    proposal or its answer, a newly logged shared practice). After a private write
    (a check-in, a reflection) the couple's patterns are left exactly as they were:
    rewritten then, they would tell the partner when the other wrote privately.
    Couple-level patterns carry only the day they were found, for the same reason.
    """
    signed_in = SignedIn(person, data_key, "")  # not a session: detectors need no token
    try:
        membership = access.get_membership_for_person(
            db, person=signed_in.person, data_key=data_key
        )
    except Problem:  # not paired, or joint features off: nothing to detect
        return ()
    couple_key = couple_key_for(membership, signed_in.data_key)
    record = _record(db, signed_in, membership, now)
    found = run_detectors(record, now, checker=coach_checker.checker())
    mine = [f for f in found if f.audience == str(signed_in.person.id)]
    day = datetime.combine(now.astimezone(UTC).date(), time.min, UTC)
    ours = [replace(f, found_at=day) for f in found if f.audience == COUPLE] if shared else []
    db.execute(delete(Finding).where(Finding.person_id == signed_in.person.id))
    if shared:
        db.execute(delete(Finding).where(Finding.couple_id == membership.couple_id))
    for finding in mine + ours:
        owner_only = finding.audience != COUPLE
        row = Finding(
            person_id=signed_in.person.id if owner_only else None,
            couple_id=None if owner_only else membership.couple_id,
            # The day only: the row is rewritten at each write, private ones included.
            created_at=day,
            sealed=b"",
        )
        db.add(row)
        db.flush()
        row.sealed = keys.seal(
            signed_in.data_key if owner_only else couple_key,
            json.dumps(finding.to_dict()).encode(),
            finding_context(row),
        )
    db.flush()
    return tuple(mine + ours)


def visible_findings(db: Session, *, signed_in: SignedIn) -> list[d.Finding]:
    """What this person may see: their own findings and the couple's patterns."""
    out = [
        d.Finding.from_dict(
            json.loads(keys.unseal(signed_in.data_key, row.sealed, finding_context(row)))
        )
        for row in db.scalars(select(Finding).where(Finding.person_id == signed_in.person.id))
    ]
    membership = access.membership_of(db, signed_in.person)
    if membership is not None and membership.couple_key_wrap is not None:
        couple_key = couple_key_for(membership, signed_in.data_key)
        out += [
            d.Finding.from_dict(
                json.loads(keys.unseal(couple_key, row.sealed, finding_context(row)))
            )
            for row in db.scalars(select(Finding).where(Finding.couple_id == membership.couple_id))
        ]
    return sorted(out, key=lambda f: (f.audience == COUPLE, f.pattern.value))
