"""The heart-rate page: importing a wearable's export file."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile as StarletteUploadFile

from reconnect import localtime
from reconnect.errors import Problem
from reconnect.heart import store as heart
from reconnect.pacing.late_floods import after_new_samples
from reconnect.ratelimit import Write, WriteLimits
from reconnect.web.deps import CheckedForm, Db, Now, PagePerson, PageSession, State, spaced
from reconnect.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/heart-rate")
def heart_rate_page(request: Request, person: PagePerson) -> Response:
    return render(request, "heart/heart_rate.html", person)


@router.post("/heart-rate/import", dependencies=[spaced(Write.HEART_IMPORT, page=True)])
def import_heart_rate(
    request: Request, form: CheckedForm, session: PageSession, db: Db, at: Now, state: State
) -> Response:
    # A plain ``def``: the import, its floods and its commit are one trip to a worker
    # thread, so the import's write never waits between trips (database.WriteTurns).
    upload = form.get("file")
    if not isinstance(upload, StarletteUploadFile) or not upload.filename:
        return render(
            request, "heart/heart_rate.html", session.person, 422, error="Please choose a file."
        )
    limits = WriteLimits(db, state.settings, state.secret)
    try:
        limits.check(Write.HEART_IMPORT, session.person.id, at)
        result = heart.import_file(db, signed_in=session, upload=upload.file, now=at)
    except Problem as problem:
        page = render(
            request, "heart/heart_rate.html", session.person, problem.status, error=problem.message
        )
        page.headers.update(problem.headers)  # Retry-After, when there were too many
        return page
    floods = after_new_samples(db, session, result.new_span, at)
    limits.record(Write.HEART_IMPORT, session.person.id, at)
    db.commit()
    local = localtime.Local.of(session.person.time_zone)
    return render(
        request,
        "heart/heart_rate.html",
        session.person,
        result=result,
        floods=[flood.described(local) for flood in floods],
    )
