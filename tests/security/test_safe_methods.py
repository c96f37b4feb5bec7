"""Reading never writes: no GET, by anyone, changes a single row.

A link in an email or an image on another site can make a browser send a GET with
its cookies; so can a prefetching browser. None of that may change anything.
"""

from __future__ import annotations

import pytest

from tests.pages import Visitor
from tests.security.conftest import (
    api_addresses,
    is_api,
    page_addresses,
    signed_in,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("backend")

ROLES = ("anonymous", "hana", "ivan", "olga", "thea")  # Thea: their therapist, with consent
# Query strings the pages and API read, so those branches are walked too.
VARIANTS = [
    "/today?checked_in=1",
    "/experiences/new?practice=longer-out-breath",
    "/api/v1/checkins?limit=500",
]


def addresses(experience_id: int, couple_id: int) -> list[str]:
    return [
        *page_addresses(experience_id),
        *api_addresses(couple_id),
        "/openapi.json",
        *VARIANTS,
        # The couple's own caseload pages, which only Thea may open.
        f"/caseload/{couple_id}",
        f"/caseload/{couple_id}/report.pdf",
        f"/caseload/{couple_id}/charts/tier.svg",
    ]


def test_no_get_changes_any_table_for_any_role(
    app, people, hana_and_ivan, olga_and_oscar, hanas_experience, couple_id
):
    hana, ivan = hana_and_ivan
    thea = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    assert thea.get(f"/api/v1/caseload/{couple_id}").status_code == 200
    tokens = {name: people.login(name) for name in ROLES if name != "anonymous"}
    browsers = {name: signed_in(app, name) for name in tokens}
    anonymous = Visitor(app)
    # Each request is compared with the state before it, which the last comparison
    # showed to be the same as the first one: one look at every table per request.
    before = snapshot(app.state.engine)
    for address in addresses(hanas_experience, couple_id):
        for role in ROLES:
            if is_api(address):
                headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}
                response = people.client.get(address, headers=headers)
            else:
                browser = browsers.get(role, anonymous)
                browser.get(address)
                response = browser.last
            assert response.status_code < 500, (role, address)
            assert snapshot(app.state.engine) == before, (role, address)


def test_the_snapshot_notices_one_changed_value(app, hana_and_ivan):
    hana, _ = hana_and_ivan
    before = snapshot(app.state.engine)
    assert hana.post("/api/v1/pause").status_code == 200
    assert snapshot(app.state.engine) != before
