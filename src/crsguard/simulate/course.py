"""The latent course of one patient: CRS episodes, ICANS, management, all on an hourly clock.

The procedure is "sample the plan, then play it out" (risk-and-epidemiology.md §5.4), which §5.4a shows is
equivalent to the hourly semi-Markov machine of ``modules/crs.yaml``; management perturbs the remaining
escalation hazards with p'(u) = 1 − (1 − p(u))^HR, done here in closed form on the survival function.
The latent ASTCT grade is derived in :mod:`crsguard.simulate.latent` from the latent components, never by
``crsguard.grading``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from crsguard.simulate.calibration_params import PolicyProbabilities
from crsguard.simulate.distributions import HOURS_PER_DAY, SplitLogNormal, WaitingTime, from_spec
from crsguard.simulate.parameters import ProductModel, load_module, value

PATTERNS = ("hypotension_only", "hypoxia_only", "both")


@dataclass
class Administration:
    """One drug administration or product dose, in hours since t0."""

    start_h: float
    agent: str
    dose_value: float
    dose_unit: str
    route: str
    duration_h: float
    reason: str
    kind: str = "drug_dose"
    step_up_dose_number: int | None = None
    is_full_dose: bool | None = None


@dataclass
class Episode:
    """One latent CRS episode (integer hours since t0)."""

    onset_h: int
    planned_max: int
    realised_max: int
    segments: list[tuple[int, int, int]]  # (start_h, end_h exclusive, rung)
    resolve_h: int
    death_h: int | None
    pattern: str
    fever_peak_c: float
    fever_off: list[tuple[float, float]] = field(default_factory=list)
    tocilizumab_h: list[float] = field(default_factory=list)
    steroid_start_h: float | None = None
    dose_index: int | None = None

    def rung_at(self, hour: float) -> int:
        for start, end, rung in self.segments:
            if start <= hour < end:
                return rung
        return 0


@dataclass
class IcansCourse:
    """The latent ICANS course (integer hours since t0)."""

    onset_h: int
    realised_max: int
    segments: list[tuple[int, int, int]]
    resolve_h: int


@dataclass
class PatientCourse:
    """Everything latent about one patient; observations are generated from it."""

    product: ProductModel
    weight_kg: float
    episodes: list[Episode]
    icans: IcansCourse | None
    administrations: list[Administration]
    death_h: int | None
    crs_onset_from_dose_h: list[float]

    @property
    def any_crs(self) -> bool:
        return bool(self.episodes)

    @property
    def crs_max(self) -> int:
        worst = max((e.realised_max for e in self.episodes), default=0)
        return 5 if any(e.death_h is not None for e in self.episodes) else worst

    @property
    def icans_max(self) -> int:
        return 0 if self.icans is None else self.icans.realised_max

    def received(self, agents: set[str], reasons: set[str]) -> bool:
        return any(a.agent in agents and a.reason in reasons for a in self.administrations)


@dataclass(frozen=True)
class Policy:
    """Management policy (modules/management.yaml): reference, early or withheld tocilizumab."""

    name: str
    tocilizumab_earlier: bool
    tocilizumab_withheld: bool


def policy(name: str) -> Policy:
    policies = load_module("management")["policies"]
    if name not in policies:
        raise ValueError(f"unknown management policy {name!r}; allowed: {', '.join(policies)}")
    spec = policies[name]
    return Policy(name, bool(spec["tocilizumab_earlier"]), bool(spec["tocilizumab_withheld"]))


class _Params:
    """Module numbers read once (hours)."""

    def __init__(self) -> None:
        crs = load_module("crs")
        mgmt = load_module("management")
        icans = load_module("icans")
        dist = crs["distributions"]
        self.car_t_reach: tuple[WaitingTime, ...] = tuple(from_spec(dist[f"time_to_rung_{k}"]) for k in (2, 3, 4))
        self.tce_reach: tuple[WaitingTime, ...] = tuple(from_spec(dist[f"tce_time_to_rung_{k}"]) for k in (2, 3, 4))
        p = crs["parameters"]
        self.duration_multiplier = value(p["duration_multiplier_grade3plus"])
        self.min_after_peak = value(p["min_hours_after_peak"])
        self.resample_attempts = int(value(p["escalation_resample_attempts"]))
        self.tce_recurrence = (
            value(p["tce_recurrence_after_tocilizumab"]),
            value(p["tce_recurrence_without_tocilizumab"]),
        )
        self.tce_hold_h = value(p["tce_hold_after_resolution_h"])
        fever = crs["fever"]
        self.fever = fever
        self.defervescence = from_spec(fever["defervescence_after_anticytokine"])
        self.recurrence_p = value(fever["recurrence_probability"])
        self.recurrence_window = value(fever["recurrence_window_h"])
        trig = mgmt["triggers"]
        self.toci_delay = (
            float(trig["tocilizumab_delay_h"]["min"]),
            float(trig["tocilizumab_delay_h"]["max"]),
        )
        self.toci_grade1_h = value(trig["tocilizumab_grade1_hours"])
        self.toci_repeat_h = value(trig["tocilizumab_repeat_after_h"])
        self.toci_max = int(value(trig["tocilizumab_max_doses"]))
        eff = mgmt["effects"]
        self.early_hr = value(eff["early_tocilizumab_escalation_hr"])
        self.early_duration = value(eff["early_tocilizumab_duration_factor"])
        self.withheld_hr = value(eff["withheld_tocilizumab_escalation_hr"])
        self.withheld_duration = value(eff["withheld_tocilizumab_duration_factor"])
        doses = mgmt["doses"]
        self.toci_mg_kg = value(doses["tocilizumab_mg_per_kg"])
        self.toci_max_mg = value(doses["tocilizumab_max_mg"])
        self.toci_infusion_h = value(doses["tocilizumab_infusion_h"])
        self.dex_mg = value(doses["dexamethasone_mg"])
        self.dex_interval = value(doses["dexamethasone_interval_h"])
        self.mp_mg = value(doses["methylprednisolone_mg"])
        self.mp_days = int(value(doses["methylprednisolone_days"]))
        self.premed_dex_mg = value(doses["tce_premedication_dexamethasone_mg"])
        self.premed_apap_mg = value(doses["tce_premedication_acetaminophen_mg"])
        self.premed_lead_h = value(doses["tce_premedication_lead_h"])
        ip = icans["parameters"]
        self.icans_log_odds = (value(ip["crs_grade2_log_odds"]), value(ip["crs_grade3_log_odds"]))
        self.icans_q2 = {"car_t": value(ip["q2_car_t"]), "tce": value(ip["q2_tce"])}
        self.icans_q4 = value(ip["q4_given_3"])
        self.icans_step = from_spec(icans["distributions"]["icans_rung_step"])


_PARAMS: _Params | None = None


def params() -> _Params:
    global _PARAMS
    if _PARAMS is None:
        _PARAMS = _Params()
    return _PARAMS


def sample_one(dist: WaitingTime, rng: np.random.Generator) -> float:
    return float(dist.sample(rng, 1)[0])


def ladder_max(rng: np.random.Generator, q2: float, q3: float, q4: float) -> int:
    """Climb the grade ladder of risk-and-epidemiology.md §4.5 [A]."""
    rung = 1
    for q in (q2, q3, q4):
        if rng.random() < q:
            rung += 1
        else:
            break
    return rung


def _reach_times(rng: np.random.Generator, reach: tuple[WaitingTime, ...], planned_max: int) -> list[float]:
    """Times from onset to reach rungs 2..planned_max, monotone (resampled, §5.4 step 4)."""
    times: list[float] = [0.0]
    for k in range(2, planned_max + 1):
        dist = reach[k - 2]
        candidate = sample_one(dist, rng)
        for _ in range(params().resample_attempts):
            if candidate > times[-1] + 1.0:
                break
            candidate = sample_one(dist, rng)
        times.append(max(candidate, times[-1] + 1.0))
    return times


def _perturb(
    rng: np.random.Generator,
    reach: tuple[WaitingTime, ...],
    times: list[float],
    from_h: float,
    hazard_ratio: float,
) -> list[float]:
    """Apply S'(t) = S(t)^HR to every escalation still ahead at ``from_h`` (§5.4a); may lower the maximum."""
    planned_peak = times[-1]
    out = list(times)
    for k in range(2, len(times) + 1):
        index = k - 1
        if index >= len(out) or out[index] <= from_h:
            continue
        dist = reach[k - 2]
        if not isinstance(dist, SplitLogNormal):
            continue
        c = max(from_h, out[index - 1])
        s_c = dist.survival(c)
        if s_c <= 1e-9:
            continue
        u = min(max(dist.survival(out[index]) / s_c, 1e-12), 1.0)
        new_time = max(dist.inverse_survival(u ** (1.0 / hazard_ratio) * s_c), out[index - 1] + 1.0)
        if hazard_ratio < 1.0 and new_time > planned_peak:
            return out[:index]
        out[index] = min(new_time, planned_peak) if hazard_ratio > 1.0 else new_time
    return out


