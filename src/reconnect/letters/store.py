"""Letters of the recovery arc: the impact letter and the accountability letter.

The hurt partner writes an impact letter (what the affair did to them); the involved
partner an accountability (empathy) letter (what they did, owned, without excuse).
When both were hurt, either may write either. A letter is drafted privately, as often
as the writer likes, with the message coach's reading for them alone; it reaches the
partner only when the writer chooses to share it, and the reader may answer it once.

The draft is sealed under the writer's own key; a shared copy, and the reply, under
the couple key. Both padded, so lengths say nothing of the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from reconnect.accounts.signed_in import SignedIn
from reconnect.couples.store import couple_and_key
from reconnect.domain.couples import Role
from reconnect.errors import Problem
from reconnect.models import Letter
from reconnect.sealing import entry_context, open_json, seal_padded

Kind = Literal["impact", "accountability"]
KINDS: dict[str, str] = {"impact": "Impact letter", "accountability": "Accountability letter"}
TEXT_MAX = 20_000
REPLY_MAX = 4_000


@dataclass(frozen=True)
class Drafted:
    """A letter as its writer reads it: the draft, and what was shared of it."""

    id: int
    kind: str
    text: str
    updated_at: str
    shared_text: str | None
    shared_at: str | None
    reply: str | None


@dataclass(frozen=True)
class Received:
    """A letter the partner shared, as its reader reads it."""

    id: int
    kind: str
    text: str
    shared_at: str
    reply: str | None


def kinds_for(role: str) -> tuple[str, ...]:
    """Which letters a partner writes: by their role; both, when both were hurt."""
    if role == Role.HURT.value:
        return ("impact",)
    if role == Role.INVOLVED.value:
        return ("accountability",)
    return ("impact", "accountability")


def _own_context(row: Letter) -> str:
    return entry_context("letter", row.id, row.person_id)


def _shared_context(row: Letter) -> str:
    return f"letter-shared:{row.couple_id}:{row.id}"


def _shared(row: Letter, couple_key: bytes) -> dict[str, Any] | None:
    if row.shared_sealed is None:
        return None
    return open_json(couple_key, row.shared_sealed, _shared_context(row))


def _draft(row: Letter, data_key: bytes, shared: dict[str, Any] | None) -> dict[str, Any]:
    """The writer's draft; after a fresh start (their old key lost) the draft is gone
    and the words they shared stand in for it."""
    if row.sealed:
        return open_json(data_key, row.sealed, _own_context(row))
    if shared is None:
        raise Problem("unknown_letter", "There is no letter of yours with that number.", 404)
    return {"kind": shared["kind"], "text": shared["text"], "updated_at": shared["shared_at"]}


def _rows(db: Session, couple_id: int) -> list[Letter]:
    return list(db.scalars(select(Letter).where(Letter.couple_id == couple_id).order_by(Letter.id)))


def letters(db: Session, signed_in: SignedIn) -> tuple[list[Drafted], list[Received]]:
    """This person's own letters (drafts, and what they shared), and those their
    partner shared with them. A partner's unshared draft is never opened or listed."""
    membership, couple_key = couple_and_key(db, signed_in)
    mine, theirs = [], []
    for row in _rows(db, membership.couple_id):
        shared = _shared(row, couple_key)
        if row.person_id == signed_in.person.id:
            draft = _draft(row, signed_in.data_key, shared)
            mine.append(
                Drafted(
                    row.id,
                    draft["kind"],
                    draft["text"],
                    draft["updated_at"],
                    shared["text"] if shared else None,
                    shared["shared_at"] if shared else None,
                    shared["reply"] if shared else None,
                )
            )
        elif shared is not None:
            theirs.append(
                Received(
                    row.id, shared["kind"], shared["text"], shared["shared_at"], shared["reply"]
                )
            )
    return mine, theirs


def save_draft(db: Session, signed_in: SignedIn, *, kind: str, text: str, now: datetime) -> Drafted:
    """Write or rewrite this person's draft of ``kind``; it stays theirs alone."""
    membership, _ = couple_and_key(db, signed_in)
    if kind not in kinds_for(membership.role):
        raise Problem(
            "not_your_letter",
            "The impact letter is the hurt partner's to write, the accountability letter "
            "the involved partner's.",
            403,
        )
    text = text.strip()
    if not text:
        raise Problem("invalid_entry", "The letter is empty; write what you want to say.", 422)
    if len(text) > TEXT_MAX:
        raise Problem("invalid_entry", f"A letter holds up to {TEXT_MAX} characters.", 422)
    mine, _ = letters(db, signed_in)
    existing = next((d for d in mine if d.kind == kind), None)
    row = db.get(Letter, existing.id) if existing else None
    if row is None:
        row = Letter(couple_id=membership.couple_id, person_id=signed_in.person.id, sealed=b"")
        db.add(row)
        db.flush()
    updated = now.astimezone(UTC).isoformat()
    content = {"kind": kind, "text": text, "updated_at": updated}
    row.sealed = seal_padded(signed_in.data_key, content, _own_context(row))
    db.flush()
    before = existing or Drafted(row.id, kind, text, updated, None, None, None)
    return Drafted(row.id, kind, text, updated, before.shared_text, before.shared_at, before.reply)


def _own_row(db: Session, signed_in: SignedIn, letter_id: int) -> tuple[Letter, bytes]:
    membership, couple_key = couple_and_key(db, signed_in)
    row = db.get(Letter, letter_id)
    if row is None or row.couple_id != membership.couple_id:
        raise Problem("unknown_letter", "There is no letter of yours with that number.", 404)
    return row, couple_key


def share(db: Session, signed_in: SignedIn, letter_id: int, *, now: datetime) -> None:
    """The writer shares the draft as it is now; sharing again shares the newer words
    (and a reply to the older ones stays with them no more)."""
    row, couple_key = _own_row(db, signed_in, letter_id)
    if row.person_id != signed_in.person.id:
        raise Problem("unknown_letter", "There is no letter of yours with that number.", 404)
    draft = _draft(row, signed_in.data_key, _shared(row, couple_key))
    content = {
        "kind": draft["kind"],
        "text": draft["text"],
        "shared_at": now.astimezone(UTC).isoformat(),
        "reply": None,
    }
    row.shared_sealed = seal_padded(couple_key, content, _shared_context(row))
    db.flush()


def reply(db: Session, signed_in: SignedIn, letter_id: int, *, text: str, now: datetime) -> None:
    """The reader answers a letter shared with them, once; the writer reads it."""
    row, couple_key = _own_row(db, signed_in, letter_id)
    shared = _shared(row, couple_key)
    if row.person_id == signed_in.person.id or shared is None:
        raise Problem("unknown_letter", "There is no letter shared with you with that number.", 404)
    text = text.strip()
    if not text or len(text) > REPLY_MAX:
        raise Problem("invalid_entry", f"A reply holds 1 to {REPLY_MAX} characters.", 422)
    if shared["reply"] is not None:
        raise Problem("already_answered", "You have answered this letter already.", 409)
    shared["reply"] = text
    row.shared_sealed = seal_padded(couple_key, shared, _shared_context(row))
    db.flush()
