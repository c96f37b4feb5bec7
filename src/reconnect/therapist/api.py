"""JSON API for a couple's therapist: invitation, consent, revocation, the caseload."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from reconnect import localtime
from reconnect.errors import Problem
from reconnect.measures.api import RepeatIn
from reconnect.measures.store import get_instrument
from reconnect.therapist import store as therapists
from reconnect.therapist.report import therapist_report
from reconnect.web.deps import ApiSession, Db, LocalDateTime, Now, RowId, State, api_router

router = api_router("therapist")


class InviteOut(BaseModel):
    code: str = Field(description="Give this to your therapist; it works once, for 72 hours.")
    expires_at: LocalDateTime


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(min_length=1, max_length=64)]


class JoinedOut(BaseModel):
    couple_id: int
    visible: bool = Field(description="False until both partners have consented.")


class StatusOut(BaseModel):
    therapist_username: str
    i_consented: bool
    partner_consented: bool
    active: bool


class CaseOut(BaseModel):
    couple_id: int
    permitted_tier: int | None
    setbacks_since_review: int
    breaks_since_review: int
    diverging: list[str] = Field(
        description="Questionnaires on which one partner's latest shared result is a "
        "reliable improvement and the other's a reliable worsening."
    )


class DivergenceOut(BaseModel):
    instrument: str
    title: str
    better: str = Field(
        description="The partner whose latest result reliably improved, named as in "
        "`partner` of a shared result."
    )
    worse: str = Field(description="The partner whose latest result reliably worsened.")


class LapseOut(BaseModel):
    at: LocalDateTime
    together: bool = Field(description="Recorded by both partners together, or by one.")


class PatternOut(BaseModel):
    pattern: str
    message: str
    try_instead: str


class SharedPartOut(BaseModel):
    title: str
    score: float
    highest: float | None = None
    change: str | None = Field(
        None, description="Reliable change on this part, where its definition gives figures."
    )


class SharedResultOut(BaseModel):
    role: str = Field(description="hurt, involved or both_hurt: which partner shared it.")
    partner: str = Field(
        description="Which partner shared it, in words: hurt partner, involved partner, "
        "or, when both were hurt, partner who joined first or second."
    )
    at: LocalDateTime
    instrument: str
    title: str
    total: float | None
    highest: float | None = Field(None, description="The highest total the scale allows.")
    band: str | None
    change: str | None = Field(
        None,
        description="Reliable change (Jacobson–Truax) since this partner's result before: "
        "improved, worse or no reliable change; null for a first result.",
    )
    subscales: dict[str, SharedPartOut] = Field(
        default_factory=dict,
        description="Each part of the questionnaire (subscale) by id, with its score.",
    )
    crisis: bool = Field(
        description="True only when the partner chose to tell you that this result held "
        "an answer that opened crisis contacts (never which answer)."
    )


class SharedFindingOut(BaseModel):
    role: str
    partner: str = Field(
        description="Which partner shared it, in words: hurt partner, involved partner, "
        "or, when both were hurt, partner who joined first or second."
    )
    at: LocalDateTime
    pattern: str
    message: str
    try_instead: str


class SharedCountOut(BaseModel):
    shared: int


class PartnerTurnOut(BaseModel):
    partner: str = Field(description="Which partner, named as in `shared_results`.")
    last_shared: LocalDateTime | None = Field(
        description="When this partner last shared a result of it with you."
    )
    turn: LocalDateTime = Field(description="When their turn is, or was.")
    due: bool = Field(description="Whether the turn has come and no result was shared since.")


class CoupleRepeatOut(BaseModel):
    instrument_id: str
    every_days: int


class CoupleRepeatTurnsOut(CoupleRepeatOut):
    partners: list[PartnerTurnOut] = Field(
        description="Each partner's turn, judged from the results shared with you alone."
    )


class CaseKeptDayOut(BaseModel):
    day: date = Field(description="The partner's own day.")
    kept: bool = Field(description="Recorded as kept, or honestly as not kept.")
    noticed: bool = Field(description="The other partner said they noticed (a kept day).")


class CaseKeptWeekOut(BaseModel):
    week_of: date
    kept: int
    not_kept: int
    noticed: int


class CaseCommitmentOut(BaseModel):
    id: int
    what: str = Field(description="The commitment, in the offering partner's words.")
    looks_like: str = Field(description="What keeping it looks like, in their words.")
    offered_by: str = Field(
        description="Who offered it, named as in `shared_results`: hurt partner, involved "
        "partner, or, when both were hurt, partner who joined first or second."
    )
    offered_at: LocalDateTime
    ended_at: LocalDateTime | None
    days: list[CaseKeptDayOut] = Field(description="Each recorded day, oldest first.")
    weeks: list[CaseKeptWeekOut] = Field(description="Week by week: a record, never a score.")


class CaseRitualWeekOut(BaseModel):
    week_of: date
    done: int


class CaseRitualOut(BaseModel):
    id: int
    practice_id: str
    title: str = Field(description="The shared practice's title.")
    rhythm: str = Field(description="daily or weekly.")
    every: str = Field(description="How often, in words: every day, once a week.")
    chosen_at: LocalDateTime
    ended_at: LocalDateTime | None
    resting: bool = Field(
        description="The pace is below this ritual's step now: it rests, as the partners see."
    )
    days: list[date] = Field(description="The days they did it, oldest first.")
    weeks: list[CaseRitualWeekOut]


class AccountToReadOut(BaseModel):
    id: int = Field(description="Send your reading to .../disclosure/{id}/reading.")
    partner: str
    asked_at: LocalDateTime
    account: dict[str, str] = Field(description="timeline, hidden, contact_since.")
    answered: bool = Field(description="Whether your reading went back since it was asked.")


class CoupleOut(BaseModel):
    couple_id: int
    tiers: list[tuple[LocalDateTime, int]]
    setbacks: list[tuple[LocalDateTime, int]]
    breaks: list[tuple[LocalDateTime, LocalDateTime]]
    patterns: list[PatternOut]
    shared_results: list[SharedResultOut] = Field(
        description="Questionnaire results each consenting partner shared with you alone."
    )
    shared_findings: list[SharedFindingOut] = Field(
        description="Private reflections a partner chose to show you."
    )
    questionnaire_plan: list[CoupleRepeatTurnsOut] = Field(
        description="The questionnaires you asked both partners to repeat."
    )
    divergences: list[DivergenceOut] = Field(
        description="Questionnaires where the partners' latest results went opposite ways."
    )
    lapses: list[LapseOut] = Field(
        default_factory=list,
        description="When a partner recorded that something new came to light (never what).",
    )
    commitments: list[CaseCommitmentOut] = Field(
        default_factory=list,
        description="The couple's commitments (both partners see them), oldest first.",
    )
    rituals: list[CaseRitualOut] = Field(
        default_factory=list,
        description="The couple's rituals (both partners see them), oldest first.",
    )
    disclosure_accounts: list[AccountToReadOut] = Field(
        default_factory=list,
        description="Disclosure accounts a partner asked you to read before the session; "
        "the other partner does not read them, nor your reading.",
    )


@router.post("/therapist/invites", status_code=201, response_model=InviteOut)
def invite_therapist(session: ApiSession, db: Db, at: Now) -> InviteOut:
    """A partner invites their therapist. The therapist sees the couple only once
    both partners consent, and loses access as soon as either revokes."""
    code, row = therapists.invite(db, signed_in=session, now=at)
    db.commit()
    return InviteOut(code=code, expires_at=row.expires_at)


@router.post("/therapist/join", status_code=201, response_model=JoinedOut)
def join_as_therapist(body: JoinIn, session: ApiSession, db: Db, at: Now) -> JoinedOut:
    link = therapists.join(db, signed_in=session, code=body.code, now=at)
    db.commit()
    visible = therapists.visible(db, session.person, link.couple_id)
    return JoinedOut(couple_id=link.couple_id, visible=visible)


@router.get("/therapist/status", response_model=StatusOut)
def therapist_status(session: ApiSession, db: Db) -> StatusOut:
    status = therapists.status_for_partner(db, session)
    if status is None:
        raise Problem("no_therapist", "No therapist has joined your couple space.", 404)
    return StatusOut(
        therapist_username=status.therapist_username,
        i_consented=status.i_consented,
        partner_consented=status.partner_consented,
        active=status.active,
    )


@router.post("/therapist/consent", status_code=204)
def consent(session: ApiSession, db: Db, at: Now) -> Response:
    therapists.consent(db, signed_in=session, now=at)
    db.commit()
    return Response(status_code=204)


@router.post("/therapist/revoke", status_code=204)
def revoke(session: ApiSession, db: Db) -> Response:
    """Either partner, alone: effective on the therapist's very next request."""
    therapists.revoke(db, signed_in=session)
    db.commit()
    return Response(status_code=204)


