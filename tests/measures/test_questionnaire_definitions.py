"""Definition files are checked on load; each problem names the file and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconnect.domain.measures.definition_files import (
    example_folder,
    load_instrument,
    load_operator_folder,
    load_shipped,
)
from reconnect.domain.measures.definitions import (
    SHIPPED,
    InvalidDefinition,
    Rule,
    UnknownInstrument,
)

GOOD = """\
id = "mood-3"
title = "Mood check (3 items)"
version = "1"
licence = "Written for these tests."
instructions = "Over the last week, how often:"
reported_as = "Mood symptom level"
higher_is = "worse"

[scoring]
total = "sum"

[range]
min = 0
max = 6

[[options]]
value = 0
label = "Never"

[[options]]
value = 1
label = "Sometimes"

[[options]]
value = 2
label = "Often"

[[subscales]]
id = "low"
title = "Low mood"

[[items]]
id = "1"
text = "Felt low"
subscale = "low"

[[items]]
id = "2"
text = "Felt flat"
subscale = "low"

[[items]]
id = "3"
text = "Felt calm"
reverse = true

[[bands]]
label = "Lower"
min = 0
max = 3

[[bands]]
label = "Higher"
min = 4
max = 6

[reliable_change]
points = 2
source = "made up for the tests"

[[flags]]
id = "crisis"
item = "1"
at_least = 2
message = "Support is here."
"""


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


BROKEN: list[tuple[str, Callable[[str], str], str]] = [
    ("no title", replace('title = "Mood check (3 items)"\n', ""), "title"),
    ("blank licence", replace('licence = "Written for these tests."', 'licence = " "'), "licence"),
    ("bad id", replace('id = "mood-3"', 'id = "Mood 3"'), "id"),
    ("higher_is unknown", replace('higher_is = "worse"', 'higher_is = "up"'), "higher_is"),
    ("unknown top-level key", replace('version = "1"', 'version = "1"\nauthor = "x"'), "author"),
    ("scoring rule unknown", replace('total = "sum"', 'total = "median"'), "scoring.total"),
    ("no scoring table", replace('[scoring]\ntotal = "sum"\n', ""), "scoring"),
    (
        "declared max wrong",
        replace("max = 6\n\n[[options]]", "max = 7\n\n[[options]]"),
        "range.max",
    ),
    (
        "declared min wrong",
        replace("min = 0\nmax = 6\n\n[[options]]", "min = 1\nmax = 6\n\n[[options]]"),
        "range.min",
    ),
    ("no range", replace("[range]\nmin = 0\nmax = 6\n", ""), "range"),
    ("option value not a number", replace("value = 1\n", 'value = "one"\n'), "options[1].value"),
    ("option without label", replace('label = "Often"\n', ""), "options[2].label"),
    ("repeated option value", replace("value = 2\n", "value = 1\n"), "options"),
    ("item without text", replace('text = "Felt flat"\n', ""), "items[1].text"),
    ("repeated item id", replace('id = "3"', 'id = "2"'), "items[2].id"),
    ("reverse not a boolean", replace("reverse = true", 'reverse = "yes"'), "items[2].reverse"),
    ("misspelt item key", replace("reverse = true", "reversed = true"), "items[2].reversed"),
    (
        "unknown subscale",
        replace(
            'subscale = "low"\n\n[[items]]\nid = "2"', 'subscale = "high"\n\n[[items]]\nid = "2"'
        ),
        "items[0].subscale",
    ),
    ("subscale without title", replace('title = "Low mood"\n', ""), "subscales[0].title"),
    ("band gap", replace("min = 4\nmax = 6", "min = 5\nmax = 6"), "bands[1].min"),
    ("band overlap", replace("min = 4\nmax = 6", "min = 3\nmax = 6"), "bands[1].min"),
    ("band beyond range", replace("min = 4\nmax = 6", "min = 4\nmax = 9"), "bands[1]"),
    ("band ends early", replace("min = 4\nmax = 6", "min = 4\nmax = 5"), "bands[1].max"),
    (
        "band as diagnosis",
        replace('label = "Higher"', 'label = "Probable depression"'),
        "bands[1].label",
    ),
    ("reliable change empty", replace("points = 2\n", ""), "reliable_change"),
    (
        "reliability out of range",
        replace("points = 2\n", "sd = 4\nreliability = 1.2\n"),
        "reliable_change.reliability",
    ),
    ("sd without reliability", replace("points = 2\n", "sd = 4\n"), "reliable_change"),
    (
        "reliable change without source",
        replace('source = "made up for the tests"\n', ""),
        "reliable_change.source",
    ),
    ("flag on unknown item", replace('item = "1"', 'item = "9"'), "flags[0].item"),
    (
        "flag threshold outside options",
        replace("at_least = 2", "at_least = 5"),
        "flags[0].at_least",
    ),
    (
        "no items",
        lambda text: text.split("[[items]]")[0] + "[[bands]]" + text.split("[[bands]]", 1)[1],
        "items",
    ),
    (
        "TOML syntax",
        replace('title = "Mood check (3 items)"', "title = Mood check"),
        "(TOML syntax)",
    ),
]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_good_definition_loads(tmp_path: Path) -> None:
    instrument = load_instrument(write(tmp_path, "mood.toml", GOOD))
    assert instrument.id == "mood-3"
    assert instrument.total_rule is Rule.SUM
    assert instrument.subscale("low").item_ids == ("1", "2")
    assert instrument.item("3").reverse
    assert instrument.file == str(tmp_path / "mood.toml")


@pytest.mark.parametrize(
    ("edit", "field"), [(e, f) for _, e, f in BROKEN], ids=[n for n, _, _ in BROKEN]
)
def test_each_malformed_definition_names_the_file_and_field(
    tmp_path: Path, edit: Callable[[str], str], field: str
) -> None:
    path = write(tmp_path, "mood.toml", edit(GOOD))
    with pytest.raises(InvalidDefinition) as raised:
        load_instrument(path)
    assert raised.value.file == str(path)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{path}: {field}: ")
    assert raised.value.problem


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidDefinition) as raised:
        load_instrument(tmp_path / "absent.toml")
    assert raised.value.file == str(tmp_path / "absent.toml")
    assert raised.value.field == "(file)"


def test_an_unknown_built_in_id_is_refused() -> None:
    with pytest.raises(UnknownInstrument, match="phq-9"):
        load_instrument("csi-4")


def test_mean_scored_totals_may_use_fractional_bands(tmp_path: Path) -> None:
    text = (
        GOOD.replace('total = "sum"', 'total = "mean"')
        .replace("min = 0\nmax = 6\n\n[[options]]", "min = 0\nmax = 2\n\n[[options]]")
        .replace("min = 0\nmax = 3", "min = 0\nmax = 0.9")
        .replace("min = 4\nmax = 6", "min = 1.5\nmax = 2")
    )
    instrument = load_instrument(write(tmp_path, "mean.toml", text))
    assert instrument.band_for(1.2) is None  # a gap between mean bands is allowed
    assert instrument.band_for(1.5) is not None


def test_shipped_instruments_load_with_their_licence_notes() -> None:
    shipped = {instrument.id: instrument for instrument in load_shipped()}
    assert tuple(shipped) == SHIPPED
    assert "No permission is required" in shipped["phq-9"].licence
    assert "Pfizer" in shipped["gad-7"].licence
    assert "Public domain" in shipped["pcl-5"].licence
    assert [len(i.items) for i in shipped.values()] == [9, 7, 20]
    for instrument in shipped.values():
        assert instrument.reliable_change is not None and instrument.reliable_change.source


def test_the_operator_folder_keeps_good_files_and_reports_the_bad_one(tmp_path: Path) -> None:
    write(tmp_path, "a-mood.toml", GOOD)
    bad = write(tmp_path, "b-broken.toml", GOOD.replace('text = "Felt flat"\n', ""))
    write(tmp_path, "c-other.toml", GOOD.replace('id = "mood-3"', 'id = "mood-3b"'))
    write(tmp_path, "notes.txt", "not a definition")
    instruments, problems = load_operator_folder(tmp_path)
    assert [instrument.id for instrument in instruments] == ["mood-3", "mood-3b"]
    assert len(problems) == 1
    assert problems[0].file == str(bad)
    assert problems[0].field == "items[1].text"


def test_the_operator_folder_reports_a_repeated_id(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD)
    write(tmp_path, "c.toml", GOOD.replace('id = "mood-3"', 'id = "phq-9"'))
    instruments, problems = load_operator_folder(tmp_path)
    assert [instrument.id for instrument in instruments] == ["mood-3"]
    assert [(p.file, p.field) for p in problems] == [
        (str(tmp_path / "b.toml"), "id"),
        (str(tmp_path / "c.toml"), "id"),
    ]


def test_a_missing_operator_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    instruments, problems = load_operator_folder(tmp_path / "nowhere")
    assert instruments == ()
    assert problems[0].field == "(folder)"


def test_the_example_folder_ships_with_the_package() -> None:
    assert sorted(p.name for p in example_folder().glob("*.toml")) == ["csi-4.toml", "ecr-s.toml"]


def test_every_field_of_the_format_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "questionnaires.md").read_text(encoding="utf-8")
    fields = {
        "id", "title", "version", "licence", "instructions", "reported_as", "higher_is",
        "notes", "scoring", "range", "options", "subscales", "items", "reverse", "subscale",
        "bands", "label", "description", "reliable_change", "points", "sd", "reliability",
        "source", "flags", "at_least", "message",
    }  # fmt: skip
    for name in sorted(fields):
        assert f"{name} = " in docs or f"[{name}]" in docs, f"{name} is not in the docs"
    for instrument_id in SHIPPED:
        assert f"`{instrument_id}.toml`" in docs
