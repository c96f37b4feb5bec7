"""The progress page: charts as server-rendered SVG images, each with its data table."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect import progress_view
from reconnect.errors import Problem
from reconnect.web.deps import Db, Now, PageSession
from reconnect.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/progress")
def progress_page(request: Request, session: PageSession, db: Db, at: Now) -> Response:
    return render(
        request,
        "progress.html",
        session.person,
        mine=progress_view.person(db, session, at.date()),
        ours=progress_view.couple(db, session),
    )


@router.get("/progress/charts/{scope}/{key}.svg")
def chart_image(
    scope: Literal["me", "couple"], key: str, session: PageSession, db: Db, at: Now
) -> Response:
    # An image of its own, so the page's strict CSP needs no inline styles.
    dashboard = (
        progress_view.person(db, session, at.date())
        if scope == "me"
        else progress_view.couple(db, session)
    )
    chart = next((c for c in dashboard.charts if c.key == key), None) if dashboard else None
    if chart is None or chart.svg is None:
        raise Problem("not_found", "There is nothing here.", 404)
    return Response(chart.svg, media_type="image/svg+xml")
