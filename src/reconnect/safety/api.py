"""The private safety screen in the JSON API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool

from reconnect.accounts.signed_in import SignedIn
from reconnect.domain.safety import QUESTIONS
from reconnect.models import Person
from reconnect.safety import store as safety
from reconnect.web.deps import ApiPerson, ApiSession, Db, Now, api_router
from reconnect.web.schemas import Strict

router = api_router("api")


class QuestionOut(BaseModel):
    id: str
    text: str


class ScreenOut(BaseModel):
    questions: list[QuestionOut]
    note: str


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
def safety_questions(person: ApiPerson) -> ScreenOut:
    return ScreenOut(
        questions=[QuestionOut(id=q.id, text=q.text) for q in QUESTIONS],
        note="Your answers are private. Your partner is never told them or their outcome.",
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


def screen_result(db: Db, session: SignedIn, support: bool) -> ScreenResult:
    resources = ResourceOut.listed(session.person) if support else []
    joint = safety.joint_features_on(db, session.person, session.data_key)
    return ScreenResult(joint_features=joint, resources=resources)
