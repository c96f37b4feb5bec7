"""A person's rights over their own data: export it, see their sign-ins, delete it all.

Export opens the person's sealed entries with their own key and nothing of the
partner's: as JSON, as a zip of CSV files, or their questionnaire results as FHIR.
Deleting an account removes the person's rows and key wraps; their partner keeps their
own entries, and what the couple shared goes for both.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from argon2 import PasswordHasher
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from reconnect import access
from reconnect.accounts import auth
from reconnect.accounts.signed_in import SignedIn
from reconnect.commitments import store as commitments
from reconnect.couples.store import couple_view, dissolve_couple
from reconnect.database import is_sqlite
from reconnect.dates import store as dates
from reconnect.disclosure import store as disclosure
from reconnect.domain.measures import fhir
from reconnect.domain.passwords import password_problem
from reconnect.errors import Problem
from reconnect.letters import store as letters
from reconnect.measures import plans
from reconnect.measures import store as measures
from reconnect.models import (
    AuthSession,
    CheckInEntry,
    Couple,
    Disclosure,
    ExperienceRatingEntry,
    Finding,
    HardDates,
    HeartRateImport,
    Invite,
    Letter,
    Membership,
    Person,
    QuestionnairePlan,
    QuestionnaireResponse,
    RefreshRequest,
    SafetyScreen,
    TherapistConsent,
    TherapistLink,
    Trigger,
)
from reconnect.moments import store as moments
from reconnect.notes import store as notes
from reconnect.pacing import store as pace
from reconnect.rituals import store as rituals
from reconnect.sealing import to_json

EXPORT_FORMAT = "reconnect-export/1"
FHIR_MEDIA_TYPE = "application/fhir+json"
FHIR_DOWNLOAD = {"Content-Disposition": 'attachment; filename="reconnect-questionnaires.fhir.json"'}
CHECKIN_COLUMNS = [
    "recorded_at",
    "activation",
    "state",
    "safety",
    "urgency",
    "readiness",
    "drivers",
    "body_signals",
    "note",
]
REFLECTION_COLUMNS = [
    "occurred_at",
    "practice_id",
    "tier",
    "safety",
    "activation_before",
    "activation_after",
    "staying",
    "felt_pressured",
    "authenticity",
    "vulnerability",
    "transparency",
    "presence",
    "note",
]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def export(db: Session, signed_in: SignedIn, now: datetime) -> dict[str, Any]:
    """Everything this person owns, opened with their key, in the documented format."""
    person, key = signed_in.person, signed_in.data_key
    checkins = db.scalars(
        select(CheckInEntry)
        .where(CheckInEntry.person_id == person.id)
        .order_by(CheckInEntry.recorded_at, CheckInEntry.id)
    )
    reflections = db.scalars(
        select(ExperienceRatingEntry)
        .where(ExperienceRatingEntry.person_id == person.id)
        .order_by(ExperienceRatingEntry.id)
    )
    view = couple_view(db, person)
    triggers = [
        {**t, "at": t["at"].isoformat(), "responded_at": _iso(t["responded_at"])}
        for t in reversed(moments.own_triggers(db, signed_in=signed_in, limit=None))
    ]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "person": {
            "username": person.username,
            "created_at": person.created_at.isoformat(),
            "is_therapist": person.is_therapist,
        },
        "couple": None
        if view is None
        else {"my_role": view.my_role, "partner_username": view.partner_username},
        "checkins": [_entry(pace.load_checkin(row, key)) for row in checkins],
        "reflections": [_entry(pace.load_rating(row, key)) for row in reflections],
        "questionnaires": measures.own_results(db, signed_in=signed_in),
        "questionnaire_plan": vars(plans.own(db, signed_in)),
        "hard_dates": [
            {"label": d.label, "month": d.month, "day": d.day} for d in dates.dates(db, signed_in)
        ],
        "triggers": triggers,
        "shared": _shared_by_me(db, signed_in),
        "commitments": _offered_by_me(db, signed_in),
        "letters": _my_letters(db, signed_in),
        "disclosure": _my_disclosure(db, signed_in, now),
        "rituals": _our_rituals(db, signed_in),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _shared_by_me(db: Session, signed_in: SignedIn) -> list[dict[str, Any]]:
    """The statuses and notes this person shared with their partner (the partner's own
    words are the partner's, and stay out)."""
    if couple_view(db, signed_in.person) is None:
        return []
    try:
        statuses = moments.statuses_since(db, signed_in=signed_in, since=_EPOCH)
        sent = notes.notes_since(db, signed_in=signed_in, since=_EPOCH)
    except Problem:  # a couple space without a partner yet, or couple features off
        return []
    me = signed_in.person.id
    mine = [{"kind": "status", "at": s.at, **s.content} for who, s in statuses if who == me]
    mine += [{"kind": "note", "at": n.at, **n.content} for who, n in sent if who == me]
    mine.sort(key=lambda item: item["at"])
    return [{**item, "at": item["at"].isoformat()} for item in mine]


T = TypeVar("T")


def _in_couple(db: Session, signed_in: SignedIn, read: Callable[[], list[T]]) -> list[T]:
    """What ``read`` finds of the person's couple features; nothing outside a couple
    space, before the partner joins, or while couple features are off."""
    if couple_view(db, signed_in.person) is None:
        return []
    try:
        return read()
    except Problem:
        return []


def _our_rituals(db: Session, signed_in: SignedIn) -> list[dict[str, Any]]:
    """The rituals the couple chose, and the days they did them (either partner marks)."""
    return [
        {
            "practice_id": r.practice_id,
            "rhythm": r.rhythm,
            "chosen_at": r.chosen_at,
            "ended_at": r.ended_at,
            "days": r.days,
        }
        for r in _in_couple(db, signed_in, lambda: rituals.rituals(db, signed_in))
    ]


def _my_letters(db: Session, signed_in: SignedIn) -> list[dict[str, Any]]:
    """The letters this person wrote: each draft, what they shared of it, and the answer."""
    mine = _in_couple(db, signed_in, lambda: letters.letters(db, signed_in)[0])
    return [{k: v for k, v in vars(d).items() if k != "id"} for d in mine]


def _my_disclosure(db: Session, signed_in: SignedIn, now: datetime) -> list[dict[str, Any]]:
    """What this person prepared for the disclosure session, the sessions held, and
    their therapist's reading of their account (one item, or none)."""
    found = _in_couple(db, signed_in, lambda: [disclosure.step(db, signed_in, now)])
    return [
        {
            "prepared": {k: v for k, v in step.prepared.items() if k != "review_private"},
            "sessions": [held.at.isoformat() for held in step.sessions],
            "ready": step.ready,
            "left_account_after": step.left_by_me,
            "therapist_reading": step.reading,
        }
        for step in found
    ]


def _offered_by_me(db: Session, signed_in: SignedIn) -> list[dict[str, Any]]:
    """The commitments this person offered, with their days (the partner's "I noticed"
    is part of each day's record)."""
    return [
        {
            "what": c.what,
            "looks_like": c.looks_like,
            "offered_at": c.offered_at,
            "ended_at": c.ended_at,
            "days": c.days,
        }
        for c in _in_couple(db, signed_in, lambda: commitments.commitments(db, signed_in))
        if c.offered_by == signed_in.person.id
    ]


def _entry(entry: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(to_json(entry))
    data.pop("heart_rate_flooded", None)
    return data


def export_csv_zip(document: dict[str, Any]) -> bytes:
    """The same export as a zip of CSV files (one row per entry; lists joined by '; ')."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        sections = [("checkins", CHECKIN_COLUMNS), ("reflections", REFLECTION_COLUMNS)]
        names = (
            "questionnaires",
            "hard_dates",
            "triggers",
            "shared",
            "commitments",
            "letters",
            "rituals",
            "disclosure",
        )
        for name in names:
            columns = list(dict.fromkeys(key for row in document[name] for key in row))
            sections.append((name, columns))
        for name, columns in sections:
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in document[name]:
                writer.writerow({k: _cell(v) for k, v in row.items()})
            archive.writestr(f"{name}.csv", text.getvalue())
        archive.writestr(
            "about.json",
            json.dumps(
                {
                    k: document[k]
                    for k in ("format", "exported_at", "person", "couple", "questionnaire_plan")
                }
            ),
        )
    return buffer.getvalue()


def export_fhir(db: Session, signed_in: SignedIn, now: datetime) -> dict[str, Any]:
    """The person's questionnaire results as a FHIR R4 Bundle of QuestionnaireResponses,
    each with its answers and scores, as the JSON export holds them (docs/export.md)."""
    return fhir.response_bundle(measures.own_results(db, signed_in=signed_in), now)


# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell: lists joined with '; ', mappings (questionnaire answers) as JSON.

    Text that a spreadsheet would run as a formula gets a leading single quote (as
    OWASP advises for CSV injection); the JSON export keeps every word as typed.
    """
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def sessions(db: Session, person: Person) -> list[AuthSession]:
    return list(
        db.scalars(
            select(AuthSession)
            .where(AuthSession.person_id == person.id)
            .order_by(AuthSession.created_at.desc())
        )
    )


def sign_out_everywhere(db: Session, person: Person) -> int:
    result = db.execute(delete(AuthSession).where(AuthSession.person_id == person.id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_account(db: Session, person: Person) -> None:
    """Remove the person and everything that is theirs; dissolve their couple first."""
    if access.membership_of(db, person) is not None:
        dissolve_couple(db, person=person)
    db.execute(delete(Person).where(Person.id == person.id))
    db.expire_all()


def flush_deleted_pages(db: Session) -> None:
    """After a deletion is committed, fold the WAL back into the (secure-deleting)
    database file, so the removed rows linger in neither. No-op on PostgreSQL."""
    if is_sqlite(db):
        db.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# --- a fresh start when both password and recovery key are lost -------------------

# Every binary column, by whose key seals it. A reset removes what is sealed under the
# person's own key: no one can open it any more. test_reset_password checks that every
# binary column is in one of the two lists, so a new sealed column is not forgotten.
SEALED_UNDER_OWN_KEY = (
    ("checkin", "sealed"),
    ("experience_rating", "sealed"),
    ("trigger", "sealed"),  # the trigger goes, and the copy told to the partner with it
    ("questionnaire_response", "sealed"),
    ("questionnaire_plan", "sealed"),  # what the person repeats, and the check owed
    ("hard_dates", "sealed"),  # the dates they marked as hard
    ("letter", "sealed"),  # their drafts; a shared copy stays with the partner
    ("disclosure", "sealed"),  # what they prepared; what they brought stays
    ("disclosure", "review_sealed"),  # the therapist's reading, to a key under their key
    ("heart_rate_import", "sealed"),
    ("heart_rate_import", "span_sealed"),
    ("heart_rate_import", "calm_sealed"),
    ("safety_screen", "sealed"),  # the safety questions are asked again
    ("finding", "sealed"),  # the owner's findings; the couple's are under the couple key
    ("person", "totp_sealed"),  # two-step sign-in is turned off
    ("person", "totp_step_sealed"),
    ("person", "key_by_password"),  # new wraps of a new data key
    ("person", "key_by_recovery"),
    ("membership", "couple_key_wrap"),  # the person leaves the couple space
    ("therapist_link", "couple_key_wrap"),  # a therapist's links end
    ("therapist_link", "private_key_sealed"),
)
NOT_UNDER_OWN_KEY = (
    ("person", "kdf_salt"),  # not secret
    ("auth_session", "key_wrap"),  # under the session's token; every session ends
    ("invite", "couple_key_wrap"),  # under the invitation code
    ("therapist_invite", "couple_key_wrap"),
    ("therapist_link", "public_key"),  # public
    ("shared_status", "sealed"),  # under the couple key: the partner keeps reading it
    ("trigger", "told_sealed"),
    ("proposal", "sealed"),
    ("shared_note", "sealed"),
    ("therapist_share", "sealed"),  # to the therapist's public key
    ("couple_questionnaire_plan", "sealed"),  # the therapist's request, couple key
    ("commitment", "sealed"),  # under the couple key: the partner keeps reading it
    ("ritual", "sealed"),
    ("letter", "shared_sealed"),  # a shared letter, under the couple key
    ("disclosure", "shared_sealed"),  # what they brought to the session, couple key
    ("disclosure", "review_key"),  # public; removed with the reading it opened
    # The lost data key itself, under the job key, while a refresh waits: the row goes.
    ("refresh_request", "sealed_key"),
)
# What a reset removes, by the name the command says it with.
_OWN_ENTRIES: tuple[tuple[str, Any], ...] = (
    ("check-in", CheckInEntry),
    ("reflection", ExperienceRatingEntry),
    ("trigger", Trigger),
    ("questionnaire result", QuestionnaireResponse),
    ("questionnaire plan", QuestionnairePlan),
    ("hard-date list", HardDates),
    ("heart-rate import", HeartRateImport),
    ("private insight", Finding),
    ("safety-screen answer", SafetyScreen),
)


@dataclass(frozen=True)
class FreshStart:
    """What a reset removed, for the operator to tell the person plainly."""

    account: auth.NewAccount
    removed: dict[str, int]  # each kind of entry ("check-in": 2), even when 0
    two_step_turned_off: bool
    left_couple: bool
    partner_username: str | None  # who keeps the couple space the person left
    therapist_links: int  # links of theirs as a therapist, ended
    therapist_consents: int  # their consents to a couple's therapist, withdrawn


def start_fresh(
    db: Session, *, person: Person, new_password: str, hasher: PasswordHasher
) -> FreshStart:
    """Reset without the password or the recovery key.

    Everything sealed under the lost data key is removed (no one can open it any
    more; the safety questions are asked again), two-step sign-in is turned off (its
    secret was sealed too), a therapist's
    links end, and the person leaves their couple space: the couple key reached them
    only under the lost key. The partner keeps the space, what was shared and the
    pace, and can invite them again; the new code carries the couple key back.
    Raises Problem (weak_password) before changing anything.
    """
    problem = password_problem(new_password, person.username)
    if problem:
        raise Problem("weak_password", problem)
    removed = {
        name: _count(db.execute(delete(table).where(table.person_id == person.id)))
        for name, table in _OWN_ENTRIES
    }
    # Letter drafts go; a letter already shared stays for the partner, its draft emptied.
    removed["letter draft"] = _count(
        db.execute(
            delete(Letter).where(Letter.person_id == person.id, Letter.shared_sealed.is_(None))
        )
    )
    db.execute(update(Letter).where(Letter.person_id == person.id).values(sealed=b""))
    # What they prepared for the disclosure session goes; what they brought stays.
    db.execute(
        update(Disclosure)
        .where(Disclosure.person_id == person.id)
        .values(sealed=b"", review_key=None, review_sealed=None)
    )
    # A refresh waiting for the worker carries the lost key: it is not needed any more.
    db.execute(delete(RefreshRequest).where(RefreshRequest.person_id == person.id))
    two_step = person.totp_sealed is not None
    for table, column in SEALED_UNDER_OWN_KEY:
        if table == "person" and column.startswith("totp"):
            setattr(person, column, None)  # two-step sign-in, and all it remembers, off
    links = _count(db.execute(delete(TherapistLink).where(TherapistLink.therapist_id == person.id)))
    # A fresh start asks again: the couple's therapist sees them only once they consent anew.
    consents = _count(
        db.execute(delete(TherapistConsent).where(TherapistConsent.person_id == person.id))
    )
    left, partner = _leave_couple(db, person)
    fresh = auth.start_fresh(db, person=person, new_password=new_password, hasher=hasher)
    return FreshStart(fresh, removed, two_step, left, partner, links, consents)


def _count(result: Any) -> int:
    return int(result.rowcount)


def _leave_couple(db: Session, person: Person) -> tuple[bool, str | None]:
    """Take the person out of their couple space; the partner keeps it. Says whether
    they were in one, and who the partner is (None when there was none yet)."""
    membership = access.membership_of(db, person)
    if membership is None:
        return False, None
    couple_id = membership.couple_id
    partner = next((m for m in membership.couple.members if m.person_id != person.id), None)
    if partner is None:  # no one else holds the couple key: the space goes
        db.execute(delete(Couple).where(Couple.id == couple_id))
        db.expire_all()
        return True, None
    username = partner.person.username
    # An unused code the person made carries the couple key; it is theirs to give no more.
    db.execute(delete(Invite).where(Invite.couple_id == couple_id, Invite.created_by == person.id))
    db.execute(delete(Membership).where(Membership.person_id == person.id))
    db.expire_all()
    return True, username
