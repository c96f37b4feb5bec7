"""Tables. The schema changes only through Alembic migrations in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored case-folded so "Sam" and "sam" are one account.
    username: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The person's data key, only ever stored wrapped (see keys.py): by a key
    # derived from their password with these Argon2id settings, and by their
    # recovery key.
    kdf_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    kdf_memory_kib: Mapped[int] = mapped_column(Integer)
    kdf_time_cost: Mapped[int] = mapped_column(Integer)
    kdf_parallelism: Mapped[int] = mapped_column(Integer)
    key_by_password: Mapped[bytes] = mapped_column(LargeBinary(128))
    key_by_recovery: Mapped[bytes] = mapped_column(LargeBinary(128))
    # Optional two-step sign-in: the TOTP secret, sealed under the data key.
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary(128), nullable=True)
    # The time step of the last code used, sealed too (it tells when the person signed
    # in): a code at or before it is refused, so a code works once.
    totp_step_sealed: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    # An IANA time zone name ("Europe/Berlin"): the person's days, weeks and times.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Signed up as a couples therapist: their caseload from the start, never a couple
    # space of their own.
    is_therapist: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    membership: Mapped[Membership | None] = relationship(back_populates="person", uselist=False)


class AuthSession(Base):
    """A sign-in: a browser cookie or an API bearer token. Only a hash is stored."""

    __tablename__ = "auth_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "browser" | "api"
    # Both to the hour (auth.start_session): expiry is checked without anyone's key,
    # and a stolen file should not date each sign-in to the second.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The data key, wrapped under a key only the token itself yields: the
    # database alone never unlocks it.
    key_wrap: Mapped[bytes] = mapped_column(LargeBinary(128))

    person: Mapped[Person] = relationship()


class Couple(Base):
    __tablename__ = "couple"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The couple's shared days ("separate days" of practice) are days in this zone.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # The pacing policy this couple is paced under (couples made before v2 stay on
    # v1 until an operator moves them: docs/pacing.md).
    policy_version: Mapped[str] = mapped_column(String(16), server_default="v1")

    members: Mapped[list[Membership]] = relationship(
        back_populates="couple", order_by="Membership.joined_at"
    )


class Membership(Base):
    """A person's place in a couple; a person belongs to at most one couple."""

    __tablename__ = "membership"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # "hurt" | "involved" | "both_hurt"
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The couple key (for what partners share), wrapped under this person's data key.
    couple_key_wrap: Mapped[bytes | None] = mapped_column(LargeBinary(128), nullable=True)

    person: Mapped[Person] = relationship(back_populates="membership")
    couple: Mapped[Couple] = relationship(back_populates="members")


class Invite(Base):
    """A one-time pairing code. Only its hash is stored, so a database copy cannot join."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The couple key wrapped under the code itself; cleared once the code is used.
    couple_key_wrap: Mapped[bytes | None] = mapped_column(LargeBinary(128), nullable=True)


class SafetyScreen(Base):
    """The outcome of a person's private safety screen; never shown to the partner.

    The individual answers are not kept. The outcome (support needed, when answered,
    when the person chose to go on) is sealed under their own key (couples.py): the
    row's existence says only that the screen was answered, as any couple space does.
    """

    __tablename__ = "safety_screen"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class LoginFailure(Base):
    """Failed sign-ins and password checks, kept briefly to rate-limit guessing.

    ``key`` is a keyed digest naming the counter (ratelimit.py), never a typed name,
    an address or a token."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- pacing: private entries, shared experiences, coarse signals, decisions ------


class CheckInEntry(Base):
    """A person's private check-in, sealed under their own data key.

    Only its owner can open ``sealed``; the pace reads the signals it yielded."""

    __tablename__ = "checkin"
    __table_args__ = (Index("ix_checkin_person_recorded", "person_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Experience(Base):
    """A practice the couple did together: a shared fact, without anyone's ratings."""

    __tablename__ = "experience"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"), index=True)
    practice_id: Mapped[str] = mapped_column(String(80))
    tier: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Logged above the tier permitted at the time: recorded honestly, never counted.
    ahead_of_pace: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who started the practice, as the person logging it says (not who logged it).
    started_by: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), nullable=True
    )


