"""Rituals of connection: small things a couple chooses to do again and again.

Gating protects; rituals build. A couple picks a shared practice the pace allows today
(a walk side by side, a ten-minute check-in) as a ritual, daily or weekly, and either
partner marks the days they did it. If the pace steps back below a ritual's step, the
ritual rests until the pace allows it again: it is never suggested ahead of the pace.

Each ritual is one padded record under the couple key: both partners read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from reconnect import keys, localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.commitments.store import RECORD_WITHIN_DAYS
from reconnect.couples.store import couple_and_key
from reconnect.database import plain_rows
from reconnect.domain.pacing.catalogue import DISCLOSURE
from reconnect.errors import Problem
from reconnect.models import Ritual
from reconnect.pacing import store as pace
from reconnect.sealing import entry_context

Rhythm = Literal["daily", "weekly"]
RHYTHMS: dict[str, str] = {"daily": "every day", "weekly": "once a week"}
OPEN_MAX = 6


@dataclass
class Chosen:
    """One ritual as both partners read it; ``resting`` when the pace is below it now."""

    id: int
    practice_id: str
    rhythm: str
    chosen_at: str
    ended_at: str | None = None
    days: list[str] = field(default_factory=list)
    resting: bool = False

    def weeks(self) -> list[tuple[date, int]]:
        """(Monday, days done) from the first week with a day done to the last."""
        if not self.days:
            return []
        done = sorted(date.fromisoformat(d) for d in self.days)
        monday, last = localtime.week_start(done[0]), localtime.week_start(done[-1])
        found = []
        while monday <= last:
            end = monday + timedelta(days=7)
            found.append((monday, sum(1 for d in done if monday <= d < end)))
            monday = end
        return found


def _context(ritual_id: int, couple_id: int) -> str:
    return entry_context("ritual", ritual_id, couple_id)


def _open(columns: tuple[int, int, bytes], key: bytes, permitted: int) -> Chosen:
    """A ritual from its id, couple and seal (the columns of :data:`_COUPLES_RITUALS`)."""
    ritual_id, couple_id, sealed = columns
    data: dict[str, Any] = json.loads(keys.unseal(key, sealed, _context(ritual_id, couple_id)))
    chosen = Chosen(id=ritual_id, **data)
    chosen.resting = pace.practice(chosen.practice_id).tier > permitted
    return chosen


# A couple's rituals as plain columns (Today asks on every visit; the ORM's rows cost
# more than opening them).
_COUPLES_RITUALS = (
    select(Ritual.id, Ritual.couple_id, Ritual.sealed)
    .where(Ritual.couple_id == bindparam("couple_id"))
    .order_by(Ritual.id)
)


def seal(row: Ritual, key: bytes, chosen: Chosen) -> None:
    """Seal ``chosen`` into its row, padded, under the couple key ``key``."""
    content = {
        "practice_id": chosen.practice_id,
        "rhythm": chosen.rhythm,
        "chosen_at": chosen.chosen_at,
        "ended_at": chosen.ended_at,
        "days": chosen.days,
    }
    sealed = keys.padded(json.dumps(content).encode())
    row.sealed = keys.seal(key, sealed, _context(row.id, row.couple_id))


def rituals(
    db: Session, signed_in: SignedIn, now: datetime | None = None, *, permitted: int | None = None
) -> list[Chosen]:
    """The couple's rituals, oldest first, each marked resting if the pace at ``now`` is
    below it; ``permitted``: that pace, when the caller has it already. With neither,
    none is resting (for charts, which need only their days)."""
    membership, key = couple_and_key(db, signed_in)
    if permitted is None:
        permitted = (
            pace.policy().top_tier
            if now is None
            else pace.current_pace(db, membership.couple, now).permitted_tier
        )
    rows = plain_rows(db, _COUPLES_RITUALS, {"couple_id": membership.couple_id})
    return [_open(row, key, permitted) for row in rows]


def choose(
    db: Session, signed_in: SignedIn, *, practice_id: str, rhythm: Rhythm, now: datetime
) -> Chosen:
    """Either partner chooses a shared practice the pace allows today as a ritual."""
    membership, key = couple_and_key(db, signed_in)
    practice = pace.practice(practice_id)
    permitted = pace.current_pace(db, membership.couple, now).permitted_tier
    if practice.tier < 1:
        raise Problem("not_shared", "A ritual is something you do together.", 422)
    if practice.id == DISCLOSURE:
        raise Problem("not_a_ritual", "The disclosure session is held, not repeated.", 422)
    if practice.tier > permitted:
        raise Problem(
            "ahead_of_pace",
            "That one waits until the pace allows it; choose one from what fits today.",
            409,
        )
    active = [c for c in rituals(db, signed_in, now) if c.ended_at is None]
    if len(active) >= OPEN_MAX:
        raise Problem("too_many_rituals", f"Up to {OPEN_MAX} at once; end one first.", 422)
    row = Ritual(couple_id=membership.couple_id, sealed=b"")
    db.add(row)
    db.flush()
    chosen = Chosen(row.id, practice.id, rhythm, now.astimezone(UTC).isoformat())
    seal(row, key, chosen)
    db.flush()
    return chosen


def _one(
    db: Session, signed_in: SignedIn, ritual_id: int, now: datetime
) -> tuple[Ritual, Chosen, bytes]:
    membership, key = couple_and_key(db, signed_in)
    row = db.get(Ritual, ritual_id, with_for_update=True)
    if row is None or row.couple_id != membership.couple_id:
        raise Problem("unknown_ritual", "There is no ritual of yours with that number.", 404)
    permitted = pace.current_pace(db, membership.couple, now).permitted_tier
    return row, _open((row.id, row.couple_id, row.sealed), key, permitted), key


def done(db: Session, signed_in: SignedIn, ritual_id: int, *, day: date, now: datetime) -> Chosen:
    """Either partner marks a day the ritual was done (once a day counts once)."""
    row, chosen, key = _one(db, signed_in, ritual_id, now)
    if chosen.ended_at is not None:
        raise Problem("ritual_ended", "This ritual has ended; its days stay.", 409)
    today = localtime.local_day(now, signed_in.person.time_zone)
    if not today - timedelta(days=RECORD_WITHIN_DAYS) <= day <= today:
        raise Problem(
            "invalid_day",
            f"A day can be marked once it has come, up to {RECORD_WITHIN_DAYS} days after.",
            422,
        )
    if day.isoformat() not in chosen.days:
        chosen.days = sorted([*chosen.days, day.isoformat()])
        seal(row, key, chosen)
        db.flush()
    return chosen


def end(db: Session, signed_in: SignedIn, ritual_id: int, *, now: datetime) -> Chosen:
    row, chosen, key = _one(db, signed_in, ritual_id, now)
    if chosen.ended_at is None:
        chosen.ended_at = now.astimezone(UTC).isoformat()
        seal(row, key, chosen)
        db.flush()
    return chosen


def for_couple(
    db: Session, couple_id: int, couple_key: bytes, *, permitted: int | None = None
) -> list[Chosen]:
    """A couple's rituals, oldest first, read with their couple key already opened: for
    a reader who is not a partner (the therapist both partners agree to), whose caller
    has checked that they may see this couple. Each is resting if ``permitted`` (the
    pace now) is below it; without it, none is."""
    top = pace.policy().top_tier if permitted is None else permitted
    rows = plain_rows(db, _COUPLES_RITUALS, {"couple_id": couple_id})
    return [_open(row, couple_key, top) for row in rows]
