"""Pages for the daily rhythm: check in, see today's pace, log how a practice went."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from reconnect import access, localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.after_write import look_again
from reconnect.dates import store as dates
from reconnect.domain.couples import Role
from reconnect.domain.moments import (
    STATUS_LABELS,
    TRIGGER_RESPONSE_WORDS,
    TRIGGER_ROLES,
    WORDS_MAX,
)
from reconnect.domain.pacing.catalogue import Catalogue, Tier, UnknownPractice
from reconnect.domain.pacing.checkins import (
    DRIVER_LABELS,
    NOTE_MAX_CHARS,
    SCALE_MAX,
    STATE_LABELS,
    SUGGESTED_BODY_SIGNALS,
)
from reconnect.domain.pacing.engine import can_resume
from reconnect.domain.pacing.experiences import (
    QUALITIES,
    QUALITY_LABELS,
    QUALITY_MAX,
    STARTED_BY_LABELS,
    STAYING_LABELS,
)
from reconnect.domain.pacing.history import COUPLE, Decision, Reason
from reconnect.domain.pacing.policy import BREAK_MINUTES_MAX, BREAK_MINUTES_MIN
from reconnect.errors import Problem
from reconnect.measures import plans
from reconnect.measures import store as measures
from reconnect.models import Person
from reconnect.moments import store as moments
from reconnect.pacing import store as pace
from reconnect.pacing.late_floods import recent_floods
from reconnect.rituals import store as rituals
from reconnect.safety import store as safety
from reconnect.web.deps import (
    CheckedForm,
    Db,
    Now,
    PagePerson,
    PageSession,
    State,
    quick_read,
    quick_write,
    whole_digits,
)
from reconnect.web.render import choices, go, render

router = APIRouter(include_in_schema=False)

# How long a partner's answer to a trigger or a proposal stays on the Today page.
ANSWERS_SHOWN_FOR = timedelta(days=7)

# If it was too much: when the person who flooded will be back (20 minutes to a day).
BACK_IN = {
    BREAK_MINUTES_MIN: "In 20 minutes",
    30: "In half an hour",
    60: "In an hour",
    120: "In two hours",
    240: "In four hours",
    BREAK_MINUTES_MAX: "Tomorrow, this time",
}


# Why today asks for a gentler step than the one reached together, from the couple's
# own reasons (both partners read the same words; nobody's own check-in is named).
GENTLER_BECAUSE = {
    "pause": "the pace is paused for now",
    "flood_break": "a break is running, so bodies can settle",
    "ceiling": "today follows the partner who needs it slower",
    "closeness": "closeness opens only when both of you say you are ready",
}


def _pace_or_none(db: Db, session: SignedIn, at: datetime) -> Decision | None:
    """The couple's pace now, or None for someone not pacing with a partner."""
    try:
        membership = access.get_membership_for_person(
            db, person=session.person, data_key=session.data_key
        )
    except Problem:
        return None
    return pace.current_pace(db, membership.couple, at)


def _steps(catalogue: Catalogue, decision: Decision) -> dict[str, Any]:
    """The steps of the ladder as a page names them: what fits today (the permitted
    step), where the couple has reached together, the earlier steps (they fit too) and
    the later ones: those reached but waiting for a day that allows them, and those
    still ahead (they open as you go)."""
    permitted, reached = decision.permitted_tier, decision.ladder_tier
    later = [t for t in catalogue.tiers if t.number > permitted]
    return {
        "fits": catalogue.tier(permitted),
        "reached": catalogue.tier(reached),
        "earlier": [catalogue.tier(n) for n in range(permitted - 1, -1, -1)],
        "later": later,
        "waiting": [t for t in later if t.number <= reached],
        "ahead": [t for t in later if t.number > reached],
    }


def _gentler_because(reasons: tuple[Reason, ...]) -> str:
    """Why today's step is below the one reached: the first couple reason that says so."""
    for reason in reasons:
        if reason.audience == COUPLE and reason.rule in GENTLER_BECAUSE:
            return GENTLER_BECAUSE[reason.rule]
    return "of what is said under “Why this pace”"


