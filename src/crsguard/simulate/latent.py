"""Hourly latent physiology of one patient and the latent ASTCT grade derived from it.

The truth table's ``crs_grade`` is computed here from the latent components, with the simulator's own few
lines (risk-and-epidemiology.md §5.2): grade = max(rung of hypotension, rung of hypoxia) with a floor of 1
while the latent temperature is ≥ 38.0 °C; without fever it counts only after an antipyretic or
anti-cytokine/corticosteroid given at or after this episode's onset (masking; crs-grading.md A2: premedication
does not count); death from CRS is 5. It never calls ``crsguard.grading``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from crsguard.simulate.course import Administration, Episode, PatientCourse
from crsguard.simulate.parameters import load_module, value

FEVER_C = 38.0
"""Fever threshold of ASTCT 2019 (crs-grading.md D1, risk-and-epidemiology.md §4.6 [P])."""

MASKING_AGENTS = frozenset(
    {
        "acetaminophen",
        "tocilizumab",
        "siltuximab",
        "anakinra",
        "dexamethasone",
        "methylprednisolone",
        "hydrocortisone",
    }
)
"""Agents that mask fever after CRS onset (interop.md §1.5 fever_masked row)."""

Int8Array = NDArray[np.int8]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


@dataclass
class LatentHourly:
    """Latent state per hour since t0 (hour h covers [h, h+1))."""

    hours: int
    rung: Int8Array
    hypotension: Int8Array
    hypoxia: Int8Array
    icans: Int8Array
    temperature_c: FloatArray
    fever: BoolArray
    masked: BoolArray
    crs_grade: Int8Array
    readings: BoolArray
    changes: BoolArray


def _fill_segments(array: Int8Array, segments: list[tuple[int, int, int]]) -> None:
    for start, end, rung in segments:
        array[max(start, 0) : max(end, 0)] = rung


def component_levels(rung: Int8Array, episodes: list[Episode], hours: int) -> tuple[Int8Array, Int8Array]:
    """Hypotension and hypoxia levels (0-3) from the rung and the episode's pattern (§5.4 step 7)."""
    hypotension = np.zeros(hours, dtype=np.int8)
    hypoxia = np.zeros(hours, dtype=np.int8)
    for episode in episodes:
        start, end = episode.onset_h, min(episode.resolve_h, hours)
        if start >= end:
            continue
        level = np.maximum(rung[start:end] - 1, 0).astype(np.int8)
        if episode.pattern in ("hypotension_only", "both"):
            hypotension[start:end] = level
        if episode.pattern in ("hypoxia_only", "both"):
            hypoxia[start:end] = level
    return hypotension, hypoxia


def reading_schedule(
    rng: np.random.Generator, t0_hour_of_day: int, rung: Int8Array, icans: Int8Array, changes: BoolArray
) -> BoolArray:
    """Vitals every 4 h, hourly while unstable, always at a latent change; routine readings may be missed."""
    schedule = load_module("charting")["schedule"]
    every = int(value(schedule["vitals_every_h"]))
    hours = len(rung)
    clock = (np.arange(hours) + t0_hour_of_day) % 24
    routine = (clock % every == 0) | (rung > 0) | (icans >= 2)
    missed = rng.random(hours) < value(schedule["missed_reading_rate"])
    return np.asarray((routine & ~missed) | changes, dtype=bool)


def _state_changes(*arrays: Int8Array) -> BoolArray:
    changed = np.zeros(len(arrays[0]), dtype=bool)
    for array in arrays:
        changed[1:] |= array[1:] != array[:-1]
        changed[0] |= array[0] != 0
    return changed


def _temperature(
    rng: np.random.Generator,
    course: PatientCourse,
    hours: int,
    t0_hour_of_day: int,
    readings: BoolArray,
) -> tuple[FloatArray, list[Administration]]:
    """Latent temperature (°C) with circadian rhythm, fever waves and antipyretic dips (§5.7 [A])."""
    crs = load_module("crs")["fever"]
    vitals = load_module("charting")["vitals"]
    h = np.arange(hours)
    base = rng.normal(vitals["temperature_baseline_c"]["mean"], vitals["temperature_baseline_c"]["sd"])
    circ = value(vitals["temperature_circadian_c"]) * np.cos(
        2 * math.pi * ((h + t0_hour_of_day) % 24 - vitals["temperature_circadian_c"]["peak_hour"]) / 24
    )
    temp = np.minimum(base + circ, value(vitals["temperature_afebrile_max_c"]))
    premed = vitals["premedication_drop_c"]
    for admin in course.administrations:
        if admin.reason == "premedication" and admin.agent == "dexamethasone":
            first = max(math.ceil(admin.start_h), 0)
            temp[first : first + int(premed["hours"])] -= rng.uniform(premed["min"], premed["max"])
    floor = FEVER_C + value(crs["floor_excess_c"])
    period = value(crs["wave_period_h"])
    febrile = np.zeros(hours, dtype=bool)
    for episode in course.episodes:
        on = np.zeros(hours, dtype=bool)
        on[episode.onset_h : min(episode.resolve_h, hours)] = True
        for off_start, off_end in episode.fever_off:
            on[max(math.ceil(off_start), 0) : max(min(math.ceil(off_end), hours), 0)] = False
        phase = rng.uniform(0, 2 * math.pi)
        wave = 0.5 + 0.5 * np.sin(2 * math.pi * h / period + phase)
        fever_temp = floor + max(episode.fever_peak_c - floor, 0.0) * wave
        temp = np.where(on, fever_temp, temp)
        febrile |= on
    antipyretics = _antipyretics(rng, course.episodes, temp, febrile, readings)
    drop = vitals["antipyretic_drop_c"]
    for admin in antipyretics:
        first = math.ceil(admin.start_h)
        temp[first : first + int(drop["hours"])] -= rng.uniform(drop["min"], drop["max"])
    # keep latent values clear of the threshold so that charting noise cannot move them across it
    near = (temp >= FEVER_C - 0.1) & (temp < FEVER_C + 0.1)
    temp = np.where(near & (temp >= FEVER_C), FEVER_C + 0.1, np.where(near, FEVER_C - 0.15, temp))
    return temp, antipyretics


