"""The disclosure session in the JSON API: the preparation is the writer's; readiness,
the hurt partner's questions and limits, and an account left afterwards reach the
partner; the therapist's reading reaches the writer alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel, Field

from reconnect.disclosure import store as disclosure
from reconnect.web.deps import ApiSession, Db, Now, RowId, api_router
from reconnect.web.schemas import Strict

router = api_router("disclosure")

Limit = Literal["sexual_detail", "comparisons", "their_looks"]


class AccountIn(Strict):
    timeline: str = Field("", max_length=disclosure.TEXT_MAX)
    hidden: str = Field("", max_length=disclosure.TEXT_MAX)
    contact_since: str = Field("", max_length=disclosure.TEXT_MAX)


class PreparationIn(Strict):
    account: AccountIn | None = Field(None, description="The involved partner's part.")
    questions: str | None = Field(
        None, max_length=disclosure.TEXT_MAX, description="The hurt partner's, one to a line."
    )
    limits: list[Limit] | None = Field(None, description="What they do not want to hear.")
    other_limits: str | None = Field(None, max_length=disclosure.TEXT_MAX)


class TherapistReadingIn(Strict):
    text: str = Field(max_length=disclosure.READING_MAX)


class HeldOut(BaseModel):
    experience_id: int
    at: datetime
    reflected: bool = Field(description="Whether you wrote your private reflection on it.")


class StepOut(BaseModel):
    parts: list[str] = Field(description="What you prepare: 'account', 'questions', or both.")
    prepared: dict[str, Any] = Field(description="Your preparation: only you read it.")
    sessions: list[HeldOut]
    open: bool = Field(description="Whether a session can be prepared for now.")
    reopened: bool = Field(description="Opened again since something new came to light.")
    ready: bool
    partner_ready: bool
    partner_questions: dict[str, Any] | None
    accounts_left: list[dict[str, Any]] = Field(
        description="Accounts your partner left after a session for you to read again."
    )
    review_asked: bool
    reading: str | None = Field(description="Your therapist's reading, for you alone.")
    therapist_sees: bool
    may_start: bool = Field(description="Both ready, and the pace allows the session now.")
    why_not: str | None


@router.get("/disclosure", response_model=StepOut)
def get_step(session: ApiSession, db: Db, at: Now) -> StepOut:
    """Where the disclosure step stands, as you may see it."""
    step = disclosure.step(db, session, at)
    data = vars(step) | {"sessions": [HeldOut(**vars(h)) for h in step.sessions]}
    data["prepared"] = {k: v for k, v in step.prepared.items() if k != "review_private"}
    data.pop("left_by_me")
    return StepOut(**data)


@router.post("/disclosure/preparation", status_code=204)
def prepare(body: PreparationIn, session: ApiSession, db: Db, at: Now) -> Response:
    """Save your preparation, privately. Send only your own part."""
    disclosure.prepare(
        db,
        session,
        account=body.account.model_dump() if body.account else None,
        questions=body.questions,
        limits=list(body.limits) if body.limits is not None else None,
        other_limits=body.other_limits,
        now=at,
    )
    db.commit()
    return Response(status_code=204)


@router.post("/disclosure/ready", status_code=204)
def ready(session: ApiSession, db: Db, at: Now) -> Response:
    """Say you are ready for the session; a hurt partner's questions and limits reach
    the other now. An account stays its writer's: it is given in the session."""
    disclosure.ready(db, session, at)
    db.commit()
    return Response(status_code=204)


@router.post("/disclosure/leave-account", status_code=204)
def leave_account(session: ApiSession, db: Db, at: Now) -> Response:
    """After a session, leave your account as it is now for your partner to read again."""
    disclosure.leave_account(db, session, at)
    db.commit()
    return Response(status_code=204)


@router.post("/disclosure/ask-therapist", status_code=204)
def ask_therapist(session: ApiSession, db: Db, at: Now) -> Response:
    """Ask your consenting therapist to read your account before the session."""
    disclosure.ask_therapist(db, session, at)
    db.commit()
    return Response(status_code=204)


@router.post("/caseload/{couple_id}/disclosure/{disclosure_id}/reading", status_code=204)
def give_reading(
    couple_id: RowId, disclosure_id: RowId, body: TherapistReadingIn, session: ApiSession, db: Db
) -> Response:
    """A therapist's reading of an account they were asked to read first; only its
    writer can open it."""
    disclosure.give_reading(
        db, session, couple_id=couple_id, disclosure_id=disclosure_id, text=body.text
    )
    db.commit()
    return Response(status_code=204)
