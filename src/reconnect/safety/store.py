"""The private safety screen: its outcome, sealed under the person's own key.

The outcome (never the answers) is sealed: a stolen database file must not tell
anyone, the partner first, that a screen was positive. Only the person's own requests
read it, and they always carry the key; the partner's requests never ask whether joint
features are on for the other (access checks the asker alone), so nothing about it
needs to stay readable while the person is signed out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from reconnect import keys
from reconnect.database import keep
from reconnect.domain.safety import (
    IncompleteScreen,
    Resource,
    ask_again,
    crisis_resources,
    needs_support,
)
from reconnect.errors import Problem
from reconnect.localtime import country_of
from reconnect.models import Person, SafetyScreen


def screen_context(person_id: int) -> str:
    return f"entry:safety_screen:{person_id}:person:{person_id}"


@dataclass(frozen=True)
class ScreenOutcome:
    needs_support: bool
    answered_at: datetime
    continued_at: datetime | None
    # When the person last put off the offer to answer again ("Not now").
    put_off_at: datetime | None = None

    @property
    def opens_joint_features(self) -> bool:
        return not self.needs_support or self.continued_at is not None


def _seal_outcome(screen: SafetyScreen, data_key: bytes, outcome: ScreenOutcome) -> None:
    content = {
        "needs_support": outcome.needs_support,
        "answered_at": outcome.answered_at.isoformat(),
        "continued_at": outcome.continued_at.isoformat() if outcome.continued_at else None,
        "put_off_at": outcome.put_off_at.isoformat() if outcome.put_off_at else None,
    }
    # Padded, so the sealed length never tells which fields are filled.
    screen.sealed = keys.seal(
        data_key, keys.padded(json.dumps(content).encode()), screen_context(screen.person_id)
    )


def screen_outcome(db: Session, person: Person, data_key: bytes) -> ScreenOutcome | None:
    """The person's own screen outcome, opened with their key; None if not answered."""
    screen = db.get(SafetyScreen, person.id)
    if screen is None:
        return None
    # Pages ask several times per request: the row is kept for the request.
    keep(db, screen)
    content = json.loads(keys.unseal(data_key, screen.sealed, screen_context(person.id)))
    continued, put_off = content["continued_at"], content.get("put_off_at")
    return ScreenOutcome(
        needs_support=content["needs_support"],
        answered_at=datetime.fromisoformat(content["answered_at"]),
        continued_at=datetime.fromisoformat(continued) if continued else None,
        put_off_at=datetime.fromisoformat(put_off) if put_off else None,
    )


def joint_features_on(db: Session, person: Person, data_key: bytes) -> bool:
    """True once the person answered the screen with no concern, or chose to go on."""
    outcome = screen_outcome(db, person, data_key)
    return outcome is not None and outcome.opens_joint_features


def screen_answered(db: Session, person: Person) -> bool:
    return db.get(SafetyScreen, person.id) is not None


def record_screen(
    db: Session, *, person: Person, data_key: bytes, answers: Mapping[str, bool], now: datetime
) -> bool:
    """Store the outcome (never the answers), sealed; returns True when support is needed."""
    try:
        support = needs_support(answers)
    except IncompleteScreen as error:
        raise Problem("incomplete_screen", str(error), 422) from None
    screen = db.get(SafetyScreen, person.id) or SafetyScreen(person_id=person.id)
    _seal_outcome(screen, data_key, ScreenOutcome(support, now, None))
    db.add(screen)
    return support


def continue_to_joint_features(
    db: Session, *, person: Person, data_key: bytes, now: datetime
) -> None:
    """The person has read the support resources and chooses to go on with couple work."""
    outcome = screen_outcome(db, person, data_key)
    if outcome is None:
        raise Problem("safety_screen_needed", "Please answer the safety questions first.", 403)
    if outcome.needs_support and outcome.continued_at is None:
        _seal_outcome(
            db.get_one(SafetyScreen, person.id),
            data_key,
            ScreenOutcome(True, outcome.answered_at, now),
        )


def offered_again(db: Session, person: Person, data_key: bytes, now: datetime) -> bool:
    """Whether Today offers this person the screen again (see ``ask_again``)."""
    outcome = screen_outcome(db, person, data_key)
    return outcome is not None and ask_again(outcome.answered_at, outcome.put_off_at, now)


def put_off(db: Session, *, person: Person, data_key: bytes, now: datetime) -> None:
    """ "Not now": the offer to answer again rests for another few weeks."""
    outcome = screen_outcome(db, person, data_key)
    if outcome is None:
        raise Problem("safety_screen_needed", "Please answer the safety questions first.", 403)
    _seal_outcome(db.get_one(SafetyScreen, person.id), data_key, replace(outcome, put_off_at=now))


def require_joint_features(db: Session, person: Person, data_key: bytes) -> None:
    outcome = screen_outcome(db, person, data_key)
    if outcome is None:
        raise Problem(
            "safety_screen_needed",
            "Before couple features open, please answer a few private safety questions.",
            403,
        )
    if not outcome.opens_joint_features:
        raise Problem(
            "joint_features_off",
            "Couple features are switched off for you while you look after your own "
            "safety. You can switch them on whenever you choose.",
            403,
        )


def resources_for(person: Person | None) -> tuple[Resource, ...]:
    """Crisis contacts with those of the country the person's time zone is in first."""
    return crisis_resources(country_of(person.time_zone) if person is not None else None)
