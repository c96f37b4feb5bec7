"""A couple's therapist: invited by a partner, seeing the couple only while both
partners consent, and losing access on the next request after either revokes.

``access.get_couple_for_therapist`` answers "may this therapist see this couple";
every therapist view goes through it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from nacl.public import PrivateKey, PublicKey, SealedBox
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reconnect import access, keys, localtime
from reconnect.accounts.signed_in import SignedIn, token_hash
from reconnect.couples.store import INVITE_LIFETIME, code_with_couple_key, normalise_code
from reconnect.domain.insights import findings as d
from reconnect.domain.pacing.catalogue import DISCLOSURE
from reconnect.domain.pacing.signals import LapseSignal
from reconnect.domain.progress.points import ScorePoint, TierPoint
from reconnect.errors import Problem
from reconnect.insights import store as insights
from reconnect.insights.store import finding_context
from reconnect.measures import plans
from reconnect.models import (
    Disclosure,
    Experience,
    Finding,
    FloodBreak,
    Membership,
    PaceSignal,
    Person,
    TherapistConsent,
    TherapistInvite,
    TherapistLink,
    TherapistShare,
)
from reconnect.pacing.changes import pace_changes
from reconnect.progress import charts as progress
from reconnect.therapist import recovery


def _invite_context(couple_id: int) -> str:
    return f"wrap:therapist-invite:couple:{couple_id}"


def _link_context(link: TherapistLink) -> str:
    return f"wrap:therapist:{link.therapist_id}:couple:{link.couple_id}"


def invite(db: Session, *, signed_in: SignedIn, now: datetime) -> tuple[str, TherapistInvite]:
    """A partner makes a one-time code for their therapist (it also counts as that
    partner's consent once the therapist joins)."""
    membership = access.get_membership_to_invite_therapist(db, person=signed_in.person)
    db.execute(delete(TherapistInvite).where(TherapistInvite.couple_id == membership.couple_id))
    code, code_hash, wrap = code_with_couple_key(
        membership, signed_in.data_key, _invite_context(membership.couple_id)
    )
    row = TherapistInvite(
        couple_id=membership.couple_id,
        code_hash=code_hash,
        created_by=signed_in.person.id,
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
        couple_key_wrap=wrap,
    )
    db.add(row)
    db.flush()
    return code, row


def join(db: Session, *, signed_in: SignedIn, code: str, now: datetime) -> TherapistLink:
    """The therapist redeems the code; the inviting partner's consent comes with it."""
    cleaned = normalise_code(code)
    row = db.scalar(select(TherapistInvite).where(TherapistInvite.code_hash == token_hash(cleaned)))
    if not cleaned or row is None or row.couple_key_wrap is None:
        raise Problem("invite_not_found", "That code does not match an invitation.", 404)
    if row.expires_at <= now:
        raise Problem("invite_expired", "That code has expired. Ask for a new one.", 410)
    if access.membership_of(db, signed_in.person) is not None:
        raise Problem(
            "partner_not_therapist", "A partner in a couple space cannot be its therapist.", 409
        )
    couple_key = keys.unseal(
        keys.invite_key(cleaned), row.couple_key_wrap, _invite_context(row.couple_id)
    )
    # One therapist per couple space: the partners' therapist page shows one, and
    # consent and revocation act on that one. A new therapist replaces the earlier
    # link, and its key wrap goes with it.
    db.execute(
        delete(TherapistLink).where(
            TherapistLink.couple_id == row.couple_id,
            TherapistLink.therapist_id != signed_in.person.id,
        )
    )
    link = db.scalar(
        select(TherapistLink).where(
            TherapistLink.couple_id == row.couple_id,
            TherapistLink.therapist_id == signed_in.person.id,
        )
    ) or TherapistLink(couple_id=row.couple_id, therapist_id=signed_in.person.id, created_at=now)
    link.couple_key_wrap = b""
    db.add(link)
    db.flush()
    link.couple_key_wrap = keys.seal(signed_in.data_key, couple_key, _link_context(link))
    # A key pair for what partners share with the therapist alone (sealed boxes).
    private = PrivateKey.generate()
    link.public_key = bytes(private.public_key)
    link.private_key_sealed = keys.seal(
        signed_in.data_key, bytes(private), f"therapist-private:{link.id}"
    )
    db.execute(delete(TherapistConsent).where(TherapistConsent.link_id == link.id))
    db.add(TherapistConsent(link_id=link.id, person_id=row.created_by, granted_at=now))
    db.delete(row)
    db.flush()
    return link


def consent(db: Session, *, signed_in: SignedIn, now: datetime) -> None:
    link = access.get_therapist_link_for_person(db, person=signed_in.person)
    existing = db.scalar(
        select(TherapistConsent).where(
            TherapistConsent.link_id == link.id, TherapistConsent.person_id == signed_in.person.id
        )
    )
    if existing is None:
        db.add(TherapistConsent(link_id=link.id, person_id=signed_in.person.id, granted_at=now))
        db.flush()


def _sealed_for(link: TherapistLink, content: Mapping[str, object]) -> bytes:
    return SealedBox(PublicKey(link.public_key)).encrypt(keys.padded(json.dumps(content).encode()))


def share_with_therapist(
    db: Session, *, signed_in: SignedIn, content: Mapping[str, object], now: datetime
) -> int | None:
    """Seal ``content`` for the couple's therapist alone, if this person consents.

    Returns the share's id, or None when nothing was shared. The other partner cannot
    open it: it is sealed to the therapist's public key, not under the couple key.
    """
    try:
        link = access.get_therapist_link_for_person(db, person=signed_in.person)
    except Problem:
        return None
    if not link.public_key:
        return None
    consented = db.scalar(
        select(TherapistConsent.id).where(
            TherapistConsent.link_id == link.id, TherapistConsent.person_id == signed_in.person.id
        )
    )
    if consented is None:
        return None
    share = TherapistShare(
        link_id=link.id, person_id=signed_in.person.id, at=now, sealed=_sealed_for(link, content)
    )
    db.add(share)
    db.flush()
    return share.id


def therapist_sees(db: Session, signed_in: SignedIn) -> bool:
    """Whether a therapist can see this person's couple now: joined, and both agree."""
    try:
        link = access.get_therapist_link_for_person(db, person=signed_in.person)
    except Problem:
        return False
    return bool(link.public_key) and access.both_partners_consent(db, link)


def replace_share(
    db: Session, *, signed_in: SignedIn, share_id: int, content: Mapping[str, object]
) -> bool:
    """Seal new ``content`` into one of this person's own shares, in place.

    The share keeps its row and its time, and its sealed length stays in the same
    block, so the database file does not show that it changed. False when the share
    is gone (consent ended) or the therapist cannot see the couple now.
    """
    share = db.get(TherapistShare, share_id)
    if share is None or share.person_id != signed_in.person.id:
        return False
    link = db.get(TherapistLink, share.link_id)
    if link is None or not link.public_key or not access.both_partners_consent(db, link):
        return False
    share.sealed = _sealed_for(link, content)
    db.flush()
    return True


def revoke(db: Session, *, signed_in: SignedIn) -> None:
    """Either partner, alone, at any time: the link and its key wrap are deleted."""
    link = access.get_therapist_link_for_person(db, person=signed_in.person)
    db.delete(link)
    db.flush()


@dataclass(frozen=True)
class TherapistStatus:
    """What a partner sees about their therapist: whether one joined and who consented."""

    therapist_username: str
    i_consented: bool
    partner_consented: bool

    @property
    def active(self) -> bool:
        return self.i_consented and self.partner_consented


def status_for_partner(db: Session, signed_in: SignedIn) -> TherapistStatus | None:
    try:
        link = access.get_therapist_link_for_person(db, person=signed_in.person)
    except Problem:
        return None
    consented = set(
        db.scalars(select(TherapistConsent.person_id).where(TherapistConsent.link_id == link.id))
    )
    therapist = db.get_one(Person, link.therapist_id)
    return TherapistStatus(
        therapist.username,
        signed_in.person.id in consented,
        bool(consented - {signed_in.person.id}),
    )


def visible(db: Session, therapist: Person, couple_id: int) -> bool:
    try:
        access.get_couple_for_therapist(db, therapist=therapist, couple_id=couple_id)
    except Problem:
        return False
    return True


@dataclass(frozen=True)
class CaseloadEntry:
    """A couple in the caseload. The API keeps its fields (``permitted_tier``, what
    fits today, and its drops since the therapist last looked); the page shows where
    the couple has reached together (``ladder_tier``) and its steps back since."""

    couple_id: int
    permitted_tier: int | None
    setbacks_since_review: int
    breaks_since_review: int
    ladder_tier: int | None = None
    steps_back_since_review: int = 0
    # Questionnaires on which one partner reliably improved and the other worsened.
    diverging: tuple[str, ...] = ()


def _drops_since(changes: list[tuple[datetime, int]], since: datetime | None) -> int:
    return sum(
        1
        for (_, a), (at, b) in itertools.pairwise(changes)
        if b < a and (since is None or at > since)
    )


def caseload(db: Session, therapist_id: int, data_key: bytes | None = None) -> list[CaseloadEntry]:
    """The couples this therapist may see now, with what changed since their last review.
    With the therapist's ``data_key``, also the questionnaires on which the partners'
    latest shared results moved reliably apart."""
    entries = []
    for link in db.scalars(select(TherapistLink).where(TherapistLink.therapist_id == therapist_id)):
        if not access.both_partners_consent(db, link):
            continue
        shared = _shared(db, link, data_key, UTC) if data_key else []
        changes = pace_changes(db, link.couple_id, UTC)
        tiers, ladder = _pairs(changes.fits), _pairs(changes.reached)
        since = link.reviewed_at
        entries.append(
            CaseloadEntry(
                couple_id=link.couple_id,
                permitted_tier=tiers[-1][1] if tiers else None,
                setbacks_since_review=_drops_since(tiers, since),
                ladder_tier=ladder[-1][1] if ladder else None,
                steps_back_since_review=_drops_since(ladder, since),
                diverging=tuple(d.title for d in divergences(shared)),
                breaks_since_review=db.scalar(
                    select(func.count())
                    .select_from(FloodBreak)
                    .where(
                        FloodBreak.couple_id == link.couple_id,
                        FloodBreak.started_at > (since or datetime.min.replace(tzinfo=UTC)),
                    )
                )
                or 0,
            )
        )
    return entries


def _pairs(points: list[TierPoint]) -> list[tuple[datetime, int]]:
    """When a step changed, and to what. Not every decision: one follows each
    check-in, and their times would tell the therapist when each partner checked in."""
    return [(p.at, p.tier) for p in points]


@dataclass(frozen=True)
class SharedResult:
    """A questionnaire result (or a reflection) a partner shared with the therapist.
    ``partner`` names the sharer in words: "hurt partner", "involved partner", or,
    when both were hurt, "partner who joined first" or "... second"."""

    role: str
    at: datetime
    content: dict[str, object]
    partner: str = ""


def _words(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


# What a partner shares with the therapist beside questionnaire results: their own
# reflections, and a disclosure account to read before the session (reconnect.disclosure).
DISCLOSURE_SHARE = "disclosure_account"
NOT_RESULTS = frozenset({"finding", DISCLOSURE_SHARE})


@dataclass(frozen=True)
class AccountToRead:
    """A disclosure account its writer asked the therapist to read before sharing."""

    id: int
    partner: str
    asked_at: datetime
    account: dict[str, str]
    answered: bool


@dataclass(frozen=True)
class PartnerTurn:
    """One partner's turn at a questionnaire the therapist asked for."""

    instrument_id: str
    partner: str
    last_shared: datetime | None
    turn: datetime
    due: bool


@dataclass(frozen=True)
class CoupleForTherapist:
    """What the therapist sees of a couple. ``tiers`` and ``setbacks``: the changes of
    what fitted each day (the permitted tier) and its drops, for the API. ``ladder``
    and ``steps_back``: where the couple had reached together and its steps back,
    which the pages and the report show, by each step's name."""

    couple_id: int
    tiers: list[tuple[datetime, int]]
    setbacks: list[tuple[datetime, int]]
    breaks: list[tuple[datetime, datetime]]
    patterns: list[d.Finding]
    shared: list[SharedResult]
    # The therapist's own zone: every time above is already on its clock.
    time_zone: str = localtime.DEFAULT_ZONE
    ladder: list[tuple[datetime, int]] = field(default_factory=list)
    # The questionnaires this therapist asked both partners to repeat.
    plan: plans.Plan = field(default_factory=plans.Plan)
    # Both partners, named as in SharedResult, in the order they are shown.
    partners: tuple[str, ...] = ()
    # When a lapse or a new disclosure was recorded, and whether both partners
    # recorded it together; never what happened.
    lapses: list[tuple[datetime, bool]] = field(default_factory=list)
    # What both partners share by design (the couple key): their commitments and
    # rituals, with their days.
    commitments: list[recovery.CommitmentSeen] = field(default_factory=list)
    rituals: list[recovery.RitualSeen] = field(default_factory=list)
    # The disclosure accounts (by id) this therapist's reading went back to.
    read: frozenset[int] = frozenset()
    # When the couple held a disclosure session (the practice "the-full-account").
    disclosures: list[datetime] = field(default_factory=list)

    def turns(self, now: datetime) -> list[PartnerTurn]:
        """For each questionnaire asked for and each partner: when it was last shared
        with this therapist and when its turn is (or was), judged from the shared
        results alone. A result a partner did not share counts as not answered."""
        found = []
        for instrument_id, every in sorted(self.plan.repeat.items()):
            since = datetime.fromisoformat(self.plan.since[instrument_id])
            for partner in self.partners:
                last = max(
                    (
                        r.at
                        for r in self.results
                        if r.partner == partner and r.content.get("instrument") == instrument_id
                    ),
                    default=None,
                )
                turn = plans.next_turn(every, since, last, now)
                found.append(PartnerTurn(instrument_id, partner, last, turn, turn <= now))
        return found

    @property
    def steps_back(self) -> list[tuple[datetime, int]]:
        return [b for a, b in itertools.pairwise(self.ladder) if b[1] < a[1]]

    @property
    def results(self) -> list[SharedResult]:
        return [s for s in self.shared if s.content.get("kind") not in NOT_RESULTS]

    @property
    def accounts(self) -> list[AccountToRead]:
        """The disclosure accounts a partner asked this therapist to read before the
        session: the latest asked for each, and whether a reading went back since."""
        latest = {
            int(str(s.content["disclosure_id"])): s
            for s in self.shared
            if s.content.get("kind") == DISCLOSURE_SHARE
        }
        return [
            AccountToRead(i, s.partner, s.at, _words(s.content["account"]), i in self.read)
            for i, s in sorted(latest.items(), key=lambda item: item[1].at)
        ]

    @property
    def findings(self) -> list[SharedResult]:
        return [s for s in self.shared if s.content.get("kind") == "finding"]

    @property
    def divergences(self) -> list[Divergence]:
        return divergences(self.results)


def charts(view: CoupleForTherapist, today: date | None = None) -> tuple[progress.Chart, ...]:
    """The couple view's charts: where they have reached together (up to ``today``),
    steps back marked, and for each shared questionnaire (or each part of one without
    a total) both partners' scores side by side on one chart, reliable change marked."""
    ladder = [TierPoint(at, tier) for at, tier in view.ladder]
    found = [progress.tier_chart(ladder, today, who="they")]
    for key, scores in _scales(view.results).items():
        partners: dict[str, list[ScorePoint]] = {}
        for result, scale in sorted(scores, key=lambda pair: _shown_order(pair[0].partner)):
            change = str(scale["change"]) if scale.get("change") else None
            point = ScorePoint(result.at.date(), float(scale["score"]), change)
            partners.setdefault(result.partner, []).append(point)
        highest = scores[-1][1].get("highest")
        points = [p for each in partners.values() for p in each]
        top = float(highest) if isinstance(highest, int | float) else max(p.score for p in points)
        # A couple has two partners; the table beside the chart lists every result.
        named = [(name[0].upper() + name[1:], each) for name, each in partners.items()][:2]
        whose = "both partners" if len(named) == 2 else named[0][0].lower()
        title = f"{scores[-1][1]['title']}, {whose}"
        found.append(progress.pair_score_chart(f"scores-{key}", title, named, top or 1))
    return (*found, *recovery.charts(view.commitments, view.rituals))


_Scale = dict[str, Any]


def _scales(
    results: list[SharedResult],
) -> dict[str, list[tuple[SharedResult, _Scale]]]:
    """Each shared result's scores, by chart key (sorted), oldest first: its total, or
    each part of a questionnaire without one. A scale is its ``title``, ``score``,
    ``highest`` and ``change``."""
    found: dict[str, list[tuple[SharedResult, _Scale]]] = {}
    for result in results:
        content, instrument = result.content, str(result.content.get("instrument", ""))
        title = str(content.get("title", instrument))
        if isinstance(content.get("total"), int | float):
            scale = {"title": title, "score": content["total"]} | {
                k: content.get(k) for k in ("highest", "change")
            }
            found.setdefault(instrument, []).append((result, scale))
            continue
        parts = content.get("subscales")
        for sub_id, part in (parts if isinstance(parts, dict) else {}).items():
            if isinstance(part, dict) and isinstance(part.get("score"), int | float):
                scale = {**part, "title": f"{title}: {part.get('title', sub_id)}"}
                found.setdefault(f"{instrument}-{sub_id}", []).append((result, scale))
    return dict(sorted(found.items()))


# How the partners are named to the therapist, in the order they are shown. Two hurt
# partners share a role, so they are told apart by when each joined the couple.
_PARTNER_ORDER = (
    "hurt partner",
    "involved partner",
    "partner who joined first",
    "partner who joined second",
)


def _shown_order(partner: str) -> int:
    return _PARTNER_ORDER.index(partner) if partner in _PARTNER_ORDER else len(_PARTNER_ORDER)


def _partner_names(members: list[Membership]) -> dict[int, str]:
    roles = [m.role for m in members]
    names = {}
    for number, m in enumerate(sorted(members, key=lambda m: (m.joined_at, m.person_id))):
        if roles.count(m.role) == 1:
            names[m.person_id] = f"{m.role.replace('_', ' ')} partner"
        else:
            names[m.person_id] = _PARTNER_ORDER[2 + min(number, 1)]
    return names


def _members(db: Session, link: TherapistLink) -> list[Membership]:
    """The partners of a couple whose link the caller checked both partners agree to."""
    return list(db.scalars(select(Membership).where(Membership.couple_id == link.couple_id)))


def _shared(
    db: Session,
    link: TherapistLink,
    data_key: bytes,
    zone: tzinfo,
    members: list[Membership] | None = None,
) -> list[SharedResult]:
    """What the partners shared with this therapist, opened with the therapist's key,
    oldest first, each with the sharer's role and its time on ``zone``'s clock."""
    private = PrivateKey(
        keys.unseal(data_key, link.private_key_sealed, f"therapist-private:{link.id}")
    )
    if members is None:
        members = _members(db, link)
    roles = {m.person_id: m.role for m in members}
    names = _partner_names(members)
    return [
        SharedResult(
            roles.get(row.person_id, "partner"),
            localtime.to_local(row.at, zone),
            json.loads(SealedBox(private).decrypt(row.sealed)),
            names.get(row.person_id, "partner"),
        )
        for row in db.scalars(
            select(TherapistShare)
            .where(TherapistShare.link_id == link.id)
            .order_by(TherapistShare.at)
        )
    ]


@dataclass(frozen=True)
class Divergence:
    """A questionnaire on which the partners' latest shared results went opposite ways:
    one a reliable improvement, the other a reliable worsening. ``instrument`` is the
    questionnaire's id, or for a part of one without a total ``"{id}-{part}"``;
    ``better`` and ``worse`` name the partners as :class:`SharedResult` does."""

    instrument: str
    title: str
    better: str
    worse: str


def divergences(shared: list[SharedResult]) -> list[Divergence]:
    """Each questionnaire (or part of one without a total) where one partner's latest
    result reliably improved and the other's reliably worsened (Jacobson–Truax, each
    against their own result before)."""
    results = [s for s in shared if s.content.get("kind") not in NOT_RESULTS]
    found = []
    for key, scores in _scales(results).items():
        latest = {result.partner: scale for result, scale in scores}
        better = [p for p, scale in latest.items() if scale.get("change") == "improved"]
        worse = [p for p, scale in latest.items() if scale.get("change") == "worse"]
        if better and worse:
            found.append(Divergence(key, str(scores[-1][1]["title"]), better[0], worse[0]))
    return found


def couple_view(
    db: Session, *, signed_in: SignedIn, couple_id: int, now: datetime | None = None
) -> CoupleForTherapist:
    """Pace and tier history, setbacks, flooding breaks, couple-level patterns, and the
    couple's commitments and rituals (each ritual resting as the partners see it at
    ``now``; without it, none rests), with every time in the therapist's own zone.
    Never anyone's private entries or private findings."""
    link = access.get_couple_for_therapist(db, therapist=signed_in.person, couple_id=couple_id)
    couple_key = keys.unseal(signed_in.data_key, link.couple_key_wrap, _link_context(link))
    zone = localtime.zone(signed_in.person.time_zone)
    changes = pace_changes(db, couple_id, zone)
    tiers = _pairs(changes.fits)
    patterns = [
        d.Finding.from_dict(json.loads(keys.unseal(couple_key, row.sealed, finding_context(row))))
        for row in db.scalars(select(Finding).where(Finding.couple_id == couple_id))
    ]
    members = _members(db, link)
    shared = _shared(db, link, signed_in.data_key, zone, members)
    names = _partner_names(members)
    return CoupleForTherapist(
        shared=shared,
        couple_id=couple_id,
        tiers=tiers,
        setbacks=[b for a, b in itertools.pairwise(tiers) if b[1] < a[1]],
        breaks=[
            (localtime.to_local(row.started_at, zone), localtime.to_local(row.return_at, zone))
            for row in db.scalars(
                select(FloodBreak)
                .where(FloodBreak.couple_id == couple_id)
                .order_by(FloodBreak.started_at)
            )
        ],
        patterns=patterns,
        time_zone=signed_in.person.time_zone,
        ladder=_pairs(changes.reached),
        lapses=[
            (localtime.to_local(row.at, zone), bool(json.loads(row.data).get("together")))
            for row in db.scalars(
                select(PaceSignal)
                .where(PaceSignal.couple_id == couple_id, PaceSignal.kind == LapseSignal.kind)
                .order_by(PaceSignal.at)
            )
        ],
        plan=plans.couple_plan(db, couple_id, couple_key),
        partners=tuple(sorted(names.values(), key=_shown_order)),
        commitments=recovery.commitments_seen(db, couple_id, couple_key, names, zone),
        rituals=recovery.rituals_seen(db, couple_id, couple_key, zone, now),
        disclosures=[
            localtime.to_local(at, zone)
            for at in db.scalars(
                select(Experience.occurred_at)
                .where(Experience.couple_id == couple_id, Experience.practice_id == DISCLOSURE)
                .order_by(Experience.occurred_at)
            )
        ],
        read=frozenset(
            db.scalars(
                select(Disclosure.id).where(
                    Disclosure.couple_id == couple_id, Disclosure.review_sealed.is_not(None)
                )
            )
        ),
    )


def ask_for_questionnaire(
    db: Session,
    *,
    signed_in: SignedIn,
    couple_id: int,
    instrument_id: str,
    every: int | str,
    now: datetime,
) -> plans.Plan:
    """The therapist asks both partners to repeat a questionnaire (``every`` days; 0
    stops it). Both partners see the request; each answer stays theirs to share."""
    link = access.get_couple_for_therapist(db, therapist=signed_in.person, couple_id=couple_id)
    couple_key = keys.unseal(signed_in.data_key, link.couple_key_wrap, _link_context(link))
    plan = plans.couple_plan(db, couple_id, couple_key)
    plan.set(instrument_id, every, now)
    plans.save_couple_plan(db, couple_id, couple_key, plan)
    return plan


def mark_reviewed(db: Session, *, signed_in: SignedIn, couple_id: int, now: datetime) -> None:
    link = access.get_couple_for_therapist(db, therapist=signed_in.person, couple_id=couple_id)
    link.reviewed_at = now
    db.flush()


def share_findings(db: Session, *, signed_in: SignedIn, now: datetime) -> int:
    """A partner chooses to show their own private reflections to the therapist."""
    own = [
        f
        for f in insights.visible_findings(db, signed_in=signed_in)
        if f.audience == str(signed_in.person.id)
    ]
    shared = 0
    for finding in own:
        shared += None is not share_with_therapist(
            db,
            signed_in=signed_in,
            content={
                "kind": "finding",
                "pattern": finding.pattern.value,
                "message": finding.message,
                "try_instead": finding.try_instead,
            },
            now=now,
        )
    if own and not shared:
        raise Problem(
            "no_therapist", "There is no therapist with your agreement to share with.", 409
        )
    return shared
