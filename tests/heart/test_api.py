"""Heart-rate import through the API and pages, and flooding noticed during a practice."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from reconnect.accounts import auth
from reconnect.domain.heart.baseline_and_flooding import FloodingPolicy
from reconnect.heart import store as heart
from reconnect.models import HeartRateImport, Person
from tests.conftest import PASSWORD
from tests.heart.uploads import csv_of, upload
from tests.on_disk import assert_sealed_without
from tests.pacing.api_steps import check_in
from tests.pages import Visitor, soup, text_of
from tests.payloads import GOOD

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def couple(hana_and_ivan, clock):
    return hana_and_ivan


def test_an_import_reports_what_was_stored_and_skipped(couple, clock):
    hana, _ = couple
    start = clock.now - timedelta(days=1)
    content = csv_of(start, [70, 72, 300, 71, 10]) + b"not a time,80\n"
    content += f"{(clock.now + timedelta(days=3)).isoformat()},75\n".encode()
    answer = upload(hana, content)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["imported"] == 3 and body["stored"] == 3
    assert body["skipped"] == {"impossible": 2, "unreadable": 1, "in_future": 1}
    assert body["complete"] is True
    assert "3" in body["summary"]


def test_the_same_file_is_never_stored_twice(couple, clock, app):
    hana, _ = couple
    content = csv_of(clock.now - timedelta(hours=3), [70, 71, 72])
    assert upload(hana, content).json()["stored"] == 3
    again = upload(hana, content).json()
    assert again["already_imported"] is True and again["stored"] == 0
    overlapping = csv_of(clock.now - timedelta(hours=3), [70, 71, 72, 73])
    result = upload(hana, overlapping).json()
    assert (result["stored"], result["duplicates_of_earlier_imports"]) == (1, 3)
    with app.state.reconnect.sessions() as db:
        assert len(db.scalars(select(HeartRateImport)).all()) == 2


def test_samples_are_sealed_under_the_owners_key(couple, clock, app):
    hana, _ = couple
    upload(hana, csv_of(clock.now - timedelta(hours=1), [123, 124, 125]))
    with app.state.reconnect.sessions() as db:
        row = db.scalar(select(HeartRateImport))
        assert_sealed_without(row.sealed, b"timestamp,bpm", b",123\n20")


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"%PDF-1.4 not an export", "unknown_format"), (b"", "unknown_format")],
)
def test_something_that_is_not_an_export_is_refused_clearly(couple, content, code):
    hana, _ = couple
    answer = upload(hana, content, "thing.pdf")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == code


def test_a_truncated_apple_export_keeps_what_was_read(couple, clock):
    hana, _ = couple
    at = (clock.now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S +0000")
    record = (
        f'<Record type="HKQuantityTypeIdentifierHeartRate" unit="count/min" '
        f'startDate="{at}" value="71"/>'
    )
    content = f'<?xml version="1.0"?>\n<HealthData locale="en">{record}<Record type="HKQu'
    answer = upload(hana, content.encode(), "export.xml")
    assert answer.status_code == 201
    assert answer.json()["stored"] == 1
    assert answer.json()["complete"] is False


def test_a_reading_can_be_entered_by_hand(couple, clock):
    hana, _ = couple
    at = (clock.now - timedelta(minutes=5)).isoformat()
    assert hana.post("/api/v1/heart-rate", {"at": at, "bpm": 88}).status_code == 201
    assert hana.post("/api/v1/heart-rate", {"at": at, "bpm": 88}).status_code == 409
    assert hana.post("/api/v1/heart-rate", {"at": at, "bpm": 260}).status_code == 422


def test_a_flooding_heart_rate_during_a_practice_starts_a_break(couple, clock):
    hana, ivan = couple
    # A calm baseline over the past days, then a racing heart during the practice.
    calm_start = clock.now - timedelta(days=3)
    calm = csv_of(calm_start, [64] * (60 * 48), step_seconds=60)
    assert upload(ivan, calm).status_code == 201
    check_in(hana)
    check_in(ivan)
    practice_start = clock.now
    racing = csv_of(practice_start + timedelta(minutes=1), [112] * 5, step_seconds=30)
    logged = hana.post(
        "/api/v1/experiences",
        {"practice_id": "walk-side-by-side", **GOOD, "occurred_at": practice_start.isoformat()},
    ).json()
    clock.advance(minutes=10)
    assert upload(ivan, racing).status_code == 201
    ivan.post("/api/v1/experiences", {"experience_id": logged["id"], **GOOD})
    assert ivan.get("/api/v1/pace").json()["break_until"] is not None


def test_a_zip_bomb_is_refused_at_once_with_a_calm_reason(couple):
    hana, _ = couple
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export.xml", b"<HealthData>" + b" " * 50_000_000)
    started = time.monotonic()
    answer = upload(hana, buffer.getvalue(), "export.zip")
    assert time.monotonic() - started < 5
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "archive_too_large"
    assert "unzips to far more than a real export" in answer.json()["error"]["message"]


def test_the_import_page_shows_the_summary(app, hana_and_ivan):
    visitor = Visitor(app)
    visitor.post("/login", {"username": "hana", "password": "quiet river under stone"})
    content = csv_of(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), [70, 71])
    response = visitor.client.post(
        "/heart-rate/import",
        data={"csrf_token": visitor.csrf()},
        files={"file": ("hr.csv", content, "text/csv")},
    )
    assert response.status_code == 200
    assert "2" in text_of(soup(response), "#import-summary")


def test_a_baseline_is_read_on_the_persons_own_clock(couple, app):
    # Hana lives in Los Angeles (UTC-8 in January), Ivan in UTC; each sleeps from
    # midnight to seven at 52 bpm on their own clock and is awake at 74 to 89 bpm.
    hana, ivan = couple
    answer = hana.client.patch(
        "/api/v1/me", json={"time_zone": "America/Los_Angeles"}, headers=hana.headers
    )
    assert answer.status_code == 200, answer.text
    for person, where in ((hana, ZoneInfo("America/Los_Angeles")), (ivan, UTC)):
        rows = ["timestamp,bpm"]
        for day in range(3):
            for hour in range(24):
                start = datetime(2025, 1, 6 + day, hour, tzinfo=where)
                bpm = 52 if hour < 7 else 74 + hour - 7
                rows += [
                    f"{(start + timedelta(minutes=10 * i)).isoformat()},{bpm}" for i in range(4)
                ]
        assert upload(person, ("\n".join(rows) + "\n").encode()).status_code == 201
    before = datetime(2025, 1, 10, tzinfo=UTC)
    with app.state.reconnect.sessions() as db:
        found = {}
        for name in ("hana", "ivan"):
            person = db.scalar(select(Person).where(Person.username == name))
            data_key = auth.unlock_with_password(person, PASSWORD)
            found[name] = heart.calm_baseline(db, person, data_key, before)
    assert found == {"hana": 75, "ivan": 75}
    assert (
        FloodingPolicy().threshold(found["hana"]) == FloodingPolicy().threshold(found["ivan"]) == 85
    )
