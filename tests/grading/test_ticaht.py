"""T-ICAHT (other-toxicities.md §5.4, optional module): strict thresholds, cumulative days, transfusion rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import crsguard

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def platelets(lows: list[tuple[int, int, float]], last_day: int = 30, normal: float = 150.0) -> list[dict[str, Any]]:
    values = dict.fromkeys(range(last_day + 1), normal)
    for first, last, value in lows:
        values.update(dict.fromkeys(range(first, last + 1), value))
    return [{"study_day": d, "value": v} for d, v in values.items()]


def ticaht(**inputs: Any) -> crsguard.GradeResult:
    return crsguard.grade(inputs, "ticaht2025")


@pytest.mark.parametrize(("lows", "expected"), [
    ([(3, 8, 40.0)], 1),      # 6 days < 50
    ([(3, 9, 40.0)], 2),      # 7 days < 50
    ([(3, 3, 15.0)], 3),      # 1 day < 20
    ([(3, 16, 15.0)], 4),     # 14 days < 20
    ([(3, 9, 50.0)], 0),      # exactly 50 is not below (strict, A-21)
])
def test_early_rows(lows: list[tuple[int, int, float]], expected: int) -> None:
    result = ticaht(study_day=30, platelet_series=platelets(lows))
    assert (result.grade, result.window) == (expected, "early")


def test_counts_entered_per_microlitre_use_the_strict_threshold_exactly() -> None:
    series = [{"study_day": d, "value": {"value": 20_000 if 3 <= d <= 20 else 150_000, "unit": "/uL"}}
              for d in range(31)]
    assert ticaht(study_day=30, platelet_series=series).grade == 2  # 20 x 10^9/L is not < 20; 18 days < 50


def test_values_after_a_transfusion_are_no_recovery() -> None:
    series = platelets([(2, 9, 10.0), (10, 30, 30.0)])
    untransfused = ticaht(study_day=30, platelet_series=series, infusion_datetime=T0.isoformat(),
                          platelet_transfusion_datetimes=[])
    transfused = ticaht(study_day=30, platelet_series=series, infusion_datetime=T0.isoformat(),
                        platelet_transfusion_datetimes=[(T0 + timedelta(days=9)).isoformat()])
    assert (untransfused.grade, transfused.grade) == (3, 4)  # 8 days vs 8 + 7 masked days < 20


def test_late_band_confirmed_on_two_tests_and_provisional_on_one() -> None:
    two = ticaht(study_day=60, platelet_series=[{"study_day": 40, "value": 45}, {"study_day": 50, "value": 48}])
    one = ticaht(study_day=60, platelet_series=[{"study_day": 40, "value": 45}, {"study_day": 50, "value": 120}])
    assert (two.grade, two.window) == (2, "late")
    assert one.grade == 2 and any("single_value" in w for w in one.warnings)
