"""May this person see this thing? The one place that answers it.

A partner reaches only their own couple, through their membership row; each shared
thing then has a ``get_<thing>_for_person`` helper here that returns it or raises
Problem, most often 404 (the same answer as for a thing that does not exist). A
therapist reaches a couple only through ``get_couple_for_therapist``, while both
partners consent. Every helper takes the session first and keyword arguments after
it; handlers and stores call these instead of looking memberships up themselves
(``tests/test_access_module.py`` keeps it so). The access-control matrix
(``tests/test_access_matrix.py``) proves the answers for every route and role.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from reconnect.database import keep
from reconnect.errors import Problem
from reconnect.models import (
    Couple,
    Experience,
    Membership,
    Person,
    Proposal,
    SafetyScreen,
    TherapistConsent,
    TherapistLink,
    Trigger,
)
from reconnect.safety.store import require_joint_features

# --- partners --------------------------------------------------------------------------


# The membership comes with its couple and both members in one statement: nearly every
# caller asks next how many members the couple has.
_WITH_COUPLE = (joinedload(Membership.couple).joinedload(Couple.members),)


# Built once, with a named parameter: every page asks (its navigation), and building
# a statement costs more than running it.
_MEMBERSHIP = (
    select(Membership).where(Membership.person_id == bindparam("person_id")).options(*_WITH_COUPLE)
)


def _in_session(db: Session, person: Person) -> bool:
    return db.identity_map.get(identity_key(Membership, person.id)) is not None


def membership_of(db: Session, person: Person) -> Membership | None:
    """The person's couple membership, if any: only for asking whether they are in a
    couple at all (the couple page, leaving, deleting), never to open a joint feature."""
    if _in_session(db, person):
        # No query, unless it was expired (then read again; None if deleted since).
        membership = db.get(Membership, person.id)
    else:
        membership = db.scalars(_MEMBERSHIP, {"person_id": person.id}).unique().first()
    if membership is not None:
        # A page asks for this several times (its navigation, then each shared thing);
        # kept, the later asks need no query.
        keep(db, membership, membership.couple, *membership.couple.members)
    return membership


def remember(
    db: Session,
    person: Person,
    membership: Membership | None,
    couple: Couple | None,
    partners: list[Membership],
    screen: SafetyScreen | None,
) -> None:
    """Keep what the sign-in read beside the person (auth.session_for_token), so that
    :func:`membership_of` and the safety screen's checks find it without a query."""
    if "membership" not in person.__dict__:
        set_committed_value(person, "membership", membership)
    if membership is not None and couple is not None:
        members = sorted([membership, *partners], key=lambda m: m.joined_at)
        if "members" not in couple.__dict__:  # read before in this session: as it is
            set_committed_value(couple, "members", members)
        keep(db, membership, couple, *couple.members)
    if screen is not None:
        keep(db, screen)


def get_membership_for_person(db: Session, *, person: Person, data_key: bytes) -> Membership:
    """The person's place in a couple where joint work is possible: two partners, and
    joint features on for this person (their sealed safety screen, opened with their
    ``data_key``). Raises Problem otherwise (409 not_paired, or the screen's 403)."""
    membership = _membership_and_screen(db, person)
    if membership is None or len(membership.couple.members) < 2:
        raise Problem(
            "not_paired",
            "The shared pace starts once you and your partner share a couple space.",
            409,
        )
    _require_joint_features(db, person, data_key)
    return membership


# Built once: every request about shared things starts here.
_MEMBERSHIP_AND_SCREEN = (
    select(Membership, SafetyScreen)
    .outerjoin(SafetyScreen, SafetyScreen.person_id == Membership.person_id)
    .where(Membership.person_id == bindparam("person_id"))
    .options(*_WITH_COUPLE)
)


def _membership_and_screen(db: Session, person: Person) -> Membership | None:
    """:func:`membership_of`, reading the person's safety screen in the same statement
    when the membership is not in the session yet (an API request needs both)."""
    if _in_session(db, person):
        return membership_of(db, person)
    row = db.execute(_MEMBERSHIP_AND_SCREEN, {"person_id": person.id}).unique().first()
    if row is None:
        return None
    membership, screen = row
    keep(db, membership, membership.couple, *membership.couple.members)
    if screen is not None:
        keep(db, screen)
    return membership


