"""Snapshots on an assessment grid: one row per patient and evaluation time, columns of the grading frame.

This module joins the pieces of interop.md §1.5 (observations, infusions, oxygen, context) onto the grid. It never
fills the fields that come only with a clinician's assessment (A24: attribution, `life_threatening`, fluid
boluses, hospitalisation flags, …): they stay absent, so the grader reports them missing.
"""

from __future__ import annotations

import polars as pl

from crsguard.io.longformat import UTC_TIMESTAMP
from crsguard.io.reader import Dataset
from crsguard.model import toxicity as tox
from crsguard.timeline.config import GRID_EVERY_OBSERVATION, TimelineConfig
from crsguard.timeline.events import event_fields, fill_absent
from crsguard.timeline.icaht import icaht_counts, ticaht_counts
from crsguard.timeline.infusions import pressor_segments, vasopressor_fields
from crsguard.timeline.observations import baseline_fields, observation_fields
from crsguard.timeline.oxygen import device_intervals, oxygen_fields

DAYS_PER_YEAR = 365.2425
#: Antigens with their own `product_target` value (interop.md §1.5); any other antigen → `other`.
KNOWN_TARGETS = tuple(t.value for t in tox.ProductTarget if t is not tox.ProductTarget.other)


def data_end(dataset: Dataset) -> pl.LazyFrame:
    """Per patient: the latest charted time (observation, intervention start or end), capped by monitoring_end."""
    times = (
        pl.concat(
            [
                dataset.observations.lazy().select("patient_id", pl.col("time").alias("t")),
                dataset.interventions.lazy().select("patient_id", pl.col("start_time").alias("t")),
                dataset.interventions.lazy().select("patient_id", pl.col("end_time").alias("t")),
            ]
        )
        .group_by("patient_id")
        .agg(pl.col("t").max().alias("last_data"))
    )
    return (
        dataset.patients.lazy()
        .select("patient_id", "t0", "monitoring_end")
        .join(times, on="patient_id", how="left")
        .select(
            "patient_id",
            pl.max_horizontal("t0", pl.min_horizontal("monitoring_end", "last_data")).alias("data_end"),
        )
    )


def grid(dataset: Dataset, config: TimelineConfig, end: pl.LazyFrame) -> pl.LazyFrame:
    """Evaluation times from t0 (day 0, interop.md §0.3) to the data end: fixed step or every observation."""
    spans = dataset.patients.lazy().select("patient_id", "t0").join(end, on="patient_id")
    if config.grid == GRID_EVERY_OBSERVATION:
        times = (
            dataset.observations.lazy()
            .join(spans, on="patient_id")
            .filter((pl.col("time") >= pl.col("t0")) & (pl.col("time") <= pl.col("data_end")))
            .select("patient_id", "time")
        )
        starts = spans.select("patient_id", pl.col("t0").alias("time"))
        return pl.concat([starts, times]).unique().sort("patient_id", "time")
    step = config.grid_step
    return (
        spans.select(
            "patient_id",
            pl.datetime_ranges("t0", "data_end", interval=step, time_unit="us", time_zone="UTC").alias("time"),
        )
        .explode("time")
        .sort("patient_id", "time")
    )


def context_fields(grid_rows: pl.LazyFrame, dataset: Dataset) -> pl.LazyFrame:
    """Age, weight fallback, study day, therapy class and target (interop.md §1.5 context rows)."""
    patients = dataset.patients.lazy().select(
        "patient_id", "t0", "birth_date", "age_at_t0", "weight_kg", "product_class", "target_antigen"
    )
    age_from_birth = (pl.col("time") - pl.col("birth_date").cast(UTC_TIMESTAMP)).dt.total_seconds() / (
        86400 * DAYS_PER_YEAR
    )
    target = pl.col("target_antigen").str.to_lowercase()
    return (
        grid_rows.join(patients, on="patient_id", how="left")
        .with_columns(
            pl.coalesce(age_from_birth, pl.col("age_at_t0").cast(pl.Float64)).alias("age_years"),
            (pl.col("time").dt.date() - pl.col("t0").dt.date()).dt.total_days().cast(pl.Int64).alias("study_day"),
            pl.col("product_class").alias("therapy_class"),
            pl.when(target.is_in(KNOWN_TARGETS))
            .then(target)
            .when(target.is_not_null())
            .then(pl.lit("other"))
            .alias("product_target"),
            pl.col("weight_kg").alias("__weight_baseline"),
        )
        .drop("birth_date", "age_at_t0", "weight_kg", "product_class", "target_antigen")
    )


