"""The grading engine: one definition per system, evaluated as native Polars expressions on a frame of snapshots.

A system is a table of criteria, each "grade g if <condition>", joined by "or" and combined by taking the highest
grade met (crs-grading.md D10). Conditions are three-valued: true, false, or null when an input they need is
absent. From that one evaluation the engine derives, per row and without Python loops:

* `grade` — the highest grade whose criterion is certainly met (the certain lower bound);
* `lower_bound` — some higher criterion is undecided because an input is absent;
* `grade_upper` — the highest grade reachable if every absent input took its worst value (= `grade` when complete);
* `status` — "indeterminate" when that is so even after giving the spec's defaults to defaulted inputs (§2.6);
* with `detail`: `drivers` (the criteria that set the grade, in words), `missing` (absent inputs that could have
  raised it) and `warnings` (unverified [R] and local [L] readings that decided it, and conditional cautions).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from crsguard.grading.inputs import (
    FIO2_WAS_FRACTION,
    INPUT_FIELD,
    LOWER_ONLY_DEFAULTS,
    QUALIFIES,
    SCHEMA,
    Inputs,
    prepare,
)
from crsguard.grading.options import resolve, validate_options

Options = Mapping[str, Any]
Condition = Callable[[Inputs, Options], pl.Expr]
Tag = Literal["P", "S", "R", "L"]

TAG_MEANING = {
    "P": "verified against the primary text",
    "S": "verified through secondary reproductions",
    "R": "reconstructed or unverified: requires clinician confirmation",
    "L": "local implementation choice",
}

CONFIRMATION = "requires clinician confirmation"


@dataclass(frozen=True)
class Caution:
    """A warning added when its condition holds (for a criterion: when that criterion drives the grade)."""

    text: str
    when: Condition


@dataclass(frozen=True)
class Criterion:
    """One row of a grade table: the paper's words (paraphrased), the executable rule and its provenance."""

    grade: int
    text: str
    when: Condition
    tag: Tag
    ref: str
    note: str = ""
    cautions: tuple[Caution, ...] = ()

    def tag_warning(self) -> str | None:
        """[R] rules warn that they need confirmation, [L] rules that they are a local reading (spec README)."""
        if self.tag == "R":
            return f"{CONFIRMATION}: {self.note or self.text} ({self.ref})"
        if self.tag == "L":
            return f"local interpretation: {self.note or self.text} ({self.ref})"
        return None


SystemCondition = Callable[[Inputs, Options, pl.Expr], pl.Expr]


@dataclass(frozen=True)
class SystemCaution:
    """A result-level warning; its condition also sees the grade expression."""

    text: str
    when: SystemCondition


@dataclass(frozen=True)
class ResultField:
    """An extra per-row result of a system (ICAHT's `window`, the neurotoxicity `instrument`, other-toxicities.md
    §7.8): a String expression over the inputs, returned as `<system>_<name>` and as a field of the result."""

    name: str
    value: Condition


@dataclass(frozen=True)
class Derivation:
    """Completes grading inputs from other inputs before grading (CRS organ grades from CTCAE v5.0 lab grades,
    crs-grading.md D8). `apply` returns the frame with `columns` completed and, for each, a String column
    `note_column(column)` whose text joins the warnings of every system that reads the column."""

    columns: tuple[str, ...]
    apply: Callable[[pl.DataFrame], pl.DataFrame]


def note_column(column: str) -> str:
    return f"__note__{column}"


#: Derivations `evaluate` runs when a system reads one of their columns (registered by the modules defining them).
DERIVATIONS: list[Derivation] = []


def _derived_columns() -> set[str]:
    return {c for derivation in DERIVATIONS for c in derivation.columns}


def _derive(frame: pl.DataFrame, compiled: Sequence[Any]) -> pl.DataFrame:
    """Run the derivations whose columns some system reads."""
    read = {c for comp in compiled for reads in comp.reads for c in reads}
    for derivation in DERIVATIONS:
        if read & set(derivation.columns):
            frame = derivation.apply(frame)
    return frame


