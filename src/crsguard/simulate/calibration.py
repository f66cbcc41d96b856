"""Calibration of the reference policy per product and the calibration report (risk-and-epidemiology.md §5.9).

Two jobs:

* :func:`policy_probabilities` fits, on a pilot cohort with a fixed seed, the constants that make the
  reference policy reproduce the published tocilizumab and corticosteroid use, the q3 intercept of the EASIX
  risk linkage (§5.3 step 4) and the ICANS intercept (§5.8). Bisection and sequential allocation only.
* :func:`calibration_report` simulates a cohort per product and compares simulated with published figures,
  with the tolerances of §5.9. Only [P]/[L]/[D] targets are acceptance targets; [S]/[U]/[A] ones are warnings.
"""

from __future__ import annotations

import math
import statistics
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from crsguard.simulate.calibration_params import PolicyProbabilities
from crsguard.simulate.course import icans_ladder, params, plan_episode, policy
from crsguard.simulate.distributions import HOURS_PER_DAY
from crsguard.simulate.parameters import Figure, ProductModel, product_models
from crsguard.simulate.patient import EASIX_RISK_LOG_ODDS, SimulatedPatient, sample_baseline, simulate_patient

PILOT_PATIENTS = 6000
PILOT_SEED = 20251121
TCE_PILOT_PATIENTS = 1500
TCE_PILOT_DAYS = 30
ACCEPTANCE_MARKERS = frozenset({"P", "L", "D"})
UNCONFIRMED_MARKERS = frozenset({"U", "R", "A"})

# Tolerances of risk-and-epidemiology.md §5.9 step 2, in the unit of each figure.
TOLERANCE_PERCENT_POINTS = {
    "crs_any": 2.0,
    "crs_grade3plus": 1.5,
    "tocilizumab_use": 5.0,
    "steroid_use": 5.0,
    "icans_any": 2.0,
    "icans_grade3plus": 2.0,
}
TOLERANCE_MEDIAN_DAYS = 0.5
TOLERANCE_MEDIAN_HOURS_TCE = 3.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=float)


def _bisect(mean_at: Callable[[float], float], target: float) -> float:
    """Solve mean_at(a) = target for an increasing mean_at (§5.3 step 4: tolerance well under 0.1 pp)."""
    low, high = -30.0, 30.0
    for _ in range(80):
        mid = (low + high) / 2
        if mean_at(mid) < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _allocate(target: float, fractions: list[float]) -> list[float]:
    """Probabilities per trigger group, filled in priority order so that Σ p_i f_i = target."""
    out: list[float] = []
    remaining = target
    for fraction in fractions:
        p = 0.0 if fraction <= 0 or remaining <= 0 else min(1.0, remaining / fraction)
        out.append(p)
        remaining -= p * fraction
    return out


@cache
def policy_probabilities(product_name: str) -> PolicyProbabilities:
    """Fit the reference-policy constants of one product on a pilot cohort (deterministic)."""
    product = product_models()[product_name]
    rng = np.random.default_rng([zlib.crc32(product_name.encode()), PILOT_SEED])
    log2_easix = np.array([sample_baseline(rng).log2_easix for _ in range(PILOT_PATIENTS)])
    median = float(np.median(log2_easix))
    x = log2_easix - median
    q3_intercept = (
        _bisect(lambda a: float(_sigmoid(a + EASIX_RISK_LOG_ODDS * x).mean()), product.q3)
        if 0.0 < product.q3 < 1.0
        else 0.0
    )
    q3_i = _sigmoid(q3_intercept + EASIX_RISK_LOG_ODDS * x) if 0.0 < product.q3 < 1.0 else np.full(len(x), product.q3)
    has_crs = rng.random(PILOT_PATIENTS) < product.crs_any.value
    top = np.zeros(PILOT_PATIENTS, dtype=int)
    raw_h = np.zeros(PILOT_PATIENTS)
    floor_h = np.zeros(PILOT_PATIENTS)
    for i in np.flatnonzero(has_crs):
        plan = plan_episode(rng, product, 1, float(q3_i[i]))
        top[i], raw_h[i], floor_h[i] = plan.planned_max, plan.raw_duration_h, plan.floor_h
    crs_index = np.flatnonzero(has_crs)
    duration_scale = math.exp(
        _bisect(
            lambda log_s: float(np.median(np.maximum(raw_h[crs_index] * math.exp(log_s), floor_h[crs_index]))),
            product.duration.median_h,
        )
    )
    duration_h = np.maximum(raw_h * duration_scale, floor_h)
    b2, b3 = params().icans_log_odds
    shift = b2 * (top >= 2) + b3 * (top >= 3)
    icans_intercept = _bisect(lambda a: float(_sigmoid(a + shift).mean()), product.icans_any.value)
    toci_groups = [
        float((top >= 3).mean()),
        float((top == 2).mean()),
        float(((top == 1) & (duration_h > params().toci_grade1_h)).mean()),
    ]
    q2_icans = icans_ladder(product)[0]
    icans_share = float(((top < 3) * _sigmoid(icans_intercept + shift) * q2_icans).mean())
    allocation = _Allocation(toci_groups, [toci_groups[0], icans_share, toci_groups[1]])
    toci = product.tocilizumab_use
    steroid = product.steroid_use
    probs = PolicyProbabilities(
        q3_intercept=q3_intercept,
        log2_easix_median=median,
        tocilizumab_grade3=1.0,
        tocilizumab_high=1.0,
        tocilizumab_low=0.0,
        steroid_grade3=1.0,
        steroid_grade2=0.0,
        steroid_icans=1.0,
        icans_intercept=icans_intercept,
        duration_scale=duration_scale,
    )
    probs = allocation.apply(
        probs, toci, None if toci is None else toci.value, steroid, None if steroid is None else steroid.value
    )
    return _refine_for_repeated_events(product, probs, allocation) if product.is_tce else probs


