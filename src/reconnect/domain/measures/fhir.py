"""FHIR R4: definitions as ``Questionnaire`` resources, results as ``QuestionnaireResponse``.

:func:`questionnaire` writes an :class:`Instrument` as a Questionnaire. FHIR has fields
for the id, title, version, licence (``copyright``), what the score measures
(``description``), the items and their options; everything else a definition holds
(scoring rules, range, subscales, bands, reliable change, flags, ``higher_is``, notes)
goes in extensions under :data:`EXTENSION`, named as in the TOML format, so a
definition comes back exactly as it went out.

:func:`definition_table` reads a Questionnaire back into the table a TOML file parses
to, with the FHIR place of each field; ``definition_files`` checks it with the same
rules as a TOML file. A plain Questionnaire written elsewhere (no extensions) reads
as a sum score, with each option's number from its ``ordinalValue`` or ``itemWeight``
extension or a whole-number code.

:func:`response_bundle` writes a person's results, as the export holds them, as a
``Bundle`` of QuestionnaireResponses with their answers and scores.

Plain dicts in, plain dicts out: nothing here reads a file. See docs/questionnaires.md.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconnect.domain.measures.definitions import (
    Instrument,
    InvalidDefinition,
    Item,
    ReliableChangeData,
)

__all__ = [
    "BASE",
    "EXTENSION",
    "LOINC_CODES",
    "OPTION_SYSTEM",
    "DefinitionTable",
    "LoincCodes",
    "canonical",
    "definition_table",
    "questionnaire",
    "questionnaire_bundle",
    "response_bundle",
]

# Reconnect has no site of its own: each server is someone's own. ".invalid" is a name
# reserved never to resolve (RFC 2606), so these URLs only name things, never point.
BASE = "https://reconnect.invalid/fhir"
EXTENSION = f"{BASE}/StructureDefinition/"
# The number an option scores, as a code ("0", "1", ...); its label is the display.
OPTION_SYSTEM = f"{BASE}/CodeSystem/option-value"
LOINC = "http://loinc.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"  # R4
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"  # R5's name for it
CALCULATED = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"

# Items that are not questions: the instructions, and the scores a response carries.
# Item ids never hold a dot, so these never meet one.
INSTRUCTIONS_ITEM = "form.instructions"
TOTAL_ITEM = "scores.total"
BAND_ITEM = "scores.band"
SUBSCALE_ITEM = "scores.subscale."

# Extensions on the Questionnaire, on its items, and on a response.
# Each is named as its field in the TOML format; a list's extension repeats, once an entry.
_REPEATING = {"notes", "subscales", "bands", "flags"}
_SINGLE = {"higher_is", "scoring", "range", "reliable_change"}
_ITEM_EXTENSIONS = {"subscale", "reverse"}
RAISED_FLAG = f"{EXTENSION}raised_flag"

_SLUG_PARTS = re.compile(r"[^a-z0-9]+")
_NOT_IN_AN_ITEM_ID = re.compile(r"[^A-Za-z0-9_-]+")
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
_FHIR_ID = re.compile(r"[A-Za-z0-9.-]{1,64}")
_RESPONSE_IDS = uuid.UUID("5b0f6c8e-2d1a-4e57-9a53-7c3f0e4d9b21")

# Without a licence statement or instructions in a file, the app still says something.
NO_LICENCE = "No licence statement came with this questionnaire."
NO_INSTRUCTIONS = "Please choose the answer that fits best for each question."


@dataclass(frozen=True)
class LoincCodes:
    """LOINC codes of one instrument: the panel, its total score, and each item by id."""

    panel: str
    panel_display: str
    total: str
    total_display: str
    items: Mapping[str, str] = field(default_factory=dict)


# Each code was checked against LOINC's published panels (docs/questionnaires.md, "FHIR").
LOINC_CODES: Mapping[str, LoincCodes] = {
    "phq-9": LoincCodes(
        panel="44249-1",
        panel_display="PHQ-9 quick depression assessment panel [Reported.PHQ]",
        total="44261-6",
        total_display="Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
        items={
            "1": "44250-9",
            "2": "44255-8",
            "3": "44259-0",
            "4": "44254-1",
            "5": "44251-7",
            "6": "44258-2",
            "7": "44252-5",
            "8": "44253-3",
            "9": "44260-8",
        },
    ),
    "gad-7": LoincCodes(
        panel="69737-5",
        panel_display="Generalized anxiety disorder 7 item (GAD-7)",
        total="70274-6",
        total_display="Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
        items={
            "1": "69725-0",
            "2": "68509-9",
            "3": "69733-4",
            "4": "69734-2",
            "5": "69735-9",
            "6": "69689-8",
            "7": "69736-7",
        },
    ),
    "pcl-5": LoincCodes(
        panel="101697-1",
        panel_display="Post traumatic stress disorder checklist - civilian version DSM-5 [PCL-5]",
        total="101698-9",
        total_display="PTSD PCL-5 score [PCL-5]",
    ),
}


def canonical(instrument_id: str) -> str:
    """The Questionnaire's canonical URL; a response names it with ``|version``."""
    return f"{BASE}/Questionnaire/{instrument_id}"


