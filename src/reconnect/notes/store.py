"""Notes between partners, and the message coach's reading of a draft before it goes.

A sent note is sealed under the couple key: both partners read it, nobody else. The
coach reads a draft only when its writer asks for a preview; what it reads is shown
to the writer alone and kept nowhere (neither stored nor logged). The coach suggests
and never blocks: a note is sent as written, whatever the coach read in it. Its
reading of a writer's own sent notes, shown under them, is remembered in this process
by a keyed digest of the text (:class:`~reconnect.coach.checker.Memory`), so a page
view does not read the same notes again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from reconnect import access, coach, keys
from reconnect.accounts.signed_in import SignedIn
from reconnect.coach import findings
from reconnect.coach.checker import Memory
from reconnect.coach.findings import Finding
from reconnect.couples.store import opened_couple_key
from reconnect.errors import Problem
from reconnect.models import SharedNote
from reconnect.moments.store import Shared
from reconnect.sealing import add_sealed

NOTE_MAX = 4000
"""The longest note, in characters: room for a letter, not for a book."""

LIST_LIMIT = 100
OWN_HINTS = 5
"""How many of a writer's latest notes the page reads again with the coach."""

# For labels that tend to open connection the coach gives no direction; the page
# names what the words do well instead, in a sentence or two.
ACKNOWLEDGEMENTS = {
    "ownership": (
        "This owns your part plainly. Words like these can help your partner feel "
        "that what happened is taken seriously."
    ),
    "validation": (
        "This makes room for your partner's feelings without arguing with them. That "
        "is often what being heard feels like."
    ),
    "presence": (
        "This stays with a hard moment rather than leaving it. Staying, even briefly, "
        "is how safety is built again."
    ),
}
NOTHING_STOOD_OUT = (
    "Nothing in this stood out to the coach as closing or opening. It is yours to send as it is."
)


@dataclass(frozen=True)
class Hint:
    """The coach's reading in the words a page shows the writer.

    ``tone`` is ``closing``, ``opening``, ``neutral`` or ``unread`` (the coach could
    not read the text, and ``message`` says why). ``notice`` says when the coach read
    only the start. ``message`` is a reflection, never a verdict, and the writer may
    send the note as it is whatever it says.
    """

    tone: str
    label: str | None
    message: str
    notice: str | None
    # Every concern and opening marker, each pointing at its words in the text read.
    findings: tuple[Finding, ...] = ()

    def reflection(self, finding: Finding) -> str:
        """What the page says under one finding: another way in for a concern, what
        the words do well for an opening marker."""
        if finding.suggestion:
            return finding.suggestion
        return ACKNOWLEDGEMENTS.get(finding.label, "")

    def marked(self, text: str) -> list[tuple[str, int | None]]:
        """``text`` in pieces, each with the number (from 1, in the order of
        ``findings``) of the finding it is the words of, or None."""
        return marked(text, self.findings)


def marked(text: str, found: Sequence[Finding]) -> list[tuple[str, int | None]]:
    """``text`` cut into pieces at the findings' words, for a page to mark them."""
    pieces: list[tuple[str, int | None]] = []
    at = 0
    for start, end, number in sorted((f.start, f.end, n) for n, f in enumerate(found, 1)):
        if start < at or end > len(text):
            continue  # findings never overlap; a stale one is left unmarked
        if start > at:
            pieces.append((text[at:start], None))
        pieces.append((text[start:end], number))
        at = end
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces


def read(text: str) -> coach.Reading:
    """The coach's reading of a draft. Nothing is kept."""
    return coach.read(text)


def hint_for(reading: coach.Reading, found: Sequence[Finding] = ()) -> Hint:
    """The page's words for what the coach read: led by the finding that most needs a
    look (a concern before an opening marker), and calm "nothing stood out" when the
    coach found nothing it was sure of, whatever the whole text leaned towards."""
    if reading.label is None:
        return Hint("unread", None, reading.notice or "The coach could not read this.", None)
    found = tuple(found)
    if not found:
        return Hint("neutral", "neutral", NOTHING_STOOD_OUT, reading.notice)
    first = found[0]
    if not first.opening:
        message = first.suggestion or NOTHING_STOOD_OUT
        return Hint("closing", first.label, message, reading.notice, found)
    message = ACKNOWLEDGEMENTS.get(first.label, NOTHING_STOOD_OUT)
    return Hint("opening", first.label, message, reading.notice, found)


