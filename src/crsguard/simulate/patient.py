"""One simulated patient: baseline, latent CRS/ICANS course and management (risk-and-epidemiology.md §5).

CAR-T: one possible CRS episode from t0 (§5.4). T-cell engagers: CRS risk per dose, with the step-up schedule,
holding the next dose until resolution and recurrence at the next dose (§5.5, §5.6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crsguard.simulate.calibration_params import PolicyProbabilities
from crsguard.simulate.course import (
    Administration,
    Episode,
    PatientCourse,
    Policy,
    give_crs_steroids,
    give_dexamethasone,
    params,
    plan_episode,
    play_episode,
    sample_one,
    settle_fever,
    simulate_icans,
)
from crsguard.simulate.distributions import HOURS_PER_DAY
from crsguard.simulate.parameters import ProductModel, load_module, value

EASIX_RISK_LOG_ODDS = math.log(1.72)
"""β = ln(1.72) per doubling of pre-LD EASIX (Korell 2022; risk-and-epidemiology.md §5.3; [A] on q3)."""


@dataclass(frozen=True)
class Baseline:
    """Baseline characteristics and pre-lymphodepletion labs (canonical units of interop.md §1.1)."""

    age_years: int
    sex: str
    weight_kg: float
    height_cm: float
    labs: dict[str, float]

    @property
    def log2_easix(self) -> float:
        """log2(LDH × creatinine / platelets), the EASIX of risk-and-epidemiology.md §1.2."""
        return math.log2(self.labs["ldh"] * self.labs["creatinine"] / self.labs["platelets"])


def _bounded_normal(rng: np.random.Generator, spec: dict[str, float]) -> float:
    return float(np.clip(rng.normal(spec["mean"], spec["sd"]), spec["min"], spec["max"]))


def sample_baseline(rng: np.random.Generator) -> Baseline:
    """Baseline covariates and labs [A] (charting.yaml ``baseline`` and ``labs.baseline``)."""
    charting = load_module("charting")
    base = charting["baseline"]
    labs = {
        name: float(spec["median"] * math.exp(spec["log_sd"] * rng.standard_normal()))
        for name, spec in charting["labs"]["baseline"].items()
    }
    return Baseline(
        age_years=round(_bounded_normal(rng, base["age_years"])),
        sex="male" if rng.random() < value(base["male_share"]) else "female",
        weight_kg=round(_bounded_normal(rng, base["weight_kg"]), 1),
        height_cm=round(_bounded_normal(rng, base["height_cm"]), 0),
        labs=labs,
    )


def risk_adjusted_q3(product: ProductModel, probs: PolicyProbabilities, baseline: Baseline) -> float:
    """logit(q3_i) = α + β·(log2 EASIX − product median), α re-calibrated to the product's q3 (§5.3)."""
    if product.q3 <= 0.0 or product.q3 >= 1.0:
        return product.q3
    x = baseline.log2_easix - probs.log2_easix_median
    return 1.0 / (1.0 + math.exp(-(probs.q3_intercept + EASIX_RISK_LOG_ODDS * x)))


@dataclass
class SimulatedPatient:
    """The latent patient handed to charting."""

    index: int
    product: ProductModel
    baseline: Baseline
    course: PatientCourse
    horizon_h: int


def _car_t_episodes(
    rng: np.random.Generator,
    product: ProductModel,
    q3: float,
    policy_: Policy,
    probs: PolicyProbabilities,
    weight_kg: float,
    horizon_h: int,
    administrations: list[Administration],
) -> tuple[list[Episode], list[float]]:
    if rng.random() >= product.crs_any.value:
        return [], []
    onset_h = max(1, math.ceil(sample_one(product.onset, rng)))
    if onset_h >= horizon_h:
        return [], []
    plan = plan_episode(rng, product, onset_h, q3, probs.duration_scale)
    episode = play_episode(rng, product, plan, policy_, probs, weight_kg, administrations)
    give_crs_steroids(rng, episode, probs, administrations)
    return [episode], [float(onset_h)]


def _premedication(dose_h: float, administrations: list[Administration]) -> None:
    p = params()
    at = dose_h - p.premed_lead_h
    administrations.append(Administration(at, "dexamethasone", p.premed_dex_mg, "mg", "po", 0.0, "premedication"))
    administrations.append(Administration(at, "acetaminophen", p.premed_apap_mg, "mg", "po", 0.0, "premedication"))


def _tce_onset(rng: np.random.Generator, product: ProductModel, room_h: float) -> float:
    """Onset after the latest dose, resampled so that it falls before the next scheduled dose."""
    onset = sample_one(product.onset, rng)
    for _ in range(50):
        if onset < room_h - 1.0:
            break
        onset = sample_one(product.onset, rng)
    return max(1.0, min(onset, room_h - 1.0))


