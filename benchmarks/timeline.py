"""Benchmark of the timeline engine: charted data → snapshots → ASTCT grades → per-patient maximum grade.

    python benchmarks/timeline.py [--patients 1000] [--days 30] [--growth-patients 10000] [--pandas-patients 100]

Same run, same simulated input (the simulator's long format, 30 days per patient):

* crsguard: the whole path (read + validate + quarantine, hourly snapshots with 24-h windows, infusion runs,
  oxygen devices, fever masking, `grade_frame` for astct2019, episodes, daily maxima, summaries), local engine.
* pandas: the code a user would write — read the files with pandas, convert units with the vocabulary's factors,
  `groupby("patient_id").apply(...)` that walks the hourly grid of each patient and, at each hour, looks back 24 h
  (max temperature, min SBP, pressors running and overlapping, most intensive device and its flow, masking after
  an antipyretic/anti-cytokine given after the fever began) and applies the ASTCT table. It runs on a sample of
  the patients (`--pandas-patients`) because it is slow; throughput is compared in observations per second.

Each scenario runs in a fresh subprocess, so its peak resident memory (getrusage) is its own. The input's in-memory
size is the Polars estimated size of the four input tables. The agreement of the two implementations' maximum
grades is printed as a check that they derive the same thing. Last line:
`speedup_vs_pandas=<x> peak_memory_ratio=<y>` (peak RSS of the crsguard run ÷ input in-memory size).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HOUR_NS = 3_600_000_000_000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------------------------ crsguard path
def crsguard_child(data: str) -> dict[str, Any]:
    import polars as pl

    from crsguard.engines.local import run
    from crsguard.timeline.config import TimelineConfig

    base = _peak_mb()
    summaries: list[pl.DataFrame] = []
    start = time.perf_counter()
    summary = run(
        Path(data),
        TimelineConfig(),
        ["astct2019"],
        lambda d, r, s, n: summaries.append(r.summary) if r is not None else None,
    )
    seconds = time.perf_counter() - start
    maxima = pl.concat(summaries).select("patient_id", "max_grade")
    return {
        "seconds": seconds,
        "observations": summary.observations,
        "patients": summary.patients,
        "peak_mb": _peak_mb(),
        "base_mb": base,
        "maxima": dict(maxima.iter_rows()),
    }


# -------------------------------------------------------------------------------------------------- pandas path
def pandas_child(data: str, sample: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from crsguard.grading.crs_derived import ADULT_SBP_MMHG, FEVER_C, LOW_FLOW_MAX_L_MIN
    from crsguard.model.vocabulary import DRUGS, O2_DEVICES, QUANTITIES

    directory = Path(data)
    patients = pd.read_parquet(directory / "patients.parquet").sort_values("patient_id").head(sample)
    wanted = set(patients["patient_id"])
    start = time.perf_counter()
    obs = pd.read_parquet(directory / "observations.parquet")
    obs = obs[obs["patient_id"].isin(wanted)]
    inter = pd.read_parquet(directory / "interventions.parquet")
    inter = inter[inter["patient_id"].isin(wanted)]

    # unit conversion and plausibility with the vocabulary's factors, one row at a time (apply)
    def convert(row: Any) -> float:
        spec = QUANTITIES[row["quantity"]]
        if spec.is_coded or row["value"] is None or np.isnan(row["value"]):
            return row["value"]
        conversion = spec.alternative_units.get(row["unit"])
        value = row["value"] if conversion is None else conversion.to_canonical(row["value"])
        low, high = spec.plausible_min, spec.plausible_max
        return value if (low is None or value >= low) and (high is None or value <= high) else np.nan

    obs = obs.assign(value=obs.apply(convert, axis=1))
    tiers = {"none": 0, "low_flow": 1, "high_flow": 2, "positive_pressure": 3, "invasive_ventilation": 3}
    masking = {name for name, drug in DRUGS.items() if drug.masks_fever}
    t0 = dict(zip(patients["patient_id"], patients["t0"], strict=True))
    inter_by_patient = dict(tuple(inter.groupby("patient_id")))

    def per_patient(group: Any) -> int:
        pid = group.name
        rows = inter_by_patient.get(pid, inter.iloc[0:0])
        end = max(group["time"].max(), rows["end_time"].max() if len(rows) else group["time"].max())
        grid = pd.date_range(t0[pid], end, freq="h")
        temps = group[group["quantity"] == "body_temperature"]
        sbps = group[group["quantity"] == "systolic_bp"]
        flows = group[group["quantity"] == "oxygen_flow_rate"]
        pressors = rows[(rows["kind"] == "drug_infusion_segment") & (rows["rate_value"] > 0)]
        devices = rows[rows["kind"] == "oxygen_device"]
        drugs = rows[rows["agent"].isin(masking)]["start_time"].sort_values()
        onset = None
        last_positive = None
        masked_from = None
        worst = 0
        for t in grid:
            lo = t - pd.Timedelta(hours=24)
            window_temps = temps[(temps["time"] > lo) & (temps["time"] <= t)]
            fever = bool(len(window_temps)) and window_temps["value"].max() >= FEVER_C
            window_sbp = sbps[(sbps["time"] > lo) & (sbps["time"] <= t)]["value"]
            running = pressors[
                (pressors["start_time"] <= t) & (pressors["end_time"] > lo) & (pressors["start_time"] < t)
            ]
            agents = set(running["agent"]) - {"vasopressin"}
            concurrent = any(
                a["agent"] != b["agent"]
                and a["agent"] != "vasopressin"
                and b["agent"] != "vasopressin"
                and max(a["start_time"], b["start_time"]) < min(a["end_time"], b["end_time"])
                for _, a in running.iterrows()
                for _, b in running.iterrows()
            )
            n_pressors = len(agents) if concurrent else min(len(agents), 1)
            on_pressor = len(running) > 0
            hypotension = on_pressor or (len(window_sbp) > 0 and window_sbp.min() < ADULT_SBP_MMHG)
            hypo_grade = 4 if n_pressors >= 2 else 3 if on_pressor else 2 if hypotension else 0
            oxy_grade = 0
            for _, device in devices[(devices["start_time"] <= t) & (devices["end_time"] > lo)].iterrows():
                spec = O2_DEVICES[device["agent"]]
                linked = flows[
                    (flows["link_id"] == device["interval_id"]) & (flows["time"] > lo) & (flows["time"] <= t)
                ]["value"]
                flow = linked.max() if len(linked) else None
                tier = spec.tier
                if flow is not None and spec.tier_above_low_flow_max and flow > LOW_FLOW_MAX_L_MIN:
                    tier = spec.tier_above_low_flow_max
                if flow is not None and spec.tier_at_or_below_low_flow_max and flow <= LOW_FLOW_MAX_L_MIN:
                    tier = spec.tier_at_or_below_low_flow_max
                oxy_grade = max(oxy_grade, tiers[tier] + 1 if tiers[tier] else 0)
            if fever and onset is None:
                onset = window_temps[window_temps["value"] >= FEVER_C]["time"].min()
            if onset is not None and masked_from is None:
                after = drugs[drugs >= onset]
                masked_from = after.iloc[0] if len(after) else None
            masked = masked_from is not None and masked_from <= t
            grade = max(hypo_grade, oxy_grade, 1) if fever else max(hypo_grade, oxy_grade) if masked else 0
            if grade > 0:
                last_positive = t
            elif last_positive is not None and t - last_positive > pd.Timedelta(hours=24):
                onset, masked_from, last_positive = None, None, None
            worst = max(worst, grade)
        return worst

    maxima = obs.groupby("patient_id").apply(per_patient, include_groups=False)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "observations": len(obs),
        "patients": len(maxima),
        "peak_mb": _peak_mb(),
        "maxima": {k: int(v) for k, v in maxima.items()},
    }


def input_size_child(data: str) -> dict[str, Any]:
    import polars as pl

    size = sum(
        pl.read_parquet(Path(data) / f"{t}.parquet").estimated_size()
        for t in ("patients", "observations", "interventions", "events")
    )
    return {"input_mb": size / 2**20}


def simulate_child(data: str, patients: int, days: int) -> dict[str, Any]:
    from crsguard.simulate.cohort import SimulationSettings, run_simulation

    start = time.perf_counter()
    run_simulation(SimulationSettings("mix", patients, days, 2026), Path(data))
    return {"seconds": time.perf_counter() - start}


# ---------------------------------------------------------------------------------------------------- harness
def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure(patients: int, days: int, folder: Path, pandas_patients: int) -> dict[str, Any]:
    data = folder / f"cohort-{patients}"
    simulated = _child(["simulate", str(data), str(patients), str(days)])
    size = _child(["size", str(data)])
    ours = _child(["crsguard", str(data)])
    result = {"patients": patients, "simulate_s": simulated["seconds"], **size, "crsguard": ours}
    if pandas_patients:
        theirs = _child(["pandas", str(data), str(pandas_patients)])
        same = sum(ours["maxima"][p] == g for p, g in theirs["maxima"].items())
        result["pandas"] = theirs
        result["agreement"] = same / max(len(theirs["maxima"]), 1)
    return result


def _rate(run: dict[str, Any]) -> float:
    return float(run["observations"]) / run["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--growth-patients", type=int, default=10000, help="second cohort size (0 = skip)")
    parser.add_argument("--pandas-patients", type=int, default=100, help="patients the pandas baseline grades")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        runners = {
            "crsguard": lambda: crsguard_child(rest[0]),
            "pandas": lambda: pandas_child(rest[0], int(rest[1])),
            "size": lambda: input_size_child(rest[0]),
            "simulate": lambda: simulate_child(rest[0], int(rest[1]), int(rest[2])),
        }
        print(json.dumps(runners[kind]()))
        return
    with tempfile.TemporaryDirectory(prefix="crsguard-bench-") as scratch:
        main_run = measure(args.patients, args.days, Path(scratch), args.pandas_patients)
        growth = measure(args.growth_patients, args.days, Path(scratch), 0) if args.growth_patients else None
    ours, theirs = main_run["crsguard"], main_run["pandas"]
    speedup = _rate(ours) / _rate(theirs)
    memory_ratio = ours["peak_mb"] / main_run["input_mb"]
    print(
        f"cohort: {args.patients} simulated patients x {args.days} days ({main_run['simulate_s']:.0f} s to simulate), "
        f"{ours['observations']:,} observations, input in memory {main_run['input_mb']:.0f} MiB"
    )
    print(
        f"crsguard (whole path, astct2019): {ours['seconds']:.1f} s, {_rate(ours):,.0f} observations/s, "
        f"peak RSS {ours['peak_mb']:.0f} MiB (interpreter and libraries {ours['base_mb']:.0f} MiB)"
    )
    print(
        f"pandas groupby-apply ({theirs['patients']} patients): {theirs['seconds']:.1f} s, "
        f"{_rate(theirs):,.0f} observations/s, peak RSS {theirs['peak_mb']:.0f} MiB; "
        f"same maximum ASTCT grade as crsguard for {100 * main_run['agreement']:.1f}% of them"
    )
    if growth is not None:
        big = growth["crsguard"]
        per_patient_small = ours["seconds"] / args.patients
        per_patient_big = big["seconds"] / args.growth_patients
        print(
            f"growth: {args.growth_patients} patients in {big['seconds']:.1f} s ({_rate(big):,.0f} observations/s), "
            f"time per patient x{per_patient_big / per_patient_small:.2f} vs {args.patients}, peak RSS "
            f"{big['peak_mb']:.0f} MiB for input {growth['input_mb']:.0f} MiB "
            f"(ratio {big['peak_mb'] / growth['input_mb']:.2f})"
        )
    print(f"speedup_vs_pandas={speedup:.1f} peak_memory_ratio={memory_ratio:.2f}")


if __name__ == "__main__":
    main()