def _segments(onset_h: int, reach: list[float], resolve_rel: float) -> list[tuple[int, int, int]]:
    """Rung segments: climb at the reach times, then step down evenly to resolution (§5.4 step 6)."""
    top = len(reach)
    peak = reach[-1]
    step = (resolve_rel - peak) / top
    marks: list[tuple[float, int]] = [(t, k + 1) for k, t in enumerate(reach)]
    marks += [(peak + j * step, top - j) for j in range(1, top)]
    cuts = [onset_h + round(t) for t, _ in marks] + [onset_h + round(resolve_rel)]
    segments: list[tuple[int, int, int]] = []
    for (_, rung), start, end in zip(marks, cuts[:-1], cuts[1:], strict=True):
        start = max(start, segments[-1][1] if segments else onset_h)
        end = max(end, start + 1)
        segments.append((start, end, rung))
    return segments


def _tocilizumab_dose_mg(weight_kg: float) -> float:
    p = params()
    return min(p.toci_mg_kg * weight_kg, p.toci_max_mg)


def _delay(rng: np.random.Generator) -> float:
    low, high = params().toci_delay
    return float(rng.uniform(low, high))


@dataclass
class _EpisodePlan:
    onset_h: int
    planned_max: int
    reach: list[float]
    resolve_rel: float
    dies: bool
    pattern: str
    raw_duration_h: float
    floor_h: float


