"""The message coach in the JSON API: a reading of words before they are sent."""

from __future__ import annotations

from pydantic import BaseModel, Field

from reconnect.coach import findings
from reconnect.notes import store as notes
from reconnect.web.deps import ApiPerson, api_router
from reconnect.web.schemas import Strict

router = api_router("coach")


class CoachIn(Strict):
    text: str = Field(
        description="What you are thinking of sharing. Any length; the coach reads the "
        "start of a long text and says so."
    )


class LabelScoreOut(BaseModel):
    label: str
    confidence: float = Field(ge=0, le=1)


class CoachOut(BaseModel):
    label: str | None = Field(
        description="The kind of language the text leans towards; null when the coach "
        "could not read it (then `notice` says why)."
    )
    confidence: float = Field(ge=0, le=1)
    labels: list[LabelScoreOut] = Field(description="Every label, most likely first.")
    suggestion: str | None = Field(
        description="For language that tends to close connection: another way in, in a "
        "sentence or two. A suggestion only; nothing is ever blocked."
    )
    notice: str | None = Field(
        description="Why the coach could not read the text, or read only its start."
    )
    findings: list[FindingOut] = Field(
        description="Every concern and opening marker the coach is sure enough of, each "
        "pointing at its words, what most needs a look first. Empty when nothing stood "
        "out (a greeting, small talk) or the coach was not sure: it says nothing rather "
        "than praise or warn wrongly."
    )


class FindingOut(BaseModel):
    label: str = Field(
        description="A concern (one of the closing labels, or `non_apology`, "
        "`turned_apology`) or an opening marker (`ownership`, `validation`, `presence`)."
    )
    start: int = Field(ge=0, description="Where its words begin in `text`, as a Python slice.")
    end: int = Field(ge=0, description="Where its words end in `text` (exclusive).")
    confidence: float = Field(ge=0, le=1)
    suggestion: str | None = Field(
        description="For a concern: another way in. Null for an opening marker."
    )


@router.post("/coach", response_model=CoachOut)
def read_text(body: CoachIn, person: ApiPerson) -> CoachOut:
    """What the message coach reads in a text before you share it: the kind of language
    it leans towards and, for language that tends to close connection, a suggestion.
    It runs on this machine and keeps nothing: the text is neither stored nor logged."""
    reading = notes.read(body.text)
    found = findings.find(body.text, whole=reading) if reading.label is not None else []
    return CoachOut(
        label=reading.label,
        confidence=reading.confidence,
        labels=[LabelScoreOut(label=s.label, confidence=s.confidence) for s in reading.labels],
        suggestion=reading.suggestion,
        notice=reading.notice,
        findings=[FindingOut.model_validate(f, from_attributes=True) for f in found],
    )
