"""Early-warning alerts on a graded course: the one function ``crsguard regrade`` calls for its ``alerts`` table.

Stable signature::

    course_alerts(observations: pl.DataFrame, interventions: pl.DataFrame, grades: pl.DataFrame,
                  patients: pl.DataFrame | None = None) -> pl.DataFrame

Inputs are the canonical frames of the long format as ``crsguard.io.reader`` returns them (interop.md §8.2-§8.4:
canonical quantity names and units, timezone-aware UTC times) and the long grade series of the timeline engine:

* ``observations``: ``patient_id, time, quantity, value`` and, when coded rows are present, ``value_code``
  (``oxygen_delivery_device`` readings, interop.md §1.1);
* ``interventions``: ``patient_id, kind, agent, start_time, end_time`` and optionally ``rate_value, rate_unit,
  bolus`` (interop.md §8.4; an absent ``rate_value`` or ``bolus`` column counts as "not recorded"); rows are taken
  as given, so ``not-done`` / ``entered-in-error`` rows must already be dropped (the reader does, §8.4);
* ``grades``: ``patient_id, time, system, grade`` (the in-memory series, ``timeline.course.grade_series``) or
  ``eval_time`` instead of ``time`` (the §8.6 ``grades`` table); ``lower_bound`` is used when present;
* ``patients``: ``patient_id, t0``. Without it t0 is the earliest ``product_administration`` start, else the
  first evaluation time of the grade series (the timeline grid starts at t0, interop.md §0.3); a patient with
  data but no t0 from any of these is an error.

Output (``ALERT_SCHEMA``), one row per alert, sorted by patient, time, rule, system: ``patient_id``, ``time``,
``hours_since_t0``, ``rule`` (stable id), ``system`` (null unless the rule is about a grade), ``values`` (the
values that fired it, readable), ``message``, ``evidence_marker`` (spec marker), ``requires_confirmation``,
``warning`` ("requires clinician confirmation: …" or null) and ``source`` (spec section and citation).

Rules (data: ``data/early_warning.yaml``): ``first_fever``, ``ferritin_doubling_48h`` (local rapid-rise default),
``hay_2017_high_risk`` (research; silent without MCP-1), ``grade_escalation`` (every rise, per system),
``new_oxygen_requirement``, ``new_vasopressor_requirement``. The spec gives no threshold for a rapid rise of
temperature or of CRP (risk §2 is qualitative), so no such rule exists. All computations are whole-frame Polars
expressions; there is no per-patient loop.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from crsguard.model import vocabulary
from crsguard.risk.early_warning import (
    ColumnKind,
    CourseRule,
    detect_signals,
    grade_escalations,
    require_columns,
    warning_rules,
)
from crsguard.risk.results import CONFIRMATION_TEXT

#: The observation rules of ``early_warning.yaml`` that run on every course (research rules named explicitly).
COURSE_OBSERVATION_RULES: tuple[str, ...] = ("first_fever", "ferritin_doubling_48h", "hay_2017_high_risk")

ALERT_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "time": pl.Datetime("us", "UTC"),
    "hours_since_t0": pl.Float64(),
    "rule": pl.String(),
    "system": pl.String(),
    "values": pl.String(),
    "message": pl.String(),
    "evidence_marker": pl.String(),
    "requires_confirmation": pl.Boolean(),
    "warning": pl.String(),
    "source": pl.String(),
}

_OBSERVATION_COLUMNS: dict[str, ColumnKind] = {
    "patient_id": "text",
    "time": "utc_time",
    "quantity": "text",
    "value": "number",
}
_INTERVENTION_COLUMNS: dict[str, ColumnKind] = {
    "patient_id": "text",
    "kind": "text",
    "agent": "text",
    "start_time": "utc_time",
    "end_time": "utc_time",
}
_GRADE_COLUMNS: dict[str, ColumnKind] = {
    "patient_id": "text",
    "time": "utc_time",
    "system": "text",
    "grade": "integer",
}
_PATIENT_COLUMNS: dict[str, ColumnKind] = {"patient_id": "text", "t0": "utc_time"}
_HOURS_PER_MICROSECOND = 1.0 / 3_600_000_000
_OPEN_END = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
_UTC = pl.Datetime("us", "UTC")


def _utc(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("UTC").dt.cast_time_unit("us")


def _clock(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%dT%H:%MZ")


def _number(expr: pl.Expr) -> pl.Expr:
    """Up to 2 decimals, without trailing zeros (38.0 → "38", 1343.5 → "1343.5")."""
    return expr.round(2).cast(pl.String).str.replace(r"\.0$", "")


# ------------------------------------------------------------------------------------------------ inputs
def _grade_series(grades: pl.DataFrame) -> pl.DataFrame:
    """The grade series with ``time`` (or the §8.6 table's ``eval_time``) and ``lower_bound`` (a column, else the
    ``drivers`` JSON of the §8.6 table, else null)."""
    if "time" not in grades.columns and "eval_time" in grades.columns:
        grades = grades.rename({"eval_time": "time"})
    require_columns(grades, _GRADE_COLUMNS, "grades")
    if "lower_bound" in grades.columns:
        lower_bound = pl.col("lower_bound")
    elif "drivers" in grades.columns:
        lower_bound = pl.col("drivers").str.json_path_match("$.lower_bound") == "true"
    else:
        lower_bound = pl.lit(None, pl.Boolean)
    return grades.select(
        "patient_id", _utc("time"), "system", pl.col("grade").cast(pl.Int32), lower_bound.alias("lower_bound")
    )


def _optional(frame: pl.DataFrame, column: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(column).cast(dtype) if column in frame.columns else pl.lit(None, dtype).alias(column)


def _infusion_times(patients: pl.DataFrame | None, interventions: pl.DataFrame, grades: pl.DataFrame) -> pl.DataFrame:
    """``patient_id, t0``: from ``patients``, else the product administration, else the first evaluation time."""
    if patients is not None:
        require_columns(patients, _PATIENT_COLUMNS, "patients")
        return patients.select("patient_id", _utc("t0"))
    administered = (
        interventions.filter(pl.col("kind") == "product_administration")
        .group_by("patient_id")
        .agg(pl.col("start_time").min().alias("t0"))
    )
    first_evaluation = grades.group_by("patient_id").agg(pl.col("time").min().alias("t0"))
    return pl.concat(
        [administered, first_evaluation.join(administered, on="patient_id", how="anti")], how="vertical"
    ).select("patient_id", pl.col("t0").cast(_UTC))


def _check_every_patient_has_t0(t0: pl.DataFrame, frames: dict[str, pl.DataFrame]) -> None:
    for name, frame in frames.items():
        missing = frame.select("patient_id").unique().join(t0, on="patient_id", how="anti").sort("patient_id")
        if missing.height:
            ids = ", ".join(missing["patient_id"].head(5).to_list())
            raise ValueError(
                f"{name}: no t0 for patient(s) {ids}; give patients (patient_id, t0) or a product_administration"
            )


# --------------------------------------------------------------------------------------- observation rules
def _evidence_text(events: pl.DataFrame) -> pl.DataFrame:
    """Each event's evidence list as text: "quantity value unit at time (+h)", joined by "; "."""
    units = {name: spec.canonical_unit or "" for name, spec in vocabulary.QUANTITIES.items()}
    items = (
        events.with_row_index("__event")
        .select("__event", "t0", pl.col("evidence").alias("item"))
        .explode("item")
        .unnest("item")
    )
    hours = (pl.col("time") - pl.col("t0")).dt.total_microseconds() * _HOURS_PER_MICROSECOND
    text = pl.format(
        "{} {} {} at {} (+{} h)",
        "quantity",
        _number(pl.col("value")),
        pl.col("quantity").replace_strict(units, default=""),
        _clock("time"),
        _number(hours),
    )
    joined = items.group_by("__event").agg(text.sort_by("time").str.join("; ").alias("values"))
    return events.with_row_index("__event").join(joined, on="__event", how="left").drop("__event")


