"""Waiting-time distributions of the simulator, all in hours.

The split (two-piece) log-normal and its fitting rule from a reported median and range are those of
risk-and-epidemiology.md §4.4 [A]; the cilta-cel two-component mixture and the KarMMa special case are the
ones printed there. Sampling is vectorised with NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

HOURS_PER_DAY = 24.0
_STANDARD_NORMAL = NormalDist()

FloatArray = NDArray[np.float64]


def normal_quantile(p: float) -> float:
    """Φ⁻¹(p) of the standard normal."""
    return _STANDARD_NORMAL.inv_cdf(p)


@dataclass(frozen=True)
class SplitLogNormal:
    """T = exp(mu + sigma_l·Z) for Z < 0, exp(mu + sigma_r·Z) otherwise; Z clipped to ±z_clip (§4.4).

    ``mu`` is the log of the median in hours; ``low_h``/``high_h`` truncate by resampling (e.g. cilta-cel's
    12-day maximum, or "no new CRS after day 14" for CD19 CAR-T in lymphoma, risk-and-epidemiology.md §2
    item 7).
    """

    mu: float
    sigma_l: float
    sigma_r: float
    z_clip: float | None = None
    high_h: float | None = None

    @property
    def median_h(self) -> float:
        return math.exp(self.mu)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        out = self._draw(rng, n)
        if self.high_h is not None:
            for _ in range(50):
                bad = out > self.high_h
                if not bad.any():
                    break
                out[bad] = self._draw(rng, int(bad.sum()))
            np.minimum(out, self.high_h, out=out)
        return out

    def _draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        z = rng.standard_normal(n)
        if self.z_clip is not None:
            np.clip(z, -self.z_clip, self.z_clip, out=z)
        sigma = np.where(z < 0, self.sigma_l, self.sigma_r)
        return np.exp(self.mu + sigma * z)

    def survival(self, hours: float) -> float:
        """P(T > hours), ignoring the clip (used for hazard-ratio perturbation, §5.4a)."""
        if hours <= 0:
            return 1.0
        z = (math.log(hours) - self.mu) / (self.sigma_l if hours < self.median_h else self.sigma_r)
        return 1.0 - _STANDARD_NORMAL.cdf(z)

    def inverse_survival(self, s: float) -> float:
        """The time whose survival is ``s`` (0 < s < 1)."""
        z = _STANDARD_NORMAL.inv_cdf(min(max(1.0 - s, 1e-12), 1 - 1e-12))
        return math.exp(self.mu + (self.sigma_l if z < 0 else self.sigma_r) * z)


@dataclass(frozen=True)
class CiltaCelOnsetMixture:
    """risk-and-epidemiology.md §4.4 special case [A, D]: 11 % Uniform(0.25, 3.0) d, else
    LogNormal(ln 6.84, 0.326) truncated at 12 d."""

    early_share: float = 0.11
    early_low_d: float = 0.25
    early_high_d: float = 3.0
    late_median_d: float = 6.84
    late_sigma: float = 0.326
    truncate_d: float = 12.0

    @property
    def median_h(self) -> float:
        return self.late_median_d * HOURS_PER_DAY

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        early = rng.random(n) < self.early_share
        out = np.exp(np.log(self.late_median_d) + self.late_sigma * rng.standard_normal(n))
        for _ in range(50):
            bad = out > self.truncate_d
            if not bad.any():
                break
            out[bad] = np.exp(np.log(self.late_median_d) + self.late_sigma * rng.standard_normal(int(bad.sum())))
        np.minimum(out, self.truncate_d, out=out)
        out[early] = rng.uniform(self.early_low_d, self.early_high_d, int(early.sum()))
        return np.asarray(out * HOURS_PER_DAY, dtype=np.float64)

    def survival(self, hours: float) -> float:
        raise NotImplementedError("the cilta-cel onset mixture is never perturbed by management")


WaitingTime = SplitLogNormal | CiltaCelOnsetMixture


def fit_split_lognormal(
    median: float,
    low: float | None,
    high: float | None,
    n_events: int | None,
    unit: str,
    *,
    default_sigma: float = 0.5,
    sigma_l: float | None = None,
    sigma_r: float | None = None,
) -> SplitLogNormal:
    """Fit rule of risk-and-epidemiology.md §4.4 from a reported median and range.

    Day-reported figures use bin mid-points (m − 0.5, max(a − 0.5, 0.25), b − 0.5). Without a range the spread
    is ``sigma_l``/``sigma_r`` when given, else ``default_sigma`` [A].
    """
    scale = HOURS_PER_DAY if unit == "day" else 1.0
    shift = 0.5 if unit == "day" else 0.0
    m_c = median - shift
    mu = math.log(m_c * scale)
    if low is None or high is None or n_events is None:
        return SplitLogNormal(mu, sigma_l or default_sigma, sigma_r or default_sigma)
    a_c = max(low - shift, 0.25) if unit == "day" else low
    b_c = high - shift
    z_n = normal_quantile(1.0 - 1.0 / (n_events + 1))
    return SplitLogNormal(
        mu=mu,
        sigma_l=(math.log(m_c) - math.log(a_c)) / z_n,
        sigma_r=(math.log(b_c) - math.log(m_c)) / z_n,
        z_clip=z_n,
    )


def karmma_onset() -> SplitLogNormal:
    """KarMMa ide-cel onset, special case of risk-and-epidemiology.md §4.4 [A]: m_c 0.8 d, a_c 0.25 d."""
    z_n = 2.359
    mu = math.log(0.8)
    return SplitLogNormal(
        mu=mu + math.log(HOURS_PER_DAY),
        sigma_l=(mu - math.log(0.25)) / z_n,
        sigma_r=(math.log(22.5) - mu) / z_n,
        z_clip=z_n,
    )


def lognormal(median_h: float, sigma: float) -> SplitLogNormal:
    """A plain log-normal as a split log-normal with equal sides."""
    return SplitLogNormal(math.log(median_h), sigma, sigma)


def from_spec(spec: Mapping[str, Any], *, default_sigma: float = 0.5, high_h: float | None = None) -> WaitingTime:
    """Build a waiting time from a module entry (``family`` lognormal/split_lognormal or a product figure)."""
    special = spec.get("special")
    if special == "cartitude_mixture":
        return CiltaCelOnsetMixture()
    if special == "karmma":
        base = karmma_onset()
    elif spec.get("family") == "lognormal":
        base = lognormal(float(spec["median_h"]), float(spec["sigma"]))
    else:
        base = fit_split_lognormal(
            float(spec["median"]),
            spec.get("min"),
            spec.get("max"),
            spec.get("n_events"),
            str(spec.get("unit", "day")),
            default_sigma=default_sigma,
            sigma_l=spec.get("sigma_l"),
            sigma_r=spec.get("sigma_r"),
        )
    if high_h is None:
        return base
    return SplitLogNormal(base.mu, base.sigma_l, base.sigma_r, base.z_clip, high_h)
