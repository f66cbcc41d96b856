"""Benchmark of the CRS simulator: patients per second and peak memory for a 30-day cohort.

    python benchmarks/simulate.py [--patients 10000] [--days 30] [--product mix]

Each scenario runs in a fresh subprocess so that its peak resident memory (resource.getrusage) is its own.
Baselines measured in the same run: the latent course alone (no charting, no writing), and a cohort a tenth
the size: the memory ratio shows whether streaming keeps memory bounded as the cohort grows.
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


def _child(scenario: str, product: str, patients: int, days: int) -> dict[str, float]:
    from crsguard.simulate.calibration import policy_probabilities, simulate_latent_cohort
    from crsguard.simulate.cohort import SimulationSettings, canonical_product, run_simulation
    from crsguard.simulate.parameters import product_models

    name = canonical_product(product)
    for model in product_models() if name == "mix" else [name]:
        policy_probabilities(model)  # calibration pilot, outside the timed part
    start = time.perf_counter()
    rows = 0
    if scenario == "latent":
        models = list(product_models()) if name == "mix" else [name]
        per_product = max(1, patients // len(models))
        for model in models:
            rows += sum(1 for _ in simulate_latent_cohort(model, per_product, days, 7))
        patients = per_product * len(models)
    else:
        with tempfile.TemporaryDirectory() as folder:
            counts = run_simulation(SimulationSettings(name, patients, days, 7), Path(folder))
            rows = sum(counts.values())
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"patients": patients, "seconds": seconds, "rows": rows, "peak_mb": peak_mb}


def _run(scenario: str, product: str, patients: int, days: int) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            scenario,
            "--product",
            product,
            "--patients",
            str(patients),
            "--days",
            str(days),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--product", default="mix")
    parser.add_argument("--child", choices=("latent", "full"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.product, args.patients, args.days)))
        return
    small = max(1, args.patients // 10)
    latent = _run("latent", args.product, small, args.days)
    full_small = _run("full", args.product, small, args.days)
    full = _run("full", args.product, args.patients, args.days)
    rate = full["patients"] / full["seconds"]
    small_rate = full_small["patients"] / full_small["seconds"]
    latent_rate = latent["patients"] / latent["seconds"]
    memory_ratio = full["peak_mb"] / full_small["peak_mb"]
    print(f"latent course only   {latent['patients']:>7.0f} patients  {latent_rate:8.1f} patients/s")
    print(f"full, 1/10 cohort    {full_small['patients']:>7.0f} patients  {small_rate:8.1f} patients/s", end="")
    print(f"  peak {full_small['peak_mb']:.0f} MB")
    print(f"full cohort          {full['patients']:>7.0f} patients  {rate:8.1f} patients/s", end="")
    print(f"  peak {full['peak_mb']:.0f} MB  rows {full['rows']:.0f} ({full['rows'] / full['seconds']:.0f} rows/s)")
    print(
        f"product={args.product} days={args.days} patients={full['patients']:.0f} patients/s={rate:.1f} "
        f"peak_memory_mb={full['peak_mb']:.0f} memory_ratio_vs_tenth={memory_ratio:.2f} "
        f"speed_ratio_vs_latent_only={rate / latent_rate:.3f}"
    )


if __name__ == "__main__":
    main()
