"""The charted observations make the latent grade observable: a correct ASTCT grader recovers it.

The reference grader (reference_astct.py) is written in the test from crs-grading.md §3.1, not imported from
crsguard.grading, so a grader error can neither hide in the truth nor in this check.
"""

from __future__ import annotations

import polars as pl

from crsguard.model.vocabulary import check_plausible
from tests.simulate.reference_astct import hourly_grades, patient_max_icans

HORIZON_H = 30 * 24


def _compared(data: dict[str, pl.DataFrame]) -> pl.DataFrame:
    graded = hourly_grades(data, HORIZON_H)
    truth = data["truth"].select("patient_id", pl.col("hours_from_t0").cast(pl.Int64).alias("hour"), "crs_grade")
    return truth.join(graded, on=["patient_id", "hour"], how="left").with_columns(pl.col("grade").fill_null(0))


def test_grader_recovers_patient_maximum_grade_in_95_percent(mix_dataset: dict[str, pl.DataFrame]) -> None:
    per_patient = (
        _compared(mix_dataset)
        .group_by("patient_id")
        .agg(pl.col("crs_grade").max().alias("truth"), pl.col("grade").max().alias("observed"))
    )
    agreement = (per_patient["truth"] == per_patient["observed"]).mean()
    assert agreement is not None and agreement >= 0.95
    assert per_patient["truth"].max() is not None and per_patient.filter(pl.col("truth") >= 3).height > 0


def test_hourly_grades_agree_except_for_missed_readings(mix_dataset: dict[str, pl.DataFrame]) -> None:
    compared = _compared(mix_dataset)
    agreement = (compared["crs_grade"] == compared["grade"]).mean()
    assert agreement is not None and agreement >= 0.98
    # a missed reading can hide a finding for an hour, but charting never invents one
    assert compared.filter(pl.col("grade") > pl.col("crs_grade")).height == 0


def test_every_charted_value_is_plausible_without_charting_errors(
    mix_dataset: dict[str, pl.DataFrame],
) -> None:
    numeric = mix_dataset["observations"].filter(pl.col("value").is_not_null())
    for quantity, value in numeric.select("quantity", "value").unique().iter_rows():
        check_plausible(quantity, value)


def test_grade_4_hypotension_uses_two_non_vasopressin_agents(mix_dataset: dict[str, pl.DataFrame]) -> None:
    truth = mix_dataset["truth"].filter(pl.col("hypotension_level") == 3)
    if truth.height == 0:
        return
    pressors = mix_dataset["interventions"].filter(
        (pl.col("kind") == "drug_infusion_segment") & (pl.col("agent") != "vasopressin")
    )
    patients = truth["patient_id"].unique()
    counts = (
        pressors.filter(pl.col("patient_id").is_in(patients.implode()))
        .group_by("patient_id")
        .agg(pl.col("agent").n_unique())
    )
    assert (counts["agent"] >= 2).all()


def test_vasopressor_rates_are_in_canonical_units_with_weight(mix_dataset: dict[str, pl.DataFrame]) -> None:
    segments = mix_dataset["interventions"].filter(pl.col("kind") == "drug_infusion_segment")
    assert segments.height > 0
    vasopressin = segments.filter(pl.col("agent") == "vasopressin")
    others = segments.filter(pl.col("agent") != "vasopressin")
    assert set(vasopressin["rate_unit"].to_list()) <= {"U/min"}
    assert set(others["rate_unit"].to_list()) == {"ug/kg/min"}
    assert others["dosing_weight_kg"].null_count() == 0
    assert (others["rate_value"] > 0).all()


def test_icans_grade_is_observable_from_ice_consciousness_and_events(
    mix_dataset: dict[str, pl.DataFrame],
) -> None:
    observed = patient_max_icans(mix_dataset)
    truth = mix_dataset["truth"].group_by("patient_id").agg(pl.col("icans_grade").max().alias("truth"))
    compared = truth.join(observed, on="patient_id", how="left").with_columns(pl.col("icans").fill_null(0))
    agreement = (compared["truth"] == compared["icans"]).mean()
    assert agreement is not None and agreement >= 0.95
    assert compared.filter(pl.col("truth") >= 1).height > 0
