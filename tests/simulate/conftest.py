"""Shared simulated datasets (written once per test session into a temporary folder)."""

from __future__ import annotations

import polars as pl
import pytest

from crsguard.simulate.cohort import SimulationSettings, run_simulation
from tests.simulate.datasets import load_dataset


@pytest.fixture(scope="session")
def mix_dataset(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("mix")
    run_simulation(SimulationSettings("mix", 160, 30, 5), folder)
    return load_dataset(folder)
