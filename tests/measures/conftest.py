"""Fixtures the questionnaire tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def thea(people, hana_and_ivan):
    """Thea, the couples therapist both Hana and Ivan agreed to."""
    hana, ivan = hana_and_ivan
    therapist = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert therapist.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    return therapist
