"""Neurological snapshot fields from `events` overlapping the window (interop.md §1.3, §1.5, §8.5).

Seizures, focal motor weakness and cerebral oedema arrive as events with JSON attributes; each grid row takes the
events whose interval overlaps its window (an event without end time is a point at its start). Deaths are handled
in `snapshots.death_fields` (they count from their time on, not within a window).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from crsguard.model import toxicity as tox

_ATTRIBUTES = {
    "type": pl.String,
    "status_kind": pl.String,
    "extent": pl.String,
    "duration_min": pl.Float64,
    "resolved_rapidly": pl.Boolean,
    "resolved_with_intervention": pl.Boolean,
    "responded_to_benzodiazepine": pl.Boolean,
    "return_to_baseline": pl.Boolean,
    "kind": pl.String,
    "imaging": pl.String,
    "posturing": pl.String,
    "cn6_palsy": pl.Boolean,
    "papilloedema": pl.Boolean,
    "cushing_triad": pl.Boolean,
    "papilloedema_frisen_stage": pl.Int64,
}
_NEURO_EVENTS = ("seizure", "focal_motor_weakness", "cerebral_edema")
_OEDEMA_RANK = {tox.ImagingOedema.none.value: 0, tox.ImagingOedema.focal.value: 1, tox.ImagingOedema.diffuse.value: 2}
_POSTURING_RANK = {p.value: i for i, p in enumerate(tox.Posturing)}
_US_PER_MINUTE = 60_000_000


def _parsed(events: pl.LazyFrame) -> pl.LazyFrame:
    decoded = pl.col("attributes").str.json_decode(pl.Struct(_ATTRIBUTES))
    return (
        events.filter(pl.col("event").is_in(_NEURO_EVENTS))
        .select(
            "patient_id",
            "event",
            "start_time",
            pl.coalesce("end_time", "start_time").alias("end_time"),
            decoded.alias("a"),
        )
        .unnest("a")
    )


def event_fields(grid: pl.LazyFrame, events: pl.LazyFrame, window: timedelta) -> pl.LazyFrame:
    """Per grid row with a neurological event in the window: the seizure, motor and oedema fields of §1.5."""
    hits = grid.join(_parsed(events), on="patient_id").filter(
        (pl.col("start_time") <= pl.col("time")) & (pl.col("end_time") > pl.col("time") - window)
    )
    seizure = pl.col("event") == "seizure"
    status = seizure & (pl.col("type") == "status_epilepticus")
    duration = pl.coalesce(
        pl.col("duration_min"), (pl.col("end_time") - pl.col("start_time")).dt.total_microseconds() / _US_PER_MINUTE
    )
    weakness = pl.col("event") == "focal_motor_weakness"
    oedema = pl.col("event") == "cerebral_edema"
    not_back = seizure & (pl.col("return_to_baseline") == False)  # noqa: E712 (three-valued)
    return (
        hits.group_by("patient_id", "time")
        .agg(
            (seizure & ((pl.col("type") == "clinical") | (status & (pl.col("status_kind") == "convulsive"))))
            .any()
            .alias("clinical_seizure"),
            (
                seizure
                & ((pl.col("type") == "electrographic_only") | (status & (pl.col("status_kind") == "non_convulsive")))
            )
            .any()
            .alias("eeg_nonconvulsive_seizure"),
            pl.col("status_kind").filter(status).max().alias("status_epilepticus"),
            pl.when((seizure & (pl.col("extent") == "generalised")).any())
            .then(pl.lit(tox.SeizureType.generalised.value))
            .when((seizure & (pl.col("extent") == "focal")).any())
            .then(pl.lit(tox.SeizureType.focal.value))
            .when(seizure.any())
            .then(pl.lit(tox.SeizureType.unknown.value))
            .alias("seizure_type"),
            duration.filter(seizure).max().alias("seizure_duration_max_min"),
            pl.col("resolved_rapidly").filter(seizure).any().alias("clinical_seizure_resolved_rapidly"),
            pl.col("resolved_with_intervention").filter(seizure).any().alias("eeg_seizure_resolved_with_intervention"),
            pl.col("responded_to_benzodiazepine")
            .filter(seizure)
            .any()
            .alias("eeg_seizure_responded_to_benzodiazepine"),
            (not_back.sum() >= 2).alias("seizures_repetitive_no_return_to_baseline"),
            pl.coalesce(
                pl.col("kind").filter(weakness).max(),
                pl.when(weakness.any()).then(pl.lit(tox.MotorWeakness.other_deep_focal.value)),
            ).alias("deep_focal_motor_weakness"),
            weakness.any().alias("new_motor_weakness"),
            pl.col("extent").filter(oedema).replace_strict(_OEDEMA_RANK, default=None).max().alias("__oedema_rank"),
            (oedema & pl.col("imaging").is_not_null()).any().alias("__imaged"),
            pl.col("posturing")
            .filter(oedema)
            .replace_strict(_POSTURING_RANK, default=None)
            .max()
            .alias("__posturing_rank"),
            pl.col("cn6_palsy").filter(oedema).any().alias("cn6_palsy"),
            pl.col("papilloedema").filter(oedema).any().alias("papilloedema"),
            pl.col("papilloedema_frisen_stage").filter(oedema).max().alias("papilloedema_frisen_stage"),
            pl.col("cushing_triad").filter(oedema).any().alias("cushing_triad"),
        )
        .with_columns(
            pl.when(pl.col("__imaged"))
            .then(
                pl.col("__oedema_rank").replace_strict(
                    {v: k for k, v in _OEDEMA_RANK.items()}, default=None, return_dtype=pl.String
                )
            )
            .otherwise(pl.lit(tox.ImagingOedema.not_done.value))
            .alias("imaging_oedema"),
            pl.col("__posturing_rank")
            .replace_strict({v: k for k, v in _POSTURING_RANK.items()}, default=None, return_dtype=pl.String)
            .alias("posturing"),
        )
        .drop("__oedema_rank", "__imaged", "__posturing_rank")
    )


def fill_absent(frame: pl.LazyFrame) -> pl.LazyFrame:
    """§1.5: no focal-weakness record in the window → `none` / false; no imaging record → `not_done`."""
    return frame.with_columns(
        pl.col("deep_focal_motor_weakness").fill_null(tox.MotorWeakness.none.value),
        pl.col("new_motor_weakness").fill_null(False),
        pl.col("imaging_oedema").fill_null(tox.ImagingOedema.not_done.value),
    )