@dataclass(frozen=True)
class _Allocation:
    """Pilot shares of the trigger groups, in order of severity (tocilizumab: rung ≥ 3, rung 2, long rung 1;
    corticosteroids: CRS rung ≥ 3, ICANS ≥ 2, CRS rung 2)."""

    tocilizumab_groups: list[float]
    steroid_groups: list[float]

    def apply(
        self,
        probs: PolicyProbabilities,
        toci: Figure | None,
        toci_target: float | None,
        steroid: Figure | None,
        steroid_target: float | None,
    ) -> PolicyProbabilities:
        if toci is not None and toci_target is not None:
            t3, t2, t1 = _allocate(toci_target, self.tocilizumab_groups)
            probs = replace(probs, tocilizumab_grade3=t3, tocilizumab_high=t2, tocilizumab_low=t1)
        if steroid is not None and steroid_target is not None:
            g3, g_icans, g2 = self.steroid_groups
            if steroid.scope == "crs":
                s3, s2 = _allocate(steroid_target, [g3, g2])
                probs = replace(probs, steroid_grade3=s3, steroid_grade2=s2, steroid_icans=1.0)
            else:
                s3, s_icans, s2 = _allocate(steroid_target, [g3, g_icans, g2])
                probs = replace(probs, steroid_grade3=s3, steroid_grade2=s2, steroid_icans=s_icans)
        return probs


def _use_rates(product: ProductModel, probs: PolicyProbabilities, rng_seed: int) -> tuple[float, float, float]:
    """Patient-level tocilizumab use, corticosteroid use (for CRS) and grade ≥ 3 share on a pilot."""
    horizon = int(TCE_PILOT_DAYS * HOURS_PER_DAY)
    reference = policy("reference")
    courses = [
        simulate_patient(i, product, reference, probs, horizon, patient_rng(rng_seed, i)).course
        for i in range(TCE_PILOT_PATIENTS)
    ]
    toci = sum(c.received({"tocilizumab"}, {"crs"}) for c in courses) / len(courses)
    steroid = sum(c.received({"dexamethasone", "methylprednisolone"}, {"crs"}) for c in courses) / len(courses)
    grade3 = sum(c.crs_max >= 3 for c in courses) / len(courses)
    return toci, steroid, grade3


def _refine_for_repeated_events(
    product: ProductModel, probs: PolicyProbabilities, allocation: _Allocation
) -> PolicyProbabilities:
    """T-cell engagers can have several CRS events, so per-event probabilities overshoot patient-level
    figures: rescale the allocation targets and shift the q3 log-odds by target/observed on a pilot of
    full courses (two fixed-point steps), keeping the severity order of the allocation."""
    seed = zlib.crc32(product.name.encode())
    toci, steroid = product.tocilizumab_use, product.steroid_use
    toci_target = None if toci is None else toci.value
    steroid_target = None if steroid is None else steroid.value
    for _ in range(2):
        toci_seen, steroid_seen, grade3 = _use_rates(product, probs, seed)
        toci_target = None if toci_target is None else toci_target * _scale(toci, toci_seen)
        steroid_target = None if steroid_target is None else steroid_target * _scale(steroid, steroid_seen)
        grade3_shift = math.log(product.crs_grade3plus.value / grade3) if grade3 > 0 else 0.0
        probs = replace(probs, q3_intercept=probs.q3_intercept + grade3_shift)
        probs = allocation.apply(probs, toci, toci_target, steroid, steroid_target)
    return probs


def _scale(figure: Figure | None, observed: float) -> float:
    if figure is None or figure.scope != "crs" or observed <= 0:
        return 1.0
    return figure.value / observed


def patient_rng(seed: int, index: int) -> np.random.Generator:
    """One independent stream per patient: results do not depend on chunking or output format."""
    return np.random.default_rng([seed, index])