def _require_joint_features(db: Session, person: Person, data_key: bytes) -> None:
    """:func:`require_joint_features`, opened once per session for the same screen.

    A page asks for several shared things, each through this module. The answer
    depends only on the sealed screen and the key, so it is remembered for exactly
    those: a screen written again in the same session (going on after reading the
    resources) is opened afresh. A refusal is never remembered.
    """
    screen = db.get(SafetyScreen, person.id)  # kept by the safety store once read
    seen: set[tuple[int, bytes, bytes]] = db.info.setdefault("joint_features_on", set())
    mark = (person.id, screen.sealed, data_key) if screen is not None else None
    if mark is not None and mark in seen:
        return
    require_joint_features(db, person, data_key)
    if mark is not None:
        seen.add(mark)


def get_couple_for_person(db: Session, *, person: Person, data_key: bytes) -> Couple:
    """The couple of :func:`get_membership_for_person`, on the same terms."""
    return get_membership_for_person(db, person=person, data_key=data_key).couple


def get_experience_for_person(db: Session, *, person: Person, experience_id: int) -> Experience:
    """A shared experience of the person's own couple, or 404 (never another couple's)."""
    membership = membership_of(db, person)
    # Out-of-range ids cannot name a row; asking the database would overflow.
    experience = db.get(Experience, experience_id) if 0 < experience_id < 2**31 else None
    if membership is None or experience is None or experience.couple_id != membership.couple_id:
        raise Problem("experience_not_found", "There is no such shared experience.", 404)
    return experience


def get_trigger_for_person(db: Session, *, person: Person, trigger_id: int) -> Trigger:
    """A trigger this person's partner told them about; anything else is 404."""
    membership = membership_of(db, person)
    row = db.get(Trigger, trigger_id)
    if (
        membership is None
        or row is None
        or row.couple_id != membership.couple_id
        or row.person_id == person.id
        or row.told_sealed is None
    ):
        raise Problem("trigger_not_found", "There is no such trigger to respond to.", 404)
    return row


def get_proposal_for_person(db: Session, *, person: Person, proposal_id: int) -> Proposal:
    """A proposal the partner made to this person; their own or anyone else's is 404."""
    membership = membership_of(db, person)
    row = db.get(Proposal, proposal_id)
    if (
        membership is None
        or row is None
        or row.couple_id != membership.couple_id
        or row.proposed_by == person.id
    ):
        raise Problem("proposal_not_found", "There is no such proposal to answer.", 404)
    return row


def get_membership_to_invite_therapist(db: Session, *, person: Person) -> Membership:
    """The inviting partner's place in a couple of two, or 409 not_paired."""
    # No safety screen: a therapist is support, not joint work, and sees nothing unconsented.
    membership = membership_of(db, person)
    if membership is None or len(membership.couple.members) < 2:
        raise Problem("not_paired", "A therapist joins a couple space that has both partners.", 409)
    return membership


def get_therapist_link_for_person(db: Session, *, person: Person) -> TherapistLink:
    """The therapist link of the person's own couple, or 404 no_therapist."""
    membership = membership_of(db, person)
    link = (
        db.scalar(select(TherapistLink).where(TherapistLink.couple_id == membership.couple_id))
        if membership
        else None
    )
    if link is None:
        raise Problem("no_therapist", "No therapist has joined your couple space.", 404)
    return link


# --- therapists ------------------------------------------------------------------------


def is_therapist(db: Session, person: Person) -> bool:
    """Whether the person is here as a therapist: they said so when they signed up
    (from the start, before any couple links them), or, for accounts from before that
    choice, they are in no couple space of their own and joined to at least one
    couple's (consented to or not yet). For their landing page and navigation, and to
    keep a therapist's account out of couple spaces; it opens nothing."""
    if person.is_therapist:
        return True
    # With the safety screen, kept for the page's shared things: one statement fewer.
    if _membership_and_screen(db, person) is not None:
        return False
    joined = select(TherapistLink.id).where(TherapistLink.therapist_id == person.id).limit(1)
    return db.scalar(joined) is not None


def both_partners_consent(db: Session, link: TherapistLink) -> bool:
    """Whether the link holds both partners' consent: the therapist's only gate."""
    consents = (
        db.scalar(
            select(func.count())
            .select_from(TherapistConsent)
            .where(TherapistConsent.link_id == link.id)
        )
        or 0
    )
    return consents >= 2


def get_couple_for_therapist(db: Session, *, therapist: Person, couple_id: int) -> TherapistLink:
    """The therapist's link to this couple, only while both partners consent; else 404
    (the same answer as for a couple they never knew)."""
    # No safety screen: a therapist is not a partner and never answers one; consent gates.
    link = db.scalar(
        select(TherapistLink).where(
            TherapistLink.couple_id == couple_id, TherapistLink.therapist_id == therapist.id
        )
    )
    if link is None or not both_partners_consent(db, link):
        raise Problem("couple_not_found", "There is no such couple in your caseload.", 404)
    return link
