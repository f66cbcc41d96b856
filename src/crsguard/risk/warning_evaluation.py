"""How early, and how often wrongly, early-warning signals fire against a grade series (issue 7 item 3).

Used on simulated cohorts: the figures describe the simulator as much as the rules and are not clinical
validation. Definitions (local choices, stated in every summary):

* lead time = first grade >= g time − first signal time, in hours (positive: the signal came first);
* warned = a patient who reached grade >= g and had a signal at or before that time; warned ahead = strictly
  before it (a signal at the same time as the grade, e.g. the oxygen that defines it, warns of nothing);
* false-alarm rate = share of the patients who never reached grade >= g that had at least one signal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

_HOURS_PER_MICROSECOND = 1.0 / 3_600_000_000


def lead_times(
    events: pl.DataFrame,
    grades: pl.DataFrame,
    *,
    grade_at_least: int,
    system: str = "astct2019",
    rules: Iterable[str] | None = None,
) -> pl.DataFrame:
    """Per patient of the grade series: first signal, first grade >= ``grade_at_least``, lead hours.

    ``events`` is the output of ``detect_signals``; ``grades`` has ``patient_id, time, system, grade``.
    Patients without any row of ``system`` in ``grades`` are not counted (no denominator to put them in).
    """
    series = grades.filter(pl.col("system") == system)
    patients = series.select("patient_id").unique()
    first_grade = (
        series.filter(pl.col("grade") >= grade_at_least)
        .group_by("patient_id")
        .agg(pl.col("time").min().alias("first_grade_time"))
    )
    chosen = events if rules is None else events.filter(pl.col("rule").is_in(list(rules)))
    first_signal = chosen.group_by("patient_id").agg(
        pl.col("time").min().alias("first_signal_time"),
        pl.col("rule").sort_by("time").first().alias("first_rule"),
    )
    lead = (pl.col("first_grade_time") - pl.col("first_signal_time")).dt.total_microseconds()
    return (
        patients.join(first_grade, on="patient_id", how="left")
        .join(first_signal, on="patient_id", how="left")
        .with_columns(
            reached=pl.col("first_grade_time").is_not_null(),
            signalled=pl.col("first_signal_time").is_not_null(),
            lead_hours=lead * _HOURS_PER_MICROSECOND,
        )
        .with_columns(warned=pl.col("reached") & pl.col("signalled") & (pl.col("lead_hours") >= 0))
        .sort("patient_id")
    )


@dataclass(frozen=True)
class WarningPerformance:
    """Summary of :func:`lead_times` for one grade threshold."""

    grade_at_least: int
    patients: int
    reached: int
    warned: int
    median_lead_hours: float | None
    lead_hours_q1: float | None
    lead_hours_q3: float | None
    never_reached: int
    false_alarms: int
    false_alarm_rate: float | None
    warned_ahead: int = 0

    def describe(self) -> str:
        if self.median_lead_hours is None:
            lead = "no warned patient"
        else:
            lead = f"median lead {self.median_lead_hours:.1f} h (IQR {self.lead_hours_q1:.1f}-{self.lead_hours_q3:.1f})"
        rate = "n/a" if self.false_alarm_rate is None else f"{100 * self.false_alarm_rate:.1f}%"
        return (
            f"grade >= {self.grade_at_least}: {self.reached}/{self.patients} reached it, "
            f"{self.warned} warned at or before it ({self.warned_ahead} strictly before), {lead}; "
            f"false alarms {self.false_alarms}/{self.never_reached} ({rate}). "
            "Simulated figures are not clinical validation."
        )


def summarise(per_patient: pl.DataFrame, grade_at_least: int) -> WarningPerformance:
    """Counts, lead-time quartiles among warned patients, and the false-alarm rate."""
    warned = per_patient.filter(pl.col("warned"))["lead_hours"]
    never = per_patient.filter(~pl.col("reached"))
    false_alarms = int(never["signalled"].sum())

    def quantile(q: float) -> float | None:
        value = warned.quantile(q, interpolation="linear") if warned.len() else None
        return None if value is None else float(value)

    return WarningPerformance(
        grade_at_least=grade_at_least,
        patients=per_patient.height,
        reached=int(per_patient["reached"].sum()),
        warned=warned.len(),
        median_lead_hours=quantile(0.5),
        lead_hours_q1=quantile(0.25),
        lead_hours_q3=quantile(0.75),
        never_reached=never.height,
        false_alarms=false_alarms,
        false_alarm_rate=false_alarms / never.height if never.height else None,
        warned_ahead=per_patient.filter(pl.col("warned") & (pl.col("lead_hours") > 0)).height,
    )
