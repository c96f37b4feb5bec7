"""Questionnaires are scored by their published rules, with worked examples."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconnect.domain.measures.definition_files import (
    example_folder,
    instrument_from_text,
    load_instrument,
    load_operator_folder,
    load_shipped,
)
from reconnect.domain.measures.definitions import Instrument
from reconnect.domain.measures.scoring import (
    Direction,
    InvalidAnswers,
    NoReliableChangeData,
    reliable_change,
    score,
)


def answers(instrument: Instrument, *values: int) -> dict[str, int]:
    """One answer per item, in item order."""
    assert len(values) == len(instrument.items)
    return {item.id: value for item, value in zip(instrument.items, values, strict=True)}


def every(instrument: Instrument, value: int) -> dict[str, int]:
    return {item.id: value for item in instrument.items}


def with_total(instrument: Instrument, total: int, spare: str | None = None) -> dict[str, int]:
    """Answers adding up to ``total``, filled from the first item on, never using ``spare``."""
    result = every(instrument, 0)
    left = total
    for item in instrument.items:
        if item.id == spare:
            continue
        result[item.id] = min(item.high, left)
        left -= result[item.id]
    assert left == 0
    return result


def example(instrument_id: str) -> Instrument:
    return load_instrument(example_folder() / f"{instrument_id}.toml")


PHQ9 = load_instrument("phq-9")
GAD7 = load_instrument("gad-7")
PCL5 = load_instrument("pcl-5")
CSI4 = example("csi-4")
ECRS = example("ecr-s")


# PHQ-9 -------------------------------------------------------------------------


def test_phq9_all_zeros_is_minimal() -> None:
    result = score(PHQ9, every(PHQ9, 0))
    assert result.total == 0
    assert result.band is not None and result.band.label == "Minimal"
    assert not result.crisis


def test_phq9_all_threes_is_27_and_severe() -> None:
    result = score(PHQ9, every(PHQ9, 3))
    assert result.total == 27
    assert result.band is not None and result.band.label == "Severe"


@pytest.mark.parametrize(
    ("total", "label"),
    [
        (0, "Minimal"),
        (4, "Minimal"),
        (5, "Mild"),
        (9, "Mild"),
        (10, "Moderate"),
        (14, "Moderate"),
        (15, "Moderately severe"),
        (19, "Moderately severe"),
        (20, "Severe"),
        (27, "Severe"),
    ],
)
def test_phq9_band_boundaries(total: int, label: str) -> None:
    result = score(PHQ9, with_total(PHQ9, min(total, 24), spare="9") | {"9": 0})
    if total > 24:  # only item 9 is left to reach the top of the scale
        result = score(PHQ9, with_total(PHQ9, total))
    assert result.total == total
    assert result.band is not None and result.band.label == label


def test_phq9_item_9_raises_the_crisis_flag_even_when_the_total_is_low() -> None:
    result = score(PHQ9, answers(PHQ9, 0, 0, 0, 0, 0, 0, 0, 0, 1))
    assert result.total == 1
    assert result.band is not None and result.band.label == "Minimal"
    assert result.crisis
    assert result.flags == ("crisis",)


@pytest.mark.parametrize("value", [1, 2, 3])
def test_phq9_every_non_zero_answer_to_item_9_is_a_crisis(value: int) -> None:
    assert score(PHQ9, every(PHQ9, 0) | {"9": value}).crisis


def test_phq9_other_items_never_raise_the_crisis_flag() -> None:
    assert not score(PHQ9, every(PHQ9, 3) | {"9": 0}).crisis


def test_phq9_crisis_flag_has_a_message_to_show() -> None:
    (flag,) = PHQ9.flags
    assert flag.id == "crisis" and flag.item == "9" and flag.at_least == 1
    assert "crisis resources" in flag.message


# GAD-7 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "label"),
    [
        (0, "Minimal"),
        (4, "Minimal"),
        (5, "Mild"),
        (9, "Mild"),
        (10, "Moderate"),
        (14, "Moderate"),
        (15, "Severe"),
        (21, "Severe"),
    ],
)
def test_gad7_band_boundaries(total: int, label: str) -> None:
    result = score(GAD7, with_total(GAD7, total))
    assert result.total == total
    assert result.band is not None and result.band.label == label


def test_gad7_has_no_crisis_flag() -> None:
    assert not score(GAD7, every(GAD7, 3)).crisis


# PCL-5 -------------------------------------------------------------------------


def test_pcl5_clusters_follow_dsm5() -> None:
    clusters = {sub.id: sub.item_ids for sub in PCL5.subscales}
    assert clusters == {
        "intrusion": ("1", "2", "3", "4", "5"),
        "avoidance": ("6", "7"),
        "cognition-mood": tuple(str(n) for n in range(8, 15)),
        "arousal": tuple(str(n) for n in range(15, 21)),
    }


def test_pcl5_worked_example_scores_each_cluster() -> None:
    # B: 1+2+3+4+0 = 10; C: 4+4 = 8; D: 7 × 1 = 7; E: 6 × 2 = 12; total 37.
    result = score(PCL5, answers(PCL5, 1, 2, 3, 4, 0, 4, 4, *[1] * 7, *[2] * 6))
    assert result.subscales == {"intrusion": 10, "avoidance": 8, "cognition-mood": 7, "arousal": 12}
    assert result.total == 37
    assert result.band is not None and result.band.label == "Higher symptom level"


def test_pcl5_all_fours_is_80() -> None:
    assert score(PCL5, every(PCL5, 4)).total == 80


@pytest.mark.parametrize(
    ("total", "label"), [(32, "Lower symptom level"), (33, "Higher symptom level")]
)
def test_pcl5_threshold_is_reported_only_as_symptom_level(total: int, label: str) -> None:
    result = score(PCL5, with_total(PCL5, total))
    assert result.band is not None and result.band.label == label


def test_pcl5_is_never_worded_as_a_diagnosis() -> None:
    for band in PCL5.bands:
        assert "ptsd" not in band.label.lower()
        assert "diagnos" not in band.label.lower()
    assert any("affair" in note and "not a qualifying" in note for note in PCL5.notes)


# Operator examples: CSI-4 and ECR-S --------------------------------------------


def test_csi4_is_the_sum_of_four_items_from_0_to_21() -> None:
    assert [item.high for item in CSI4.items] == [6, 5, 5, 5]
    assert score(CSI4, answers(CSI4, 6, 5, 5, 5)).total == 21
    assert score(CSI4, answers(CSI4, 0, 0, 0, 0)).total == 0
    assert score(CSI4, answers(CSI4, 4, 3, 2, 1)).total == 10


@pytest.mark.parametrize(
    ("values", "distress"),
    [((4, 3, 3, 3), True), ((4, 4, 3, 3), False), ((0, 0, 0, 0), True), ((6, 5, 5, 5), False)],
)
def test_csi4_below_13_5_reflects_notable_distress(values: tuple[int, ...], distress: bool) -> None:
    result = score(CSI4, answers(CSI4, *values))
    assert result.band is not None
    assert (result.band.label == "Notable relationship distress") is distress


def test_csi4_item_1_allows_6_and_the_others_only_5() -> None:
    with pytest.raises(InvalidAnswers):
        score(CSI4, answers(CSI4, 6, 6, 5, 5))


def test_ecrs_reverses_items_1_5_8_9() -> None:
    assert [item.id for item in ECRS.items if item.reverse] == ["1", "5", "8", "9"]


def test_ecrs_subscales_are_the_published_items() -> None:
    assert ECRS.subscale("anxiety").item_ids == ("2", "4", "6", "8", "10", "12")
    assert ECRS.subscale("avoidance").item_ids == ("1", "3", "5", "7", "9", "11")


def test_ecrs_all_sevens_worked_example() -> None:
    # Anxiety: five 7s and item 8 reversed to 1 → 36 / 6 = 6.0.
    # Avoidance: three 7s and items 1, 5, 9 reversed to 1 → 24 / 6 = 4.0.
    result = score(ECRS, every(ECRS, 7))
    assert result.subscales == {"anxiety": 6.0, "avoidance": 4.0}
    assert result.total is None and result.band is None


def test_ecrs_mixed_worked_example() -> None:
    # Items 1..12 answered 1,2,3,4,5,6,7,1,2,3,4,5.
    # Scored (reversed 1→7, 5→3, 8→7, 9→6): 7,2,3,4,3,6,7,7,6,3,4,5.
    # Anxiety (2,4,6,8,10,12): 2+4+6+7+3+5 = 27 → 4.5.
    # Avoidance (1,3,5,7,9,11): 7+3+3+7+6+4 = 30 → 5.0.
    result = score(ECRS, answers(ECRS, 1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 4, 5))
    assert result.subscales == {"anxiety": 4.5, "avoidance": 5.0}


def test_examples_are_not_loaded_by_default() -> None:
    assert {instrument.id for instrument in load_shipped()} == {"phq-9", "gad-7", "pcl-5"}


def test_examples_load_as_an_operator_folder() -> None:
    instruments, problems = load_operator_folder(example_folder())
    assert {instrument.id for instrument in instruments} == {"csi-16", "csi-4", "ecr-s"}
    assert problems == ()


# Bad answers --------------------------------------------------------------------


def test_a_missing_answer_is_named_calmly() -> None:
    partial = every(PHQ9, 0)
    del partial["4"]
    with pytest.raises(InvalidAnswers) as raised:
        score(PHQ9, partial)
    assert raised.value.item == "4"
    assert raised.value.message == "Question 4 has no answer yet."


@pytest.mark.parametrize("value", [-1, 4, 99])
def test_an_out_of_range_answer_is_refused(value: int) -> None:
    with pytest.raises(InvalidAnswers) as raised:
        score(PHQ9, every(PHQ9, 0) | {"2": value})
    assert raised.value.item == "2"
    assert "Question 2" in raised.value.message and "0, 1, 2, 3" in raised.value.message


def test_true_is_not_an_answer_of_1() -> None:
    with pytest.raises(InvalidAnswers):
        score(PHQ9, every(PHQ9, 0) | {"1": True})


def test_an_answer_to_an_unknown_question_is_refused() -> None:
    with pytest.raises(InvalidAnswers) as raised:
        score(GAD7, every(GAD7, 0) | {"8": 1})
    assert raised.value.item == "8"


# Reliable change ---------------------------------------------------------------

RCI_DEFINITION = """
id = "rci-example"
title = "RCI example"
version = "1"
licence = "Test only."
instructions = "Answer each."
reported_as = "Example symptom level"
higher_is = "worse"
scoring = { total = "sum" }
range = { min = 0, max = 40 }
options = [{ value = 0, label = "none" }, { value = 10, label = "a lot" }]
items = [
    { id = "a", text = "A" }, { id = "b", text = "B" },
    { id = "c", text = "C" }, { id = "d", text = "D" },
]
# SD 5, r 0.8: S_diff = 5 · √2 · √0.2 = √10 ≈ 3.162.
reliable_change = { sd = 5, reliability = 0.8, source = "made up for the test" }
"""


def test_rci_worked_example() -> None:
    instrument = instrument_from_text(RCI_DEFINITION, "rci.toml")
    before = score(instrument, {"a": 10, "b": 10, "c": 0, "d": 0})
    worse = score(instrument, {"a": 10, "b": 10, "c": 10, "d": 0})
    change = reliable_change(instrument, before, worse)
    assert change.difference == 10
    assert change.rci is not None and math.isclose(change.rci, 10 / math.sqrt(10))
    assert math.isclose(change.rci, 3.1623, abs_tol=1e-4)
    assert change.reliable and change.direction is Direction.WORSE
    better = reliable_change(instrument, worse, before)
    assert better.rci is not None and better.rci < -1.96
    assert better.direction is Direction.IMPROVED


def test_rci_just_below_1_96_is_not_reliable() -> None:
    # SD 8.2: S_diff = 8.2 · √2 · √0.2 ≈ 5.186, so 10 points gives RCI ≈ 1.928.
    instrument = instrument_from_text(RCI_DEFINITION.replace("sd = 5", "sd = 8.2"), "rci.toml")
    before = score(instrument, every(instrument, 0))
    after = score(instrument, {"a": 10, "b": 0, "c": 0, "d": 0})
    change = reliable_change(instrument, before, after)
    assert change.rci is not None and math.isclose(change.rci, 1.928, abs_tol=1e-3)
    assert not change.reliable
    assert change.direction is Direction.NO_RELIABLE_CHANGE


@pytest.mark.parametrize(
    ("first", "second", "direction"),
    [
        (20, 14, Direction.IMPROVED),
        (20, 15, Direction.NO_RELIABLE_CHANGE),
        (14, 20, Direction.WORSE),
        (10, 10, Direction.NO_RELIABLE_CHANGE),
    ],
)
def test_phq9_change_of_6_points_is_reliable(first: int, second: int, direction: Direction) -> None:
    before = score(PHQ9, with_total(PHQ9, first, spare="9"))
    after = score(PHQ9, with_total(PHQ9, second, spare="9"))
    change = reliable_change(PHQ9, before, after)
    assert change.difference == second - first
    assert change.rci is None  # PHQ-9 ships a documented number of points, not SD and r
    assert change.direction is direction
    assert change.reliable is (direction is not Direction.NO_RELIABLE_CHANGE)


def test_gad7_and_pcl5_reliable_change_values() -> None:
    assert GAD7.reliable_change is not None and GAD7.reliable_change.points == 4
    # PCL-5: Marx et al. (2022) found 15 and 18 points with the Jacobson-Truax method;
    # 10 is a "clinically meaningful" mark, not reliable change.
    rule = PCL5.reliable_change
    assert rule is not None and rule.points == 18 and "Marx" in rule.source

    def change_from_50_to(total: int) -> Direction:
        before, after = score(PCL5, with_total(PCL5, 50)), score(PCL5, with_total(PCL5, total))
        return reliable_change(PCL5, before, after).direction

    assert change_from_50_to(40) is Direction.NO_RELIABLE_CHANGE
    assert change_from_50_to(33) is Direction.NO_RELIABLE_CHANGE
    assert change_from_50_to(32) is Direction.IMPROVED
    assert change_from_50_to(68) is Direction.WORSE


def test_higher_is_better_reverses_the_direction() -> None:
    instrument = instrument_from_text(
        RCI_DEFINITION.replace('higher_is = "worse"', 'higher_is = "better"'), "rci.toml"
    )
    before = score(instrument, every(instrument, 0))
    after = score(instrument, every(instrument, 10))
    assert reliable_change(instrument, before, after).direction is Direction.IMPROVED


def test_reliable_change_needs_data_for_the_scale() -> None:
    result = score(ECRS, every(ECRS, 4))
    with pytest.raises(NoReliableChangeData):
        reliable_change(ECRS, result, result, scale="anxiety")
    with pytest.raises(NoReliableChangeData):
        reliable_change(ECRS, result, result)


def test_scores_of_another_instrument_cannot_be_compared() -> None:
    with pytest.raises(ValueError, match="gad-7"):
        reliable_change(PHQ9, score(GAD7, every(GAD7, 0)), score(PHQ9, every(PHQ9, 0)))


# Properties --------------------------------------------------------------------

ALL = (PHQ9, GAD7, PCL5, CSI4, ECRS)


@st.composite
def valid_answers(draw: st.DrawFn) -> tuple[Instrument, dict[str, int]]:
    instrument = draw(st.sampled_from(ALL))
    chosen = {
        item.id: draw(st.sampled_from([option.value for option in item.options]))
        for item in instrument.items
    }
    return instrument, chosen


@given(valid_answers())
def test_scores_always_stay_within_the_declared_ranges(
    case: tuple[Instrument, dict[str, int]],
) -> None:
    instrument, chosen = case
    result = score(instrument, chosen)
    if instrument.total_range is not None:
        assert result.total is not None and result.total in instrument.total_range
        assert result.band is not None  # the bands cover the whole range
    for subscale in instrument.subscales:
        assert result.subscales[subscale.id] in subscale.range
    assert result.crisis is (instrument.id == "phq-9" and chosen.get("9", 0) > 0)
