"""FHIR R4: every definition goes out as a Questionnaire and comes back unchanged; a
plain Questionnaire written elsewhere loads and scores; a broken one is refused by
name and field; results go out as QuestionnaireResponses in a Bundle.

What goes out is validated with fhir.resources' R4B models, which match R4 for the
Questionnaire, QuestionnaireResponse and Bundle resources.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from reconnect.cli import main
from reconnect.domain.measures import fhir
from reconnect.domain.measures.definition_files import (
    example_folder,
    instrument_from_json,
    instrument_from_questionnaire,
    load_instrument,
    load_operator_folder,
)
from reconnect.domain.measures.definitions import SHIPPED, Instrument, InvalidDefinition, Rule
from reconnect.domain.measures.scoring import score

EXAMPLES = sorted(p.name for p in example_folder().iterdir() if p.suffix in (".toml", ".json"))
LA = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}
LABELS = ["Not at all", "Several days", "More than half the days", "Nearly every day"]


def through_fhir(instrument: Instrument) -> Instrument:
    """Out as a Questionnaire, through JSON text, and read back."""
    text = json.dumps(fhir.questionnaire(instrument))
    return instrument_from_json(text, instrument.file)


def valid_questionnaire(resource: dict[str, Any]) -> Questionnaire:
    return Questionnaire.model_validate(resource)


@pytest.mark.parametrize("name", [*SHIPPED, *EXAMPLES])
def test_every_shipped_and_example_definition_comes_back_unchanged(name: str) -> None:
    instrument = load_instrument(name if name in SHIPPED else example_folder() / name)
    assert through_fhir(instrument) == instrument
    valid_questionnaire(fhir.questionnaire(instrument))


def test_the_examples_include_a_fhir_questionnaire() -> None:
    assert "csi-16.json" in EXAMPLES
    instrument = load_instrument(example_folder() / "csi-16.json")
    assert (instrument.id, len(instrument.items)) == ("csi-16", 16)
    assert instrument.total_range is not None
    assert (instrument.total_range.low, instrument.total_range.high) == (0, 81)
    assert not instrument.higher_is_worse
    assert [(b.low, b.high) for b in instrument.bands] == [(0, 51), (52, 81)]
    assert all("supplied by your licence" in item.text for item in instrument.items)


def test_the_fhir_example_is_exactly_what_the_export_writes() -> None:
    path = example_folder() / "csi-16.json"
    written = json.loads(path.read_text(encoding="utf-8"))
    assert fhir.questionnaire(load_instrument(path)) == written


def test_the_questionnaire_holds_what_fhir_has_fields_for() -> None:
    phq9 = load_instrument("phq-9")
    resource = fhir.questionnaire(phq9)
    assert resource["url"] == fhir.canonical("phq-9") == f"{fhir.BASE}/Questionnaire/phq-9"
    assert (resource["version"], resource["title"]) == (phq9.version, phq9.title)
    assert (resource["copyright"], resource["description"]) == (phq9.licence, phq9.reported_as)
    instructions, first = resource["item"][0], resource["item"][1]
    assert instructions == {
        "linkId": "form.instructions",
        "text": phq9.instructions,
        "type": "display",
    }
    assert (first["linkId"], first["type"], first["text"]) == ("1", "choice", phq9.items[0].text)
    assert [o["valueCoding"]["display"] for o in first["answerOption"]] == LABELS
    assert [o["extension"][0]["valueDecimal"] for o in first["answerOption"]] == [0, 1, 2, 3]
    ours = {e["url"].removeprefix(fhir.EXTENSION) for e in resource["extension"]}
    assert ours == {"higher_is", "scoring", "range", "notes", "bands", "reliable_change", "flags"}


def test_phq9_gad7_and_pcl5_carry_their_loinc_codes() -> None:
    def codes(instrument_id: str) -> tuple[str, list[str], str]:
        resource = fhir.questionnaire(load_instrument(instrument_id))
        items = {item["linkId"]: item for item in resource["item"]}
        questions = [items[str(n)].get("code", [{}])[0].get("code", "") for n in (1, 2)]
        assert resource["code"][0]["system"] == "http://loinc.org"
        return resource["code"][0]["code"], questions, items["scores.total"]["code"][0]["code"]

    assert codes("phq-9") == ("44249-1", ["44250-9", "44255-8"], "44261-6")
    assert codes("gad-7") == ("69737-5", ["69725-0", "68509-9"], "70274-6")
    assert codes("pcl-5") == ("101697-1", ["", ""], "101698-9")  # no item codes confirmed
    assert "code" not in fhir.questionnaire(load_instrument(example_folder() / "csi-4.toml"))


def test_scores_are_read_only_items_a_response_fills() -> None:
    pcl5 = fhir.questionnaire(load_instrument("pcl-5"))
    scores = [item for item in pcl5["item"] if item.get("readOnly")]
    assert [(s["linkId"], s["type"]) for s in scores] == [
        ("scores.total", "decimal"),
        ("scores.band", "string"),
        ("scores.subscale.intrusion", "decimal"),
        ("scores.subscale.avoidance", "decimal"),
        ("scores.subscale.cognition-mood", "decimal"),
        ("scores.subscale.arousal", "decimal"),
    ]
    ecrs = fhir.questionnaire(load_instrument(example_folder() / "ecr-s.toml"))
    assert [i["linkId"] for i in ecrs["item"] if i.get("readOnly")] == [
        "scores.subscale.anxiety",
        "scores.subscale.avoidance",
    ]


# --- a plain Questionnaire written elsewhere ------------------------------------


def plain_phq2() -> dict[str, Any]:
    """Shaped like the LOINC forms clinics exchange: a group, LOINC codes as linkIds,
    LOINC answer codes with ordinalValue, a calculated total, no Reconnect extensions."""

    def question(link: str, text: str) -> dict[str, Any]:
        return {
            "linkId": f"/{link}",
            "code": [{"system": "http://loinc.org", "code": link}],
            "text": text,
            "type": "choice",
            "answerOption": [
                {
                    "valueCoding": {"system": "http://loinc.org", "code": LA[v], "display": label},
                    "extension": [{"url": fhir.ORDINAL_VALUE, "valueDecimal": v}],
                }
                for v, label in enumerate(LABELS)
            ],
        }

    return {
        "resourceType": "Questionnaire",
        "id": "PHQ2-clinic",
        "title": "PHQ-2",
        "status": "active",
        "copyright": "Pfizer: no permission required.",
        "item": [
            {
                "linkId": "/group",
                "type": "group",
                "text": "Over the last 2 weeks, how often have you been bothered by:",
                "item": [
                    question("44250-9", "Little interest or pleasure in doing things"),
                    question("44255-8", "Feeling down, depressed, or hopeless"),
                    {
                        "linkId": "/55758-7",
                        "text": "PHQ-2 total score",
                        "type": "decimal",
                        "extension": [{"url": fhir.CALCULATED, "valueExpression": {}}],
                    },
                ],
            }
        ],
    }


def test_a_plain_questionnaire_from_elsewhere_loads_and_scores() -> None:
    instrument = instrument_from_questionnaire(plain_phq2(), "phq-2.json")
    assert (instrument.id, instrument.title, instrument.version) == ("phq2-clinic", "PHQ-2", "1")
    assert instrument.instructions.startswith("Over the last 2 weeks")
    assert instrument.licence == "Pfizer: no permission required."
    assert instrument.total_rule is Rule.SUM and instrument.higher_is_worse
    assert instrument.total_range is not None
    assert (instrument.total_range.low, instrument.total_range.high) == (0, 6)
    assert [item.id for item in instrument.items] == ["44250-9", "44255-8"]
    assert [o.label for o in instrument.items[0].options] == LABELS
    result = score(instrument, {"44250-9": 2, "44255-8": 3})
    assert (result.total, result.band, result.flags) == (5, None, ())


@pytest.mark.parametrize(
    "option",
    [
        {"valueCoding": {"code": "2", "display": "Often"}},
        {"valueInteger": 2},
        {"valueString": "Often", "extension": [{"url": fhir.ITEM_WEIGHT, "valueDecimal": 2.0}]},
        {
            "valueCoding": {
                "code": "often",
                "display": "Often",
                "extension": [{"url": fhir.ORDINAL_VALUE, "valueInteger": 2}],
            }
        },
    ],
    ids=["whole-number-code", "integer", "item-weight", "ordinal-value-on-the-coding"],
)
def test_an_options_number_comes_from_its_weight_its_code_or_an_integer(
    option: dict[str, Any],
) -> None:
    resource = plain_phq2()
    first = resource["item"][0]["item"][0]
    first["answerOption"] = [{"valueInteger": 0}, option]
    instrument = instrument_from_questionnaire(resource, "plain.json")
    assert [o.value for o in instrument.items[0].options] == [0, 2]
    assert instrument.total_range is not None and instrument.total_range.high == 5


def test_options_may_come_from_a_contained_value_set() -> None:
    resource = plain_phq2()
    resource["contained"] = [
        {
            "resourceType": "ValueSet",
            "id": "frequency",
            "status": "active",
            "compose": {
                "include": [
                    {
                        "system": "http://loinc.org",
                        "concept": [
                            {
                                "code": LA[v],
                                "display": label,
                                "extension": [{"url": fhir.ORDINAL_VALUE, "valueDecimal": v}],
                            }
                            for v, label in enumerate(LABELS)
                        ],
                    }
                ]
            },
        }
    ]
    for question in resource["item"][0]["item"][:2]:
        del question["answerOption"]
        question["answerValueSet"] = "#frequency"
    instrument = instrument_from_questionnaire(resource, "plain.json")
    assert [o.value for o in instrument.items[1].options] == [0, 1, 2, 3]


# --- a broken file is refused by name and field ---------------------------------


def exported(instrument_id: str) -> dict[str, Any]:
    return fhir.questionnaire(load_instrument(instrument_id))


def extension_index(resource: dict[str, Any], name: str) -> int:
    urls = [e["url"] for e in resource["extension"]]
    return urls.index(fhir.EXTENSION + name)


def set_in(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(resource: dict[str, Any]) -> None:
        target = resource
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


DELETE = object()
GROUP = ["item", 0, "item"]

# (name, the file it starts from, what is changed, the field named)
BROKEN: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    ("not-a-questionnaire", "plain", set_in(["resourceType"], "Patient"), "resourceType"),
    ("a-bundle", "plain", set_in(["resourceType"], "Bundle"), "resourceType"),
    (
        "option-without-a-number",
        "plain",
        set_in([*GROUP, 0, "answerOption", 1], {"valueCoding": {"code": "LA6569-3"}}),
        "item[0].item[0].answerOption[1]",
    ),
    (
        "a-fractional-weight",
        "plain",
        set_in([*GROUP, 0, "answerOption", 1, "extension", 0, "valueDecimal"], 1.5),
        "item[0].item[0].answerOption[1].extension[0]",
    ),
    (
        "a-free-text-question",
        "plain",
        set_in([*GROUP, 1, "type"], "string"),
        "item[0].item[1].type",
    ),
    ("no-link-id", "plain", set_in([*GROUP, 1, "linkId"], DELETE), "item[0].item[1].linkId"),
    ("no-question-text", "plain", set_in([*GROUP, 1, "text"], DELETE), "item[0].item[1].text"),
    (
        "a-value-set-elsewhere",
        "plain",
        set_in([*GROUP, 1, "answerOption"], DELETE),
        "item[0].item[1].answerOption",
    ),
    (
        "one-option",
        "plain",
        set_in([*GROUP, 1, "answerOption"], [{"valueInteger": 0}]),
        "item[0].item[1].answerOption",
    ),
    ("no-questions", "plain", set_in(["item"], []), "item"),
    (
        "an-unknown-extension-of-ours",
        "phq-9",
        lambda r: r["extension"].insert(0, {"url": fhir.EXTENSION + "reversed", "valueCode": "x"}),
        "extension[0]",
    ),
    (
        "a-diagnostic-band",
        "phq-9",
        lambda r: set_in(
            ["extension", extension_index(r, "bands"), "extension", 0, "valueString"],
            "Probable depression",
        )(r),
        "extension[4] (bands).label",
    ),
    (
        "a-range-the-items-do-not-give",
        "phq-9",
        lambda r: set_in(
            ["extension", extension_index(r, "range"), "extension", 1, "valueDecimal"], 30
        )(r),
        "extension[2] (range).max",
    ),
    (
        "a-flag-above-the-item",
        "phq-9",
        lambda r: set_in(
            ["extension", extension_index(r, "flags"), "extension", 2, "valueInteger"], 9
        )(r),
        "extension[10] (flags).at_least",
    ),
    (
        "a-subscale-of-no-item",
        "pcl-5",
        lambda r: set_in(["item", 1, "extension", 0, "valueString"], "nowhere")(r),
        "item[1].extension (subscale)",
    ),
]


@pytest.mark.parametrize(
    ("start", "edit", "field"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_a_broken_questionnaire_is_refused_naming_the_file_and_field(
    start: str, edit: Callable[[dict[str, Any]], None], field: str
) -> None:
    resource = plain_phq2() if start == "plain" else exported(start)
    edit(resource)
    with pytest.raises(InvalidDefinition) as raised:
        instrument_from_questionnaire(copy.deepcopy(resource), "clinic/form.json")
    assert raised.value.field == field, str(raised.value)
    assert str(raised.value).startswith(f"clinic/form.json: {field}: ")
    assert raised.value.problem and "Traceback" not in raised.value.problem


def test_a_file_that_is_not_json_names_the_syntax() -> None:
    with pytest.raises(InvalidDefinition) as raised:
        instrument_from_json("{not json", "form.json")
    assert raised.value.field == "(JSON syntax)"


def test_the_operator_folder_reads_fhir_files_and_names_a_bad_one(tmp_path: Path) -> None:
    shutil.copy(example_folder() / "csi-16.json", tmp_path / "a-csi-16.json")
    shutil.copy(example_folder() / "csi-4.toml", tmp_path / "b-csi-4.toml")
    (tmp_path / "c-broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "d-bundle.json").write_text(
        json.dumps(fhir.questionnaire_bundle([load_instrument("gad-7")])), encoding="utf-8"
    )
    plain = plain_phq2()
    plain["id"] = "csi-16"
    (tmp_path / "e-same-id.json").write_text(json.dumps(plain), encoding="utf-8")
    instruments, problems = load_operator_folder(tmp_path)
    assert [instrument.id for instrument in instruments] == ["csi-16", "csi-4"]
    assert [(Path(p.file).name, p.field) for p in problems] == [
        ("c-broken.json", "(JSON syntax)"),
        ("d-bundle.json", "resourceType"),
        ("e-same-id.json", "id"),
    ]


# --- results as a Bundle of QuestionnaireResponses --------------------------------

RESULTS = [
    {
        "instrument": "phq-9",
        "taken_at": "2026-11-24T08:00:00.123456+00:00",
        "answers": {str(n): 1 for n in range(1, 10)},
        "total": 9,
        "subscales": {},
        "band": "Mild",
        "flags": ["crisis"],
        "version": "1",
    },
    {
        "instrument": "ecr-s",
        "taken_at": "2026-11-25T21:30:00",  # an old row, stored without its zone (UTC)
        "answers": {str(n): 4 for n in range(1, 13)},
        "total": None,
        "subscales": {"anxiety": 4.0, "avoidance": 3.5},
        "band": None,
        "flags": [],
        "version": "1",
    },
]


def test_results_go_out_as_a_bundle_that_validates() -> None:
    bundle = fhir.response_bundle(RESULTS, datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    Bundle.model_validate(bundle)
    assert (bundle["type"], bundle["timestamp"]) == ("collection", "2026-11-26T09:00:00Z")
    phq9, ecrs = (entry["resource"] for entry in bundle["entry"])
    for entry in bundle["entry"]:
        QuestionnaireResponse.model_validate(entry["resource"])
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    assert phq9["questionnaire"] == f"{fhir.BASE}/Questionnaire/phq-9|1"
    assert (phq9["status"], phq9["authored"]) == ("completed", "2026-11-24T08:00:00.123456Z")
    items = {item["linkId"]: item["answer"][0] for item in phq9["item"]}
    assert items["9"] == {"valueCoding": {"system": fhir.OPTION_SYSTEM, "code": "1"}}
    assert (items["scores.total"], items["scores.band"]) == (
        {"valueDecimal": 9},
        {"valueString": "Mild"},
    )
    assert phq9["extension"] == [{"url": fhir.RAISED_FLAG, "valueCode": "crisis"}]
    assert ecrs["authored"] == "2026-11-25T21:30:00Z"
    scored = [item["linkId"] for item in ecrs["item"] if item["linkId"].startswith("scores")]
    assert scored == ["scores.subscale.anxiety", "scores.subscale.avoidance"]
    assert "extension" not in ecrs


def test_a_response_answers_the_items_of_its_questionnaire() -> None:
    """Every linkId in a response is an item of the Questionnaire it names."""
    bundle = fhir.response_bundle(RESULTS, datetime(2026, 11, 26, tzinfo=UTC))
    for entry, instrument_id in zip(bundle["entry"], ("phq-9", "ecr-s"), strict=True):
        path = instrument_id if instrument_id in SHIPPED else example_folder() / "ecr-s.toml"
        links = {item["linkId"] for item in fhir.questionnaire(load_instrument(path))["item"]}
        assert {item["linkId"] for item in entry["resource"]["item"]} <= links


def test_the_same_results_give_the_same_ids() -> None:
    first = fhir.response_bundle(RESULTS, datetime(2026, 11, 26, tzinfo=UTC))
    again = fhir.response_bundle(RESULTS, datetime(2026, 12, 1, tzinfo=UTC))
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in again["entry"]]
    assert len({e["fullUrl"] for e in first["entry"]}) == 2


# --- the command line ------------------------------------------------------------


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"RECONNECT_INSTRUMENTS_DIR": ""})


def test_the_command_writes_one_questionnaire_as_fhir(tmp_path: Path) -> None:
    target = tmp_path / "phq-9.json"
    result = run("questionnaires", "export-fhir", "phq-9", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output
    resource = json.loads(target.read_text(encoding="utf-8"))
    valid_questionnaire(resource)
    back = instrument_from_questionnaire(resource, "instruments/phq-9.toml")
    assert back == load_instrument("phq-9")


def test_the_command_writes_every_questionnaire_in_one_bundle(tmp_path: Path) -> None:
    folder = tmp_path / "instruments"
    folder.mkdir()
    shutil.copy(example_folder() / "csi-16.json", folder)
    (folder / "broken.toml").write_text("id = 3", encoding="utf-8")
    result = run("questionnaires", "export-fhir", "--instruments-dir", str(folder))
    assert result.exit_code == 0, result.output
    assert "Left out:" in result.stderr and "broken.toml" in result.stderr
    bundle = json.loads(result.stdout)
    Bundle.model_validate(bundle)
    assert [e["resource"]["id"] for e in bundle["entry"]] == [*SHIPPED, "csi-16"]
    for entry in bundle["entry"]:
        valid_questionnaire(entry["resource"])


def test_the_command_converts_an_operators_toml_file() -> None:
    result = run("questionnaires", "export-fhir", str(example_folder() / "ecr-s.toml"))
    assert result.exit_code == 0, result.output
    resource = json.loads(result.stdout)
    assert resource["id"] == "ecr-s"
    back = instrument_from_questionnaire(resource, "x")
    assert back == replace(load_instrument(example_folder() / "ecr-s.toml"), file="x")


def test_check_says_what_a_file_holds_or_which_field_to_fix(tmp_path: Path) -> None:
    good = run("questionnaires", "check", str(example_folder() / "csi-16.json"))
    assert good.exit_code == 0, good.output
    assert "csi-16" in good.output and "16 questions, total 0–81, 2 bands" in good.output
    broken = tmp_path / "form.json"
    resource = plain_phq2()
    resource["item"][0]["item"][1]["type"] = "string"
    broken.write_text(json.dumps(resource), encoding="utf-8")
    refused = run("questionnaires", "check", str(broken))
    assert refused.exit_code == 1
    assert f"{broken}: item[0].item[1].type: is 'string'" in refused.output
    assert "Traceback" not in refused.output
    unknown = run("questionnaires", "export-fhir", "csi-99")
    assert unknown.exit_code == 1 and "built-in ones are" in unknown.output
