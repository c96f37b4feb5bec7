"""The moments that matter between check-ins: a shared status, a trigger and the
partner's response, a proposal and its answer, and the break after a flood.

What a partner chooses to share is sealed under the couple key; what stays
private (a trigger not told) is sealed under the person's own key. Who may act
on each thing is decided in :mod:`reconnect.access`; anything outside the person's
couple is 404.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from reconnect import access, keys
from reconnect.accounts.signed_in import SignedIn
from reconnect.couples.store import opened_couple_key
from reconnect.database import plain_rows
from reconnect.domain.couples import Role
from reconnect.domain.moments import (
    TRIGGER_ROLES,
    WORDS_MAX,
    Mood,
    Response,
    TriggerResponse,
)
from reconnect.domain.pacing.catalogue import Lead
from reconnect.domain.pacing.policy import BREAK_MINUTES_MAX, BREAK_MINUTES_MIN
from reconnect.domain.pacing.signals import FloodSignal
from reconnect.domain.validation import SCALE_MAX
from reconnect.errors import Problem
from reconnect.models import (
    Couple,
    FloodBreak,
    Proposal,
    SharedStatus,
    Trigger,
)
from reconnect.pacing import store as pace
from reconnect.sealing import add_sealed, entry_context

TRIGGER_EXAMPLES = (
    "A song or a place",
    "A message or a phone",
    "A date or an anniversary",
    "Something said",
    "A memory out of nowhere",
)


@dataclass(frozen=True)
class Shared:
    """A couple-level view of someone: 'you' or 'partner', never a name in the data."""

    id: int
    who: str
    at: datetime
    content: dict[str, Any]


def _couple_key(db: Session, signed_in: SignedIn) -> tuple[Couple, bytes]:
    membership = access.get_membership_for_person(
        db, person=signed_in.person, data_key=signed_in.data_key
    )
    return membership.couple, opened_couple_key(db, membership, signed_in.data_key)


def _seal_json(key: bytes, content: dict[str, Any], context: str) -> bytes:
    return keys.seal(key, json.dumps(content).encode(), context)


def _open_json(key: bytes, blob: bytes, context: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(keys.unseal(key, blob, context))
    return data


def _words(text: str) -> str:
    text = text.strip()
    if len(text) > WORDS_MAX:
        raise Problem("invalid_entry", f"Please keep it under {WORDS_MAX} characters.", 422)
    return text


# --- shared status ------------------------------------------------------------------


def _status_context(status_id: int, couple_id: int) -> str:
    return f"shared:status:{status_id}:couple:{couple_id}"


def share_status(
    db: Session, *, signed_in: SignedIn, status: str, words: str, now: datetime
) -> SharedStatus:
    if status not in {mood.value for mood in Mood}:
        raise Problem("invalid_entry", "Choose okay, struggling or need space.", 422)
    couple, couple_key = _couple_key(db, signed_in)
    row = SharedStatus(couple_id=couple.id, person_id=signed_in.person.id, at=now)
    content = {"status": status, "words": _words(words)}
    context = partial(_status_context, couple_id=couple.id)
    add_sealed(db, row, lambda row: _seal_json(couple_key, content, context(row.id)))
    return row


def statuses_since(
    db: Session, *, signed_in: SignedIn, since: datetime
) -> list[tuple[int, Shared]]:
    """Every status shared in the couple since ``since``, with its author's id."""
    couple, couple_key = _couple_key(db, signed_in)
    rows = db.scalars(
        select(SharedStatus)
        .where(SharedStatus.couple_id == couple.id, SharedStatus.at >= since)
        .order_by(SharedStatus.at)
    )
    return [
        (
            row.person_id,
            Shared(
                row.id,
                "you" if row.person_id == signed_in.person.id else "partner",
                row.at,
                _open_json(couple_key, row.sealed, _status_context(row.id, row.couple_id)),
            ),
        )
        for row in rows
    ]


# The reads the Today page makes on every visit are built once, with named parameters
# (see pacing/store.py for why), and ask for plain columns: each row is opened into a
# plain value at once, and building ORM objects for them cost more than the statement.
_STATUSES_NEWEST_FIRST = (
    select(
        SharedStatus.id,
        SharedStatus.couple_id,
        SharedStatus.person_id,
        SharedStatus.at,
        SharedStatus.sealed,
    )
    .where(SharedStatus.couple_id == bindparam("couple_id"), SharedStatus.at >= bindparam("since"))
    .order_by(SharedStatus.at.desc(), SharedStatus.id.desc())
)


