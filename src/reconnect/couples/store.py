"""Couple spaces: creating one, inviting the partner, joining, and the safety screen.

A person only ever reaches their own couple, through their membership row. Each
shared resource then has one helper in :mod:`reconnect.access` that decides who may
act on it and answers 404 to everyone else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from reconnect import access, keys, localtime
from reconnect.accounts.signed_in import SignedIn, token_hash
from reconnect.domain.couples import PARTNER_ROLE, Role, joining_as
from reconnect.domain.pacing.policy import load_policy
from reconnect.errors import Problem
from reconnect.models import Couple, Invite, Membership, PaceSignal, Person
from reconnect.safety.store import require_joint_features

INVITE_LIFETIME = timedelta(hours=72)
# Crockford's base32: no I, L, O or U, so a code read aloud is hard to get wrong.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 100 bits


@dataclass(frozen=True)
class CoupleView:
    """What a partner sees of their couple: identical whatever the other did privately."""

    couple_id: int
    my_role: str
    partner_username: str | None
    partner_role: str | None
    time_zone: str = localtime.DEFAULT_ZONE  # the couple's shared days are lived in it

    @property
    def paired(self) -> bool:
        return self.partner_username is not None


THERAPIST_ACCOUNT = (
    "This is a therapist's account, so it cannot create or join a couple space. "
    "The couples you work with appear in your caseload once they give you their code."
)


def refuse_therapist(db: Session, person: Person) -> None:
    """A therapist's account never becomes a partner: 403 therapist_account."""
    if access.is_therapist(db, person):
        raise Problem("therapist_account", THERAPIST_ACCOUNT, 403)


def check_role(role: str) -> str:
    known = [choice.value for choice in Role]
    if role not in known:
        raise Problem("invalid_role", f"Please choose one of: {', '.join(known)}.", 422)
    return role


def couple_view(db: Session, person: Person) -> CoupleView | None:
    membership = access.membership_of(db, person)
    if membership is None:
        return None
    partner = next((m for m in membership.couple.members if m.person_id != person.id), None)
    return CoupleView(
        couple_id=membership.couple_id,
        my_role=membership.role,
        partner_username=partner.person.username if partner else None,
        partner_role=partner.role if partner else None,
        time_zone=membership.couple.time_zone,
    )


def set_time_zone(db: Session, *, person: Person, time_zone: str) -> Couple:
    """Either partner may move the couple's shared days to another zone (an IANA name).

    Raises Problem (invalid_time_zone, no_couple)."""
    name = localtime.check_zone(time_zone)
    membership = access.membership_of(db, person)
    if membership is None:
        raise Problem("no_couple", "You are not in a couple space.", 404)
    membership.couple.time_zone = name
    db.flush()
    return membership.couple


# --- couples and invites -----------------------------------------------------


def _couple_wrap_context(couple_id: int, person_id: int) -> str:
    return f"wrap:couple:{couple_id}:person:{person_id}"


def _invite_wrap_context(couple_id: int) -> str:
    return f"wrap:invite:couple:{couple_id}"


def couple_key_for(membership: Membership, data_key: bytes) -> bytes:
    """The couple key, for sealing what the partners choose to share."""
    if membership.couple_key_wrap is None:
        raise Problem(
            "couple_key_missing",
            "Shared items cannot be opened from this account after a reset without the "
            "recovery key. Your partner can invite you again.",
            409,
        )
    return keys.unseal(
        data_key,
        membership.couple_key_wrap,
        _couple_wrap_context(membership.couple_id, membership.person_id),
    )


def opened_couple_key(db: Session, membership: Membership, data_key: bytes) -> bytes:
    """:func:`couple_key_for`, unwrapped once per session: a page reads several kinds of
    shared item, each sealed under the same key. Remembered in the session only (one
    request), for the exact wrap and key it came from."""
    opened: dict[tuple[int, int, bytes, bytes], bytes] = db.info.setdefault("couple_keys", {})
    wrap = membership.couple_key_wrap
    if wrap is None:
        return couple_key_for(membership, data_key)  # says why it cannot be opened
    mark = (membership.couple_id, membership.person_id, wrap, data_key)
    if mark not in opened:
        opened[mark] = couple_key_for(membership, data_key)
    return opened[mark]


