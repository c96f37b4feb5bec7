"""What an app leaves on disk: its SQLite files, and a check that a word is in none."""

from __future__ import annotations

from pathlib import Path


def sqlite_files(app) -> list[Path]:
    database = Path(app.state.engine.url.database)
    return [p for p in (database, Path(f"{database}-wal")) if p.exists()]


def assert_absent(needle: bytes, *paths: Path) -> None:
    for path in paths:
        assert needle not in path.read_bytes(), f"found in {path.name}"


# Sealed bytes are random to anyone without the key, so a short needle turns up in
# them now and then by chance: three bytes in a 300-byte box about once in 55,000
# runs, which CI has met. Six bytes make that about once in 10^12.
SHORTEST_NEEDLE = 6


def assert_sealed_without(sealed: bytes, *needles: bytes) -> None:
    """None of ``needles`` (each long enough not to occur by chance) is in ``sealed``."""
    for needle in needles:
        assert len(needle) >= SHORTEST_NEEDLE, f"{needle!r} is short enough to occur by chance"
        assert needle not in sealed, f"{needle!r} is readable in the sealed bytes"