def _with_notes(warnings: pl.Expr, compiled: Any) -> pl.Expr:
    """Add the notes of derived inputs the system reads (present whenever `_derive` ran for them)."""
    derived = _derived_columns()
    read = dict.fromkeys(c for reads in compiled.reads for c in reads if c in derived)
    if not read:
        return warnings
    return pl.concat_list(warnings, *(pl.col(note_column(c)) for c in read)).list.drop_nulls()


@dataclass(frozen=True)
class GradingSystem:
    """A grading system: identity, citation, the criteria (built for the resolved options) and gates."""

    id: str
    toxicity: str
    title: str
    citation: str
    spec_section: str
    evidence: str
    criteria: Callable[[Options], Sequence[Criterion]]
    cautions: tuple[SystemCaution, ...] = ()
    #: Inputs that, when false, force grade 0 (D11 attribution gate), with the driver text then shown.
    gate_column: str | None = None
    gate_text: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    version: str = "1"
    result_fields: tuple[ResultField, ...] = ()


def _temp(system: GradingSystem, index: int, mode: str) -> str:
    return f"__{system.id}__{index}__{mode}"


@dataclass(frozen=True)
class _Compiled:
    system: GradingSystem
    options: dict[str, Any]
    criteria: tuple[Criterion, ...]
    raw: tuple[pl.Expr, ...]
    strict: tuple[pl.Expr, ...]
    reads: tuple[tuple[str, ...], ...]
    #: Helper columns of derived quantities: name -> (stage, expression).
    staged: dict[str, tuple[int, pl.Expr]]


@functools.lru_cache(maxsize=256)
def _compile(system: GradingSystem, options: tuple[tuple[str, Any], ...]) -> _Compiled:
    """Build a system's expressions once per option set (expression building costs more than a small frame)."""
    resolved = resolve(system.id, dict(options))
    criteria = tuple(system.criteria(resolved))
    raw, strict, reads = [], [], []
    staged: dict[str, tuple[int, pl.Expr]] = {}
    for criterion in criteria:
        expressions = []
        for mode in ("raw", "strict"):
            x = Inputs(mode)
            condition = criterion.when(x, resolved)
            if system.gate_column is not None:
                condition = x(system.gate_column) & condition
            expressions.append(condition)
            staged |= x.staged
            if mode == "raw":
                reads.append(tuple(c for c in SCHEMA if c in x.read))
        raw.append(expressions[0])
        strict.append(expressions[1])
    return _Compiled(system, resolved, criteria, tuple(raw), tuple(strict), tuple(reads), staged)


def _max_grade(compiled: _Compiled, mode: str, assume_unknown: bool) -> pl.Expr:
    grades = [
        pl.when(pl.col(_temp(compiled.system, i, mode)).fill_null(assume_unknown)).then(c.grade).otherwise(0)
        for i, c in enumerate(compiled.criteria)
    ]
    return pl.max_horizontal(pl.lit(0), *grades).cast(pl.Int8)


def _text_list(items: Sequence[tuple[pl.Expr, str]]) -> pl.Expr:
    if not items:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list([pl.when(cond).then(pl.lit(text)) for cond, text in items]).list.drop_nulls()


def _absent(column: str) -> pl.Expr:
    """The input is absent and worth asking for (a qualifier only once what it qualifies is known)."""
    absent = pl.col(column).is_null()
    return absent & pl.col(QUALIFIES[column]).is_not_null() if column in QUALIFIES else absent


