"""Hand-built timelines with known courses (issue 5 item 7), graded through the whole path."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from crsguard.engines.kernel import BatchResult, run_batch
from crsguard.io.reader import validate_tables
from crsguard.timeline.config import TimelineConfig
from tests.timeline.builders import at, device, dose, infusion, observation, raw_tables, vitals

CONFIG = TimelineConfig()


def graded(
    observations: list[dict[str, Any]],
    interventions: list[dict[str, Any]] | None = None,
    systems: list[str] | None = None,
) -> BatchResult:
    dataset = validate_tables(raw_tables(observations, interventions))
    result, _ = run_batch(dataset, CONFIG, systems or ["astct2019"])
    return result


def grade_at(result: BatchResult, hours: float, system: str = "astct2019") -> int:
    row = result.graded.filter(pl.col("time") == at(hours))
    return int(row[f"{system}_grade"].item())


def fever_episode() -> list[dict[str, Any]]:
    """Fever 38.6 °C at hours 10-12, afebrile (37.0) every hour before and after, normal SBP."""
    return vitals(range(0, 10)) + vitals(range(10, 13), temperature_c=38.6) + vitals(range(13, 100))


def test_fever_masked_after_tocilizumab_with_pressor_still_running() -> None:
    """A2: tocilizumab after onset masks the fever; norepinephrine running 60 h later still gives grade 3."""
    result = graded(
        fever_episode(), [dose("T", "tocilizumab", 12.5, 560), infusion("N", "norepinephrine", 12, 80, 0.05)]
    )
    assert grade_at(result, 60) == 3
    assert result.graded.filter(pl.col("time") == at(60))["fever_masked"].item() is True


def test_premedication_before_onset_never_masks() -> None:
    """A2: acetaminophen before the fever began does not mask: without fever the pressor gives no ASTCT grade."""
    result = graded(
        fever_episode(), [dose("A", "acetaminophen", 5, 1000), infusion("N", "norepinephrine", 12, 80, 0.05)]
    )
    assert grade_at(result, 60) == 0
    assert grade_at(result, 14) == 3


def test_two_pressors_overlapping_briefly_are_multiple() -> None:
    """Norepinephrine and phenylephrine overlapping for one hour: multiple vasopressors (grade 4) in that window."""
    obs = vitals(range(0, 40), temperature_c=38.5)
    result = graded(obs, [infusion("N", "norepinephrine", 10, 20, 0.05), infusion("P", "phenylephrine", 19, 30, 0.5)])
    assert grade_at(result, 20) == 4


def test_switch_between_pressors_is_one_vasopressor() -> None:
    """Norepinephrine stopped when phenylephrine starts (no overlap): one vasopressor at a time, grade 3."""
    obs = vitals(range(0, 40), temperature_c=38.5)
    result = graded(obs, [infusion("N", "norepinephrine", 10, 20, 0.05), infusion("P", "phenylephrine", 20, 30, 0.5)])
    assert result.graded["astct2019_grade"].max() == 3


def test_vasopressin_with_norepinephrine_is_grade_3() -> None:
    """ASTCT: one vasopressor with or without vasopressin is grade 3 (vasopressin never counts as multiple)."""
    obs = vitals(range(0, 40), temperature_c=38.5)
    result = graded(
        obs, [infusion("N", "norepinephrine", 10, 30, 0.05), infusion("V", "vasopressin", 10, 30, 0.03, unit="U/min")]
    )
    assert result.graded["astct2019_grade"].max() == 3
    assert result.graded.filter(pl.col("time") == at(20))["vasopressin_hours"].item() == 10.0


def test_low_flow_becoming_high_flow() -> None:
    """Nasal cannula 2 L/min (grade 2) turned up to 8 L/min (> 6 L/min is high flow, grade 3), D6."""
    obs = vitals(range(0, 60), temperature_c=38.5)
    obs += [observation(h, "oxygen_flow_rate", 2.0, "L/min", link="O") for h in range(10, 20)]
    obs += [observation(h, "oxygen_flow_rate", 8.0, "L/min", link="O") for h in range(20, 30)]
    result = graded(obs, [device("O", "nasal_cannula", 10, 30)])
    assert grade_at(result, 15) == 2
    assert grade_at(result, 25) == 3
    assert grade_at(result, 40) == 3  # the 24-h window keeps the worst value


def test_fahrenheit_charted_as_celsius_is_quarantined() -> None:
    """101.3 charted with unit Cel is out of range (§0.4): quarantined, and the good rows are still graded."""
    obs = [*vitals(range(0, 30)), observation(15, "body_temperature", 101.3, "Cel")]
    dataset = validate_tables(raw_tables(obs))
    assert dataset.quarantine["reason"].to_list() == ["OUT_OF_RANGE"]
    result, _ = run_batch(dataset, CONFIG, ["astct2019"])
    assert result.graded["astct2019_grade"].max() == 0
    assert result.graded["temperature_c"].max() == 37.0


def test_episode_ends_after_24_hours_at_grade_0() -> None:
    """A18: two fevers 30 h apart are two episodes; 20 h apart, one."""
    two = vitals(range(0, 5), 38.4) + vitals(range(5, 60)) + vitals(range(60, 62), 38.4) + vitals(range(62, 120))
    one = vitals(range(0, 5), 38.4) + vitals(range(5, 48)) + vitals(range(48, 50), 38.4) + vitals(range(50, 120))
    assert graded(two).episodes.height == 2
    assert graded(one).episodes.height == 1


def test_other_grids_give_the_same_maximum() -> None:
    """A daily grid (day 0, 1, … from t0) and the every-observation grid see the same worst window here."""
    obs = vitals(range(0, 40), temperature_c=38.5)
    interventions = [infusion("N", "norepinephrine", 10, 30, 0.05)]
    maxima = {}
    for grid in ("1h", "1d", "observation"):
        dataset = validate_tables(raw_tables(obs, interventions))
        result, _ = run_batch(dataset, TimelineConfig(grid=grid), ["astct2019"])
        maxima[grid] = result.graded["astct2019_grade"].max()
        if grid == "1d":
            assert result.graded["study_day"].to_list() == list(range(result.graded.height))
    assert maxima == {"1h": 3, "1d": 3, "observation": 3}


def test_reference_ranges_and_baselines() -> None:
    """§1.5: the ULN sent with the result, converted like the value; baseline = last value before t0 for a TCE,
    before lymphodepletion for a CAR-T (null when its start is unknown, A-35); ferritin at infusion."""
    rows = vitals(range(0, 30))
    rows += [
        {**observation(-30, "creatinine", 88.42, "umol/L"), "ref_high": 97.26},
        {**observation(10, "creatinine", 176.84, "umol/L"), "ref_high": 97.26},
        observation(-2, "ferritin", 500.0, "ng/mL"),
    ]
    raw = raw_tables(rows)
    car_t = run_batch(validate_tables(raw), CONFIG, ["astct2019"])[0].snapshots
    row = car_t.filter(pl.col("time") == at(12))
    assert row["creatinine"].item() == pytest.approx(2.0, abs=1e-2)
    assert row["creatinine_uln"].item() == pytest.approx(1.1, abs=1e-2)
    assert row["creatinine_baseline"].item() is None
    assert row["ferritin_at_infusion"].item() == 500.0
    raw["patients"] = raw["patients"].with_columns(
        pl.lit("tce").alias("product_class"), pl.lit("teclistamab").alias("product")
    )
    tce = run_batch(validate_tables(raw), CONFIG, ["astct2019"])[0].snapshots
    assert tce.filter(pl.col("time") == at(12))["creatinine_baseline"].item() == pytest.approx(1.0, abs=1e-2)


def test_crs_status_follows_the_primary_course() -> None:
    """§1.5 crs_status: never → active → resolving (below the maximum, or < 24 h at grade 0) → resolved."""
    obs = vitals(range(0, 10)) + vitals(range(10, 30), temperature_c=38.6) + vitals(range(30, 110))
    result = graded(obs, [infusion("N", "norepinephrine", 11, 14, 0.05)])
    status = dict(zip(result.graded["time"], result.graded["crs_status"], strict=True))
    assert status[at(5)] == "never"
    assert status[at(12)] == "active"
    assert status[at(45)] == "resolving"  # pressor out of the window, fever still in it: grade 1 < 3
    assert status[at(60)] == "resolving"  # grade 0 for less than 24 h
    assert status[at(90)] == "resolved"