def _tce_episodes(
    rng: np.random.Generator,
    product: ProductModel,
    q3: float,
    policy_: Policy,
    probs: PolicyProbabilities,
    weight_kg: float,
    horizon_h: int,
    administrations: list[Administration],
) -> tuple[list[Episode], list[float]]:
    """Per-dose CRS with step-up doses, holds and recurrence (§5.5).

    A dose due less than ``tce_hold_after_resolution_h`` after the end of a CRS episode is held until that
    margin has passed (§5.6 "hold next dose until resolution"; the 24 h margin is [A]), so premedication is
    never given during an episode.
    """
    schedule = product.schedule
    first_event: int | None = None
    if rng.random() < product.crs_any.value:
        shares = np.array(product.first_event_dose_share)
        first_event = int(rng.choice(len(shares), p=shares / shares.sum()))
    episodes: list[Episode] = []
    onsets_from_dose: list[float] = []
    delay = 0.0
    event_next = False
    hold_after_resolution_h = params().tce_hold_h
    for index, dose in enumerate(schedule):
        dose_h = dose.hour + delay
        if episodes and episodes[-1].resolve_h + hold_after_resolution_h > dose_h:
            new_h = episodes[-1].resolve_h + hold_after_resolution_h
            delay += new_h - dose_h
            dose_h = new_h
        if dose_h >= horizon_h:
            break
        if product.premedication and (not dose.is_full_dose or index == _first_full(product)):
            _premedication(dose_h, administrations)
        administrations.append(
            Administration(
                dose_h,
                product.name,
                dose.dose_value,
                dose.dose_unit,
                "sc" if product.name != "glofitamab" else "iv",
                0.5,
                "treatment",
                kind="product_administration",
                step_up_dose_number=dose.step_up_dose_number,
                is_full_dose=dose.is_full_dose,
            )
        )
        has_event = index == first_event or event_next
        event_next = False
        if not has_event or (first_event is not None and index < first_event):
            continue
        room = (schedule[index + 1].hour - dose.hour) if index + 1 < len(schedule) else 7 * HOURS_PER_DAY
        from_dose = _tce_onset(rng, product, room)
        onset_h = math.ceil(dose_h + from_dose)
        if onset_h >= horizon_h:
            break
        plan = plan_episode(rng, product, onset_h, q3, probs.duration_scale)
        episode = play_episode(rng, product, plan, policy_, probs, weight_kg, administrations)
        episode.dose_index = index
        give_crs_steroids(rng, episode, probs, administrations)
        episodes.append(episode)
        onsets_from_dose.append(onset_h - dose_h)
        if episode.death_h is not None:
            break
        after_toci, without_toci = params().tce_recurrence
        recurrence = after_toci if episode.tocilizumab_h else without_toci
        event_next = bool(rng.random() < recurrence)
    return episodes, onsets_from_dose


def _first_full(product: ProductModel) -> int:
    return next(i for i, d in enumerate(product.schedule) if d.is_full_dose)


def simulate_patient(
    index: int,
    product: ProductModel,
    policy_: Policy,
    probs: PolicyProbabilities,
    horizon_h: int,
    rng: np.random.Generator,
) -> SimulatedPatient:
    """Simulate one patient's latent course (no observations yet)."""
    baseline = sample_baseline(rng)
    q3 = risk_adjusted_q3(product, probs, baseline)
    administrations: list[Administration] = []
    if product.is_tce:
        episodes, onsets = _tce_episodes(
            rng, product, q3, policy_, probs, baseline.weight_kg, horizon_h, administrations
        )
    else:
        administrations.append(
            Administration(0.0, product.name, math.nan, "", "iv", 0.5, "treatment", kind="product_administration")
        )
        episodes, onsets = _car_t_episodes(
            rng, product, q3, policy_, probs, baseline.weight_kg, horizon_h, administrations
        )
    crs_max = max((e.realised_max for e in episodes), default=0)
    anchor = 0.0
    if product.is_tce:
        doses = [a.start_h for a in administrations if a.kind == "product_administration"]
        anchor = doses[episodes[0].dose_index or 0] if episodes else doses[0]
    death_h = next((e.death_h for e in episodes if e.death_h is not None), None)
    icans = simulate_icans(rng, product, probs.icans_intercept, crs_max, anchor, death_h or horizon_h)
    if icans is not None and icans.realised_max >= 2 and rng.random() < probs.steroid_icans:
        first = next(s for s in icans.segments if s[2] == 2)
        end = max(s[1] for s in icans.segments if s[2] >= 2)
        start = first[0] + float(rng.uniform(1.0, 3.0))
        give_dexamethasone(start, min(end, death_h or end), "icans", administrations)
    for episode in episodes:
        settle_fever(rng, episode, administrations, baseline.weight_kg, not policy_.tocilizumab_withheld)
    administrations.sort(key=lambda a: a.start_h)
    course = PatientCourse(
        product=product,
        weight_kg=baseline.weight_kg,
        episodes=episodes,
        icans=icans,
        administrations=[a for a in administrations if a.start_h < horizon_h],
        death_h=death_h,
        crs_onset_from_dose_h=onsets,
    )
    return SimulatedPatient(index, product, baseline, course, horizon_h)
