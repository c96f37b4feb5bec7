"""Apple Health exports: ``export.xml``, or Apple's ``export.zip`` holding it.

The XML is read with expat a chunk at a time; entity declarations are refused and a
zip archive is refused before unzipping when it would unzip too far.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, cast
from xml.parsers import expat

from reconnect.domain.heart.exports.apple_cda import cda_readings
from reconnect.domain.heart.exports.formats import ACCEPTED
from reconnect.domain.heart.exports.reading import (
    AnyReading,
    BinaryReader,
    BrokenFile,
    Reading,
    UnknownFormat,
)
from reconnect.domain.heart.exports.xml_stream import read_chunk, xml_break
from reconnect.domain.heart.samples import CalmKind, CalmReading
from reconnect.domain.validation import InvalidEntry

__all__ = ["MAX_UNZIPPED_BYTES", "MAX_ZIP_RATIO", "ArchiveTooLarge", "xml_readings", "zip_readings"]

# An Apple export.zip is read only this far unzipped, and only if it unzips to at most
# this many times its zipped size: a real export.xml (text, repeated) zips to 1/10 to
# 1/30 of its size; a "zip bomb" of 47 MB unzipped to 10 GiB, 20 s of work.
MAX_UNZIPPED_BYTES = 4 * 1024**3
MAX_ZIP_RATIO = 100

_APPLE_HEART_RATE = "HKQuantityTypeIdentifierHeartRate"
_APPLE_RESTING_HEART_RATE = "HKQuantityTypeIdentifierRestingHeartRate"
_MOTION_CONTEXT = "HKMetadataKeyHeartRateMotionContext"
_SEDENTARY = "1"  # 0: not set, 1: sedentary, 2: active
_APPLE_UNIT = "count/min"
_APPLE_MEMBER_ENDING = "export.xml"
_APPLE_CDA_ENDING = "export_cda.xml"


class ArchiveTooLarge(InvalidEntry):
    """A zip archive that would unzip beyond what any heart-rate export needs."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message)
        self.message = message


def zip_readings(source: BinaryReader) -> Iterator[AnyReading]:
    seek = getattr(source, "seek", None)
    seekable = getattr(source, "seekable", None)
    if seek is None or (seekable is not None and not seekable()):
        raise UnknownFormat(
            "This zip archive has to be uploaded as a whole file; it could not be read."
        )
    seek(0)
    try:
        archive = zipfile.ZipFile(cast(IO[bytes], source))
        name = _export_member(archive)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise UnknownFormat(
            "This zip archive is damaged or incomplete, so nothing in it could be read. "
            "Exporting again from the Health app usually helps."
        ) from None
    if name is None:
        raise UnknownFormat(
            "This zip archive has no export.xml inside (Apple Health keeps it in "
            "apple_health_export/export.xml), so it does not look like an Apple Health "
            f"export; it holds: {_member_names(archive)}. Other zip archives (a Garmin or "
            f"Fitbit download) can be unzipped, and a heart-rate file inside uploaded. {ACCEPTED}"
        )
    _check_unzipped_size(archive.getinfo(name))
    return _zip_member_readings(archive, name)


def _check_unzipped_size(member: zipfile.ZipInfo) -> None:
    """Refuse a member that would unzip too far, before unzipping any of it.

    The sizes are the archive's own claims; zipfile never hands out more than the
    claimed size (past it, the checksum fails and reading stops). Other methods than
    deflate are refused: Python's bzip2 and lzma readers can unzip a whole block at once.
    """
    name = member.filename.rsplit("/", 1)[-1]
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnknownFormat(
            f"The {name} in this zip archive is compressed in a way the Health app does "
            "not use, so it was not read. Exporting again from the Health app usually helps."
        )
    if member.file_size > MAX_UNZIPPED_BYTES:
        raise ArchiveTooLarge(
            f"The {name} in this zip archive says it is {member.file_size / 1024**3:.1f} GiB, "
            f"larger than the {MAX_UNZIPPED_BYTES // 1024**3} GiB we read, so nothing was "
            "imported. Upload the export.xml itself, or a shorter export."
        )
    if member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1):
        raise ArchiveTooLarge(
            f"The {name} in this zip archive unzips to far more than a real export does "
            f"(over {MAX_ZIP_RATIO} times its zipped size), so it was not read. "
            "Exporting again from the Health app usually helps."
        )


def _export_member(archive: zipfile.ZipFile) -> str | None:
    """The member holding the export: any name ending in export.xml, in any case and
    any folder (the folder is named in the phone's language). A file named exactly
    export.xml comes first, then the shortest path; macOS's ``__MACOSX`` and ``._``
    copies are resource forks, not exports. Only when there is none is an
    export_cda.xml read (the Health app's vital signs, heart rates among them, in
    HL7 CDA): a person may zip that one alone, as export.xml can be very large."""
    for ending in (_APPLE_MEMBER_ENDING, _APPLE_CDA_ENDING):
        candidates = [
            name
            for name in archive.namelist()
            if name.lower().endswith(ending)
            and not name.startswith("__MACOSX/")
            and not name.rsplit("/", 1)[-1].startswith("._")
        ]
        if candidates:
            return min(
                candidates,
                key=lambda name: (name.rsplit("/", 1)[-1].lower() != ending, len(name)),
            )
    return None


