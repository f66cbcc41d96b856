"""Grading inputs as a flat Polars frame: one row per snapshot, one column per input.

The graders never see a `Snapshot` object: a bedside assessment becomes a one-row frame, a cohort a many-row frame,
and the same expressions grade both (ARCHITECTURE "a snapshot is one row; a cohort is many rows").

Missing inputs are handled here, once, in three classes (crs-grading.md §2 "Unless stated otherwise a missing
boolean means false, a missing enum means its first listed value, and a missing number means not recorded"):

* `LOWER_ONLY_DEFAULTS` — inputs whose presence can only *lower* a grade (attribution to another cause,
  `crs_attributed`, `death_from_crs` as the absence of a death record). They are filled with their default before
  grading and are never reported as missing.
* `DEFAULTED` — booleans, the oxygen device and the vasopressor list: graded with their spec default, but reported in
  `missing` (and the grade marked a lower bound) whenever their presence could raise the grade. Status stays "ok".
* everything else (numbers): unknown when absent. A rule that needs one is unknown (three-valued logic); if that
  could raise the grade, the status is "indeterminate" and the grade is the certain lower bound (§2.6).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import polars as pl
from pydantic import BaseModel

from crsguard.grading import toxicity_inputs as tox_inputs
from crsguard.model.errors import InputError
from crsguard.model.snapshot import (
    O2_DEVICE_SYNONYMS,
    TEMPERATURE_CONSISTENCY_C,
    O2Device,
    Snapshot,
    VasopressorDrug,
    VasopressorItem,
)

#: D5: a vasopressor dose counts toward "high dose" only once sustained this long (crs-grading.md §3.0 D5) [S].
HIGH_DOSE_MIN_HOURS = 3.0

#: Agents dosed in mcg/min or mcg/kg/min; vasopressin (units/min) enters the rules only by presence (D4, D5).
WEIGHT_DOSED = (
    VasopressorDrug.norepinephrine,
    VasopressorDrug.epinephrine,
    VasopressorDrug.phenylephrine,
    VasopressorDrug.dopamine,
)


def hours_column(drug: VasopressorDrug) -> str:
    """Longest continuous run of the drug in the window, hours (0 = not running)."""
    return f"{drug.value}_hours"


def sustained_column(drug: VasopressorDrug | str, unit: str) -> str:
    """Highest rate of the drug sustained >= HIGH_DOSE_MIN_HOURS, in `unit` (0 = none sustained)."""
    name = drug.value if isinstance(drug, VasopressorDrug) else drug
    return f"{name}_sustained_{unit}"


#: The synthetic norepinephrine-equivalent items of A14 (`derived_ne_eq`), in either dose unit.
NE_EQ_DERIVED = "ne_eq_derived"
DOSE_UNITS = ("mcg_min", "mcg_kg_min")

VASOPRESSOR_COLUMNS: tuple[str, ...] = (
    *(hours_column(d) for d in VasopressorDrug),
    *(sustained_column(d, u) for d in WEIGHT_DOSED for u in DOSE_UNITS),
    *(sustained_column(NE_EQ_DERIVED, u) for u in DOSE_UNITS),
)

_SCALAR_FIELDS = tuple(f for f in Snapshot.model_fields if f != "vasopressors" and f not in tox_inputs.NOT_COLUMNS)


def _dtype(field: str) -> pl.DataType:
    annotation = str(Snapshot.model_fields[field].annotation)
    if "bool" in annotation:
        return pl.Boolean()
    if "O2Device" in annotation or field in tox_inputs.ENUMS:
        return pl.String()
    if "int" in annotation:
        return pl.Int64()
    return pl.Float64()


#: Column -> Polars dtype of the grading frame.
SCHEMA: dict[str, pl.DataType] = {
    **{f: _dtype(f) for f in _SCALAR_FIELDS},
    **{c: pl.Float64() for c in VASOPRESSOR_COLUMNS},
    **tox_inputs.EXTRA_COLUMNS,
}

#: Column -> the input field a user knows it by (for `missing`).
INPUT_FIELD: dict[str, str] = {
    **{f: f for f in _SCALAR_FIELDS},
    **{c: "vasopressors" for c in VASOPRESSOR_COLUMNS},
    **tox_inputs.EXTRA_INPUT_FIELD,
}

#: Inputs reported as missing only when the input they qualify is present (a flow means nothing without a device).
QUALIFIES: dict[str, str] = {
    "o2_flow_l_min": "o2_device",
    "fio2": "o2_device",
    "vasopressor_total_hours": hours_column(VasopressorDrug.norepinephrine),
}

LOWER_ONLY_DEFAULTS: dict[str, Any] = {
    "crs_attributed": True,
    "fever_attributable_other_cause": False,
    "hypotension_attributable_other_cause": False,
    "hypoxia_attributable_other_cause": False,
    "hypotension_fluid_responsive": False,
    "death_from_crs": False,
    **tox_inputs.LOWER_ONLY_DEFAULTS,
}

DEFAULTED: dict[str, Any] = {
    **{
        f: False
        for f, dtype in SCHEMA.items()
        if dtype == pl.Boolean() and f not in LOWER_ONLY_DEFAULTS and f != "hypotension"
    },
    "o2_device": O2Device.none.value,
    **dict.fromkeys(VASOPRESSOR_COLUMNS, 0.0),
    **tox_inputs.ENUM_DEFAULTS,
}


def _bounds(field: str, model: type[BaseModel] = Snapshot) -> tuple[float | None, float | None]:
    low = high = None
    for meta in model.model_fields[field].metadata:
        for attr in ("ge", "gt"):
            low = getattr(meta, attr, None) if getattr(meta, attr, None) is not None else low
        for attr in ("le", "lt"):
            high = getattr(meta, attr, None) if getattr(meta, attr, None) is not None else high
    return low, high


#: Plausible ranges, read from the one definition in `Snapshot` (crs-grading.md §2).
RANGES: dict[str, tuple[float | None, float | None]] = {
    f: _bounds(f) for f in _SCALAR_FIELDS if SCHEMA[f] in (pl.Float64(), pl.Int64())
}


def snapshot_row(snapshot: Snapshot) -> dict[str, Any]:
    """Flatten a validated snapshot into one grading-frame row (vasopressor items → per-drug columns, D3–D5).

    A drug's duration is the largest `hours_continuous` among its items (§2.3); its sustained rate per unit is the
    highest dose among its items run >= 3 h (D5 rule 1). Derived NE-equivalent items (A14) feed only the
    `ne_eq_derived_*` columns: they are not an agent.
    """
    row: dict[str, Any] = {f: getattr(snapshot, f) for f in _SCALAR_FIELDS}
    if row["o2_device"] is not None:
        row["o2_device"] = row["o2_device"].value
    row |= {f: row[f].value for f in tox_inputs.ENUMS if row[f] is not None}
    row |= tox_inputs.extra_row(snapshot)
    if snapshot.vasopressors is None:
        return row | dict.fromkeys(VASOPRESSOR_COLUMNS)
    row |= dict.fromkeys(VASOPRESSOR_COLUMNS, 0.0)
    for item in snapshot.vasopressors:
        unit = "mcg_kg_min" if item.dose_unit.value == "mcg_per_kg_per_min" else "mcg_min"
        sustained = item.hours_continuous >= HIGH_DOSE_MIN_HOURS
        if item.derived_ne_eq:
            if sustained:
                key = sustained_column(NE_EQ_DERIVED, unit)
                row[key] = max(row[key], item.dose)
            continue
        hours = hours_column(item.drug)
        row[hours] = max(row[hours], item.hours_continuous)
        if sustained and item.drug in WEIGHT_DOSED:
            key = sustained_column(item.drug, unit)
            row[key] = max(row[key], item.dose)
    return row


def snapshots_frame(snapshots: Iterable[Snapshot]) -> pl.DataFrame:
    """Many validated snapshots → one grading frame."""
    return pl.DataFrame([snapshot_row(s) for s in snapshots], schema=SCHEMA, orient="row")


def _first_rows(frame: pl.DataFrame, bad: pl.Expr, column: str, limit: int = 3) -> str:
    hits = frame.with_row_index("__row").filter(bad).head(limit)
    return ", ".join(f"row {r} ({v!r})" for r, v in zip(hits["__row"], hits[column], strict=True))


def _problems(frame: pl.DataFrame, supplied: set[str]) -> list[str]:
    """Every range, value-set and cross-field rule over the supplied columns, on the whole frame (no per-row
    Python); rules about columns the caller did not supply cannot fail and are skipped."""
    checks: list[tuple[str, pl.Expr, str]] = []
    for column, (low, high) in RANGES.items():
        bad = pl.lit(False)
        if low is not None:
            bad = bad | (pl.col(column) < low)
        if high is not None:
            bad = bad | (pl.col(column) > high)
        checks.append((column, bad, f"out of range; allowed {low} to {high}"))
    checks.append(
        ("fio2", (pl.col("fio2") > 1.0) & (pl.col("fio2") < 21.0), "neither a percentage (21-100) nor a fraction")
    )
    devices = [d.value for d in O2Device] + list(O2_DEVICE_SYNONYMS)
    checks.append(("o2_device", ~pl.col("o2_device").is_in(devices), f"not allowed; allowed values: {devices}"))
    for column in VASOPRESSOR_COLUMNS:
        high = _bounds("hours_continuous", VasopressorItem)[1] if column.endswith("_hours") else None
        bad = pl.col(column) < 0 if high is None else (pl.col(column) < 0) | (pl.col(column) > high)
        checks.append((column, bad, "must be >= 0" + (f" and <= {high}" if high else "")))
    checks.extend(tox_inputs.frame_checks())
    converted = ((pl.col("temperature_f") - 32.0) * 5.0 / 9.0).round(2)
    checks.append(
        (
            "temperature_c",
            (converted - pl.col("temperature_c")).abs() > TEMPERATURE_CONSISTENCY_C,
            "inconsistent with temperature_f (crs-grading.md §2.2)",
        )
    )
    checks.append(
        (
            "organ_toxicity_max_grade",
            pl.col("organ_toxicity_max_grade") < pl.col("creatinine_grade"),
            "must be >= creatinine_grade (crs-grading.md §2.5)",
        )
    )
    checks.append(
        (
            "death_from_crs",
            pl.col("death_from_crs") & pl.col("crs_attributed").not_(),
            "true while crs_attributed is false (D9, D11)",
        )
    )
    checks = [c for c in checks if set(c[1].meta.root_names()) <= supplied]
    if not checks or not frame.height:
        return []
    flags = frame.select(bad.fill_null(False).any().alias(str(i)) for i, (_, bad, _) in enumerate(checks)).row(0)
    return [
        f"{column}: {message}: {_first_rows(frame, bad.fill_null(False), column)}"
        for (column, bad, message), flagged in zip(checks, flags, strict=True)
        if flagged
    ]


def prepare(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Validate and normalise a grading frame; returns the frame and the names of input columns it lacked.

    Absent columns are added as all-null (missing). Columns that are not grading inputs are kept untouched (they
    pass through to the result, e.g. `patient_id`, `time`). Raises `InputError` naming the column, the offending
    rows and what is allowed; nothing is graded when any row is invalid.
    """
    problems = []
    given = frame.schema
    lacking = [c for c in SCHEMA if c not in given]
    casts = []
    for column, dtype in SCHEMA.items():
        if column in lacking:
            casts.append(pl.lit(None, dtype).alias(column))
        elif given[column] != dtype:
            converted = frame[column].cast(dtype, strict=False)
            if converted.null_count() > frame[column].null_count():
                problems.append(f"{column}: values of type {given[column]} cannot be read as {dtype}")
            casts.append(pl.col(column).cast(dtype, strict=False))
    if problems:
        raise InputError(problems)
    frame = frame.with_columns(casts)
    problems = _problems(frame, set(given) & set(SCHEMA))
    for total in tox_inputs.frame_totals():
        frame = frame.with_columns(total)
    if problems:
        raise InputError(problems)
    fio2 = pl.col("fio2")
    normalised = frame.with_columns(
        pl.col("o2_device").replace({k: v.value for k, v in O2_DEVICE_SYNONYMS.items()}).cast(O2_DEVICE_ENUM),
        pl.coalesce(pl.col("temperature_c"), ((pl.col("temperature_f") - 32.0) * 5.0 / 9.0).round(2)).alias(
            "temperature_c"
        ),
        pl.when(fio2 <= 1.0).then((fio2 * 100.0).round(6)).otherwise(fio2).alias("fio2"),
        (fio2 <= 1.0).fill_null(False).alias(FIO2_WAS_FRACTION),
        *(pl.col(c).fill_null(v) for c, v in LOWER_ONLY_DEFAULTS.items()),
    )
    return normalised, lacking


