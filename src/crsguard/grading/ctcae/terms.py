"""CTCAE v5.0 term systems built from `terms.yaml` (other-toxicities.md §3, §6): one `GradingSystem` per term.

The YAML holds, per row, the CTCAE cell a clinician reads, the executable condition and the recorded
interpretation (the admiral model, ARCHITECTURE). This module only turns a condition list into a Polars
expression; it knows no threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce
from importlib import resources
from typing import Any

import polars as pl
import yaml

from crsguard.grading.engine import Criterion, GradingSystem, Options, SystemCaution
from crsguard.grading.inputs import Inputs
from crsguard.grading.toxicity_inputs import TERM_ORDER, term_column
from crsguard.model import toxicity as tox

CITATION = (
    "National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE) version 5.0. US Department "
    "of Health and Human Services, National Institutes of Health; 27 November 2017."
)
#: Ratios and values are compared after rounding, so that a unit conversion never flips a boundary (§0.6).
DIGITS = 9

#: Clinician entries of §7.5 read as measures of the term (`ctcae_<term>_<suffix>` columns).
ENTRY_MEASURES = ("severity", "adl", "intervention", "life_threatening", "hospitalisation", "dialysis", "assessed")
#: Ordered snapshot enums that rows compare with `at_least`.
ORDERED_FIELDS = {"tremor_severity": tuple(tox.Severity), "myoclonus_severity": tuple(tox.Severity)}


@dataclass(frozen=True)
class Term:
    """One term of terms.yaml."""

    key: str
    term: str
    ref: str
    rows: tuple[Mapping[str, Any], ...]
    value: str | None = None
    uln: str | None = None
    lln: str | None = None
    baseline: str | None = None
    informed_by: tuple[str, ...] = ()


def load_terms() -> dict[str, Term]:
    text = resources.files("crsguard.grading.ctcae").joinpath("terms.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)["terms"]
    return {
        key: Term(key=key, term=spec["term"], ref=spec["ref"], rows=tuple(spec["rows"]), value=spec.get("value"),
                  uln=spec.get("uln"), lln=spec.get("lln"), baseline=spec.get("baseline"),
                  informed_by=tuple(spec.get("informed_by") or ((spec["value"],) if spec.get("value") else ())))
        for key, spec in data.items()
    }


def _col(x: Inputs, name: str | None, term: Term, what: str) -> pl.Expr:
    if name is None:
        raise ValueError(f"terms.yaml {term.key}: a row uses {what} but the term names no {what} column")
    return x(name)


def measure(x: Inputs, term: Term, name: str) -> pl.Expr:
    """The quantity a condition compares (see the header of terms.yaml)."""
    if name in ENTRY_MEASURES:
        return x(term_column(term.key, name))
    def value() -> pl.Expr:
        return _col(x, term.value, term, "value")

    def baseline() -> pl.Expr:
        return _col(x, term.baseline, term, "baseline")

    ratios: dict[str, Callable[[], pl.Expr]] = {
        "value": value,
        "times_uln": lambda: value() / _col(x, term.uln, term, "uln"),
        "times_lln": lambda: value() / _col(x, term.lln, term, "lln"),
        "times_baseline": lambda: value() / baseline(),
        "percent_decrease_from_baseline": lambda: (baseline() - value()) / baseline() * 100.0,
        "points_below_baseline": lambda: baseline() - value(),
    }
    if name in ratios:
        return ratios[name]().round(DIGITS)
    return x(name)


def _order(term: Term, name: str) -> tuple[str, ...]:
    if name in ORDERED_FIELDS:
        return tuple(str(v) for v in ORDERED_FIELDS[name])
    return TERM_ORDER[term_column(term.key, name)]


def condition(x: Inputs, term: Term, spec: list[Any]) -> pl.Expr:
    """[measure, operator, bound] → a three-valued Boolean expression."""
    name, operator, bound = spec
    left = measure(x, term, name)
    if operator == "at_least":
        order = _order(term, name)
        return left.is_in(list(order[order.index(bound):]))
    if operator == "in":
        return left.is_in([str(b) for b in bound])
    if operator == "is":
        return left if bound else left.not_()
    comparisons: dict[str, Callable[[pl.Expr, float], pl.Expr]] = {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    return comparisons[operator](left, float(bound))


def _baseline(x: Inputs, term: Term) -> pl.Expr:
    return _col(x, term.baseline, term, "baseline")


def branch(x: Inputs, term: Term, name: str | None) -> pl.Expr:
    """The baseline branch of a row (§6.1, A-15 to A-18, A-35); a missing baseline takes the first branch."""
    if name is None:
        return pl.lit(True)

    def baseline() -> pl.Expr:
        return _baseline(x, term)

    def or_missing(condition: pl.Expr) -> pl.Expr:
        return pl.when(baseline().is_null()).then(True).otherwise(condition)

    def known_and(condition: pl.Expr) -> pl.Expr:
        return pl.when(baseline().is_null()).then(False).otherwise(condition)

    def uln() -> pl.Expr:
        return _col(x, term.uln, term, "uln")

    def lln() -> pl.Expr:
        return _col(x, term.lln, term, "lln")

    branches: dict[str, Callable[[], pl.Expr]] = {
        "baseline_normal": lambda: or_missing(baseline() <= uln()),
        "baseline_abnormal": lambda: known_and(baseline() > uln()),
        "baseline_known": lambda: baseline().is_not_null(),
        "baseline_at_least_lln": lambda: or_missing(baseline() >= lln()),
        "baseline_below_lln": lambda: known_and(baseline() < lln()),
        "absolute_inr": lambda: or_missing(x("on_anticoagulation").not_()),
        "ratio_inr": lambda: known_and(x("on_anticoagulation")),
    }
    return branches[name]()


def _when(term: Term, row: Mapping[str, Any]) -> Callable[[Inputs, Options], pl.Expr]:
    def rule(x: Inputs, options: Options) -> pl.Expr:
        parts = [condition(x, term, c) for c in row["all"]]
        return branch(x, term, row.get("when")) & reduce(lambda a, b: a & b, parts)

    return rule


def criteria_of(term: Term) -> Callable[[Options], list[Criterion]]:
    def criteria(options: Options) -> list[Criterion]:
        return [
            Criterion(int(row["grade"]), str(row["text"]), _when(term, row), row.get("tag", "P"), term.ref,
                      str(row.get("note", "")))
            for row in term.rows
        ]

    return criteria


def _baseline_missing(term: Term) -> SystemCaution:
    return SystemCaution(
        "baseline_missing: graded with the baseline-normal / ULN / x LLN / absolute branch "
        "(other-toxicities.md §6.1, A-35)",
        lambda x, o, g: _col(x, term.value, term, "value").is_not_null() & _baseline(x, term).is_null(),
    )


def _creatinine_within_uln(term: Term) -> SystemCaution:
    return SystemCaution(
        "creatinine_within_uln_baseline_criterion: grade from the baseline criterion while creatinine <= ULN "
        "(other-toxicities.md A-16)",
        lambda x, o, g: (g >= 2) & (x("creatinine") <= x("creatinine_uln")),
    )


def system(term: Term) -> GradingSystem:
    cautions: list[SystemCaution] = []
    if term.baseline is not None and term.value is not None:
        cautions.append(_baseline_missing(term))
    if term.key == "creatinine_increased":
        cautions.append(_creatinine_within_uln(term))
    return GradingSystem(
        id=f"ctcae_v5_{term.key}",
        toxicity=term.key,
        title=f"CTCAE v5.0 — {term.term}",
        citation=f"{CITATION} Term '{term.term}'.",
        spec_section=term.ref,
        evidence="[P] CTCAE v5.0 grade table; interpretations recorded per row",
        criteria=criteria_of(term),
        cautions=tuple(cautions),
        notes=("Values compared in the canonical units of interop.md §1.1 (other-toxicities.md §0.6).",)
        if term.value
        else ("Graded from clinician entries in ctcae_term_assessments (other-toxicities.md §7.5, A-26).",),
    )


TERMS = load_terms()
SYSTEMS: tuple[GradingSystem, ...] = tuple(system(t) for t in TERMS.values())
#: System id → the inputs whose presence makes the term worth grading under `--all` (terms.yaml `informed_by`).
KEY_INPUTS: dict[str, frozenset[str]] = {
    f"ctcae_v5_{t.key}": frozenset(t.informed_by) for t in TERMS.values() if t.informed_by
}