def plan_episode(
    rng: np.random.Generator, product: ProductModel, onset_h: int, q3: float, duration_scale: float = 1.0
) -> _EpisodePlan:
    """Sample the plan of one episode: maximum rung, reach times, duration (§5.4 steps 2-5).

    ``duration_scale`` [D] is fitted on the pilot cohort so that the median duration after the grade ≥ 3
    multiplier and the "24 h after the peak" floor still equals the product's published median.
    """
    p = params()
    reach_dists = p.tce_reach if product.is_tce else p.car_t_reach
    planned = ladder_max(rng, product.q2, q3, product.q4)
    dies = planned == 4 and rng.random() < product.q5
    reach = _reach_times(rng, reach_dists, planned)
    raw = sample_one(product.duration, rng) * (p.duration_multiplier if planned >= 3 else 1.0)
    floor = reach[-1] + p.min_after_peak
    weights = np.array([product.component_mix[k] for k in PATTERNS])
    pattern = PATTERNS[int(rng.choice(3, p=weights / weights.sum()))]
    return _EpisodePlan(onset_h, planned, reach, max(raw * duration_scale, floor), dies, pattern, raw, floor)


def play_episode(
    rng: np.random.Generator,
    product: ProductModel,
    plan: _EpisodePlan,
    policy_: Policy,
    probs: PolicyProbabilities,
    weight_kg: float,
    administrations: list[Administration],
) -> Episode:
    """Play out one planned episode under the management policy (§5.4a, §5.6)."""
    p = params()
    reach_dists = p.tce_reach if product.is_tce else p.car_t_reach
    reach = list(plan.reach)
    resolve_rel = plan.resolve_rel
    u = rng.random()
    if plan.planned_max >= 3:
        reference_gives = u < probs.tocilizumab_grade3
    elif plan.planned_max == 2:
        reference_gives = u < probs.tocilizumab_high
    else:
        reference_gives = resolve_rel > p.toci_grade1_h and u < probs.tocilizumab_low
    toci_rel: float | None = None
    if policy_.tocilizumab_withheld:
        if reference_gives:
            from_h = reach[1] if len(reach) > 1 else p.toci_grade1_h
            reach = _perturb(rng, reach_dists, reach, from_h, p.withheld_hr)
            resolve_rel = from_h + (resolve_rel - from_h) * p.withheld_duration
    elif policy_.tocilizumab_earlier and resolve_rel > p.toci_grade1_h:
        toci_rel = min(reach[1] if len(reach) > 1 else math.inf, p.toci_grade1_h) + _delay(rng)
        if len(reach) < 2 or toci_rel < reach[1]:
            reach = _perturb(rng, reach_dists, reach, toci_rel, p.early_hr)
            resolve_rel = toci_rel + (resolve_rel - toci_rel) * p.early_duration
    elif reference_gives:
        toci_rel = (reach[1] if plan.planned_max >= 2 else p.toci_grade1_h) + _delay(rng)
    resolve_rel = max(resolve_rel, reach[-1] + p.min_after_peak)
    segments = _segments(plan.onset_h, reach, resolve_rel)
    realised = len(reach)
    death_h: int | None = None
    if plan.dies and realised == 4:
        start, end, _ = next(s for s in segments if s[2] == 4)
        death_h = int(start + rng.integers(0, max(end - start, 1)))
        segments = [(s, min(e, death_h + 1), r) for s, e, r in segments if s <= death_h]
    resolve_h = segments[-1][1]
    fever_excess = float(
        rng.gamma(
            float(p.fever["peak_gamma_shape"]["value"]),
            float(p.fever["peak_gamma_scale_base"]["value"])
            + float(p.fever["peak_gamma_scale_per_grade"]["value"]) * (realised - 1),
        )
    )
    fever_peak = min(float(p.fever["peak_base_c"]["value"]) + fever_excess, float(p.fever["peak_cap_c"]["value"]))
    episode = Episode(
        onset_h=plan.onset_h,
        planned_max=plan.planned_max,
        realised_max=realised,
        segments=segments,
        resolve_h=resolve_h,
        death_h=death_h,
        pattern=plan.pattern,
        fever_peak_c=fever_peak,
    )
    if toci_rel is not None and plan.onset_h + toci_rel < resolve_h:
        _give_tocilizumab(rng, episode, plan.onset_h + toci_rel, weight_kg, administrations)
    return episode