def _antipyretics(
    rng: np.random.Generator,
    episodes: list[Episode],
    temp: FloatArray,
    febrile: BoolArray,
    readings: BoolArray,
) -> list[Administration]:
    """Acetaminophen after a charted temperature ≥ 38.5 °C, no sooner than 6 h after the last dose
    (management.md §3.1; the 38.5 °C trigger is [A])."""
    mgmt = load_module("management")
    threshold = value(mgmt["triggers"]["acetaminophen_threshold_c"])
    interval = value(mgmt["triggers"]["acetaminophen_min_interval_h"])
    dose_mg = value(mgmt["doses"]["acetaminophen_mg"])
    out: list[Administration] = []
    last = -math.inf
    for hour in np.flatnonzero(febrile & readings & (temp >= threshold)):
        if hour - last >= interval and any(e.onset_h <= hour < e.resolve_h for e in episodes):
            out.append(Administration(float(hour) + 0.25, "acetaminophen", dose_mg, "mg", "po", 0.0, "fever"))
            last = float(hour)
    return out


def _masked(episodes: list[Episode], administrations: list[Administration], hours: int) -> BoolArray:
    masked = np.zeros(hours, dtype=bool)
    for episode in episodes:
        starts = [
            a.start_h
            for a in administrations
            if a.agent in MASKING_AGENTS
            and a.reason != "premedication"
            and episode.onset_h <= a.start_h < episode.resolve_h
        ]
        if starts:
            first = math.floor(min(starts))
            masked[first : min(episode.resolve_h, hours)] = True
    return masked


def latent_grade(
    rung: Int8Array, hypotension: Int8Array, hypoxia: Int8Array, fever: BoolArray, masked: BoolArray
) -> Int8Array:
    """Latent ASTCT grade per hour (risk-and-epidemiology.md §5.2; crs-grading.md §3.1 rules 1-6, A3)."""
    component = np.maximum(np.where(hypotension > 0, hypotension + 1, 0), np.where(hypoxia > 0, hypoxia + 1, 0))
    grade = np.where(fever, np.maximum(component, 1), np.where(masked, component, 0))
    return np.where(rung > 0, grade, 0).astype(np.int8)


def latent_hourly(rng: np.random.Generator, course: PatientCourse, hours: int, t0_hour_of_day: int) -> LatentHourly:
    """Build every hourly latent array of one patient; adds the antipyretic doses to the course."""
    rung = np.zeros(hours, dtype=np.int8)
    for episode in course.episodes:
        _fill_segments(rung, [(s, min(e, hours), r) for s, e, r in episode.segments if s < hours])
    icans = np.zeros(hours, dtype=np.int8)
    if course.icans is not None:
        _fill_segments(icans, [(s, min(e, hours), r) for s, e, r in course.icans.segments if s < hours])
    if course.death_h is not None:
        icans[course.death_h + 1 :] = 0
    hypotension, hypoxia = component_levels(rung, course.episodes, hours)
    changes = _state_changes(rung, hypotension, hypoxia, icans)
    readings = reading_schedule(rng, t0_hour_of_day, rung, icans, changes)
    temperature, antipyretics = _temperature(rng, course, hours, t0_hour_of_day, readings)
    course.administrations = sorted(course.administrations + antipyretics, key=lambda a: a.start_h)
    fever = temperature >= FEVER_C
    masked = _masked(course.episodes, course.administrations, hours)
    grade = latent_grade(rung, hypotension, hypoxia, fever, masked)
    if course.death_h is not None and course.death_h < hours:
        grade[course.death_h] = 5
    return LatentHourly(hours, rung, hypotension, hypoxia, icans, temperature, fever, masked, grade, readings, changes)
