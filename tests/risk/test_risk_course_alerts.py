"""course_alerts on hand-built courses: each rule fires when it should and stays quiet when it should."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crsguard.engines.kernel import run_batch
from crsguard.io.reader import read_dataset
from crsguard.risk import ALERT_SCHEMA, CONFIRMATION_TEXT, course_alerts
from crsguard.simulate.cohort import SimulationSettings, run_simulation
from crsguard.timeline.config import TimelineConfig

T0 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
UTC = pl.Datetime("us", "UTC")

Obs = tuple[str, float, str, float | None, str | None]
Intervention = tuple[str, str, str, float, float | None, float | None, bool | None]
Grade = tuple[str, float, str, int]


def at(hours: float | None) -> dt.datetime | None:
    return None if hours is None else T0 + dt.timedelta(hours=hours)


def observations(*rows: Obs) -> pl.DataFrame:
    """(patient, hours since t0, quantity, value, value_code)."""
    return pl.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "time": [at(r[1]) for r in rows],
            "quantity": [r[2] for r in rows],
            "value": [r[3] for r in rows],
            "value_code": [r[4] for r in rows],
        },
        schema={
            "patient_id": pl.String,
            "time": UTC,
            "quantity": pl.String,
            "value": pl.Float64,
            "value_code": pl.String,
        },
    )


def interventions(*rows: Intervention) -> pl.DataFrame:
    """(patient, kind, agent, start h, end h or None, rate or None, bolus)."""
    return pl.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "agent": [r[2] for r in rows],
            "start_time": [at(r[3]) for r in rows],
            "end_time": [at(r[4]) for r in rows],
            "rate_value": [r[5] for r in rows],
            "rate_unit": ["ug/kg/min" if r[5] is not None else None for r in rows],
            "bolus": [r[6] for r in rows],
        },
        schema={
            "patient_id": pl.String,
            "kind": pl.String,
            "agent": pl.String,
            "start_time": UTC,
            "end_time": UTC,
            "rate_value": pl.Float64,
            "rate_unit": pl.String,
            "bolus": pl.Boolean,
        },
    )


def grades(*rows: Grade) -> pl.DataFrame:
    """(patient, hours since t0, system, grade)."""
    return pl.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "time": [at(r[1]) for r in rows],
            "system": [r[2] for r in rows],
            "grade": [r[3] for r in rows],
        },
        schema={"patient_id": pl.String, "time": UTC, "system": pl.String, "grade": pl.Int32},
    )


def patients(*ids: str) -> pl.DataFrame:
    return pl.DataFrame({"patient_id": list(ids), "t0": [T0] * len(ids)}, schema={"patient_id": pl.String, "t0": UTC})


def temperature(patient: str, hours: float, celsius: float) -> Obs:
    return (patient, hours, "body_temperature", celsius, None)


def alerts_for(
    obs: pl.DataFrame | None = None,
    given_interventions: pl.DataFrame | None = None,
    graded: pl.DataFrame | None = None,
    ids: tuple[str, ...] = ("a",),
) -> pl.DataFrame:
    return course_alerts(
        observations() if obs is None else obs,
        interventions() if given_interventions is None else given_interventions,
        grades() if graded is None else graded,
        patients(*ids),
    )


def fired(alerts: pl.DataFrame, rule: str) -> list[tuple[str, float]]:
    rows = alerts.filter(pl.col("rule") == rule)
    return list(zip(rows["patient_id"].to_list(), rows["hours_since_t0"].to_list(), strict=True))


# ------------------------------------------------------------------------------------------------ schema
def test_output_has_the_documented_columns_even_when_empty() -> None:
    alerts = alerts_for()
    assert alerts.is_empty()
    assert dict(alerts.schema) == ALERT_SCHEMA


# ------------------------------------------------------------------------------------------ first fever
def test_first_fever_fires_once_at_the_first_temperature_at_or_above_38_after_t0() -> None:
    obs = observations(
        temperature("a", -2, 38.7),  # before infusion: not a post-infusion fever
        temperature("a", 5, 37.9),
        temperature("a", 9, 38.0),  # crs-grading D1: 38.0 is fever
        temperature("a", 12, 39.5),
        temperature("b", 9, 37.9),
    )
    alerts = alerts_for(obs, ids=("a", "b"))
    assert fired(alerts, "first_fever") == [("a", 9.0)]
    row = alerts.filter(pl.col("rule") == "first_fever").row(0, named=True)
    assert "38" in row["values"] and "body_temperature" in row["values"]
    assert row["system"] is None and row["requires_confirmation"] is False and "D1" in row["source"]


# ------------------------------------------------------------------------------------- rapid rises
def test_ferritin_doubling_within_48h_fires_and_requires_confirmation() -> None:
    obs = observations(
        ("a", 0, "ferritin", 800.0, None),
        ("a", 40, "ferritin", 1600.0, None),  # exactly 2-fold within 48 h
        ("b", 0, "ferritin", 800.0, None),
        ("b", 40, "ferritin", 1590.0, None),  # 1.99-fold: quiet
        ("c", 0, "ferritin", 800.0, None),
        ("c", 50, "ferritin", 2000.0, None),  # reference outside the 48-h look-back: quiet
    )
    alerts = alerts_for(obs, ids=("a", "b", "c"))
    assert fired(alerts, "ferritin_doubling_48h") == [("a", 40.0)]
    row = alerts.filter(pl.col("rule") == "ferritin_doubling_48h").row(0, named=True)
    assert row["requires_confirmation"] is True
    assert CONFIRMATION_TEXT in row["warning"] and CONFIRMATION_TEXT in row["message"]
    assert "800" in row["values"] and "1600" in row["values"]


def test_no_rapid_rise_rule_for_temperature_or_crp_because_the_spec_gives_no_threshold() -> None:
    obs = observations(
        temperature("a", 1, 36.5),
        temperature("a", 2, 37.9),  # steep rise, still no fever
        ("a", 0, "crp", 5.0, None),
        ("a", 12, "crp", 190.0, None),  # 38-fold rise in 12 h (below the research-only 200 mg/L)
    )
    assert alerts_for(obs).is_empty()


# -------------------------------------------------------------------------------------------------- Hay
def test_hay_worked_example_fires_when_the_later_criterion_is_met() -> None:
    """risk §1.6 worked example: Tmax 39.2 °C at hour 20 and MCP-1 1,500 pg/mL at hour 24 → high risk."""
    obs = observations(temperature("a", 20, 39.2), ("a", 24, "mcp1", 1500.0, None))
    alerts = alerts_for(obs)
    assert fired(alerts, "hay_2017_high_risk") == [("a", 24.0)]
    row = alerts.filter(pl.col("rule") == "hay_2017_high_risk").row(0, named=True)
    assert row["requires_confirmation"] is True and CONFIRMATION_TEXT in row["warning"]
    assert "39.2" in row["values"] and "1500" in row["values"]


def test_hay_is_silent_below_38_9_regardless_of_mcp1() -> None:
    """risk §1.6: Tmax 38.6 °C → not high risk regardless of MCP-1."""
    obs = observations(temperature("a", 20, 38.6), ("a", 24, "mcp1", 5000.0, None))
    assert fired(alerts_for(obs), "hay_2017_high_risk") == []


def test_hay_is_silent_without_mcp1_even_with_an_early_high_fever() -> None:
    alerts = alerts_for(observations(temperature("a", 10, 39.6)))
    assert fired(alerts, "hay_2017_high_risk") == []
    assert fired(alerts, "first_fever") == [("a", 10.0)]


def test_hay_is_silent_when_a_criterion_falls_after_36_hours() -> None:
    obs = observations(temperature("a", 20, 39.2), ("a", 37, "mcp1", 1500.0, None))
    assert fired(alerts_for(obs), "hay_2017_high_risk") == []


# -------------------------------------------------------------------------------------- grade escalation
def test_grade_escalation_fires_at_every_rise_per_system() -> None:
    graded = grades(
        ("a", 0, "astct2019", 0),
        ("a", 1, "astct2019", 1),
        ("a", 2, "astct2019", 1),
        ("a", 3, "astct2019", 2),
        ("a", 4, "astct2019", 1),
        ("a", 5, "astct2019", 3),
        ("a", 0, "lee2014", 1),  # first assessment already >= 1
        ("a", 5, "lee2014", 1),
    )
    rows = alerts_for(graded=graded).filter(pl.col("rule") == "grade_escalation")
    assert rows.select("system", "hours_since_t0").rows() == [
        ("lee2014", 0.0),
        ("astct2019", 1.0),
        ("astct2019", 3.0),
        ("astct2019", 5.0),
    ]
    assert rows["values"].to_list()[3] == "astct2019 grade 1 → 3"
    assert rows["requires_confirmation"].to_list() == [False] * 4


def test_grade_escalation_reads_the_grades_table_with_eval_time_and_drivers() -> None:
    table = grades(("a", 0, "astct2019", 0), ("a", 2, "astct2019", 2)).rename({"time": "eval_time"})
    table = table.with_columns(drivers=pl.Series(['{"status":"ok","lower_bound":false}', '{"lower_bound":true}']))
    rows = alerts_for(graded=table).filter(pl.col("rule") == "grade_escalation")
    assert rows["hours_since_t0"].to_list() == [2.0]
    assert "lower bound" in rows["values"][0]


def test_a_steady_or_falling_grade_raises_nothing() -> None:
    graded = grades(("a", 0, "astct2019", 0), ("a", 1, "astct2019", 0), ("a", 2, "astct2019", 0))
    assert alerts_for(graded=graded).is_empty()


# ------------------------------------------------------------------------------------------------ oxygen
def test_new_oxygen_fires_at_the_first_supplemental_device_after_t0() -> None:
    given_interventions = interventions(
        ("a", "oxygen_device", "room_air", -10, 30, None, None),
        ("a", "oxygen_device", "nasal_cannula", 30, None, None, None),
    )
    alerts = alerts_for(given_interventions=given_interventions)
    assert fired(alerts, "new_oxygen_requirement") == [("a", 30.0)]
    assert "nasal_cannula" in alerts["values"][0]


def test_oxygen_already_running_before_t0_is_not_new_nor_is_a_device_change() -> None:
    given_interventions = interventions(
        ("a", "oxygen_device", "nasal_cannula", -5, None, None, None),  # open; ends at the next device (§2.4)
        ("a", "oxygen_device", "high_flow_nasal_cannula", 20, 40, None, None),
    )
    assert fired(alerts_for(given_interventions=given_interventions), "new_oxygen_requirement") == []


def test_oxygen_restarted_after_a_gap_is_a_new_requirement() -> None:
    given_interventions = interventions(
        ("a", "oxygen_device", "nasal_cannula", -5, 10, None, None),
        ("a", "oxygen_device", "simple_face_mask", 30, 40, None, None),
    )
    assert fired(alerts_for(given_interventions=given_interventions), "new_oxygen_requirement") == [("a", 30.0)]


def test_room_air_alone_is_no_oxygen_requirement() -> None:
    given_interventions = interventions(("a", "oxygen_device", "room_air", 5, None, None, None))
    obs = observations(("a", 6, "oxygen_delivery_device", None, "room_air"))
    assert alerts_for(obs, given_interventions).is_empty()


def test_new_oxygen_from_device_observations() -> None:
    obs = observations(
        ("a", -3, "oxygen_delivery_device", None, "room_air"),
        ("a", 12, "oxygen_delivery_device", None, "nasal_cannula"),
        ("a", 16, "oxygen_delivery_device", None, "nasal_cannula"),  # continuing, not new
        ("b", -3, "oxygen_delivery_device", None, "venturi_mask"),  # running before t0
        ("b", 12, "oxygen_delivery_device", None, "venturi_mask"),
    )
    alerts = alerts_for(obs, ids=("a", "b"))
    assert fired(alerts, "new_oxygen_requirement") == [("a", 12.0)]


def test_an_unknown_oxygen_device_is_an_error_naming_it() -> None:
    given_interventions = interventions(("a", "oxygen_device", "oxygen_helmet", 5, None, None, None))
    with pytest.raises(ValueError, match="oxygen_helmet"):
        alerts_for(given_interventions=given_interventions)


# ------------------------------------------------------------------------------------------- vasopressors
def test_new_vasopressor_fires_at_the_first_infusion_segment_after_t0() -> None:
    given_interventions = interventions(
        ("a", "drug_infusion_segment", "norepinephrine", 30, 34, 0.05, False),
        ("a", "drug_infusion_segment", "norepinephrine", 34, 40, 0.1, False),  # titration, same run
    )
    alerts = alerts_for(given_interventions=given_interventions)
    assert fired(alerts, "new_vasopressor_requirement") == [("a", 30.0)]
    assert "norepinephrine 0.05 ug/kg/min" in alerts["values"][0]


@pytest.mark.parametrize(
    "segment",
    [
        ("a", "drug_infusion_segment", "dobutamine", 30, 40, 5.0, False),  # an inotrope (interop §2.2)
        ("a", "drug_dose", "norepinephrine", 30, None, None, True),  # push-dose bolus is a dose
        ("a", "drug_infusion_segment", "phenylephrine", 30, 40, 1.0, True),  # flagged bolus
        ("a", "drug_infusion_segment", "norepinephrine", 30, 40, 0.0, False),  # rate 0 ends a segment
        ("a", "drug_infusion_segment", "vasopressin", -2, None, 0.03, False),  # running before t0
    ],
)
def test_no_new_vasopressor_alert(segment: Intervention) -> None:
    assert fired(alerts_for(given_interventions=interventions(segment)), "new_vasopressor_requirement") == []


# ------------------------------------------------------------------------------ irrelevant interventions
def test_premedication_and_prophylaxis_do_not_change_any_alert() -> None:
    obs = observations(
        temperature("a", 9, 38.4), ("a", 0, "ferritin", 500.0, None), ("a", 30, "ferritin", 1200.0, None)
    )
    base = interventions(("a", "oxygen_device", "nasal_cannula", 20, 30, None, None))
    extra = interventions(
        ("a", "drug_dose", "acetaminophen", -1, -1, None, False),  # premedication
        ("a", "drug_dose", "tocilizumab", -2, -1, None, False),  # prophylaxis
        ("a", "drug_dose", "dexamethasone", 10, 10, None, False),
        ("a", "drug_dose", "acetaminophen", 12, 12, None, False),
    )
    graded = grades(("a", 0, "astct2019", 0), ("a", 9, "astct2019", 1))
    assert alerts_for(obs, base, graded).equals(alerts_for(obs, pl.concat([base, extra]), graded))


# ------------------------------------------------------------------------------------------------- t0
def test_t0_from_the_product_administration_when_patients_are_not_given() -> None:
    obs = observations(temperature("a", 9, 38.4))
    given_interventions = interventions(("a", "product_administration", "tisagenlecleucel", 0, 0.5, None, None))
    with_patients = alerts_for(obs, given_interventions)
    without = course_alerts(obs, given_interventions, grades(), None)
    assert without.equals(with_patients)


def test_a_patient_without_t0_is_an_error_naming_the_patient() -> None:
    with pytest.raises(ValueError, match="zz"):
        course_alerts(observations(temperature("zz", 9, 38.4)), interventions(), grades(), patients("a"))


def test_a_missing_column_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="start_time"):
        course_alerts(observations(), interventions().drop("start_time"), grades(), patients("a"))


# --------------------------------------------------------------------------------- properties (cohorts)
@st.composite
def cohorts(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, tuple[str, ...]]:
    ids = tuple(f"p{i}" for i in range(draw(st.integers(1, 4))))
    hours = st.integers(-12, 96).map(float)
    obs: list[Obs] = []
    given: list[Intervention] = []
    graded: list[Grade] = []
    for patient in ids:
        for _ in range(draw(st.integers(0, 6))):
            obs.append(temperature(patient, draw(hours), draw(st.sampled_from([36.8, 38.0, 39.0, 39.5]))))
        for _ in range(draw(st.integers(0, 3))):
            obs.append((patient, draw(hours), "ferritin", draw(st.sampled_from([400.0, 900.0, 2500.0])), None))
        if draw(st.booleans()):
            obs.append((patient, draw(hours), "mcp1", draw(st.sampled_from([900.0, 1500.0])), None))
        for _ in range(draw(st.integers(0, 3))):
            start = draw(hours)
            duration = draw(st.none() | st.integers(1, 24))
            end = None if duration is None else start + duration
            device = draw(st.sampled_from(["room_air", "nasal_cannula", "non_rebreather_mask"]))
            given.append((patient, "oxygen_device", device, start, end, None, None))
        for _ in range(draw(st.integers(0, 2))):
            start = draw(hours)
            agent = draw(st.sampled_from(["norepinephrine", "vasopressin", "dobutamine"]))
            given.append((patient, "drug_infusion_segment", agent, start, start + 6, 0.1, False))
        for hour in range(0, 48, 6):
            graded.append((patient, float(hour), "astct2019", draw(st.integers(0, 4))))
    return observations(*obs), interventions(*given), grades(*graded), ids


@settings(max_examples=25, deadline=None)
@given(cohorts())
def test_cohort_result_equals_the_per_patient_results(
    cohort: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, tuple[str, ...]],
) -> None:
    obs, given_interventions, graded, ids = cohort
    whole = course_alerts(obs, given_interventions, graded, patients(*ids))
    one_by_one = pl.concat(
        [
            course_alerts(
                obs.filter(pl.col("patient_id") == patient),
                given_interventions.filter(pl.col("patient_id") == patient),
                graded.filter(pl.col("patient_id") == patient),
                patients(patient),
            )
            for patient in ids
        ]
    ).sort("patient_id", "time", "rule", "system", nulls_last=True)
    assert whole.equals(one_by_one)
    confirmation = whole["warning"].str.contains(CONFIRMATION_TEXT).fill_null(False)
    assert (confirmation == whole["requires_confirmation"]).all()


@settings(max_examples=25, deadline=None)
@given(cohorts(), st.integers(0, 10_000))
def test_input_row_order_is_irrelevant(
    cohort: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, tuple[str, ...]], seed: int
) -> None:
    obs, given_interventions, graded, ids = cohort

    def shuffled(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.sample(fraction=1.0, shuffle=True, seed=seed)

    expected = course_alerts(obs, given_interventions, graded, patients(*ids))
    actual = course_alerts(shuffled(obs), shuffled(given_interventions), shuffled(graded), shuffled(patients(*ids)))
    assert actual.equals(expected)


# ---------------------------------------------------------------------------- end to end (reader + engine)
def test_alerts_on_a_simulated_cohort_through_the_reader_and_the_timeline_engine(tmp_path: Path) -> None:
    """The frames the regrade path holds per batch go straight in; the result keeps the documented invariants."""
    run_simulation(SimulationSettings(product="mix", patients=6, days=10, seed=11), tmp_path)
    dataset = read_dataset(tmp_path)
    result, _ = run_batch(dataset, TimelineConfig(), ["astct2019"])
    alerts = course_alerts(dataset.observations, dataset.interventions, result.series, dataset.patients)
    assert dict(alerts.schema) == ALERT_SCHEMA
    assert (alerts["hours_since_t0"] >= 0).all()
    assert set(alerts["rule"].to_list()) <= {
        "first_fever",
        "ferritin_doubling_48h",
        "hay_2017_high_risk",
        "grade_escalation",
        "new_oxygen_requirement",
        "new_vasopressor_requirement",
    }
    assert (alerts["system"].is_not_null() == (alerts["rule"] == "grade_escalation")).all()
    confirmation = alerts["warning"].str.contains(CONFIRMATION_TEXT).fill_null(False)
    assert (confirmation == alerts["requires_confirmation"]).all()
    per_patient_first_fever = alerts.filter(pl.col("rule") == "first_fever").group_by("patient_id").len()
    assert (per_patient_first_fever["len"] == 1).all()


def test_an_empty_t0_is_an_error_naming_the_patient() -> None:
    empty_t0 = pl.DataFrame({"patient_id": ["a"], "t0": [None]}, schema={"patient_id": pl.String, "t0": UTC})
    with pytest.raises(ValueError, match="t0 is empty for patient"):
        course_alerts(observations(temperature("a", 9, 38.4)), interventions(), grades(), empty_t0)
