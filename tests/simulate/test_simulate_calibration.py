"""Calibration: every product's simulated figures within the tolerances of risk-and-epidemiology.md §5.9."""

from __future__ import annotations

import math

import pytest

from crsguard.simulate.calibration import (
    TOLERANCE_PERCENT_POINTS,
    calibration_report,
    policy_probabilities,
    simulate_latent_cohort,
)
from crsguard.simulate.parameters import product_models

COHORT = 4000
SEED = 11


@pytest.mark.parametrize("product", list(product_models()))
def test_simulated_figures_within_stated_tolerance(product: str) -> None:
    rows = calibration_report([product], COHORT, 30, SEED)
    assert {r.metric for r in rows} >= {
        "crs_any",
        "crs_grade3plus",
        "median_onset",
        "median_duration",
        "icans_any",
    }
    misses = [(r.metric, round(r.simulated, 2), r.published, r.tolerance, r.marker) for r in rows if not r.within]
    assert misses == []


def test_tolerances_are_those_of_section_5_9() -> None:
    assert TOLERANCE_PERCENT_POINTS["crs_any"] == 2.0
    assert TOLERANCE_PERCENT_POINTS["crs_grade3plus"] == 1.5
    assert TOLERANCE_PERCENT_POINTS["tocilizumab_use"] == 5.0
    assert TOLERANCE_PERCENT_POINTS["icans_any"] == 2.0


@pytest.mark.parametrize("product", ["axicabtagene_ciloleucel", "tisagenlecleucel", "lisocabtagene_maraleucel"])
def test_no_new_crs_after_day_14_for_cd19_car_t_in_lymphoma(product: str) -> None:
    """§5.9 step 4 (real-world cohort [P], risk-and-epidemiology.md §2 item 7)."""
    onsets = [p.course.episodes[0].onset_h for p in simulate_latent_cohort(product, 1500, 30, 3) if p.course.any_crs]
    assert max(onsets) <= 14 * 24


def test_policy_probabilities_are_bounded_and_severity_ordered() -> None:
    for product in product_models():
        probs = policy_probabilities(product)
        for p in (
            probs.tocilizumab_grade3,
            probs.tocilizumab_high,
            probs.tocilizumab_low,
            probs.steroid_grade3,
            probs.steroid_grade2,
            probs.steroid_icans,
        ):
            assert 0.0 <= p <= 1.0
        assert math.isfinite(probs.icans_intercept)
        assert probs.duration_scale > 0
        if probs.tocilizumab_high > 0:  # the sickest are treated first (severity-ordered allocation)
            assert probs.tocilizumab_grade3 == 1.0
