"""ICAHT from hand-built ANC courses through the timeline (other-toxicities.md §5.1, §5.3; interop.md §1.5)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crsguard.engines.kernel import BatchResult, run_batch
from crsguard.grading import icaht_series
from crsguard.grading import toxicity_inputs as t
from crsguard.io.reader import validate_tables
from crsguard.timeline.config import TimelineConfig
from crsguard.timeline.snapshots import snapshots
from tests.timeline.builders import T0, at, observation, raw_tables

DAILY = TimelineConfig(grid="1d")
DAYS_LE_0_5 = t.early_days_column(0.5)


def anc_course(values: dict[int, float], hour_of_day: float = 0.0) -> list[dict[str, Any]]:
    """One ANC result per study day, `hour_of_day` hours after the clock time of t0 (same calendar day)."""
    return [observation(24 * day + hour_of_day, "anc", value, "10*9/L") for day, value in values.items()]


def graded(values: dict[int, float], config: TimelineConfig = DAILY, monitoring_days: int = 40) -> BatchResult:
    dataset = validate_tables(raw_tables(anc_course(values), monitoring_days=monitoring_days))
    result, _ = run_batch(dataset, config, ["icaht2023"])
    return result


def on_day(result: BatchResult, day: int) -> dict[str, Any]:
    return result.graded.filter(pl.col("study_day") == day).row(0, named=True)


def test_non_stable_recovery_counts_once_the_next_low_day_is_seen() -> None:
    """Days 1-8 ≤ 0.5, days 9-10 above (a 2-day, non-stable recovery), day 11 ≤ 0.5, then stable recovery.

    §5.3 rules 3-4: 8 + 2 + 1 = 11 neutropenic days → early grade 2 (7-13 days, §5.1). Day 6: 6 days, grade 1.
    Day 10: the recovery is not yet known to be non-stable, so 8 days.
    """
    course = {0: 1.2, **dict.fromkeys(range(1, 9), 0.3), 9: 0.9, 10: 0.7, 11: 0.4, **dict.fromkeys(range(12, 20), 2.0)}
    result = graded(course)
    assert (on_day(result, 6)[DAYS_LE_0_5], on_day(result, 6)["icaht2023_grade"]) == (6, 1)
    assert on_day(result, 10)[DAYS_LE_0_5] == 8
    assert (on_day(result, 11)[DAYS_LE_0_5], on_day(result, 19)[DAYS_LE_0_5]) == (11, 11)
    assert on_day(result, 19)["icaht2023_grade"] == 2


def test_stable_recovery_is_not_counted() -> None:
    """Days 1-5 low, days 6-8 above (3 days: stable, rule 3), days 9-10 low → 7 days, not 10 (grade 2)."""
    course = {0: 1.0, **dict.fromkeys(range(1, 6), 0.3), **dict.fromkeys(range(6, 9), 0.8), 9: 0.3, 10: 0.3, 11: 2.0}
    result = graded(course)
    assert on_day(result, 11)[DAYS_LE_0_5] == 7
    assert on_day(result, 11)["icaht2023_grade"] == 2


def test_gaps_up_to_7_days_are_interpolated_longer_ones_are_not() -> None:
    """ANC 0.4 on days 1, 4, 12 and 21 (2.0 from day 22). Gaps of 2 and 7 missing days are interpolated (0.4, low);
    the 8-day gap 13-20 is not (rule 2): 12 + 1 = 13 days → grade 2 with `icaht_data_gap`, not 21 days (grade 3)."""
    course = {0: 1.0, 1: 0.4, 4: 0.4, 12: 0.4, 21: 0.4, 22: 2.0, 23: 2.0, 24: 2.0}
    snapshot = on_day(graded(course), 24)
    assert snapshot[DAYS_LE_0_5] == 13
    assert snapshot[t.ICAHT_DATA_GAP] is True
    assert snapshot["icaht2023_grade"] == 2


def test_never_above_is_grade_4_only_once_day_30_is_reached() -> None:
    """ANC ≤ 0.5 from day 2 (by day +3) through day +30 without recovery: grade 4 by rule 5 at day 30; at day 20
    the window is open (19 days ≤ 0.5 → grade 3 by the duration rows of §5.1)."""
    course = {0: 1.5, 1: 0.9, **dict.fromkeys(range(2, 31), 0.3), 31: 0.3}
    result = graded(course)
    assert on_day(result, 20)[t.ICAHT_NEVER_ABOVE] is None
    assert on_day(result, 20)["icaht2023_grade"] == 3
    assert on_day(result, 30)[t.ICAHT_NEVER_ABOVE] is True
    assert on_day(result, 30)["icaht2023_grade"] == 4


def test_hourly_grid_counts_at_the_last_evaluation_of_each_day() -> None:
    """On a 1 h grid the counts are computed at the last evaluation of a study day; the earlier evaluations of the
    next day carry them (ANC 0.3 charted at 08:00 on days 1 and 2: 1 day counted through day 2's last evaluation
    but one, 2 days at its last)."""
    result = graded({0: 1.0, 1: 0.3, 2: 0.3, 3: 2.0}, TimelineConfig(grid="1h"))
    day_2 = result.graded.filter(pl.col("study_day") == 2).sort("time")
    assert day_2[DAYS_LE_0_5].to_list() == [1] * (day_2.height - 1) + [2]
    day_0 = result.graded.filter(pl.col("study_day") == 0)
    assert day_0[DAYS_LE_0_5].null_count() == day_0.height - 1  # nothing counted before t0's day ends


def test_without_anc_the_counts_are_missing() -> None:
    dataset = validate_tables(raw_tables([observation(30, "body_temperature", 37.0, "Cel")]))
    frame = snapshots(dataset, DAILY)
    assert frame[DAYS_LE_0_5].null_count() == frame.height


def reference(observations: pl.DataFrame, eval_time: Any, data_end: Any) -> dict[str, Any] | None:
    """`icaht_series.count` on the series a snapshot at `eval_time` carries (interop.md §1.5); None without one."""
    known = observations.filter(pl.col("time") <= eval_time)
    points = [((time.date() - T0.date()).days, value) for time, value in known.select("time", "value").iter_rows()]
    points = [(day, value) for day, value in points if day >= -7]
    if not points:
        return None
    followup = (data_end.date() - T0.date()).days if data_end <= eval_time else None
    counts = icaht_series.count(points, None, followup)
    return {
        **{t.early_days_column(x): n for x, n in counts.early_days.items()},
        **{t.early_days_column(x, longest=True): n for x, n in counts.early_longest.items()},
        t.ICAHT_NEVER_ABOVE: counts.early_never_above_0_5,
        **{t.late_count_column(x): n for x, n in counts.late_counts.items()},
        t.ICAHT_LATE_VALUES: counts.late_values,
        t.ICAHT_DATA_GAP: counts.data_gap,
    }


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.integers(-8, 40),
        st.tuples(st.sampled_from([0.05, 0.1, 0.3, 0.5, 0.8, 1.2, 2.0]), st.integers(0, 15)),
        min_size=1,
        max_size=30,
    )
)
def test_vectorised_counts_equal_the_reference_counting(course: dict[int, tuple[float, int]]) -> None:
    """Property: at every daily evaluation the Polars counts equal `grading.icaht_series.count` on the ANC values
    known by then (rules 1-5, 9), for random sparse courses (several hours of the day, values on thresholds)."""
    rows = [observation(24 * day + hour, "anc", value, "10*9/L") for day, (value, hour) in course.items()]
    dataset = validate_tables(raw_tables(rows, monitoring_days=45))
    frame = snapshots(dataset, DAILY)
    anc = dataset.observations.filter(pl.col("quantity") == "anc")
    last_value = anc.select(pl.col("time").max()).item()
    data_end = min(max(last_value, T0), T0 + timedelta(days=45))
    for snapshot in frame.iter_rows(named=True):
        expected = reference(anc, snapshot["time"], data_end)
        if expected is None:  # no value from day −7 on known yet: `anc_series` is missing, not empty
            assert snapshot[DAYS_LE_0_5] is None
            continue
        assert {k: snapshot[k] for k in expected} == expected, snapshot["time"]


def test_baseline_neutropenia_from_the_last_anc_before_lymphodepletion() -> None:
    """Rule 7 / A-20: ANC 0.4 on the day before lymphodepletion → flagged."""
    tables = raw_tables(anc_course({-5: 0.4, 1: 0.3, 2: 0.3}))
    tables["patients"] = tables["patients"].with_columns(pl.lit(at(-24 * 4)).alias("lymphodepletion_start"))
    result, _ = run_batch(validate_tables(tables), DAILY, ["icaht2023"])
    assert on_day(result, 2)[t.ICAHT_BASELINE_NEUTROPENIA] is True


def platelet_course(values: dict[int, float]) -> list[dict[str, Any]]:
    return [observation(24 * day, "platelets", value, "10*9/L") for day, value in values.items()]


def test_ticaht_early_grade_from_a_platelet_course() -> None:
    """Platelets 30 on days 1-5, 15 on days 6-8, 20 on day 9, 60 from day 10: < 50 on 9 days (grade 2, ≥ 7), < 20 on
    3 days (grade 3, 1-13 days, §5.4); thresholds are strict: 20 itself is not below 20."""
    course = {0: 120.0, **dict.fromkeys(range(1, 6), 30.0), **dict.fromkeys(range(6, 9), 15.0), 9: 20.0}
    course |= dict.fromkeys(range(10, 14), 60.0)
    dataset = validate_tables(raw_tables(platelet_course(course), monitoring_days=20))
    result, _ = run_batch(dataset, DAILY, ["ticaht2025"])
    snapshot = on_day(result, 13)
    assert snapshot[t.platelet_column("early_days", 50.0)] == 9  # days 1-9: day 9 (20) is < 50 too
    assert snapshot[t.platelet_column("early_days", 20.0)] == 3
    assert snapshot["ticaht2025_grade"] == 3


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(
        st.integers(-8, 60),
        st.sampled_from([5.0, 19.9, 20.0, 35.0, 50.0, 80.0, 100.0, 150.0]),
        min_size=1,
        max_size=40,
    )
)
def test_vectorised_platelet_counts_equal_the_reference_counting(course: dict[int, float]) -> None:
    """Property: the T-ICAHT counts equal `grading.icaht_series.count_platelets` (no transfusion recorded, §5.4)."""
    dataset = validate_tables(raw_tables(platelet_course(course), monitoring_days=70))
    frame = snapshots(dataset, DAILY)
    values = dataset.observations.filter(pl.col("quantity") == "platelets")
    data_end = min(max(values.select(pl.col("time").max()).item(), T0), T0 + timedelta(days=70))
    for snapshot in frame.iter_rows(named=True):
        known = values.filter(pl.col("time") <= snapshot["time"])
        points = [((x.date() - T0.date()).days, v) for x, v in known.select("time", "value").iter_rows()]
        points = [(day, v) for day, v in points if day >= -7]
        if not points:
            assert snapshot[t.TICAHT_LATE_VALUES] is None
            continue
        followup = (data_end.date() - T0.date()).days if data_end <= snapshot["time"] else None
        counts = icaht_series.count_platelets(points, [], None, followup)
        expected = {
            **{t.platelet_column("early_days", x): n for x, n in counts.early_days.items()},
            **{t.platelet_column("late_count", x): n for x, n in counts.late_counts.items()},
            t.TICAHT_LATE_DAYS_LT_20: counts.late_days_below_20,
            t.TICAHT_LATE_VALUES: counts.late_values,
            t.TICAHT_DATA_GAP: counts.data_gap,
        }
        assert {k: snapshot[k] for k in expected} == expected, snapshot["time"]
