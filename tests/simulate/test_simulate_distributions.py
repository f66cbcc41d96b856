"""The split log-normal fits of risk-and-epidemiology.md §4.4, checked against the spec's own table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crsguard.simulate.distributions import (
    CiltaCelOnsetMixture,
    fit_split_lognormal,
    karmma_onset,
    lognormal,
)

# (median, min, max, n, expected mu (log days), sigma_L, sigma_R) from the §4.4 parameter table
SPEC_4_4 = [
    ("ZUMA-1 onset", 2, 1, 12, 101, 0.405, 0.471, 0.873),
    ("ZUMA-1 duration", 7, 2, 58, 101, 1.872, 0.628, 0.934),
    ("ZUMA-2 onset", 3, 1, 13, 75, 0.916, 0.724, 0.724),
    ("ZUMA-2 duration", 10, 1, 50, 75, 2.251, 1.325, 0.743),
    ("KarMMa duration", 7, 1, 63, 108, 1.872, 1.088, 0.960),
    ("CARTITUDE-1 duration", 4, 1, 27, 92, 1.253, 0.846, 0.881),
    ("Teclistamab onset", 2, 1, 6, 119, 0.405, 0.459, 0.543),
    ("TRANSCEND onset", 5, 1, 14, 113, 1.504, 0.925, 0.463),
]


@pytest.mark.parametrize(("label", "median", "low", "high", "n", "mu", "sigma_l", "sigma_r"), SPEC_4_4)
def test_fit_reproduces_spec_table(
    label: str, median: float, low: float, high: float, n: int, mu: float, sigma_l: float, sigma_r: float
) -> None:
    fit = fit_split_lognormal(median, low, high, n, "day")
    assert fit.mu - math.log(24) == pytest.approx(mu, abs=0.001), label
    assert fit.sigma_l == pytest.approx(sigma_l, abs=0.001), label
    assert fit.sigma_r == pytest.approx(sigma_r, abs=0.001), label


def test_karmma_special_case() -> None:
    fit = karmma_onset()
    assert fit.sigma_l == pytest.approx(0.493, abs=0.001)
    assert fit.sigma_r == pytest.approx(1.415, abs=0.001)
    assert fit.median_h == pytest.approx(0.8 * 24)


def test_cilta_cel_mixture_matches_its_monte_carlo_check() -> None:
    """§4.4: P(day >= 4) = 0.885, P(day >= 6) = 0.734, maximum day 12 (reported day = ceil(t))."""
    days = np.ceil(CiltaCelOnsetMixture().sample(np.random.default_rng(4), 200_000) / 24)
    assert (days >= 4).mean() == pytest.approx(0.885, abs=0.01)
    assert (days >= 6).mean() == pytest.approx(0.734, abs=0.01)
    assert days.max() <= 12


def test_truncation_reproduces_no_crs_after_day_14() -> None:
    fit = fit_split_lognormal(3, 1, 51, 78, "day")
    capped = type(fit)(fit.mu, fit.sigma_l, fit.sigma_r, fit.z_clip, 14 * 24.0)
    assert capped.sample(np.random.default_rng(1), 50_000).max() <= 14 * 24.0


@settings(max_examples=40, deadline=None)
@given(
    st.floats(min_value=1.0, max_value=500.0),
    st.floats(min_value=0.1, max_value=1.5),
    st.floats(min_value=0.1, max_value=1.5),
)
def test_split_lognormal_median_and_survival_are_consistent(median_h: float, sigma_l: float, sigma_r: float) -> None:
    dist = type(lognormal(1.0, 1.0))(math.log(median_h), sigma_l, sigma_r)
    sample = dist.sample(np.random.default_rng(0), 20_000)
    assert (sample > 0).all()
    assert np.median(sample) == pytest.approx(median_h, rel=0.05)
    for s in (0.9, 0.5, 0.1):
        assert dist.survival(dist.inverse_survival(s)) == pytest.approx(s, abs=1e-6)