def _observation_alerts(observations: pl.DataFrame, t0: pl.DataFrame) -> pl.DataFrame:
    events = detect_signals(
        observations.select("patient_id", "time", "quantity", "value"), t0, rule_ids=COURSE_OBSERVATION_RULES
    )
    rules = {rule.id: rule for rule in warning_rules().rules}
    titles = {rule_id: rules[rule_id].title for rule_id in COURSE_OBSERVATION_RULES}
    with_t0 = events.join(t0, on="patient_id", how="left")
    return _evidence_text(with_t0).select(
        "patient_id",
        "time",
        "hours_since_t0",
        "rule",
        pl.lit(None, pl.String).alias("system"),
        "values",
        pl.col("rule").replace_strict(titles).alias("title"),
        "evidence_marker",
        pl.col("requires_clinician_confirmation").alias("requires_confirmation"),
        "warning",
        "source",
    )


# --------------------------------------------------------------------------------------------- course rules
def _with_rule(frame: pl.DataFrame, rule: CourseRule) -> pl.DataFrame:
    """Attach the rule's metadata (course rules need no confirmation unless their YAML entry says so)."""
    warning = f"{CONFIRMATION_TEXT}: {rule.meaning}" if rule.requires_confirmation else None
    return frame.select(
        "patient_id",
        "time",
        "hours_since_t0",
        pl.lit(rule.id).alias("rule"),
        pl.col("system").cast(pl.String),
        "values",
        pl.lit(rule.title).alias("title"),
        pl.lit(rule.evidence).alias("evidence_marker"),
        pl.lit(rule.requires_confirmation).alias("requires_confirmation"),
        pl.lit(warning, pl.String).alias("warning"),
        pl.lit(rule.source).alias("source"),
    )