def statuses_today(db: Session, *, signed_in: SignedIn, now: datetime) -> list[Shared]:
    """The latest status each partner shared in the last day: all the other sees."""
    couple, couple_key = _couple_key(db, signed_in)
    asked = {"couple_id": couple.id, "since": now - timedelta(days=1)}
    latest: dict[int, Any] = {}  # each partner's newest row
    for row in plain_rows(db, _STATUSES_NEWEST_FIRST, asked):
        latest.setdefault(row[2], row)
    return [
        Shared(
            status_id,
            "you" if person_id == signed_in.person.id else "partner",
            at,
            _open_json(couple_key, sealed, _status_context(status_id, couple_id)),
        )
        for status_id, couple_id, person_id, at, sealed in latest.values()
    ]


# --- triggers -------------------------------------------------------------------------


def _trigger_context(row: Trigger, told: bool) -> str:
    return (
        f"shared:trigger:{row.id}:couple:{row.couple_id}"
        if told
        else entry_context("trigger", row.id, row.person_id)
    )


def log_trigger(
    db: Session,
    *,
    signed_in: SignedIn,
    what: str,
    strength: int,
    tell_partner: bool,
    now: datetime,
) -> Trigger:
    """Two taps for the hurt partner: what, and how strong. Telling is their choice."""
    membership = access.get_membership_for_person(
        db, person=signed_in.person, data_key=signed_in.data_key
    )
    if Role(membership.role) not in TRIGGER_ROLES:
        raise Problem("hurt_partner_only", "Triggers are logged by the partner who was hurt.", 403)
    what = _words(what)
    if not what:
        raise Problem("invalid_entry", "Say in a word or two what it was.", 422)
    if not 0 <= strength <= SCALE_MAX:
        raise Problem("invalid_entry", f"How strong is a number from 0 to {SCALE_MAX}.", 422)
    content = {"what": what, "strength": strength}
    # When is sealed with what; only a told trigger keeps a time in clear, to the
    # minute, for the partner who is shown it.
    told_at = now.replace(second=0, microsecond=0) if tell_partner else None
    row = Trigger(
        person_id=signed_in.person.id, couple_id=membership.couple_id, at=told_at, sealed=b""
    )
    db.add(row)
    db.flush()
    seal_own_trigger(row, signed_in.data_key, content, now)
    if tell_partner:
        couple_key = opened_couple_key(db, membership, signed_in.data_key)
        row.told_sealed = _seal_json(couple_key, content, _trigger_context(row, told=True))
    db.flush()
    return row


def seal_own_trigger(row: Trigger, data_key: bytes, content: dict[str, Any], at: datetime) -> None:
    """Seal what, how strong and when under the owner's key."""
    row.sealed = _seal_json(
        data_key, {**content, "at": at.astimezone(UTC).isoformat()}, _trigger_context(row, False)
    )


def own_triggers(
    db: Session, *, signed_in: SignedIn, limit: int | None = 50
) -> list[dict[str, Any]]:
    """This person's own triggers, newest first (``limit=None``: all of them)."""
    rows = db.scalars(
        select(Trigger)
        .where(Trigger.person_id == signed_in.person.id)
        .order_by(Trigger.id.desc())  # ids grow with time; the times are sealed
        .limit(limit)
    )
    return [own_trigger(row, signed_in.data_key) for row in rows]


def own_trigger(row: Trigger, data_key: bytes) -> dict[str, Any]:
    """One of the person's own triggers, opened with their key."""
    content = _open_json(data_key, row.sealed, _trigger_context(row, told=False))
    # Sealed since migration 0010; older rows keep it in clear until the next sign-in.
    sealed_at = content.pop("at", None)
    return {
        "id": row.id,
        "at": datetime.fromisoformat(sealed_at) if sealed_at else row.at,
        "told": row.told_sealed is not None,
        "response_kind": row.response_kind,
        "responded_at": row.responded_at,
        **content,
    }


def responses_to_own_triggers(
    db: Session, *, signed_in: SignedIn, since: datetime
) -> list[dict[str, Any]]:
    """This person's told triggers that their partner responded to since ``since``,
    newest response first: the trigger opened with their own key, and the response."""
    rows = db.scalars(
        select(Trigger)
        .where(
            Trigger.person_id == signed_in.person.id,
            Trigger.told_sealed.is_not(None),
            Trigger.responded_at >= since,
        )
        .order_by(Trigger.responded_at.desc(), Trigger.id.desc())
    )
    return [own_trigger(row, signed_in.data_key) for row in rows]


