"""The disclosure session of the recovery arc: prepared privately, held when the pace
allows a hard conversation, and reflected on by each partner afterwards.

The involved partner prepares a full account (what happened and when, what was hidden,
any contact since); the hurt partner the questions they need answered and what they do
not want to hear: their limits, which the account keeps to. When both were hurt, each
prepares both. What a person prepares is sealed under their own key.

Each partner then says they are ready. The hurt partner's questions and limits reach
the other then (couple key), so the account can respect them; the account itself is
given in the session, and its written words reach the partner only if the writer
leaves them afterwards. Nothing is shared by default.

The session is the catalogue's practice ``the-full-account``: it opens only while the
pace allows its step and there is no pause or break, and it is logged as a shared
experience, so each partner's private reflection afterwards caps the pace like any
other. If the writer asks, the consenting therapist reads the account first: it is
sealed to the therapist's public key, and their reading to a key only the writer
holds. Something new coming to light after the session (a lapse the person can see)
opens the step again.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nacl.public import PrivateKey, PublicKey, SealedBox
from sqlalchemy import select
from sqlalchemy.orm import Session

from reconnect import access, keys
from reconnect.accounts.signed_in import SignedIn
from reconnect.couples.store import couple_and_key
from reconnect.domain.couples import Role
from reconnect.domain.pacing.catalogue import DISCLOSURE
from reconnect.domain.pacing.signals import LapseSignal
from reconnect.errors import Problem
from reconnect.models import Disclosure, Experience, Membership, PaceSignal
from reconnect.pacing import store as pace
from reconnect.sealing import entry_context, open_json, seal_padded
from reconnect.therapist import store as therapist

PRACTICE = DISCLOSURE
ACCOUNT_PARTS: dict[str, str] = {
    "timeline": "What happened, and when",
    "hidden": "What was hidden, and how",
    "contact_since": "Any contact since it came to light",
}
LIMITS: dict[str, str] = {
    "sexual_detail": "Sexual detail",
    "comparisons": "Comparisons between me and the other person",
    "their_looks": "What the other person looks like, or pictures of them",
}
TEXT_MAX = 8_000
READING_MAX = 4_000


@dataclass(frozen=True)
class Held:
    """One disclosure session the couple held, and whether this person reflected."""

    experience_id: int
    at: datetime
    reflected: bool


@dataclass(frozen=True)
class Step:
    """The disclosure step as one partner sees it."""

    parts: tuple[str, ...]  # "account", "questions", or both (both hurt)
    prepared: dict[str, Any]  # their own preparation, by part
    sessions: list[Held]
    open: bool  # a session can be prepared for (the first, or one a lapse reopened)
    reopened: bool  # opened again by something new coming to light
    ready: bool  # this person said they are ready for the session to come
    partner_ready: bool
    partner_questions: dict[str, Any] | None  # the partner's questions and limits
    accounts_left: list[dict[str, Any]]  # accounts the partner left to be read again
    left_by_me: list[int]  # the sessions whose account this person left
    review_asked: bool
    reading: str | None  # the therapist's reading, for the writer alone
    therapist_sees: bool
    may_start: bool
    why_not: str | None = None


def parts_for(role: str) -> tuple[str, ...]:
    """Who prepares what: the account is the involved partner's, the questions the
    hurt partner's; when both were hurt, each prepares both."""
    if role == Role.HURT.value:
        return ("questions",)
    if role == Role.INVOLVED.value:
        return ("account",)
    return ("account", "questions")


def _own_context(row: Disclosure) -> str:
    return entry_context("disclosure", row.id, row.person_id)


def _shared_context(row: Disclosure) -> str:
    return f"disclosure-shared:{row.couple_id}:{row.id}"


def _rows(db: Session, couple_id: int) -> dict[int, Disclosure]:
    rows = db.scalars(select(Disclosure).where(Disclosure.couple_id == couple_id))
    return {row.person_id: row for row in rows}


def _own(row: Disclosure | None, data_key: bytes) -> dict[str, Any]:
    """A person's preparation; empty before they wrote any, and after a fresh start
    (their old key lost, so what they prepared went with it)."""
    if row is None or not row.sealed:
        return {}
    return open_json(data_key, row.sealed, _own_context(row))


def _brought(row: Disclosure | None, couple_key: bytes) -> dict[str, Any]:
    if row is None or row.shared_sealed is None:
        return {}
    return open_json(couple_key, row.shared_sealed, _shared_context(row))


def _sessions(db: Session, couple_id: int) -> list[Experience]:
    return list(
        db.scalars(
            select(Experience)
            .where(Experience.couple_id == couple_id, Experience.practice_id == PRACTICE)
            .order_by(Experience.occurred_at, Experience.id)
        )
    )


