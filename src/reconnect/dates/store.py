"""Hard dates: the day of discovery, anniversaries, any day a partner marks as hard.

They are the person's own: one sealed, padded list under their key (``HardDates``),
so the database file tells neither which days nor how many. In the days before one
(the couple's policy says how many, v4 on), Today prepares gently: a check-in prompt,
a gentle practice, and, only if the person chooses, a note to their partner. And the
pace never moves up near one: while the person's key is at hand in those days (on
Today, at a check-in, at sign-in), a coarse hold signal is written once per date, so
the pace holds even while they are away. The partner reads only that it holds.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from reconnect import access, keys, localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.database import plain_value
from reconnect.domain.pacing.signals import HoldSignal
from reconnect.errors import Problem
from reconnect.models import HardDates
from reconnect.pacing import store as pace
from reconnect.sealing import entry_context

LABEL_MAX = 80
DATES_MAX = 24
# Before v4 (or outside a couple) Today still prepares for a date this many days ahead.
PREPARE_DAYS = 3


@dataclass
class HardDate:
    """A yearly date: ``month`` and ``day`` (29 February falls on the 28th in other
    years); ``held`` is the newest occurrence already held for (ISO date)."""

    id: str
    label: str
    month: int
    day: int
    held: str | None = None

    def on(self, year: int) -> date:
        try:
            return date(year, self.month, self.day)
        except ValueError:  # 29 February outside a leap year
            return date(year, self.month, self.day - 1)

    def occurrence_near(self, today: date, before: int, after: int) -> date | None:
        """The occurrence whose window (``before`` days ahead to ``after`` days past)
        holds ``today``, if any."""
        for year in (today.year - 1, today.year, today.year + 1):
            when = self.on(year)
            if when - timedelta(days=before) <= today <= when + timedelta(days=after):
                return when
        return None


def _context(person_id: int) -> str:
    return entry_context("hard_dates", person_id, person_id)


# Today and every check-in ask (the pace holds near a marked date): one plain read.
_SEALED = select(HardDates.sealed).where(HardDates.person_id == bindparam("person_id"))


def dates(db: Session, signed_in: SignedIn) -> list[HardDate]:
    """This person's marked dates, in calendar order."""
    person_id = signed_in.person.id
    sealed = plain_value(db, _SEALED, {"person_id": person_id})
    if sealed is None:
        return []
    data = json.loads(keys.unseal(signed_in.data_key, sealed, _context(person_id)))
    return sorted((HardDate(**d) for d in data["dates"]), key=lambda d: (d.month, d.day, d.id))


def _save(db: Session, signed_in: SignedIn, found: list[HardDate]) -> None:
    person_id = signed_in.person.id
    plain = keys.padded(json.dumps({"dates": [asdict(d) for d in found]}).encode())
    sealed = keys.seal(signed_in.data_key, plain, _context(person_id))
    db.merge(HardDates(person_id=person_id, sealed=sealed))  # new, or in place
    db.flush()


def add(db: Session, signed_in: SignedIn, *, label: str, month: int, day: int) -> HardDate:
    """Mark a date (422 ``invalid_date`` for a day no calendar has)."""
    label = " ".join(label.split())[:LABEL_MAX] or "A hard day"
    try:
        date(2024, month, day)  # a leap year: 29 February is a date one can mark
    except (TypeError, ValueError):
        raise Problem("invalid_date", "Please choose a day of the year that exists.", 422) from None
    found = dates(db, signed_in)
    if len(found) >= DATES_MAX:
        raise Problem(
            "too_many_dates", f"You can mark up to {DATES_MAX} dates; remove one first.", 422
        )
    marked = HardDate(secrets.token_hex(6), label, month, day)
    _save(db, signed_in, [*found, marked])
    return marked


def remove(db: Session, signed_in: SignedIn, date_id: str) -> None:
    found = dates(db, signed_in)
    kept = [d for d in found if d.id != date_id]
    if len(kept) == len(found):
        raise Problem("unknown_date", "There is no date of yours with that name.", 404)
    _save(db, signed_in, kept)


@dataclass(frozen=True)
class Near:
    marked: HardDate
    on: date
    today: bool


def near(marked_dates: list[HardDate], signed_in: SignedIn, now: datetime) -> list[Near]:
    """Of ``marked_dates`` (see :func:`dates`), those close enough for Today to prepare,
    on the person's own local days."""
    today = localtime.local_day(now, signed_in.person.time_zone)
    found = []
    for marked in marked_dates:
        when = marked.occurrence_near(today, PREPARE_DAYS, 0)
        if when is not None:
            found.append(Near(marked, when, when == today))
    return sorted(found, key=lambda n: n.on)


def hold_near(
    db: Session, signed_in: SignedIn, now: datetime, marked_dates: list[HardDate] | None = None
) -> bool:
    """Write, once per occurrence, the hold that keeps the pace from moving up near a
    marked date (policy v4 on, in a couple with joint features on). True if written.
    ``marked_dates``: what :func:`dates` gave, when the caller has it already."""
    found = dates(db, signed_in) if marked_dates is None else marked_dates
    if not found:
        return False
    try:
        couple = access.get_couple_for_person(
            db, person=signed_in.person, data_key=signed_in.data_key
        )
    except Problem:
        return False
    policy = pace.policy_for(couple)
    before, after = policy.hard_date_days_before, policy.hard_date_days_after
    if not before:
        return False
    zone = localtime.zone(couple.time_zone)
    today = localtime.local_day(now, zone)
    holds = []
    for marked in found:
        when = marked.occurrence_near(today, before, after)
        if when is None or marked.held == when.isoformat():
            continue
        marked.held = when.isoformat()
        _, end = localtime.day_bounds(when + timedelta(days=after), zone)
        holds.append(HoldSignal(str(signed_in.person.id), now, end))
    if not holds:
        return False
    _save(db, signed_in, found)
    pace.add_signals_and_decide(db, couple, signed_in.person, holds, now)
    return True