def _told_by_partner(
    db: Session, signed_in: SignedIn, *, waiting_only: bool, limit: int | None
) -> list[tuple[Trigger, dict[str, Any]]]:
    """Triggers the partner chose to tell this person, each with what they told,
    opened with the couple key. None without a partner."""
    membership = access.membership_of(db, signed_in.person)
    if membership is None or len(membership.couple.members) < 2:
        return []
    couple, couple_key = _couple_key(db, signed_in)
    query = select(Trigger).where(
        Trigger.couple_id == couple.id,
        Trigger.person_id != signed_in.person.id,
        Trigger.told_sealed.is_not(None),
    )
    if waiting_only:
        query = query.where(Trigger.responded_at.is_(None)).order_by(Trigger.at, Trigger.id)
    else:
        query = query.order_by(Trigger.id.desc())
    rows = db.scalars(query.limit(limit))
    return [
        (row, _open_json(couple_key, row.told_sealed or b"", _trigger_context(row, told=True)))
        for row in rows
    ]


def triggers_to_answer(db: Session, *, signed_in: SignedIn) -> list[Shared]:
    """Triggers the partner chose to tell, still waiting for this person's response,
    oldest first. None without a partner: listing one's own triggers must not depend
    on having one."""
    return [
        # A told trigger always has its time.
        Shared(row.id, "partner", row.at or datetime.min.replace(tzinfo=UTC), content)
        for row, content in _told_by_partner(db, signed_in, waiting_only=True, limit=None)
    ]


_ANSWERED_SINCE = and_(
    Trigger.person_id == bindparam("person_id"), Trigger.responded_at >= bindparam("since")
)
_WAITING_FOR_ME = and_(
    Trigger.couple_id == bindparam("couple_id"),
    Trigger.person_id != bindparam("person_id"),
    Trigger.responded_at.is_(None),
)
_TOLD_ANSWERED = select(Trigger).where(Trigger.told_sealed.is_not(None), _ANSWERED_SINCE)
_TOLD_ANSWERED_OR_WAITING = select(Trigger).where(
    Trigger.told_sealed.is_not(None), or_(_ANSWERED_SINCE, _WAITING_FOR_ME)
)


def triggers_for_today(
    db: Session, *, signed_in: SignedIn, since: datetime
) -> tuple[list[Shared], list[dict[str, Any]]]:
    """What the Today page shows of triggers, read in one statement: those the partner
    told and this person has not responded to yet (:func:`triggers_to_answer`), and
    this person's own told triggers the partner responded to since ``since``
    (:func:`responses_to_own_triggers`), each in the same order as there."""
    person_id = signed_in.person.id
    membership = access.membership_of(db, signed_in.person)
    if membership is not None and len(membership.couple.members) >= 2:
        couple, couple_key = _couple_key(db, signed_in)
        found = db.scalars(
            _TOLD_ANSWERED_OR_WAITING,
            {"person_id": person_id, "since": since, "couple_id": couple.id},
        )
    else:  # without a partner, nothing waits: only one's own
        couple_key = b""
        found = db.scalars(_TOLD_ANSWERED, {"person_id": person_id, "since": since})
    rows = list(found)
    to_answer = sorted(
        (row for row in rows if row.person_id != person_id),
        key=lambda row: (row.at or datetime.min.replace(tzinfo=UTC), row.id),
    )
    answered = sorted(
        (row for row in rows if row.person_id == person_id),
        key=lambda row: (row.responded_at, row.id),
        reverse=True,
    )
    return (
        [
            Shared(
                row.id,
                "partner",
                row.at or datetime.min.replace(tzinfo=UTC),
                _open_json(couple_key, row.told_sealed or b"", _trigger_context(row, told=True)),
            )
            for row in to_answer
        ],
        [own_trigger(row, signed_in.data_key) for row in answered],
    )


def told_by_partner(db: Session, *, signed_in: SignedIn, limit: int = 50) -> list[dict[str, Any]]:
    """Everything the partner told this person of their triggers, newest first, with
    this person's response where they gave one: the history beside the Today page."""
    return [
        {
            "id": row.id,
            "at": row.at,
            "response_kind": row.response_kind,
            "responded_at": row.responded_at,
            **content,
        }
        for row, content in _told_by_partner(db, signed_in, waiting_only=False, limit=limit)
    ]


