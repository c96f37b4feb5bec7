"""The export formats we read, and how a file's first bytes tell which one it is."""

from __future__ import annotations

import re
from enum import Enum

from reconnect.domain.heart.exports.csv_files import (
    APPLE_HEALTH_LAYOUT,
    FITABASE_LAYOUT,
    FITBIT_LAYOUT,
    GENERIC_LAYOUT,
    csv_layout,
    header_columns,
)
from reconnect.domain.heart.exports.fit_files import is_fit
from reconnect.domain.heart.exports.reading import UnknownFormat

__all__ = ["ACCEPTED", "DETECT_BYTES", "Format", "detect_format"]

# How much of a file detect_format needs: Apple's export opens with a DTD of a few
# kilobytes before the first element.
DETECT_BYTES = 64 * 1024

# Said after every refusal, so that a person knows what to upload instead.
ACCEPTED = (
    "We can read an Apple Health export (export.zip, export.xml or export_cda.xml), "
    "an activity as a FIT or TCX file (Garmin, Strava and others), Fitbit heart-rate "
    "files (CSV from Google Takeout, or JSON from Fitbit's own export), a Fitabase "
    "heart-rate CSV, FHIR or Open mHealth heart-rate JSON, a CSV made from an Apple "
    "Health export, or a CSV with timestamp and bpm columns."
)


class Format(Enum):
    """The export formats
    :func:`~reconnect.domain.heart.exports.importing.read_heart_rate` understands."""

    APPLE_HEALTH_XML = "apple_health_xml"
    APPLE_HEALTH_ZIP = "apple_health_zip"
    FITBIT_CSV = "fitbit_csv"
    GENERIC_CSV = "generic_csv"
    FITBIT_JSON = "fitbit_json"
    FHIR_JSON = "fhir_json"
    OPEN_MHEALTH_JSON = "open_mhealth_json"
    FITABASE_CSV = "fitabase_csv"
    APPLE_HEALTH_CSV = "apple_health_csv"
    TCX = "tcx"
    APPLE_HEALTH_CDA = "apple_health_cda"
    FIT = "fit"


def detect_format(first_bytes: bytes) -> Format:
    """Say which parser applies to a file that starts with ``first_bytes``.

    Pass at least :data:`DETECT_BYTES` bytes (or the whole file, if shorter).
    Raises :class:`UnknownFormat` with a sentence a person can act on.
    """
    if first_bytes.startswith(b"PK\x03\x04"):
        return Format.APPLE_HEALTH_ZIP
    if is_fit(first_bytes):
        return Format.FIT
    head = first_bytes.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head:
        raise UnknownFormat(f"The file is empty. {ACCEPTED}")
    if head.startswith(b"<"):
        if b"<!DOCTYPE HealthData" in head or b"<HealthData" in head:
            return Format.APPLE_HEALTH_XML
        if _TCX_ROOT.search(head):
            return Format.TCX
        if _CDA_ROOT.search(head):
            return Format.APPLE_HEALTH_CDA
        raise UnknownFormat(
            "This looks like an XML file, but not an Apple Health export, a TCX activity "
            f"or Apple's export_cda.xml. {ACCEPTED}"
        )
    if head.startswith((b"{", b"[")):
        return _json_format(head)
    try:
        first_line = head.split(b"\n", 1)[0].decode("utf-8").strip()
    except UnicodeDecodeError:
        raise UnknownFormat(f"We could not read this file as text. {ACCEPTED}") from None
    found = csv_layout(first_line)
    if found is not None:
        return _CSV_FORMATS[found[0]]
    shown = ", ".join(c for c in header_columns(first_line) if c)[:120] or "nothing we recognise"
    raise UnknownFormat(
        "We could not tell what kind of file this is. A CSV's first line should name its "
        f"columns; this one has: {shown}. {ACCEPTED}"
    )


_CSV_FORMATS = {
    FITBIT_LAYOUT: Format.FITBIT_CSV,
    GENERIC_LAYOUT: Format.GENERIC_CSV,
    FITABASE_LAYOUT: Format.FITABASE_CSV,
    APPLE_HEALTH_LAYOUT: Format.APPLE_HEALTH_CSV,
}

# The root elements of a TCX file and of a CDA document, with or without a prefix
# (``<TrainingCenterDatabase``, ``<ns2:TrainingCenterDatabase``).
_TCX_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?TrainingCenterDatabase[\s>/]")
_CDA_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?ClinicalDocument[\s>/]")

# Open mHealth names a data point's schema in its header.
_OPEN_MHEALTH_HEART_RATE = re.compile(rb'"name"\s*:\s*"heart-rate"')


def _json_format(head: bytes) -> Format:
    """Which JSON export ``head`` begins; refuses one that holds no heart rate we read.

    Only the first bytes are seen, so each format is known by names only it uses:
    FHIR's ``resourceType``, Open mHealth's ``heart_rate`` or ``effective_time_frame``,
    Fitbit's ``dateTime`` (its heart-rate files, and only those, say ``bpm``).
    """
    if b'"resourceType"' in head:
        return Format.FHIR_JSON
    if b'"heart_rate"' in head or _OPEN_MHEALTH_HEART_RATE.search(head):
        return Format.OPEN_MHEALTH_JSON
    if b'"effective_time_frame"' in head:
        raise UnknownFormat(
            "This looks like Open mHealth data, but it holds no heart-rate readings "
            f"(we read the heart-rate schema). {ACCEPTED}"
        )
    if b'"dateTime"' in head:
        if b'"bpm"' in head:
            return Format.FITBIT_JSON
        raise UnknownFormat(
            "This looks like a file from a Fitbit data export, but it holds no heart-rate "
            f"readings: Fitbit keeps those in the files named heart_rate-(date).json. {ACCEPTED}"
        )
    raise UnknownFormat(
        f"This is a JSON file, but not one we know how to read heart rate from. {ACCEPTED}"
    )