def couple_and_key(db: Session, signed_in: SignedIn) -> tuple[Membership, bytes]:
    """The person's membership (joint features on) and their couple's key, opened."""
    membership = access.get_membership_for_person(
        db, person=signed_in.person, data_key=signed_in.data_key
    )
    return membership, opened_couple_key(db, membership, signed_in.data_key)


def create_couple(
    db: Session, *, person: Person, data_key: bytes, role: str, now: datetime
) -> Couple:
    refuse_therapist(db, person)
    require_joint_features(db, person, data_key)
    check_role(role)
    if access.membership_of(db, person) is not None:
        raise Problem("already_in_couple", "You already belong to a couple space.", 409)
    # A new couple paces under the newest policy, on its creator's days.
    couple = Couple(
        created_at=now, time_zone=person.time_zone, policy_version=load_policy().version
    )
    db.add(couple)
    db.flush()
    db.add(
        Membership(
            person_id=person.id,
            couple_id=couple.id,
            role=role,
            joined_at=now,
            couple_key_wrap=keys.seal(
                data_key, keys.new_key(), _couple_wrap_context(couple.id, person.id)
            ),
        )
    )
    db.flush()
    return couple


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 5] for i in range(0, CODE_LENGTH, 5))


def normalise_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return cleaned.translate(str.maketrans("OIL", "011"))


def code_with_couple_key(
    membership: Membership, data_key: bytes, context: str
) -> tuple[str, str, bytes]:
    """A new one-time code, the hash the database keeps of it, and the couple key
    wrapped under a key derived from the code: whoever redeems the code (the partner,
    or the therapist) can unwrap the couple key; the database alone cannot."""
    code = new_code()
    cleaned = normalise_code(code)
    wrap = keys.seal(keys.invite_key(cleaned), couple_key_for(membership, data_key), context)
    return code, token_hash(cleaned), wrap


def create_invite(
    db: Session, *, person: Person, data_key: bytes, now: datetime
) -> tuple[str, Invite]:
    """A new one-time code for the partner; any earlier unused code stops working.

    The code also carries the couple key to the partner: it is wrapped under a
    key derived from the code, which the database does not hold.
    """
    refuse_therapist(db, person)
    require_joint_features(db, person, data_key)
    membership = access.membership_of(db, person)
    if membership is None:
        raise Problem("no_couple", "Please create a couple space first.", 409)
    if len(membership.couple.members) >= 2:
        raise Problem("couple_full", "Your couple space already has two partners.", 409)
    # One live code at a time, so two people can never both join with old codes.
    db.execute(delete(Invite).where(Invite.couple_id == membership.couple_id))
    code, code_hash, wrap = code_with_couple_key(
        membership, data_key, _invite_wrap_context(membership.couple_id)
    )
    invite = Invite(
        couple_id=membership.couple_id,
        code_hash=code_hash,
        created_by=person.id,
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
        couple_key_wrap=wrap,
    )
    db.add(invite)
    db.flush()
    return code, invite