@functools.lru_cache(maxsize=256)
def _detail(
    system: GradingSystem, options: tuple[tuple[str, Any], ...]
) -> tuple[dict[str, pl.Expr], dict[str, tuple[int, pl.Expr]]]:
    """Drivers, missing inputs and warnings as list expressions, and the helper columns their cautions need."""
    compiled = _compile(system, options)
    resolved = compiled.options
    grade = pl.col(f"{system.id}_grade")
    drivers: list[tuple[pl.Expr, str]] = []
    warnings: list[tuple[pl.Expr, str]] = []
    missing: list[tuple[pl.Expr, str]] = []
    x = Inputs("raw")
    for i, criterion in enumerate(compiled.criteria):
        state = pl.col(_temp(system, i, "raw"))
        drives = state.fill_null(False) & (grade == criterion.grade)
        drivers.append((drives, criterion.text))
        tag_warning = criterion.tag_warning()
        if tag_warning:
            warnings.append((drives, tag_warning))
        warnings.extend((drives & c.when(x, resolved).fill_null(False), c.text) for c in criterion.cautions)
        could_raise = state.is_null() & (grade < criterion.grade)
        missing.extend(
            (could_raise & _absent(column), INPUT_FIELD[column])
            for column in compiled.reads[i]
            if column not in LOWER_ONLY_DEFAULTS
        )
    if system.gate_column is not None:
        drivers.append((pl.col(system.gate_column).not_(), system.gate_text))
    drivers.append((grade == 0, "no criterion for grade 1 or above is met"))
    warnings.extend((c.when(x, resolved, grade).fill_null(False), c.text) for c in system.cautions)
    if any("fio2" in reads for reads in compiled.reads):
        warnings.append(
            (pl.col(FIO2_WAS_FRACTION), "fio2 was given as a fraction and read as percent (x 100) (crs-grading.md A23)")
        )
    lists = {
        "drivers": _text_list(drivers).list.unique(maintain_order=True),
        "missing": _text_list(missing).list.unique().list.sort(),
        "warnings": _with_notes(_text_list(warnings), compiled).list.unique(maintain_order=True),
    }
    return lists, x.staged


def evaluate(
    frame: pl.DataFrame,
    systems: Sequence[GradingSystem],
    options: Options | None = None,
    detail: bool = False,
) -> pl.DataFrame:
    """Grade every row of `frame` under every system; returns only the `<system>_<field>` result columns."""
    checked = validate_options(options)
    prepared, _ = prepare(frame)
    key = tuple(sorted(checked.items()))
    compiled = [_compile(s, key) for s in systems]
    details = [_detail(s, key) for s in systems] if detail else []
    staged: dict[str, tuple[int, pl.Expr]] = {}
    for helper in [c.staged for c in compiled] + [d[1] for d in details]:
        staged |= helper
    prepared = _derive(prepared, compiled)
    lazy = prepared.lazy()
    for stage in sorted({level for level, _ in staged.values()}):
        lazy = lazy.with_columns(expr for level, expr in staged.values() if level == stage)
    lazy = lazy.with_columns(
        expr.alias(_temp(c.system, i, mode))
        for c in compiled
        for mode, exprs in (("raw", c.raw), ("strict", c.strict))
        for i, expr in enumerate(exprs)
    )
    results = []
    for c in compiled:
        prefix = c.system.id
        grade = _max_grade(c, "raw", False)
        upper = _max_grade(c, "raw", True)
        results += [
            grade.alias(f"{prefix}_grade"),
            upper.alias(f"{prefix}_grade_upper"),
            (upper > grade).alias(f"{prefix}_lower_bound"),
            pl.when(_max_grade(c, "strict", True) > grade)
            .then(pl.lit("indeterminate"))
            .otherwise(pl.lit("ok"))
            .alias(f"{prefix}_status"),
            *(f.value(Inputs("raw"), c.options).alias(f"{prefix}_{f.name}") for f in c.system.result_fields),
        ]
    lazy = lazy.with_columns(results)
    if detail:
        lazy = lazy.with_columns(
            expr.alias(f"{c.system.id}_{name}")
            for c, (lists, _) in zip(compiled, details, strict=True)
            for name, expr in lists.items()
        )
    wanted = [
        f"{c.system.id}_{name}"
        for c in compiled
        for name in (
            "grade",
            "grade_upper",
            "lower_bound",
            "status",
            *(("drivers", "missing", "warnings") if detail else ()),
            *(f.name for f in c.system.result_fields),
        )
    ]
    return lazy.select(wanted).collect()
