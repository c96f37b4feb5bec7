"""What every export reader takes, yields and raises.

A reader takes a :class:`BinaryReader` and yields one :data:`Reading` per row or
record: a time and a rate, or ``None`` for one it could not read. Where the file
stops being readable it raises :class:`BrokenFile` with a calm sentence;
:class:`UnknownFormat` means the file is none of the formats we read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from reconnect.domain.heart.samples import CalmReading
from reconnect.domain.validation import InvalidEntry

__all__ = [
    "CHUNK_BYTES",
    "AnyReading",
    "BinaryReader",
    "BrokenFile",
    "Reading",
    "UnknownFormat",
    "read_up_to",
]

# Files are read this many bytes at a time.
CHUNK_BYTES = 256 * 1024


class BinaryReader(Protocol):
    """Anything with ``read(size) -> bytes``: an open file, an upload, a zip member."""

    def read(self, size: int = -1, /) -> bytes: ...


class UnknownFormat(InvalidEntry):
    """The file is none of the formats we read; ``message`` says what it looked like."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message)


class BrokenFile(Exception):
    """The file cannot be read past this point; ``message`` says why, calmly."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# A reading as a parser found it: a time and a rate, or None for a row it could not read.
Reading = tuple[datetime, float] | None
# What a reader may yield: a reading, or one of the watch's calm readings (its daily
# resting heart rate, or a sample marked as taken sitting still, also yielded as a Reading).
AnyReading = Reading | CalmReading


def read_up_to(source: BinaryReader, size: int) -> bytes:
    """Up to ``size`` bytes: a stream may hand back less than asked before its end."""
    parts: list[bytes] = []
    wanted = size
    while wanted > 0:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)