def _lapse_seen_since(db: Session, membership: Membership, since: datetime) -> bool:
    """Whether this person can see a lapse recorded after ``since``: one recorded
    together, or by them. One the partner recorded alone stays the partner's."""
    rows = db.scalars(
        select(PaceSignal).where(
            PaceSignal.couple_id == membership.couple_id,
            PaceSignal.kind == LapseSignal.kind,
            PaceSignal.at > since,
        )
    )
    return any(
        row.person_id == membership.person_id or json.loads(row.data).get("together")
        for row in rows
    )


def step(db: Session, signed_in: SignedIn, now: datetime) -> Step:
    membership, couple_key = couple_and_key(db, signed_in)
    me = signed_in.person.id
    rows = _rows(db, membership.couple_id)
    mine = rows.get(me)
    partner_row = next((row for pid, row in rows.items() if pid != me), None)
    own = _own(mine, signed_in.data_key)
    brought = _brought(mine, couple_key)
    theirs = _brought(partner_row, couple_key)
    held = _sessions(db, membership.couple_id)
    waiting = {e.id for e in pace.awaiting_reflection(db, signed_in.person, membership.couple)}
    coming = len(held) + 1
    reopened = bool(held) and (
        _lapse_seen_since(db, membership, held[-1].occurred_at) or theirs.get("round") == coming
    )
    is_open = not held or reopened
    ready = brought.get("round") == coming
    partner_ready = theirs.get("round") == coming
    may_start, why_not = False, None
    if is_open and ready and partner_ready:
        decision = pace.current_pace(db, membership.couple, now)
        if decision.paused:
            why_not = "The pace is paused. The session waits until whoever paused resumes."
        elif decision.break_until is not None and decision.break_until > now:
            why_not = "You are taking a break after a hard moment. The session waits for it."
        elif decision.permitted_tier < pace.practice(PRACTICE).tier:
            why_not = (
                "Today's pace does not reach hard conversations yet. The session waits "
                "until it does; everything you prepared is kept."
            )
        else:
            may_start = True
    reading = None
    if mine is not None and mine.review_sealed is not None and own.get("review_private"):
        private = PrivateKey(base64.b64decode(own["review_private"]))
        reading = json.loads(SealedBox(private).decrypt(mine.review_sealed))["text"]
    return Step(
        parts=parts_for(membership.role),
        prepared=own,
        sessions=[Held(e.id, e.occurred_at, e.id not in waiting) for e in held],
        open=is_open,
        reopened=reopened,
        ready=ready,
        partner_ready=partner_ready,
        partner_questions=theirs.get("questions"),
        accounts_left=theirs.get("left", []),
        left_by_me=[left["session"] for left in brought.get("left", [])],
        review_asked=mine is not None and mine.review_key is not None,
        reading=reading,
        therapist_sees=therapist.therapist_sees(db, signed_in),
        may_start=may_start,
        why_not=why_not,
    )


def _text(value: object, label: str) -> str:
    text = str(value or "").strip()
    if len(text) > TEXT_MAX:
        raise Problem("invalid_entry", f"{label} holds up to {TEXT_MAX} characters.", 422)
    return text


def _row(db: Session, membership: Membership, person_id: int) -> Disclosure:
    row = db.scalar(
        select(Disclosure).where(
            Disclosure.couple_id == membership.couple_id, Disclosure.person_id == person_id
        )
    )
    if row is None:
        row = Disclosure(couple_id=membership.couple_id, person_id=person_id, sealed=b"")
        db.add(row)
        db.flush()
    return row


def prepare(
    db: Session,
    signed_in: SignedIn,
    *,
    account: dict[str, str] | None = None,
    questions: str | None = None,
    limits: list[str] | None = None,
    other_limits: str | None = None,
    now: datetime,
) -> dict[str, Any]:
    """Save this person's preparation, privately; each part only if it is theirs. Once
    they said they are ready, changed questions and limits reach the partner too: a
    limit must hold for the session it was set for."""
    membership, couple_key = couple_and_key(db, signed_in)
    parts = parts_for(membership.role)
    row = _row(db, membership, signed_in.person.id)
    own = _own(row, signed_in.data_key)
    if account is not None:
        if "account" not in parts:
            raise Problem("not_your_part", "The account is the involved partner's to give.", 403)
        own["account"] = {k: _text(account.get(k), v) for k, v in ACCOUNT_PARTS.items()}
    if questions is not None or limits is not None or other_limits is not None:
        if "questions" not in parts:
            raise Problem("not_your_part", "The questions are the hurt partner's to ask.", 403)
        chosen = list(limits or [])
        if any(limit not in LIMITS for limit in chosen):
            raise Problem("invalid_entry", "Choose limits from the list, or write your own.", 422)
        own["questions"] = {
            "questions": _text(questions, "Your questions"),
            "limits": chosen,
            "other_limits": _text(other_limits, "Your own limits"),
        }
    own["updated_at"] = now.astimezone(UTC).isoformat()
    row.sealed = seal_padded(signed_in.data_key, own, _own_context(row))
    brought = _brought(row, couple_key)
    coming = len(_sessions(db, membership.couple_id)) + 1
    if "questions" in own and brought.get("round") == coming:
        brought["questions"] = own["questions"]
        row.shared_sealed = seal_padded(couple_key, brought, _shared_context(row))
    db.flush()
    return own


