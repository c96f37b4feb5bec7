"""The findings page: what the app noticed, mine and ours."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect.insights import store as insights
from reconnect.therapist import store as therapists
from reconnect.web.deps import Db, PageSession
from reconnect.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/insights")
def insights_page(request: Request, session: PageSession, db: Db) -> Response:
    found = insights.visible_findings(db, signed_in=session)
    return render(
        request,
        "insights/insights.html",
        session.person,
        mine=[f for f in found if f.audience != "couple"],
        ours=[f for f in found if f.audience == "couple"],
        therapist=therapists.status_for_partner(db, session),
        shared=request.query_params.get("shared") == "1",
    )
