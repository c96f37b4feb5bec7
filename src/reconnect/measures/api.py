"""JSON API for validated questionnaires."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from reconnect.accounts.signed_in import SignedIn
from reconnect.domain.measures.definitions import Instrument
from reconnect.domain.measures.scoring import Change
from reconnect.measures import plans
from reconnect.measures import store as measures
from reconnect.models import Person
from reconnect.safety.api import ResourceOut
from reconnect.web.deps import ApiSession, Db, LocalDateTime, Now, RowId, State, api_router
from reconnect.web.schemas import Strict

router = api_router("questionnaires")
InstrumentId = Annotated[str, Path(max_length=40, pattern=r"^[a-z0-9-]+$")]


class OptionOut(BaseModel):
    value: int
    label: str


class ItemOut(BaseModel):
    id: str
    text: str
    options: list[OptionOut]


class InstrumentOut(BaseModel):
    id: str
    title: str
    instructions: str
    reported_as: str
    notes: list[str]
    items: list[ItemOut]


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: dict[Annotated[str, Field(max_length=40)], int] = Field(max_length=100)


class ChangeOut(BaseModel):
    difference: float
    rci: float | None
    reliable: bool
    direction: str


class TakenOut(BaseModel):
    id: int
    instrument_id: str
    taken_at: LocalDateTime
    total: float | None
    subscales: dict[str, float]
    band: str | None = Field(description="Symptom level in words; never a diagnosis.")
    crisis: bool
    resources: list[ResourceOut] = Field(
        description="Crisis contacts, filled at once when an answer calls for them."
    )
    change: ChangeOut | None = Field(description="Reliable change since the previous time.")
    subscale_changes: dict[str, ChangeOut] = Field(
        default_factory=dict,
        description="Reliable change since the previous time on each subscale whose "
        "definition gives the figures for it, by subscale id.",
    )
    can_tell_therapist: bool = Field(
        False,
        description="After a crisis answer: whether a therapist who sees the couple now can "
        "be told (POST .../results/{id}/tell-therapist). Nothing is told unless asked.",
    )


class ToldOut(BaseModel):
    told: bool


class FollowUpOut(BaseModel):
    id: int = Field(description="The result the check is about.")
    taken_at: LocalDateTime


class FollowUpDue(BaseModel):
    due: FollowUpOut | None = Field(
        description="A gentle check after a crisis answer on an earlier day, offered once."
    )


class FollowUpIn(Strict):
    how: Literal["better", "same", "worse", "not_now"]


class FollowUpAnswered(BaseModel):
    resources: list[ResourceOut] = Field(description='Crisis contacts, filled after "worse".')


def instrument_out(instrument: Instrument) -> InstrumentOut:
    return InstrumentOut(
        id=instrument.id,
        title=instrument.title,
        instructions=instrument.instructions,
        reported_as=instrument.reported_as,
        notes=list(instrument.notes),
        items=[
            ItemOut(
                id=item.id,
                text=item.text,
                options=[OptionOut(value=o.value, label=o.label) for o in item.options],
            )
            for item in instrument.items
        ],
    )


def change_out(change: Change) -> ChangeOut:
    return ChangeOut(
        difference=change.difference,
        rci=change.rci,
        reliable=change.reliable,
        direction=change.direction.value,
    )


def taken_out(instrument: Instrument, taken: measures.Taken, person: Person) -> TakenOut:
    result, change = taken.score, taken.change
    return TakenOut(
        id=taken.id,
        instrument_id=instrument.id,
        taken_at=taken.taken_at,
        total=result.total,
        subscales=dict(result.subscales),
        band=result.band.label if result.band else None,
        crisis=result.crisis,
        resources=ResourceOut.listed(person) if result.crisis else [],
        change=change_out(change) if change else None,
        subscale_changes={k: change_out(c) for k, c in taken.subscale_changes.items()},
    )


@router.get("/questionnaires", response_model=list[InstrumentOut])
def list_questionnaires(session: ApiSession, state: State) -> list[InstrumentOut]:
    found = measures.instruments(state.settings.instruments_dir)
    return [instrument_out(i) for i in found.values()]


@router.post("/questionnaires/{instrument_id}", status_code=201, response_model=TakenOut)
def take_questionnaire(
    instrument_id: InstrumentId, body: AnswersIn, session: ApiSession, db: Db, state: State, at: Now
) -> TakenOut:
    """Answer a questionnaire. Private: answers and score are sealed under your key."""
    instrument = measures.get_instrument(instrument_id, state.settings.instruments_dir)
    taken = measures.take(
        db, signed_in=session, instrument=instrument, answers=body.answers, now=at
    )
    db.commit()
    out = taken_out(instrument, taken, session.person)
    out.can_tell_therapist = measures.can_tell_therapist(db, signed_in=session, taken=taken)
    return out


@router.get("/questionnaires/{instrument_id}/history", response_model=list[TakenOut])
def questionnaire_history(
    instrument_id: InstrumentId, session: ApiSession, db: Db, state: State
) -> list[TakenOut]:
    instrument = measures.get_instrument(instrument_id, state.settings.instruments_dir)
    return [
        taken_out(instrument, t, session.person)
        for t in measures.history(db, signed_in=session, instrument=instrument)
    ]


@router.post("/questionnaires/results/{result_id}/tell-therapist", response_model=ToldOut)
def tell_therapist(result_id: RowId, session: ApiSession, db: Db) -> ToldOut:
    """After a crisis answer, by the person's own choice: their therapist sees that the
    result held one (never the answers). The partner is never told."""
    measures.tell_therapist(db, signed_in=session, result_id=result_id)
    db.commit()
    return ToldOut(told=True)


@router.get("/questionnaires/follow-up", response_model=FollowUpDue)
def follow_up_due(session: ApiSession, db: Db, at: Now) -> FollowUpDue:
    due = measures.owed(db, signed_in=session, now=at).follow_up
    return FollowUpDue(due=FollowUpOut(id=due.id, taken_at=due.taken_at) if due else None)


@router.post("/questionnaires/results/{result_id}/follow-up", response_model=FollowUpAnswered)
def answer_follow_up(
    result_id: RowId, body: FollowUpIn, session: ApiSession, db: Db
) -> FollowUpAnswered:
    """Answer, or set aside, the gentle check; either way it is not offered again."""
    measures.answer_follow_up(db, signed_in=session, result_id=result_id, how=body.how)
    db.commit()
    worse = body.how == "worse"
    return FollowUpAnswered(resources=ResourceOut.listed(session.person) if worse else [])


# --- questionnaires that repeat ------------------------------------------------------


class RepeatOut(BaseModel):
    instrument_id: str
    every_days: int = Field(description="7, 14 or 28.")
    asked_by: str = Field(description='"you", or "your therapist" (for both partners).')


class DueOut(BaseModel):
    instrument_id: str
    since: LocalDateTime = Field(description="When it became due; it shows for three days.")
    asked_by: str


class PlanOut(BaseModel):
    repeats: list[RepeatOut]
    due: list[DueOut]


class RepeatIn(Strict):
    instrument_id: str = Field(max_length=40, pattern=r"^[a-z0-9-]+$")
    every_days: Literal[0, 7, 14, 28] = Field(description="Every how many days; 0 stops it.")


def plan_out(db: Db, session: SignedIn, at: datetime, operator_dir: str) -> PlanOut:
    both = plans.for_person(db, session)
    return PlanOut(
        repeats=[
            RepeatOut(instrument_id=i, every_days=every, asked_by=who)
            for i, (every, _, who) in sorted(plans.asks(both.own, both.couple).items())
        ],
        due=[
            DueOut(instrument_id=d.instrument_id, since=d.since, asked_by=d.asked_by)
            for d in measures.owed(db, signed_in=session, now=at, operator_dir=operator_dir).due
        ],
    )


@router.get("/questionnaire-plan", response_model=PlanOut)
def my_plan(session: ApiSession, db: Db, at: Now, state: State) -> PlanOut:
    """The questionnaires that repeat for you (your own choice, or your therapist's for
    both of you), and those due now."""
    return plan_out(db, session, at, state.settings.instruments_dir)


@router.post("/questionnaire-plan", response_model=PlanOut)
def repeat_questionnaire(
    body: RepeatIn, session: ApiSession, db: Db, at: Now, state: State
) -> PlanOut:
    """Repeat a questionnaire for yourself, privately: every one, two or four weeks."""
    measures.get_instrument(body.instrument_id, state.settings.instruments_dir)
    own = plans.own(db, session)
    own.set(body.instrument_id, body.every_days, at)
    plans.save_own(db, session, own)
    db.commit()
    return plan_out(db, session, at, state.settings.instruments_dir)