def ready(db: Session, signed_in: SignedIn, now: datetime) -> None:
    """This person is ready for the coming session. A hurt partner's questions and
    limits go to the other now, so the account can keep to them."""
    current = step(db, signed_in, now)
    if not current.open:
        raise Problem(
            "session_held",
            "The session has been held. If something new comes to light, record it and "
            "the step opens again.",
            409,
        )
    prepared = current.prepared
    missing = [p for p in current.parts if not _has(prepared.get(p), p)]
    if missing:
        raise Problem(
            "not_prepared",
            "Prepare your part first: it stays private until you say you are ready.",
            409,
        )
    membership, couple_key = couple_and_key(db, signed_in)
    row = _row(db, membership, signed_in.person.id)
    brought = _brought(row, couple_key)
    brought["round"] = len(current.sessions) + 1
    brought["ready_at"] = now.astimezone(UTC).isoformat()
    if "questions" in current.parts:
        brought["questions"] = prepared["questions"]
    row.shared_sealed = seal_padded(couple_key, brought, _shared_context(row))
    db.flush()


def _has(part: dict[str, Any] | None, name: str) -> bool:
    if not part:
        return False
    if name == "account":
        return any(part.get(k) for k in ACCOUNT_PARTS)
    return bool(part.get("questions") or part.get("limits") or part.get("other_limits"))


def leave_account(db: Session, signed_in: SignedIn, now: datetime) -> None:
    """After a session, the writer leaves their account, as it is now, for the partner
    to read again. Never before: it is given in the session first."""
    current = step(db, signed_in, now)
    if "account" not in current.parts or not _has(current.prepared.get("account"), "account"):
        raise Problem("not_prepared", "There is no account of yours to leave.", 409)
    if not current.sessions:
        raise Problem(
            "not_yet", "The account is given in the session first; leave it afterwards.", 409
        )
    membership, couple_key = couple_and_key(db, signed_in)
    row = _row(db, membership, signed_in.person.id)
    brought = _brought(row, couple_key)
    session = len(current.sessions)
    left = [item for item in brought.get("left", []) if item["session"] != session]
    left.append(
        {
            "session": session,
            "account": current.prepared["account"],
            "left_at": now.astimezone(UTC).isoformat(),
        }
    )
    brought["left"] = left
    row.shared_sealed = seal_padded(couple_key, brought, _shared_context(row))
    db.flush()


def ask_therapist(db: Session, signed_in: SignedIn, now: datetime) -> None:
    """The writer asks the consenting therapist to read their account before the
    session. The partner cannot open it, nor the therapist's reading back."""
    membership, _ = couple_and_key(db, signed_in)
    row = _row(db, membership, signed_in.person.id)
    own = _own(row, signed_in.data_key)
    if not _has(own.get("account"), "account"):
        raise Problem("not_prepared", "Write your account first, then ask.", 409)
    private = PrivateKey.generate()
    content = {
        "kind": therapist.DISCLOSURE_SHARE,
        "disclosure_id": row.id,
        "account": own["account"],
        "asked_at": now.astimezone(UTC).isoformat(),
    }
    if therapist.share_with_therapist(db, signed_in=signed_in, content=content, now=now) is None:
        raise Problem(
            "no_therapist", "No therapist sees your couple now, with both of you agreeing.", 409
        )
    own["review_private"] = base64.b64encode(bytes(private)).decode()
    row.sealed = seal_padded(signed_in.data_key, own, _own_context(row))
    row.review_key = bytes(private.public_key)
    row.review_sealed = None
    db.flush()


def give_reading(
    db: Session, signed_in: SignedIn, *, couple_id: int, disclosure_id: int, text: str
) -> None:
    """The consenting therapist's reading of an account they were asked to read first,
    sealed so that only its writer opens it."""
    access.get_couple_for_therapist(db, therapist=signed_in.person, couple_id=couple_id)
    row = db.get(Disclosure, disclosure_id)
    if row is None or row.couple_id != couple_id or row.review_key is None:
        raise Problem("unknown_account", "No account here is waiting for your reading.", 404)
    text = text.strip()
    if not text or len(text) > READING_MAX:
        raise Problem("invalid_entry", f"A reading holds 1 to {READING_MAX} characters.", 422)
    box = SealedBox(PublicKey(row.review_key))
    row.review_sealed = box.encrypt(keys.padded(json.dumps({"text": text}).encode()))
    db.flush()
