"""Sealing, at a person's sign-in, what versions before migration 0010 kept in clear.

A migration holds nobody's key, so rows written before it keep a few private facts
readable (which questionnaire and when, an untold trigger's time) until their owner's
key is at hand: the first time they sign in, those facts move into the row's sealed
content and the clear columns become null. Heart-rate imports get their sealed span
(the migration could drop theirs: it is read from the samples meanwhile). The old
values are overwritten in the file itself, since the database securely deletes.
"""

from __future__ import annotations

import json

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reconnect import keys
from reconnect.heart import store as heart
from reconnect.measures import store as measures
from reconnect.models import HeartRateImport, Person, QuestionnaireResponse, Trigger
from reconnect.moments import store as moments


def seal_what_was_clear(db: Session, person: Person, data_key: bytes) -> None:
    for taken in db.scalars(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.person_id == person.id,
            or_(
                QuestionnaireResponse.instrument_id.is_not(None),
                QuestionnaireResponse.taken_at.is_not(None),
            ),
        )
    ):
        content = measures.opened(taken, data_key)
        taken.sealed = keys.seal(data_key, json.dumps(content).encode(), measures.context(taken))
        taken.instrument_id = taken.taken_at = None

    for trigger in db.scalars(
        select(Trigger).where(
            Trigger.person_id == person.id,
            Trigger.told_sealed.is_(None),
            Trigger.at.is_not(None),
        )
    ):
        opened = moments.own_trigger(trigger, data_key)
        content = {"what": opened["what"], "strength": opened["strength"]}
        moments.seal_own_trigger(trigger, data_key, content, opened["at"])
        trigger.at = None

    for row in db.scalars(
        select(HeartRateImport).where(
            HeartRateImport.person_id == person.id, HeartRateImport.span_sealed.is_(None)
        )
    ):
        heart.seal_span(row, data_key, *heart.span(row, data_key))
    db.flush()