def simulate_latent_cohort(
    product_name: str, patients: int, days: int, seed: int, policy_name: str = "reference"
) -> Iterator[SimulatedPatient]:
    """Latent courses only (no charting): what the calibration report needs."""
    product = product_models()[product_name]
    probs = policy_probabilities(product_name)
    chosen = policy(policy_name)
    horizon = int(days * HOURS_PER_DAY)
    for index in range(patients):
        yield simulate_patient(index, product, chosen, probs, horizon, patient_rng(seed, index))


@dataclass(frozen=True)
class CalibrationRow:
    """One simulated-versus-published figure."""

    product: str
    metric: str
    simulated: float
    published: float
    unit: str
    tolerance: float
    marker: str
    source: str

    @property
    def within(self) -> bool:
        return abs(self.simulated - self.published) <= self.tolerance + 1e-9

    @property
    def note(self) -> str:
        """Figures resting on unconfirmed or reconstructed sources say so (spec README)."""
        return "requires clinician confirmation" if self.marker in UNCONFIRMED_MARKERS else ""

    @property
    def acceptance(self) -> bool:
        """§5.9: only [P]/[L] (and figures derived from them) are acceptance targets; others warn."""
        return self.marker in ACCEPTANCE_MARKERS


def _percent(flags: list[bool]) -> float:
    return 100.0 * sum(flags) / len(flags) if flags else math.nan


def _median_figure(
    product: ProductModel, figure: Mapping[str, object], values_h: list[float]
) -> tuple[float, float, str, float]:
    """(simulated, published, unit, tolerance) for a median onset/duration figure.

    Day-reported figures are compared through reported_day = ceil(t / 24) (risk-and-epidemiology.md §0.3).
    """
    unit = str(figure.get("unit", "day"))
    published = float(str(figure["median"]))
    if not values_h:
        return math.nan, published, unit, 0.0
    if unit == "day":
        simulated = float(statistics.median(math.ceil(v / HOURS_PER_DAY) for v in values_h))
        return simulated, published, "day", TOLERANCE_MEDIAN_DAYS
    return float(statistics.median(values_h)), published, "hour", TOLERANCE_MEDIAN_HOURS_TCE


def product_rows(product_name: str, cohort: list[SimulatedPatient]) -> list[CalibrationRow]:
    """Compare one simulated cohort of a product with its published figures."""
    product = product_models()[product_name]
    courses = [p.course for p in cohort]
    with_crs = [c for c in courses if c.any_crs]
    rows: list[CalibrationRow] = []

    def add_percent(metric: str, figure: Figure | None, flags: list[bool]) -> None:
        if figure is None:
            return
        rows.append(
            CalibrationRow(
                product_name,
                metric,
                _percent(flags),
                100.0 * figure.value,
                "%",
                TOLERANCE_PERCENT_POINTS[metric],
                figure.marker,
                figure.source,
            )
        )

    add_percent("crs_any", product.crs_any, [c.any_crs for c in courses])
    add_percent("crs_grade3plus", product.crs_grade3plus, [c.crs_max >= 3 for c in courses])
    onsets = (
        [c.crs_onset_from_dose_h[0] for c in with_crs]
        if product.is_tce
        else [float(c.episodes[0].onset_h) for c in with_crs]
    )
    durations = [float(c.episodes[0].resolve_h - c.episodes[0].onset_h) for c in with_crs]
    for metric, figure, values in (
        ("median_onset", product.onset_figure, onsets),
        ("median_duration", product.duration_figure, durations),
    ):
        simulated, published, unit, tolerance = _median_figure(product, figure, values)
        rows.append(
            CalibrationRow(
                product_name,
                metric,
                simulated,
                published,
                unit,
                tolerance,
                str(figure["marker"]),
                str(figure["source"]),
            )
        )
    add_percent("tocilizumab_use", product.tocilizumab_use, [c.received({"tocilizumab"}, {"crs"}) for c in courses])
    if product.steroid_use is not None:
        reasons = {"crs"} if product.steroid_use.scope == "crs" else {"crs", "icans"}
        add_percent(
            "steroid_use",
            product.steroid_use,
            [c.received({"dexamethasone", "methylprednisolone"}, reasons) for c in courses],
        )
    add_percent("icans_any", product.icans_any, [c.icans_max >= 1 for c in courses])
    add_percent("icans_grade3plus", product.icans_grade3plus, [c.icans_max >= 3 for c in courses])
    return rows


def calibration_report(products: list[str], patients: int, days: int, seed: int) -> list[CalibrationRow]:
    """Simulate ``patients`` per product under the reference policy and compare with §4."""
    rows: list[CalibrationRow] = []
    for name in products:
        cohort = list(simulate_latent_cohort(name, patients, days, seed))
        rows.extend(product_rows(name, cohort))
    return rows
