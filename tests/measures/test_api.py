"""Questionnaires through the API and pages: scored, sealed, change over time, crisis."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reconnect.models import QuestionnaireResponse
from tests.on_disk import assert_sealed_without
from tests.pages import Visitor, soup, text_of

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def phq9_ids(people):
    hana = people.register("hana")
    found = {i["id"]: i for i in hana.get("/api/v1/questionnaires").json()}
    assert {"phq-9", "gad-7", "pcl-5"} <= set(found)
    return hana, [item["id"] for item in found["phq-9"]["items"]]


def answers_for(ids: list[str], values: list[int]) -> dict[str, int]:
    return dict(zip(ids, values, strict=True))


def test_a_questionnaire_is_scored_by_its_published_rules(phq9_ids):
    hana, ids = phq9_ids
    taken = hana.post("/api/v1/questionnaires/phq-9", {"answers": answers_for(ids, [2] * 8 + [0])})
    assert taken.status_code == 201, taken.text
    body = taken.json()
    assert body["total"] == 16
    assert body["band"].lower().startswith("moderately severe")
    assert body["crisis"] is False and body["resources"] == []


def test_any_answer_above_zero_on_item_9_opens_crisis_resources_at_once(phq9_ids):
    hana, ids = phq9_ids
    body = hana.post(
        "/api/v1/questionnaires/phq-9", {"answers": answers_for(ids, [0] * 8 + [1])}
    ).json()
    assert body["crisis"] is True
    assert any("988" in r["contact"] or "Samaritans" in r["name"] for r in body["resources"])


def test_reliable_change_is_reported_between_administrations(phq9_ids, clock):
    hana, ids = phq9_ids
    hana.post("/api/v1/questionnaires/phq-9", {"answers": answers_for(ids, [3] * 8 + [0])})
    clock.advance(weeks=4)
    later = hana.post(
        "/api/v1/questionnaires/phq-9", {"answers": answers_for(ids, [1] * 8 + [0])}
    ).json()
    assert later["change"]["reliable"] is True
    assert later["change"]["direction"] == "improved"
    history = hana.get("/api/v1/questionnaires/phq-9/history").json()
    assert [h["total"] for h in history] == [24, 8]


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {str(n): 0 for n in range(1, 9)},
        {**{str(n): 0 for n in range(1, 10)}, "1": 7},
        {"nonsense": 1},
    ],
)
def test_missing_or_out_of_range_answers_are_refused_and_nothing_stored(phq9_ids, app, answers):
    hana, _ = phq9_ids
    response = hana.post("/api/v1/questionnaires/phq-9", {"answers": answers})
    assert response.status_code == 422
    with app.state.reconnect.sessions() as db:
        assert db.scalars(select(QuestionnaireResponse)).all() == []


def test_an_unknown_questionnaire_is_404(phq9_ids):
    hana, _ = phq9_ids
    assert hana.post("/api/v1/questionnaires/csi-4", {"answers": {}}).status_code == 404


def test_answers_are_sealed_and_the_partner_never_sees_them(hana_and_ivan, app):
    hana, ivan = hana_and_ivan
    items = {i["id"]: i for i in hana.get("/api/v1/questionnaires").json()}["gad-7"]["items"]
    hana.post("/api/v1/questionnaires/gad-7", {"answers": {i["id"]: 3 for i in items}})
    assert ivan.get("/api/v1/questionnaires/gad-7/history").json() == []
    with app.state.reconnect.sessions() as db:
        row = db.scalar(select(QuestionnaireResponse))
        assert_sealed_without(row.sealed, b'"gad-7"', b'"total": 21')


def test_the_page_shows_crisis_resources_first_when_item_9_is_answered(app, phq9_ids):
    _, ids = phq9_ids
    visitor = Visitor(app)
    visitor.post("/login", {"username": "hana", "password": "quiet river under stone"})
    form = {item: "0" for item in ids}
    form[ids[-1]] = "2"
    response = visitor.post("/questionnaires/phq-9", form)
    page = soup(response)
    assert response.status_code == 200
    assert page.select_one("main").find(recursive=False).get("id") in {"crisis", None}
    assert "reach out" in text_of(page, "#crisis")
    assert len(page.select("#crisis ul.resources li")) >= 5


def test_a_malformed_operator_definition_is_named_and_the_app_starts_without_it(
    tmp_path, caplog, settings
):
    import logging
    import shutil

    from fastapi.testclient import TestClient

    from reconnect.app import create_app
    from reconnect.domain.measures.definition_files import example_folder
    from tests.conftest import PASSWORD

    folder = tmp_path / "instruments"
    folder.mkdir()
    shutil.copy(example_folder() / "csi-4.toml", folder)
    broken = (example_folder() / "ecr-s.toml").read_text().replace('higher_is = "worse"', "")
    (folder / "ecr-s.toml").write_text(broken)
    with caplog.at_level(logging.WARNING, logger="reconnect.measures.store"):
        app = create_app(settings.model_copy(update={"instruments_dir": str(folder)}))
    problems = [r.getMessage() for r in caplog.records if r.name == "reconnect.measures.store"]
    assert len(problems) == 1
    assert str(folder / "ecr-s.toml") in problems[0] and "higher_is" in problems[0]
    with TestClient(app, base_url="http://127.0.0.1") as client:
        uma = {"username": f"operator-check-{tmp_path.name}", "password": PASSWORD}
        assert client.post("/api/v1/auth/register", json=uma).status_code == 201
        token = client.post("/api/v1/auth/login", json=uma).json()["token"]
        listed = client.get("/api/v1/questionnaires", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200
        ids = {i["id"] for i in listed.json()}
        assert {"phq-9", "gad-7", "pcl-5", "csi-4"} <= ids and "ecr-s" not in ids
    app.state.engine.dispose()
