"""Notes between partners in the JSON API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from reconnect.after_write import look_again
from reconnect.moments.store import Shared
from reconnect.notes import store as notes
from reconnect.ratelimit import Write, WriteLimits
from reconnect.web.deps import (
    ApiSession,
    Db,
    LocalDateTime,
    Now,
    State,
    api_router,
    quick_write,
    spaced,
)
from reconnect.web.schemas import Strict

router = api_router("notes")


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


@router.post("/notes", status_code=201, response_model=NoteOut, dependencies=[spaced(Write.NOTE)])
@quick_write
def send_note(body: NoteIn, session: ApiSession, db: Db, at: Now, state: State) -> NoteOut:
    """Send your partner a note. It is sealed under your couple's key; both of you
    read it. Preview it with `POST /api/v1/coach` first if you like; nothing is blocked.
    More than `RECONNECT_NOTES_PER_HOUR` in an hour wait: 429 `slow_down`, Retry-After.
    Past 20 at once, notes (with statuses and heart-rate writes) take turns, 20 a second;
    one that would wait over 5 seconds is refused the same way."""
    limits = WriteLimits(db, state.settings, state.secret)
    limits.check(Write.NOTE, session.person.id, at, page=False)
    row = notes.send_note(db, signed_in=session, text=body.text, now=at)
    look_again(db, signed_in=session, now=at)
    limits.record(Write.NOTE, session.person.id, at)
    db.commit()
    return NoteOut(id=row.id, who="you", text=notes.note_text(body.text), at=row.at)


@router.get("/notes", response_model=NotesOut)
def list_notes(session: ApiSession, db: Db) -> NotesOut:
    return NotesOut(notes=[_note_out(n) for n in notes.notes(db, signed_in=session)])
