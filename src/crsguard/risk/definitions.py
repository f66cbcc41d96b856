"""Typed loaders for the risk data files (scores, CAR-HEMATOTOX points, seed risk factors).

The clinician-readable content lives in ``crsguard/risk/data/*.yaml``; this module only parses and validates
it, so a malformed edit fails loudly at load time instead of silently changing a score.
"""

from __future__ import annotations

import itertools
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

_DATA_PACKAGE = "crsguard.risk.data"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FlagBound(_Frozen):
    """Narrower bounds outside which a score flags (does not reject) an input: risk §1.1 rule 2."""

    min: float
    max: float
    unit: str


class Cutoff(_Frozen):
    """A validated cut-off: ``value OPERATOR cutoff`` puts the patient in ``category_above``."""

    operator: Literal[">", ">="]
    value: float
    category_above: str
    category_otherwise: str
    applies_to: str
    effect: str
    source: str

    def describe(self) -> str:
        return f"{self.category_above} if value {self.operator} {self.value:g}; applies to {self.applies_to}"

    def describe_short(self) -> str:
        return f"{self.operator} {self.value:g} → {self.category_above}, else {self.category_otherwise}"


class ScoreDefinition(_Frozen):
    """Everything a result must say about a score besides its value (risk §1.2-§1.5)."""

    name: str
    title: str
    formula: str
    inputs: tuple[str, ...]
    evidence: str
    timing: str
    predicts: str
    validation_population: str
    cutoff: Cutoff | None
    no_cutoff_reason: str | None = None
    caution: str | None = None
    odds_ratio_per_doubling: float | None = None
    odds_ratio_source: str | None = None
    requires_confirmation: bool
    confirmation_reason: str | None = None
    citation: str
    spec_section: str

    @model_validator(mode="after")
    def _explains_missing_parts(self) -> ScoreDefinition:
        if self.cutoff is None and not self.no_cutoff_reason:
            raise ValueError(f"score {self.name}: no cut-off and no no_cutoff_reason")
        if self.requires_confirmation and not self.confirmation_reason:
            raise ValueError(f"score {self.name}: requires_confirmation without confirmation_reason")
        return self


class UnavailableScore(_Frozen):
    """A score the spec names but gives in no usable form (blocked, research-only, do-not-implement)."""

    name: str
    title: str
    reason: str
    spec_section: str


class ScoreCatalogue(_Frozen):
    flag_bounds: dict[str, FlagBound]
    flag_bounds_source: str
    scores: tuple[ScoreDefinition, ...]
    unavailable: tuple[UnavailableScore, ...]

    def score(self, name: str) -> ScoreDefinition:
        for definition in self.scores:
            if definition.name == name:
                return definition
        raise KeyError(name)


class PointBand(_Frozen):
    """One row cell of the CAR-HEMATOTOX table: ``points`` for values inside the interval."""

    points: int
    above: float | None = None
    at_or_above: float | None = None
    below: float | None = None
    at_or_below: float | None = None

    @model_validator(mode="after")
    def _one_bound_per_side(self) -> PointBand:
        if self.above is not None and self.at_or_above is not None:
            raise ValueError("band has two lower bounds")
        if self.below is not None and self.at_or_below is not None:
            raise ValueError("band has two upper bounds")
        return self

    @property
    def lower(self) -> tuple[float, bool] | None:
        """(bound, inclusive) or None when open below."""
        if self.at_or_above is not None:
            return (self.at_or_above, True)
        if self.above is not None:
            return (self.above, False)
        return None

    @property
    def upper(self) -> tuple[float, bool] | None:
        if self.at_or_below is not None:
            return (self.at_or_below, True)
        if self.below is not None:
            return (self.below, False)
        return None

    def contains(self, value: float) -> bool:
        lower, upper = self.lower, self.upper
        if lower is not None and (value < lower[0] or (value == lower[0] and not lower[1])):
            return False
        return not (upper is not None and (value > upper[0] or (value == upper[0] and not upper[1])))

    def cut_points(self) -> tuple[float, ...]:
        return tuple(bound[0] for bound in (self.lower, self.upper) if bound is not None)


def _check_partition(quantity: str, bands: tuple[PointBand, ...]) -> None:
    """Every value >= 0 must fall in exactly one band; probing each cut-off and the gaps between is enough."""
    cuts = sorted({c for band in bands for c in band.cut_points()} | {0.0})
    probes = set(cuts)
    probes |= {(a + b) / 2 for a, b in itertools.pairwise(cuts)}
    probes.add(cuts[-1] * 2 + 1)
    for probe in probes:
        hits = [band.points for band in bands if band.contains(probe)]
        if len(hits) != 1:
            raise ValueError(f"CAR-HEMATOTOX {quantity}: value {probe:g} falls in {len(hits)} bands")


