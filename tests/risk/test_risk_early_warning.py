"""Early-warning rules on hand-built courses: fire when they should, stay quiet when they should."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crsguard.risk import CONFIRMATION_TEXT
from crsguard.risk.early_warning import detect_signals, grade_escalations, warning_rules
from crsguard.risk.warning_evaluation import lead_times, summarise

T0 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def course(*rows: tuple[str, float, str, float]) -> pl.DataFrame:
    """Rows (patient, hours since t0, quantity, value) as the long observation frame."""
    return pl.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "time": [at(r[1]) for r in rows],
            "quantity": [r[2] for r in rows],
            "value": [float(r[3]) for r in rows],
        },
        schema={
            "patient_id": pl.String,
            "time": pl.Datetime("us", "UTC"),
            "quantity": pl.String,
            "value": pl.Float64,
        },
    )


def t0_for(*patients: str) -> pl.DataFrame:
    return pl.DataFrame({"patient_id": list(patients), "t0": [T0] * len(patients)})


def fired(events: pl.DataFrame, rule: str) -> dict[str, float]:
    rows = events.filter(pl.col("rule") == rule)
    return dict(zip(rows["patient_id"].to_list(), rows["hours_since_t0"].to_list(), strict=True))


# -------------------------------------------------------------------------------------------- first fever
def test_first_fever_fires_at_the_first_temperature_at_or_above_38() -> None:
    obs = course(
        ("a", -3, "body_temperature", 38.5),  # before infusion: not an early-warning signal
        ("a", 4, "body_temperature", 37.9),
        ("a", 8, "body_temperature", 38.0),  # 38.0 is fever (crs-grading D1, inclusive)
        ("a", 12, "body_temperature", 39.4),
        ("b", 6, "body_temperature", 37.9),
    )
    events = detect_signals(obs, t0_for("a", "b"))
    assert fired(events, "first_fever") == {"a": 8.0}
    row = events.filter(pl.col("rule") == "first_fever").row(0, named=True)
    assert row["evidence"] == [{"quantity": "body_temperature", "time": at(8), "value": 38.0}]
    assert row["evidence_marker"] == "P" and not row["requires_clinician_confirmation"]
    assert "crs-grading.md D1" in row["source"]


def test_afebrile_course_is_quiet() -> None:
    obs = course(*(("a", h, "body_temperature", 37.2) for h in range(0, 72, 4)))
    assert detect_signals(obs, t0_for("a")).height == 0


def test_times_with_another_offset_are_compared_in_utc() -> None:
    obs = course(("a", 5, "body_temperature", 38.2)).with_columns(
        pl.col("time").dt.convert_time_zone("America/New_York")
    )
    assert fired(detect_signals(obs, t0_for("a")), "first_fever") == {"a": 5.0}


# ------------------------------------------------------------------------------------------- Hay 2017 (§1.6)
def test_hay_worked_example_high_risk() -> None:
    """risk §1.6: Tmax 39.2 °C at hour 20 and MCP-1 1,500 pg/mL at hour 24 → high risk."""
    obs = course(("a", 20, "body_temperature", 39.2), ("a", 24, "mcp1", 1500))
    events = detect_signals(obs, t0_for("a"), include_research=True)
    assert fired(events, "hay_2017_high_risk") == {"a": 24.0}
    assert fired(events, "hay_early_high_fever") == {"a": 20.0}
    row = events.filter(pl.col("rule") == "hay_2017_high_risk").row(0, named=True)
    assert [e["quantity"] for e in row["evidence"]] == ["body_temperature", "mcp1"]
    assert row["research_flag"] and CONFIRMATION_TEXT in row["warning"]


def test_hay_worked_example_low_fever_is_not_high_risk_whatever_mcp1() -> None:
    """risk §1.6: Tmax 38.6 °C → not high risk regardless of MCP-1."""
    obs = course(("a", 20, "body_temperature", 38.6), ("a", 24, "mcp1", 50000))
    events = detect_signals(obs, t0_for("a"), include_research=True)
    assert fired(events, "hay_2017_high_risk") == {}
    assert fired(events, "first_fever") == {"a": 20.0}


@pytest.mark.parametrize(
    "rows",
    [
        [("a", 20, "body_temperature", 39.2)],  # no MCP-1 measured: the tree cannot fire
        [("a", 20, "body_temperature", 39.2), ("a", 37, "mcp1", 1500)],  # MCP-1 after 36 h
        [("a", 37, "body_temperature", 39.2), ("a", 24, "mcp1", 1500)],  # high fever after 36 h
        [("a", 20, "body_temperature", 39.2), ("a", 24, "mcp1", 1343.4)],  # just below the threshold
    ],
)
def test_hay_tree_stays_quiet_outside_its_criteria(rows: list[tuple[str, float, str, float]]) -> None:
    events = detect_signals(course(*rows), t0_for("a"), include_research=True)
    assert fired(events, "hay_2017_high_risk") == {}


def test_hay_tree_window_is_inclusive_at_36_hours() -> None:
    obs = course(("a", 36, "body_temperature", 38.9), ("a", 36, "mcp1", 1343.5))
    assert fired(detect_signals(obs, t0_for("a"), include_research=True), "hay_2017_high_risk") == {"a": 36.0}


def test_research_rules_are_off_by_default() -> None:
    obs = course(("a", 20, "body_temperature", 39.2), ("a", 24, "mcp1", 1500), ("a", 30, "crp", 250))
    default = set(detect_signals(obs, t0_for("a"))["rule"].to_list())
    assert default == {"first_fever"}
    named = set(detect_signals(obs, t0_for("a"), rule_ids=["crp_at_least_200_mg_l"])["rule"].to_list())
    assert named == {"crp_at_least_200_mg_l"}


# ---------------------------------------------------------------------------------------- ferritin 2x / 48 h
def test_ferritin_doubling_within_48h_fires_with_its_reference() -> None:
    obs = course(("a", 6, "ferritin", 500), ("a", 30, "ferritin", 800), ("a", 54, "ferritin", 1000))
    events = detect_signals(obs, t0_for("a"))
    assert fired(events, "ferritin_doubling_48h") == {"a": 54.0}
    row = events.filter(pl.col("rule") == "ferritin_doubling_48h").row(0, named=True)
    assert [(e["time"], e["value"]) for e in row["evidence"]] == [(at(6), 500.0), (at(54), 1000.0)]
    assert row["requires_clinician_confirmation"] and "A-24" in row["warning"]


def test_ferritin_doubling_over_more_than_48h_is_quiet() -> None:
    obs = course(("a", 6, "ferritin", 500), ("a", 54.5, "ferritin", 1000))
    assert fired(detect_signals(obs, t0_for("a")), "ferritin_doubling_48h") == {}


def test_ferritin_rise_below_twofold_is_quiet() -> None:
    obs = course(("a", 6, "ferritin", 500), ("a", 30, "ferritin", 999))
    assert fired(detect_signals(obs, t0_for("a")), "ferritin_doubling_48h") == {}


def test_ferritin_reference_may_precede_infusion() -> None:
    obs = course(("a", -20, "ferritin", 400), ("a", 12, "ferritin", 900))
    assert fired(detect_signals(obs, t0_for("a")), "ferritin_doubling_48h") == {"a": 12.0}


# -------------------------------------------------------------------------------------------------- inputs
def test_naive_times_are_rejected() -> None:
    obs = course(("a", 1, "body_temperature", 38.0)).with_columns(pl.col("time").dt.replace_time_zone(None))
    with pytest.raises(ValueError, match="timezone-aware"):
        detect_signals(obs, t0_for("a"))


def test_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match="missing column 'value'"):
        detect_signals(course(("a", 1, "body_temperature", 38.0)).drop("value"), t0_for("a"))


def test_patient_without_t0_is_an_error() -> None:
    with pytest.raises(ValueError, match="no t0 for patient"):
        detect_signals(course(("b", 1, "body_temperature", 38.0)), t0_for("a"))


def test_rule_thresholds_are_in_canonical_units() -> None:
    """Loading validates every condition's unit against the vocabulary (interop.md §1.1)."""
    units = {c.quantity: c.unit for r in warning_rules().rules for c in r.conditions}
    assert units == {"body_temperature": "Cel", "ferritin": "ng/mL", "mcp1": "pg/mL", "crp": "mg/L"}