@router.get("/caseload", response_model=list[CaseOut])
def caseload(session: ApiSession, db: Db) -> list[CaseOut]:
    """For a therapist: the couples who both consent, and what changed since review."""
    cases = therapists.caseload(db, session.person.id, session.data_key)
    return [CaseOut(**{**vars(c), "diverging": list(c.diverging)}) for c in cases]


@router.get("/caseload/{couple_id}", response_model=CoupleOut)
def caseload_couple(couple_id: RowId, session: ApiSession, db: Db, at: Now) -> CoupleOut:
    view = therapists.couple_view(db, signed_in=session, couple_id=couple_id, now=at)
    turns = view.turns(at)
    return CoupleOut(
        couple_id=view.couple_id,
        tiers=view.tiers,
        setbacks=view.setbacks,
        breaks=view.breaks,
        patterns=[
            PatternOut(pattern=f.pattern.value, message=f.message, try_instead=f.try_instead)
            for f in view.patterns
        ],
        shared_results=[
            SharedResultOut(role=s.role, partner=s.partner, at=s.at, **s.content)
            for s in view.results
        ],
        shared_findings=[
            SharedFindingOut(
                role=s.role,
                partner=s.partner,
                at=s.at,
                **{k: v for k, v in s.content.items() if k != "kind"},
            )
            for s in view.findings
        ],
        questionnaire_plan=[
            CoupleRepeatTurnsOut(
                instrument_id=i,
                every_days=d,
                partners=[
                    PartnerTurnOut(
                        partner=t.partner, last_shared=t.last_shared, turn=t.turn, due=t.due
                    )
                    for t in turns
                    if t.instrument_id == i
                ],
            )
            for i, d in sorted(view.plan.repeat.items())
        ],
        divergences=[DivergenceOut(**vars(d)) for d in view.divergences],
        lapses=[LapseOut(at=at, together=together) for at, together in view.lapses],
        commitments=[
            CaseCommitmentOut(
                id=c.id,
                what=c.what,
                looks_like=c.looks_like,
                offered_by=c.offered_by,
                offered_at=c.offered_at,
                ended_at=c.ended_at,
                days=[CaseKeptDayOut(**vars(d)) for d in c.days],
                weeks=[
                    CaseKeptWeekOut(week_of=w, kept=k, not_kept=n, noticed=s)
                    for w, k, n, s in c.weeks
                ],
            )
            for c in view.commitments
        ],
        rituals=[
            CaseRitualOut(
                **{k: v for k, v in vars(r).items() if k not in ("days", "weeks")},
                days=list(r.days),
                weeks=[CaseRitualWeekOut(week_of=w, done=n) for w, n in r.weeks],
            )
            for r in view.rituals
        ],
        disclosure_accounts=[AccountToReadOut(**vars(a)) for a in view.accounts],
    )