class HematotoxVariable(_Frozen):
    quantity: str
    unit: str
    bands: tuple[PointBand, ...]

    @model_validator(mode="after")
    def _bands_partition(self) -> HematotoxVariable:
        _check_partition(self.quantity, self.bands)
        return self


class BoundaryConvention(_Frozen):
    description: str
    overrides: dict[str, tuple[PointBand, ...]]


class HematotoxTable(_Frozen):
    """The CAR-HEMATOTOX point table and its boundary conventions (risk §1.5)."""

    source: str
    high_risk_from_points: int
    max_points: int
    variables: tuple[HematotoxVariable, ...]
    default_convention: str
    conventions: dict[str, BoundaryConvention]

    @model_validator(mode="after")
    def _consistent(self) -> HematotoxTable:
        quantities = {v.quantity for v in self.variables}
        if self.default_convention not in self.conventions:
            raise ValueError(f"default convention {self.default_convention!r} is not defined")
        for name, convention in self.conventions.items():
            for quantity, bands in convention.overrides.items():
                if quantity not in quantities:
                    raise ValueError(f"convention {name}: unknown variable {quantity!r}")
                _check_partition(quantity, bands)
        top = sum(max(b.points for b in v.bands) for v in self.variables)
        if top != self.max_points:
            raise ValueError(f"max_points {self.max_points} but the bands sum to {top}")
        return self

    def bands_for(self, convention: str) -> dict[str, tuple[PointBand, ...]]:
        """Point bands per quantity under a named boundary convention."""
        if convention not in self.conventions:
            allowed = ", ".join(sorted(self.conventions))
            raise ValueError(f"unknown CAR-HEMATOTOX boundary convention {convention!r}; allowed: {allowed}")
        overrides = self.conventions[convention].overrides
        return {v.quantity: overrides.get(v.quantity, v.bands) for v in self.variables}

    def cut_points(self, quantity: str) -> tuple[float, ...]:
        variable = next(v for v in self.variables if v.quantity == quantity)
        return tuple(sorted({c for band in variable.bands for c in band.cut_points()}))


class FactorRule(_Frozen):
    kind: Literal["age_at_least", "flag", "therapy_in_child"]
    years: float | None = None
    input: str | None = None

    @model_validator(mode="after")
    def _has_operand(self) -> FactorRule:
        if self.kind == "age_at_least" and self.years is None:
            raise ValueError("age_at_least rule needs years")
        if self.kind != "age_at_least" and self.input is None:
            raise ValueError(f"{self.kind} rule needs input")
        return self


class SeedFactor(_Frozen):
    id: str
    seed_wording: str
    rule: FactorRule
    evidence_grade: Literal["strong", "moderate", "weak", "no evidence", "not applicable"]
    evidence: str
    direction: str
    use: str


class SeedFactorChecklist(_Frozen):
    source: str
    note: str
    child_age_below_years: float
    child_age_source: str
    factors: tuple[SeedFactor, ...]

    def flag_inputs(self) -> tuple[str, ...]:
        """Input keys (booleans) the checklist reads, in file order."""
        return tuple(f.rule.input for f in self.factors if f.rule.input is not None)


def _load_yaml(filename: str) -> Any:
    text = resources.files(_DATA_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def score_catalogue() -> ScoreCatalogue:
    return ScoreCatalogue.model_validate(_load_yaml("scores.yaml"))


@cache
def hematotox_table() -> HematotoxTable:
    raw = _load_yaml("car_hematotox.yaml")
    conventions_raw = dict(raw.pop("boundary_conventions"))
    default = conventions_raw.pop("default")
    merged = {**raw, "default_convention": default, "conventions": conventions_raw}
    return HematotoxTable.model_validate(merged)


@cache
def seed_factor_checklist() -> SeedFactorChecklist:
    return SeedFactorChecklist.model_validate(_load_yaml("seed_risk_factors.yaml"))


__all__ = [
    "BoundaryConvention",
    "Cutoff",
    "FlagBound",
    "HematotoxTable",
    "PointBand",
    "ScoreCatalogue",
    "ScoreDefinition",
    "SeedFactor",
    "SeedFactorChecklist",
    "UnavailableScore",
    "hematotox_table",
    "score_catalogue",
    "seed_factor_checklist",
]
