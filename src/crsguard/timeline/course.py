"""The graded course: grade series → episodes, daily maximum grades, patient summaries, cohort concordance.

Episodes follow crs-grading.md A18 (configurable gap, default 24 h at grade 0 ends an episode; interop.md §0.3).
Per system, an episode starts at the first evaluation with grade ≥ 1, peaks at its highest grade (first time it is
reached) and lasts until its last evaluation with grade ≥ 1; it is `resolved` when the data go on for the whole gap
after it (otherwise it is still open at the end of the data, `resolved` = false).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import polars as pl

from crsguard.timeline.masking import MASKING_DRUGS, episode_ids

#: §8.6 `syndrome` for a registry toxicity; CTCAE single terms are `ctcae_term`.
SYNDROME_OF_TOXICITY = {"crs": "crs", "icans": "icans", "iechs": "iec_hs", "icaht": "icaht"}
_US_PER_HOUR = 3_600_000_000


#: Over a span of evaluations, the maximum grade is a lower bound when some evaluation could reach above it
#: with the absent inputs at their worst (a lower bound at a lower grade does not make the maximum uncertain).
MAX_IS_LOWER_BOUND = pl.col("grade_upper").max() > pl.col("grade").max()


def syndrome(toxicity: str) -> str:
    return SYNDROME_OF_TOXICITY.get(toxicity, "ctcae_term")


def grade_series(graded: pl.DataFrame, systems: Sequence[str]) -> pl.DataFrame:
    """Long grade series: patient_id, time, system, grade, grade_upper, lower_bound, status (one row per evaluation
    and system)."""
    parts = [
        graded.select(
            "patient_id",
            "time",
            pl.lit(system).alias("system"),
            pl.col(f"{system}_grade").cast(pl.Int32).alias("grade"),
            pl.col(f"{system}_grade_upper").cast(pl.Int32).alias("grade_upper"),
            pl.col(f"{system}_lower_bound").alias("lower_bound"),
            pl.col(f"{system}_status").alias("status"),
        )
        for system in systems
    ]
    return pl.concat(parts).sort("patient_id", "system", "time")


def episodes(series: pl.DataFrame, gap: timedelta) -> pl.DataFrame:
    """Episodes per patient and system (A18): onset, peak grade and time, last active time, duration, resolved."""
    active = pl.col("grade") > 0
    numbered = series.sort("patient_id", "system", "time").with_columns(
        episode_ids(active, gap).over("patient_id", "system").alias("episode"),
        pl.col("time").max().over("patient_id").alias("__data_end"),
    )
    rows = numbered.filter(pl.col("episode").is_not_null())
    return (
        rows.group_by("patient_id", "system", "episode")
        .agg(
            pl.col("time").min().alias("onset_time"),
            pl.col("grade").max().alias("peak_grade"),
            pl.col("time").filter(pl.col("grade") == pl.col("grade").max()).min().alias("peak_time"),
            pl.col("time").max().alias("last_active_time"),
            MAX_IS_LOWER_BOUND.alias("peak_is_lower_bound"),
            pl.col("__data_end").first().alias("__data_end"),
        )
        .with_columns(
            (_hours(pl.col("last_active_time") - pl.col("onset_time"))).alias("duration_h"),
            ((pl.col("__data_end") - pl.col("last_active_time")) >= gap).alias("resolved"),
            pl.format("{}-{}", pl.col("system"), pl.col("episode")).alias("episode_id"),
        )
        .drop("__data_end")
        .sort("patient_id", "system", "episode")
    )


def _hours(delta: pl.Expr) -> pl.Expr:
    return delta.dt.total_microseconds() / _US_PER_HOUR


def daily_max(series: pl.DataFrame, patients: pl.DataFrame) -> pl.DataFrame:
    """Maximum grade per patient, system and day (day 0 = the calendar day of t0, UTC; interop.md §0.3)."""
    day = (pl.col("time").dt.date() - pl.col("t0").dt.date()).dt.total_days().cast(pl.Int32)
    return (
        series.join(patients.select("patient_id", "t0"), on="patient_id")
        .group_by("patient_id", "system", day.alias("day"))
        .agg(
            pl.col("grade").max().alias("max_grade"),
            MAX_IS_LOWER_BOUND.alias("max_is_lower_bound"),
        )
        .sort("patient_id", "system", "day")
    )


def treatments(interventions: pl.DataFrame) -> pl.DataFrame:
    """Per patient: the toxicity-management drugs and vasopressors received, and whether a vasopressor ran."""
    given = interventions.filter(pl.col("kind").is_in(["drug_dose", "drug_infusion_segment"]))
    return given.group_by("patient_id").agg(
        pl.col("agent").filter(pl.col("agent").is_in(MASKING_DRUGS)).unique().sort().alias("treatments"),
        pl.col("agent").filter(pl.col("kind") == "drug_infusion_segment").unique().sort().alias("vasopressors"),
        (pl.col("agent") == "tocilizumab").any().alias("tocilizumab_given"),
    )


def patient_summary(
    series: pl.DataFrame, episode_table: pl.DataFrame, patients: pl.DataFrame, interventions: pl.DataFrame
) -> pl.DataFrame:
    """Per patient and system: max grade, day of onset, total episode hours, episodes, treatments received."""
    maxima = series.group_by("patient_id", "system").agg(
        pl.col("grade").max().alias("max_grade"),
        MAX_IS_LOWER_BOUND.alias("max_is_lower_bound"),
    )
    first = episode_table.group_by("patient_id", "system").agg(
        pl.col("onset_time").min().alias("onset_time"),
        pl.col("duration_h").sum().alias("duration_h"),
        pl.len().cast(pl.Int32).alias("episodes"),
    )
    context = patients.select("patient_id", "course_id", "product", "product_class", "t0")
    onset_day = (pl.col("onset_time").dt.date() - pl.col("t0").dt.date()).dt.total_days().cast(pl.Int32)
    return (
        maxima.join(first, on=["patient_id", "system"], how="left")
        .join(context, on="patient_id", how="left")
        .join(treatments(interventions), on="patient_id", how="left")
        .with_columns(onset_day.alias("onset_day"), pl.col("episodes").fill_null(0))
        .select(
            "patient_id",
            "course_id",
            "product",
            "product_class",
            "system",
            "max_grade",
            "max_is_lower_bound",
            "onset_day",
            "onset_time",
            "duration_h",
            "episodes",
            "treatments",
            "vasopressors",
            "tocilizumab_given",
        )
        .sort("patient_id", "system")
    )


def weighted_kappa(a: pl.Series, b: pl.Series, categories: int = 6) -> float | None:
    """Cohen's kappa with linear weights for two ordinal gradings of the same patients (grades 0–5)."""
    n = a.len()
    if n == 0:
        return None
    pairs = pl.DataFrame({"a": a, "b": b})
    observed = pairs.group_by("a", "b").len()
    weights = (pl.col("a") - pl.col("b")).abs() / (categories - 1)
    observed_disagreement = observed.select((weights * pl.col("len")).sum()).item() / n
    margin_a = pairs.group_by("a").len().rename({"len": "na"})
    margin_b = pairs.group_by("b").len().rename({"len": "nb"})
    expected = margin_a.join(margin_b, how="cross").select((weights * pl.col("na") * pl.col("nb")).sum()).item() / (
        n * n
    )
    if expected == 0:
        return 1.0
    return float(1.0 - observed_disagreement / expected)


