"""``reconnect questionnaires``: the questionnaire definitions as FHIR, and checking a file.

Nothing here opens the database; the instruments folder comes from
``--instruments-dir`` or ``RECONNECT_INSTRUMENTS_DIR``, as for the app.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from reconnect.domain.measures import fhir
from reconnect.domain.measures.definition_files import (
    load_instrument,
    load_operator_folder,
    load_shipped,
)
from reconnect.domain.measures.definitions import Instrument, InvalidDefinition, UnknownInstrument
from reconnect.settings import Settings, SettingsError, load_settings

_FOLDER_HELP = (
    f"{Settings.model_fields['instruments_dir'].description} [env: RECONNECT_INSTRUMENTS_DIR]"
)


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _folder(flag: str | None) -> str:
    try:
        return load_settings(instruments_dir=flag).instruments_dir
    except SettingsError as error:
        raise click.UsageError(str(error)) from None


def _load(path_or_id: str) -> Instrument:
    try:
        return load_instrument(path_or_id)
    except (InvalidDefinition, UnknownInstrument) as error:
        _fail(str(error))


@click.group()
def questionnaires() -> None:
    """The questionnaires: the built-in ones and those in the instruments folder."""


@questionnaires.command("export-fhir")
@click.argument("instrument", required=False)
@click.option(
    "--output", type=click.Path(dir_okay=False), help="File to write [default: print it]."
)
@click.option("--instruments-dir", type=click.Path(file_okay=False), help=_FOLDER_HELP)
def export_fhir(instrument: str | None, output: str | None, instruments_dir: str | None) -> None:
    """Write questionnaires as FHIR R4 Questionnaire resources (JSON).

    INSTRUMENT is a built-in id (phq-9, gad-7, pcl-5) or a definition file (TOML, or
    a Questionnaire in JSON) to convert. Without it, every built-in questionnaire and
    every one in the instruments folder goes into one Bundle. Scoring, bands, reliable
    change and flags travel in extensions, so the file loads back unchanged.
    """
    resource: dict[str, Any]
    if instrument:
        resource = fhir.questionnaire(_load(instrument))
        count = 1
    else:
        found = list(load_shipped())
        folder = _folder(instruments_dir)
        if folder:
            extra, problems = load_operator_folder(folder)
            for problem in problems:
                click.echo(f"Left out: {problem}", err=True)
            found += extra
        resource = fhir.questionnaire_bundle(found)
        count = len(found)
    text = json.dumps(resource, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    Path(output).write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output}: {count} questionnaire{'s' if count != 1 else ''}.")


@questionnaires.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def check(file: str) -> None:
    """Check a definition FILE (TOML, or a FHIR Questionnaire in JSON) as the app does
    at start-up, and say what it holds or which field needs fixing."""
    instrument = _load(file)
    scores = [f"{len(instrument.items)} questions"]
    if instrument.total_range is not None:
        scores.append(f"total {instrument.total_range.low:g}–{instrument.total_range.high:g}")
    if instrument.subscales:
        scores.append(f"{len(instrument.subscales)} subscales")
    if instrument.bands:
        scores.append(f"{len(instrument.bands)} bands")
    click.echo(f"{file}: {instrument.id}, {instrument.title}: {', '.join(scores)}.")
