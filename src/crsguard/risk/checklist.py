"""The seeds' risk factors as a present/absent/unknown checklist with the spec's evidence grades (risk §3).

Deliberately not a score: factors are never added up, and their grades (mostly weak or no evidence) are shown
next to each so nobody mistakes a COVID-19 risk group for a validated CRS predictor.
"""

from __future__ import annotations

from typing import Literal

from crsguard.risk.definitions import FactorRule, SeedFactor, seed_factor_checklist
from crsguard.risk.inputs import AGE_KEY, BaselineInputs
from crsguard.risk.results import Checklist, ChecklistItem

Status = Literal["present", "absent", "unknown"]


def _status(flag: bool | None) -> Status:
    if flag is None:
        return "unknown"
    return "present" if flag else "absent"


def _is_child(age_years: float | None) -> bool | None:
    if age_years is None:
        return None
    return age_years < seed_factor_checklist().child_age_below_years


def _evaluate_rule(rule: FactorRule, baseline: BaselineInputs) -> Status:
    if rule.kind == "age_at_least":
        assert rule.years is not None
        return _status(None if baseline.age_years is None else baseline.age_years >= rule.years)
    assert rule.input is not None
    therapy = baseline.flags.get(rule.input)
    if rule.kind == "flag":
        return _status(therapy)
    # therapy_in_child: absent as soon as either part is known to be false.
    child = _is_child(baseline.age_years)
    if therapy is False or child is False:
        return "absent"
    if therapy is None or child is None:
        return "unknown"
    return "present"


def _inputs(rule: FactorRule) -> list[str]:
    if rule.kind == "age_at_least":
        return [AGE_KEY]
    assert rule.input is not None
    return [rule.input, AGE_KEY] if rule.kind == "therapy_in_child" else [rule.input]


def _item(factor: SeedFactor, baseline: BaselineInputs, source: str) -> ChecklistItem:
    return ChecklistItem(
        factor=factor.id,
        seed_wording=factor.seed_wording,
        status=_evaluate_rule(factor.rule, baseline),
        evidence_grade=factor.evidence_grade,
        evidence=factor.evidence,
        direction=factor.direction,
        use=factor.use,
        inputs=_inputs(factor.rule),
        source=source,
    )


def evaluate_checklist(baseline: BaselineInputs) -> Checklist:
    """Every seed factor's status for this patient; unknown where the input was absent or null."""
    definition = seed_factor_checklist()
    return Checklist(
        note=definition.note,
        source=definition.source,
        factors=[_item(f, baseline, definition.source) for f in definition.factors],
    )
