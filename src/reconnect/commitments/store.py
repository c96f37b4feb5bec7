"""Commitments kept over time: what the involved partner offers, and its days.

The involved partner (either partner, when both were hurt) offers a commitment in
their own words and says what keeping it looks like. They record each day as kept or
not; the other partner may say "I noticed" on a kept day. Over weeks that makes a
record of repeated, consistent safety, shown week by week, never as a score of
anyone. The app never checks anything itself: no phone, no location, no messages.

Everything is sealed under the couple key (both partners read it), as one padded
record per commitment, so the file tells neither the words nor how many days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from reconnect import keys, localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.couples.store import couple_and_key
from reconnect.database import plain_rows
from reconnect.domain.couples import Role
from reconnect.errors import Problem
from reconnect.models import Commitment
from reconnect.sealing import entry_context

WHAT_MAX = 200
LOOKS_LIKE_MAX = 400
# A day can be recorded up to this many days after it, never before it came.
RECORD_WITHIN_DAYS = 7
OPEN_MAX = 12


@dataclass
class Kept:
    """One commitment as both partners read it."""

    id: int
    offered_by: int
    what: str
    looks_like: str
    offered_at: str
    ended_at: str | None = None
    # Local day (ISO) -> {"kept": bool, "noticed": bool}.
    days: dict[str, dict[str, bool]] = field(default_factory=dict)

    def weeks(self) -> list[tuple[date, int, int, int]]:
        """(Monday, days kept, days not kept, kept days noticed) for each week from the
        first recorded one to the last, empty weeks included."""
        if not self.days:
            return []
        recorded = {date.fromisoformat(d): v for d, v in self.days.items()}
        first = localtime.week_start(min(recorded))
        last = localtime.week_start(max(recorded))
        found = []
        monday = first
        while monday <= last:
            week = [v for d, v in recorded.items() if monday <= d < monday + timedelta(days=7)]
            kept = [v for v in week if v["kept"]]
            noticed = sum(1 for v in kept if v.get("noticed"))
            found.append((monday, len(kept), len(week) - len(kept), noticed))
            monday += timedelta(days=7)
        return found


def _context(commitment_id: int, offered_by: int) -> str:
    return entry_context("commitment", commitment_id, offered_by)


def _open(columns: tuple[int, int, bytes], couple_key: bytes) -> Kept:
    """A commitment from its id, who offered it and its seal (as :data:`_COUPLES_OWN`
    reads them)."""
    commitment_id, offered_by, sealed = columns
    context = _context(commitment_id, offered_by)
    data: dict[str, Any] = json.loads(keys.unseal(couple_key, sealed, context))
    return Kept(id=commitment_id, offered_by=offered_by, **data)


def _seal(row: Commitment, couple_key: bytes, kept: Kept) -> None:
    content = {
        "what": kept.what,
        "looks_like": kept.looks_like,
        "offered_at": kept.offered_at,
        "ended_at": kept.ended_at,
        "days": kept.days,
    }
    plain = keys.padded(json.dumps(content).encode())
    row.sealed = keys.seal(couple_key, plain, _context(row.id, row.person_id))


# A couple's commitments as plain columns, built once: the progress page reads them on
# every visit, and the ORM's rows cost more than opening them.
_COUPLES_OWN = (
    select(Commitment.id, Commitment.person_id, Commitment.sealed)
    .where(Commitment.couple_id == bindparam("couple_id"))
    .order_by(Commitment.id)
)


def commitments(db: Session, signed_in: SignedIn) -> list[Kept]:
    """The couple's commitments, oldest first."""
    membership, key = couple_and_key(db, signed_in)
    rows = plain_rows(db, _COUPLES_OWN, {"couple_id": membership.couple_id})
    return [_open(columns, key) for columns in rows]


def _one(db: Session, signed_in: SignedIn, commitment_id: int) -> tuple[Commitment, Kept, bytes]:
    membership, key = couple_and_key(db, signed_in)
    row = db.get(Commitment, commitment_id, with_for_update=True)
    if row is None or row.couple_id != membership.couple_id:
        raise Problem(
            "unknown_commitment", "There is no commitment of yours with that number.", 404
        )
    return row, _open((row.id, row.person_id, row.sealed), key), key


