"""On a simulated cohort without charting errors, the derived astct2019 maximum grade agrees with the truth."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crsguard.engines.local import run
from crsguard.timeline.config import TimelineConfig
from crsguard.timeline.course import weighted_kappa
from tests.timeline.conftest import COHORT_PATIENTS

MIN_AGREEMENT = 0.95


def test_astct_max_grade_agrees_with_simulator_truth(simulated_dir: Path) -> None:
    summaries: list[pl.DataFrame] = []
    run(simulated_dir, TimelineConfig(), ["astct2019"], lambda d, r, s, n: summaries.append(r.summary) if r else None)
    derived = pl.concat(summaries)
    truth = (
        pl.read_parquet(simulated_dir / "truth.parquet")
        .group_by("patient_id")
        .agg(pl.col("crs_grade").max().cast(pl.Int32).alias("truth"))
    )
    joined = derived.join(truth, on="patient_id")
    assert joined.height == COHORT_PATIENTS
    agreement = (joined["max_grade"] == joined["truth"]).mean()
    assert agreement is not None and agreement >= MIN_AGREEMENT
    kappa = weighted_kappa(joined["max_grade"], joined["truth"])
    assert kappa is not None and kappa >= 0.9
    assert joined["truth"].max() >= 2  # the cohort has real CRS to agree on


def _summaries(directory: Path, batch_patients: int) -> pl.DataFrame:
    parts: list[pl.DataFrame] = []
    run(
        directory,
        TimelineConfig(),
        "all",
        lambda d, r, s, n: parts.append(r.summary) if r else None,
        batch_patients=batch_patients,
    )
    return pl.concat(parts).sort("patient_id", "system")


def test_results_do_not_depend_on_the_batch_size(simulated_dir: Path) -> None:
    """The kernel sees whole patients, so cutting the cohort into other batches changes nothing (engines)."""
    assert _summaries(simulated_dir, 7).equals(_summaries(simulated_dir, 40))
