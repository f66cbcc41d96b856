"""Dose calculators of management.md §4 (values computed by hand from the spec's formulas)."""

from __future__ import annotations

import pytest

from crsguard.management.dosing import (
    AnakinraRegimen,
    DoseInputError,
    MethylprednisoloneRegimen,
    acetaminophen_dose,
    anakinra_dose,
    dexamethasone_dose,
    levetiracetam_dose,
    levetiracetam_renal_band,
    methylprednisolone_dose,
    round_half_up,
    siltuximab_dose,
    tocilizumab_dose,
)


@pytest.mark.parametrize(
    ("value", "expected"), [(358.75, 358.8), (358.85, 358.9), (12.05, 12.1), (0.04, 0.0)]
)
def test_round_half_up_to_0_1_mg(value: float, expected: float) -> None:
    assert round_half_up(value) == expected


@pytest.mark.parametrize(
    ("weight_kg", "dose_mg", "capped"),
    [
        (10, 120.0, False),
        (29.9, 358.8, False),
        (30.0, 240.0, False),
        (82, 656.0, False),
        (100.0, 800.0, False),
        (100.1, 800.0, True),
        (350, 800.0, True),
        (0.5, 6.0, False),
    ],
)
def test_tocilizumab_bands_and_cap(weight_kg: float, dose_mg: float, capped: bool) -> None:
    result = tocilizumab_dose(weight_kg, 40)
    assert result.dose_mg == dose_mg and result.capped is capped and result.cap_mg == 800.0


def test_tocilizumab_warnings() -> None:
    assert any("Outside labelled age" in w for w in tocilizumab_dose(10, 1.5).warnings)
    adult_light = tocilizumab_dose(28, 40).warnings
    assert any("Adult weighing < 30 kg" in w for w in adult_light)


@pytest.mark.parametrize("weight", [None, 0.4, 351.0, -3.0])
def test_weight_based_doses_refuse_missing_or_implausible_weight(weight: float | None) -> None:
    for calculate in (tocilizumab_dose, siltuximab_dose):
        with pytest.raises(DoseInputError) as caught:
            calculate(weight)
        assert caught.value.field == "weight_kg"


def test_dexamethasone_adult_child_and_missing_age() -> None:
    assert dexamethasone_dose(None, 50).dose_mg == 10.0  # fixed adult dose needs no weight
    assert dexamethasone_dose(None, 50, adult_dose_mg=20).dose_mg == 20.0
    child = dexamethasone_dose(14, 5)
    assert child.dose_mg == 7.0 and not child.capped and child.requires_clinician_confirmation
    unknown_age = dexamethasone_dose(30, None)
    assert unknown_age.dose_mg == 10.0 and any("Age missing" in w for w in unknown_age.warnings)
    with pytest.raises(DoseInputError, match="no child dose"):
        dexamethasone_dose(30, 10, adult_dose_mg=20)
    with pytest.raises(DoseInputError):
        dexamethasone_dose(None, None)


def test_methylprednisolone_regimens() -> None:
    assert methylprednisolone_dose(80, 50).dose_mg == 80.0
    assert methylprednisolone_dose(None, 50, MethylprednisoloneRegimen.PULSE).dose_mg == 1000.0
    asco = methylprednisolone_dose(None, 50, MethylprednisoloneRegimen.ASCO_GRADE4)
    assert asco.dose_mg == 500.0 and "250 mg every 12 h" in asco.interval and asco.administration
    escalation = methylprednisolone_dose(70, 50, MethylprednisoloneRegimen.LABEL_ESCALATION)
    assert escalation.dose_mg == 140.0 and "35 mg every 6 h" in escalation.formula
    heavy_child = methylprednisolone_dose(40, 15, MethylprednisoloneRegimen.PULSE)
    assert heavy_child.dose_mg == 1000.0 and heavy_child.capped
    with pytest.raises(DoseInputError, match="specialist"):
        methylprednisolone_dose(40, 15, MethylprednisoloneRegimen.HIGH_DOSE_Q12H)


def test_anakinra_regimens() -> None:
    adult = anakinra_dose(90, 50)
    assert adult.dose_mg is None and adult.dose_range_mg == (240.0, 300.0)
    light_adult = anakinra_dose(55, 50, AnakinraRegimen.FIXED_200_Q8H)
    assert light_adult.dose_mg == 200.0 and any("exceeds 10 mg/kg/day" in w for w in light_adult.warnings)
    assert anakinra_dose(20, 6).dose_mg == 40.0
    capped = anakinra_dose(60, 16)
    assert capped.dose_mg == 100.0 and capped.capped


def test_siltuximab_confirmation_above_1100_mg() -> None:
    assert siltuximab_dose(100).dose_mg == 1100.0 and not any(
        "1100" in w for w in siltuximab_dose(100).warnings
    )
    heavy = siltuximab_dose(101)
    assert heavy.dose_mg == 1111.0 and any("> 1100 mg" in w for w in heavy.warnings)


@pytest.mark.parametrize(
    ("crcl", "band"),
    [
        (81, (500, 1500)),
        (80, (500, 1000)),
        (50.1, (500, 1000)),
        (50, (250, 750)),
        (30, (250, 750)),
        (29.9, (250, 500)),
    ],
)
def test_levetiracetam_renal_band_edges(crcl: float, band: tuple[int, int]) -> None:
    low, high, _ = levetiracetam_renal_band(crcl)
    assert (low, high) == band


def test_levetiracetam_special_cases() -> None:
    dialysis = levetiracetam_dose(70, 50, on_haemodialysis=True)
    assert dialysis.dose_mg == 500.0 and dialysis.interval_h == 24.0
    assert levetiracetam_dose(60, 10).dose_mg == 500.0  # 600 mg capped to 500 mg
    child_renal = levetiracetam_dose(20, 10, crcl_ml_min=20)
    assert any("refer to the pharmacist" in w for w in child_renal.warnings)
    with pytest.raises(DoseInputError, match="500–750"):
        levetiracetam_dose(70, 50, adult_dose_mg=1000)


def test_acetaminophen() -> None:
    assert acetaminophen_dose(70, 50).dose_range_mg == (650.0, 1000.0)
    light_adult = acetaminophen_dose(40, 50)
    assert light_adult.dose_mg == 600.0 and "3000 mg per 24 h" in light_adult.formula
    assert acetaminophen_dose(80, 15).dose_mg == 1000.0
