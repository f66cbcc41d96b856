"""ICAHT (other-toxicities.md §5): counting rules of §5.3, windows, inclusive thresholds (A-21), late confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import crsguard
from crsguard.grading import icaht_series
from tests.grading.vignettes_other import ICAHT, anc_series


def icaht(**inputs: object) -> crsguard.GradeResult:
    return crsguard.grade(inputs, ICAHT)


def test_longest_episode_switch_gives_2_for_v19() -> None:
    series = anc_series([(1, 8, 0.3), (9, 14, 0.8), (15, 21, 0.3)])
    cumulative = icaht(study_day=30, anc_series=series)
    longest = crsguard.grade_many([{"study_day": 30, "anc_series": series}], [ICAHT],
                                  {"icaht_early_duration": "longest_episode"})[0][0]
    assert (cumulative.grade, longest.grade) == (3, 2)


@pytest.mark.parametrize(("value", "expected"), [(0.5, 2), (0.501, 0)])
def test_early_threshold_is_inclusive(value: float, expected: int) -> None:
    assert icaht(study_day=30, anc_series=anc_series([(2, 9, value)])).grade == expected


def test_values_entered_per_microlitre_hit_the_inclusive_threshold_exactly() -> None:
    series = [{"study_day": d, "value": {"value": 500 if 2 <= d <= 9 else 1500, "unit": "/uL"}} for d in range(31)]
    assert icaht(study_day=30, anc_series=series).grade == 2


def test_a_one_day_recovery_is_not_stable_and_counts() -> None:
    series = anc_series([(1, 3, 0.3), (4, 4, 0.9), (5, 7, 0.3)])
    assert icaht_series.neutropenic_days(
        [p["value"] for p in series], 0.5
    )[4] is True
    assert icaht(study_day=30, anc_series=series).grade == 2  # 7 days


def test_gaps_up_to_7_days_are_interpolated() -> None:
    series, gap = icaht_series.interpolate({0: 1.0, 4: 0.2, 30: 1.0}, 0, 30)
    assert series[2] == pytest.approx(0.6)
    assert gap  # 4 -> 30 is a 25-day gap
    assert series[10] is None


def test_window_follows_the_assessment_day_and_is_a_result_field() -> None:
    series = [{"study_day": 45, "value": 0.8}, {"study_day": 52, "value": 0.9}]
    assert icaht(study_day=52, anc_series=series).window == "late"
    assert icaht(study_day=20, anc_series=anc_series([(2, 9, 0.3)], last_day=20)).window == "early"
    assert crsguard.grade({"study_day": 10}, "astct2019_icans").window is None


def test_single_late_value_is_provisional_and_flagged() -> None:
    result = icaht(study_day=60, anc_series=[{"study_day": 38, "value": 0.45}, {"study_day": 60, "value": 2.1}])
    assert result.grade == 3
    assert any("single_value" in w and "requires clinician confirmation" in w for w in result.warnings)


def test_single_late_value_confirmed_non_transient_is_not_provisional() -> None:
    result = icaht(study_day=60, icaht_late_non_transient=True,
                   anc_series=[{"study_day": 38, "value": 0.45}, {"study_day": 60, "value": 2.1}])
    assert result.grade == 3
    assert not any("single_value" in w for w in result.warnings)


def test_counting_stops_at_progression_and_is_flagged() -> None:
    t0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
    series = [{"datetime": (t0 + timedelta(days=d)).isoformat(), "value": 0.3 if d >= 2 else 1.2} for d in range(31)]
    result = icaht(infusion_datetime=t0.isoformat(), assessment_datetime=(t0 + timedelta(days=30)).isoformat(),
                   progression_datetime=(t0 + timedelta(days=8)).isoformat(), anc_series=series)
    assert result.window == "early"
    assert any(w.startswith("icaht_censored") for w in result.warnings)
    assert result.grade == 4  # fell by day 2, never recovered before progression (rule 5, A-23)


def test_timed_series_needs_the_infusion_time() -> None:
    result = icaht(study_day=30, anc_series=[{"datetime": "2026-01-03T08:00:00+00:00", "value": 0.2}])
    assert result.status == "indeterminate"
    assert "anc_series" in result.missing


def test_calendar_days_are_counted_in_the_infusion_time_zone() -> None:
    from crsguard.grading.toxicity_inputs import calendar_day

    t0 = datetime.fromisoformat("2026-01-01T23:00:00+01:00")
    assert calendar_day(datetime.fromisoformat("2026-01-01T23:30:00+00:00"), t0) == 1


@pytest.mark.parametrize(("per_ul", "days", "expected"), [(100, 7, 3), (101, 7, 2), (100, 14, 4)])
def test_profound_threshold_is_inclusive_after_conversion(per_ul: int, days: int, expected: int) -> None:
    """A-21: 100/µL arrives as exactly 0.1 x 10^9/L and counts toward the <= 0.1 row."""
    series = [{"study_day": d, "value": {"value": per_ul if 1 <= d <= days else 2000, "unit": "/uL"}}
              for d in range(31)]
    assert icaht(study_day=30, anc_series=series).grade == expected


def test_never_above_is_undecided_while_the_early_window_is_open() -> None:
    result = icaht(study_day=20, anc_series=anc_series([(0, 20, 0.3)], last_day=20))
    assert (result.grade, result.lower_bound) == (3, True)  # 21 days <= 0.5 so far; grade 4 only if no recovery
    assert "anc_series" in result.missing


def test_naive_times_are_rejected() -> None:
    from crsguard.model.errors import InputError

    with pytest.raises(InputError, match="no time zone"):
        icaht(infusion_datetime="2026-01-01T10:00:00")