def _hours_since_t0() -> pl.Expr:
    return (pl.col("time") - pl.col("t0")).dt.total_microseconds() * _HOURS_PER_MICROSECOND


def _escalation_alerts(series: pl.DataFrame, t0: pl.DataFrame) -> pl.DataFrame:
    """Every rise of a system's grade (``grade_escalations``), with the lower-bound flag of the new grade."""
    rises = grade_escalations(series.select("patient_id", "time", "system", "grade")).join(
        series.select("patient_id", "time", "system", "lower_bound"), on=["patient_id", "time", "system"], how="left"
    )
    bound = pl.when(pl.col("lower_bound")).then(pl.lit(" (lower bound: an input that could raise it is missing)"))
    values = pl.format(
        "{} grade {} → {}{}",
        "system",
        pl.col("previous_grade").cast(pl.String).fill_null("none (first assessment)"),
        pl.col("grade").cast(pl.String),
        bound.otherwise(pl.lit("")),
    )
    frame = rises.join(t0, on="patient_id", how="left").with_columns(hours_since_t0=_hours_since_t0(), values=values)
    return _with_rule(frame, warning_rules().course_rule("grade_rise"))


def _supplemental_devices() -> list[str]:
    return sorted(name for name, device in vocabulary.O2_DEVICES.items() if device.tier != "none")


def _oxygen_intervals(observations: pl.DataFrame, interventions: pl.DataFrame) -> pl.DataFrame:
    """Supplemental-oxygen intervals ``patient_id, start, end, label`` from both places the long format keeps them.

    Interventions (interop.md §8.4): an open ``oxygen_device`` interval ends at the next device's start (§2.4).
    Observations (§1.1 ``oxygen_delivery_device``): a reading holds until the next device reading.
    Room air opens no interval. A device outside the §2.4 enum is an error, never guessed.
    """
    next_start = pl.col("start").shift(-1).over("patient_id", order_by=["start", "device"])
    charted = (
        interventions.filter(pl.col("kind") == "oxygen_device")
        .select(
            "patient_id",
            pl.col("start_time").alias("start"),
            pl.col("end_time").alias("end"),
            pl.col("agent").alias("device"),
        )
        .with_columns(pl.col("end").fill_null(next_start), origin=pl.lit("interventions"))
    )
    readings = pl.DataFrame(schema={"patient_id": pl.String, "start": _UTC, "end": _UTC, "device": pl.String})
    if "value_code" in observations.columns:
        readings = (
            observations.filter(pl.col("quantity") == "oxygen_delivery_device")
            .select("patient_id", _utc("time").alias("start"), pl.col("value_code").alias("device"))
            .drop_nulls("device")
            .with_columns(end=next_start)
            .select("patient_id", "start", "end", "device")
        )
    both = pl.concat(
        [charted, readings.with_columns(origin=pl.lit("observations"))], how="vertical_relaxed"
    ).with_columns(pl.col("start").cast(_UTC), pl.col("end").cast(_UTC))
    unknown = both.filter(~pl.col("device").is_in(list(vocabulary.O2_DEVICES)))["device"].unique().sort()
    if unknown.len():
        raise ValueError(
            f"oxygen device(s) {', '.join(unknown.to_list())} not in the interop.md §2.4 enum; "
            f"allowed: {', '.join(vocabulary.O2_DEVICES)}"
        )
    return both.filter(pl.col("device").is_in(_supplemental_devices())).select(
        "patient_id", "start", "end", pl.format("{} ({})", "device", "origin").alias("label")
    )


