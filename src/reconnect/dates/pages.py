"""The page where a person marks the dates that are hard for them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect import localtime
from reconnect.dates import store as dates
from reconnect.dates.api import DateId, date_out
from reconnect.errors import Problem
from reconnect.web.deps import CheckedForm, Db, Now, PageSession
from reconnect.web.render import go, render

router = APIRouter(include_in_schema=False)

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _page(
    request: Request, session: PageSession, db: Db, at: Now, status: int = 200, **extra: object
) -> Response:
    today = localtime.local_day(at, session.person.time_zone)
    listed = [(d, date_out(d, today).next_on) for d in dates.dates(db, session)]
    return render(
        request,
        "dates/hard_dates.html",
        session.person,
        status,
        listed=listed,
        months=MONTHS,
        **extra,
    )


@router.get("/hard-dates")
def hard_dates_page(request: Request, session: PageSession, db: Db, at: Now) -> Response:
    return _page(request, session, db, at, saved=request.query_params.get("saved") == "1")


@router.post("/hard-dates")
def mark_hard_date(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    month, day = str(form.get("month", "")), str(form.get("day", ""))
    try:
        if not (month.isdigit() and day.isdigit()):
            raise Problem("invalid_date", "Please choose a day of the year that exists.", 422)
        label = str(form.get("label", ""))
        dates.add(db, session, label=label, month=int(month), day=int(day))
    except Problem as problem:
        return _page(request, session, db, at, status=problem.status, error=problem.message)
    dates.hold_near(db, session, at)
    db.commit()
    return go("/hard-dates?saved=1")


@router.post("/hard-dates/{date_id}/remove")
def remove_hard_date(
    date_id: DateId, request: Request, form: CheckedForm, session: PageSession, db: Db
) -> Response:
    dates.remove(db, session, date_id)
    db.commit()
    return go("/hard-dates")
