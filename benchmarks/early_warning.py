"""How early, and how often wrongly, the early-warning alerts fire on a simulated cohort (issue 7 item 3).

    python benchmarks/early_warning.py [--patients 2000] [--seed 7]

Steps (one run): ``crsguard simulate --product mix`` into a temporary directory; the local timeline engine grades
it under ``astct2019`` (``crsguard.engines.local.run``, the path of ``crsguard regrade``) and, batch by batch,
``crsguard.risk.course_alerts`` computes the alerts from the batch's canonical frames and grade series (as the
regrade ``alerts`` table will). Per rule, and for the first alert of any rule:

* lead time = time of the first grade >= g − time of the rule's first alert, in hours, among the patients who
  reached grade >= g and had the alert at or before that time ("warned"; a lead of 0 h counts as warned);
* false-alarm rate = share of the patients with the alert among those who never reached grade >= g.

Reference grades: the engine's ``astct2019`` series from the charted data, and the simulator's latent CRS grade
(``truth.parquet``). Timing: the alerts' compute time is printed against the grading time of the same run.
Last line: ``lead_time_h_ge2=<median> false_alarm_ge2=<rate>`` for the best single rule (largest share warned
warned strictly ahead minus false-alarm rate at grade >= 2 against ``astct2019``). Simulated figures are not
clinical validation.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from crsguard.engines import local
from crsguard.engines.kernel import BatchResult
from crsguard.io.reader import Dataset
from crsguard.risk import course_alerts, lead_times, summarise
from crsguard.timeline.config import TimelineConfig

SYSTEM = "astct2019"
GRADES = (2, 3)
NOT_VALIDATION = "Simulated figures describe the simulator as much as the rules; they are not clinical validation."


def simulate(out: Path, patients: int, seed: int) -> float:
    """``crsguard simulate --product mix`` (the CLI next to this interpreter); seconds taken."""
    command = [str(Path(sys.executable).parent / "crsguard"), "simulate", "--product", "mix"]
    command += ["--patients", str(patients), "--seed", str(seed), "--out", str(out)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


class Collector:
    """Receives each batch of the local engine: keeps its grade series and computes its alerts."""

    def __init__(self) -> None:
        self.series: list[pl.DataFrame] = []
        self.alerts: list[pl.DataFrame] = []
        self.alert_seconds = 0.0

    def __call__(self, dataset: Dataset, result: BatchResult | None, systems: list[str], count: int) -> None:
        if result is None:
            return
        started = time.perf_counter()
        self.alerts.append(course_alerts(dataset.observations, dataset.interventions, result.series, dataset.patients))
        self.alert_seconds += time.perf_counter() - started
        self.series.append(result.series.select("patient_id", "time", "system", "grade"))


def grade_and_alert(data: Path) -> tuple[pl.DataFrame, pl.DataFrame, float, float]:
    """Grade series, alerts, seconds of the whole engine run, seconds spent in ``course_alerts``."""
    collector = Collector()
    started = time.perf_counter()
    local.run(data, TimelineConfig(), [SYSTEM], collector)
    total = time.perf_counter() - started
    return (
        pl.concat(collector.series),
        pl.concat(collector.alerts),
        total - collector.alert_seconds,
        collector.alert_seconds,
    )


def truth_series(data: Path) -> pl.DataFrame:
    truth = pl.read_parquet(data / "truth.parquet")
    return truth.select(
        "patient_id", "time", pl.lit("truth").alias("system"), pl.col("crs_grade").cast(pl.Int32).alias("grade")
    )


def performance_rows(alerts: pl.DataFrame, grades: pl.DataFrame, system: str) -> list[dict[str, object]]:
    rules: list[str | None] = [*sorted(alerts["rule"].unique().to_list()), None]
    rows: list[dict[str, object]] = []
    for rule in rules:
        row: dict[str, object] = {"reference": system, "rule": rule or "any alert"}
        for grade in GRADES:
            chosen = None if rule is None else [rule]
            summary = summarise(lead_times(alerts, grades, grade_at_least=grade, system=system, rules=chosen), grade)
            row[f"reached_ge{grade}"] = summary.reached
            row[f"warned_share_ge{grade}"] = summary.warned / summary.reached if summary.reached else None
            row[f"ahead_share_ge{grade}"] = summary.warned_ahead / summary.reached if summary.reached else None
            row[f"never_ge{grade}"] = summary.never_reached
            row[f"lead_median_h_ge{grade}"] = summary.median_lead_hours
            row[f"lead_q1_h_ge{grade}"] = summary.lead_hours_q1
            row[f"lead_q3_h_ge{grade}"] = summary.lead_hours_q3
            row[f"false_alarm_ge{grade}"] = summary.false_alarm_rate
        rows.append(row)
    return rows


def _fmt(value: object, percent: bool = False) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{100 * float(value):.1f}%"  # type: ignore[arg-type]
    return f"{float(value):.1f}"  # type: ignore[arg-type]


def print_table(rows: list[dict[str, object]]) -> None:
    part = "warned   ahead  median [IQR] h         false alarm"
    header = f"reference  rule                         | g>=2: {part} | g>=3: {part}"
    print(header)
    print("-" * len(header))
    for row in rows:
        cells = [f"{row['reference']:<10} {row['rule']:<28}"]
        for grade in GRADES:
            lead = (
                f"{_fmt(row[f'lead_median_h_ge{grade}'])} [{_fmt(row[f'lead_q1_h_ge{grade}'])}–"
                f"{_fmt(row[f'lead_q3_h_ge{grade}'])}]"
            )
            cells.append(
                f" g>={grade}: {_fmt(row[f'warned_share_ge{grade}'], True):>7} "
                f"{_fmt(row[f'ahead_share_ge{grade}'], True):>7}  {lead:<22} "
                f"{_fmt(row[f'false_alarm_ge{grade}'], True):>7}"
            )
        print(" |".join(cells))


def best_rule(rows: list[dict[str, object]]) -> dict[str, object]:
    """The single rule with the largest share warned strictly ahead minus false-alarm rate (grade >= 2, astct2019).

    "Ahead" (lead > 0) rather than "at or before": a new oxygen requirement coincides with the grade 2 it defines
    (lead 0 h, no false alarms) and would otherwise win while warning of nothing.
    """
    single = [r for r in rows if r["reference"] == SYSTEM and r["rule"] != "any alert"]

    def merit(row: dict[str, object]) -> float:
        warned = row["ahead_share_ge2"]
        false_alarm = row["false_alarm_ge2"]
        return float(warned or 0.0) - float(false_alarm or 0.0)  # type: ignore[arg-type]

    return max(single, key=merit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "cohort"
        simulate_seconds = simulate(data, args.patients, args.seed)
        grades, alerts, grading_seconds, alert_seconds = grade_and_alert(data)
        truth = truth_series(data)
    print(f"cohort: {args.patients} simulated patients (--product mix --seed {args.seed}), {simulate_seconds:.0f} s")
    print(
        f"grading ({SYSTEM}, local engine incl. read): {grading_seconds:.1f} s; course_alerts: {alert_seconds:.2f} s "
        f"({alert_seconds / grading_seconds:.3f} × the grading time); {alerts.height} alerts"
    )
    print(
        "alerts per rule: " + ", ".join(f"{r}={n}" for r, n in alerts.group_by("rule").len().sort("rule").iter_rows())
    )
    print("hay_2017_high_risk needs MCP-1, which the simulator does not chart: silent by design.")
    rows = performance_rows(alerts, grades, SYSTEM) + performance_rows(alerts, truth, "truth")
    for reference in (SYSTEM, "truth"):
        row = next(r for r in rows if r["reference"] == reference)
        counts = ", ".join(
            f"grade >= {g}: {row[f'reached_ge{g}']} reached, {row[f'never_ge{g}']} never" for g in GRADES
        )
        print(f"{reference}: {counts}")
    print("warned = reached grade >= g with the alert at or before it, ahead = strictly before (shares of those")
    print("reaching g); lead = hours before the first grade >= g (median [IQR] among warned); false alarm = share")
    print("with the alert among the patients who never reached grade >= g.")
    print_table(rows)
    print(NOT_VALIDATION)
    best = best_rule(rows)
    print(f"best single rule (share warned ahead − false-alarm rate, grade >= 2, {SYSTEM}): {best['rule']}")
    false_alarm = best["false_alarm_ge2"]
    rate = "—" if false_alarm is None else f"{float(false_alarm):.3f}"  # type: ignore[arg-type]
    print(f"lead_time_h_ge2={_fmt(best['lead_median_h_ge2'])} false_alarm_ge2={rate}")


if __name__ == "__main__":
    main()
