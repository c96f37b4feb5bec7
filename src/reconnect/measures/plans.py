"""Questionnaires that repeat: which are due, since when, and who asked for them.

A person may choose to repeat a questionnaire every one, two or four weeks; the
couple's therapist, while both partners agree, may ask both partners for one. A
questionnaire is due once its interval has passed since it was last answered (at once,
if it was never answered since it was asked for), and it shows as due for a few days.
Left unanswered, it goes quiet until its next turn: nobody is reminded of a missed one
twice.

A person's plan is sealed under their own key, with what it needs beside it: when each
questionnaire was last answered, and the gentle check still owed after a crisis answer.
The therapist's request is sealed under the couple key, so both partners see it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.orm import Session

from reconnect import access, keys
from reconnect.accounts.signed_in import SignedIn
from reconnect.couples.store import opened_couple_key
from reconnect.database import plain_rows
from reconnect.errors import Problem
from reconnect.models import CoupleQuestionnairePlan, QuestionnairePlan
from reconnect.sealing import entry_context

# How often a questionnaire may repeat, in days, and how the pages say it.
EVERY = {7: "every week", 14: "every two weeks", 28: "every four weeks"}
# How long a questionnaire shows as due before it waits for its next turn.
DUE_FOR = timedelta(days=3)
YOU, THERAPIST = "you", "your therapist"


@dataclass
class Plan:
    """Which questionnaires repeat (by id: every how many days) and since when."""

    repeat: dict[str, int] = field(default_factory=dict)
    since: dict[str, str] = field(default_factory=dict)

    def set(self, instrument_id: str, every: int | str, now: datetime) -> None:
        """Repeat ``instrument_id`` every ``every`` days (a number, or a form's digits);
        0 stops it. Anything but 0, 7, 14 or 28 is refused (422 invalid_interval)."""
        every = int(every) if str(every).isdigit() else -1
        if every and every not in EVERY:
            raise Problem("invalid_interval", "Please choose every one, two or four weeks.", 422)
        if every:
            self.repeat[instrument_id] = every
            self.since[instrument_id] = now.astimezone(UTC).isoformat()  # stored in UTC
        else:
            self.repeat.pop(instrument_id, None)
            self.since.pop(instrument_id, None)


@dataclass
class OwnPlan(Plan):
    """A person's own plan, with when each questionnaire was last answered and the
    crisis answer whose gentle check is still owed (its result id and time)."""

    last: dict[str, str] = field(default_factory=dict)
    follow_up: dict[str, Any] | None = None


@dataclass(frozen=True)
class Due:
    instrument_id: str
    since: datetime
    every: int
    asked_by: str


def next_turn(every: int, since: datetime, last: datetime | None, now: datetime) -> datetime:
    """When the questionnaire is (or was last) due: its interval after it was last
    answered, never before it was asked for; a turn missed for longer than DUE_FOR
    moves on to the next."""
    turn = max(last + timedelta(days=every), since) if last else since
    while now >= turn + DUE_FOR:
        turn += timedelta(days=every)
    return turn


def asks(own: OwnPlan, couple: Plan) -> dict[str, tuple[int, datetime, str]]:
    """Each repeating questionnaire: every how many days, since when, and who asked.
    Where both asked, the more frequent wins."""
    found: dict[str, tuple[int, datetime, str]] = {}
    for plan, who in ((couple, THERAPIST), (own, YOU)):
        for instrument_id, every in plan.repeat.items():
            if instrument_id not in found or every < found[instrument_id][0]:
                since = datetime.fromisoformat(plan.since[instrument_id])
                found[instrument_id] = (every, since, who)
    return found


def due(own: OwnPlan, couple: Plan, now: datetime) -> list[Due]:
    """The questionnaires due now, in the order they became due."""
    found = []
    for instrument_id, (every, since, who) in asks(own, couple).items():
        last = own.last.get(instrument_id)
        turn = next_turn(every, since, datetime.fromisoformat(last) if last else None, now)
        if turn <= now:
            found.append(Due(instrument_id, turn, every, who))
    return sorted(found, key=lambda d: (d.since, d.instrument_id))


def upcoming(own: OwnPlan, couple: Plan, now: datetime, until: datetime) -> list[Due]:
    """Turns still to come, from now until ``until`` (for the reminder file)."""
    found = []
    for instrument_id, (every, since, who) in asks(own, couple).items():
        last = own.last.get(instrument_id)
        turn = next_turn(every, since, datetime.fromisoformat(last) if last else None, now)
        while turn < until:
            if turn > now:
                found.append(Due(instrument_id, turn, every, who))
            turn += timedelta(days=every)
    return sorted(found, key=lambda d: (d.since, d.instrument_id))


# --- stored -------------------------------------------------------------------------


def _own_context(person_id: int) -> str:
    return entry_context("questionnaire_plan", person_id, person_id)


def _couple_context(couple_id: int) -> str:
    return f"couple-questionnaire-plan:{couple_id}"


def _sealed(key: bytes, content: dict[str, Any], context: str) -> bytes:
    return keys.seal(key, keys.padded(json.dumps(content).encode()), context)


def own(db: Session, signed_in: SignedIn) -> OwnPlan:
    row = db.get(QuestionnairePlan, signed_in.person.id)
    if row is None:
        return OwnPlan()
    return OwnPlan(**_opened(signed_in.data_key, row.sealed, _own_context(row.person_id)))


def save_own(db: Session, signed_in: SignedIn, plan: OwnPlan) -> None:
    person_id = signed_in.person.id
    sealed = _sealed(signed_in.data_key, vars(plan), _own_context(person_id))
    db.merge(QuestionnairePlan(person_id=person_id, sealed=sealed))  # new, or in place
    db.flush()


def couple_plan(db: Session, couple_id: int, couple_key: bytes) -> Plan:
    row = db.get(CoupleQuestionnairePlan, couple_id)
    if row is None:
        return Plan()
    return Plan(**_opened(couple_key, row.sealed, _couple_context(couple_id)))


def save_couple_plan(db: Session, couple_id: int, couple_key: bytes, plan: Plan) -> None:
    sealed = _sealed(couple_key, vars(plan), _couple_context(couple_id))
    db.merge(CoupleQuestionnairePlan(couple_id=couple_id, sealed=sealed))
    db.flush()


@dataclass(frozen=True)
class Plans:
    """Both plans as a person reads them."""

    own: OwnPlan
    couple: Plan

    def due(self, now: datetime) -> list[Due]:
        return due(self.own, self.couple, now)


def for_person(db: Session, signed_in: SignedIn) -> Plans:
    """Both plans, read in one statement (every Today page asks): the person's own, and
    their couple's when they are in one whose shared items they can open."""
    person_id = signed_in.person.id
    membership = access.membership_of(db, signed_in.person)
    couple_id = membership.couple_id if membership and membership.couple_key_wrap else None
    asked = {"person_id": person_id, "couple_id": couple_id}
    sealed = dict(plain_rows(db, _BOTH_PLANS, asked))
    own_plan = OwnPlan()
    if "own" in sealed:
        own_plan = OwnPlan(**_opened(signed_in.data_key, sealed["own"], _own_context(person_id)))
    couple = Plan()
    if membership is not None and couple_id is not None and "couple" in sealed:
        key = opened_couple_key(db, membership, signed_in.data_key)
        couple = Plan(**_opened(key, sealed["couple"], _couple_context(couple_id)))
    return Plans(own_plan, couple)


_BOTH_PLANS = union_all(
    select(literal("own"), QuestionnairePlan.sealed).where(
        QuestionnairePlan.person_id == bindparam("person_id")
    ),
    select(literal("couple"), CoupleQuestionnairePlan.sealed).where(
        CoupleQuestionnairePlan.couple_id == bindparam("couple_id")
    ),
)


def _opened(key: bytes, sealed: bytes, context: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(keys.unseal(key, sealed, context))
    return data
