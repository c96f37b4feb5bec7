"""The progress page: charts as server-rendered SVG images, each with its data table.

The couple's half says where the two of you have reached together (the decisions'
``ladder_tier``) and, apart from it, what fits today (the newest ``permitted_tier``),
each by its step's name in the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reconnect import access, localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.commitments import store as commitments
from reconnect.domain.pacing.catalogue import Tier, load_catalogue
from reconnect.domain.progress.points import SharedExperience, TierPoint
from reconnect.errors import Problem
from reconnect.measures import plans
from reconnect.measures import store as measures
from reconnect.progress import calendar as progress_calendar
from reconnect.progress import charts as progress_charts
from reconnect.progress import summary as progress_summary
from reconnect.progress import view as progress_view
from reconnect.rituals import store as rituals
from reconnect.web.deps import Db, Now, PageSession, State
from reconnect.web.render import render

router = APIRouter(include_in_schema=False)


def _today(session: SignedIn, at: datetime) -> date:
    """Today as this person lives it: "this week" and the charts cut at local midnight."""
    return localtime.local_day(at, session.person.time_zone)


@dataclass(frozen=True)
class Ours:
    """The couple's half of the progress page."""

    dashboard: progress_charts.CoupleDashboard
    reached: Tier | None  # where the two of you have reached together
    fits_today: Tier | None  # what fits today: can be gentler on a harder day
    ladder: list[TierPoint]
    shared: list[SharedExperience]


def ours(db: Session, session: SignedIn, today: date) -> Ours | None:
    """The couple's progress, from shared data only; ``None`` without a couple."""
    membership = access.membership_of(db, session.person)
    inputs = progress_view.couple_inputs(db, session)
    if membership is None or inputs is None:
        return None
    changes, shared = inputs
    ladder = changes.reached
    steps = load_catalogue()
    try:
        offered = commitments.commitments(db, session)
        chosen = rituals.rituals(db, session)
    except Problem:  # couple features switched off for this person: not shown
        offered, chosen = [], []
    kept = [
        progress_charts.kept_chart(f"kept-{c.id}", f"Kept: {c.what}", c.weeks()) for c in offered
    ]
    titles = {p.id: p.title for p in steps}
    kept += [
        progress_charts.ritual_chart(f"ritual-{r.id}", titles[r.practice_id], r.weeks())
        for r in chosen
    ]
    return Ours(
        progress_charts.couple_dashboard(ladder, shared, today=today, kept=kept),
        steps.tier(ladder[-1].tier) if ladder else None,
        steps.tier(changes.fits[-1].tier) if changes.fits else None,
        ladder,
        shared,
    )


@router.get("/progress")
def progress_page(
    request: Request, session: PageSession, db: Db, at: Now, state: State
) -> Response:
    today = _today(session, at)
    return render(
        request,
        "progress/progress.html",
        session.person,
        mine=progress_view.person(db, session, today, state.settings.instruments_dir),
        ours=ours(db, session, today),
    )


@router.get("/progress/charts/{scope}/{key}.svg")
def chart_image(
    scope: Literal["me", "couple"],
    key: str,
    session: PageSession,
    db: Db,
    at: Now,
    state: State,
) -> Response:
    # An image of its own, so the page's strict CSP needs no inline styles.
    today = _today(session, at)
    couple = ours(db, session, today) if scope == "couple" else None
    dashboard = (
        progress_view.person(db, session, today, state.settings.instruments_dir)
        if scope == "me"
        else couple.dashboard
        if couple
        else None
    )
    chart = next((c for c in dashboard.charts if c.key == key), None) if dashboard else None
    if chart is None or chart.svg is None:
        raise Problem("not_found", "There is nothing here.", 404)
    return Response(chart.svg, media_type="image/svg+xml")


@router.get("/summary")
def weekly_summary(
    request: Request, session: PageSession, db: Db, at: Now, state: State
) -> Response:
    today = _today(session, at)
    checkins, experiences = progress_view.person_inputs(db, session)
    mine = progress_summary.weekly_summary(today, checkins=checkins, experiences=experiences)
    couple = ours(db, session, today)
    together = (
        progress_summary.weekly_summary(
            today, experiences=couple.shared, tiers=couple.ladder, together=True
        )
        if couple
        else None
    )
    usual = progress_view.usual_checkin_hour(db, session)
    return render(
        request,
        "progress/summary.html",
        session.person,
        mine=mine,
        ours=together,
        usual=usual.strftime("%H:%M"),
        questionnaires=_upcoming_questionnaires(db, session, at, state.settings.instruments_dir),
    )


def _question_times(
    db: Db, session: SignedIn, at: datetime, checkins: list[datetime]
) -> list[datetime]:
    """One reminder per questionnaire turn in the coming week (or due now): at the first
    check-in time from the turn on, while the questionnaire still shows as due."""
    both = plans.for_person(db, session)
    turns = [d.since for d in both.due(at)]
    turns += [d.since for d in plans.upcoming(both.own, both.couple, at, at + timedelta(days=7))]
    found = []
    for turn in turns:
        first = next((t for t in checkins if t >= turn), None)
        if first is not None and first < turn + plans.DUE_FOR:
            found.append(first)
    return found


def _upcoming_questionnaires(
    db: Db, session: SignedIn, at: datetime, operator_dir: str
) -> list[tuple[str, datetime | None]]:
    """For the week's summary: each questionnaire due now (None) or due in the coming
    week (when), by title."""
    both = plans.for_person(db, session)
    known = measures.instruments(operator_dir)
    soon = plans.upcoming(both.own, both.couple, at, at + timedelta(days=7))
    found: list[tuple[str, datetime | None]] = [
        (known[d.instrument_id].title, None) for d in both.due(at) if d.instrument_id in known
    ]
    found += [(known[d.instrument_id].title, d.since) for d in soon if d.instrument_id in known]
    return found


_CLOCK_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@router.get("/summary/reminders.ics")
def reminders(request: Request, session: PageSession, db: Db, at: Now) -> Response:
    """A week of neutral "Check in" reminders, at the local time chosen (``at=HH:MM``),
    or else the hour this person usually checks in."""
    asked = request.query_params.get("at", "").strip()
    chosen = _CLOCK_TIME.fullmatch(asked)
    if asked and chosen is None:
        raise Problem("invalid_time", "Choose a time of day such as 08:30.", 422)
    when = time(int(chosen[1]), int(chosen[2])) if chosen else None
    times = progress_view.next_checkins(db, session, at, at=when)
    questions = _question_times(db, session, at, times)
    return Response(
        progress_calendar.reminders_ics(str(session.person.id), times, at, questions=questions),
        media_type="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="check-ins.ics"'},
    )
