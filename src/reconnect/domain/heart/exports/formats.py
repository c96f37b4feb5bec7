"""The export formats we read, and how a file's first bytes tell which one it is."""

from __future__ import annotations

from enum import Enum

from reconnect.domain.heart.exports.csv_files import (
    FITBIT_COLUMNS,
    GENERIC_COLUMNS,
    columns_at,
    header_columns,
)
from reconnect.domain.heart.exports.reading import UnknownFormat

__all__ = ["DETECT_BYTES", "Format", "detect_format"]

# How much of a file detect_format needs: Apple's export opens with a DTD of a few
# kilobytes before the first element.
DETECT_BYTES = 64 * 1024


class Format(Enum):
    """The export formats
    :func:`~reconnect.domain.heart.exports.importing.read_heart_rate` understands."""

    APPLE_HEALTH_XML = "apple_health_xml"
    APPLE_HEALTH_ZIP = "apple_health_zip"
    FITBIT_CSV = "fitbit_csv"
    GENERIC_CSV = "generic_csv"


def detect_format(first_bytes: bytes) -> Format:
    """Say which parser applies to a file that starts with ``first_bytes``.

    Pass at least :data:`DETECT_BYTES` bytes (or the whole file, if shorter).
    Raises :class:`UnknownFormat` with a sentence a person can act on.
    """
    if first_bytes.startswith(b"PK\x03\x04"):
        return Format.APPLE_HEALTH_ZIP
    head = first_bytes.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head:
        raise UnknownFormat("The file is empty.")
    if head.startswith(b"<"):
        if b"<!DOCTYPE HealthData" in head or b"<HealthData" in head:
            return Format.APPLE_HEALTH_XML
        raise UnknownFormat(
            "This looks like an XML file, but not an Apple Health export "
            "(we look for export.xml from the Health app)."
        )
    try:
        first_line = head.split(b"\n", 1)[0].decode("utf-8").strip()
    except UnicodeDecodeError:
        raise UnknownFormat(
            "We could not read this file as text. Upload an Apple Health export, "
            "a Fitbit heart-rate CSV, or a CSV with timestamp and bpm columns."
        ) from None
    columns = header_columns(first_line)
    if columns_at(columns, FITBIT_COLUMNS) is not None:
        return Format.FITBIT_CSV
    if columns_at(columns, GENERIC_COLUMNS) is not None:
        return Format.GENERIC_CSV
    shown = ", ".join(c for c in columns if c)[:120] or "nothing we recognise"
    raise UnknownFormat(
        "We could not tell what kind of file this is. A CSV needs a first line naming "
        f"the columns timestamp and bpm (or timestamp and beats per minute); this one has: {shown}."
    )
