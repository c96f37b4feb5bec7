"""Sealing, at a person's sign-in, what older versions kept in clear or sealed unpadded.

A migration holds nobody's key, so rows written before it keep a few private facts
readable (which questionnaire and when, an untold trigger's time) until their owner's
key is at hand: the first time they sign in, those facts move into the row's sealed
content and the clear columns become null. Heart-rate imports get their sealed span
(the migration could drop theirs: it is read from the samples meanwhile). The old
values are overwritten in the file itself, since the database securely deletes.

Older versions also sealed a safety screen's outcome and questionnaire results at their
own length, which told a positive screen from a negative one, and a result with a
crisis answer from one without, to anyone holding the file. At sign-in they are sealed
again, padded (``keys.padded``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from reconnect import keys
from reconnect.database import plain_value
from reconnect.heart import store as heart
from reconnect.measures import store as measures
from reconnect.models import (
    HeartRateImport,
    Person,
    QuestionnaireResponse,
    SafetyScreen,
    Trigger,
)
from reconnect.moments import store as moments
from reconnect.safety import store as safety


def _unpadded(column: Any) -> ColumnElement[bool]:
    return (func.length(column) - keys.NONCE_BYTES - keys.TAG_BYTES) % keys.PAD_BLOCK != 0


_OWNER: BindParameter[int] = bindparam("person_id")
_CLEAR_RESPONSES = select(QuestionnaireResponse).where(
    QuestionnaireResponse.person_id == _OWNER,
    or_(
        QuestionnaireResponse.instrument_id.is_not(None),
        QuestionnaireResponse.taken_at.is_not(None),
    ),
)
_CLEAR_TRIGGERS = select(Trigger).where(
    Trigger.person_id == _OWNER, Trigger.told_sealed.is_(None), Trigger.at.is_not(None)
)
_IMPORTS_WITHOUT_SPAN = select(HeartRateImport).where(
    HeartRateImport.person_id == _OWNER, HeartRateImport.span_sealed.is_(None)
)
_UNPADDED_SCREEN = select(SafetyScreen).where(
    SafetyScreen.person_id == _OWNER, _unpadded(SafetyScreen.sealed)
)
_UNPADDED_RESPONSES = select(QuestionnaireResponse).where(
    QuestionnaireResponse.person_id == _OWNER, _unpadded(QuestionnaireResponse.sealed)
)
# Whether any of the above has a row: for everyone but a person's first sign-in after
# an upgrade, the answer is no, and one question instead of five is the whole cost.
_ANY = select(
    or_(
        *(
            exists(query.with_only_columns(1))
            for query in (
                _CLEAR_RESPONSES,
                _CLEAR_TRIGGERS,
                _IMPORTS_WITHOUT_SPAN,
                _UNPADDED_SCREEN,
                _UNPADDED_RESPONSES,
            )
        )
    )
)


def seal_what_was_clear(db: Session, person: Person, data_key: bytes) -> None:
    owner = {"person_id": person.id}
    if not plain_value(db, _ANY, owner):
        return
    for taken in db.scalars(_CLEAR_RESPONSES, owner):
        content = measures.opened(taken, data_key)
        taken.sealed = keys.seal(data_key, json.dumps(content).encode(), measures.context(taken))
        taken.instrument_id = taken.taken_at = None

    for trigger in db.scalars(_CLEAR_TRIGGERS, owner):
        opened = moments.own_trigger(trigger, data_key)
        content = {"what": opened["what"], "strength": opened["strength"]}
        moments.seal_own_trigger(trigger, data_key, content, opened["at"])
        trigger.at = None

    for row in db.scalars(_IMPORTS_WITHOUT_SPAN, owner):
        heart.seal_span(row, data_key, *heart.span(row, data_key))
    _pad(db, person, data_key)
    db.flush()


def _pad(db: Session, person: Person, data_key: bytes) -> None:
    owner = {"person_id": person.id}
    screen = db.scalar(_UNPADDED_SCREEN, owner)
    if screen is not None:
        context = safety.screen_context(person.id)
        plain = keys.padded(keys.unseal(data_key, screen.sealed, context))
        screen.sealed = keys.seal(data_key, plain, context)
    for taken in db.scalars(_UNPADDED_RESPONSES, owner):
        content = json.dumps(measures.opened(taken, data_key)).encode()
        taken.sealed = keys.seal(data_key, keys.padded(content), measures.context(taken))