#: Devices as a Polars Enum after `prepare`: rules compare integer codes, not strings.
O2_DEVICE_ENUM = pl.Enum([d.value for d in O2Device])

#: Helper column set by `prepare`: fio2 arrived as a fraction and was multiplied by 100 (A23).
FIO2_WAS_FRACTION = "__fio2_was_fraction"


class Inputs:
    """Column access for grading rules, in one of two readings of missing inputs, recording what it reads.

    * ``raw``: every absent input is null (three-valued logic), so a rule is true, false, or unknown.
    * ``strict``: `DEFAULTED` inputs take their spec default; only inputs without a default stay unknown.
    The recorded column names tell which inputs a rule depends on (for `missing`). Derived quantities built
    through `staged` are computed once per frame as helper columns (`staged` holds them with their level).
    """

    def __init__(self, mode: str) -> None:
        if mode not in ("raw", "strict"):
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.read: set[str] = set()
        self.staged: dict[str, tuple[int, pl.Expr]] = {}
        self._building: list[int] = []

    def __call__(self, column: str) -> pl.Expr:
        if column not in SCHEMA:
            raise KeyError(f"{column!r} is not a grading input column")
        self.read.add(column)
        expr = pl.col(column)
        if self.mode == "strict" and column in DEFAULTED:
            expr = expr.fill_null(DEFAULTED[column])
        return expr


