"""Heart-rate readings in the JSON API: importing a wearable's export, or one reading by hand."""

from __future__ import annotations

from typing import Annotated

from fastapi import UploadFile
from pydantic import AwareDatetime, BaseModel, Field

from reconnect import localtime
from reconnect.domain.heart.samples import MAX_BPM, MIN_BPM
from reconnect.heart import store as heart
from reconnect.pacing.late_floods import LateFlood, after_new_samples
from reconnect.ratelimit import Write, WriteLimits
from reconnect.web.deps import ApiDateTime, ApiSession, Db, Now, State, api_router, spaced
from reconnect.web.schemas import Strict

router = api_router("heart rate")


class FloodFoundOut(BaseModel):
    practice: str = Field(description="The shared practice's title.")
    started_at: AwareDatetime
    flooding_began_at: AwareDatetime
    message: str = Field(description="What was found, for you alone.")


class ImportOut(BaseModel):
    format: str
    imported: int = Field(description="Readable samples found in the file.")
    stored: int = Field(description="Samples newly stored (duplicates are never stored twice).")
    skipped: dict[str, int] = Field(description="Rows left out, by reason.")
    duplicates_of_earlier_imports: int
    already_imported: bool
    complete: bool = Field(description="False when the file broke off part way.")
    summary: str
    floods_found: list[FloodFoundOut] = Field(
        description="Shared practices the new samples cover whose heart rate showed "
        "flooding: each steps the pace back from when it began. Private to you."
    )


class ReadingIn(Strict):
    at: ApiDateTime
    bpm: Annotated[int, Field(ge=MIN_BPM, le=MAX_BPM)]


@router.post(
    "/heart-rate/import",
    status_code=201,
    response_model=ImportOut,
    dependencies=[spaced(Write.HEART_IMPORT)],
)
def import_heart_rate(
    file: UploadFile, session: ApiSession, db: Db, at: Now, state: State
) -> ImportOut:
    """Import heart-rate samples from a watch's or tracker's export: Apple Health
    (export.zip, export.xml, export_cda.xml), Fitbit (JSON, or Google Takeout's CSV),
    FIT and TCX activities, Fitabase, FHIR and Open mHealth files, or a CSV with a time
    and a heart-rate column (docs/heart-rate.md). Private: sealed under your own key.
    More than `RECONNECT_HEART_IMPORTS_PER_DAY` in a day wait: 429 `slow_down`, with
    Retry-After."""
    limits = WriteLimits(db, state.settings, state.secret)
    limits.check(Write.HEART_IMPORT, session.person.id, at, page=False)
    result = heart.import_file(db, signed_in=session, upload=file.file, now=at)
    floods = after_new_samples(db, session, result.new_span, at)
    limits.record(Write.HEART_IMPORT, session.person.id, at)
    db.commit()
    return import_out(result, floods, localtime.Local.of(session.person.time_zone))


def import_out(
    result: heart.Imported, floods: list[LateFlood], local: localtime.Local
) -> ImportOut:
    report = result.report
    return ImportOut(
        format=report.format.value,
        imported=report.imported,
        stored=result.stored,
        skipped={reason.value: count for reason, count in report.skipped.items() if count},
        duplicates_of_earlier_imports=result.duplicates_of_earlier_imports,
        already_imported=result.already_imported,
        complete=report.complete,
        summary=result.summary,
        floods_found=[
            FloodFoundOut(
                practice=flood.practice_title,
                started_at=local.at(flood.started_at),
                flooding_began_at=local.at(flood.began_at),
                message=flood.described(local),
            )
            for flood in floods
        ],
    )


@router.post("/heart-rate", status_code=201, dependencies=[spaced(Write.HEART_READING)])
def add_reading(
    body: ReadingIn, session: ApiSession, db: Db, at: Now, state: State
) -> dict[str, str]:
    """Enter one reading by hand. More than `RECONNECT_HEART_READINGS_PER_HOUR` in an
    hour wait: 429 `slow_down`, with Retry-After."""
    limits = WriteLimits(db, state.settings, state.secret)
    limits.check(Write.HEART_READING, session.person.id, at, page=False)
    heart.add_reading(db, signed_in=session, at=body.at, bpm=body.bpm, now=at)
    after_new_samples(db, session, (body.at, body.at), at)
    limits.record(Write.HEART_READING, session.person.id, at)
    db.commit()
    return {"status": "stored"}
