"""Closed input schema (unknown keys, units, plausibility) and the seed-factor checklist (risk §3)."""

from __future__ import annotations

from typing import Any

import pytest

from crsguard.risk import RiskInputError, allowed_keys, assess, parse_baseline


def _problems(raw: Any) -> tuple[str, ...]:
    with pytest.raises(RiskInputError) as caught:
        parse_baseline(raw)
    return caught.value.problems


# ------------------------------------------------------------------------------------------- closed schema
def test_unknown_key_is_rejected_with_the_allowed_keys() -> None:
    (problem,) = _problems({"ldh": 450, "LDH_u_l": 450})
    assert "unknown key 'LDH_u_l'" in problem
    for key in ("ldh", "creatinine", "platelets", "crp", "ferritin", "anc", "hemoglobin", "age_years"):
        assert key in problem


def test_allowed_keys_cover_quantities_age_and_seed_factors() -> None:
    keys = set(allowed_keys())
    assert {"ldh", "creatinine", "platelets", "crp", "ferritin", "anc", "hemoglobin"} <= keys
    assert {"age_years", "diabetes", "obesity", "heart_disease", "receives_rituximab"} <= keys


def test_implausible_value_is_rejected_with_the_range() -> None:
    (problem,) = _problems({"platelets": 5000})
    assert problem.startswith("platelets:")
    assert "3000" in problem and "plausible range" in problem


def test_implausible_after_conversion_is_rejected() -> None:
    """60 000 U/L LDH sent as 1000 µkat/L is above the interop range 0-50 000 U/L."""
    (problem,) = _problems({"ldh": {"value": 1000, "unit": "ukat/L"}})
    assert problem.startswith("ldh:") and "50000" in problem


def test_unit_not_accepted_is_rejected_with_accepted_units() -> None:
    (problem,) = _problems({"crp": {"value": 3, "unit": "nmol/L"}})
    assert problem.startswith("crp:") and "mg/dL" in problem


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (True, "expected a number"),
        ("450", "expected a number"),
        ({"value": 450}, "exactly the keys"),
        ({"value": 450, "unit": "U/L", "when": "today"}, "exactly the keys"),
        ({"value": "450", "unit": "U/L"}, "finite number"),
        ({"value": 450, "unit": 7}, "'unit' must be a string"),
        (float("nan"), "finite number"),
    ],
)
def test_malformed_quantity_values_are_rejected(value: Any, fragment: str) -> None:
    (problem,) = _problems({"ldh": value})
    assert problem.startswith("ldh:") and fragment in problem


@pytest.mark.parametrize(
    ("key", "value"), [("diabetes", "yes"), ("diabetes", 1), ("age_years", -1), ("age_years", "70")]
)
def test_malformed_flags_and_age_are_rejected(key: str, value: Any) -> None:
    (problem,) = _problems({key: value})
    assert problem.startswith(f"{key}:")


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems({"ldh": -5, "foo": 1, "diabetes": "no"})
    assert len(problems) == 3


@pytest.mark.parametrize("raw", [[], "ldh=450", 42, None])
def test_input_must_be_an_object(raw: Any) -> None:
    (problem,) = _problems(raw)
    assert "JSON object" in problem


def test_canonical_and_given_values_are_kept_for_audit() -> None:
    report = assess({"creatinine": {"value": 97, "unit": "µmol/L"}})
    entry = report.inputs["creatinine"]
    assert (entry.given_value, entry.given_unit, entry.unit) == (97, "µmol/L", "mg/dL")
    assert entry.value == pytest.approx(97 * 0.01131)


# ------------------------------------------------------------------------------------------------ checklist
def _status(raw: dict[str, Any], factor: str) -> str:
    items = {f.factor: f for f in assess(raw).checklist.factors}
    return items[factor].status


@pytest.mark.parametrize(("age", "status"), [(65, "present"), (64.9, "absent"), (None, "unknown")])
def test_age_65_or_over(age: float | None, status: str) -> None:
    assert _status({"age_years": age}, "age_65_or_over") == status


@pytest.mark.parametrize(("flag", "status"), [(True, "present"), (False, "absent"), (None, "unknown")])
def test_flag_factors(flag: bool | None, status: str) -> None:
    assert _status({"obesity": flag}, "obesity") == status
    assert _status({}, "obesity") == "unknown"


@pytest.mark.parametrize(
    ("therapy", "age", "status"),
    [
        (True, 10, "present"),
        (True, 40, "absent"),
        (False, 10, "absent"),
        (False, None, "absent"),
        (True, None, "unknown"),
        (None, 10, "unknown"),
        (None, 40, "absent"),
    ],
)
def test_therapy_in_child_factors(therapy: bool | None, age: float | None, status: str) -> None:
    raw = {"receives_tisagenlecleucel": therapy, "age_years": age}
    assert _status(raw, "tisagenlecleucel_in_child") == status


def test_checklist_evidence_grades_are_the_specs() -> None:
    """Grades copied from risk §3 'Strength' column."""
    expected = {
        "age_65_or_over": "weak",
        "group_living": "no evidence",
        "diabetes": "weak",
        "heart_disease": "weak",
        "immune_affecting_condition": "weak",
        "obesity": "weak",
        "blinatumomab_in_child": "moderate",
        "tisagenlecleucel_in_child": "strong",
        "rituximab": "not applicable",
    }
    checklist = assess({}).checklist
    assert {f.factor: f.evidence_grade for f in checklist.factors} == expected
    assert all(f.source == "risk §3" for f in checklist.factors)


def test_checklist_is_separate_from_scores_and_never_summed() -> None:
    report = assess({"age_years": 70, "diabetes": True, "obesity": True, "heart_disease": True})
    dumped = report.model_dump()
    assert {s["name"] for s in dumped["scores"]}.isdisjoint(
        f["factor"] for f in dumped["checklist"]["factors"]
    )
    assert set(dumped["checklist"]) == {"kind", "note", "source", "factors"}
    assert "not combined into" in report.checklist.note