# --- Instrument → Questionnaire ---------------------------------------------------


def questionnaire(instrument: Instrument) -> dict[str, Any]:
    """The instrument as a FHIR R4 Questionnaire (a JSON-ready dict)."""
    codes = LOINC_CODES.get(instrument.id)
    resource: dict[str, Any] = {"resourceType": "Questionnaire"}
    if _FHIR_ID.fullmatch(instrument.id):
        resource["id"] = instrument.id
    resource |= {
        "extension": _definition_extensions(instrument),
        "url": canonical(instrument.id),
        "version": instrument.version,
        "name": _computable_name(instrument.id),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": instrument.reported_as,
        "copyright": instrument.licence,
    }
    if codes:
        resource["code"] = [_coding(LOINC, codes.panel, codes.panel_display)]
    items = [{"linkId": INSTRUCTIONS_ITEM, "text": instrument.instructions, "type": "display"}]
    items += [_question(item, codes) for item in instrument.items]
    items += _score_items(instrument, codes)
    resource["item"] = items
    return resource


def questionnaire_bundle(instruments: Iterable[Instrument]) -> dict[str, Any]:
    """Several Questionnaires in one ``collection`` Bundle."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": canonical(instrument.id), "resource": questionnaire(instrument)}
            for instrument in instruments
        ],
    }


def _coding(system: str, code: str, display: str = "") -> dict[str, str]:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def _computable_name(instrument_id: str) -> str:
    """``phq-9`` → ``Phq9``: FHIR asks for a name that starts with a capital letter."""
    name = "".join(part.capitalize() for part in instrument_id.split("-"))
    return name if name[:1].isalpha() else f"Q{name}"


def _ext(name: str, **value: Any) -> dict[str, Any]:
    return {"url": name, **value}


def _complex(name: str, parts: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    return {"url": name, "extension": [part for part in parts if part is not None]}


def _number(name: str, value: float | None) -> dict[str, Any] | None:
    return None if value is None else _ext(name, valueDecimal=value)


def _reliable(data: ReliableChangeData) -> dict[str, Any]:
    return _complex(
        "reliable_change",
        [
            _number("points", data.points),
            _number("sd", data.sd),
            _number("reliability", data.reliability),
            _ext("source", valueString=data.source),
        ],
    )


def _definition_extensions(instrument: Instrument) -> list[dict[str, Any]]:
    def ours(extension: dict[str, Any]) -> dict[str, Any]:
        return {**extension, "url": EXTENSION + extension["url"]}

    rule = instrument.total_rule.value if instrument.total_rule else "none"
    found = [
        _ext("higher_is", valueCode="worse" if instrument.higher_is_worse else "better"),
        _complex("scoring", [_ext("total", valueCode=rule)]),
    ]
    if instrument.total_range is not None:
        low, high = instrument.total_range.low, instrument.total_range.high
        found.append(_complex("range", [_number("min", low), _number("max", high)]))
    found += [_ext("notes", valueString=note) for note in instrument.notes]
    for subscale in instrument.subscales:
        found.append(
            _complex(
                "subscales",
                [
                    _ext("id", valueString=subscale.id),
                    _ext("title", valueString=subscale.title),
                    _ext("scoring", valueCode=subscale.rule.value),
                    _reliable(subscale.reliable_change) if subscale.reliable_change else None,
                ],
            )
        )
    for band in instrument.bands:
        found.append(
            _complex(
                "bands",
                [
                    _ext("label", valueString=band.label),
                    _number("min", band.low),
                    _number("max", band.high),
                    _ext("description", valueString=band.description) if band.description else None,
                ],
            )
        )
    if instrument.reliable_change is not None:
        found.append(_reliable(instrument.reliable_change))
    for flag in instrument.flags:
        found.append(
            _complex(
                "flags",
                [
                    _ext("id", valueString=flag.id),
                    _ext("item", valueString=flag.item),
                    _ext("at_least", valueInteger=flag.at_least),
                    _ext("message", valueString=flag.message),
                ],
            )
        )
    return [ours(extension) for extension in found]


def _question(item: Item, codes: LoincCodes | None) -> dict[str, Any]:
    question: dict[str, Any] = {"linkId": item.id}
    extensions = []
    if item.subscale is not None:
        extensions.append(_ext(EXTENSION + "subscale", valueString=item.subscale))
    if item.reverse:
        extensions.append(_ext(EXTENSION + "reverse", valueBoolean=True))
    if extensions:
        question["extension"] = extensions
    if codes and item.id in codes.items:
        question["code"] = [_coding(LOINC, codes.items[item.id])]
    question |= {
        "text": item.text,
        "type": "choice",
        "required": True,
        "answerOption": [
            {
                "extension": [_ext(ORDINAL_VALUE, valueDecimal=option.value)],
                "valueCoding": _coding(OPTION_SYSTEM, str(option.value), option.label),
            }
            for option in item.options
        ],
    }
    return question


def _score_items(instrument: Instrument, codes: LoincCodes | None) -> list[dict[str, Any]]:
    """Read-only items that a response fills with its scores."""
    items = []
    if instrument.total_rule is not None:
        total: dict[str, Any] = {"linkId": TOTAL_ITEM}
        if codes:
            total["code"] = [_coding(LOINC, codes.total, codes.total_display)]
        items.append({**total, "text": "Total score", "type": "decimal", "readOnly": True})
    if instrument.bands:
        band = {"linkId": BAND_ITEM, "text": "Band of the total score", "type": "string"}
        items.append({**band, "readOnly": True})
    for subscale in instrument.subscales:
        items.append(
            {
                "linkId": SUBSCALE_ITEM + subscale.id,
                "text": subscale.title,
                "type": "decimal",
                "readOnly": True,
            }
        )
    return items


# --- Questionnaire → the table a definition file parses to ------------------------


@dataclass(frozen=True)
class DefinitionTable:
    """A Questionnaire read as the table a TOML definition parses to.

    ``places`` maps a field of that table (``items[2]``, ``bands[0]``) to where it is
    in the Questionnaire (``item[3]``, ``extension[5] (bands)``), so an error names
    the place in the file the operator has.
    """

    table: dict[str, Any]
    places: dict[str, str]


def definition_table(resource: Any, file: str) -> DefinitionTable:
    """Read a Questionnaire (parsed JSON) into a definition table.

    Raises :class:`InvalidDefinition` naming the FHIR field that cannot be read. The
    rules every definition meets (ranges, bands, flags) are checked afterwards, by
    ``definition_files.instrument_from_questionnaire``.
    """
    return _QuestionnaireReader(file).read(resource)


class _QuestionnaireReader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.places: dict[str, str] = {}

    def fail(self, where: str, problem: str) -> InvalidDefinition:
        return InvalidDefinition(self.file, where, problem)

    def read(self, resource: Any) -> DefinitionTable:
        if not isinstance(resource, dict):
            raise self.fail("(file)", "does not hold a JSON object")
        kind = resource.get("resourceType")
        if kind == "Bundle":
            raise self.fail(
                "resourceType", "is Bundle; save each Questionnaire in a file of its own"
            )
        if kind != "Questionnaire":
            raise self.fail("resourceType", f"is {kind!r}; a Questionnaire is needed")
        table: dict[str, Any] = {}
        self.definition_extensions(resource.get("extension", []), table)
        table.setdefault("higher_is", "worse")
        table.setdefault("scoring", {"total": "sum"})
        intro: list[str] = []
        table["items"] = self.items(resource, intro)
        self.fields(resource, table, intro)
        if "range" not in table:
            derived = _derived_range(table["scoring"], table["items"])
            if derived is not None:
                table["range"] = derived
                self.places["range"] = "item (the range the answers allow)"
        return DefinitionTable(table, self.places)

    def fields(self, resource: Mapping[str, Any], table: dict[str, Any], intro: list[str]) -> None:
        """The fields FHIR has a place for, with a fallback where a plain file has none."""
        for key, path, value in (
            ("id", "id", self.slug(resource)),
            ("title", "title", _first_text(resource, "title", "name", "id")),
            ("version", "version", _first_text(resource, "version") or "1"),
            ("licence", "copyright", _first_text(resource, "copyright") or NO_LICENCE),
            ("reported_as", "description", _first_text(resource, "description", "title")),
            ("instructions", "item (display)", "\n\n".join(intro) or NO_INSTRUCTIONS),
        ):
            self.places[key] = path
            if value is not None:
                table[key] = value

    def slug(self, resource: Mapping[str, Any]) -> str | None:
        """The definition's id: the Questionnaire's own, else one made from its name."""
        for key in ("id", "name", "title"):
            value = resource.get(key)
            if isinstance(value, str):
                slug = _SLUG_PARTS.sub("-", value.lower()).strip("-")
                if slug:
                    return slug
        return None

    # Extensions -----------------------------------------------------------------

    def extensions(self, value: Any, where: str) -> list[dict[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, "is a list of extensions")
        for index, extension in enumerate(value):
            if not isinstance(extension, dict) or not isinstance(extension.get("url"), str):
                raise self.fail(f"{where}[{index}]", "is an extension with a url")
        return value

    def value(self, extension: Mapping[str, Any], where: str) -> Any:
        """The extension's value[x], or its nested extensions as a table."""
        keys = [key for key in extension if key.startswith("value")]
        if len(keys) > 1:
            raise self.fail(where, f"has more than one value ({', '.join(keys)})")
        if keys:
            return extension[keys[0]]
        if "extension" in extension:
            table: dict[str, Any] = {}
            nested = self.extensions(extension["extension"], f"{where}.extension")
            for index, part in enumerate(nested):
                if part["url"] in table:
                    raise self.fail(f"{where}.extension[{index}]", f"repeats {part['url']!r}")
                table[part["url"]] = self.value(part, f"{where}.extension[{index}]")
            return table
        raise self.fail(where, "has no value")

    def definition_extensions(self, value: Any, table: dict[str, Any]) -> None:
        for index, extension in enumerate(self.extensions(value, "extension")):
            url: str = extension["url"]
            if not url.startswith(EXTENSION):
                continue  # someone else's extension: not ours to read
            name = url.removeprefix(EXTENSION)
            where = f"extension[{index}] ({name})"
            content = self.value(extension, f"extension[{index}]")
            if name in _REPEATING:
                entries = table.setdefault(name, [])
                self.places[f"{name}[{len(entries)}]"] = where
                self.places.setdefault(name, f"extension ({name})")
                entries.append(content)
            elif name in _SINGLE:
                if name in table:
                    raise self.fail(where, "appears twice")
                self.places[name] = where
                table[name] = content
            else:
                raise self.fail(
                    f"extension[{index}]", f"{url} is not an extension this format knows"
                )

    # Items ----------------------------------------------------------------------

    def items(self, resource: Mapping[str, Any], intro: list[str]) -> list[dict[str, Any]]:
        self.places["items"] = "item"
        contained = resource.get("contained", [])
        value_sets = {}
        if isinstance(contained, list):
            value_sets = {
                f"#{entry['id']}": (index, entry)
                for index, entry in enumerate(contained)
                if isinstance(entry, dict) and entry.get("resourceType") == "ValueSet"
                if isinstance(entry.get("id"), str)
            }
        found: list[dict[str, Any]] = []
        self.walk(resource.get("item"), "item", found, intro, value_sets)
        if not found:
            raise self.fail("item", "holds no question to answer from a list (type choice)")
        return found

    def walk(
        self,
        items: Any,
        where: str,
        found: list[dict[str, Any]],
        intro: list[str],
        value_sets: Mapping[str, tuple[int, Any]],
    ) -> None:
        """Questions in the order they are asked; groups are opened, and the text of
        display items and groups before the first question becomes the instructions."""
        if items is None:
            return
        if not isinstance(items, list):
            raise self.fail(where, "is a list of items")
        for index, item in enumerate(items):
            here = f"{where}[{index}]"
            if not isinstance(item, dict):
                raise self.fail(here, "is not an item")
            kind = item.get("type")
            text = item.get("text")
            if kind in ("group", "display"):
                if not found and isinstance(text, str) and text.strip():
                    intro.append(text.strip())
                if kind == "group":
                    self.walk(item.get("item"), f"{here}.item", found, intro, value_sets)
            elif item.get("readOnly") is True or _calculated(item):
                continue  # a score or other value the form fills in, not a question
            elif kind in ("choice", "open-choice"):
                found.append(self.question(item, here, len(found), value_sets))
            else:
                raise self.fail(
                    f"{here}.type",
                    f"is {kind!r}; only questions answered from a list (choice) can be scored",
                )

    def question(
        self,
        item: Mapping[str, Any],
        here: str,
        position: int,
        value_sets: Mapping[str, tuple[int, Any]],
    ) -> dict[str, Any]:
        key = f"items[{position}]"
        self.places |= {
            key: here,
            f"{key}.id": f"{here}.linkId",
            f"{key}.options": f"{here}.answerOption",
            f"{key}.subscale": f"{here}.extension (subscale)",
            f"{key}.reverse": f"{here}.extension (reverse)",
        }
        link = item.get("linkId")
        if not isinstance(link, str) or not link.strip():
            raise self.fail(f"{here}.linkId", "is missing or is not text")
        children = item.get("item")
        if isinstance(children, list) and any(
            not isinstance(child, dict) or child.get("type") != "display" for child in children
        ):
            raise self.fail(
                f"{here}.item", "holds questions inside a question, which cannot be read"
            )
        question: dict[str, Any] = {
            # LOINC forms use linkIds such as "/44250-9": kept as letters, digits and hyphens.
            "id": _NOT_IN_AN_ITEM_ID.sub("-", link.strip()).strip("-") or link,
            "text": item.get("text"),
            "options": self.options(item, here, value_sets, key),
        }
        for index, extension in enumerate(
            self.extensions(item.get("extension"), f"{here}.extension")
        ):
            url: str = extension["url"]
            if not url.startswith(EXTENSION):
                continue
            name = url.removeprefix(EXTENSION)
            if name not in _ITEM_EXTENSIONS:
                raise self.fail(
                    f"{here}.extension[{index}]", f"{url} is not an extension this format knows"
                )
            question[name] = self.value(extension, f"{here}.extension[{index}]")
        return question

    def options(
        self,
        item: Mapping[str, Any],
        here: str,
        value_sets: Mapping[str, tuple[int, Any]],
        key: str,
    ) -> list[dict[str, Any]]:
        if "answerOption" in item:
            entries = item["answerOption"]
            if not isinstance(entries, list):
                raise self.fail(f"{here}.answerOption", "is a list of options")
            return [
                self.option(entry, f"{here}.answerOption[{index}]")
                for index, entry in enumerate(entries)
            ]
        reference = item.get("answerValueSet")
        if reference is None:
            raise self.fail(f"{here}.answerOption", "is missing: list the answers to choose from")
        if reference not in value_sets:
            raise self.fail(
                f"{here}.answerValueSet",
                "names a value set outside this file; list the answers in answerOption, or "
                "include the value set in contained",
            )
        index, value_set = value_sets[reference]
        self.places[f"{key}.options"] = f"contained[{index}]"
        return self.value_set_options(value_set, f"contained[{index}]")

    def value_set_options(self, value_set: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
        """A contained ValueSet's concepts, from its expansion or its compose."""
        if isinstance(value_set.get("expansion"), dict):
            places = [("expansion.contains", value_set["expansion"].get("contains"))]
        else:
            compose = value_set.get("compose")
            includes = compose.get("include") if isinstance(compose, dict) else None
            if not isinstance(includes, list):
                raise self.fail(where, "lists no concepts (compose.include or expansion)")
            places = [
                (f"compose.include[{n}].concept", include.get("concept"))
                for n, include in enumerate(includes)
                if isinstance(include, dict)
            ]
        options = []
        for path, concepts in places:
            if not isinstance(concepts, list):
                raise self.fail(f"{where}.{path}", "is a list of concepts")
            for index, concept in enumerate(concepts):
                if not isinstance(concept, dict):
                    raise self.fail(f"{where}.{path}[{index}]", "is not a concept")
                options.append(self.option({"valueCoding": concept}, f"{where}.{path}[{index}]"))
        return options

    def option(self, option: Any, where: str) -> dict[str, Any]:
        """One option: the number it scores and its label."""
        if not isinstance(option, dict):
            raise self.fail(where, "is not an answer option")
        coding = option.get("valueCoding")
        coding = coding if isinstance(coding, dict) else {}
        value = self.weight(option.get("extension"), where)
        if value is None:
            value = self.weight(coding.get("extension"), f"{where}.valueCoding")
        code = coding.get("code")
        if value is None and isinstance(code, str) and _WHOLE_NUMBER.fullmatch(code.strip()):
            value = int(code)
        whole = option.get("valueInteger")
        if value is None and isinstance(whole, int) and not isinstance(whole, bool):
            value = whole
        if value is None:
            raise self.fail(
                where,
                "has no number to score: give it an ordinalValue (or itemWeight) extension "
                "or a whole-number code",
            )
        label = coding.get("display") or option.get("valueString") or str(value)
        return {"value": value, "label": label}

    def weight(self, extensions: Any, where: str) -> int | None:
        for index, extension in enumerate(self.extensions(extensions, f"{where}.extension")):
            if extension["url"] not in (ORDINAL_VALUE, ITEM_WEIGHT):
                continue
            here = f"{where}.extension[{index}]"
            number = self.value(extension, here)
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise self.fail(here, "is not a number")
            if not float(number).is_integer():
                raise self.fail(here, f"is {number}; the answers here score whole numbers")
            return int(number)
        return None


def _first_text(resource: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = resource.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _calculated(item: Mapping[str, Any]) -> bool:
    extensions = item.get("extension")
    return isinstance(extensions, list) and any(
        isinstance(e, dict) and e.get("url") == CALCULATED for e in extensions
    )


def _derived_range(scoring: Any, items: Sequence[Mapping[str, Any]]) -> dict[str, float] | None:
    """The range the answers allow, for a file that does not state it."""
    rule = scoring.get("total") if isinstance(scoring, dict) else None
    if rule not in ("sum", "mean"):
        return None
    lows, highs = [], []
    for item in items:
        values = [option["value"] for option in item["options"]]
        if not values:
            return None  # the definition's own check names this item
        lows.append(min(values))
        highs.append(max(values))
    if rule == "mean":
        return {"min": sum(lows) / len(items), "max": sum(highs) / len(items)}
    return {"min": sum(lows), "max": sum(highs)}


# --- a person's results → a Bundle of QuestionnaireResponses -----------------------


def response_bundle(results: Sequence[Mapping[str, Any]], exported_at: datetime) -> dict[str, Any]:
    """A ``collection`` Bundle of one QuestionnaireResponse per result, oldest first.

    ``results`` are as the export holds them: ``instrument``, ``taken_at``,
    ``answers``, ``total``, ``subscales``, ``band``, ``flags`` and ``version``. Each
    response names its Questionnaire (``canonical|version``) and holds the answers as
    option codes and the scores in the read-only score items; a raised flag is a
    ``raised_flag`` extension. No wording of the questionnaire is copied into it.
    """
    entries = []
    for position, result in enumerate(results):
        response = _response(result, position)
        entries.append({"fullUrl": f"urn:uuid:{response['id']}", "resource": response})
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _utc(exported_at),
        "entry": entries,
    }


def _response(result: Mapping[str, Any], position: int) -> dict[str, Any]:
    instrument_id = str(result["instrument"])
    taken_at = result.get("taken_at")
    name = f"{instrument_id}|{taken_at}|{position}"
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(uuid.uuid5(_RESPONSE_IDS, name)),
    }
    flags = result.get("flags") or []
    if flags:
        response["extension"] = [_ext(RAISED_FLAG, valueCode=str(flag)) for flag in flags]
    version = result.get("version")
    response |= {
        "questionnaire": canonical(instrument_id) + (f"|{version}" if version else ""),
        "status": "completed",
    }
    # FHIR lets a response leave out a time it does not have, or cannot read.
    with suppress(ValueError):
        response["authored"] = _utc(datetime.fromisoformat(str(taken_at)))
    items: list[dict[str, Any]] = [
        {"linkId": str(item_id), "answer": [{"valueCoding": _coding(OPTION_SYSTEM, str(value))}]}
        for item_id, value in (result.get("answers") or {}).items()
    ]
    if result.get("total") is not None:
        items.append({"linkId": TOTAL_ITEM, "answer": [{"valueDecimal": result["total"]}]})
    if result.get("band"):
        items.append({"linkId": BAND_ITEM, "answer": [{"valueString": str(result["band"])}]})
    for subscale, value in (result.get("subscales") or {}).items():
        if value is not None:
            items.append({"linkId": SUBSCALE_ITEM + subscale, "answer": [{"valueDecimal": value}]})
    if items:
        response["item"] = items
    return response


def _utc(moment: datetime) -> str:
    """FHIR's instant in UTC; a time without a zone was stored in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
