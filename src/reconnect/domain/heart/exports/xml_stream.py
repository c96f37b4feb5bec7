"""Streaming an XML export through expat, for the TCX and CDA readers (and the pieces
Apple's export.xml reader shares: reading a chunk, saying where a file broke).

The same safety as Apple's export.xml reader: expat is driven directly, a chunk at
a time, with no tree built, so memory stays flat; any entity declaration stops the
import before anything is expanded; external DTDs and entities are never fetched.
Elements are matched on their local names, so ``<Value>`` and ``<ns3:Value>`` are
the same element whatever the prefix, and a prefix a file forgot to declare does
not stop it being read.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import Protocol
from xml.parsers import expat

from reconnect.domain.heart.exports.reading import CHUNK_BYTES, BinaryReader, BrokenFile, Reading

__all__ = [
    "ElementReader",
    "local_name",
    "parsed_readings",
    "read_chunk",
    "xml_break",
    "xml_chunks",
]

# XML 1.0 allows no control characters but tab, line feed and carriage return; none
# of these bytes can be part of a longer UTF-8 character, so they are dropped.
_XML_FORBIDDEN = bytes(c for c in range(32) if c not in (0x09, 0x0A, 0x0D))
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"


class ElementReader(Protocol):
    """What a format's reader does with the elements expat reports.

    ``found`` collects the readings met so far; the driver yields and clears it after
    every chunk. Names arrive as written (``ns3:Value``); see :func:`local_name`.
    """

    found: list[Reading]

    def start(self, name: str, attributes: dict[str, str]) -> None: ...

    def end(self, name: str) -> None: ...

    def text(self, data: str) -> None: ...


def local_name(name: str) -> str:
    """``Value`` for ``ns3:Value`` or ``Value``."""
    return name.rpartition(":")[2]


def xml_chunks(stream: BinaryReader) -> Iterator[bytes]:
    """The file's bytes a chunk at a time, control characters dropped.

    Whitespace before the XML declaration is dropped too: Strava's TCX files start
    with a row of spaces, which a strict parser refuses ("XML declaration not at the
    start"). A byte-order mark is dropped with it; expat reads UTF-8 without one.
    """
    chunks = iter(lambda: read_chunk(stream).translate(None, _XML_FORBIDDEN), b"")
    for chunk in chunks:
        chunk = chunk.removeprefix(_BOM).lstrip(_WHITESPACE)
        if chunk:
            yield chunk
            break
    yield from chunks


def parsed_readings(
    chunks: Iterable[bytes], reader: ElementReader, *, refused: str, closing: bytes = b""
) -> Iterator[Reading]:
    """Feed ``chunks`` to expat, then ``closing`` as the end, yielding ``reader.found``.

    ``refused`` is the sentence given when the file declares an entity. A parse error
    raises :class:`BrokenFile` after the readings before it are yielded: "cut short"
    when it shows only at the end (a start tag never closed), "damaged" otherwise.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True

    def refuse_entities(*_: object) -> None:
        raise BrokenFile(refused)

    parser.EntityDeclHandler = refuse_entities
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    for chunk in chunks:
        yield from _feed(parser, reader, chunk, final=False)
    yield from _feed(parser, reader, closing, final=True)


def _feed(
    parser: expat.XMLParserType, reader: ElementReader, data: bytes, *, final: bool
) -> Iterator[Reading]:
    failure: expat.ExpatError | None = None
    try:
        parser.Parse(data, final)
    except expat.ExpatError as error:
        failure = error
    yield from reader.found
    reader.found.clear()
    if failure is not None:
        raise BrokenFile(xml_break(failure, at_end=final))


def xml_break(error: expat.ExpatError, *, at_end: bool) -> str:
    """The sentence for where expat stopped: "cut short" at the end, "damaged" before."""
    if at_end:
        return (
            f"The file stops part way (around line {error.lineno:,}), as if it "
            "was cut short; the samples before that point were imported."
        )
    return (
        f"The file is damaged at line {error.lineno:,}, so reading stopped there; "
        "the samples before that point were imported."
    )


def read_chunk(stream: BinaryReader) -> bytes:
    """The next chunk of the file, or :class:`BrokenFile` when it cannot be read on."""
    try:
        return stream.read(CHUNK_BYTES)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error):
        raise BrokenFile(
            "The file could not be read to the end (it may be damaged); "
            "the samples before that point were imported."
        ) from None
