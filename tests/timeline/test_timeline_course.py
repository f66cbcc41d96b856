"""Course tables: weighted kappa, concordance cross-tabulation, episodes and daily maxima on small series."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from crsguard.timeline.course import concordance, daily_max, episodes, weighted_kappa
from tests.timeline.builders import T0, at


def test_linear_weighted_kappa_by_hand() -> None:
    """a = (0, 1, 2), b = (0, 2, 2): observed disagreement 1/15, expected 1/5 → κ = 2/3."""
    assert weighted_kappa(pl.Series([0, 1, 2]), pl.Series([0, 2, 2])) == pytest.approx(2 / 3)
    assert weighted_kappa(pl.Series([0, 1, 3]), pl.Series([0, 1, 3])) == 1.0


def series(grades: list[int], system: str = "astct2019", upper: list[int] | None = None) -> pl.DataFrame:
    upper = grades if upper is None else upper
    return pl.DataFrame(
        {
            "patient_id": "P1",
            "time": [at(h) for h in range(len(grades))],
            "system": system,
            "grade": grades,
            "grade_upper": upper,
            "lower_bound": [u > g for g, u in zip(grades, upper, strict=True)],
            "status": "ok",
        }
    )


def test_episodes_peak_and_resolution() -> None:
    grades = [0, 1, 2, 3, 2, 1] + [0] * 30 + [2, 2] + [0] * 3
    table = episodes(series(grades), timedelta(hours=24))
    assert table["peak_grade"].to_list() == [3, 2]
    assert table["onset_time"].to_list() == [at(1), at(36)]
    assert table["peak_time"].to_list() == [at(3), at(36)]
    assert table["duration_h"].to_list() == [4.0, 1.0]
    assert table["resolved"].to_list() == [True, False]
    assert table["peak_is_lower_bound"].to_list() == [False, False]


def test_a_maximum_is_a_lower_bound_only_if_some_evaluation_could_reach_above_it() -> None:
    grades = [1, 3, 1]
    below_peak = episodes(series(grades, upper=[2, 3, 3]), timedelta(hours=24))
    above_peak = episodes(series(grades, upper=[4, 3, 1]), timedelta(hours=24))
    assert below_peak["peak_is_lower_bound"].to_list() == [False]
    assert above_peak["peak_is_lower_bound"].to_list() == [True]


def test_daily_max_counts_days_from_t0() -> None:
    grades = [1] * 16 + [3] * 2 + [0] * 10
    patients = pl.DataFrame({"patient_id": ["P1"], "t0": [T0]})
    table = daily_max(series(grades), patients)
    assert table["day"].to_list() == [0, 1]
    assert table["max_grade"].to_list() == [1, 3]


def test_concordance_cross_tab() -> None:
    summary = pl.DataFrame(
        {
            "patient_id": ["A", "B", "C"] * 2,
            "system": ["astct2019"] * 3 + ["lee2014"] * 3,
            "max_grade": [0, 1, 2, 0, 2, 2],
        }
    )
    table = concordance(summary, "astct2019")
    assert table["patients"].sum() == 3
    assert table["percent_same_grade"][0] == pytest.approx(200 / 3)
    assert table.filter((pl.col("reference_grade") == 1) & (pl.col("system_grade") == 2))["patients"].item() == 1
