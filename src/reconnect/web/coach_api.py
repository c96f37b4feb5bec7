"""JSON API for the message coach and the notes partners send each other."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from reconnect import notes
from reconnect.moments import Shared
from reconnect.web.deps import API_ERRORS, ApiPerson, ApiSession, Db, LocalDateTime, Now

router = APIRouter(prefix="/api/v1", tags=["coach"], responses=API_ERRORS)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class NoteIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=notes.NOTE_MAX)]


class NoteOut(BaseModel):
    id: int
    who: Literal["you", "partner"]
    text: str
    at: LocalDateTime


class NotesOut(BaseModel):
    notes: list[NoteOut] = Field(description="Notes between you, newest first.")


def _note_out(item: Shared) -> NoteOut:
    return NoteOut(id=item.id, who=item.who, text=item.content["text"], at=item.at)


@router.post("/coach", response_model=CoachOut)
def read_text(body: CoachIn, person: ApiPerson) -> CoachOut:
    """What the message coach reads in a text before you share it: the kind of language
    it leans towards and, for language that tends to close connection, a suggestion.
    It runs on this machine and keeps nothing: the text is neither stored nor logged."""
    reading = notes.read(body.text)
    return CoachOut(
        label=reading.label,
        confidence=reading.confidence,
        labels=[LabelScoreOut(label=s.label, confidence=s.confidence) for s in reading.labels],
        suggestion=reading.suggestion,
        notice=reading.notice,
    )


@router.post("/notes", status_code=201, response_model=NoteOut)
def send_note(body: NoteIn, session: ApiSession, db: Db, at: Now) -> NoteOut:
    """Send your partner a note. It is sealed under your couple's key; both of you
    read it. Preview it with `POST /api/v1/coach` first if you like; nothing is blocked."""
    row = notes.send_note(db, signed_in=session, text=body.text, now=at)
    db.commit()
    return NoteOut(id=row.id, who="you", text=notes.note_text(body.text), at=row.at)


@router.get("/notes", response_model=NotesOut)
def list_notes(session: ApiSession, db: Db) -> NotesOut:
    return NotesOut(notes=[_note_out(n) for n in notes.notes(db, signed_in=session)])