def _member_names(archive: zipfile.ZipFile) -> str:
    names = [name for name in archive.namelist() if not name.endswith("/")]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5:,} more" if len(names) > 5 else "")
    return shown[:300] or "nothing"


def _zip_member_readings(archive: zipfile.ZipFile, name: str) -> Iterator[AnyReading]:
    reader = cda_readings if name.lower().endswith(_APPLE_CDA_ENDING) else xml_readings
    with archive, archive.open(name) as member:
        yield from reader(member)


_ENTITIES_REFUSED = (
    "This file declares XML entities, which an Apple Health export never does, so it was not read."
)


def xml_readings(stream: BinaryReader) -> Iterator[AnyReading]:
    """Heart-rate records of an Apple Health export.xml, read with expat.

    expat is driven directly rather than through ElementTree: no tree is built,
    so memory stays flat without clearing elements, and it is faster. Entity
    declarations are refused outright, which rules out "billion laughs" expansion
    (Apple's export has a DTD, so a DOCTYPE alone cannot be refused); expat never
    fetches external entities or DTDs.
    """
    found: list[AnyReading] = []
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse_entities(*_: object) -> None:
        raise BrokenFile(_ENTITIES_REFUSED)

    # A heart-rate record's motion context is in a MetadataEntry inside it, so the
    # record is held until its end tag (an empty element gives both at once).
    open_record: list[Reading] = []
    still: list[bool] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if name == "Record":
            kind = attributes.get("type")
            if kind == _APPLE_HEART_RATE:
                open_record.append(_apple_reading(attributes))
                still.append(False)
            elif kind == _APPLE_RESTING_HEART_RATE:
                resting = _apple_reading(attributes)
                if resting is not None:
                    found.append(CalmReading(*resting, CalmKind.DEVICE_RESTING))
        elif name == "MetadataEntry" and open_record and attributes.get("key") == _MOTION_CONTEXT:
            still[-1] = attributes.get("value") == _SEDENTARY

    def end(name: str) -> None:
        if name == "Record" and open_record:
            reading, was_still = open_record.pop(), still.pop()
            found.append(reading)
            if reading is not None and was_still:
                found.append(CalmReading(*reading, CalmKind.STILL))

    parser.EntityDeclHandler = refuse_entities
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    for chunk in _tolerant_chunks(stream):
        failure: expat.ExpatError | None = None
        try:
            parser.Parse(chunk, not chunk)
        except expat.ExpatError as error:
            failure = error
        yield from found
        found.clear()
        if failure is not None:
            raise BrokenFile(xml_break(failure, at_end=not chunk))
        if not chunk:
            return


# XML 1.0 allows no control characters but tab, line feed and carriage return, yet
# real exports hold some (a vertical tab in a device name). None of these bytes can be
# part of a longer UTF-8 character, so they are removed from the raw bytes.
_XML_FORBIDDEN = bytes(c for c in range(32) if c not in (0x09, 0x0A, 0x0D))
# The DTD sits at the top of the file; it is looked for this far, no further.
_HEADER_LIMIT = 1024 * 1024


def _tolerant_chunks(stream: BinaryReader) -> Iterator[bytes]:
    """The export's bytes a chunk at a time, made readable, ending with ``b""``.

    Control characters are dropped everywhere. The header is held back (at most
    :data:`_HEADER_LIMIT` bytes) until the root element starts, so that the DTD can be
    repaired by :func:`_repair_header`; after that, chunks pass straight through.
    """
    chunks = iter(lambda: read_chunk(stream).translate(None, _XML_FORBIDDEN), b"")
    head = b""
    for chunk in chunks:
        head += chunk
        if b"<HealthData" in head or len(head) >= _HEADER_LIMIT:
            break
    if head:
        yield _repair_header(head)
    yield from chunks
    yield b""


def _repair_header(head: bytes) -> bytes:
    """The header with the DTD's internal subset emptied, unless it declares entities.

    iOS 16 (Export Version 12) writes a DTD that is not well-formed: a declaration
    left open and stray lines before ``]>``. The subset only describes the elements;
    nothing here reads it, so it is replaced by as many line breaks (line numbers in
    messages stay true). A subset declaring entities is refused here, whole: no entity
    is ever declared to the parser, let alone expanded.
    """
    doctype = head.find(b"<!DOCTYPE")
    root = head.find(b"<HealthData")
    end = root if root >= 0 else len(head)
    opening = head.find(b"[", doctype, end)
    closing = head.rfind(b"]>", 0, end)
    if doctype < 0 or opening < 0 or closing < opening:
        return head
    subset = head[opening + 1 : closing]
    if b"<!ENTITY" in subset:
        raise BrokenFile(_ENTITIES_REFUSED)
    return head[: opening + 1] + b"\n" * subset.count(b"\n") + head[closing:]


def _apple_reading(attributes: dict[str, str]) -> Reading:
    if attributes.get("unit", _APPLE_UNIT) != _APPLE_UNIT:
        return None
    try:
        at = datetime.fromisoformat(attributes["startDate"])
        rate = float(attributes["value"])
    except (KeyError, ValueError):
        return None
    return (at, rate) if at.utcoffset() is not None else None
