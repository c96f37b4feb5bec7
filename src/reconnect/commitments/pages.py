"""The commitments page: offered in one's own words, kept day by day, noticed."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reconnect import access, localtime
from reconnect.commitments import store as commitments
from reconnect.errors import Problem
from reconnect.progress.charts import kept_chart
from reconnect.web.deps import CheckedForm, Db, Now, PageSession, RowId
from reconnect.web.render import go, render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request, session: PageSession, db: Db, at: Now, status: int = 200, **extra: object
) -> Response:
    try:
        membership = access.get_membership_for_person(
            db, person=session.person, data_key=session.data_key
        )
    except Problem as problem:  # not in a couple space (or its features are off)
        return render(
            request, "commitments/commitments.html", session.person, unavailable=problem.message
        )
    listed = commitments.commitments(db, session)
    today = localtime.local_day(at, session.person.time_zone)
    return render(
        request,
        "commitments/commitments.html",
        session.person,
        status,
        listed=listed,
        charts={c.id: kept_chart(f"kept-{c.id}", f"Kept: {c.what}", c.weeks()) for c in listed},
        may_offer=commitments.may_offer(membership.role),
        # The newest week of recorded days, newest first.
        days={
            c.id: sorted(((date.fromisoformat(d), v) for d, v in c.days.items()), reverse=True)[:7]
            for c in listed
        },
        today=today,
        recent=[today - timedelta(days=n) for n in range(3)],
        **extra,
    )


def _day(form: CheckedForm) -> date:
    try:
        return date.fromisoformat(str(form.get("day", "")))
    except ValueError:
        raise Problem("invalid_day", "Please choose a day.", 422) from None


@router.get("/commitments")
def commitments_page(request: Request, session: PageSession, db: Db, at: Now) -> Response:
    return _page(request, session, db, at)


@router.post("/commitments")
def offer(request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now) -> Response:
    what, looks_like = str(form.get("what", "")), str(form.get("looks_like", ""))
    try:
        commitments.offer(db, session, what=what, looks_like=looks_like, now=at)
    except Problem as problem:
        if problem.status != 422:
            raise
        return _page(request, session, db, at, problem.status, error=problem.message)
    db.commit()
    return go("/commitments")


@router.post("/commitments/{commitment_id}/days")
def record_day(
    commitment_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    kept = str(form.get("kept", "")) == "yes"
    commitments.record(db, session, commitment_id, day=_day(form), kept=kept, now=at)
    db.commit()
    return go(f"/commitments#commitment-{commitment_id}")


@router.post("/commitments/{commitment_id}/noticed")
def noticed(
    commitment_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    commitments.notice(db, session, commitment_id, day=_day(form), now=at)
    db.commit()
    return go(f"/commitments#commitment-{commitment_id}")


@router.post("/commitments/{commitment_id}/end")
def end(
    commitment_id: RowId, request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now
) -> Response:
    commitments.end(db, session, commitment_id, now=at)
    db.commit()
    return go("/commitments")