def respond_to_trigger(
    db: Session, *, signed_in: SignedIn, trigger_id: int, kind: str, now: datetime
) -> Trigger:
    row = access.get_trigger_for_person(db, person=signed_in.person, trigger_id=trigger_id)
    if kind not in {response.value for response in TriggerResponse}:
        raise Problem("invalid_entry", "Choose acknowledge, comfort or space.", 422)
    if row.responded_at is not None:
        raise Problem("already_answered", "You already responded to this one.", 409)
    row.response_kind, row.responded_at = kind, now
    db.flush()
    return row


# --- proposals ----------------------------------------------------------------------


def _proposal_context(proposal_id: int, couple_id: int) -> str:
    return f"shared:proposal:{proposal_id}:couple:{couple_id}"


def propose(db: Session, *, signed_in: SignedIn, practice_id: str, now: datetime) -> Proposal:
    chosen = pace.practice(practice_id)
    if chosen.leads is Lead.MORE_ACTIVATED:
        # Affection and intimacy start with the partner who needs it slower, when
        # they are ready: they are never something to ask for.
        raise Problem(
            "not_proposable",
            "This practice is started by the partner who needs it slower, when they are "
            "ready. It is not something to propose.",
            422,
        )
    couple, couple_key = _couple_key(db, signed_in)
    row = Proposal(couple_id=couple.id, proposed_by=signed_in.person.id, at=now)
    content = {"practice_id": chosen.id, "tier": chosen.tier}
    context = partial(_proposal_context, couple_id=couple.id)
    add_sealed(db, row, lambda row: _seal_json(couple_key, content, context(row.id)))
    return row


_PROPOSALS_NEWEST_FIRST = (
    select(
        Proposal.id,
        Proposal.couple_id,
        Proposal.proposed_by,
        Proposal.at,
        Proposal.sealed,
        Proposal.response,
        Proposal.responded_at,
    )
    .where(Proposal.couple_id == bindparam("couple_id"))
    .order_by(Proposal.at.desc())
    .limit(50)
)


def proposals(db: Session, *, signed_in: SignedIn, days: int = 14) -> list[dict[str, Any]]:
    couple, couple_key = _couple_key(db, signed_in)
    rows = plain_rows(db, _PROPOSALS_NEWEST_FIRST, {"couple_id": couple.id})
    return [
        {
            "id": proposal_id,
            "at": at,
            "mine": by == signed_in.person.id,
            "by": by,
            "response": response,
            "responded_at": responded_at,
            **_open_json(couple_key, sealed, _proposal_context(proposal_id, couple_id)),
        }
        for proposal_id, couple_id, by, at, sealed, response, responded_at in rows
    ]


def answer_proposal(
    db: Session, *, signed_in: SignedIn, proposal_id: int, accept: bool, now: datetime
) -> Proposal:
    """Accept or decline; a decline needs no reason and none is asked."""
    row = access.get_proposal_for_person(db, person=signed_in.person, proposal_id=proposal_id)
    if row.response is not None:
        raise Problem("already_answered", "This proposal was already answered.", 409)
    answer = Response.ACCEPTED if accept else Response.DECLINED
    row.response, row.responded_at = answer.value, now
    db.flush()
    return row


# --- the break after a flood ----------------------------------------------------------


def start_break(db: Session, *, signed_in: SignedIn, minutes: int, now: datetime) -> FloodBreak:
    """Someone is flooded: a break for both, with a return time both partners see."""
    if not BREAK_MINUTES_MIN <= minutes <= BREAK_MINUTES_MAX:
        raise Problem(
            "invalid_entry",
            "A break lasts at least 20 minutes, so bodies can settle, and at most a day.",
            422,
        )
    couple = access.get_couple_for_person(db, person=signed_in.person, data_key=signed_in.data_key)
    row = FloodBreak(
        couple_id=couple.id,
        started_by=signed_in.person.id,
        started_at=now,
        return_at=now + timedelta(minutes=minutes),
    )
    db.add(row)
    db.flush()
    signal = FloodSignal(str(signed_in.person.id), now, str(row.id), row.return_at)
    pace.add_signals_and_decide(db, couple, signed_in.person, [signal], now)
    return row
