"""Shared helpers for the attack tests: real route addresses, moments to answer, a
whole-database snapshot, browsers that sign in and post forms."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.routing import APIRoute
from sqlalchemy import Engine, select

from reconnect.app import ROUTERS
from reconnect.models import Base
from tests.conftest import PASSWORD
from tests.pages import Visitor
from tests.payloads import CALM, GOOD
from tests.security import fuzz_tally

# Real values for the path parameters of page and API routes.
PATH_VALUES = {
    "practice_id": "longer-out-breath",
    "instrument_id": "phq-9",
    "scope": "me",
    "key": "activation-safety",
    # A couple id nobody here is the therapist of: these routes answer 404 or 403.
    "couple_id": 1,
    # A questionnaire result: none exists here, so these answer 404 or 403.
    "result_id": 1,
    # A hard date: none exists here, so removing one answers 404.
    "date_id": "0123456789ab",
    # A commitment: none exists here, so these answer 404 or 403.
    "commitment_id": 1,
    "ritual_id": 1,
    "letter_id": 1,
    "disclosure_id": 1,
}


def routes(method: str) -> list[str]:
    """The path of every route that answers ``method``, pages and API alike."""
    return sorted(
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and method in route.methods
    )


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def page_addresses(experience_id: int) -> list[str]:
    """Every page a browser can GET, parameters filled in, plus the reflection form and
    the couple's shared chart."""
    addresses = [path.format(**PATH_VALUES) for path in routes("GET") if not is_api(path)]
    return [
        *addresses,
        f"/experiences/new?experience={experience_id}",
        "/progress/charts/couple/tier.svg",
    ]


def api_addresses(couple_id: int) -> list[str]:
    """Every API address a client can GET, parameters filled in."""
    values = {**PATH_VALUES, "couple_id": couple_id}
    return [path.format(**values) for path in routes("GET") if is_api(path)]


@pytest.fixture
def moments_to_answer(hana_and_ivan) -> dict[str, int]:
    """Hana tells Ivan of a trigger (only the hurt partner logs them) and Ivan proposes a
    practice: each has something to answer."""
    hana, ivan = hana_and_ivan
    told = {"what": "a song on the radio", "strength": 4, "tell_partner": True}
    trigger = hana.post("/api/v1/triggers", told)
    assert trigger.status_code == 201, trigger.text
    proposal = ivan.post("/api/v1/proposals", {"practice_id": "longer-out-breath"})
    assert proposal.status_code == 201, proposal.text
    return {"trigger_id": trigger.json()["id"], "proposal_id": proposal.json()["id"]}


@pytest.fixture
def hanas_experience(hana_and_ivan) -> int:
    """Hana checks in and logs a practice, which Ivan is invited to reflect on."""
    hana, _ = hana_and_ivan
    assert hana.post("/api/v1/checkins", CALM).status_code == 201
    logged = hana.post("/api/v1/experiences", {"practice_id": "walk-side-by-side", **GOOD})
    assert logged.status_code == 201, logged.text
    return int(logged.json()["id"])


def pytest_configure(config: pytest.Config) -> None:
    # scripts/test loads the tally with -p, so that the xdist controller (which never
    # reads this conftest in a whole-suite run) prints it; otherwise load it here.
    if not config.pluginmanager.has_plugin(fuzz_tally.__name__):
        config.pluginmanager.register(fuzz_tally, fuzz_tally.__name__)


# --- the database, seen whole ---------------------------------------------------------


def snapshot(engine: Engine) -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of its content, in primary-key order."""
    state = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
            state[table.name] = (len(rows), digest)
    return state


# --- browsers ---------------------------------------------------------------------------


def send_form(visitor: Visitor, path: str, data: dict[str, Any]) -> Any:
    """Post a form the way the page would, with this browser's CSRF token."""
    token = visitor.client.cookies.get("reconnect_csrf") or visitor.csrf()
    visitor.last = visitor.client.post(path, data={"csrf_token": token, **data})
    return visitor.last


def signed_in(app: Any, username: str) -> Visitor:
    visitor = Visitor(app)
    visitor.post("/login", {"username": username, "password": PASSWORD})
    assert visitor.last.status_code == 303, visitor.last.text
    return visitor


def without_csrf_values(html: str) -> str:
    """The page with each form's per-browser CSRF token blanked, for comparing pages."""
    page = BeautifulSoup(html, "html.parser")
    for field in page.select("input[name=csrf_token]"):
        field["value"] = ""
    return str(page)
