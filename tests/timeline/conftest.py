"""A small simulated cohort shared by the timeline tests (written once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crsguard.simulate.cohort import SimulationSettings, run_simulation

COHORT_PATIENTS = 40


@pytest.fixture(scope="session")
def simulated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("timeline-cohort")
    run_simulation(SimulationSettings("mix", COHORT_PATIENTS, 30, 11), folder)
    return folder