def staged(build: Callable[..., pl.Expr]) -> Callable[..., pl.Expr]:
    """Make a derived quantity a helper column computed once per frame, however many rules read it.

    Positional arguments after the accessor must be plain values (they name the column). A derived quantity built
    from others is placed one stage after them.
    """

    @functools.wraps(build)
    def column(x: Inputs, *args: Any) -> pl.Expr:
        key = "__".join(["", x.mode, build.__name__, *(str(getattr(a, "value", a)) for a in args)])
        if key not in x.staged:
            x._building.append(0)
            expr = build(x, *args)
            x.staged[key] = (x._building.pop(), expr.alias(key))
        if x._building:
            x._building[-1] = max(x._building[-1], x.staged[key][0] + 1)
        return pl.col(key)

    return column


Rule = Callable[[Inputs], pl.Expr]


def columns_read(rule: Rule) -> list[str]:
    """The input columns a rule reads, in schema order."""
    recorder = Inputs("raw")
    rule(recorder)
    return [c for c in SCHEMA if c in recorder.read]


def to_frame(records: Iterable[Mapping[str, Any] | Snapshot]) -> pl.DataFrame:
    """Validate plain mappings (or snapshots) and build the grading frame."""
    return snapshots_frame(r if isinstance(r, Snapshot) else Snapshot.model_validate(r) for r in records)
