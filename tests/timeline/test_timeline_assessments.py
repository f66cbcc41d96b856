"""ICE items, CAPD and the ICE item/total check on hand-built long-format timelines (interop.md §1.5, §8.7)."""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crsguard.engines.kernel import BatchResult, run_batch
from crsguard.io.reader import validate_tables
from crsguard.timeline.config import TimelineConfig
from tests.timeline.builders import at, observation, raw_tables, vitals

ICANS = "astct2019_icans"
ITEMS = ("ice_orientation", "ice_naming", "ice_commands", "ice_writing", "ice_attention")


def ice(hours: float, total: int | None, items: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    """One ICE assessment charted at `hours`: the total and/or the five items (orientation, naming, commands,
    writing, attention)."""
    rows = [] if total is None else [observation(hours, "ice_total", total, "{score}")]
    if items is not None:
        rows += [observation(hours, q, v, "{score}") for q, v in zip(ITEMS, items, strict=True)]
    return rows


def unable(hours: float, quantity: str, reason: str) -> dict[str, Any]:
    return observation(hours, quantity, None, None, code="true", method=reason)


def run(observations: list[dict[str, Any]], age: int = 60) -> tuple[BatchResult, pl.DataFrame]:
    tables = raw_tables([*observations, *vitals(range(0, 48, 6))])  # charting (and the grid) through 42 h
    tables["patients"] = tables["patients"].with_columns(pl.lit(age).cast(pl.Int64).alias("age_at_t0"))
    dataset = validate_tables(tables)
    result, _ = run_batch(dataset, TimelineConfig(), [ICANS])
    return result, dataset.quarantine


def row(result: BatchResult, hours: float) -> dict[str, Any]:
    return result.graded.filter(pl.col("time") == at(hours)).row(0, named=True)


def test_ice_items_reach_the_grader_with_their_total() -> None:
    """Items 3+3+1+1+1 = 9 with total 9 → both passed; ICE 7-9 is ICANS grade 1 (other-toxicities.md §1.2)."""
    result, quarantine = run(ice(2, 9, (3, 3, 1, 1, 1)))
    snapshot = row(result, 3)
    assert [snapshot[i] for i in ITEMS] == [3, 3, 1, 1, 1]
    assert snapshot["ice_total"] == 9
    assert snapshot["ice_status"] == "assessed"
    assert snapshot[f"{ICANS}_grade"] == 1
    assert quarantine.is_empty()


def test_items_without_a_total_give_the_total() -> None:
    """Items alone: the grader computes the total from them (2+1+1+0+0 = 4 → ICE 3-6, grade 2)."""
    result, _ = run(ice(2, None, (2, 1, 1, 0, 0)))
    assert row(result, 3)["ice_orientation"] == 2
    assert row(result, 3)[f"{ICANS}_grade"] == 2


def test_total_only_assessment_still_grades() -> None:
    result, _ = run(ice(2, 5))
    snapshot = row(result, 3)
    assert snapshot["ice_total"] == 5
    assert all(snapshot[i] is None for i in ITEMS)
    assert snapshot[f"{ICANS}_grade"] == 2


def test_items_come_from_the_assessment_with_the_lowest_total() -> None:
    """Assessment at 2 h (total 8, with items) and at 5 h (total 6, total only): at 6 h the lowest total, 6, is
    passed without items — items of one assessment are never mixed with the total of another (§1.5)."""
    result, _ = run(ice(2, 8, (4, 2, 1, 1, 0)) + ice(5, 6))
    snapshot = row(result, 6)
    assert snapshot["ice_total"] == 6
    assert all(snapshot[i] is None for i in ITEMS)
    assert row(result, 4)["ice_total"] == 8  # before the second assessment: the first, whole
    assert row(result, 4)["ice_attention"] == 0
    assert row(result, 30)["ice_total"] is None  # both have left the 24 h window


def test_awake_global_aphasia_item_zeros_are_grade_3_not_4() -> None:
    """ICE 0 from items all zero in an awake patient (e.g. global aphasia): grade 3; only an unarousable patient
    unable to perform the ICE is grade 4 (other-toxicities.md §1.4 rule 2, A-2)."""
    result, _ = run([*ice(2, 0, (0, 0, 0, 0, 0)), observation(2, "consciousness_astct", None, None, code="normal")])
    snapshot = row(result, 3)
    assert [snapshot[i] for i in ITEMS] == [0, 0, 0, 0, 0]
    assert snapshot["loc"] == "alert"
    assert snapshot[f"{ICANS}_grade"] == 3


def test_unarousable_flag_wins_over_an_assessment_and_clears_its_items() -> None:
    result, _ = run([*ice(2, 9, (3, 3, 1, 1, 1)), unable(4, "ice_unable", "unarousable")])
    snapshot = row(result, 5)
    assert snapshot["ice_status"] == "not_assessable_unarousable"
    assert snapshot["ice_total"] is None
    assert all(snapshot[i] is None for i in ITEMS)


def test_total_disagreeing_with_items_is_quarantined_not_fatal() -> None:
    """Total 7 with items summing to 9: the total is quarantined OUT_OF_RANGE (interop.md §1.1, §8.7), the items
    stand and grade (ICE 9 → grade 1); the batch is graded."""
    result, quarantine = run(ice(2, 7, (3, 3, 1, 1, 1)))
    assert quarantine.select("table", "reason", "quantity").rows() == [("observations", "OUT_OF_RANGE", "ice_total")]
    assert "disagrees with the sum of its items" in quarantine["detail"].item()
    snapshot = row(result, 3)
    assert snapshot["ice_total"] == 9
    assert snapshot[f"{ICANS}_grade"] == 1


def test_incomplete_items_never_quarantine_the_total() -> None:
    """Four items only: no sum to compare with, the total stands alone."""
    rows = ice(2, 7) + [observation(2, q, 1, "{score}") for q in ITEMS[1:]]
    result, quarantine = run(rows)
    assert quarantine.is_empty()
    assert row(result, 3)["ice_total"] == 7
    assert row(result, 3)["ice_naming"] is None


def test_capd_total_grades_a_child() -> None:
    """Child of 8: the highest CAPD total in the window (≥ 9 → ICANS grade 3, A-1); baseline = last total < t0."""
    rows = [
        observation(-5, "capd_total", 2, "{score}"),
        observation(2, "capd_total", 4, "{score}"),
        observation(3, "capd_total", 10, "{score}"),
    ]
    result, _ = run(rows, age=8)
    snapshot = row(result, 4)
    assert (snapshot["capd_total"], snapshot["capd_status"], snapshot["capd_baseline_total"]) == (10, "assessed", 2)
    assert snapshot[f"{ICANS}_grade"] == 3


def test_capd_unable_reasons_map_to_capd_status() -> None:
    rows = [unable(2, "capd_unable", "neuromuscular_blockade"), unable(30, "capd_unable", "unarousable")]
    result, _ = run(rows, age=8)
    assert row(result, 3)["capd_status"] == "not_assessable_nmb"
    assert row(result, 31)["capd_status"] == "not_assessable_unarousable"
    assert row(result, 31)[f"{ICANS}_grade"] == 4


ITEM_VALUES = st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 1), st.integers(0, 1), st.integers(0, 1))


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 20),
        st.tuples(ITEM_VALUES, st.sampled_from(["total", "items", "both"])),
        min_size=1,
        max_size=6,
    )
)
def test_the_lowest_total_comes_with_its_own_items(assessments: dict[int, tuple[tuple[int, ...], str]]) -> None:
    """Property (interop.md §1.5): at 21 h (all assessments in the window) the total is the lowest total, and the
    items passed are those of an assessment with that total that charted all five items (none if none did)."""
    rows: list[dict[str, Any]] = []
    for hour, (items, kind) in assessments.items():
        rows += ice(hour, sum(items) if kind != "items" else None, items if kind != "total" else None)
    result, quarantine = run(rows)
    snapshot = row(result, 21)
    lowest = min(sum(items) for items, _ in assessments.values())
    with_items = [items for items, kind in assessments.values() if sum(items) == lowest and kind != "total"]
    assert quarantine.is_empty()
    assert snapshot["ice_total"] == lowest
    passed = tuple(snapshot[i] for i in ITEMS)
    assert passed == (min(with_items) if with_items else (None,) * len(ITEMS))
