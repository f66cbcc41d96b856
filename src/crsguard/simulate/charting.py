"""What the hospital charts for one simulated patient (risk-and-epidemiology.md §5.7; issue 4).

Observations are generated from the latent hourly state with measurement noise, but never across the
thresholds that make the latent grade observable (fever 38.0 °C, SBP 90 mmHg, nasal cannula 6 L/min): a
correct grader must recover the latent grade from them. Charting errors (°F charted as °C, decimal slips)
are added afterwards at a configurable rate and listed separately so that validators can be tested.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crsguard.model.vocabulary import DRUGS, PRODUCTS, QUANTITIES
from crsguard.simulate.course import Administration
from crsguard.simulate.latent import LatentHourly
from crsguard.simulate.parameters import load_module, value
from crsguard.simulate.patient import SimulatedPatient

US_PER_MINUTE = 60_000_000
MINUTES_PER_HOUR = 60

VITALS = (
    "body_temperature",
    "heart_rate",
    "systolic_bp",
    "diastolic_bp",
    "mean_arterial_pressure",
    "respiratory_rate",
    "spo2",
    "oxygen_flow_rate",
    "fio2",
    "body_weight",
)
ICE = (
    "ice_total",
    "ice_orientation",
    "ice_naming",
    "ice_commands",
    "ice_writing",
    "ice_attention",
    "ice_unable",
    "consciousness_astct",
)
LABS = (
    "crp",
    "ferritin",
    "ldh",
    "fibrinogen",
    "ast",
    "alt",
    "bilirubin_total",
    "creatinine",
    "wbc",
    "anc",
    "lymphocytes_abs",
    "hemoglobin",
    "platelets",
)
# Quantities the simulator charts; their index is the integer code used in the column buffers.
CHARTED_QUANTITIES: tuple[str, ...] = (*VITALS, *ICE, *LABS)
Q = {name: index for index, name in enumerate(CHARTED_QUANTITIES)}
ICE_ITEM_MAX = (4, 3, 1, 1, 1)
SOURCE_OF_QUANTITY = {
    **{q: "ehr-vitals" for q in VITALS},
    **{q: "manual-ice-form" for q in ICE},
    **{q: "lis" for q in LABS},
}
METHODS = ("calculated", "measured", "sedation", "unarousable")
CODES = ("true", "normal", "awakens_to_voice", "awakens_to_tactile", "unarousable_or_coma")
LAB_SPECIMEN = {
    "wbc": "blood",
    "anc": "blood",
    "lymphocytes_abs": "blood",
    "hemoglobin": "blood",
    "platelets": "blood",
    "fibrinogen": "plasma",
}

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def source_code(quantity: str) -> str | None:
    """``system|code`` of the preferred LOINC code of a quantity (interop.md §8.2 ``source_code``)."""
    codes = QUANTITIES[quantity].loinc
    return f"http://loinc.org|{codes[0]}" if codes else None


@dataclass
class ObservationColumns:
    """Column buffers of one patient's observations (codes, not strings, for speed)."""

    minute: list[IntArray] = field(default_factory=list)
    quantity: list[IntArray] = field(default_factory=list)
    value: list[FloatArray] = field(default_factory=list)
    code: list[IntArray] = field(default_factory=list)
    method: list[IntArray] = field(default_factory=list)
    link: list[IntArray] = field(default_factory=list)
    available_delay_min: list[IntArray] = field(default_factory=list)

    def add(
        self,
        minute: IntArray,
        quantity: str,
        values: FloatArray | None = None,
        *,
        code: IntArray | None = None,
        method: int = -1,
        link: IntArray | None = None,
        available_delay_min: IntArray | None = None,
    ) -> None:
        n = len(minute)
        if n == 0:
            return
        self.minute.append(np.asarray(minute, dtype=np.int64))
        self.quantity.append(np.full(n, Q[quantity], dtype=np.int64))
        self.value.append(np.full(n, np.nan) if values is None else np.asarray(values, dtype=np.float64))
        self.code.append(np.full(n, -1, dtype=np.int64) if code is None else np.asarray(code, dtype=np.int64))
        self.method.append(np.full(n, method, dtype=np.int64))
        self.link.append(np.full(n, -1, dtype=np.int64) if link is None else np.asarray(link, dtype=np.int64))
        self.available_delay_min.append(
            np.full(n, -1, dtype=np.int64) if available_delay_min is None else available_delay_min
        )

    def concat(self) -> dict[str, np.ndarray]:
        if not self.minute:
            empty_i = np.zeros(0, dtype=np.int64)
            return {k: (np.zeros(0) if k == "value" else empty_i) for k in self.__dataclass_fields__}
        return {k: np.concatenate(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass
class ChartedPatient:
    """Everything written for one patient."""

    patient: dict[str, Any]
    observations: dict[str, np.ndarray]
    interventions: list[dict[str, Any]]
    events: list[dict[str, Any]]
    truth: dict[str, np.ndarray]
    charting_errors: list[dict[str, Any]]


@dataclass
class Interval:
    """An intervention interval in hours since t0 (end None = still running at the horizon)."""

    kind: str
    agent: str
    start_h: float
    end_h: float | None
    extra: dict[str, Any]


def _blocks(levels: NDArray[np.int8], minimum: int) -> list[tuple[int, int, int]]:
    """Maximal runs of a constant level ≥ ``minimum``: (start, end exclusive, level)."""
    if not (levels >= minimum).any():
        return []
    padded = np.concatenate([[-1], levels.astype(np.int64), [-1]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    starts, ends = edges[:-1], edges[1:]
    return [(int(a), int(b), int(levels[a])) for a, b in zip(starts, ends, strict=True) if levels[a] >= minimum]


def _choice(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    names = list(weights)
    p = np.array([float(weights[n]) for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def oxygen_intervals(rng: np.random.Generator, latent: LatentHourly) -> tuple[list[Interval], NDArray[np.int64]]:
    """Device intervals per constant hypoxia level (§5.7), and the interval index per hour (−1 none)."""
    oxygen = load_module("charting")["oxygen"]
    hours = latent.hours
    owner = np.full(hours, -1, dtype=np.int64)
    intervals: list[Interval] = []
    for start, end, level in _blocks(latent.hypoxia, 1):
        if level == 1:
            device = "nasal_cannula"
            flow: float | None = float(
                rng.integers(
                    int(oxygen["nasal_cannula_flow_l_min"]["min"]),
                    int(oxygen["nasal_cannula_flow_l_min"]["max"]) + 1,
                )
            )
            fio2: float | None = None
        elif level == 2:
            device = _choice(rng, oxygen["high_flow_devices"]["values"])
            spec = oxygen[
                "high_flow_nasal_cannula_flow_l_min" if device == "high_flow_nasal_cannula" else "mask_flow_l_min"
            ]
            flow = float(rng.integers(int(spec["min"]), int(spec["max"]) + 1))
            has_fio2 = device in ("high_flow_nasal_cannula", "venturi_mask")
            fio2 = (
                float(
                    rng.integers(int(oxygen["high_flow_fio2_pct"]["min"]), int(oxygen["high_flow_fio2_pct"]["max"]) + 1)
                )
                if has_fio2
                else None
            )
        else:
            device = _choice(rng, oxygen["positive_pressure_devices"]["values"])
            flow = None
            spec = oxygen["positive_pressure_fio2_pct"]
            fio2 = float(rng.integers(int(spec["min"]), int(spec["max"]) + 1))
        owner[start:end] = len(intervals)
        intervals.append(
            Interval(
                "oxygen_device",
                device,
                float(start),
                None if end >= hours else float(end),
                {"flow": flow, "fio2": fio2},
            )
        )
    return intervals, owner


def vasopressor_intervals(rng: np.random.Generator, latent: LatentHourly, weight_kg: float) -> list[Interval]:
    """Norepinephrine titrated in 4-h segments while hypotension level ≥ 2; a second non-vasopressin agent at
    level 3; vasopressin sometimes added (still ASTCT grade 3) (§5.7, management.yaml)."""
    spec = load_module("management")["vasopressors"]
    step = int(value(spec["titration_interval_h"]))
    hours = latent.hours
    out: list[Interval] = []

    def titrated(agent: str, start: int, end: int, low: float, high: float) -> None:
        rate = float(rng.uniform(low, high))
        for seg_start in range(start, end, step):
            seg_end = min(seg_start + step, end)
            out.append(
                Interval(
                    "drug_infusion_segment",
                    agent,
                    float(seg_start),
                    None if seg_end >= hours else float(seg_end),
                    {"rate": round(rate, 3), "unit": "ug/kg/min", "weight": weight_kg},
                )
            )
            rate = float(np.clip(rate * rng.uniform(0.75, 1.35), low / 2, high * 2))

    start_range = spec["norepinephrine_start_ug_kg_min"]
    second_agents = list(spec["second_agents"]["values"])
    rates = spec["second_agent_rate_ug_kg_min"]
    for start, end, _ in _blocks((latent.hypotension >= 2).astype(np.int8), 1):
        titrated("norepinephrine", start, end, float(start_range["min"]), float(start_range["max"]))
        second = second_agents[int(rng.integers(len(second_agents)))]
        for s3, e3, _ in _blocks((latent.hypotension[start:end] >= 3).astype(np.int8), 1):
            low, high = rates[second]
            titrated(second, start + s3, start + e3, float(low), float(high))
        if end - start >= 6 and rng.random() < value(spec["vasopressin_add_probability"]):
            out.append(
                Interval(
                    "drug_infusion_segment",
                    "vasopressin",
                    float(start + 3),
                    None if end >= hours else float(end),
                    {"rate": value(spec["vasopressin_u_min"]), "unit": "U/min", "weight": None},
                )
            )
    return out


def _vitals(
    rng: np.random.Generator,
    latent: LatentHourly,
    baseline_sbp: float,
    oxygen: list[Interval],
    owner: NDArray[np.int64],
    buffers: ObservationColumns,
) -> None:
    vit = load_module("charting")["vitals"]
    hours = np.flatnonzero(latent.readings)
    n = len(hours)
    minute = hours * MINUTES_PER_HOUR + rng.integers(0, 10, n)
    fever = latent.fever[hours]
    temp = np.round(latent.temperature_c[hours] + rng.normal(0, value(vit["temperature_noise_sd_c"]), n), 1)
    temp = np.where(fever, np.maximum(temp, 38.0), np.minimum(temp, 37.9))
    hypo = latent.hypotension[hours]
    hr_spec = vit["heart_rate_base"]
    low_extra, high_extra = (float(x) for x in hr_spec["hypotension_extra"])
    extra = np.where(hypo >= 1, rng.uniform(low_extra, high_extra, n), 0.0)
    heart = np.round(
        hr_spec["value"]
        + hr_spec["per_degree_c"] * np.maximum(temp - 37.0, 0)
        + extra
        + rng.normal(0, hr_spec["noise_sd"], n)
    )
    normal_sbp = np.maximum(
        np.round(baseline_sbp + rng.normal(0, value(vit["sbp_noise_sd"]), n)),
        vit["sbp_baseline"]["min_normotensive"],
    )
    fluid = np.round(rng.uniform(vit["sbp_fluid_responsive"]["min"], vit["sbp_fluid_responsive"]["max"], n))
    pressors = np.round(rng.uniform(vit["sbp_on_vasopressors"]["min"], vit["sbp_on_vasopressors"]["max"], n))
    sbp = np.where(hypo == 0, normal_sbp, np.where(hypo == 1, fluid, pressors))
    dbp = np.round(sbp * rng.uniform(vit["dbp_fraction_of_sbp"]["min"], vit["dbp_fraction_of_sbp"]["max"], n))
    mean_ap = np.round((sbp + 2 * dbp) / 3)
    hypox = latent.hypoxia[hours]
    rr_spec = vit["respiratory_rate"]
    resp = np.round(
        rng.uniform(rr_spec["min"], rr_spec["max"], n)
        + np.where(
            hypox >= 1,
            rng.uniform(float(rr_spec["hypoxia_extra"][0]), float(rr_spec["hypoxia_extra"][1]), n),
            0.0,
        )
    )
    spo2 = np.where(
        hypox >= 1,
        rng.integers(vit["spo2_on_oxygen"]["min"], vit["spo2_on_oxygen"]["max"] + 1, n),
        rng.integers(vit["spo2_room_air"]["min"], vit["spo2_room_air"]["max"] + 1, n),
    )
    buffers.add(minute, "body_temperature", temp.astype(np.float64))
    buffers.add(minute, "heart_rate", heart)
    buffers.add(minute, "systolic_bp", sbp)
    buffers.add(minute, "diastolic_bp", dbp)
    buffers.add(minute, "mean_arterial_pressure", mean_ap, method=METHODS.index("calculated"))
    buffers.add(minute, "respiratory_rate", resp)
    buffers.add(minute, "spo2", spo2.astype(np.float64))
    link = owner[hours]
    on_o2 = link >= 0
    flows = np.array([np.nan if i < 0 or oxygen[i].extra["flow"] is None else oxygen[i].extra["flow"] for i in link])
    fio2s = np.array([np.nan if i < 0 or oxygen[i].extra["fio2"] is None else oxygen[i].extra["fio2"] for i in link])
    has_flow = on_o2 & ~np.isnan(flows) if n else on_o2
    has_fio2 = on_o2 & ~np.isnan(fio2s) if n else on_o2
    buffers.add(minute[has_flow], "oxygen_flow_rate", flows[has_flow], link=link[has_flow])
    buffers.add(minute[has_fio2], "fio2", fio2s[has_fio2], link=link[has_fio2])


def _bump(u: FloatArray, peak_h: float) -> FloatArray:
    """0 before onset, rises to 1 at ``peak_h`` and decays slowly: (u/τ)² e^{2(1 − u/τ)} [A]."""
    x = np.maximum(u, 0.0) / peak_h
    return np.asarray(x * x * np.exp(2 * (1 - x)), dtype=np.float64)


def _lab_values(rng: np.random.Generator, sim: SimulatedPatient, lab_hours: FloatArray) -> dict[str, FloatArray]:
    """Daily lab trajectories around CRS (risk-and-epidemiology.md §2 shapes, §5.7 anchors; [A])."""
    labs = load_module("charting")["labs"]
    base = sim.baseline.labs
    course = sim.course
    n = len(lab_hours)
    crp = np.full(n, base["crp"])
    ferritin = np.full(n, base["ferritin"])
    fibrinogen = np.full(n, base["fibrinogen"])
    liver = np.ones(n)
    kidney = np.ones(n)
    for episode in course.episodes:
        u = lab_hours - episode.onset_h
        grade_key = str(min(episode.realised_max, 3))
        peak = float(labs["crp_peak_median_by_grade"][grade_key]) * math.exp(
            value(labs["crp_peak_log_sd"]) * rng.standard_normal()
        )
        shape = _bump(u, value(labs["crp_peak_after_onset_h"]))
        if episode.tocilizumab_h:
            since = lab_hours - episode.tocilizumab_h[0] - 24.0
            shape = shape * np.where(since > 0, np.exp(-since * math.log(2) / value(labs["crp_half_life_h"])), 1.0)
        crp = crp + peak * shape
        multiple = float(labs["ferritin_peak_multiple_by_grade"][grade_key])
        ferritin = ferritin * (1 + (multiple - 1) * _bump(u, value(labs["ferritin_peak_after_onset_h"])))
        if episode.realised_max >= 3:
            fibrinogen = fibrinogen * (1 - value(labs["fibrinogen_drop_fraction_grade3plus"]) * _bump(u, 96.0))
            rise = labs["creatinine_rise_multiple_grade3plus"]
            kidney = kidney * (1 + (rng.uniform(rise["min"], rise["max"]) - 1) * _bump(u, 72.0))
        if episode.realised_max >= 2:
            rise = labs["liver_rise_multiple_grade2plus"]
            liver = liver * (1 + (rng.uniform(rise["min"], rise["max"]) - 1) * _bump(u, 84.0))
    anc, lymph, platelet_factor = _marrow(rng, sim, lab_hours)
    values = {
        "crp": crp,
        "ferritin": ferritin,
        "ldh": base["ldh"] * liver,
        "fibrinogen": fibrinogen,
        "ast": base["ast"] * liver,
        "alt": base["alt"] * liver,
        "bilirubin_total": np.full(n, base["bilirubin_total"]),
        "creatinine": base["creatinine"] * kidney,
        "anc": anc,
        "lymphocytes_abs": lymph,
        "hemoglobin": base["hemoglobin"] * (1 - 0.1 * _bump(lab_hours, 168.0)),
        "platelets": base["platelets"] * platelet_factor,
    }
    noise = value(labs["noise_cv"])
    noisy = {k: v * np.exp(noise * rng.standard_normal(n)) for k, v in values.items()}
    noisy["wbc"] = noisy["anc"] / 0.6 + noisy["lymphocytes_abs"]
    return noisy


def _marrow(
    rng: np.random.Generator, sim: SimulatedPatient, hours: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ANC, lymphocytes and platelet factor: post-lymphodepletion neutropenia lasting a CAR-HEMATOTOX-group
    duration (§5.3 step 5 medians [P], group share [A]); T-cell engagers only a mild dip [A]."""
    labs = load_module("charting")["labs"]
    base = sim.baseline.labs
    n = len(hours)
    nadir_frac = rng.uniform(labs["platelet_nadir_fraction"]["min"], labs["platelet_nadir_fraction"]["max"])
    if sim.course.crs_max >= 3:
        nadir_frac *= 0.8
    platelet = 1 - (1 - nadir_frac) * _bump(hours, 240.0)
    if sim.product.is_tce:
        return (
            base["anc"] * rng.uniform(0.6, 0.9) * np.ones(n),
            np.full(n, base["lymphocytes_abs"] * 0.6),
            platelet,
        )
    high = rng.random() < value(labs["ht_high_share"])
    group = "ht_high" if high else "ht_low"
    days = labs["neutropenia_days_median"][group] * math.exp(labs["neutropenia_log_sd"][group] * rng.standard_normal())
    nadir = rng.uniform(labs["anc_nadir"]["min"], labs["anc_nadir"]["max"])
    start_h, end_h = 48.0, 48.0 + days * 24.0
    recovery = np.clip((hours - end_h) / (5 * 24.0), 0, 1)
    falling = np.clip(hours / start_h, 0, 1)
    anc = np.where(
        hours < start_h,
        base["anc"] * 0.6 * (1 - falling) + nadir * falling,
        np.where(hours < end_h, nadir, 0.5 + (base["anc"] - 0.5) * recovery),
    )
    lymph = 0.1 + (base["lymphocytes_abs"] - 0.1) * np.clip((hours - 240.0) / (20 * 24.0), 0, 1)
    return anc, lymph, platelet


LAB_DECIMALS = {
    "crp": 1,
    "ferritin": 0,
    "ldh": 0,
    "fibrinogen": 0,
    "ast": 0,
    "alt": 0,
    "bilirubin_total": 1,
    "creatinine": 2,
    "wbc": 2,
    "anc": 2,
    "lymphocytes_abs": 2,
    "hemoglobin": 1,
    "platelets": 0,
}


def _labs(
    rng: np.random.Generator,
    sim: SimulatedPatient,
    latent: LatentHourly,
    t0_hour: int,
    baseline_h: float,
    buffers: ObservationColumns,
) -> None:
    """Baseline labs before lymphodepletion (or before the first TCE dose), then daily at 06:00 (§5.1)."""
    lab_hour = int(value(load_module("charting")["schedule"]["labs_hour_utc"]))
    all_hours = np.arange(latent.hours)
    daily = all_hours[(all_hours + t0_hour) % 24 == lab_hour]
    hours = np.concatenate([[baseline_h], daily]).astype(np.float64)
    values = _lab_values(rng, sim, hours)
    for name, baseline in sim.baseline.labs.items():
        values[name][0] = baseline
    values["wbc"][0] = sim.baseline.labs["anc"] / 0.6 + sim.baseline.labs["lymphocytes_abs"]
    minute = np.round(hours * MINUTES_PER_HOUR).astype(np.int64)
    delay = rng.integers(60, 150, len(hours)).astype(np.int64)
    for name, series in values.items():
        buffers.add(minute, name, np.round(series, LAB_DECIMALS[name]), available_delay_min=delay)


def _ice(
    rng: np.random.Generator,
    latent: LatentHourly,
    t0_hour: int,
    oxygen: list[Interval],
    owner: NDArray[np.int64],
    grade4_unarousable: bool,
    buffers: ObservationColumns,
) -> None:
    """ICE every 8 h while at risk, 12 h otherwise, and at every change of the latent ICANS grade (§5.1)."""
    schedule = load_module("charting")["schedule"]
    icans_p = load_module("icans")["parameters"]
    hours = np.arange(latent.hours)
    clock = (hours + t0_hour) % 24
    at_risk = (latent.icans > 0) | (latent.rung >= 2)
    every_risk = int(value(schedule["ice_every_h_at_risk"]))
    every_quiet = int(value(schedule["ice_every_h_quiet"]))
    changed = np.zeros(latent.hours, dtype=bool)
    changed[1:] = latent.icans[1:] != latent.icans[:-1]
    due = np.where(at_risk, clock % every_risk == 2, clock % every_quiet == 2) | changed
    idx = np.flatnonzero(due)
    level = latent.icans[idx]
    sedated = np.array(
        [owner[h] >= 0 and oxygen[owner[h]].agent == "invasive_mechanical_ventilation" for h in idx],
        dtype=bool,
    )
    unarousable = (level == 4) & grade4_unarousable & ~sedated
    low = np.array([10, 7, 3, 0, 0])[level]
    high = np.array([10, 9, 6, 2, 2])[level]
    total = rng.integers(low, high + 1)
    assessed = ~sedated & ~unarousable
    minute = idx * MINUTES_PER_HOUR + 20 + rng.integers(0, 10, len(idx))
    items = np.array([_ice_items(rng, int(t)) for t in total]).reshape(-1, 5)
    buffers.add(minute[assessed], "ice_total", total[assessed].astype(np.float64))
    for column, name in enumerate(ICE[1:6]):
        buffers.add(minute[assessed], name, items[assessed, column].astype(np.float64))
    voice = rng.random(len(idx)) < value(icans_p["voice_share_grade2"])
    tactile = rng.random(len(idx)) < value(icans_p["tactile_share_grade3"])
    consciousness = np.full(len(idx), CODES.index("normal"))
    consciousness[(level == 2) & voice] = CODES.index("awakens_to_voice")
    consciousness[(level == 3) & tactile] = CODES.index("awakens_to_tactile")
    consciousness[unarousable] = CODES.index("unarousable_or_coma")
    shown = ~sedated
    buffers.add(minute[shown], "consciousness_astct", code=consciousness[shown])
    unable = sedated | unarousable
    methods = np.where(sedated, METHODS.index("sedation"), METHODS.index("unarousable"))
    for method in np.unique(methods[unable]):
        pick = unable & (methods == method)
        buffers.add(minute[pick], "ice_unable", code=np.full(int(pick.sum()), CODES.index("true")), method=int(method))


def _ice_items(rng: np.random.Generator, total: int) -> list[int]:
    """Split an ICE total into orientation/naming/commands/writing/attention items that add up to it."""
    items = list(ICE_ITEM_MAX)
    deficit = 10 - total
    while deficit > 0:
        candidates = [i for i, v in enumerate(items) if v > 0]
        i = candidates[int(rng.integers(len(candidates)))]
        items[i] -= 1
        deficit -= 1
    return items


def chart_patient(
    rng: np.random.Generator,
    sim: SimulatedPatient,
    latent: LatentHourly,
    t0_us: int,
    t0_hour: int,
    patient_id: str,
    charting_error_rate: float = 0.0,
) -> ChartedPatient:
    """All rows of one patient (observations as code buffers; other tables as small row lists)."""
    charting = load_module("charting")
    course = sim.course
    hours = latent.hours
    buffers = ObservationColumns()
    oxygen, owner = oxygen_intervals(rng, latent)
    pressors = vasopressor_intervals(rng, latent, sim.baseline.weight_kg)
    sbp = charting["vitals"]["sbp_baseline"]
    baseline_sbp = float(np.clip(rng.normal(sbp["mean"], sbp["sd"]), sbp["min_normotensive"], 170))
    _vitals(rng, latent, baseline_sbp, oxygen, owner, buffers)
    if sim.product.is_tce:
        baseline_h = -24.0
    else:
        baseline_h = -value(charting["baseline"]["lymphodepletion_days_before_t0"]) * 24 - 2.0
    _labs(rng, sim, latent, t0_hour, baseline_h, buffers)
    grade4_unarousable = rng.random() < value(load_module("icans")["parameters"]["unarousable_share_grade4"])
    _ice(rng, latent, t0_hour, oxygen, owner, grade4_unarousable, buffers)
    every = int(value(charting["schedule"]["weight_every_days"])) * 24
    weight_hours = np.concatenate([[baseline_h], np.arange((6 - t0_hour) % 24, hours, every)]).astype(np.float64)
    weights = np.round(sim.baseline.weight_kg + rng.normal(0, 0.8, len(weight_hours)), 1)
    weights[0] = sim.baseline.weight_kg
    minutes = np.round(weight_hours * MINUTES_PER_HOUR).astype(np.int64)
    buffers.add(minutes, "body_weight", weights, method=METHODS.index("measured"))
    buffers.add(np.array([-120], dtype=np.int64), "ice_total", np.array([10.0]))
    observations = buffers.concat()
    if course.death_h is not None:
        alive = observations["minute"] < (course.death_h + 1) * MINUTES_PER_HOUR
        observations = {k: v[alive] for k, v in observations.items()}
    errors = _charting_errors(rng, observations, patient_id, charting_error_rate)
    interventions = _intervention_rows(sim, oxygen, pressors, t0_us, patient_id)
    events = _event_rows(rng, sim, latent, oxygen, t0_us, patient_id)
    truth_hours = np.arange(hours if course.death_h is None else min(course.death_h + 1, hours))
    truth: dict[str, np.ndarray] = {
        "hour": truth_hours,
        "crs_grade": latent.crs_grade[truth_hours],
        "icans_grade": latent.icans[truth_hours],
        "crs_rung": latent.rung[truth_hours],
        "fever": latent.fever[truth_hours],
        "fever_masked": latent.masked[truth_hours],
        "hypotension_level": latent.hypotension[truth_hours],
        "hypoxia_level": latent.hypoxia[truth_hours],
    }
    patient = _patient_row(sim, t0_us, patient_id, hours)
    return ChartedPatient(patient, observations, interventions, events, truth, errors)


def _charting_errors(
    rng: np.random.Generator, obs: dict[str, np.ndarray], patient_id: str, rate: float
) -> list[dict[str, Any]]:
    """°F charted as °C and decimal slips at ``rate`` per numeric value (issue 4; default 0)."""
    if rate <= 0:
        return []
    kinds = load_module("charting")["charting_errors"]["kinds"]
    f_share = float(kinds["fahrenheit_as_celsius"])
    numeric = ~np.isnan(obs["value"])
    hit = numeric & (rng.random(len(numeric)) < rate)
    out: list[dict[str, Any]] = []
    for row in np.flatnonzero(hit):
        quantity = CHARTED_QUANTITIES[int(obs["quantity"][row])]
        true_value = float(obs["value"][row])
        if quantity == "body_temperature" and rng.random() < f_share:
            kind, charted = "fahrenheit_as_celsius", round(true_value * 9 / 5 + 32, 1)
        else:
            kind, charted = "decimal_slip", true_value * (10.0 if rng.random() < 0.5 else 0.1)
        obs["value"][row] = charted
        out.append(
            {
                "patient_id": patient_id,
                "row": int(row),
                "quantity": quantity,
                "kind": kind,
                "true_value": true_value,
                "charted_value": charted,
            }
        )
    return out


def _iso_offsets(t0_us: int, hours: float | None) -> int | None:
    return None if hours is None else t0_us + round(hours * 60) * US_PER_MINUTE


def _patient_row(sim: SimulatedPatient, t0_us: int, patient_id: str, hours: int) -> dict[str, Any]:
    product = PRODUCTS[sim.product.name]
    first_dose = sim.product.schedule[0] if sim.product.is_tce else None
    ld_days = value(load_module("charting")["baseline"]["lymphodepletion_days_before_t0"])
    return {
        "patient_id": patient_id,
        "course_id": "1",
        "age_at_t0": min(sim.baseline.age_years, 90),
        "age_top_coded": sim.baseline.age_years >= 90,
        "sex": sim.baseline.sex,
        "weight_kg": sim.baseline.weight_kg,
        "height_cm": sim.baseline.height_cm,
        "product": product.name,
        "product_class": product.product_class,
        "product_code": f"http://www.whocc.no/atc|{product.atc}" if product.atc else None,
        "target_antigen": product.target_antigen,
        "t0": t0_us,
        "dose_value": None if first_dose is None else first_dose.dose_value,
        "dose_unit": None if first_dose is None else first_dose.dose_unit,
        "monitoring_end": t0_us + hours * 60 * US_PER_MINUTE,
        "site_id": "SIM",
        "lymphodepletion_start": None if sim.product.is_tce else t0_us - round(ld_days * 24 * 60) * US_PER_MINUTE,
    }


def _drug_code(agent: str) -> str | None:
    drug = DRUGS.get(agent)
    if drug is not None and drug.rxnorm:
        return f"http://www.nlm.nih.gov/research/umls/rxnorm|{drug.rxnorm}"
    product = PRODUCTS.get(agent)
    if product is not None and product.atc:
        return f"http://www.whocc.no/atc|{product.atc}"
    return None


def _intervention_rows(
    sim: SimulatedPatient,
    oxygen: Sequence[Interval],
    pressors: Sequence[Interval],
    t0_us: int,
    patient_id: str,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    death = sim.course.death_h

    def add(row: dict[str, Any]) -> None:
        row["patient_id"] = patient_id
        row["interval_id"] = f"{patient_id}-I{len(rows):04d}"
        row["record_id"] = row["interval_id"]
        row.setdefault("source", "ehr-mar")
        row["source_code"] = _drug_code(row["agent"])
        rows.append(row)

    for admin in sim.course.administrations:
        if death is not None and admin.start_h > death + 1:
            continue
        add(_administration_row(admin, sim.baseline.weight_kg, t0_us))
    for interval in pressors:
        add(
            {
                "kind": "drug_infusion_segment",
                "agent": interval.agent,
                "start_time": _iso_offsets(t0_us, interval.start_h),
                "end_time": _iso_offsets(t0_us, interval.end_h),
                "rate_value": interval.extra["rate"],
                "rate_unit": interval.extra["unit"],
                "route": "iv",
                "dosing_weight_kg": interval.extra["weight"],
                "weight_source": None if interval.extra["weight"] is None else "measured",
                "strength_basis": "base" if interval.agent != "vasopressin" else None,
                "bolus": False,
                "status": "completed" if interval.end_h is not None else "in-progress",
            }
        )
    for index, interval in enumerate(oxygen):
        add(
            {
                "kind": "oxygen_device",
                "agent": interval.agent,
                "source": "ehr-flowsheet",
                "start_time": _iso_offsets(t0_us, interval.start_h),
                "end_time": _iso_offsets(t0_us, interval.end_h),
                "bolus": False,
                "status": "completed" if interval.end_h is not None else "in-progress",
            }
        )
        rows[-1]["interval_id"] = rows[-1]["record_id"] = oxygen_interval_id(patient_id, index)
    return rows


def oxygen_interval_id(patient_id: str, index: int) -> str:
    """``interval_id`` of a device interval; observations of flow/FiO2 carry it as ``link_id`` (§8.2)."""
    return f"{patient_id}-O{index:03d}"


def _administration_row(admin: Administration, weight_kg: float, t0_us: int) -> dict[str, Any]:
    dose = None if math.isnan(admin.dose_value) else admin.dose_value
    row: dict[str, Any] = {
        "kind": admin.kind,
        "agent": admin.agent,
        "start_time": _iso_offsets(t0_us, admin.start_h),
        "end_time": _iso_offsets(t0_us, admin.start_h + admin.duration_h),
        "dose_value": dose,
        "dose_unit": admin.dose_unit or None,
        "route": admin.route,
        "bolus": False,
        "status": "completed",
    }
    if admin.agent == "tocilizumab" or admin.dose_unit == "mg/kg":
        row["dosing_weight_kg"] = weight_kg
        row["weight_source"] = "measured"
    return row


def _event_rows(
    rng: np.random.Generator,
    sim: SimulatedPatient,
    latent: LatentHourly,
    oxygen: Sequence[Interval],
    t0_us: int,
    patient_id: str,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    icans_p = load_module("icans")["parameters"]

    def add(event: str, start_h: float, end_h: float | None, attributes: dict[str, Any] | None) -> None:
        event_id = f"{patient_id}-E{len(rows):03d}"
        rows.append(
            {
                "patient_id": patient_id,
                "event_id": event_id,
                "event": event,
                "start_time": _iso_offsets(t0_us, start_h),
                "end_time": _iso_offsets(t0_us, end_h),
                "attributes": None if attributes is None else json.dumps(attributes, sort_keys=True),
                "source": "ehr-events",
                "record_id": event_id,
            }
        )

    course = sim.course
    rung3 = np.flatnonzero(latent.rung >= 3)
    if len(rung3):
        add("icu_admission", float(rung3[0]) + 0.5, None, None)
    for interval in oxygen:
        if interval.agent == "invasive_mechanical_ventilation":
            add("intubation", interval.start_h, None, None)
    grade3 = np.flatnonzero(latent.icans == 3)
    if len(grade3) and rng.random() < value(icans_p["seizure_probability_grade3plus"]):
        at = float(grade3[0]) + 0.3
        add(
            "seizure",
            at,
            at + 0.05,
            {
                "type": "clinical",
                "extent": "focal",
                "duration_min": 3,
                "resolved_rapidly": True,
                "return_to_baseline": True,
            },
        )
    grade4 = np.flatnonzero(latent.icans == 4)
    if len(grade4):
        at = float(grade4[0]) + 0.3
        if rng.random() < 0.5:
            add(
                "seizure",
                at,
                at + 0.2,
                {
                    "type": "clinical",
                    "extent": "generalised",
                    "duration_min": 12,
                    "resolved_rapidly": False,
                    "return_to_baseline": True,
                },
            )
        else:
            add("cerebral_edema", at, None, {"extent": "diffuse", "imaging": "CT"})
    if course.death_h is not None:
        add("death", float(course.death_h) + 0.5, None, {"cause_attribution": "crs"})
    return rows
