"""One vocabulary: every choice and limit the API takes is the domain's, read from the
published OpenAPI schema, so the two cannot drift apart again; docs/api.md names every
choice.

Hana is the hurt partner and Ivan the involved partner.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from reconnect.app import create_app
from reconnect.domain.couples import Role
from reconnect.domain.heart.samples import MAX_BPM, MIN_BPM
from reconnect.domain.moments import WORDS_MAX, Mood, Response, TriggerResponse
from reconnect.domain.pacing.checkins import (
    BODY_SIGNAL_MAX_CHARS,
    BODY_SIGNAL_MAX_COUNT,
    NOTE_MAX_CHARS,
    SCALE_MAX,
    Driver,
    State,
)
from reconnect.domain.pacing.experiences import (
    PRACTICE_ID_MAX_CHARS,
    QUALITIES,
    QUALITY_MAX,
    StartedBy,
    Staying,
)
from tests.conftest import make_settings
from tests.payloads import CALM

DOCS = Path(__file__).parent.parent / "docs" / "api.md"


def values(kind: type[Enum]) -> set[str]:
    return {member.value for member in kind}


def scale(top: int) -> dict[str, Any]:
    return {"minimum": 0, "maximum": top}


# (schema, property path, what the domain says). "[]" steps into a list's items; a
# schema whose name another module also uses is named by its module.
VOCABULARY = [
    ("CheckInIn", "state", {"enum": values(State)}),
    ("CheckInOut", "state", {"enum": values(State)}),
    ("CheckInIn", "drivers", {"maxItems": len(Driver)}),
    ("CheckInIn", "drivers.[]", {"enum": values(Driver)}),
    ("CheckInOut", "drivers.[]", {"enum": values(Driver)}),
    ("CheckInIn", "body_signals", {"maxItems": BODY_SIGNAL_MAX_COUNT}),
    ("CheckInIn", "body_signals.[]", {"maxLength": BODY_SIGNAL_MAX_CHARS}),
    ("CheckInIn", "note", {"maxLength": NOTE_MAX_CHARS}),
    *[
        ("CheckInIn", name, scale(SCALE_MAX))
        for name in ("activation", "safety", "urgency", "readiness")
    ],
    ("ExperienceIn", "staying", {"enum": values(Staying)}),
    ("ExperienceIn", "started_by", {"enum": values(StartedBy)}),
    ("ExperienceIn", "practice_id", {"maxLength": PRACTICE_ID_MAX_CHARS}),
    ("ExperienceIn", "note", {"maxLength": NOTE_MAX_CHARS}),
    *[
        ("ExperienceIn", name, scale(SCALE_MAX))
        for name in ("safety", "activation_before", "activation_after")
    ],
    *[("ExperienceIn", name, scale(QUALITY_MAX)) for name in QUALITIES],
    ("StatusIn", "status", {"enum": values(Mood)}),
    ("moments.api.StatusOut", "status", {"enum": values(Mood)}),
    ("StatusIn", "words", {"maxLength": WORDS_MAX}),
    ("TriggerIn", "what", {"maxLength": WORDS_MAX}),
    ("TriggerIn", "strength", scale(SCALE_MAX)),
    ("ResponseIn", "kind", {"enum": values(TriggerResponse)}),
    ("TriggerOut", "response_kind", {"enum": values(TriggerResponse)}),
    ("ProposalIn", "practice_id", {"maxLength": PRACTICE_ID_MAX_CHARS}),
    ("ProposalOut", "response", {"enum": values(Response)}),
    ("NewCouple", "role", {"enum": values(Role)}),
    ("couples.api.JoinIn", "role", {"enum": values(Role)}),
    ("couples.api.CoupleOut", "my_role", {"enum": values(Role)}),
    ("PartnerOut", "role", {"enum": values(Role)}),
    ("ReadingIn", "bpm", {"minimum": MIN_BPM, "maximum": MAX_BPM}),
]


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    app = create_app(make_settings(tmp_path_factory.mktemp("vocabulary")))
    yield app.openapi()["components"]["schemas"]
    app.state.engine.dispose()


def component(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    short = name.rsplit(".", 1)[-1]
    found: dict[str, Any] = schemas.get(short) or schemas["reconnect__" + name.replace(".", "__")]
    return found


def resolve(schemas: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a reference to an enum, and take the one non-null side of an optional."""
    while True:
        if "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            (node,) = [side for side in node["anyOf"] if side.get("type") != "null"]
        else:
            return node


@pytest.mark.parametrize(
    ("schema", "path", "domain"),
    VOCABULARY,
    ids=[f"{schema}.{path}" for schema, path, _ in VOCABULARY],
)
def test_the_api_takes_the_domains_choices_and_limits(schemas, schema, path, domain):
    node = component(schemas, schema)
    for step in path.split("."):
        node = resolve(schemas, node)
        node = node["items"] if step == "[]" else node["properties"][step]
    node = resolve(schemas, node)
    published = {key: node.get(key) for key in domain}
    if "enum" in published:
        published["enum"] = set(published["enum"] or ())
    assert published == domain


@pytest.mark.parametrize(
    "kind", [State, Driver, Staying, StartedBy, Mood, TriggerResponse, Response, Role]
)
def test_the_api_docs_name_every_choice(kind):
    text = DOCS.read_text()
    assert [value for value in values(kind) if f"`{value}`" not in text] == []


@pytest.mark.parametrize(
    "signals",
    [
        ["x" * (BODY_SIGNAL_MAX_CHARS + 1)],
        ["   "],
        [7],
        [f"signal {n}" for n in range(BODY_SIGNAL_MAX_COUNT + 1)],
    ],
    ids=["too long", "blank", "not words", "too many"],
)
def test_a_body_signal_outside_the_domains_limits_is_refused(hana_and_ivan, signals):
    """Body signals are the person's own words (the form only suggests some), so any
    words are taken; what the domain refuses is refused with a 422, never a 500."""
    hana, _ = hana_and_ivan
    answer = hana.post("/api/v1/checkins", {**CALM, "body_signals": signals})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] in {"invalid_input", "invalid_entry"}
    assert hana.get("/api/v1/checkins").json() == []