def death_fields(grid_rows: pl.LazyFrame, events: pl.DataFrame) -> pl.LazyFrame:
    """`death_from_crs` etc. from a death event with its clinician's `cause_attribution` (interop.md §1.5)."""
    deaths = (
        events.lazy()
        .filter(pl.col("event") == "death")
        .select(
            "patient_id",
            pl.col("start_time").alias("death_time"),
            pl.col("attributes").str.json_path_match("$.cause_attribution").alias("cause"),
        )
        .group_by("patient_id")
        .agg(pl.col("death_time").min(), pl.col("cause").first())
    )
    dead = pl.col("death_time") <= pl.col("time")
    return (
        grid_rows.join(deaths, on="patient_id", how="left")
        .with_columns(
            pl.when(dead).then(pl.col("cause") == "crs").alias("death_from_crs"),
            pl.when(dead).then(pl.col("cause") == "icans").alias("death_due_to_icans"),
            pl.when(dead).then(pl.col("cause") == "icans").alias("death_due_to_cres"),
            pl.when(dead).then(pl.col("cause") == "iec_hs").alias("death_due_to_iec_hs"),
        )
        .drop("death_time", "cause")
    )


def snapshots(dataset: Dataset, config: TimelineConfig) -> pl.DataFrame:
    """Snapshot frame (without `fever_masked`, see `masking`) for every patient of the dataset.

    ICAHT and T-ICAHT day counts (`icaht`, other-toxicities.md §5.3, §5.4) are computed at the last evaluation of
    each study day; every evaluation carries those of the latest such evaluation at or before it (on a sub-daily
    grid, the earlier evaluations of a day carry the previous day's counts, which never use later data)."""
    end = data_end(dataset)
    rows = grid(dataset, config, end).collect().lazy()
    observations = dataset.observations.lazy()
    frame = observation_fields(rows.collect(), dataset.observations, config)
    frame = context_fields(frame, dataset)
    frame = death_fields(frame, dataset.events).join(
        baseline_fields(dataset.patients.lazy(), observations), on="patient_id", how="left"
    )
    segments = pressor_segments(dataset.interventions.lazy(), end)
    pressors = vasopressor_fields(rows, segments, config.window)
    oxygen = oxygen_fields(rows, device_intervals(dataset.interventions.lazy(), end), observations, config.window)
    neuro = event_fields(rows, dataset.events.lazy(), config.window)
    frame = (
        frame.join(pressors, on=["patient_id", "time"], how="left")
        .join(oxygen, on=["patient_id", "time"], how="left")
        .join(neuro, on=["patient_id", "time"], how="left")
        .pipe(fill_absent)
    )
    pressor_columns = [c for c in pressors.collect_schema().names() if c not in ("patient_id", "time")]
    fills = []
    if config.absent_infusion_means_none:
        fills += [pl.col(c).fill_null(0.0) for c in pressor_columns]
    if config.absent_device_means_room_air:
        fills.append(pl.col("o2_device").fill_null("none"))
    weight = pl.coalesce("__weight_observed", "__weight_baseline").alias("weight_kg")
    collected = frame.with_columns(*fills, weight).drop("__weight_observed", "__weight_baseline").collect()
    frame_sorted = collected.sort("time")
    for counts in (icaht_counts(collected, dataset, end), ticaht_counts(collected, dataset, end)):
        frame_sorted = frame_sorted.join_asof(
            counts.rename({"time": "__counted_time"}).sort("__counted_time").collect(),
            left_on="time",
            right_on="__counted_time",
            by="patient_id",
            strategy="backward",
            check_sortedness=False,
        ).drop("__counted_time")
    return frame_sorted.sort("patient_id", "time")
