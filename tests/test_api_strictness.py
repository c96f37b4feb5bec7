"""The API takes what its schema says and nothing looser: one limit per field, the
domain's; a datetime is written as one, a yes/no as true or false; a method a route
does not take is refused with the methods it does take.

Hana is the hurt partner and Ivan the involved partner.
"""

from __future__ import annotations

import pytest

from reconnect.domain.pacing.checkins import BODY_SIGNAL_MAX_CHARS, BODY_SIGNAL_MAX_COUNT
from tests.payloads import CALM, GOOD

NOT_MOMENTS = [0, 1767225600, "0", "1767225600", True, 1.5]
NOT_YES_OR_NO = [0, 1, "true", "yes", "", None]


def test_the_schema_limits_body_signals_as_the_domain_does(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["CheckInIn"]
    signals = schema["properties"]["body_signals"]
    assert signals["maxItems"] == BODY_SIGNAL_MAX_COUNT
    assert signals["items"]["maxLength"] == BODY_SIGNAL_MAX_CHARS


def test_one_body_signal_too_many_is_refused_by_the_schema(hana_and_ivan):
    hana, _ = hana_and_ivan
    too_many = [f"signal {n}" for n in range(BODY_SIGNAL_MAX_COUNT + 1)]
    answer = hana.post("/api/v1/checkins", {**CALM, "body_signals": too_many})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_input"
    assert answer.json()["error"]["fields"][0]["field"] == "body_signals"
    enough = hana.post("/api/v1/checkins", {**CALM, "body_signals": too_many[:-1]})
    assert enough.status_code == 201, enough.text


@pytest.mark.parametrize("value", NOT_MOMENTS)
def test_a_number_is_not_a_moment(hana_and_ivan, value):
    hana, _ = hana_and_ivan
    answers = {
        "check-in": hana.post("/api/v1/checkins", {**CALM, "recorded_at": value}),
        "experience": hana.post(
            "/api/v1/experiences",
            {"practice_id": "longer-out-breath", **GOOD, "occurred_at": value},
        ),
        "reading": hana.post("/api/v1/heart-rate", {"at": value, "bpm": 70}),
    }
    for what, answer in answers.items():
        assert answer.status_code == 422, (what, answer.text)
        assert answer.json()["error"]["code"] == "invalid_input", what
    assert hana.get("/api/v1/checkins").json() == []


@pytest.mark.parametrize("value", NOT_YES_OR_NO)
def test_only_true_or_false_is_a_yes_or_no(hana_and_ivan, value):
    hana, _ = hana_and_ivan
    answers = {
        "felt_pressured": hana.post(
            "/api/v1/experiences",
            {"practice_id": "longer-out-breath", **GOOD, "felt_pressured": value},
        ),
        "tell_partner": hana.post(
            "/api/v1/triggers", {"what": "a song", "strength": 4, "tell_partner": value}
        ),
    }
    for what, answer in answers.items():
        assert answer.status_code == 422, (what, answer.text)
        assert answer.json()["error"]["code"] == "invalid_input", what


def test_written_moments_and_yes_or_no_still_work(hana_and_ivan, clock):
    hana, _ = hana_and_ivan
    at = "2026-03-01T20:00:00+01:00"  # the evening before the test clock's morning
    assert hana.post("/api/v1/checkins", {**CALM, "recorded_at": at}).status_code == 201
    told = {"what": "a song", "strength": 4, "tell_partner": True}
    assert hana.post("/api/v1/triggers", told).status_code == 201
    assert hana.post("/api/v1/heart-rate", {"at": at, "bpm": 70}).status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/checkins", "/today", "/login"])
def test_trace_is_refused_with_the_methods_a_route_takes(client, path):
    answer = client.request("TRACE", path)
    assert answer.status_code == 405
    allowed = {m.strip() for m in answer.headers["allow"].split(",")}
    assert allowed and "TRACE" not in allowed
    assert allowed <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
