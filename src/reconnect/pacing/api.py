"""JSON API for check-ins, experiences, the couple's pace, pause and the practices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy.orm import Session

from reconnect import access
from reconnect.accounts.signed_in import SignedIn
from reconnect.after_write import look_again
from reconnect.dates import store as dates
from reconnect.domain.pacing.catalogue import Practice
from reconnect.domain.pacing.checkins import (
    BODY_SIGNAL_MAX_CHARS,
    BODY_SIGNAL_MAX_COUNT,
    NOTE_MAX_CHARS,
    SCALE_MAX,
    Driver,
    State,
)
from reconnect.domain.pacing.engine import can_resume
from reconnect.domain.pacing.experiences import (
    PRACTICE_ID_MAX_CHARS,
    QUALITY_MAX,
    StartedBy,
    Staying,
)
from reconnect.domain.pacing.history import Decision
from reconnect.domain.pacing.policy import BREAK_MINUTES_MAX, BREAK_MINUTES_MIN
from reconnect.models import CheckInEntry
from reconnect.pacing import store as pace
from reconnect.web.deps import (
    MAX_ID,
    ApiDateTime,
    ApiPerson,
    ApiSession,
    Db,
    LocalDateTime,
    Now,
    api_router,
    quick_read,
    quick_write,
)

router = api_router("pace")

Scale = Annotated[int, Field(ge=0, le=SCALE_MAX)]
Quality = Annotated[int, Field(ge=0, le=QUALITY_MAX)]
Note = Annotated[str, Field(max_length=NOTE_MAX_CHARS)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckInIn(Strict):
    activation: Scale = Field(description=f"How activated or distressed, 0 (calm) to {SCALE_MAX}.")
    state: State
    safety: Scale = Field(description=f"How safe you feel with your partner, 0 to {SCALE_MAX}.")
    urgency: Scale = Field(description=f"How strong the pull to reconnect is, 0 to {SCALE_MAX}.")
    readiness: Scale = Field(description=f"How ready for closeness you feel, 0 to {SCALE_MAX}.")
    drivers: list[Driver] = Field(default_factory=list, max_length=len(Driver))
    body_signals: list[Annotated[str, Field(max_length=BODY_SIGNAL_MAX_CHARS)]] = Field(
        default_factory=list,
        max_length=BODY_SIGNAL_MAX_COUNT,
        description="What you notice in your body, in your own short words.",
    )
    note: Note = ""
    recorded_at: ApiDateTime | None = Field(
        default=None, description="When it was true; defaults to now; never in the future."
    )


class CheckInOut(BaseModel):
    id: int
    recorded_at: LocalDateTime
    activation: int
    state: State
    safety: int
    urgency: int
    readiness: int
    drivers: list[Driver]
    body_signals: list[str]
    note: str


class ExperienceIn(Strict):
    practice_id: Annotated[str, Field(max_length=PRACTICE_ID_MAX_CHARS)] | None = Field(
        default=None, description="The practice done; not needed when adding to experience_id."
    )
    experience_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        default=None, description="Add your reflection to an experience your partner logged."
    )
    occurred_at: ApiDateTime | None = Field(
        default=None, description="The same as started_at, kept for older clients."
    )
    started_at: ApiDateTime | None = Field(
        default=None,
        description="When the practice started. Without it: its time box before it ended.",
    )
    ended_at: ApiDateTime | None = Field(
        default=None,
        description="When the practice ended: after it started, at most a day later, not in "
        "the future. Without it: now, or its time box after started_at. Your heart rate is "
        "judged over this window.",
    )
    started_by: StartedBy | None = Field(
        default=None,
        description="Who started this shared practice: you, your partner, or both of you "
        "(or not sure). Logging it is not starting it. Not asked for practices done alone.",
    )
    back_in_minutes: Annotated[int, Field(ge=BREAK_MINUTES_MIN, le=BREAK_MINUTES_MAX)] | None = (
        Field(
            default=None,
            description="If it overwhelmed you: in how many minutes you will be back (20 minutes "
            "to a day). Without it the break lasts the policy's default.",
        )
    )
    safety: Scale
    activation_before: Scale
    activation_after: Scale
    staying: Staying
    felt_pressured: StrictBool
    authenticity: Quality
    vulnerability: Quality
    transparency: Quality
    presence: Quality
    note: Note = ""


class ExperienceOut(BaseModel):
    id: int = Field(
        description="The shared experience; for a practice done alone, your own private "
        "reflection (see solo)."
    )
    solo: bool = Field(
        default=False,
        description="Done alone: private to you, never shown to your partner; only how you "
        "were afterwards reaches the pace.",
    )
    practice_id: str
    tier: int
    occurred_at: LocalDateTime
    ahead_of_pace: bool = Field(
        description="Logged above what fitted that day (the permitted_tier then): kept, "
        "never counted towards advancing."
    )
    joined: bool = Field(
        default=False,
        description="Your partner had logged this practice as started within three hours "
        "of yours: your log became your reflection on theirs (this experience).",
    )


class PracticeOut(BaseModel):
    id: str
    tier: int = Field(
        description="The step of the ladder it belongs to, 0 to 6. People read the step's "
        "name from the catalogue, never this number."
    )
    title: str
    leads: str
    minutes: int
    steps: list[str]
    stop_rule: str


class ReasonOut(BaseModel):
    rule: str
    message: str = Field(
        description="Plain words for the person; steps are named as the catalogue names them."
    )
    numbers: dict[str, int | float | str]


class PaceOut(BaseModel):
    permitted_tier: int = Field(
        description="What fits today: the highest step of the ladder today's pace allows, "
        "0 to 6. Show people the step's name, never the number."
    )
    practices: list[PracticeOut]
    reasons: list[ReasonOut] = Field(description="Only what this person may see.")
    break_until: LocalDateTime | None
    paused: bool
    can_resume: bool


def practice_out(practice: Practice) -> PracticeOut:
    return PracticeOut(
        id=practice.id,
        tier=practice.tier,
        title=practice.title,
        leads=practice.leads.value,
        minutes=practice.minutes,
        steps=list(practice.steps),
        stop_rule=practice.stop_rule,
    )


def pace_out(decision: Decision, session: SignedIn, db: Session, now: datetime) -> PaceOut:
    catalogue = pace.catalogue()
    person = session.person
    couple = access.get_couple_for_person(db, person=person, data_key=session.data_key)
    own = pace.reasons_for_person(db, person, session.data_key, couple, decision, now)
    return PaceOut(
        permitted_tier=decision.permitted_tier,
        practices=[practice_out(catalogue.get(p)) for p in decision.practices],
        reasons=[ReasonOut(rule=r.rule, message=r.message, numbers=dict(r.numbers)) for r in own],
        break_until=decision.break_until,
        paused=decision.paused,
        can_resume=can_resume(decision, str(person.id)),
    )


@router.post("/checkins", status_code=201, response_model=CheckInOut)
@quick_write
def create_checkin(body: CheckInIn, session: ApiSession, db: Db, at: Now) -> CheckInOut:
    key = session.data_key
    row = pace.record_checkin(db, person=session.person, key=key, fields=body.model_dump(), now=at)
    look_again(db, signed_in=session, now=at, shared=False)  # a check-in is private
    dates.hold_near(db, session, at)  # near a date they marked as hard, the pace holds
    db.commit()
    return checkin_out(row, key)


@router.get("/checkins", response_model=list[CheckInOut])
def list_checkins(
    session: ApiSession, db: Db, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[CheckInOut]:
    """Your own check-ins, newest first. Nobody else's are ever listed."""
    rows = pace.own_checkins(db, session.person, limit)
    return [checkin_out(row, session.data_key) for row in rows]


