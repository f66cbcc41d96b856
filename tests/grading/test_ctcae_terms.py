"""CTCAE v5.0 terms: boundaries (§0.3 inequality notation, A-21), baseline rules (§6.1, A-15 to A-18, A-35) and
unit invariance of the laboratory grades (§0.6: a value converted with the interop factors grades the same)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crsguard
from crsguard.grading.ctcae.terms import SYSTEMS, TERMS
from crsguard.model.toxicity import CTCAE_ASSESSED_TERMS
from crsguard.model.vocabulary import from_canonical


def grade(term: str, **inputs: Any) -> crsguard.GradeResult:
    return crsguard.grade(inputs, f"ctcae_v5_{term}")


def test_every_term_is_registered_with_a_snake_case_id() -> None:
    ids = {s.id for s in SYSTEMS}
    assert {f"ctcae_v5_{k}" for k in TERMS} == ids
    assert set(CTCAE_ASSESSED_TERMS) <= set(TERMS)
    assert "ctcae_v5_cytokine_release_syndrome" not in ids  # CRS is `ctcae_v5` (§7.8)


@pytest.mark.parametrize(("anc", "expected"), [(0.5, 3), (0.499, 4), (1.0, 2), (0.999, 3), (1.5, 1), (1.499, 2)])
def test_neutrophil_boundaries_are_strict_below(anc: float, expected: int) -> None:
    assert grade("neutrophil_count_decreased", anc=anc, anc_lln=1.8).grade == expected


@pytest.mark.parametrize(("per_ul", "expected"), [(500, 3), (100, 4), (1500, 1)])
def test_neutrophils_entered_per_microlitre_are_converted(per_ul: float, expected: int) -> None:
    result = grade("neutrophil_count_decreased", anc={"value": per_ul, "unit": "/uL"}, anc_lln=1.8)
    assert result.grade == expected


@pytest.mark.parametrize(("platelets", "expected"), [(50, 2), (49.9, 3), (25, 3), (24.9, 4), (75, 1)])
def test_platelet_boundaries(platelets: float, expected: int) -> None:
    assert grade("platelet_count_decreased", platelets=platelets, platelets_lln=150).grade == expected


def test_grade_1_needs_the_lln_and_says_so() -> None:
    result = grade("neutrophil_count_decreased", anc=1.6)
    assert (result.grade, result.status, result.missing) == (0, "indeterminate", ["anc_lln"])


def test_abnormal_baseline_values_below_1_5_times_baseline_are_grade_0() -> None:
    assert grade("alanine_aminotransferase_increased", alt=120, alt_uln=40, alt_baseline=90).grade == 0


def test_missing_baseline_uses_the_baseline_normal_column_and_flags_it() -> None:
    result = grade("alanine_aminotransferase_increased", alt=300, alt_uln=40)
    assert (result.grade, result.status, result.lower_bound) == (3, "ok", False)
    assert any(w.startswith("baseline_missing") for w in result.warnings)


def test_creatinine_baseline_criterion_within_uln_is_grade_2_and_flagged() -> None:
    result = grade("creatinine_increased", creatinine=0.9, creatinine_uln=1.1, creatinine_baseline=0.4)
    assert result.grade == 2
    assert any("creatinine_within_uln_baseline_criterion" in w for w in result.warnings)


def test_fibrinogen_with_abnormal_baseline_grades_percent_decrease() -> None:
    result = grade("fibrinogen_decreased", fibrinogen=90, fibrinogen_lln=200, fibrinogen_baseline=150)
    assert result.grade == 2  # 40 % decrease


def test_inr_on_anticoagulation_grades_the_ratio_to_baseline() -> None:
    assert grade("inr_increased", inr=2.8, on_anticoagulation=True, inr_baseline=2.5).grade == 1
    assert grade("inr_increased", inr=2.8, on_anticoagulation=False).grade == 3


def test_inr_bleeding_counts_only_with_an_abnormal_value() -> None:
    assert grade("inr_increased", inr=1.1, on_anticoagulation=False, clinically_significant_bleeding=True).grade == 0
    assert grade("inr_increased", inr=1.3, on_anticoagulation=False, clinically_significant_bleeding=True).grade == 3


def test_anaemia_transfusion_indicated_is_grade_3_at_any_haemoglobin() -> None:
    result = grade("anemia", hemoglobin=8.5, hemoglobin_lln=12, rbc_transfusion_indicated=True)
    assert result.grade == 3


def test_haemoglobin_in_mmol_per_litre_is_compared_in_g_per_dl() -> None:
    # 4.97 mmol/L x 1.611 = 8.007 g/dL: grade 2, although CTCAE prints 4.9 mmol/L
    assert grade("anemia", hemoglobin={"value": 4.97, "unit": "mmol/L"}, hemoglobin_lln=12).grade == 2


def test_triglycerides_in_mmol_per_litre_use_the_interop_factor() -> None:
    assert grade("hypertriglyceridemia", triglycerides_fasting={"value": 3.42, "unit": "mmol/L"}).grade == 2


def test_clinical_terms_need_an_entry_and_say_which() -> None:
    result = grade("hypotension")
    assert (result.status, result.missing) == ("indeterminate", ["ctcae_term_assessments[hypotension]"])


def test_hypotension_grade_4_needs_life_threat_and_urgent_intervention() -> None:
    entry = {"ctcae_term": "hypotension", "life_threatening": True, "intervention_level": "medical_hospitalisation"}
    assert grade("hypotension", ctcae_term_assessments=[entry]).grade == 3
    assert grade("hypotension", ctcae_term_assessments=[entry | {"intervention_level": "urgent"}]).grade == 4


def test_seizure_first_ever_brief_generalised_is_new_onset_grade_3() -> None:
    inputs = {"clinical_seizure": True, "seizure_type": "generalised"}
    assert grade("seizure", **inputs, seizure_history_prior=False).grade == 3
    assert grade("seizure", **inputs, seizure_history_prior=True).grade == 2


def test_unknown_term_entry_is_rejected() -> None:
    from crsguard.model.errors import InputError

    with pytest.raises(InputError, match="ctcae_term"):
        crsguard.grade({"ctcae_term_assessments": [{"ctcae_term": "aphasia"}]}, "ctcae_v5_dysphasia")


# --- unit invariance (property) ---------------------------------------------------------------------------------
#: field, quantity-level unit other than canonical, the CTCAE term it drives, companion inputs in canonical units.
UNIT_CASES = [
    ("bilirubin_total", "umol/L", "blood_bilirubin_increased", {"bilirubin_total_uln": 1.2}, (0.1, 20.0)),
    ("creatinine", "umol/L", "creatinine_increased", {"creatinine_uln": 1.2, "creatinine_baseline": 0.8}, (0.3, 9)),
    ("anc", "/uL", "neutrophil_count_decreased", {"anc_lln": 1.8}, (0.0, 3.0)),
    ("platelets", "/uL", "platelet_count_decreased", {"platelets_lln": 150}, (1.0, 200.0)),
    ("hemoglobin", "g/L", "anemia", {"hemoglobin_lln": 12.0}, (4.0, 15.0)),
    ("fibrinogen", "g/L", "fibrinogen_decreased", {"fibrinogen_lln": 200.0}, (10.0, 400.0)),
    ("alt", "ukat/L", "alanine_aminotransferase_increased", {"alt_uln": 40.0}, (10.0, 1500.0)),
    ("triglycerides_fasting", "mmol/L", "hypertriglyceridemia", {}, (50.0, 1500.0)),
]
QUANTITY = {"triglycerides_fasting": "triglycerides"}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(UNIT_CASES), st.floats(0, 1))
def test_lab_grades_do_not_depend_on_the_unit_the_value_arrived_in(case: tuple[Any, ...], where: float) -> None:
    field, unit, term, companions, (low, high) = case
    canonical = round(low + (high - low) * where, 3)
    other = from_canonical(QUANTITY.get(field, field), canonical, unit)
    a = grade(term, **companions, **{field: canonical})
    b = grade(term, **companions, **{field: {"value": other, "unit": unit}})
    assert (a.grade, a.status) == (b.grade, b.status), (field, canonical, other)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([(500, 0.5), (100, 0.1), (1000, 1.0), (1500, 1.5)]))
def test_count_thresholds_are_exact_after_conversion(pair: tuple[int, float]) -> None:
    per_ul, canonical = pair
    converted = grade("neutrophil_count_decreased", anc={"value": per_ul, "unit": "/uL"}, anc_lln=1.8)
    assert converted.grade == grade("neutrophil_count_decreased", anc=canonical, anc_lln=1.8).grade


@pytest.mark.parametrize(("term", "inputs"), [
    ("blood_bilirubin_increased", {"bilirubin_total": 2.0, "bilirubin_total_uln": 1.2}),
    ("fibrinogen_decreased", {"fibrinogen": 120, "fibrinogen_lln": 200}),
    ("creatinine_increased", {"creatinine": 2.0, "creatinine_uln": 1.2}),
    ("inr_increased", {"inr": 1.9, "on_anticoagulation": True, "clinically_significant_bleeding": False}),
])
def test_missing_baseline_gives_an_exact_grade(term: str, inputs: dict[str, Any]) -> None:
    """A-35: without a baseline the normal / ULN / x LLN / absolute branch decides; nothing is left open."""
    result = grade(term, **inputs)
    assert (result.status, result.lower_bound, result.missing) == ("ok", False, []), result
