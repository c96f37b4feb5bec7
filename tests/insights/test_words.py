"""What the detectors say names the ladder's steps in words, never as "tier N"."""

from __future__ import annotations

import ast
import re
from importlib import resources

import pytest

from reconnect.domain.insights.findings import tier_words
from reconnect.domain.pacing.catalogue import TIERS

FOLDER = resources.files("reconnect.domain.insights")
MODULES = sorted(p.name for p in FOLDER.iterdir() if p.name.endswith(".py"))  # type: ignore[attr-defined]


def said(module: str) -> list[str]:
    """The module's string literals, docstrings left out: what a finding can say."""
    tree = ast.parse(FOLDER.joinpath(module).read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = [n for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    return [n.value for n in strings if isinstance(n.value, str) and id(n) not in docstrings]


@pytest.mark.parametrize("module", MODULES)
def test_no_finding_says_tier(module):
    # A word of its own, in a sentence: keys such as "tier" or "min_tier" are not said.
    sentences = [s for s in said(module) if " " in s]
    assert [s for s in sentences if re.search(r"\btiers?\b", s, re.IGNORECASE)] == []


def test_every_step_is_named_in_words():
    for tier in TIERS:
        assert not re.search(r"\d", tier_words(tier)), tier