def _open_invitation(
    db: Session, *, person: Person, cleaned: str, now: datetime
) -> tuple[Invite, Role]:
    """The partner's live invitation for this (normalised) code, and the role that fits
    beside the partner's; Problem for anything else. Nothing about the couple is told
    before the code is known to be valid and open to this person."""
    invite = db.scalar(select(Invite).where(Invite.code_hash == token_hash(cleaned)))
    if not cleaned or invite is None:
        raise Problem(
            "invite_not_found",
            "That code does not match an invitation. Please check it with your partner.",
            404,
        )
    if invite.used_at is not None:
        raise Problem(
            "invite_used", "That code has already been used. Ask your partner for a new one.", 410
        )
    if invite.expires_at <= now:
        raise Problem(
            "invite_expired", "That code has expired. Ask your partner for a new one.", 410
        )
    mine = access.membership_of(db, person)
    if mine is not None and mine.couple_id == invite.couple_id:
        raise Problem("own_couple", "This is your own couple space; the code is for your partner.")
    if mine is not None:
        raise Problem("already_in_couple", "You already belong to a couple space.", 409)
    members = db.scalars(select(Membership).where(Membership.couple_id == invite.couple_id)).all()
    if not members:  # the partner who made it has left since
        raise Problem(
            "invite_not_found",
            "That code does not match an invitation. Please check it with your partner.",
            404,
        )
    if len(members) >= 2:
        raise Problem("couple_full", "That couple space already has two partners.", 409)
    # A couple space whose pace holds someone else (a partner who left it after a
    # password reset) is theirs to come back to; the pace cannot mix three people.
    former = db.scalar(
        select(PaceSignal.id)
        .where(
            PaceSignal.couple_id == invite.couple_id,
            PaceSignal.person_id.not_in([*(m.person_id for m in members), person.id]),
        )
        .limit(1)
    )
    if former is not None:
        raise Problem(
            "couple_has_history",
            "This couple space holds the pace of the partner who was in it before, so only "
            "they can join it again. To pace with someone new, your partner can start a "
            "new couple space.",
            409,
        )
    return invite, Role(members[0].role)


@dataclass(frozen=True)
class Invitation:
    """What a person holding a valid code learns before joining: the partner's role,
    and so theirs. Never the partner's name or anything else of the couple's."""

    partner_role: Role

    @property
    def role(self) -> Role:
        return PARTNER_ROLE[self.partner_role]

    @property
    def sentence(self) -> str:
        return joining_as(self.partner_role)


def invitation_for(
    db: Session, *, person: Person, data_key: bytes, code: str, now: datetime
) -> Invitation:
    """Check a code before joining, on the same terms as :func:`join_couple`, and say
    which role fits. Raises Problem (the same codes as joining, but role_conflict)."""
    refuse_therapist(db, person)
    require_joint_features(db, person, data_key)
    _, theirs = _open_invitation(db, person=person, cleaned=normalise_code(code), now=now)
    return Invitation(theirs)


def join_couple(
    db: Session, *, person: Person, data_key: bytes, code: str, role: str, now: datetime
) -> Couple:
    refuse_therapist(db, person)
    require_joint_features(db, person, data_key)
    check_role(role)
    cleaned = normalise_code(code)
    invite, theirs = _open_invitation(db, person=person, cleaned=cleaned, now=now)
    expected = PARTNER_ROLE[theirs]
    if role != expected.value:
        raise Problem(
            "role_conflict",
            joining_as(theirs),
            409,
        )
    couple_key = (
        keys.unseal(
            keys.invite_key(cleaned), invite.couple_key_wrap, _invite_wrap_context(invite.couple_id)
        )
        if invite.couple_key_wrap
        else None
    )
    # Claim the code atomically: if another request used it first, nothing changes.
    claimed = db.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now, couple_key_wrap=None)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Problem(
            "invite_used", "That code has already been used. Ask your partner for a new one.", 410
        )
    db.add(
        Membership(
            person_id=person.id,
            couple_id=invite.couple_id,
            role=role,
            joined_at=now,
            couple_key_wrap=keys.seal(
                data_key, couple_key, _couple_wrap_context(invite.couple_id, person.id)
            )
            if couple_key
            else None,
        )
    )
    db.flush()
    db.expire_all()
    return db.get_one(Couple, invite.couple_id)


def dissolve_couple(db: Session, *, person: Person) -> None:
    """Either partner may unlink alone. The couple space and everything it shared
    go for both; each person's private entries stay theirs."""
    membership = access.membership_of(db, person)
    if membership is None:
        raise Problem("no_couple", "You are not in a couple space.", 404)
    db.execute(delete(Couple).where(Couple.id == membership.couple_id))
    db.expire_all()