def preview(text: str) -> Hint:
    reading = read(text)
    found = findings.find(text, whole=reading) if reading.label is not None else []
    return hint_for(reading, found)


HINTS_READ: Memory[Hint] = Memory(size=2048)
"""The coach's readings of sent notes, remembered for their writers' pages."""


def own_hints(listed: list[Shared], limit: int = OWN_HINTS) -> dict[int, Hint]:
    """The coach's reading of the writer's own latest notes, for the page (never
    stored). A partner's notes are never read for the one who receives them: the
    coach is a mirror for the writer, not a judge of the other.

    Each text is read once per model: until the coach's better model has loaded, the
    keywords answer, and the page reads again with the model that answers now.
    """
    own = [item for item in listed if item.who == "you"][:limit]
    model = coach.model_name()
    hints: dict[int, Hint] = {}
    for item in own:
        text = item.content["text"]
        remembered = f"{model}\0{text}"
        known, hint = HINTS_READ.recall(remembered)
        if not known or hint is None:
            hint = preview(text)
            HINTS_READ.keep(remembered, hint)
        hints[item.id] = hint
    return hints


# --- sending and reading notes ---------------------------------------------------------


def _context(row: SharedNote) -> str:
    return f"shared:note:{row.id}:couple:{row.couple_id}"


def _open(row: SharedNote, couple_key: bytes) -> str:
    content = json.loads(keys.unseal(couple_key, row.sealed, _context(row)))
    return str(content["text"])


def _couple(db: Session, signed_in: SignedIn) -> tuple[int, bytes]:
    membership = access.get_membership_for_person(
        db, person=signed_in.person, data_key=signed_in.data_key
    )
    return membership.couple_id, opened_couple_key(db, membership, signed_in.data_key)


def note_text(text: str) -> str:
    """The note as it will be sent: trimmed, not empty, not longer than ``NOTE_MAX``."""
    text = text.strip()
    if not text:
        raise Problem("invalid_entry", "Write a few words first.", 422)
    if len(text) > NOTE_MAX:
        raise Problem("invalid_entry", f"Please keep a note under {NOTE_MAX} characters.", 422)
    return text


def send_note(db: Session, *, signed_in: SignedIn, text: str, now: datetime) -> SharedNote:
    """Seal a note under the couple key, for both partners to read. The coach is not
    consulted here: a preview is the writer's choice, and nothing is ever blocked."""
    text = note_text(text)
    couple_id, couple_key = _couple(db, signed_in)
    row = SharedNote(couple_id=couple_id, person_id=signed_in.person.id, at=now)
    add_sealed(
        db,
        row,
        lambda row: keys.seal(couple_key, json.dumps({"text": text}).encode(), _context(row)),
    )
    return row


def _shared(row: SharedNote, signed_in: SignedIn, couple_key: bytes) -> Shared:
    who = "you" if row.person_id == signed_in.person.id else "partner"
    return Shared(row.id, who, row.at, {"text": _open(row, couple_key)})


# Built once, with named parameters: the notes page and API read it on every visit.
_NEWEST_FIRST = (
    select(SharedNote)
    .where(SharedNote.couple_id == bindparam("couple_id"))
    .order_by(SharedNote.at.desc(), SharedNote.id.desc())
    .limit(bindparam("limit"))
)


def notes(db: Session, *, signed_in: SignedIn, limit: int = LIST_LIMIT) -> list[Shared]:
    """The couple's notes, newest first, each marked as yours or your partner's."""
    couple_id, couple_key = _couple(db, signed_in)
    rows = db.scalars(_NEWEST_FIRST, {"couple_id": couple_id, "limit": limit})
    return [_shared(row, signed_in, couple_key) for row in rows]


def notes_since(db: Session, *, signed_in: SignedIn, since: datetime) -> list[tuple[int, Shared]]:
    """Every note sent in the couple since ``since``, oldest first, with its author's id."""
    couple_id, couple_key = _couple(db, signed_in)
    rows = db.scalars(
        select(SharedNote)
        .where(SharedNote.couple_id == couple_id, SharedNote.at >= since)
        .order_by(SharedNote.at, SharedNote.id)
    )
    return [(row.person_id, _shared(row, signed_in, couple_key)) for row in rows]
