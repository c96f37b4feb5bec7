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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from reconnect import keys, localtime
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
from reconnect.measures import plans
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
    # Whether this administration went to a therapist (known when it was just taken).
    shared: bool = False
    # Reliable change on each subscale whose definition gives the figures for it.
    subscale_changes: Mapping[str, Change] = field(default_factory=dict)


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


# Built once: the progress page reads them on every visit.
_OWN_RESPONSES = select(QuestionnaireResponse).where(
    QuestionnaireResponse.person_id == bindparam("person_id")
)


def _all_opened(db: Session, signed_in: SignedIn) -> list[tuple[int, dict[str, Any]]]:
    """(row id, opened content) of every administration of this person, oldest first."""
    rows = db.scalars(_OWN_RESPONSES, {"person_id": signed_in.person.id})
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
        taken.append(
            Taken(
                row_id,
                when,
                current,
                _change(instrument, previous, current),
                subscale_changes=_subscale_changes(instrument, previous, current),
            )
        )
    return found


def own_results(db: Session, *, signed_in: SignedIn) -> list[dict[str, Any]]:
    """Every questionnaire this person answered, oldest first, as stored: the answers,
    the scores and the definition's version (for the export)."""
    return [
        {key: value for key, value in data.items() if key != _SHARE}
        for _, data in _all_opened(db, signed_in)
    ]


def _change(instrument: Instrument, before: Score | None, after: Score) -> Change | None:
    if before is None or after.total is None:
        return None
    try:
        return reliable_change(instrument, before, after)
    except NoReliableChangeData:
        return None


def _subscale_changes(
    instrument: Instrument, before: Score | None, after: Score
) -> dict[str, Change]:
    """Reliable change on each subscale that has the figures for it, by subscale id."""
    if before is None:
        return {}
    return {
        sub.id: reliable_change(instrument, before, after, sub.id)
        for sub in instrument.subscales
        if sub.reliable_change is not None
        and sub.id in before.subscales
        and sub.id in after.subscales
    }


def _shared_subscales(
    instrument: Instrument, result: Score, changes: Mapping[str, Change]
) -> dict[str, dict[str, Any]]:
    """What a therapist receives of each subscale: its name, score and reliable change."""
    return {
        sub.id: {
            "title": sub.title,
            "score": result.subscales[sub.id],
            "highest": sub.range.high,
            "change": changes[sub.id].direction.value if sub.id in changes else None,
        }
        for sub in instrument.subscales
        if sub.id in result.subscales
    }


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
    previous = before[-1].score if before else None
    change = _change(instrument, previous, result)
    subscale_changes = _subscale_changes(instrument, previous, result)
    # With this person's consent, the result (never the answers) goes to their
    # therapist, sealed for the therapist alone. A crisis answer is not part of it
    # unless the person chooses to tell them (tell_therapist); nor is it logged: a log
    # line beside the access log's would say whose it was.
    shared = {
        "instrument": instrument.id,
        "title": instrument.title,
        "total": result.total,
        "highest": instrument.total_range.high if instrument.total_range else None,
        "band": result.band.label if result.band else None,
        "change": change.direction.value if change else None,
        "subscales": _shared_subscales(instrument, result, subscale_changes),
        "crisis": False,
    }
    share_id = therapists.share_with_therapist(db, signed_in=signed_in, content=shared, now=now)
    # Which questionnaire and when are private too: sealed with the answers.
    row = QuestionnaireResponse(person_id=signed_in.person.id, sealed=b"")
    db.add(row)
    db.flush()
    content = {
        "instrument": instrument.id,
        "taken_at": now.astimezone(UTC).isoformat(),
        **_score_data(result),
        "told_therapist": False,
        _SHARE: {"id": share_id, "content": shared} if share_id is not None else None,
    }
    _seal(db, row, signed_in, content)
    # The plan keeps when each was last answered, and the check owed after a crisis.
    plan = plans.own(db, signed_in)
    plan.last[instrument.id] = now.astimezone(UTC).isoformat()
    if result.crisis:
        plan.follow_up = {"result": row.id, "taken_at": now.astimezone(UTC).isoformat()}
    plans.save_own(db, signed_in, plan)
    return Taken(
        row.id,
        now,
        result,
        change,
        shared=share_id is not None,
        subscale_changes=subscale_changes,
    )


