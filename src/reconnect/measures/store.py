"""Validated questionnaires: taking one, keeping it sealed, and seeing change over time.

Shipped instruments (PHQ-9, GAD-7, PCL-5) are always available; an operator may add
definitions for instruments licensed to them through ``RECONNECT_INSTRUMENTS_DIR``.
A definition that does not load is reported by name and field, and the app starts
without it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reconnect import keys
from reconnect.accounts.signed_in import SignedIn
from reconnect.domain.measures.definition_files import load_operator_folder, load_shipped
from reconnect.domain.measures.definitions import Instrument
from reconnect.domain.measures.scoring import (
    Change,
    InvalidAnswers,
    NoReliableChangeData,
    Score,
    reliable_change,
    score,
)
from reconnect.errors import Problem
from reconnect.models import QuestionnaireResponse
from reconnect.sealing import entry_context
from reconnect.therapist import store as therapists

log = logging.getLogger("reconnect.measures.store")


@cache
def instruments(operator_dir: str = "") -> dict[str, Instrument]:
    """Shipped instruments plus any an operator supplied, by id."""
    found = {i.id: i for i in load_shipped()}
    if operator_dir:
        extra, problems = load_operator_folder(Path(operator_dir))
        for problem in problems:
            log.warning("questionnaire definition not loaded: %s", problem)
        found.update({i.id: i for i in extra})
    return found


def get_instrument(instrument_id: str, operator_dir: str = "") -> Instrument:
    found = instruments(operator_dir).get(instrument_id)
    if found is None:
        raise Problem("unknown_questionnaire", "There is no questionnaire with that name.", 404)
    return found


@dataclass(frozen=True)
class Taken:
    id: int
    taken_at: datetime
    score: Score
    change: Change | None


def context(row: QuestionnaireResponse) -> str:
    return entry_context("questionnaire_response", row.id, row.person_id)


def _score_data(result: Score) -> dict[str, Any]:
    return {
        "answers": dict(result.answers),
        "total": result.total,
        "subscales": dict(result.subscales),
        "band": result.band.label if result.band else None,
        "flags": list(result.flags),
        "version": result.instrument_version,
    }


def _score_of(instrument: Instrument, data: dict[str, Any]) -> Score:
    return score(instrument, data["answers"])


def opened(row: QuestionnaireResponse, data_key: bytes) -> dict[str, Any]:
    """One administration as stored, opened: which instrument, when, answers and scores.

    Which questionnaire and when are sealed with the answers; a row from before
    migration 0010 still has them in clear until its owner signs in (reseal.py)."""
    data: dict[str, Any] = json.loads(keys.unseal(data_key, row.sealed, context(row)))
    instrument = data.pop("instrument", row.instrument_id)
    taken_at = data.pop("taken_at", None) or (row.taken_at and row.taken_at.isoformat())
    return {"instrument": instrument, "taken_at": taken_at, **data}


def _all_opened(db: Session, signed_in: SignedIn) -> list[tuple[int, dict[str, Any]]]:
    """(row id, opened content) of every administration of this person, oldest first."""
    rows = db.scalars(
        select(QuestionnaireResponse).where(QuestionnaireResponse.person_id == signed_in.person.id)
    )
    found = [(row.id, opened(row, signed_in.data_key)) for row in rows]
    return sorted(found, key=lambda item: (datetime.fromisoformat(item[1]["taken_at"]), item[0]))


def history(db: Session, *, signed_in: SignedIn, instrument: Instrument) -> list[Taken]:
    """This person's administrations of ``instrument``, oldest first, each with the
    reliable change since the one before."""
    return histories(db, signed_in=signed_in, instruments={instrument.id: instrument}).get(
        instrument.id, []
    )


def histories(
    db: Session, *, signed_in: SignedIn, instruments: Mapping[str, Instrument]
) -> dict[str, list[Taken]]:
    """:func:`history` of every questionnaire in ``instruments`` this person answered,
    by id, from one reading of their results."""
    found: dict[str, list[Taken]] = {}
    for row_id, data in _all_opened(db, signed_in):
        instrument = instruments.get(data["instrument"])
        if instrument is None:
            continue
        taken = found.setdefault(instrument.id, [])
        current = _score_of(instrument, data)
        previous = taken[-1].score if taken else None
        when = datetime.fromisoformat(data["taken_at"])
        taken.append(Taken(row_id, when, current, _change(instrument, previous, current)))
    return found


def own_results(db: Session, *, signed_in: SignedIn) -> list[dict[str, Any]]:
    """Every questionnaire this person answered, oldest first, as stored: the answers,
    the scores and the definition's version (for the export)."""
    return [data for _, data in _all_opened(db, signed_in)]


def _change(instrument: Instrument, before: Score | None, after: Score) -> Change | None:
    if before is None or after.total is None:
        return None
    try:
        return reliable_change(instrument, before, after)
    except NoReliableChangeData:
        return None


def take(
    db: Session,
    *,
    signed_in: SignedIn,
    instrument: Instrument,
    answers: dict[str, int],
    now: datetime,
) -> Taken:
    """Score and store one administration, sealed under the person's key."""
    try:
        result = score(instrument, answers)
    except InvalidAnswers as error:
        raise Problem("invalid_answers", str(error), 422) from None
    before = history(db, signed_in=signed_in, instrument=instrument)
    # Which questionnaire and when are private too: sealed with the answers.
    row = QuestionnaireResponse(person_id=signed_in.person.id, sealed=b"")
    db.add(row)
    db.flush()
    content = {
        "instrument": instrument.id,
        "taken_at": now.astimezone(UTC).isoformat(),
        **_score_data(result),
    }
    row.sealed = keys.seal(signed_in.data_key, json.dumps(content).encode(), context(row))
    db.flush()
    # A crisis answer is not logged: a log line beside the access log's would say who.
    # With this person's consent, the result (never the answers) goes to their
    # therapist, sealed for the therapist alone; a crisis answer is part of it.
    change = _change(instrument, before[-1].score if before else None, result)
    therapists.share_with_therapist(
        db,
        signed_in=signed_in,
        content={
            "instrument": instrument.id,
            "title": instrument.title,
            "total": result.total,
            "highest": instrument.total_range.high if instrument.total_range else None,
            "band": result.band.label if result.band else None,
            "change": change.direction.value if change else None,
            "crisis": result.crisis,
        },
        now=now,
    )
    return Taken(row.id, now, result, change)