def checkin_out(row: CheckInEntry, key: bytes) -> CheckInOut:
    entry = pace.load_checkin(row, key)
    return CheckInOut(
        id=row.id,
        recorded_at=entry.recorded_at,
        activation=entry.activation,
        state=entry.state,
        safety=entry.safety,
        urgency=entry.urgency,
        readiness=entry.readiness,
        drivers=list(entry.drivers),
        body_signals=list(entry.body_signals),
        note=entry.note,
    )


@router.post("/experiences", status_code=201, response_model=ExperienceOut)
@quick_write
def create_experience(body: ExperienceIn, session: ApiSession, db: Db, at: Now) -> ExperienceOut:
    rating = body.model_dump(
        exclude={
            "practice_id",
            "experience_id",
            "occurred_at",
            "started_at",
            "ended_at",
            "started_by",
            "back_in_minutes",
        }
    )
    experience, row = pace.record_experience(
        db,
        person=session.person,
        key=session.data_key,
        practice_id=body.practice_id,
        experience_id=body.experience_id,
        occurred_at=body.started_at or body.occurred_at,
        ended_at=body.ended_at,
        rating=rating,
        now=at,
        started_by=body.started_by.value if body.started_by else None,
        back_in_minutes=body.back_in_minutes,
    )
    if experience is not None:  # a practice done alone changes no shared pattern
        # A newly logged shared practice is seen by both; a reflection on one is private,
        # also when it joined the same practice the partner had just logged.
        look_again(db, signed_in=session, now=at, shared=experience.created_by == session.person.id)
    db.commit()
    if experience is None:
        own = pace.load_rating(row, session.data_key)
        return ExperienceOut(
            id=row.id,
            solo=True,
            practice_id=own.practice_id,
            tier=own.tier,
            occurred_at=own.occurred_at,
            ahead_of_pace=False,
        )
    return ExperienceOut(
        id=experience.id,
        practice_id=experience.practice_id,
        tier=experience.tier,
        occurred_at=experience.occurred_at,
        ahead_of_pace=experience.ahead_of_pace,
        joined=pace.joined_partners_log(experience, session.person, body.experience_id),
    )


