"""The progress policy is versioned data, documented key by key, and the domain is pure."""

from __future__ import annotations

import ast
import sys
import tomllib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from reconnect.domain.progress.markers import (
    pain_without_losing_connection,
    protection_less_often,
    seen_and_still_safe,
)
from reconnect.domain.progress.policy import (
    InvalidProgressPolicy,
    UnknownProgressPolicy,
    available_progress_policies,
    load_progress_policy,
    progress_policy_from_mapping,
)
from reconnect.progress.summary import weekly_summary

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "progress.md"
DOMAIN = ROOT / "src" / "reconnect" / "domain" / "progress"


def policy_table(version: str = "v1") -> dict[str, Any]:
    path = resources.files("reconnect.domain.progress").joinpath("policies", f"{version}.toml")
    return tomllib.loads(path.read_text())


def test_policy_v1_holds_the_thresholds_the_markers_always_had() -> None:
    policy = load_progress_policy("v1")
    assert policy.seen_safe_min_safety == 6
    assert (policy.protection_window_days, policy.protection_min_checkins) == (28, 4)
    assert policy.protection_margin_points == 10 and policy.protection_margin == 0.10
    assert policy.summary_high_activation == 7


def test_the_newest_policy_is_the_default_and_loaded_once() -> None:
    assert available_progress_policies()[-1] == load_progress_policy().version
    assert load_progress_policy("v1") is load_progress_policy("v1")


def test_markers_and_the_summary_name_the_policy_that_made_them() -> None:
    version = load_progress_policy().version
    today = date(2026, 3, 2)
    assert seen_and_still_safe([]).policy_version == version
    assert pain_without_losing_connection([]).policy_version == version
    assert protection_less_often([], today).policy_version == version
    assert weekly_summary(today).policy_version == version


def test_an_unknown_policy_version_is_refused() -> None:
    with pytest.raises(UnknownProgressPolicy, match="v99"):
        load_progress_policy("v99")


def test_a_missing_policy_key_is_named() -> None:
    table = policy_table()
    del table["protection"]["min_checkins"]
    with pytest.raises(InvalidProgressPolicy, match=r"\[protection\] min_checkins"):
        progress_policy_from_mapping(table)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("seen_and_still_safe", "min_safety", 11, "from 0 to 10"),
        ("protection", "window_days", 0, "at least 1"),
        ("protection", "min_checkins", True, "whole number"),
        ("protection", "margin_points", 0, "from 1 to 100"),
        ("weekly_summary", "high_activation", 7.5, "whole number"),
        (None, "version", "one", "v1, v2"),
    ],
)
def test_an_inconsistent_policy_is_refused(
    section: str | None, key: str, value: object, message: str
) -> None:
    table = policy_table()
    (table if section is None else table[section])[key] = value
    with pytest.raises(InvalidProgressPolicy, match=message):
        progress_policy_from_mapping(table)


@pytest.mark.parametrize("version", available_progress_policies())
def test_every_policy_key_is_documented(version: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for section, values in policy_table(version).items():
        if isinstance(values, dict):
            for key in values:
                assert f"`{section}.{key}`" in text, f"{section}.{key} is not in docs/progress.md"


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_the_progress_domain_imports_only_the_standard_library_and_the_domain(
    path: Path,
) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("reconnect.domain"), name
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = [n for n in ast.walk(function) if isinstance(n, ast.Import | ast.ImportFrom)]
            assert not inner, f"an import inside {function.name}"
