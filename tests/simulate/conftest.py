"""Shared simulated datasets (written once per test session into a temporary folder)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from crsguard.io.longformat import read_table
from crsguard.simulate.cohort import SimulationSettings, run_simulation

TABLES = ("patients", "observations", "interventions", "events")


def load_dataset(folder: Path, suffix: str = "parquet") -> dict[str, pl.DataFrame]:
    data = {t: read_table(folder / f"{t}.{suffix}", t) for t in TABLES}
    data["truth"] = (
        pl.read_parquet(folder / "truth.parquet")
        if suffix == "parquet"
        else pl.read_csv(folder / "truth.csv")
    )
    return data


@pytest.fixture(scope="session")
def mix_dataset(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("mix")
    run_simulation(SimulationSettings("mix", 160, 30, 5), folder)
    return load_dataset(folder)
