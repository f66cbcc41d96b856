"""Invariants of the whole path: input order, duplicates and units never change the output (issue 5 item 7)."""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crsguard.engines.kernel import run_batch
from crsguard.io.reader import validate_tables
from crsguard.timeline.config import TimelineConfig
from tests.timeline.builders import device, dose, infusion, observation, raw_tables, vitals

CONFIG = TimelineConfig()


def course_observations(fahrenheit: bool = False, flow_ml: bool = False) -> list[dict[str, Any]]:
    rows = vitals(range(0, 10)) + vitals(range(13, 60))
    for hour in (10, 11, 12):
        rows.append(
            observation(hour, "body_temperature", 101.3 if fahrenheit else 38.5, "[degF]" if fahrenheit else "Cel")
        )
        rows.append(observation(hour, "systolic_bp", 85.0, "mm[Hg]"))
    for hour in range(14, 30):
        rows.append(
            observation(
                hour, "oxygen_flow_rate", 3000.0 if flow_ml else 3.0, "mL/min" if flow_ml else "L/min", link="O"
            )
        )
    return rows


INTERVENTIONS = [
    dose("T", "tocilizumab", 12.5, 560),
    infusion("N", "norepinephrine", 13, 40, 0.05),
    device("O", "nasal_cannula", 14, 30),
]


def outputs(raw: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    result, _ = run_batch(validate_tables(raw), CONFIG, "all")
    return result.graded, result.episodes, result.summary


BASELINE = outputs(raw_tables(course_observations(), INTERVENTIONS))


@settings(max_examples=5, deadline=None)
@given(st.randoms(use_true_random=False))
def test_shuffled_input_gives_identical_output(rng: Any) -> None:
    rows = course_observations()
    rng.shuffle(rows)
    interventions = list(INTERVENTIONS)
    rng.shuffle(interventions)
    for got, expected in zip(outputs(raw_tables(rows, interventions)), BASELINE, strict=True):
        assert got.equals(expected)


def test_duplicated_input_gives_identical_output() -> None:
    rows = course_observations()
    for got, expected in zip(outputs(raw_tables(rows + rows, INTERVENTIONS + INTERVENTIONS)), BASELINE, strict=True):
        assert got.equals(expected)


def test_unit_changes_give_identical_output() -> None:
    """°F (rounded to 2 decimals, §1.5) and mL/min flows convert to the same snapshot values."""
    changed = outputs(raw_tables(course_observations(fahrenheit=True, flow_ml=True), INTERVENTIONS))
    for got, expected in zip(changed, BASELINE, strict=True):
        assert got.equals(expected)


def test_the_course_is_not_trivial() -> None:
    """The invariants above compare a course that reaches grade 3 under ASTCT (masked fever, pressor)."""
    assert BASELINE[0]["astct2019_grade"].max() == 3
