"""The practice catalogue and the pacing policy are data, checked when loaded."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from reconnect.domain.pacing.catalogue import (
    InvalidCatalogue,
    Lead,
    UnknownPractice,
    catalogue_from_tables,
    load_catalogue,
)
from reconnect.domain.pacing.policy import (
    InvalidPolicy,
    UnknownPolicy,
    available_policies,
    load_policy,
    policy_from_mapping,
)


def tier_tables() -> list[dict[str, Any]]:
    folder = resources.files("reconnect.domain.pacing").joinpath("practices")
    return [tomllib.loads(folder.joinpath(f"tier{n}.toml").read_text()) for n in range(7)]


def policy_table(version: str = "v1") -> dict[str, Any]:
    path = resources.files("reconnect.domain.pacing").joinpath("policies", f"{version}.toml")
    return tomllib.loads(path.read_text())


def test_the_catalogue_has_at_least_24_practices_across_all_7_tiers() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) >= 24
    assert all(len(catalogue.for_tier(n)) >= 3 for n in range(7))
    assert [t.number for t in catalogue.tiers] == list(range(7))


def test_every_practice_has_steps_a_time_box_and_a_stop_rule() -> None:
    for practice in load_catalogue():
        assert len(practice.steps) >= 3
        assert 1 <= practice.minutes <= 180
        assert practice.stop_rule.strip()


def test_who_leads_follows_the_ladder() -> None:
    catalogue = load_catalogue()
    assert {p.leads for p in catalogue.for_tier(0)} == {Lead.SELF}
    assert {p.leads for p in catalogue.for_tier(3)} == {Lead.INVOLVED}
    assert {p.leads for p in catalogue.for_tier(5)} == {Lead.MORE_ACTIVATED}
    # Intimacy is started by the slower partner, never asked for by the other.
    assert Lead.INVOLVED not in {p.leads for p in catalogue.for_tier(6)}
    starters = [p for p in catalogue.for_tier(6) if p.leads is Lead.MORE_ACTIVATED]
    assert len(starters) >= 3


def test_practices_are_found_by_id_and_unknown_ids_are_named() -> None:
    catalogue = load_catalogue()
    assert catalogue.get("longer-out-breath").tier == 0
    with pytest.raises(UnknownPractice) as caught:
        catalogue.get("midnight-confrontation")
    assert caught.value.practice_id == "midnight-confrontation"
    assert "midnight-confrontation" in str(caught.value)


def test_the_catalogue_is_loaded_once() -> None:
    assert load_catalogue() is load_catalogue()


def test_a_missing_tier_is_refused() -> None:
    with pytest.raises(InvalidCatalogue, match="tiers 0 to 6"):
        catalogue_from_tables(tier_tables()[:6])


def test_a_duplicate_id_is_refused() -> None:
    tables = tier_tables()
    tables[1]["practices"][0]["id"] = tables[0]["practices"][0]["id"]
    with pytest.raises(InvalidCatalogue, match="used twice"):
        catalogue_from_tables(tables)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("title", None, "'title'"),
        ("stop_rule", "  ", "'stop_rule'"),
        ("minutes", 0, "time box"),
        ("minutes", "ten", "'minutes'"),
        ("leads", "the partner who wants it", "leads must be one of"),
        ("steps", ["only", "two"], "three written steps"),
        ("id", "Not A Slug", "lower-case"),
    ],
)
def test_a_broken_practice_is_refused(key: str, value: object, message: str) -> None:
    tables = copy.deepcopy(tier_tables())
    if value is None:
        del tables[2]["practices"][0][key]
    else:
        tables[2]["practices"][0][key] = value
    with pytest.raises(InvalidCatalogue, match=message):
        catalogue_from_tables(tables)


def test_an_empty_tier_is_refused() -> None:
    tables = tier_tables()
    tables[4]["practices"] = []
    with pytest.raises(InvalidCatalogue, match="tier 4 lists no practices"):
        catalogue_from_tables(tables)


# --- policy ------------------------------------------------------------------------------


def test_the_newest_policy_is_the_default() -> None:
    assert available_policies()[-1] == load_policy().version
    assert load_policy("v1") is load_policy("v1")


def test_policy_v1_holds_the_documented_thresholds() -> None:
    policy = load_policy("v1")
    assert (policy.stop_activation, policy.slow_activation) == (8, 6)
    assert (policy.ceiling_window_hours, policy.unknown_after_hours) == (24, 72)
    assert (policy.advance_safe_experiences, policy.advance_distinct_days) == (3, 3)
    assert (policy.advance_window_days, policy.advance_safety_min) == (14, 6)
    assert (policy.flood_break_minutes, policy.flood_no_advance_hours) == (20, 72)
    assert policy.urgency_gap_min == 4
    assert [policy.activation_band(a) for a in (0, 3, 4, 5, 6, 7, 8, 10)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
    ]
    assert policy.band_label(1) == "4 to 5"


def test_an_unknown_policy_version_is_refused() -> None:
    with pytest.raises(UnknownPolicy, match="v99"):
        load_policy("v99")


def test_a_missing_policy_key_is_named() -> None:
    table = policy_table()
    del table["flood"]["break_minutes"]
    with pytest.raises(InvalidPolicy, match=r"\[flood\] break_minutes"):
        policy_from_mapping(table)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("advance", "judge_when_it_happened", False, "needs judge_when_it_happened"),
        ("experience", "pairing_days", 1, "pairing_days to cover backdate_max_hours"),
    ],
)
def test_counting_floods_by_the_longest_chain_needs_what_it_relies_on(
    section: str, key: str, value: object, message: str
) -> None:
    table = policy_table("v3")
    table[section][key] = value
    with pytest.raises(InvalidPolicy, match=message):
        policy_from_mapping(table)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("flood", "break_minutes", 19, "from 20 to 1440"),
        ("flood", "break_minutes", 1441, "from 20 to 1440"),
        ("ceiling", "slow_activation", 9, "slow_activation < stop_activation"),
        ("ceiling", "window_hours", True, "whole number"),
        ("experience", "activation_bands", [0, 6, 4], "rise strictly"),
        ("experience", "activation_bands", [1, 5], "rise strictly"),
        ("advance", "distinct_days", 20, "cannot exceed"),
        (None, "version", "one", "v1, v2"),
    ],
)
def test_an_inconsistent_policy_is_refused(
    section: str | None, key: str, value: object, message: str
) -> None:
    table = policy_table()
    (table if section is None else table[section])[key] = value
    with pytest.raises(InvalidPolicy, match=message):
        policy_from_mapping(table)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("lapse", "step_back", 0, "a lapse must step back"),
        ("lapse", "no_advance_hours", 12, "hold for a day"),
        ("hard_dates", "days_before", 0, "days_before must be 1 to 14"),
        ("hard_dates", "days_after", 8, "days_after 0 to 7"),
    ],
)
def test_from_v4_a_lapse_and_a_hard_date_always_hold(
    section: str, key: str, value: object, message: str
) -> None:
    table = policy_table("v4")
    table[section][key] = value
    with pytest.raises(InvalidPolicy, match=message):
        policy_from_mapping(table)
    del table[section]
    with pytest.raises(InvalidPolicy, match=f"missing \\[{section}\\]"):
        policy_from_mapping(table)


# --- documentation -----------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "pacing.md"


@pytest.mark.parametrize("version", ["v1", "v2", "v3", "v4"])
def test_every_policy_key_is_documented(version: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for section, values in policy_table(version).items():
        if isinstance(values, dict):
            for key in values:
                if section == "experience" and key == "activation_bands":
                    continue  # documented as the bands in the signal table
                assert f"`{section}.{key}`" in text, f"{section}.{key} is not in docs/pacing.md"


def test_every_signal_kind_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    kinds = ("ceiling", "closeness", "urgency_gap", "experience", "pause", "resume")
    for kind in (*kinds, "flood", "lapse", "hold"):
        assert f"| `{kind}` |" in text, f"signal {kind} is not in docs/pacing.md"