# ---------------------------------------------------------------------------------- property: first crossing
@settings(max_examples=40, deadline=None)
@given(
    temperatures=st.lists(
        st.tuples(st.floats(-24, 200, allow_nan=False), st.floats(35.0, 41.0, allow_nan=False)),
        min_size=1,
        max_size=30,
    ),
    shift_hours=st.integers(-1000, 1000),
)
def test_first_fever_matches_a_direct_reading_and_ignores_clock_shifts(
    temperatures: list[tuple[float, float]], shift_hours: int
) -> None:
    rounded = [(round(h, 3), v) for h, v in temperatures]
    obs = course(*(("a", h, "body_temperature", v) for h, v in rounded))
    expected = min((h for h, v in rounded if h >= 0 and v >= 38.0), default=None)
    got = fired(detect_signals(obs, t0_for("a")), "first_fever").get("a")
    assert got == (None if expected is None else pytest.approx(expected, abs=1e-6))
    shift = dt.timedelta(hours=shift_hours)
    shifted = detect_signals(
        obs.with_columns(pl.col("time") + shift), t0_for("a").with_columns(pl.col("t0") + shift)
    )
    assert fired(shifted, "first_fever").get("a") == got


# --------------------------------------------------------------------------------------- grade escalations
def _grades(*rows: tuple[str, float, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "time": [at(r[1]) for r in rows],
            "system": ["astct2019"] * len(rows),
            "grade": [r[2] for r in rows],
        }
    )