def _give_tocilizumab(
    rng: np.random.Generator,
    episode: Episode,
    first_h: float,
    weight_kg: float,
    administrations: list[Administration],
) -> None:
    """First dose, then repeats after ≥ 8 h while not improving, ≤ 4 doses (§5.6 [L])."""
    p = params()
    hour = first_h
    while hour < episode.resolve_h and len(episode.tocilizumab_h) < p.toci_max:
        episode.tocilizumab_h.append(hour)
        administrations.append(
            Administration(hour, "tocilizumab", _tocilizumab_dose_mg(weight_kg), "mg", "iv", p.toci_infusion_h, "crs")
        )
        nxt = hour + p.toci_repeat_h
        if episode.rung_at(nxt) < max(episode.rung_at(hour), 2):
            break
        hour = nxt + float(rng.uniform(0.0, 1.0))


def give_dexamethasone(start_h: float, end_h: float, reason: str, administrations: list[Administration]) -> None:
    """Dexamethasone 10 mg IV every 6 h from start until end (management.md CRS-3a; §5.6)."""
    p = params()
    hour = start_h
    while True:
        administrations.append(Administration(hour, "dexamethasone", p.dex_mg, "mg", "iv", 0.25, reason))
        hour += p.dex_interval
        if hour >= end_h:
            break


def give_crs_steroids(
    rng: np.random.Generator,
    episode: Episode,
    probs: PolicyProbabilities,
    administrations: list[Administration],
) -> None:
    """Corticosteroids for CRS: grade ≥ 3 (dexamethasone; methylprednisolone at grade 4) or grade 2 not
    improving (management.md CRS-2d, CRS-3a, CRS-4a-alt), with the product's calibrated probabilities."""
    p = params()
    top = episode.realised_max
    if top < 2:
        return
    u = rng.random()
    if top >= 3 and u >= probs.steroid_grade3:
        return
    if top == 2 and u >= probs.steroid_grade2:
        return
    trigger = 3 if top >= 3 else 2
    first = next(s for s in episode.segments if s[2] == trigger)
    wait = _delay(rng) if trigger == 3 else min(8.0, (first[1] - first[0]) / 2)
    start = first[0] + wait
    end = max(s[1] for s in episode.segments if s[2] >= 2)
    if start >= episode.resolve_h:
        return
    episode.steroid_start_h = start
    mp_window: tuple[float, float] | None = None
    if top >= 4:
        g4 = next(s for s in episode.segments if s[2] == 4)
        mp_start = g4[0] + _delay(rng)
        if mp_start < episode.resolve_h:
            mp_window = (mp_start, mp_start + p.mp_days * HOURS_PER_DAY)
            for day in range(p.mp_days):
                hour = mp_start + day * HOURS_PER_DAY
                if episode.death_h is None or hour < episode.death_h:
                    administrations.append(Administration(hour, "methylprednisolone", p.mp_mg, "mg", "iv", 1.0, "crs"))
    hour = start
    while hour < max(end, start + 0.5):
        in_mp = mp_window is not None and mp_window[0] <= hour < mp_window[1]
        if not in_mp and (episode.death_h is None or hour < episode.death_h):
            administrations.append(Administration(hour, "dexamethasone", p.dex_mg, "mg", "iv", 0.25, "crs"))
        hour += p.dex_interval


