"""The rituals page: small things done together, again and again."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect import access, localtime
from reconnect.domain.pacing.catalogue import DISCLOSURE
from reconnect.errors import Problem
from reconnect.pacing import store as pace
from reconnect.progress.charts import ritual_chart
from reconnect.rituals import store as rituals
from reconnect.web.deps import CheckedForm, Db, Now, PageSession, RowId
from reconnect.web.render import go, render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request, session: PageSession, db: Db, at: Now, status: int = 200, **extra: object
) -> Response:
    try:
        couple = access.get_couple_for_person(db, person=session.person, data_key=session.data_key)
    except Problem as problem:  # not in a couple space (or its features are off)
        return render(request, "rituals/rituals.html", session.person, unavailable=problem.message)
    listed = rituals.rituals(db, session, at)
    permitted = pace.current_pace(db, couple, at).permitted_tier
    catalogue = pace.catalogue()
    return render(
        request,
        "rituals/rituals.html",
        session.person,
        status,
        listed=listed,
        titles={p.id: p.title for p in catalogue},
        charts={
            c.id: ritual_chart(f"ritual-{c.id}", catalogue.get(c.practice_id).title, c.weeks())
            for c in listed
        },
        # The disclosure session is held once, not repeated as a ritual.
        offered=[p for p in catalogue if 1 <= p.tier <= permitted and p.id != DISCLOSURE],
        rhythms=rituals.RHYTHMS,
        today=localtime.local_day(at, session.person.time_zone).isoformat(),
        **extra,
    )


@router.get("/rituals")
def rituals_page(request: Request, session: PageSession, db: Db, at: Now) -> Response:
    return _page(request, session, db, at)


@router.post("/rituals")
def choose(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    rhythm: rituals.Rhythm = "weekly" if form.get("rhythm") == "weekly" else "daily"
    try:
        rituals.choose(
            db, session, practice_id=str(form.get("practice_id", "")), rhythm=rhythm, now=at
        )
    except Problem as problem:
        if problem.status != 422 and problem.code != "ahead_of_pace":
            raise
        return _page(request, session, db, at, problem.status, error=problem.message)
    db.commit()
    return go("/rituals")


@router.post("/rituals/{ritual_id}/done")
def done(
    ritual_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    try:
        day = date.fromisoformat(str(form.get("day", "")))
    except ValueError:
        raise Problem("invalid_day", "Please choose a day.", 422) from None
    rituals.done(db, session, ritual_id, day=day, now=at)
    db.commit()
    return go("/today" if form.get("back") == "today" else f"/rituals#ritual-{ritual_id}")


@router.post("/rituals/{ritual_id}/end")
def end(
    ritual_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    rituals.end(db, session, ritual_id, now=at)
    db.commit()
    return go("/rituals")