def may_offer(role: str) -> bool:
    """The involved partner offers commitments; when both were hurt, either may."""
    return role in (Role.INVOLVED.value, Role.BOTH_HURT.value)


def offer(db: Session, signed_in: SignedIn, *, what: str, looks_like: str, now: datetime) -> Kept:
    membership, key = couple_and_key(db, signed_in)
    if not may_offer(membership.role):
        raise Problem(
            "not_yours_to_offer",
            "Commitments are offered by the partner who was involved. You can say what "
            "would help you in a note, and notice when one is kept.",
            403,
        )
    what, looks_like = " ".join(what.split()), " ".join(looks_like.split())
    if not what:
        raise Problem("invalid_entry", "Please say what you commit to, in your own words.", 422)
    open_now = [
        c
        for c in commitments(db, signed_in)
        if c.ended_at is None and c.offered_by == membership.person_id
    ]
    if len(open_now) >= OPEN_MAX:
        raise Problem("too_many_commitments", f"Up to {OPEN_MAX} at once; end one first.", 422)
    row = Commitment(couple_id=membership.couple_id, person_id=signed_in.person.id, sealed=b"")
    db.add(row)
    db.flush()
    kept = Kept(
        row.id,
        row.person_id,
        what[:WHAT_MAX],
        looks_like[:LOOKS_LIKE_MAX],
        now.astimezone(UTC).isoformat(),
    )
    _seal(row, key, kept)
    db.flush()
    return kept


def _day(raw: date, signed_in: SignedIn, now: datetime) -> str:
    today = localtime.local_day(now, signed_in.person.time_zone)
    if raw > today:
        raise Problem("invalid_day", "A day can be recorded once it has come.", 422)
    if raw < today - timedelta(days=RECORD_WITHIN_DAYS):
        raise Problem(
            "invalid_day", f"Days can be recorded up to {RECORD_WITHIN_DAYS} days after.", 422
        )
    return raw.isoformat()


def record(
    db: Session, signed_in: SignedIn, commitment_id: int, *, day: date, kept: bool, now: datetime
) -> Kept:
    """The one who offered it records a day as kept or not (again, to correct it)."""
    row, commitment, key = _one(db, signed_in, commitment_id)
    if row.person_id != signed_in.person.id:
        raise Problem(
            "not_yours_to_record",
            "Only the partner who offered a commitment records its days; you can say you noticed.",
            403,
        )
    if commitment.ended_at is not None:
        raise Problem("commitment_ended", "This commitment has ended; its days stay.", 409)
    when = _day(day, signed_in, now)
    noticed = commitment.days.get(when, {}).get("noticed", False)
    commitment.days[when] = {"kept": kept, "noticed": noticed and kept}
    _seal(row, key, commitment)
    db.flush()
    return commitment


def notice(
    db: Session, signed_in: SignedIn, commitment_id: int, *, day: date, now: datetime
) -> Kept:
    """The other partner says "I noticed" on a day recorded as kept."""
    row, commitment, key = _one(db, signed_in, commitment_id)
    if row.person_id == signed_in.person.id:
        raise Problem("not_yours_to_notice", "Your partner is the one who can notice.", 403)
    when = day.isoformat()
    recorded = commitment.days.get(when)
    if recorded is None or not recorded["kept"]:
        raise Problem("nothing_to_notice", "That day is not recorded as kept.", 409)
    recorded["noticed"] = True
    _seal(row, key, commitment)
    db.flush()
    return commitment


def end(db: Session, signed_in: SignedIn, commitment_id: int, *, now: datetime) -> Kept:
    """The one who offered it ends it; its days stay, for both to look back on."""
    row, commitment, key = _one(db, signed_in, commitment_id)
    if row.person_id != signed_in.person.id:
        raise Problem("not_yours_to_record", "Only the partner who offered it can end it.", 403)
    if commitment.ended_at is None:
        commitment.ended_at = now.astimezone(UTC).isoformat()
        _seal(row, key, commitment)
        db.flush()
    return commitment


def for_couple(db: Session, couple_id: int, couple_key: bytes) -> list[Kept]:
    """A couple's commitments, oldest first, read with their couple key already opened:
    for a reader who is not a partner (the therapist both partners agree to), whose
    caller has checked that they may see this couple."""
    rows = plain_rows(db, _COUPLES_OWN, {"couple_id": couple_id})
    return [_open(columns, couple_key) for columns in rows]