def settle_fever(
    rng: np.random.Generator,
    episode: Episode,
    administrations: list[Administration],
    weight_kg: float,
    allow_tocilizumab: bool,
) -> None:
    """Fever stops T_def after the first anti-cytokine or corticosteroid given after onset, and may recur
    once within 72 h while CRS is active, prompting another tocilizumab dose (§5.6 [A])."""
    p = params()
    anti = sorted(
        a.start_h
        for a in administrations
        if a.agent in {"tocilizumab", "dexamethasone", "methylprednisolone"}
        and a.reason != "premedication"
        and episode.onset_h <= a.start_h < episode.resolve_h
    )
    if not anti:
        return
    off = anti[0] + sample_one(p.defervescence, rng)
    if off >= episode.resolve_h:
        return
    if rng.random() >= p.recurrence_p or episode.steroid_start_h is not None:
        episode.fever_off.append((off, float(episode.resolve_h)))
        return
    window_end = min(off + p.recurrence_window, float(episode.resolve_h))
    if window_end - off < 2.0:
        episode.fever_off.append((off, float(episode.resolve_h)))
        return
    recur = float(rng.uniform(off + 1.0, window_end))
    episode.fever_off.append((off, recur))
    if allow_tocilizumab and episode.rung_at(recur) >= 2 and len(episode.tocilizumab_h) < p.toci_max:
        dose_h = recur + _delay(rng)
        if dose_h < episode.resolve_h:
            episode.tocilizumab_h.append(dose_h)
            administrations.append(
                Administration(
                    dose_h,
                    "tocilizumab",
                    _tocilizumab_dose_mg(weight_kg),
                    "mg",
                    "iv",
                    p.toci_infusion_h,
                    "crs",
                )
            )
            again = dose_h + sample_one(p.defervescence, rng)
            if again < episode.resolve_h:
                episode.fever_off.append((again, float(episode.resolve_h)))


def icans_probability(intercept: float, crs_max: int) -> float:
    """logit P(ICANS) = a + 0.8·I(CRS ≥ 2) + 1.2·I(CRS ≥ 3) (§5.8 [A])."""
    b2, b3 = params().icans_log_odds
    x = intercept + (b2 if crs_max >= 2 else 0.0) + (b3 if crs_max >= 3 else 0.0)
    return 1.0 / (1.0 + math.exp(-x))


def icans_ladder(product: ProductModel) -> tuple[float, float, float]:
    """q2, q3, q4 of the ICANS ladder: q3 from the product's grade ≥ 3 share (§5.8), q2 and q4 [A]."""
    p = params()
    q2 = p.icans_q2[product.product_class]
    share3 = 0.0 if product.icans_any.value == 0 else product.icans_grade3plus.value / product.icans_any.value
    q2 = max(q2, share3)
    q3 = 0.0 if q2 == 0 else min(1.0, share3 / q2)
    return q2, q3, p.icans_q4


def simulate_icans(
    rng: np.random.Generator,
    product: ProductModel,
    intercept: float,
    crs_max: int,
    anchor_h: float,
    horizon_h: int,
) -> IcansCourse | None:
    """Sample an ICANS course (§5.8): occurrence, onset, maximum grade, evenly spaced de-escalation."""
    if rng.random() >= icans_probability(intercept, min(crs_max, 4)):
        return None
    p = params()
    onset = math.ceil(anchor_h + sample_one(product.icans_onset, rng))
    if onset >= horizon_h:
        return None
    q2, q3, q4 = icans_ladder(product)
    top = ladder_max(rng, q2, q3, q4)
    reach = [0.0]
    for _ in range(2, top + 1):
        reach.append(reach[-1] + max(1.0, sample_one(p.icans_step, rng)))
    duration = max(sample_one(product.icans_duration, rng), reach[-1] + p.min_after_peak)
    segments = _segments(onset, reach, duration)
    return IcansCourse(onset, top, segments, segments[-1][1])
