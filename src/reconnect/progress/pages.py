"""The progress page: charts as server-rendered SVG images, each with its data table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect import localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.errors import Problem
from reconnect.progress import calendar as progress_calendar
from reconnect.progress import summary as progress_summary
from reconnect.progress import view as progress_view
from reconnect.web.deps import Db, Now, PageSession, State
from reconnect.web.render import render

router = APIRouter(include_in_schema=False)


def _today(session: SignedIn, at: datetime) -> date:
    """Today as this person lives it: "this week" and the charts cut at local midnight."""
    return localtime.local_day(at, session.person.time_zone)


@router.get("/progress")
def progress_page(
    request: Request, session: PageSession, db: Db, at: Now, state: State
) -> Response:
    return render(
        request,
        "progress/progress.html",
        session.person,
        mine=progress_view.person(db, session, _today(session, at), state.settings.instruments_dir),
        ours=progress_view.couple(db, session),
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
    dashboard = (
        progress_view.person(db, session, _today(session, at), state.settings.instruments_dir)
        if scope == "me"
        else progress_view.couple(db, session)
    )
    chart = next((c for c in dashboard.charts if c.key == key), None) if dashboard else None
    if chart is None or chart.svg is None:
        raise Problem("not_found", "There is nothing here.", 404)
    return Response(chart.svg, media_type="image/svg+xml")


@router.get("/summary")
def weekly_summary(request: Request, session: PageSession, db: Db, at: Now) -> Response:
    checkins, experiences = progress_view.person_inputs(db, session)
    mine = progress_summary.weekly_summary(
        _today(session, at), checkins=checkins, experiences=experiences
    )
    shared = progress_view.couple_inputs(db, session)
    ours = (
        progress_summary.weekly_summary(_today(session, at), experiences=shared[1], tiers=shared[0])
        if shared
        else None
    )
    return render(request, "progress/summary.html", session.person, mine=mine, ours=ours)


@router.get("/summary/reminders.ics")
def reminders(session: PageSession, db: Db, at: Now) -> Response:
    times = progress_view.next_checkins(db, session, at)
    return Response(
        progress_calendar.reminders_ics(str(session.person.id), times, at),
        media_type="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="check-ins.ics"'},
    )