def concordance(summary: pl.DataFrame, reference: str) -> pl.DataFrame:
    """Cohort concordance of each system's max grade with the reference system's: % same grade, weighted kappa,
    and the cross-tabulation as counts (one row per reference grade × other grade)."""
    wide = summary.pivot(on="system", index="patient_id", values="max_grade")
    rows = []
    for system in [c for c in wide.columns if c not in ("patient_id", reference)]:
        pair = wide.select(pl.col(reference).alias("a"), pl.col(system).alias("b")).drop_nulls()
        same = pair.filter(pl.col("a") == pl.col("b")).height
        kappa = weighted_kappa(pair["a"], pair["b"])
        table = pair.group_by("a", "b").len()
        for a, b, count in table.iter_rows():
            rows.append(
                {
                    "reference": reference,
                    "system": system,
                    "reference_grade": a,
                    "system_grade": b,
                    "patients": count,
                    "patients_compared": pair.height,
                    "percent_same_grade": 100.0 * same / pair.height if pair.height else None,
                    "weighted_kappa": kappa,
                }
            )
    schema = {
        "reference": pl.String,
        "system": pl.String,
        "reference_grade": pl.Int32,
        "system_grade": pl.Int32,
        "patients": pl.Int64,
        "patients_compared": pl.Int64,
        "percent_same_grade": pl.Float64,
        "weighted_kappa": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row").sort("system", "reference_grade", "system_grade")
