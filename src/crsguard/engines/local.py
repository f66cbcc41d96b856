"""Local engine: stream a dataset directory through the kernel in batches of whole patients.

Memory is bounded by the batch (`DEFAULT_BATCH_PATIENTS`), not the cohort: each batch is read from the files with a
patient filter (Parquet predicate pushdown), validated, put through the kernel and written out before the next one.
Rows whose patient has no `patients` row are found with one lazy anti-join per table and quarantined
(PATIENT_UNKNOWN, interop.md §8.7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from crsguard.engines.kernel import BatchResult, run_batch
from crsguard.io.reader import Dataset, ReadOptions, scan_raw, validate_tables
from crsguard.timeline.config import TimelineConfig

DEFAULT_BATCH_PATIENTS = 30
CHILD_TABLES = ("observations", "interventions", "events")


@dataclass
class RunSummary:
    """What a run did: patients, rows read, systems graded, quarantine counts."""

    patients: int = 0
    observations: int = 0
    systems: list[str] = field(default_factory=list)
    quarantined: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


def _raw_batch(input_dir: Path, ids: pl.Series, patients_raw: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The rows of a batch of patients. `ids` are a contiguous run of the sorted ids, so the range predicate (which
    Parquet row-group statistics can prune on, unlike `is_in`) keeps the read independent of the file size."""
    member = pl.col("patient_id").is_in(ids.implode())
    in_range = pl.col("patient_id").is_between(pl.lit(ids.min()), pl.lit(ids.max()))
    raw = {"patients": patients_raw.filter(member)}
    for table in CHILD_TABLES:
        raw[table] = scan_raw(input_dir, table).filter(in_range).filter(member).collect()
    return raw


def unknown_patient_rows(input_dir: Path, known: pl.Series, options: ReadOptions) -> Dataset:
    """Rows of the child tables whose patient_id has no valid patients row (quarantined as PATIENT_UNKNOWN)."""
    raw = {"patients": pl.DataFrame()}
    for table in CHILD_TABLES:
        raw[table] = (
            scan_raw(input_dir, table)
            .filter(pl.col("patient_id").is_null() | ~pl.col("patient_id").is_in(known.implode()))
            .collect()
        )
    raw["patients"] = scan_raw(input_dir, "patients").head(0).collect()
    return validate_tables(raw, options, patient_ids=known)


def batches(
    input_dir: Path, options: ReadOptions, batch_patients: int = DEFAULT_BATCH_PATIENTS
) -> Iterator[tuple[Dataset, int]]:
    """Validated batches of whole patients (and, first, the rows that belong to no known patient)."""
    patients_raw = scan_raw(input_dir, "patients").collect()
    checked = validate_tables({"patients": patients_raw, **{t: pl.DataFrame() for t in CHILD_TABLES}}, options)
    known = checked.patients["patient_id"].sort()
    orphans = unknown_patient_rows(input_dir, known, options)
    orphans.quarantine = pl.concat([checked.quarantine, orphans.quarantine], how="diagonal_relaxed")
    yield orphans, 0
    for start in range(0, known.len(), batch_patients):
        ids = known.slice(start, batch_patients)
        dataset = validate_tables(_raw_batch(input_dir, ids, patients_raw), options, patient_ids=ids)
        dataset.quarantine = dataset.quarantine.filter(pl.col("table") != "patients")
        yield dataset, ids.len()


def run(
    input_dir: Path,
    config: TimelineConfig,
    systems: Sequence[str] | str,
    on_batch: Callable[[Dataset, BatchResult | None, list[str], int], None],
    *,
    options: ReadOptions | None = None,
    batch_patients: int = DEFAULT_BATCH_PATIENTS,
    detail: bool = False,
) -> RunSummary:
    """Stream the dataset through the kernel; `on_batch(dataset, result, systems, patients_in_batch)` consumes it."""
    options = options or ReadOptions()
    summary = RunSummary()
    for dataset, count in batches(input_dir, options, batch_patients):
        summary.quarantined += dataset.quarantine.height
        for key, value in dataset.dropped.items():
            summary.dropped[key] = summary.dropped.get(key, 0) + value
        if count == 0 or dataset.patients.is_empty():
            on_batch(dataset, None, summary.systems, count)
            continue
        result, chosen = run_batch(dataset, config, systems, detail=detail)
        summary.systems = summary.systems or chosen
        summary.patients += dataset.patients.height
        summary.observations += dataset.observations.height
        on_batch(dataset, result, chosen, count)
    return summary
