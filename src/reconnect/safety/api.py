"""The private safety screen in the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Response
from pydantic import BaseModel, Field, StrictBool

from reconnect.accounts.signed_in import SignedIn
from reconnect.domain.safety import QUESTIONS
from reconnect.models import Person
from reconnect.safety import store as safety
from reconnect.web.deps import ApiSession, Db, Now, api_router
from reconnect.web.schemas import Strict

router = api_router("api")


class QuestionOut(BaseModel):
    id: str
    text: str


class ScreenOut(BaseModel):
    questions: list[QuestionOut]
    note: str
    ask_again: bool = Field(
        description="Whether it is time to offer the screen again (every eight weeks, "
        "until answered or put off). It can be answered again at any time."
    )


class ScreenAnswers(Strict):
    answers: dict[Annotated[str, Field(max_length=64)], StrictBool] = Field(max_length=32)


class ResourceOut(BaseModel):
    name: str
    region: str = Field(description="Where the contact serves, in words.")
    countries: list[str] = Field(
        description="ISO 3166 codes of the countries it serves; empty means everywhere."
    )
    contact: str
    note: str

    @classmethod
    def listed(cls, person: Person) -> list[ResourceOut]:
        """Every contact, those of the person's own country (by time zone) first."""
        return [
            cls(**{**vars(r), "countries": list(r.countries)}) for r in safety.resources_for(person)
        ]


class ScreenResult(BaseModel):
    joint_features: bool
    resources: list[ResourceOut] = Field(
        description="Individual support and advocacy contacts; filled when support may help."
    )


@router.get("/safety-screen", response_model=ScreenOut)
def safety_questions(session: ApiSession, db: Db, at: Now) -> ScreenOut:
    return ScreenOut(
        questions=[QuestionOut(id=q.id, text=q.text) for q in QUESTIONS],
        note="Your answers are private. Your partner is never told them or their outcome.",
        ask_again=safety.offered_again(db, session.person, session.data_key, at),
    )


@router.post("/safety-screen", response_model=ScreenResult)
def answer_safety_screen(body: ScreenAnswers, session: ApiSession, db: Db, at: Now) -> ScreenResult:
    support = safety.record_screen(
        db, person=session.person, data_key=session.data_key, answers=body.answers, now=at
    )
    db.commit()
    return screen_result(db, session, support)


@router.post("/safety-screen/continue", response_model=ScreenResult)
def continue_after_screen(session: ApiSession, db: Db, at: Now) -> ScreenResult:
    safety.continue_to_joint_features(db, person=session.person, data_key=session.data_key, now=at)
    db.commit()
    return screen_result(db, session, support=True)


@router.post("/safety-screen/later", status_code=204)
def put_off_answering_again(session: ApiSession, db: Db, at: Now) -> Response:
    """Not now: the offer to answer the screen again rests for eight weeks."""
    safety.put_off(db, person=session.person, data_key=session.data_key, now=at)
    db.commit()
    return Response(status_code=204)


def screen_result(db: Db, session: SignedIn, support: bool) -> ScreenResult:
    resources = ResourceOut.listed(session.person) if support else []
    joint = safety.joint_features_on(db, session.person, session.data_key)
    return ScreenResult(joint_features=joint, resources=resources)
