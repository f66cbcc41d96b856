"""Grading throughput: `grade_frame` against a per-row Python grader and a hand-written NumPy kernel (issue 2).

    python benchmarks/grading.py [--rows N] [--sample N]

All three grade the same random snapshots under ASTCT 2019 (crs-grading.md §3.1) in the same run; the per-row
grader (iterating the frame's rows, as one would) is timed on a sample and scaled.
The per-row grader returns what `grade_frame` returns (grade, lower_bound, status, with three-valued missing data);
the NumPy kernel computes the grade only (nulls read as absent findings), so its ratio understates `grade_frame`.
The last line is machine-readable: `speedup_vs_rowwise=<x> slowdown_vs_numpy=<y>`.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

import crsguard
from crsguard.grading import registry
from crsguard.grading.crs_derived import ADULT_SBP_MMHG, FEVER_C, INFANT_SBP_MMHG, LOW_FLOW_MAX_L_MIN

DEVICES = np.array(
    ["none", "nasal_cannula", "blow_by", "simple_face_mask", "venturi_mask", "non_rebreather_mask",
     "high_flow_nasal_cannula", "cpap", "bipap", "mechanical_ventilation"]
)
DEVICE_P = np.array([0.55, 0.2, 0.02, 0.05, 0.02, 0.03, 0.05, 0.03, 0.02, 0.03])
PRESSORS = ("norepinephrine", "epinephrine", "phenylephrine", "dopamine", "vasopressin")


def random_snapshots(rows: int, seed: int = 7) -> pl.DataFrame:
    """Plausible snapshots with some inputs missing (nulls), as a grading frame."""
    rng = np.random.default_rng(seed)

    def maybe_null(values: np.ndarray, p_null: float) -> pl.Series:
        series = pl.Series(values)
        return series.scatter(np.flatnonzero(rng.random(rows) < p_null), None)

    columns: dict[str, Any] = {
        "age_years": rng.choice([4.0, 9.0, 15.0, 35.0, 60.0, 75.0], rows),
        "weight_kg": rng.choice([18.0, 30.0, 55.0, 70.0, 95.0], rows),
        "temperature_c": maybe_null(np.round(rng.normal(38.0, 1.0, rows).clip(34, 42.5), 1), 0.05),
        "fever_masked": rng.random(rows) < 0.15,
        "crs_symptoms_present": rng.random(rows) < 0.5,
        "hypotension": maybe_null(rng.random(rows) < 0.15, 0.5),
        "sbp_mmhg": maybe_null(np.round(rng.normal(110, 20, rows).clip(40, 200)), 0.1),
        "o2_device": rng.choice(DEVICES, rows, p=DEVICE_P),
        "o2_flow_l_min": maybe_null(rng.choice([1.0, 2.0, 4.0, 6.0, 8.0, 15.0, 40.0], rows), 0.2),
        "fio2": maybe_null(rng.choice([25.0, 35.0, 45.0, 60.0], rows), 0.7),
        "organ_toxicity_max_grade": rng.choice([0, 0, 0, 1, 2, 3, 4], rows),
        "transaminitis_grade": rng.choice([0, 0, 0, 1, 2, 3, 4], rows),
        "life_threatening": rng.random(rows) < 0.02,
    }
    for drug in PRESSORS:
        running = rng.random(rows) < (0.08 if drug == "norepinephrine" else 0.02)
        columns[f"{drug}_hours"] = np.where(running, rng.choice([1.0, 4.0, 12.0, 30.0], rows), 0.0)
        if drug != "vasopressin":
            dose = rng.choice([2.0, 8.0, 15.0, 25.0, 60.0, 250.0], rows)
            columns[f"{drug}_sustained_mcg_min"] = np.where(running & (columns[f"{drug}_hours"] >= 3), dose, 0.0)
            columns[f"{drug}_sustained_mcg_kg_min"] = np.zeros(rows)
    return pl.DataFrame(columns)


Truth = bool | None  # three-valued: None = cannot be decided from the inputs given


def _and(*values: Truth) -> Truth:
    return False if False in values else None if None in values else True


def _or(*values: Truth) -> Truth:
    return True if True in values else None if None in values else False


def _at_least(value: float | None, bound: float) -> Truth:
    return None if value is None else value >= bound


def astct_rowwise(row: dict[str, Any], strict: bool = False) -> tuple[int, bool]:
    """ASTCT 2019 the way one writes it by hand, one patient-time at a time (§3.1, D1, D2, D4, D6), returning
    (certain grade, whether an absent input could raise it). `strict` gives defaulted inputs their spec default."""
    def get(name: str, default: Any = None) -> Any:
        value = row.get(name)
        return default if value is None and strict else value

    fever = _at_least(row["temperature_c"], FEVER_C)
    entered = _or(fever, get("fever_masked", False))
    sbp, age, flag = row["sbp_mmhg"], row["age_years"], row["hypotension"]
    if flag is None and sbp is not None and age is not None:
        flag = sbp < (INFANT_SBP_MMHG if age < 1 else INFANT_SBP_MMHG + 2 * min(math.floor(age), 10))
    elif flag is None and sbp is not None:
        flag = True if sbp < INFANT_SBP_MMHG else False if sbp >= ADULT_SBP_MMHG else None
    hours = [get(f"{d}_hours", 0.0) for d in PRESSORS]
    running = [None if h is None else h > 0 for h in hours]
    known = [r for r in running[:-1] if r is not None]
    unknown = len(running[:-1]) - len(known)
    many = True if sum(known) >= 2 else None if sum(known) + unknown >= 2 else False
    one = _or(*running[:-1])
    device, flow = get("o2_device", "none"), row["o2_flow_l_min"]
    if device is None:
        category = None
    elif device in ("cpap", "bipap", "mechanical_ventilation"):
        category = 3
    elif device in ("simple_face_mask", "venturi_mask", "non_rebreather_mask"):
        category = 2
    elif device == "nasal_cannula":
        category = 2 if flow is not None and flow > LOW_FLOW_MAX_L_MIN else 1
    elif device == "high_flow_nasal_cannula":
        category = 1 if flow is not None and flow <= LOW_FLOW_MAX_L_MIN else 2
    else:
        category = 1 if device == "blow_by" else 0
    criteria = [
        (1, fever),
        (1, _and(get("fever_masked", False), get("crs_symptoms_present", False))),
        (2, _and(entered, _or(flag, one, running[-1]))),
        (2, _and(entered, None if category is None else category == 1)),
        (3, _and(entered, _or(one, running[-1]))),
        (3, _and(entered, None if category is None else category == 2)),
        (4, _and(entered, many)),
        (4, _and(entered, None if category is None else category == 3)),
    ]
    grade = max((g for g, value in criteria if value is True), default=0)
    return grade, any(value is None and g > grade for g, value in criteria)


def astct_rowwise_result(row: dict[str, Any]) -> tuple[int, bool, str]:
    """(grade, lower_bound, status) as `grade_frame` returns them."""
    grade, lower_bound = astct_rowwise(row)
    _, undecided_with_defaults = astct_rowwise(row, strict=True)
    return grade, lower_bound, "indeterminate" if undecided_with_defaults else "ok"


def astct_numpy(frame: pl.DataFrame) -> np.ndarray:
    """The same rule as one hand-written NumPy kernel (nulls as NaN / masks)."""
    temperature = frame["temperature_c"].to_numpy()
    fever = np.nan_to_num(temperature, nan=0.0) >= FEVER_C
    entered = fever | frame["fever_masked"].to_numpy()
    sbp = frame["sbp_mmhg"].to_numpy()
    age = frame["age_years"].to_numpy()
    threshold = np.where(age < 1, INFANT_SBP_MMHG, INFANT_SBP_MMHG + 2 * np.minimum(np.floor(age), 10))
    flag = frame["hypotension"]
    derived = np.nan_to_num(sbp, nan=np.inf) < threshold
    hypotension = np.where(flag.is_null().to_numpy(), derived, flag.fill_null(False).to_numpy())
    non_vasopressin = sum((frame[f"{d}_hours"].to_numpy() > 0).astype(np.int8) for d in PRESSORS[:-1])
    on_vasopressin = frame["vasopressin_hours"].to_numpy() > 0
    hypotension_grade = np.select(
        [non_vasopressin >= 2, (non_vasopressin == 1) | on_vasopressin, hypotension], [4, 3, 2], 0
    )
    device = frame["o2_device"].to_numpy()
    flow = frame["o2_flow_l_min"].to_numpy()
    high_flow = np.nan_to_num(flow, nan=0.0) > LOW_FLOW_MAX_L_MIN
    oxygen_grade = np.select(
        [
            np.isin(device, ["cpap", "bipap", "mechanical_ventilation"]),
            np.isin(device, ["simple_face_mask", "venturi_mask", "non_rebreather_mask"]),
            (device == "nasal_cannula") & high_flow,
            device == "nasal_cannula",
            device == "high_flow_nasal_cannula",
            device == "blow_by",
        ],
        [4, 3, 3, 2, np.where(np.isnan(flow) | high_flow, 3, 2), 2],
        0,
    )
    floor = (fever | frame["crs_symptoms_present"].to_numpy()).astype(np.int8)
    return np.where(entered, np.maximum.reduce([floor, hypotension_grade, oxygen_grade]), 0)


def timed(action: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best of `repeat` wall-clock runs (the machine is shared; the best run is the least disturbed)."""
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="snapshots to grade (default 10 million)")
    parser.add_argument("--sample", type=int, default=100_000, help="rows for the per-row Python grader")
    args = parser.parse_args()

    frame = random_snapshots(args.rows)
    sample = frame.head(min(args.sample, args.rows))
    print(f"{args.rows:,} random snapshots ({frame.estimated_size('mb'):.0f} MB); per-row sample {sample.height:,}")

    row_seconds, row_results = timed(
        lambda: [astct_rowwise_result(r) for r in sample.iter_rows(named=True)], repeat=1
    )
    rowwise_rate = sample.height / row_seconds
    numpy_seconds, numpy_grades = timed(lambda: astct_numpy(frame))
    frame_seconds, graded = timed(lambda: crsguard.grade_frame(frame, ["astct2019"]))

    engine_grades = graded["astct2019_grade"].to_numpy()
    disagree = int((engine_grades != numpy_grades).sum())
    engine_results = graded.head(sample.height).select(r"^astct2019_(grade|lower_bound|status)$").rows()
    sample_disagree = sum(a != b for a, b in zip(row_results, engine_results, strict=True))
    if disagree or sample_disagree:
        raise SystemExit(f"baselines disagree with grade_frame: numpy {disagree}, per-row {sample_disagree} rows")

    crs_systems = [s.id for s in registry.by_toxicity("crs")]
    all_seconds, _ = timed(lambda: crsguard.grade_frame(frame, crs_systems), repeat=1)

    numpy_rate, frame_rate = args.rows / numpy_seconds, args.rows / frame_seconds
    print(f"(a) per-row Python      {rowwise_rate:>14,.0f} snapshots/s  (grade, lower_bound, status; timed on "
          f"{sample.height:,}, scaled)")
    print(f"(b) hand-written NumPy  {numpy_rate:>14,.0f} snapshots/s  ({numpy_seconds:.2f} s; grade only)")
    print(f"(c) grade_frame         {frame_rate:>14,.0f} snapshots/s  ({frame_seconds:.2f} s)")
    print(
        f"    grade_frame, all {len(crs_systems)} CRS systems: {args.rows / all_seconds:,.0f} snapshots/s "
        f"({all_seconds:.2f} s)"
    )
    print("all three agree on every compared row")
    print(f"speedup_vs_rowwise={frame_rate / rowwise_rate:.1f} slowdown_vs_numpy={numpy_rate / frame_rate:.2f}")


if __name__ == "__main__":
    main()
