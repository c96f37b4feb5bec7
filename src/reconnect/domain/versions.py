"""Versioned rule files: ``<package>/policies/v<N>.toml``, never edited once shipped.

The pacing policy and the progress policy are both kept this way, so a decision or a
marker can always name the version that made it and be made again from it.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from typing import Any

VERSION = re.compile(r"v(\d+)")
FOLDER = "policies"


def is_version(name: str) -> bool:
    return VERSION.fullmatch(name) is not None


def version_number(version: str) -> int:
    """The N of ``vN``; -1 for anything else."""
    match = VERSION.fullmatch(version)
    return int(match.group(1)) if match else -1


def available_versions(package: str) -> tuple[str, ...]:
    """Every version shipped in ``package``'s policies folder, oldest first."""
    files = resources.files(package).joinpath(FOLDER).iterdir()
    names = [f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml")]
    return tuple(sorted((n for n in names if is_version(n)), key=version_number))


def read_version(package: str, version: str) -> dict[str, Any]:
    """The parsed TOML of one shipped version (the caller checks that it exists)."""
    path = resources.files(package).joinpath(FOLDER, f"{version}.toml")
    return tomllib.loads(path.read_text(encoding="utf-8"))