# What was shared with the therapist, kept so that the person can later add to it.
_SHARE = "therapist_share"
# A gentle check is offered from the day after a crisis answer, for a week.
FOLLOW_UP_FOR = timedelta(days=7)
FOLLOW_UP_ANSWERS = ("better", "same", "worse", "not_now")


def _seal(
    db: Session, row: QuestionnaireResponse, signed_in: SignedIn, content: Mapping[str, Any]
) -> None:
    plain = keys.padded(json.dumps(content).encode())
    row.sealed = keys.seal(signed_in.data_key, plain, context(row))
    db.flush()


def _own(
    db: Session, signed_in: SignedIn, result_id: int
) -> tuple[QuestionnaireResponse, dict[str, Any]]:
    """One of this person's own results, opened; 404 for anyone else's."""
    row = _row(db, signed_in, result_id)
    return row, opened(row, signed_in.data_key)


def _row(db: Session, signed_in: SignedIn, result_id: int) -> QuestionnaireResponse:
    row = db.get(QuestionnaireResponse, result_id)
    if row is None or row.person_id != signed_in.person.id:
        raise Problem("unknown_result", "There is no result of yours with that number.", 404)
    return row


def tell_therapist(db: Session, *, signed_in: SignedIn, result_id: int) -> None:
    """The person chooses that their therapist knows of a crisis answer.

    The therapist sees that the result held an answer that opened crisis support, and
    nothing more (never the answers). The partner is never told. Telling twice is
    the same as telling once.
    """
    row, data = _own(db, signed_in, result_id)
    if "crisis" not in data.get("flags", ()):
        raise Problem("nothing_to_tell", "This result holds no answer to tell about.", 409)
    share = data.get(_SHARE)
    told = share is not None and therapists.replace_share(
        db, signed_in=signed_in, share_id=share["id"], content={**share["content"], "crisis": True}
    )
    if not told:
        raise Problem(
            "no_therapist",
            "No therapist can see your results right now, so nothing was sent. "
            "The contacts on this page are there for you at any time.",
            409,
        )
    data["told_therapist"] = True
    _seal(db, row, signed_in, data)


def can_tell_therapist(db: Session, *, signed_in: SignedIn, taken: Taken) -> bool:
    """Whether a crisis result just taken could be told to a therapist who sees the
    couple now (it went to them, without the crisis answer)."""
    return taken.score.crisis and taken.shared and therapists.therapist_sees(db, signed_in)


@dataclass(frozen=True)
class FollowUp:
    """A crisis answer from an earlier day whose gentle check is still open."""

    id: int
    taken_at: datetime


def follow_up_due(plan: plans.OwnPlan, zone: str, now: datetime) -> FollowUp | None:
    """The latest crisis answer, if its gentle check is still owed and due: from the
    next day in the person's own time zone, for a week."""
    if plan.follow_up is None:
        return None
    taken_at = datetime.fromisoformat(plan.follow_up["taken_at"])
    tz = localtime.zone(zone)
    if now - taken_at > FOLLOW_UP_FOR or localtime.local_day(now, tz) <= localtime.local_day(
        taken_at, tz
    ):
        return None
    return FollowUp(int(plan.follow_up["result"]), taken_at)


def answer_follow_up(db: Session, *, signed_in: SignedIn, result_id: int, how: str) -> None:
    """Close the gentle check, whatever the answer: it is offered once, never again."""
    if how not in FOLLOW_UP_ANSWERS:
        raise Problem("invalid_answer", "Please choose one of the answers.", 422)
    _row(db, signed_in, result_id)  # 404 unless the result is this person's
    plan = plans.own(db, signed_in)
    if plan.follow_up is not None and plan.follow_up["result"] == result_id:
        plan.follow_up = None
        plans.save_own(db, signed_in, plan)


@dataclass(frozen=True)
class Owed:
    """What a person's questionnaires ask of them now: those due, and the gentle check
    after a crisis answer."""

    due: list[plans.Due]
    follow_up: FollowUp | None


def owed(db: Session, *, signed_in: SignedIn, now: datetime, operator_dir: str = "") -> Owed:
    both = plans.for_person(db, signed_in)
    known = instruments(operator_dir)
    return Owed(
        [d for d in both.due(now) if d.instrument_id in known],
        follow_up_due(both.own, signed_in.person.time_zone, now),
    )
