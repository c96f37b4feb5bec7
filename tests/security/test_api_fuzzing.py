"""schemathesis against /openapi.json, in-process, as the partners of a real couple.

Each API operation gets generated requests, valid and invalid, sent with a fresh
bearer token of Hana or Ivan, so a generated logout ends only its own session.
Every answer must be free of server errors and match what the schema promises.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.routing import APIRoute
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

from reconnect.app import ROUTERS
from tests.security.conftest import TALLY

OPERATIONS = sorted(
    (method, route.path)
    for router in ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute) and route.include_in_schema
    for method in route.methods - {"HEAD"}
)
EXAMPLES_PER_OPERATION = 20
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


@pytest.fixture
def schema(app, hanas_experience):
    # Hana has checked in and logged a practice, so generated ids can land on real rows.
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_generated_request_gets_an_answer_that_matches_the_schema(
    schema, people, method, path
):
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
        token = people.login(who)
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
        TALLY.cases += 1

    send()
    TALLY.operations += 1
