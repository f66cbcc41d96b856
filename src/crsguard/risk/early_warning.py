"""Early-warning signals on a course: rules as data (``data/early_warning.yaml``), pure functions over frames.

Input: a long Polars frame of timed observations ``patient_id, time, quantity, value`` (canonical units of
interop.md §1.1, ``time`` timezone-aware) and a frame ``patient_id, t0`` (start of infusion, interop.md §0.3).
Output: one event row per patient and rule, at the first time the rule is met, with the observations that made
it fire, the rule's evidence marker and source. Nothing here reads a grading threshold; grade escalation is
computed from a grade series the timeline engine supplies (:func:`grade_escalations`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from crsguard.model import vocabulary
from crsguard.risk.results import CONFIRMATION_TEXT

ColumnKind = Literal["text", "utc_time", "number", "integer"]
OBSERVATION_COLUMNS: dict[str, ColumnKind] = {
    "patient_id": "text",
    "time": "utc_time",
    "quantity": "text",
    "value": "number",
}
T0_COLUMNS: dict[str, ColumnKind] = {"patient_id": "text", "t0": "utc_time"}
GRADE_COLUMNS: dict[str, ColumnKind] = {
    "patient_id": "text",
    "time": "utc_time",
    "system": "text",
    "grade": "integer",
}
_HOURS_PER_MICROSECOND = 1.0 / 3_600_000_000

EVIDENCE_STRUCT = pl.Struct({"quantity": pl.String, "time": pl.Datetime("us", "UTC"), "value": pl.Float64})
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "time": pl.Datetime("us", "UTC"),
    "hours_since_t0": pl.Float64(),
    "rule": pl.String(),
    "evidence": pl.List(EVIDENCE_STRUCT),
    "meaning": pl.String(),
    "evidence_marker": pl.String(),
    "research_flag": pl.Boolean(),
    "requires_clinician_confirmation": pl.Boolean(),
    "warning": pl.String(),
    "source": pl.String(),
}


class Condition(BaseModel):
    """``quantity OPERATOR threshold`` in the quantity's canonical unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quantity: str
    operator: Literal[">=", ">", "<=", "<"]
    threshold: float
    unit: str

    @model_validator(mode="after")
    def _canonical_unit(self) -> Condition:
        spec = vocabulary.QUANTITIES.get(self.quantity)
        if spec is None:
            raise ValueError(f"unknown quantity {self.quantity!r} (interop.md §1.1)")
        if spec.canonical_unit != self.unit:
            raise ValueError(f"{self.quantity}: threshold unit {self.unit!r} is not canonical {spec.canonical_unit!r}")
        return self

    def holds(self, value: pl.Expr) -> pl.Expr:
        return {
            ">=": value >= self.threshold,
            ">": value > self.threshold,
            "<=": value <= self.threshold,
            "<": value < self.threshold,
        }[self.operator]


class WarningRule(BaseModel):
    """One early-warning rule (see the header of ``early_warning.yaml`` for the kinds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    kind: Literal["first_crossing", "all_within_window", "fold_rise"]
    conditions: tuple[Condition, ...]
    window_start_hours: float = 0.0
    window_end_hours: float | None = None
    fold: float | None = None
    lookback_hours: float | None = None
    meaning: str
    evidence: str
    research_flag: bool
    requires_confirmation: bool
    confirmation_reason: str | None = None
    source: str

    @model_validator(mode="after")
    def _shape(self) -> WarningRule:
        single = self.kind in {"first_crossing", "fold_rise"}
        if single and len(self.conditions) != 1:
            raise ValueError(f"rule {self.id}: {self.kind} takes exactly one condition")
        if self.kind == "all_within_window" and len(self.conditions) < 2:
            raise ValueError(f"rule {self.id}: all_within_window needs at least two conditions")
        if self.kind == "fold_rise" and (self.fold is None or self.lookback_hours is None):
            raise ValueError(f"rule {self.id}: fold_rise needs fold and lookback_hours")
        if self.requires_confirmation != bool(self.confirmation_reason):
            raise ValueError(f"rule {self.id}: requires_confirmation and confirmation_reason must go together")
        if self.research_flag and not self.requires_confirmation:
            raise ValueError(f"rule {self.id}: a research-flag rule must require clinician confirmation")
        return self

    @property
    def warning(self) -> str | None:
        return f"{CONFIRMATION_TEXT}: {self.confirmation_reason}" if self.requires_confirmation else None


class CourseRule(BaseModel):
    """A rule of ``course_alerts`` computed from the grade series or the interventions (see the YAML header)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    basis: Literal["grade_rise", "oxygen_start", "vasopressor_start"]
    meaning: str
    evidence: str
    requires_confirmation: bool
    source: str


class WarningRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[WarningRule, ...]
    course_rules: tuple[CourseRule, ...] = ()

    def course_rule(self, basis: str) -> CourseRule:
        for rule in self.course_rules:
            if rule.basis == basis:
                return rule
        raise KeyError(f"no course rule with basis {basis!r} in early_warning.yaml")

    def by_id(self, rule_id: str) -> WarningRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"unknown early-warning rule {rule_id!r}; known: {', '.join(r.id for r in self.rules)}")