@router.post("/caseload/{couple_id}/questionnaire-plan", response_model=list[CoupleRepeatOut])
def ask_for_questionnaire(
    couple_id: RowId, body: RepeatIn, session: ApiSession, db: Db, at: Now, state: State
) -> list[CoupleRepeatOut]:
    """Ask both partners to repeat a questionnaire every one, two or four weeks. They
    see the request; each result reaches you only as they choose to share it."""
    get_instrument(body.instrument_id, state.settings.instruments_dir)
    plan = therapists.ask_for_questionnaire(
        db,
        signed_in=session,
        couple_id=couple_id,
        instrument_id=body.instrument_id,
        every=body.every_days,
        now=at,
    )
    db.commit()
    return [CoupleRepeatOut(instrument_id=i, every_days=d) for i, d in sorted(plan.repeat.items())]


@router.post("/caseload/{couple_id}/reviewed", status_code=204)
def mark_reviewed(couple_id: RowId, session: ApiSession, db: Db, at: Now) -> Response:
    therapists.mark_reviewed(db, signed_in=session, couple_id=couple_id, now=at)
    db.commit()
    return Response(status_code=204)


@router.get(
    "/caseload/{couple_id}/report.pdf",
    responses={200: {"content": {"application/pdf": {}}}},
    response_class=Response,
)
def report(
    couple_id: RowId,
    session: ApiSession,
    db: Db,
    at: Now,
    start: date | None = None,
    end: date | None = None,
) -> Response:
    """A PDF report for a period (default: the last 28 days), for the therapist."""
    view = therapists.couple_view(db, signed_in=session, couple_id=couple_id)
    until = end or localtime.local_day(at, session.person.time_zone)
    since = start or until - timedelta(days=28)
    if since > until:
        raise Problem("invalid_period", "The period starts after it ends.", 422)
    return Response(
        therapist_report(view, since, until),
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="reconnect-report.pdf"'},
    )


@router.post("/therapist/share-findings", status_code=201, response_model=SharedCountOut)
def share_findings(session: ApiSession, db: Db, at: Now) -> SharedCountOut:
    """Show your own private reflections to your therapist (only with your agreement).
    Your partner never sees them."""
    shared = therapists.share_findings(db, signed_in=session, now=at)
    db.commit()
    return SharedCountOut(shared=shared)