@router.get("/pace", response_model=PaceOut)
@quick_read
def get_pace(session: ApiSession, db: Db, at: Now) -> PaceOut:
    couple = access.get_couple_for_person(db, person=session.person, data_key=session.data_key)
    return pace_out(pace.current_pace(db, couple, at), session, db, at)


@router.post("/pause", response_model=PaceOut)
def pause(session: ApiSession, db: Db, at: Now) -> PaceOut:
    """Pause everything, at once, without giving a reason."""
    decision = pace.pause(db, person=session.person, key=session.data_key, now=at)
    db.commit()
    return pace_out(decision, session, db, at)


class LapseIn(Strict):
    together: StrictBool = Field(
        False,
        description="True when both partners know and record it as a couple; otherwise "
        "your partner reads only that the pace holds, not why.",
    )


@router.post("/lapses", response_model=PaceOut)
def record_lapse(body: LapseIn, session: ApiSession, db: Db, at: Now) -> PaceOut:
    """Something new came to light, or the affair partner made contact. The pace steps
    back and no new step opens for two weeks. What happened is never asked."""
    decision = pace.record_lapse(
        db, person=session.person, key=session.data_key, together=body.together, now=at
    )
    db.commit()
    return pace_out(decision, session, db, at)


@router.post("/resume", response_model=PaceOut)
def resume(session: ApiSession, db: Db, at: Now) -> PaceOut:
    """Lift your own pause. Only the person who paused can."""
    decision = pace.resume(db, person=session.person, key=session.data_key, now=at)
    db.commit()
    return pace_out(decision, session, db, at)


@router.get("/practices", response_model=list[PracticeOut])
def list_practices(person: ApiPerson) -> list[PracticeOut]:
    return [practice_out(p) for p in pace.catalogue()]