@cache
def warning_rules() -> WarningRules:
    text = resources.files("crsguard.risk.data").joinpath("early_warning.yaml").read_text(encoding="utf-8")
    return WarningRules.model_validate(yaml.safe_load(text))


# ------------------------------------------------------------------------------------------------ validation
def _kind_ok(dtype: pl.DataType, kind: ColumnKind) -> bool:
    if kind == "text":
        return dtype == pl.String
    if kind == "utc_time":
        return isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    if kind == "integer":
        return dtype.is_integer()
    return dtype.is_numeric()


def require_columns(frame: pl.DataFrame, columns: dict[str, ColumnKind], name: str) -> None:
    """Fail with a message naming the missing or mistyped column (never guess a conversion)."""
    for column, kind in columns.items():
        if column not in frame.schema:
            raise ValueError(f"{name}: missing column {column!r}; required columns: {', '.join(columns)}")
        dtype = frame.schema[column]
        if not _kind_ok(dtype, kind):
            expected = "timezone-aware datetime (naive times are rejected)" if kind == "utc_time" else kind
            raise ValueError(f"{name}: column {column!r} has type {dtype}, expected {expected}")


def _utc(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("UTC").dt.cast_time_unit("us")


def _prepare(observations: pl.DataFrame, t0: pl.DataFrame) -> pl.DataFrame:
    """Observations joined to t0, with hours since t0; patients without t0 are an error, not skipped."""
    require_columns(observations, OBSERVATION_COLUMNS, "observations")
    require_columns(t0, T0_COLUMNS, "t0")
    if t0["patient_id"].is_duplicated().any():
        raise ValueError("t0: more than one t0 for a patient")
    missing = observations.select("patient_id").unique().join(t0, on="patient_id", how="anti")
    if missing.height:
        ids = ", ".join(missing["patient_id"].head(5).to_list())
        raise ValueError(f"t0: no t0 for patient(s) {ids}; every patient with observations needs one")
    return (
        observations.select("patient_id", _utc("time"), "quantity", pl.col("value").cast(pl.Float64))
        .drop_nulls("value")
        .join(t0.select("patient_id", _utc("t0")), on="patient_id")
        .with_columns(hours_since_t0=(pl.col("time") - pl.col("t0")).dt.total_microseconds() * _HOURS_PER_MICROSECOND)
        .sort("patient_id", "time")
    )


def _in_window(rule: WarningRule) -> pl.Expr:
    hours = pl.col("hours_since_t0")
    condition = hours >= rule.window_start_hours
    if rule.window_end_hours is not None:
        condition = condition & (hours <= rule.window_end_hours)
    return condition


def _evidence_item(quantity: pl.Expr, time: str, value: str) -> pl.Expr:
    return pl.struct(quantity.alias("quantity"), pl.col(time).alias("time"), pl.col(value).alias("value"))


def _first_per_patient(frame: pl.DataFrame) -> pl.DataFrame:
    """The earliest row per patient; of several at the same time the highest value (independent of row order)."""
    return frame.sort(["patient_id", "time", "value"], descending=[False, False, True]).unique(
        subset="patient_id", keep="first", maintain_order=True
    )


# ----------------------------------------------------------------------------------------------- rule kinds
def _first_crossing(course: pl.DataFrame, rule: WarningRule, condition: Condition) -> pl.DataFrame:
    hits = course.filter(
        (pl.col("quantity") == condition.quantity) & _in_window(rule) & condition.holds(pl.col("value"))
    )
    return _first_per_patient(hits).select(
        "patient_id",
        "time",
        "t0",
        pl.concat_list(_evidence_item(pl.col("quantity"), "time", "value")).alias("evidence"),
    )


def _all_within_window(course: pl.DataFrame, rule: WarningRule) -> pl.DataFrame:
    """Fires when the last of the conditions is first met inside the window (e.g. Hay: Tmax and MCP-1)."""
    parts = [_first_crossing(course, rule, condition) for condition in rule.conditions]
    joined = parts[0].rename({"time": "time_0", "evidence": "evidence_0"})
    for index, part in enumerate(parts[1:], start=1):
        joined = joined.join(
            part.drop("t0").rename({"time": f"time_{index}", "evidence": f"evidence_{index}"}),
            on="patient_id",
            how="inner",
        )
    indices = range(len(parts))
    return joined.select(
        "patient_id",
        pl.max_horizontal(*(f"time_{i}" for i in indices)).alias("time"),
        "t0",
        pl.concat_list(*(f"evidence_{i}" for i in indices)).alias("evidence"),
    )


def _fold_rise(course: pl.DataFrame, rule: WarningRule, condition: Condition) -> pl.DataFrame:
    """value >= fold × the lowest positive value of the preceding ``lookback_hours`` (interval [t − L, t))."""
    assert rule.fold is not None and rule.lookback_hours is not None
    lookback = f"{int(rule.lookback_hours * 3600)}s"
    series = course.filter(pl.col("quantity") == condition.quantity).with_columns(
        reference_value=pl.when(pl.col("value") > 0)
        .then(pl.col("value"))
        .rolling_min_by("time", window_size=lookback, closed="left")
        .over("patient_id")
    )
    hits = _first_per_patient(
        series.filter(
            _in_window(rule)
            & condition.holds(pl.col("value"))
            & (pl.col("value") >= rule.fold * pl.col("reference_value"))
        )
    )
    # The earliest observation in the look-back that holds the reference value, for the event's evidence.
    references = (
        hits.select("patient_id", pl.col("time").alias("fired_at"), "reference_value")
        .join(series.select("patient_id", "time", "value"), on="patient_id")
        .filter(
            (pl.col("time") < pl.col("fired_at"))
            & (pl.col("time") >= pl.col("fired_at") - pl.duration(seconds=int(rule.lookback_hours * 3600)))
            & (pl.col("value") == pl.col("reference_value"))
        )
        .sort("patient_id", "time")
        .unique(subset="patient_id", keep="first", maintain_order=True)
        .select("patient_id", pl.col("time").alias("reference_time"))
    )
    quantity = pl.lit(condition.quantity)
    return hits.join(references, on="patient_id").select(
        "patient_id",
        "time",
        "t0",
        pl.concat_list(
            _evidence_item(quantity, "reference_time", "reference_value"),
            _evidence_item(quantity, "time", "value"),
        ).alias("evidence"),
    )


def _fired(course: pl.DataFrame, rule: WarningRule) -> pl.DataFrame:
    if rule.kind == "first_crossing":
        return _first_crossing(course, rule, rule.conditions[0])
    if rule.kind == "fold_rise":
        return _fold_rise(course, rule, rule.conditions[0])
    return _all_within_window(course, rule)


def _as_events(fired: pl.DataFrame, rule: WarningRule) -> pl.DataFrame:
    return fired.select(
        "patient_id",
        "time",
        hours_since_t0=(pl.col("time") - pl.col("t0")).dt.total_microseconds() * _HOURS_PER_MICROSECOND,
        rule=pl.lit(rule.id),
        evidence=pl.col("evidence").cast(pl.List(EVIDENCE_STRUCT)),
        meaning=pl.lit(rule.meaning),
        evidence_marker=pl.lit(rule.evidence),
        research_flag=pl.lit(rule.research_flag),
        requires_clinician_confirmation=pl.lit(rule.requires_confirmation),
        warning=pl.lit(rule.warning, dtype=pl.String),
        source=pl.lit(rule.source),
    )


def empty_events() -> pl.DataFrame:
    return pl.DataFrame(schema=EVENT_SCHEMA)


def selected_rules(rule_ids: Iterable[str] | None = None, *, include_research: bool = False) -> list[WarningRule]:
    """The rules to run: the named ones, or every non-research rule (plus research rules when asked)."""
    rules = warning_rules()
    if rule_ids is not None:
        return [rules.by_id(rule_id) for rule_id in rule_ids]
    return [r for r in rules.rules if include_research or not r.research_flag]


def detect_signals(
    observations: pl.DataFrame,
    t0: pl.DataFrame,
    *,
    rule_ids: Iterable[str] | None = None,
    include_research: bool = False,
) -> pl.DataFrame:
    """Early-warning events (schema ``EVENT_SCHEMA``), sorted by patient and time.

    Research-flag rules (Hay 2017, CRP >= 200 mg/L; [U]) run only with ``include_research=True`` or when named
    in ``rule_ids``; their events carry "requires clinician confirmation".
    """
    course = _prepare(observations, t0)
    frames = [
        _as_events(_fired(course, rule), rule) for rule in selected_rules(rule_ids, include_research=include_research)
    ]
    events = pl.concat([empty_events(), *frames], how="vertical")
    return events.sort("patient_id", "time", "rule")


def grade_escalations(grades: pl.DataFrame) -> pl.DataFrame:
    """Rows where a patient's grade in a system rises above the previous assessment's grade.

    Input ``patient_id, time, system, grade`` (the timeline engine's grade series). The first assessment of a
    series counts as an escalation when its grade is >= 1 (the previous grade is unknown, reported as null).
    Output: ``patient_id, time, system, previous_grade, grade``.
    """
    require_columns(grades, GRADE_COLUMNS, "grades")
    previous = pl.col("grade").shift(1).over("patient_id", "system", order_by="time")
    return (
        grades.select("patient_id", _utc("time"), "system", "grade")
        .drop_nulls("grade")
        .with_columns(previous_grade=previous)
        .filter(
            pl.when(pl.col("previous_grade").is_null())
            .then(pl.col("grade") >= 1)
            .otherwise(pl.col("grade") > pl.col("previous_grade"))
        )
        .select("patient_id", "time", "system", "previous_grade", "grade")
        .sort("patient_id", "system", "time")
    )