def _log_groups(catalogue: Catalogue, decision: Decision | None) -> list[tuple[str, Tier]]:
    """The log form's groups, in the order offered: what fits today first, then the
    earlier steps, then the later steps (kept so something done anyway is logged
    honestly). Without a pace, every step in order."""
    if decision is None:
        return [(t.name, t) for t in catalogue.tiers]
    steps = _steps(catalogue, decision)
    return [
        (f"Fits today: {steps['fits'].name}", steps["fits"]),
        *((f"Also fine today: {t.name}", t) for t in steps["earlier"]),
        *((f"Later step, not for today: {t.name}", t) for t in steps["later"]),
    ]


def number(form: FormData, name: str) -> int | None:
    raw = str(form.get(name, "")).strip()
    return int(raw) if whole_digits(raw) else None


def when(form: FormData, name: str) -> datetime | None:
    raw = str(form.get(name, "")).strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Problem("invalid_entry", "Please give the time as shown in the form.", 422) from None
    return value if value.tzinfo else None


def local_when(form: FormData, name: str, where: str) -> datetime | None:
    """A ``datetime-local`` field, read on the person's own clock (an offset is kept)."""
    raw = str(form.get(name, "")).strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Problem("invalid_entry", "Please give the time as shown in the form.", 422) from None
    return localtime.from_local(value, where)


# --- check-in ------------------------------------------------------------------


def _checkin_page(request: Request, person: Person, status: int = 200, **context: Any) -> Response:
    return render(
        request,
        "pacing/checkin.html",
        person,
        status=status,
        states=choices(STATE_LABELS),
        drivers=choices(DRIVER_LABELS),
        body_signals=SUGGESTED_BODY_SIGNALS,
        scale_max=SCALE_MAX,
        note_max=NOTE_MAX_CHARS,
        **context,
    )


@router.get("/checkin")
@quick_read
def checkin_form(request: Request, person: PagePerson, db: Db) -> Response:
    return _checkin_page(request, person, values={})


