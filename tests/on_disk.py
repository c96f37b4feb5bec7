"""What an app leaves on disk: its SQLite files, and a check that a word is in none."""

from __future__ import annotations

from pathlib import Path


def sqlite_files(app) -> list[Path]:
    database = Path(app.state.engine.url.database)
    return [p for p in (database, Path(f"{database}-wal")) if p.exists()]


def assert_absent(needle: bytes, *paths: Path) -> None:
    for path in paths:
        assert needle not in path.read_bytes(), f"found in {path.name}"
