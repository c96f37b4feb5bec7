"""schemathesis against /openapi.json, in-process, as the partners of a real couple.

Each API operation gets generated requests, valid and invalid, sent with a fresh
bearer token of Hana or Ivan, so a generated logout ends only its own session.
Every answer must be free of server errors and match what the schema promises, and
every refusal must be one the schema documents.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)

from reconnect.app import ROUTERS, create_app
from tests.conftest import People, make_settings
from tests.payloads import CALM, GOOD, GOOD_FORM
from tests.security.conftest import send_form, signed_in
from tests.security.fuzz_tally import TALLY

OPERATIONS = sorted(
    (method, route.path)
    for router in ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute) and route.include_in_schema
    for method in route.methods - {"HEAD"}
)
EXAMPLES_PER_OPERATION = 15
# Past what SQLite's integers hold (PostgreSQL's integer columns stop at 2**31 - 1).
TOO_BIG_FOR_ANY_DATABASE = 2**63
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


def test_the_fuzzed_operations_are_exactly_those_in_the_schema(app, client):
    published = client.get("/openapi.json").json()["paths"]
    in_schema = sorted((m.upper(), path) for path, ops in published.items() for m in ops)
    assert in_schema == OPERATIONS


@pytest.fixture(scope="session")
def paired_data_dir(tmp_path_factory) -> Path:
    """A data folder whose database holds Hana and Ivan, paired, and Hana's first check-in
    and practice (so generated ids can land on real rows). Built once per worker; each
    operation starts from a copy, which is much quicker than building it again."""
    folder = tmp_path_factory.mktemp("paired")
    app = create_app(make_settings(folder))
    with TestClient(app) as client:
        hana, _ = People(client).couple("hana", "ivan")
        assert hana.post("/api/v1/checkins", CALM).status_code == 201
        logged = hana.post("/api/v1/experiences", {"practice_id": "walk-side-by-side", **GOOD})
        assert logged.status_code == 201, logged.text
    app.state.engine.dispose()  # checkpoints the WAL, so the folder copies whole
    return folder


@pytest.fixture(scope="session")
def published(paired_data_dir, tmp_path_factory) -> dict[str, Any]:
    """The OpenAPI document, made once per worker: every app has the same routes, and
    FastAPI takes about a second here to describe them."""
    app = create_app(make_settings(tmp_path_factory.mktemp("schema")))
    document = app.openapi()
    app.state.engine.dispose()
    return document


@pytest.fixture
def paired_app(paired_data_dir, published, tmp_path) -> Iterator[Any]:
    copy = shutil.copytree(paired_data_dir, tmp_path / "paired")
    app = create_app(make_settings(copy), migrate=False)
    app.openapi = lambda: published  # FastAPI's documented way to give the schema
    yield app
    app.state.engine.dispose()


@pytest.fixture
def paired_people(paired_app) -> Iterator[People]:
    with TestClient(paired_app) as client:
        yield People(client)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_generated_request_gets_an_answer_that_matches_the_schema(
    paired_app, paired_people, method, path
):
    schema = schemathesis.openapi.from_asgi("/openapi.json", paired_app)
    operation = schema[path][method]
    generated = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,  # the same cases on every CI run
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=generated, who=st.sampled_from(["hana", "ivan"]))
    def send(case, who):
        token = paired_people.login(who)
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
        TALLY.cases += 1

    send()
    TALLY.operations += 1


def test_every_refusal_the_api_gives_is_documented_in_the_schema(client):
    published = client.get("/openapi.json").json()["paths"]
    undocumented = []
    for method, path in OPERATIONS:
        # Signed out, with wrong credentials: every operation refuses.
        answer = client.request(method, path, json={"username": "nobody", "password": "wrong"})
        assert 400 <= answer.status_code < 500, (method, path)
        if str(answer.status_code) not in published[path][method.lower()]["responses"]:
            undocumented.append(f"{method} {path} {answer.status_code}")
    assert undocumented == []


@pytest.mark.usefixtures("backend")
def test_an_id_too_large_for_the_database_is_refused_never_a_crash(
    app, hana_and_ivan, hanas_experience
):
    hana, _ = hana_and_ivan
    browser = signed_in(app, "hana")
    too_big = TOO_BIG_FOR_ANY_DATABASE
    api = hana.post("/api/v1/experiences", {"experience_id": too_big, **GOOD})
    browser.get(f"/experiences/new?experience={too_big}")
    page = browser.last
    form = {"experience_id": str(too_big), "felt_pressured": "no", **GOOD_FORM}
    posted = send_form(browser, "/experiences", form)
    assert {api.status_code, page.status_code, posted.status_code} <= {404, 422}


def test_a_heart_rate_dated_before_1970_is_refused_never_a_crash(app, hana_and_ivan):
    hana, _ = hana_and_ivan
    typed = hana.post("/api/v1/heart-rate", {"at": "1969-12-31T23:00:00Z", "bpm": 60})
    rows = b"timestamp,bpm\n1969-12-31T23:00:00Z,60\n2026-03-01T08:00:00Z,61\n"
    imported = hana.client.post(
        "/api/v1/heart-rate/import",
        headers=hana.headers,
        files={"file": ("heart-rate.csv", rows, "text/csv")},
    )
    assert typed.status_code == 422, typed.text
    assert imported.status_code in {201, 422}, imported.text  # the old row skipped, or refused
