"""Every worked example of risk-and-epidemiology.md §1.2, §1.3 and §1.5, one named test each.

Expected numbers are copied from the spec tables (rounded as printed), not from the code.
"""

from __future__ import annotations

import pytest

from crsguard.risk import (
    CONFIRMATION_TEXT,
    assess,
    car_hematotox,
    easix,
    m_easix,
    relative_odds,
    s_easix,
    shifted_probability,
)


# --------------------------------------------------------------------------------------------- EASIX (§1.2)
def test_easix_example_e1() -> None:
    result = easix(ldh=450, creatinine=1.1, platelets=120)
    assert result.value == pytest.approx(4.125)
    assert result.log2_value == pytest.approx(2.044, abs=5e-4)
    assert result.category == "not high risk"


def test_easix_example_e1_prime_si_creatinine() -> None:
    """E1′: creatinine 97 µmol/L × 0.01131 = 1.097 mg/dL → EASIX 4.114, log2 2.041."""
    report = assess({"ldh": 450, "creatinine": {"value": 97, "unit": "umol/L"}, "platelets": 120})
    result = next(s for s in report.scores if s.name == "easix")
    assert result.inputs_used["creatinine"] == pytest.approx(1.097, abs=5e-4)
    assert result.value == pytest.approx(4.114, abs=5e-4)
    assert result.log2_value == pytest.approx(2.041, abs=5e-4)
    assert result.category == "not high risk"


def test_easix_example_e2() -> None:
    result = easix(ldh=600, creatinine=1.3, platelets=80)
    assert result.value == pytest.approx(9.75)
    assert result.log2_value == pytest.approx(3.285, abs=5e-4)
    assert result.category == "high risk"


def test_easix_example_relative_odds_e2_vs_e1() -> None:
    """1.72^(3.285 − 2.044) = 1.96 [D]."""
    e1 = easix(ldh=450, creatinine=1.1, platelets=120)
    e2 = easix(ldh=600, creatinine=1.3, platelets=80)
    assert e1.log2_value is not None and e2.log2_value is not None
    assert relative_odds(e1.log2_value, e2.log2_value) == pytest.approx(1.96, abs=5e-3)


def test_easix_example_probability_shift_10_to_17_9_percent() -> None:
    """logit⁻¹(logit(0.10) + ln(1.72) × 1.241) = 17.9% [D]."""
    assert shifted_probability(0.10, 1.241) == pytest.approx(0.179, abs=5e-4)


def test_easix_result_carries_cutoff_population_and_citation() -> None:
    result = easix(ldh=600, creatinine=1.3, platelets=80)
    assert result.cutoff is not None
    assert (result.cutoff.operator, result.cutoff.value) == (">", 4.67)
    assert "CD19" in result.cutoff.applies_to
    assert "ICANS" in result.predicts
    assert "ZUMA-1" in result.validation_population
    assert "Korell" in result.source.citation
    assert result.source.spec_section == "risk §1.2"
    assert not result.requires_clinician_confirmation


# ----------------------------------------------------------------------------------- s-/m-EASIX (§1.3)
def test_m_easix_example_m1() -> None:
    """M1: crp 35 mg/L → 3.5 mg/dL; m-EASIX = 450 × 3.5 / 120 = 13.125, log2 3.714; no category."""
    result = m_easix(ldh=450, crp=35, platelets=120)
    assert result.value == pytest.approx(13.125)
    assert result.log2_value == pytest.approx(3.714, abs=5e-4)
    assert result.category is None
    assert result.cutoff is None
    assert result.no_cutoff_reason


def test_m_easix_example_m1_error_is_not_reproduced() -> None:
    """M1-error: 35 mg/L used without ÷ 10 would give 131.25 (log2 7.036); CRP in mg/dL gives M1's value."""
    as_mg_l = m_easix(ldh=450, crp=35, platelets=120)
    report = assess({"ldh": 450, "crp": {"value": 3.5, "unit": "mg/dL"}, "platelets": 120})
    as_mg_dl = next(s for s in report.scores if s.name == "m_easix")
    assert as_mg_l.value != pytest.approx(131.25)
    assert as_mg_dl.value == pytest.approx(as_mg_l.value)
    assert as_mg_l.log2_value is not None
    assert 7.036 - as_mg_l.log2_value == pytest.approx(3.32, abs=5e-3)  # log2 10


def test_s_easix_example_s1() -> None:
    result = s_easix(ldh=450, platelets=120)
    assert result.value == pytest.approx(3.75)
    assert result.log2_value == pytest.approx(1.907, abs=5e-4)
    assert result.category is None


# -------------------------------------------------------------------------------- CAR-HEMATOTOX (§1.5)
@pytest.mark.parametrize(
    ("case", "platelets", "anc", "hemoglobin", "crp", "ferritin", "points", "total", "category"),
    [
        ("H1", 90, 1.0, 10.2, 45, 1500, (1, 1, 0, 1, 1), 4, "high"),
        ("H2", 200, 3.0, 12.0, 5, 400, (0, 0, 0, 0, 0), 0, "low"),
        ("H3", 180, 2.5, 11.0, 10, 700, (0, 0, 0, 0, 1), 1, "low"),
        ("H4", 60, 2.0, 11.0, 8, 300, (2, 0, 0, 0, 0), 2, "high"),
    ],
)
def test_car_hematotox_examples(
    case: str,
    platelets: float,
    anc: float,
    hemoglobin: float,
    crp: float,
    ferritin: float,
    points: tuple[int, ...],
    total: int,
    category: str,
) -> None:
    result = car_hematotox(platelets=platelets, anc=anc, hemoglobin=hemoglobin, crp=crp, ferritin=ferritin)
    assert result.points == dict(
        zip(("platelets", "anc", "hemoglobin", "crp", "ferritin"), points, strict=True)
    )
    assert result.value == total, case
    assert result.category == category, case
    assert result.requires_clinician_confirmation
    assert any(CONFIRMATION_TEXT in w for w in result.warnings)


def test_car_hematotox_example_h1_with_per_ul_counts_and_mg_dl_crp() -> None:
    """H1 as a US lab reports it: ANC 1000/µL, platelets 90 000/µL, CRP 4.5 mg/dL → still 4, high."""
    report = assess(
        {
            "platelets": {"value": 90000, "unit": "/uL"},
            "anc": {"value": 1000, "unit": "/uL"},
            "hemoglobin": 10.2,
            "crp": {"value": 4.5, "unit": "mg/dL"},
            "ferritin": 1500,
        }
    )
    result = next(s for s in report.scores if s.name == "car_hematotox")
    assert (result.value, result.category) == (4, "high")