def _vasopressor_intervals(interventions: pl.DataFrame) -> pl.DataFrame:
    """Vasopressor infusion segments (interop.md §2.2: no dobutamine, no bolus, rate 0 is no infusion).

    An open segment ends at the next segment of the same agent. A segment without a recorded rate counts as
    running (the charted infusion is the evidence), a segment with rate 0 does not.
    """
    vasopressors = sorted(name for name, drug in vocabulary.DRUGS.items() if drug.counts_as_vasopressor)
    rate = _optional(interventions, "rate_value", pl.Float64())
    rate_unit = _optional(interventions, "rate_unit", pl.String())
    bolus = _optional(interventions, "bolus", pl.Boolean())
    next_start = pl.col("start").shift(-1).over("patient_id", "agent", order_by="start")
    rate_text = (
        pl.when(rate.is_not_null())
        .then(pl.format(" {} {}", _number(rate), rate_unit.fill_null("")))
        .otherwise(pl.lit(""))
    )
    return (
        interventions.filter(
            (pl.col("kind") == "drug_infusion_segment")
            & pl.col("agent").is_in(vasopressors)
            & ~bolus.fill_null(False)
            & (rate.is_null() | (rate > 0))
        )
        .select(
            "patient_id",
            "agent",
            pl.col("start_time").alias("start"),
            pl.col("end_time").alias("end"),
            rate_text.alias("rate_text"),
        )
        .with_columns(pl.col("end").fill_null(next_start))
        .select("patient_id", "start", "end", pl.format("{}{}", "agent", "rate_text").alias("label"))
    )


def _new_episode_starts(intervals: pl.DataFrame, t0: pl.DataFrame) -> pl.DataFrame:
    """Start of every run of overlapping or touching intervals that begins at or after t0.

    A run already going at t0 started before it and is not new; a gap (start after the latest end so far) opens
    a new run. An interval with no end stays open.
    """
    order = ["start", "label"]
    reach = pl.col("end").fill_null(_OPEN_END).cum_max().shift(1).over("patient_id", order_by=order)
    starts = (
        intervals.with_columns(reach.alias("__reach"))
        .filter(pl.col("__reach").is_null() | (pl.col("start") > pl.col("__reach")))
        .sort("patient_id", *order)
        .unique(subset=["patient_id", "start"], keep="first", maintain_order=True)
    )
    return starts.join(t0, on="patient_id", how="inner").filter(pl.col("start") >= pl.col("t0"))


def _support_alerts(intervals: pl.DataFrame, t0: pl.DataFrame, basis: str) -> pl.DataFrame:
    frame = _new_episode_starts(intervals, t0).select(
        "patient_id",
        pl.col("start").alias("time"),
        "t0",
        pl.lit(None, pl.String).alias("system"),
        pl.format("{} started at {}", "label", _clock("start")).alias("values"),
    )
    return _with_rule(frame.with_columns(hours_since_t0=_hours_since_t0()), warning_rules().course_rule(basis))


# ---------------------------------------------------------------------------------------------------- entry
def empty_alerts() -> pl.DataFrame:
    return pl.DataFrame(schema=ALERT_SCHEMA)


def course_alerts(
    observations: pl.DataFrame,
    interventions: pl.DataFrame,
    grades: pl.DataFrame,
    patients: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """All early-warning alerts of a cohort's courses (schema ``ALERT_SCHEMA``); see the module docstring."""
    require_columns(observations, _OBSERVATION_COLUMNS, "observations")
    require_columns(interventions, _INTERVENTION_COLUMNS, "interventions")
    series = _grade_series(grades)
    interventions = interventions.with_columns(_utc("start_time"), _utc("end_time"))
    t0 = _infusion_times(patients, interventions, series)
    if t0["t0"].null_count():
        ids = ", ".join(t0.filter(pl.col("t0").is_null())["patient_id"].head(5).to_list())
        raise ValueError(f"patients: t0 is empty for patient(s) {ids}; t0 is required (interop.md §8.3)")
    if t0["patient_id"].is_duplicated().any():
        raise ValueError("patients: more than one t0 for a patient (one row per patient and course, interop.md §8.3)")
    _check_every_patient_has_t0(t0, {"observations": observations, "interventions": interventions, "grades": series})
    parts = [
        _observation_alerts(observations, t0),
        _escalation_alerts(series, t0),
        _support_alerts(_oxygen_intervals(observations, interventions), t0, "oxygen_start"),
        _support_alerts(_vasopressor_intervals(interventions), t0, "vasopressor_start"),
    ]
    alerts = pl.concat(parts, how="vertical_relaxed")
    confirmation = pl.when(pl.col("warning").is_not_null()).then(pl.format("; {}", "warning")).otherwise(pl.lit(""))
    message = pl.format("{}: {}{}", "title", "values", confirmation)
    return (
        alerts.with_columns(message.alias("message"))
        .select(*(pl.col(name).cast(dtype) for name, dtype in ALERT_SCHEMA.items()))
        .sort("patient_id", "time", "rule", "system", nulls_last=True)
    )