def test_grade_escalation_fires_on_each_rise_only() -> None:
    grades = _grades(("a", 0, 0), ("a", 10, 1), ("a", 14, 1), ("a", 20, 2), ("a", 30, 1), ("a", 40, 3))
    result = grade_escalations(grades)
    assert result.select("previous_grade", "grade").rows() == [(0, 1), (1, 2), (1, 3)]


def test_grade_series_starting_above_zero_counts_as_escalation() -> None:
    result = grade_escalations(_grades(("a", 5, 2), ("a", 8, 2)))
    assert result.select("previous_grade", "grade").rows() == [(None, 2)]


# ----------------------------------------------------------------------------------- lead time, false alarms
def test_lead_time_and_false_alarm_rate_on_a_hand_built_cohort() -> None:
    """a: fever at 10 h, grade 2 at 30 h (lead 20 h); b: fever at 40 h, grade 2 at 35 h (late, -5 h);
    c: fever at 12 h, never grade 2 (false alarm); d: afebrile, never grade 2 (quiet)."""
    obs = course(
        ("a", 10, "body_temperature", 38.4),
        ("b", 40, "body_temperature", 38.1),
        ("c", 12, "body_temperature", 38.3),
        ("d", 12, "body_temperature", 37.0),
    )
    events = detect_signals(obs, t0_for("a", "b", "c", "d"))
    grades = _grades(
        ("a", 0, 0), ("a", 30, 2), ("b", 0, 0), ("b", 35, 3), ("c", 0, 0), ("c", 20, 1), ("d", 0, 0)
    )
    per_patient = lead_times(events, grades, grade_at_least=2)
    assert dict(per_patient.select("patient_id", "lead_hours").rows()) == {
        "a": 20.0,
        "b": -5.0,
        "c": None,
        "d": None,
    }
    summary = summarise(per_patient, 2)
    assert (summary.patients, summary.reached, summary.warned) == (4, 2, 1)
    assert summary.median_lead_hours == 20.0
    assert (summary.false_alarms, summary.never_reached, summary.false_alarm_rate) == (1, 2, 0.5)
    assert "not clinical validation" in summary.describe()
    grade3 = summarise(lead_times(events, grades, grade_at_least=3), 3)
    assert (grade3.reached, grade3.warned, grade3.false_alarms, grade3.never_reached) == (1, 0, 2, 3)
