"""JSON API for shared status, triggers, proposals and flooding breaks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool

from reconnect.after_write import look_again
from reconnect.domain.moments import WORDS_MAX, Mood, Response, TriggerResponse
from reconnect.domain.pacing.experiences import PRACTICE_ID_MAX_CHARS
from reconnect.domain.pacing.policy import BREAK_MINUTES_MAX, BREAK_MINUTES_MIN
from reconnect.domain.validation import SCALE_MAX
from reconnect.moments import store as moments
from reconnect.ratelimit import Write, WriteLimits
from reconnect.web.deps import (
    ApiSession,
    Db,
    LocalDateTime,
    Now,
    RowId,
    State,
    api_router,
    quick_write,
    spaced,
)
from reconnect.web.schemas import Strict

router = api_router("moments")

Words = Annotated[str, Field(max_length=WORDS_MAX)]


class StatusIn(Strict):
    status: Mood
    words: Words = ""


class StatusOut(BaseModel):
    who: Literal["you", "partner"]
    status: Mood
    words: str
    at: LocalDateTime


class StatusesOut(BaseModel):
    statuses: list[StatusOut] = Field(description="The latest each of you shared today.")


class TriggerIn(Strict):
    what: Annotated[str, Field(min_length=1, max_length=WORDS_MAX)]
    strength: Annotated[int, Field(ge=0, le=SCALE_MAX)]
    tell_partner: StrictBool = False


class TriggerOut(BaseModel):
    id: int
    at: LocalDateTime
    what: str
    strength: int
    told: bool
    response_kind: TriggerResponse | None
    responded_at: LocalDateTime | None


class ToldTriggerOut(BaseModel):
    id: int
    at: LocalDateTime
    what: str
    strength: int


class TriggersOut(BaseModel):
    mine: list[TriggerOut]
    to_respond: list[ToldTriggerOut] = Field(
        description="Triggers your partner chose to tell you, waiting for your response."
    )


class ResponseIn(Strict):
    kind: TriggerResponse


class RespondedOut(BaseModel):
    id: int
    response_kind: TriggerResponse
    responded_at: LocalDateTime


class BreakIn(Strict):
    minutes: Annotated[int, Field(ge=BREAK_MINUTES_MIN, le=BREAK_MINUTES_MAX)] = BREAK_MINUTES_MIN


class BreakOut(BaseModel):
    id: int
    started_at: LocalDateTime
    return_at: LocalDateTime


class ProposalIn(Strict):
    practice_id: Annotated[str, Field(max_length=PRACTICE_ID_MAX_CHARS)]


class ProposalOut(BaseModel):
    id: int
    at: LocalDateTime
    mine: bool
    practice_id: str
    tier: int
    response: Response | None
    responded_at: LocalDateTime | None


def _status_out(item: moments.Shared) -> StatusOut:
    return StatusOut(who=item.who, at=item.at, **item.content)


def _proposal_out(data: dict[str, Any]) -> ProposalOut:
    return ProposalOut(**data)


@router.post(
    "/status",
    status_code=201,
    response_model=StatusesOut,
    dependencies=[spaced(Write.STATUS)],
)
@quick_write
def share_status(body: StatusIn, session: ApiSession, db: Db, at: Now, state: State) -> StatusesOut:
    """Share how you are today: okay, struggling or needing space. Your partner sees
    only this, never your private check-ins. More than `RECONNECT_STATUSES_PER_HOUR`
    in an hour wait: 429 `slow_down`, with Retry-After."""
    limits = WriteLimits(db, state.settings, state.secret)
    limits.check(Write.STATUS, session.person.id, at, page=False)
    moments.share_status(db, signed_in=session, status=body.status.value, words=body.words, now=at)
    look_again(db, signed_in=session, now=at)
    limits.record(Write.STATUS, session.person.id, at)
    db.commit()
    return StatusesOut(
        statuses=[_status_out(s) for s in moments.statuses_today(db, signed_in=session, now=at)]
    )


@router.get("/status", response_model=StatusesOut)
def get_status(session: ApiSession, db: Db, at: Now) -> StatusesOut:
    return StatusesOut(
        statuses=[_status_out(s) for s in moments.statuses_today(db, signed_in=session, now=at)]
    )


@router.post("/triggers", status_code=201, response_model=TriggerOut)
def log_trigger(body: TriggerIn, session: ApiSession, db: Db, at: Now) -> TriggerOut:
    """Log a trigger (the hurt partner): what, how strong, and whether to tell."""
    row = moments.log_trigger(
        db,
        signed_in=session,
        what=body.what,
        strength=body.strength,
        tell_partner=body.tell_partner,
        now=at,
    )
    db.commit()
    return TriggerOut(
        id=row.id,
        at=at,  # the owner's own answer: the time is sealed in the row
        what=body.what.strip(),
        strength=body.strength,
        told=body.tell_partner,
        response_kind=None,
        responded_at=None,
    )


@router.get("/triggers", response_model=TriggersOut)
def list_triggers(session: ApiSession, db: Db) -> TriggersOut:
    return TriggersOut(
        mine=[TriggerOut(**t) for t in moments.own_triggers(db, signed_in=session)],
        to_respond=[
            ToldTriggerOut(id=t.id, at=t.at, **t.content)
            for t in moments.triggers_to_answer(db, signed_in=session)
        ],
    )


@router.post("/triggers/{trigger_id}/respond", response_model=RespondedOut)
def respond_to_trigger(
    trigger_id: RowId, body: ResponseIn, session: ApiSession, db: Db, at: Now
) -> RespondedOut:
    """Respond to a trigger your partner told you about: acknowledge, offer comfort,
    or offer space. There is no option to explain or defend."""
    row = moments.respond_to_trigger(
        db, signed_in=session, trigger_id=trigger_id, kind=body.kind.value, now=at
    )
    db.commit()
    return RespondedOut(id=row.id, response_kind=body.kind, responded_at=at)


@router.post("/breaks", status_code=201, response_model=BreakOut)
def start_break(body: BreakIn, session: ApiSession, db: Db, at: Now) -> BreakOut:
    """Someone is flooded: start a break of at least 20 minutes, for both of you."""
    row = moments.start_break(db, signed_in=session, minutes=body.minutes, now=at)
    db.commit()
    return BreakOut(id=row.id, started_at=row.started_at, return_at=row.return_at)


@router.post("/proposals", status_code=201, response_model=ProposalOut)
def propose(body: ProposalIn, session: ApiSession, db: Db, at: Now) -> ProposalOut:
    """Propose a practice to your partner; they can accept or decline, no reason needed."""
    row = moments.propose(db, signed_in=session, practice_id=body.practice_id, now=at)
    look_again(db, signed_in=session, now=at)
    db.commit()
    return _proposal_out(
        next(p for p in moments.proposals(db, signed_in=session) if p["id"] == row.id)
    )


@router.get("/proposals", response_model=list[ProposalOut])
def list_proposals(session: ApiSession, db: Db) -> list[ProposalOut]:
    return [_proposal_out(p) for p in moments.proposals(db, signed_in=session)]


def _answer(proposal_id: RowId, accept: bool, session: ApiSession, db: Db, at: datetime) -> Any:
    row = moments.answer_proposal(
        db, signed_in=session, proposal_id=proposal_id, accept=accept, now=at
    )
    look_again(db, signed_in=session, now=at)
    db.commit()
    return _proposal_out(
        next(p for p in moments.proposals(db, signed_in=session) if p["id"] == row.id)
    )


@router.post("/proposals/{proposal_id}/accept", response_model=ProposalOut)
def accept_proposal(proposal_id: RowId, session: ApiSession, db: Db, at: Now) -> ProposalOut:
    result: ProposalOut = _answer(proposal_id, True, session, db, at)
    return result


@router.post("/proposals/{proposal_id}/decline", response_model=ProposalOut)
def decline_proposal(proposal_id: RowId, session: ApiSession, db: Db, at: Now) -> ProposalOut:
    """Decline without giving a reason; none is asked for, and none is stored."""
    result: ProposalOut = _answer(proposal_id, False, session, db, at)
    return result
