"""The timeline + grading kernel: one batch of patients (validated long-format frames) → result tables.

A batch holds whole patients, so the kernel needs nothing outside it; the local engine streams batches through it
and a distributed engine can apply it per patient group unchanged (Arrow/Polars in, Polars out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from crsguard.grading import registry
from crsguard.grading.api import grade_frame
from crsguard.io.reader import Dataset
from crsguard.timeline import course
from crsguard.timeline.config import TimelineConfig
from crsguard.timeline.masking import crs_status, fever_masked, masking_times
from crsguard.timeline.snapshots import snapshots

#: Systems graded under `--systems all` besides every CRS system, with the snapshot inputs that make them worth
#: running (ICANS: an ICE score or consciousness; IEC-HS: ferritin, with `crs_status` from the CRS course).
OPTIONAL_SYSTEMS: dict[str, tuple[str, ...]] = {
    "astct2019_icans": ("ice_total", "ice_status", "loc"),
    "cartox10": ("ice_total", "ice_status", "loc"),
    "iechs2023": ("ferritin",),
}


@dataclass
class BatchResult:
    """Result tables of one batch (the §8.6 grade series in long form, episodes, daily maxima, summaries)."""

    snapshots: pl.DataFrame
    series: pl.DataFrame
    episodes: pl.DataFrame
    daily: pl.DataFrame
    summary: pl.DataFrame
    graded: pl.DataFrame


def resolve_systems(requested: Sequence[str] | str, frame: pl.DataFrame | None = None) -> list[str]:
    """`all` → every CRS system, plus the `OPTIONAL_SYSTEMS` whose inputs are present; else the ids given."""
    if requested == "all" or list(requested) == ["all"]:
        chosen = [s.id for s in registry.by_toxicity("crs")]

        def present(column: str) -> bool:
            return frame is None or (column in frame.columns and frame[column].null_count() < frame.height)

        return chosen + [system for system, inputs in OPTIONAL_SYSTEMS.items() if any(map(present, inputs))]
    return [registry.get(s).id for s in requested]


def with_course_inputs(frame: pl.DataFrame, dataset: Dataset, config: TimelineConfig) -> pl.DataFrame:
    """Add `fever_masked` and `crs_status` (interop.md §1.5) from two gradings of the primary system.

    The primary system is graded once without and once with the mask (one `grade_frame` call on both copies);
    masking then picks, row by row, which of the two grades applies, and `crs_status` follows that series.
    """
    primary = config.primary_system
    both = pl.concat([frame.with_columns(pl.lit(flag).alias("fever_masked")) for flag in (False, True)])
    graded = grade_frame(both, [primary])[f"{primary}_grade"]
    half = frame.height
    helper = frame.select("patient_id", "time", "fever_onset_time").with_columns(
        graded.slice(0, half).alias("__grade"), graded.slice(half, half).alias("__masked_grade")
    )
    if config.fever_masking:
        masked = fever_masked(helper, masking_times(dataset.interventions), config.episode_gap)
    else:
        masked = pl.Series("fever_masked", [None] * half, dtype=pl.Boolean)
    primary_grade = pl.when(masked.fill_null(False)).then(pl.col("__masked_grade")).otherwise(pl.col("__grade"))
    status = crs_status(helper.with_columns(masked, primary_grade.alias("__primary")), config.episode_gap)
    return frame.with_columns(masked, status)


def grades_table(
    graded: pl.DataFrame, systems: Sequence[str], episodes: pl.DataFrame, patients: pl.DataFrame, detail: bool
) -> pl.DataFrame:
    """The `grades` output of interop.md §8.6 (long: one row per evaluation time and system)."""
    parts = []
    for system in systems:
        info = {"status": pl.col(f"{system}_status"), "lower_bound": pl.col(f"{system}_lower_bound")}
        if detail:
            info |= {
                "drivers": pl.col(f"{system}_drivers"),
                "missing": pl.col(f"{system}_missing"),
                "warnings": pl.col(f"{system}_warnings"),
            }
        parts.append(
            graded.select(
                "patient_id",
                pl.col("time").alias("eval_time"),
                pl.lit(course.syndrome(registry.get(system).toxicity)).alias("syndrome"),
                pl.lit(system).alias("system"),
                pl.col(f"{system}_grade").cast(pl.Int32).alias("grade"),
                pl.struct(*(expr.alias(name) for name, expr in info.items())).struct.json_encode().alias("drivers"),
            )
        )
    long = pl.concat(parts)
    spans = episodes.select("patient_id", "system", "episode_id", "onset_time", "last_active_time")
    tagged = long.join(spans, on=["patient_id", "system"], how="left").filter(
        pl.col("eval_time").is_between(pl.col("onset_time"), pl.col("last_active_time"))
    )
    long = long.join(
        tagged.select("patient_id", "system", "eval_time", "episode_id"),
        on=["patient_id", "system", "eval_time"],
        how="left",
    )
    return (
        long.join(patients.select("patient_id", "course_id"), on="patient_id", how="left")
        .with_columns(pl.lit("computed").alias("grade_status"))
        .sort("patient_id", "system", "eval_time")
    )


def run_batch(
    dataset: Dataset, config: TimelineConfig, systems: Sequence[str] | str = "all", detail: bool = False
) -> tuple[BatchResult, list[str]]:
    """Snapshots → `grade_frame` → series, episodes, daily maxima and patient summaries for one batch."""
    frame = with_course_inputs(snapshots(dataset, config), dataset, config)
    chosen = resolve_systems(systems, frame)
    graded = grade_frame(frame, chosen, detail=detail)
    series = course.grade_series(graded, chosen)
    episode_table = course.episodes(series, config.episode_gap)
    result = BatchResult(
        snapshots=frame,
        series=series,
        episodes=episode_table,
        daily=course.daily_max(series, dataset.patients),
        summary=course.patient_summary(series, episode_table, dataset.patients, dataset.interventions),
        graded=graded,
    )
    return result, chosen
