"""Letters in the JSON API: drafts are the writer's; shared ones both partners read."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel, Field

from reconnect.letters import store as letters
from reconnect.web.deps import ApiSession, Db, Now, RowId, api_router
from reconnect.web.schemas import Strict

router = api_router("letters")


class LetterIn(Strict):
    kind: letters.Kind
    text: str = Field(max_length=letters.TEXT_MAX)


class ReplyIn(Strict):
    text: str = Field(max_length=letters.REPLY_MAX)


class DraftOut(BaseModel):
    id: int
    kind: str
    text: str = Field(description="Your draft: only you read it.")
    updated_at: str
    shared_text: str | None = Field(description="What your partner reads, once you shared it.")
    shared_at: str | None
    reply: str | None = Field(description="Your partner's answer, if they gave one.")


class ReceivedOut(BaseModel):
    id: int
    kind: str
    text: str
    shared_at: str
    reply: str | None = Field(description="Your answer, if you gave one.")


class LettersOut(BaseModel):
    mine: list[DraftOut]
    to_me: list[ReceivedOut]


def letters_out(session: ApiSession, db: Db) -> LettersOut:
    mine, theirs = letters.letters(db, session)
    return LettersOut(
        mine=[DraftOut(**vars(d)) for d in mine], to_me=[ReceivedOut(**vars(r)) for r in theirs]
    )


@router.get("/letters", response_model=LettersOut)
def list_letters(session: ApiSession, db: Db) -> LettersOut:
    """Your own letters, drafts included, and those your partner chose to share."""
    return letters_out(session, db)


@router.post("/letters", response_model=DraftOut)
def save_draft(body: LetterIn, session: ApiSession, db: Db, at: Now) -> DraftOut:
    """Write or rewrite your letter of this kind, privately. Preview it with
    `POST /api/v1/coach` if you like; nothing reaches your partner until you share."""
    draft = letters.save_draft(db, session, kind=body.kind, text=body.text, now=at)
    db.commit()
    return DraftOut(**vars(draft))


@router.post("/letters/{letter_id}/share", status_code=204)
def share_letter(letter_id: RowId, session: ApiSession, db: Db, at: Now) -> Response:
    """Share your letter as it is now with your partner."""
    letters.share(db, session, letter_id, now=at)
    db.commit()
    return Response(status_code=204)


@router.post("/letters/{letter_id}/reply", status_code=204)
def reply_to_letter(
    letter_id: RowId, body: ReplyIn, session: ApiSession, db: Db, at: Now
) -> Response:
    """Answer a letter your partner shared with you, once."""
    letters.reply(db, session, letter_id, text=body.text, now=at)
    db.commit()
    return Response(status_code=204)