class ExperienceRatingEntry(Base):
    """One partner's private reflection on a shared experience, sealed under their key.

    It outlives the couple: if the couple dissolves, ``experience_id`` becomes
    null and the reflection (which carries its own practice and time) stays theirs.
    """

    __tablename__ = "experience_rating"
    __table_args__ = (UniqueConstraint("experience_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experience_id: Mapped[int | None] = mapped_column(
        ForeignKey("experience.id", ondelete="SET NULL"), index=True, nullable=True
    )
    # Looked up by person on the today and progress pages (migration 0007).
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class PaceSignal(Base):
    """A coarse signal derived from a private entry when it was written.

    These rows are all the pacing engine, and the other partner's side of the
    app, ever read. ``data`` is the signal's own JSON form.
    """

    __tablename__ = "pace_signal"
    __table_args__ = (Index("ix_pace_signal_couple_at", "couple_id", "at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[str] = mapped_column(Text)


class PaceDecision(Base):
    """Every decision the engine made, with its policy version: the audit trail,
    and the checkpoint the next decision resumes from.

    ``superseded``: an entry dated back to this decision's time or earlier was written
    after it. It stays as what the app showed then, but the next decision never resumes
    from it, as it lacks that entry.
    """

    __tablename__ = "pace_decision"
    # Both steps too: how the pace changed is read from the index alone (the rows hold
    # whole decisions, a few kilobytes each).
    __table_args__ = (
        Index(
            "ix_pace_decision_couple_at_steps",
            "couple_id",
            "decided_at",
            "id",
            "permitted_tier",
            "ladder_tier",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    policy_version: Mapped[str] = mapped_column(String(32))
    permitted_tier: Mapped[int] = mapped_column(Integer)  # what fitted that day
    ladder_tier: Mapped[int] = mapped_column(Integer)  # where the couple had reached
    data: Mapped[str] = mapped_column(Text)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


# --- moments that matter: shared status, triggers, proposals, breaks, heart rate ---


class SharedStatus(Base):
    """How a partner is today, shared with the other: sealed under the couple key."""

    __tablename__ = "shared_status"
    __table_args__ = (Index("ix_shared_status_couple_at", "couple_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Trigger(Base):
    """A trigger a hurt partner logged. What, how strong and when are sealed under their
    own key; if they chose to tell their partner, a copy is sealed under the couple key
    and ``at`` (to the minute) is the time the partner is shown. An untold trigger has
    no time in clear (``at`` is null; rows from before migration 0010 keep theirs until
    the owner next signs in, see reseal.py)."""

    __tablename__ = "trigger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    couple_id: Mapped[int | None] = mapped_column(
        ForeignKey("couple.id", ondelete="SET NULL"), nullable=True, index=True
    )
    at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    told_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    response_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Proposal(Base):
    """A partner proposes a practice; the other accepts or declines, without a reason."""

    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"), index=True)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # the practice, under the couple key
    response: Mapped[str | None] = mapped_column(String(16), nullable=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FloodBreak(Base):
    """A break after someone flooded, with the return time both partners see."""

    __tablename__ = "flood_break"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"), index=True)
    started_by: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), nullable=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    return_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HeartRateImport(Base):
    """One import of a person's heart-rate samples, sealed under their own key.

    ``file_hash`` (SHA-256 of the uploaded file, keyed per person) lets the same
    export be recognised and not stored twice. The span the samples cover is sealed
    too (``span_sealed``), so a practice's window opens only the imports that overlap
    it without a date range in clear.
    """

    __tablename__ = "heart_rate_import"
    __table_args__ = (UniqueConstraint("person_id", "file_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    file_hash: Mapped[str] = mapped_column(String(64))
    # Null only for imports made before migration 0010: their span is read from the
    # samples and sealed at the owner's next sign-in (reseal.py).
    span_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # The watch's calm readings (its daily resting heart rate, readings taken sitting
    # still), for the calm baseline; null when the file had none (migration 0011).
    calm_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Finding(Base):
    """What a detector noticed, sealed: under the owner's key when it came from their
    private entries, under the couple key when it is a couple-level pattern."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int | None] = mapped_column(
        ForeignKey("couple.id", ondelete="CASCADE"), nullable=True, index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class ExperienceFact(Base):
    """Two coarse yes/no facts from one partner's reflection, for the couple-level
    pattern detectors: did they leave, and did they end activated (7 or more).
    Like the pace signals, nothing finer than that is kept in the clear."""

    __tablename__ = "experience_fact"
    __table_args__ = (UniqueConstraint("experience_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experience_id: Mapped[int] = mapped_column(
        ForeignKey("experience.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    left: Mapped[bool] = mapped_column(Boolean)
    ended_activated: Mapped[bool] = mapped_column(Boolean)


class QuestionnaireResponse(Base):
    """One administration of a questionnaire: which one, when, the answers and the
    score, all sealed under the person's own key.

    ``instrument_id`` and ``taken_at`` are null; rows from before migration 0010 keep
    them in clear until the owner next signs in (reseal.py)."""

    __tablename__ = "questionnaire_response"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    instrument_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class QuestionnairePlan(Base):
    """A person's own questionnaire plan, sealed under their key: which questionnaires
    they chose to repeat and how often, when each was last answered, and the gentle
    check still owed after a crisis answer. A row exists once they answer or plan one."""

    __tablename__ = "questionnaire_plan"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class HardDates(Base):
    """The dates a person marked as hard (the day of discovery, others they choose),
    sealed under their key as one padded list, so the file tells neither which days
    nor how many. A row exists once they mark one."""

    __tablename__ = "hard_dates"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class CoupleQuestionnairePlan(Base):
    """The questionnaires the couple's therapist asked both partners to repeat, and how
    often: sealed under the couple key, so both partners and that therapist can read it."""

    __tablename__ = "couple_questionnaire_plan"

    couple_id: Mapped[int] = mapped_column(
        ForeignKey("couple.id", ondelete="CASCADE"), primary_key=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


# --- the therapist: invited by a partner, present only while both consent ----------


class TherapistInvite(Base):
    """A one-time code a partner gives their therapist. Like a partner invitation it
    carries the couple key, wrapped under the code itself."""

    __tablename__ = "therapist_invite"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    couple_key_wrap: Mapped[bytes | None] = mapped_column(LargeBinary(128), nullable=True)


class TherapistLink(Base):
    """A therapist's place with one couple: the couple key wrapped for the therapist.

    Deleting the row (either partner revokes) deletes the wrap: nothing remains
    that would let the therapist read the couple's shared data again.
    """

    __tablename__ = "therapist_link"
    __table_args__ = (UniqueConstraint("couple_id", "therapist_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"))
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    couple_key_wrap: Mapped[bytes] = mapped_column(LargeBinary(128))
    # What partners share with the therapist alone is sealed to this public key; its
    # private half is sealed under the therapist's own data key.
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), default=b"")
    private_key_sealed: Mapped[bytes] = mapped_column(LargeBinary(128), default=b"")


class TherapistConsent(Base):
    """One partner's consent to a therapist link. The therapist sees the couple only
    while both partners' consents exist."""

    __tablename__ = "therapist_consent"
    __table_args__ = (UniqueConstraint("link_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("therapist_link.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TherapistShare(Base):
    """Something a consenting partner shared with the therapist only (a questionnaire
    result, a crisis answer), sealed to the therapist's public key: the other partner
    cannot open it, and it goes with the link when consent ends."""

    __tablename__ = "therapist_share"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(
        ForeignKey("therapist_link.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


# --- notes between partners ----------------------------------------------------------


class SharedNote(Base):
    """A note or letter one partner sent the other: sealed under the couple key.

    The message coach's reading of it is never stored, here or anywhere.
    """

    __tablename__ = "shared_note"
    __table_args__ = (Index("ix_shared_note_couple_at", "couple_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Commitment(Base):
    """A commitment a partner offered the other (no contact with the affair partner,
    telling about an unexpected contact within a day...), what keeping it looks like,
    and its days: kept or not, as the one who offered it recorded, and "I noticed" from
    the other. Sealed under the couple key, padded: both partners read it. The app never
    checks anything itself."""

    __tablename__ = "commitment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Ritual(Base):
    """A small recurring ritual of connection the couple chose from the practices the
    pace allows (a walk, a ten-minute check-in), and the days they did it. Sealed under
    the couple key, padded: both partners read it."""

    __tablename__ = "ritual"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Letter(Base):
    """A letter of the recovery arc: the hurt partner's impact letter or the involved
    partner's accountability letter. The draft is sealed under the writer's own key;
    once the writer chooses to share it, a copy (and the reader's reply) is sealed
    under the couple key. Both padded."""

    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    shared_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Disclosure(Base):
    """One partner's part in the disclosure session of the recovery arc.

    ``sealed``: what they prepared (the account, or the questions and their limits),
    under their own key, padded. ``shared_sealed``: what they chose to bring (their
    readiness for a session, the questions and limits, an account left to be read
    again), under the couple key, padded. ``review_key``: a public key made when they
    asked the therapist to read their account first; its private half is in
    ``sealed``, so ``review_sealed`` (the therapist's reading) opens for them alone."""

    __tablename__ = "disclosure"
    __table_args__ = (UniqueConstraint("couple_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couple.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    shared_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    review_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    review_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


# --- work after the answer -------------------------------------------------------------


class RefreshRequest(Base):
    """A person's findings are waiting to be worked out again (reconnect.jobs).

    Written in the same transaction as the entry that asks for it, so a write that is
    on disk is never without its refresh, whatever happens to the process next; the
    job worker deletes it once the findings are stored. One row per person: a burst
    of writes updates it, and one refresh answers them all.
    """

    __tablename__ = "refresh_request"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    # Whether a write the partner sees anyway is among those waiting: only then are
    # the couple's patterns worked out again (after_write.look_again says why).
    shared: Mapped[bool] = mapped_column(Boolean)
    # The person's data key, sealed under a key derived from the installation's secret
    # (keys.job_key): the worker opens it, the database alone does not.
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary(128))
    # The time of the latest write: the detectors look back from it.
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the row was first written (the server's clock): a row older than a minute
    # lost its job in a crash, and the worker's sweep queues it again.
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime)
    # Random stamps: ``opened`` by the write that made the row, ``latest`` by the last
    # write. The writer that sees its own stamp in ``opened`` queues the job; the worker
    # deletes the row only if ``latest`` is still the one it worked from.
    opened: Mapped[int] = mapped_column(BigInteger)
    latest: Mapped[int] = mapped_column(BigInteger)
