"""Result types of the risk module: one score, the seed-factor checklist, the whole pre-infusion report."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from crsguard.risk.definitions import Cutoff

CONFIRMATION_TEXT = "requires clinician confirmation"
"""Text every result that depends on unverified [U] or assumed [A] content must carry (spec README)."""


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Result):
    citation: str
    spec_section: str


class ScoreResult(_Result):
    """One validated (or display-only) score for one patient, with everything needed to read it safely."""

    name: str
    title: str
    value: int | float | None
    log2_value: float | None
    category: str | None
    cutoff: Cutoff | None
    no_cutoff_reason: str | None
    predicts: str
    validation_population: str
    timing: str
    formula: str
    evidence: str
    points: dict[str, int] | None
    inputs_used: dict[str, float]
    inputs_missing: list[str]
    not_computable_reason: str | None
    requires_clinician_confirmation: bool
    warnings: list[str]
    source: Source


class UnavailableScoreResult(_Result):
    """A score the spec names but that is not computed, and why."""

    name: str
    title: str
    reason: str
    spec_section: str


class ChecklistItem(_Result):
    """One seed risk factor: present, absent or unknown, with the spec's evidence grade (risk §3)."""

    factor: str
    seed_wording: str
    status: Literal["present", "absent", "unknown"]
    evidence_grade: str
    evidence: str
    direction: str
    use: str
    inputs: list[str]
    source: str


class Checklist(_Result):
    """The seeds' risk factors. Not a score: the items are never combined into a number."""

    kind: Literal["seed_risk_factor_checklist"] = "seed_risk_factor_checklist"
    note: str
    source: str
    factors: list[ChecklistItem]


class InputValue(_Result):
    """An input as used (canonical unit) and as given, for audit."""

    value: float
    unit: str
    given_value: float
    given_unit: str


class RiskReport(_Result):
    """Output of ``crsguard risk``: validated scores, unavailable scores and the seed-factor checklist."""

    patient_id: str | None
    scores: list[ScoreResult]
    unavailable_scores: list[UnavailableScoreResult]
    checklist: Checklist
    inputs: dict[str, InputValue]
    warnings: list[str]
