"""On a simulated cohort without charting errors, the derived astct2019 maximum grade agrees with the truth."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crsguard.engines.local import run
from crsguard.simulate.cohort import SimulationSettings, run_simulation
from crsguard.timeline.config import TimelineConfig
from crsguard.timeline.course import weighted_kappa

MIN_AGREEMENT = 0.95


def test_astct_max_grade_agrees_with_simulator_truth(tmp_path: Path) -> None:
    run_simulation(SimulationSettings("mix", 40, 30, 11), tmp_path)
    summaries: list[pl.DataFrame] = []
    run(tmp_path, TimelineConfig(), ["astct2019"], lambda d, r, s, n: summaries.append(r.summary) if r else None)
    derived = pl.concat(summaries)
    truth = (
        pl.read_parquet(tmp_path / "truth.parquet")
        .group_by("patient_id")
        .agg(pl.col("crs_grade").max().cast(pl.Int32).alias("truth"))
    )
    joined = derived.join(truth, on="patient_id")
    assert joined.height == 40
    agreement = (joined["max_grade"] == joined["truth"]).mean()
    assert agreement is not None and agreement >= MIN_AGREEMENT
    kappa = weighted_kappa(joined["max_grade"], joined["truth"])
    assert kappa is not None and kappa >= 0.9
    assert joined["truth"].max() >= 2  # the cohort has real CRS to agree on