@router.post("/checkin")
@quick_write
def checkin(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    person = session.person
    fields: dict[str, Any] = {
        name: number(form, name) for name in ("activation", "safety", "urgency", "readiness")
    }
    fields["state"] = str(form.get("state", ""))
    fields["drivers"] = [str(d) for d in form.getlist("drivers")]
    fields["body_signals"] = [str(s) for s in form.getlist("body_signals")]
    fields["note"] = str(form.get("note", ""))
    try:
        missing = [name for name, value in fields.items() if value is None]
        if missing:
            raise Problem("invalid_entry", "Please choose a number for each scale.", 422)
        pace.record_checkin(db, person=person, key=session.data_key, fields=fields, now=at)
    except Problem as problem:
        return _checkin_page(request, person, problem.status, error=problem.message, values=fields)
    look_again(db, signed_in=session, now=at, shared=False)  # a check-in is private
    db.commit()
    return go("/today?checked_in=1")


# --- today -----------------------------------------------------------------------


@router.get("/today")
@quick_read
def today(request: Request, session: PageSession, db: Db, at: Now, state: State) -> Response:
    person = session.person
    # Questionnaires due, and after a crisis answer on an earlier day a gentle check:
    # both whether or not the person is in a couple.
    dir_ = state.settings.instruments_dir
    owed = measures.owed(db, signed_in=session, now=at, operator_dir=dir_)
    titles = {i: measures.instruments(dir_)[i].title for i in (d.instrument_id for d in owed.due)}
    safety_again = safety.offered_again(db, person, session.data_key, at)
    marked = dates.dates(db, session)
    if dates.hold_near(db, session, at, marked):
        db.commit()  # once per date: the pace holds near it, even while they are away
    hard_dates = dates.near(marked, session, at)
    try:
        membership = access.get_membership_for_person(db, person=person, data_key=session.data_key)
    except Problem as problem:
        return render(
            request,
            "pacing/today.html",
            person,
            unavailable=problem.message,
            follow_up=owed.follow_up,
            questionnaires_due=owed.due,
            safety_again=safety_again,
            hard_dates=hard_dates,
            titles=titles,
            every=plans.EVERY,
        )
    couple = membership.couple
    decision = pace.current_pace(db, couple, at)
    catalogue = pace.catalogue()
    proposals = moments.proposals(db, signed_in=session)
    to_respond, trigger_responses = moments.triggers_for_today(
        db, signed_in=session, since=at - ANSWERS_SHOWN_FOR
    )
    reasons = pace.reasons_for_person(db, person, session.data_key, couple, decision, at)
    today_iso = localtime.local_day(at, person.time_zone).isoformat()
    rituals_today = [
        r
        for r in rituals.rituals(db, session, permitted=decision.permitted_tier)
        if r.ended_at is None and not r.resting and today_iso not in r.days
    ]
    return render(
        request,
        "pacing/today.html",
        person,
        decision=decision,
        now=at,
        follow_up=owed.follow_up,
        questionnaires_due=owed.due,
        safety_again=safety_again,
        hard_dates=hard_dates,
        rituals_today=rituals_today,
        today_iso=today_iso,
        titles=titles,
        every=plans.EVERY,
        **_steps(catalogue, decision),
        gentler_because=_gentler_because(reasons),
        practices=[catalogue.get(p) for p in decision.practices],
        settling=catalogue.for_tier(0),
        # The "ladder" reason is said by the page itself, beside what fits today.
        shared_reasons=[r for r in reasons if r.audience == COUPLE and r.rule != "ladder"],
        own_reasons=[r for r in reasons if r.audience != COUPLE],
        can_resume=can_resume(decision, str(person.id)),
        awaiting=pace.awaiting_reflection(db, person, couple),
        heart_floods=recent_floods(db, signed_in=session, now=at),
        catalogue=catalogue,
        checked_in=request.query_params.get("checked_in") == "1",
        just_logged_trigger=request.query_params.get("trigger") == "1",
        joined_partners=request.query_params.get("joined") == "1",
        statuses=moments.statuses_today(db, signed_in=session, now=at),
        status_names=choices(STATUS_LABELS),
        words_max=WORDS_MAX,
        scale_max=SCALE_MAX,
        can_log_triggers=Role(membership.role) in TRIGGER_ROLES,
        trigger_examples=moments.TRIGGER_EXAMPLES,
        to_respond=to_respond,
        responses=choices(TRIGGER_RESPONSE_WORDS),
        to_answer=[p for p in proposals if not p["mine"] and p["response"] is None],
        # The loops closed: what the partner answered to this person's told triggers
        # and proposals, lately.
        trigger_responses=trigger_responses,
        proposal_answers=[
            p
            for p in proposals
            if p["mine"]
            and p["responded_at"] is not None
            and p["responded_at"] >= at - ANSWERS_SHOWN_FOR
        ],
        # After answering the partner: "response" (to a trigger) or "answer" (a proposal).
        sent=request.query_params.get("sent", ""),
    )


@router.post("/pause")
def pause(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    pace.pause(db, person=session.person, key=session.data_key, now=at)
    db.commit()
    return go("/today")


@router.get("/lapse")
def lapse_form(request: Request, session: PageSession, db: Db) -> Response:
    try:
        access.get_couple_for_person(db, person=session.person, data_key=session.data_key)
    except Problem as problem:
        return render(request, "pacing/lapse.html", session.person, unavailable=problem.message)
    return render(request, "pacing/lapse.html", session.person)


@router.post("/lapse")
def record_lapse(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    together = form.get("together") == "yes"
    pace.record_lapse(db, person=session.person, key=session.data_key, together=together, now=at)
    db.commit()
    return go("/today")


@router.post("/resume")
def resume(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    pace.resume(db, person=session.person, key=session.data_key, now=at)
    db.commit()
    return go("/today")


# --- practices and experiences --------------------------------------------------------


@router.get("/practices/{practice_id}")
def practice(request: Request, practice_id: str, session: PageSession, db: Db, at: Now) -> Response:
    catalogue = pace.catalogue()
    try:
        chosen = catalogue.get(practice_id)
    except UnknownPractice:
        raise Problem("not_found", "There is no practice with that name.", 404) from None
    decision = _pace_or_none(db, session, at)
    return render(
        request,
        "pacing/practice.html",
        session.person,
        practice=chosen,
        tier=catalogue.tier(chosen.tier),
        # What fits today and where the couple has reached, when this practice belongs
        # to a later step than today's (else None).
        fits=(
            catalogue.tier(decision.permitted_tier)
            if decision is not None and chosen.tier > decision.permitted_tier
            else None
        ),
        reached=decision.ladder_tier if decision is not None else None,
    )


def _experience_page(
    request: Request, session: SignedIn, db: Db, at: datetime, status: int = 200, **context: Any
) -> Response:
    person = session.person
    catalogue = pace.catalogue()
    experience = None
    if context.get("experience_id"):
        experience = access.get_experience_for_person(
            db, person=person, experience_id=int(context["experience_id"])
        )
    return render(
        request,
        "pacing/experience.html",
        person,
        status=status,
        catalogue=catalogue,
        # A reflection on a logged experience names its practice: no list to choose from.
        log_groups=[]
        if experience is not None
        else [
            (label, catalogue.for_tier(step.number))
            for label, step in _log_groups(catalogue, _pace_or_none(db, session, at))
        ],
        experience=experience,
        staying=choices(STAYING_LABELS),
        qualities=QUALITY_LABELS,
        started_by=choices(STARTED_BY_LABELS),
        back_in=BACK_IN,
        scale_max=SCALE_MAX,
        quality_max=QUALITY_MAX,
        note_max=NOTE_MAX_CHARS,
        **context,
    )


@router.get("/experiences/new")
def experience_form(request: Request, session: PageSession, db: Db, at: Now) -> Response:
    experience_id = request.query_params.get("experience", "")
    if experience_id and not whole_digits(experience_id):
        raise Problem("experience_not_found", "There is no such shared experience.", 404)
    return _experience_page(
        request,
        session,
        db,
        at,
        practice_id=request.query_params.get("practice", ""),
        experience_id=int(experience_id) if whole_digits(experience_id) else None,
        values={},
    )


@router.post("/experiences")
def log_experience(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    person = session.person
    raw_experience = str(form.get("experience_id", ""))
    experience_id = int(raw_experience) if whole_digits(raw_experience) else None
    practice_id = str(form.get("practice_id", "")) or None
    rating: dict[str, Any] = {
        name: number(form, name)
        for name in (
            "safety",
            "activation_before",
            "activation_after",
            *QUALITIES,
        )
    }
    rating["staying"] = str(form.get("staying", ""))
    rating["felt_pressured"] = form.get("felt_pressured") == "yes"
    rating["note"] = str(form.get("note", ""))
    started_by = str(form.get("started_by", "")) or None
    back_in = number(form, "back_in_minutes")
    window = {name: str(form.get(name, "")).strip() for name in ("started_at", "ended_at")}
    try:
        if any(value is None for value in rating.values()):
            raise Problem("invalid_entry", "Please answer each question.", 422)
        experience, _ = pace.record_experience(
            db,
            person=person,
            key=session.data_key,
            practice_id=None if experience_id else practice_id,
            experience_id=experience_id,
            occurred_at=local_when(form, "started_at", person.time_zone)
            or when(form, "occurred_at"),
            ended_at=local_when(form, "ended_at", person.time_zone),
            rating=rating,
            now=at,
            started_by=None if experience_id else started_by,
            back_in_minutes=back_in,
        )
    except Problem as problem:
        db.rollback()
        return _experience_page(
            request,
            session,
            db,
            at,
            problem.status,
            error=problem.message,
            practice_id=practice_id or "",
            experience_id=experience_id,
            values={
                **rating,
                "started_by": started_by,
                "back_in_minutes": back_in,
                **window,
            },
        )
    if experience is not None:  # a practice done alone changes no shared pattern
        # A newly logged shared practice is seen by both; a reflection on one is private,
        # also when it joined the same practice the partner had just logged.
        look_again(db, signed_in=session, now=at, shared=experience.created_by == session.person.id)
    db.commit()
    # A log of the practice the partner had just logged became a reflection on theirs.
    joined = experience is not None and pace.joined_partners_log(experience, person, experience_id)
    return go("/today?joined=1" if joined else "/today")
