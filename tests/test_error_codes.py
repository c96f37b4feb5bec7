"""Every error code the app can answer with is listed in docs/api.md.

Codes come from three places: ``Problem("code", ...)`` raised anywhere in the package,
``error_json("code", ...)`` in the app's error handlers, and the handlers' table of
HTTP errors (``(code, message)`` pairs). A code added in any of them without a line in
the docs fails here, as the settings test does for settings.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "reconnect"
DOCS = ROOT / "docs" / "api.md"
CODE = re.compile(r"^[a-z]+(_[a-z]+)*$")
RAISERS = {"Problem", "error_json"}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def codes_in(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _name(node) in RAISERS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
        # The HTTP errors' table: {404: ("not_found", "There is nothing here."), ...}
        if isinstance(node, ast.Dict):
            for value in node.values:
                if (
                    isinstance(value, ast.Tuple)
                    and len(value.elts) == 2
                    and all(
                        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
                    )
                    and CODE.match(value.elts[0].value)  # type: ignore[union-attr]
                ):
                    found.add(value.elts[0].value)  # type: ignore[union-attr]
    return found


def all_codes() -> set[str]:
    codes: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if "migrations" not in path.parts:
            codes |= codes_in(path.read_text(encoding="utf-8"))
    return codes


def test_the_scan_finds_codes_raised_in_every_way() -> None:
    source = 'Problem("a_code", "m", 4)\nerror_json("b_code", "m", 4)\nX = {404: ("c_code", "m")}'
    assert codes_in(source) == {"a_code", "b_code", "c_code"}
    assert {"invalid_credentials", "not_found", "malformed_json"} <= all_codes()


@pytest.mark.parametrize("code", sorted(all_codes()))
def test_every_error_code_is_in_the_api_docs(code: str) -> None:
    assert f"`{code}`" in DOCS.read_text(encoding="utf-8"), f"{code} is not listed in docs/api.md"
