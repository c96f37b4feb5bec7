"""A person's questionnaire results export as FHIR R4: a Bundle of QuestionnaireResponses,
beside the JSON and CSV, from the API, the Account page and `reconnect export`.

Hana (the hurt partner) answers two questionnaires; Ivan, her partner, answers one.
Each export validates with fhir.resources' R4B models and holds only its owner's results.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle

from reconnect.cli import main
from reconnect.domain.measures import fhir
from tests.conftest import PASSWORD
from tests.pages import log_in

GAD7 = {str(n): 1 for n in range(1, 8)}
PHQ9 = {**{str(n): 2 for n in range(1, 9)}, "9": 1}  # item 9 raises the crisis flag


def answer(person: Any, instrument: str, answers: dict[str, int]) -> None:
    taken = person.post(f"/api/v1/questionnaires/{instrument}", {"answers": answers})
    assert taken.status_code == 201, taken.text


def responses(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"]]


def answers_of(response: dict[str, Any]) -> dict[str, Any]:
    return {item["linkId"]: item["answer"][0] for item in response["item"]}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_the_fhir_export_holds_each_result_with_its_answers_and_scores(backend, hana_and_ivan):
    hana, ivan = hana_and_ivan
    answer(hana, "gad-7", GAD7)
    answer(hana, "phq-9", PHQ9)
    answer(ivan, "gad-7", {str(n): 3 for n in range(1, 8)})
    got = hana.get("/api/v1/export", params={"format": "fhir"})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/fhir+json")
    assert "reconnect-questionnaires.fhir.json" in got.headers["content-disposition"]
    bundle = got.json()
    Bundle.model_validate(bundle)
    gad7, phq9 = responses(bundle)
    document = hana.get("/api/v1/export").json()
    for response, result in zip((gad7, phq9), document["questionnaires"], strict=True):
        assert response["questionnaire"] == f"{fhir.canonical(result['instrument'])}|1"
        assert response["status"] == "completed" and response["authored"].endswith("Z")
        given = answers_of(response)
        assert {k: int(v["valueCoding"]["code"]) for k, v in given.items() if "." not in k} == (
            result["answers"]
        )
        assert given["scores.total"] == {"valueDecimal": result["total"]}
        assert given["scores.band"] == {"valueString": result["band"]}
    assert (answers_of(gad7)["scores.total"]["valueDecimal"], answers_of(phq9)["scores.band"]) == (
        7,
        {"valueString": "Moderately severe"},
    )
    assert phq9["extension"] == [{"url": fhir.RAISED_FLAG, "valueCode": "crisis"}]
    [ivans] = responses(ivan.get("/api/v1/export", params={"format": "fhir"}).json())
    assert answers_of(ivans)["scores.total"] == {"valueDecimal": 21}, "Ivan's own, not Hana's"


def test_someone_who_answered_nothing_gets_an_empty_bundle(people):
    olga = people.register("olga")
    bundle = olga.get("/api/v1/export?format=fhir").json()
    Bundle.model_validate(bundle)
    assert (bundle["type"], bundle["entry"]) == ("collection", [])


def test_the_account_page_offers_the_fhir_download(app, people):
    hana = people.register("hana")
    answer(hana, "gad-7", GAD7)
    browser = log_in(app, "hana")
    page = browser.get("/account")
    assert page.select_one('a[href="/account/export.fhir.json"]') is not None
    browser.get("/account/export.fhir.json")
    assert browser.last.status_code == 200
    assert browser.last.headers["content-type"].startswith("application/fhir+json")
    bundle = browser.last.json()
    Bundle.model_validate(bundle)
    assert [r["questionnaire"] for r in responses(bundle)] == [f"{fhir.canonical('gad-7')}|1"]


def test_operators_export_a_persons_results_as_fhir_with_their_password(people, settings, tmp_path):
    hana = people.register("hana")
    answer(hana, "gad-7", GAD7)
    target = tmp_path / "hana.fhir.json"
    args = ["export", "--user", "hana", "--format", "fhir", "--output", str(target)]
    args += ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url]
    refused = CliRunner().invoke(main, args, input="not her password\n")
    assert refused.exit_code == 1 and not target.exists()
    done = CliRunner().invoke(main, args, input=f"{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert "1 questionnaire result(s) as FHIR" in done.output
    bundle = json.loads(target.read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)
    assert answers_of(responses(bundle)[0])["scores.total"] == {"valueDecimal": 7}
