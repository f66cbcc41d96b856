"""Cut-off boundaries (risk §1.2, §1.5), missing inputs and not-computable cases (risk §1.1 rules 2-3)."""

from __future__ import annotations

import pytest

from crsguard.risk import CONFIRMATION_TEXT, assess, car_hematotox, easix, m_easix

_H2 = {"platelets": 200.0, "anc": 3.0, "hemoglobin": 12.0, "crp": 5.0, "ferritin": 400.0}  # all 0 points


def _ht(convention: str | None = None, **changes: float) -> tuple[int | float | None, dict[str, int] | None]:
    values = {**_H2, **changes}
    result = car_hematotox(boundary_convention=convention, **values)
    return result.value, result.points


# ---------------------------------------------------------------------------------------------- EASIX cut-off
def test_easix_exactly_at_cutoff_is_not_high_risk() -> None:
    """The cut-off is EASIX-pre > 4.67 (strict): 467 × 1.0 / 100 = 4.67 is not high risk."""
    assert easix(ldh=467, creatinine=1.0, platelets=100).category == "not high risk"
    assert easix(ldh=468, creatinine=1.0, platelets=100).category == "high risk"


# -------------------------------------------------------------------------------- CAR-HEMATOTOX boundaries
@pytest.mark.parametrize(
    ("quantity", "value", "expected_points"),
    [
        ("platelets", 175.0, 1),
        ("platelets", 175.1, 0),
        ("platelets", 75.0, 1),
        ("platelets", 74.9, 2),
        ("ferritin", 650.0, 1),
        ("ferritin", 649.9, 0),
        ("ferritin", 2000.0, 1),
        ("ferritin", 2000.1, 2),
        ("anc", 1.2, 1),
        ("anc", 1.21, 0),
        ("hemoglobin", 9.0, 1),
        ("hemoglobin", 9.1, 0),
        ("crp", 30.0, 1),
        ("crp", 29.9, 0),
    ],
)
def test_hematotox_boundary_default_middle_band(quantity: str, value: float, expected_points: int) -> None:
    """Spec default [A]: platelets/ferritin on a cut-off score the middle band; ANC 1.2, Hb 9, CRP 30 → 1."""
    total, points = _ht(**{quantity: value})
    assert points is not None
    assert points[quantity] == expected_points
    assert total == expected_points


@pytest.mark.parametrize(("quantity", "value"), [("anc", 1.2), ("hemoglobin", 9.0)])
def test_hematotox_strict_convention_scores_anc_and_hb_on_cutoff_as_zero(quantity: str, value: float) -> None:
    total, points = _ht("strict_anc_hb", **{quantity: value})
    assert points is not None and points[quantity] == 0
    assert total == 0
    below, _ = _ht("strict_anc_hb", **{quantity: value - 0.01})
    assert below == 1


def test_hematotox_strict_convention_keeps_other_cutoffs() -> None:
    assert _ht("strict_anc_hb", platelets=175.0)[0] == 1
    assert _ht("strict_anc_hb", crp=30.0)[0] == 1


def test_hematotox_value_on_cutoff_is_flagged_for_confirmation() -> None:
    result = car_hematotox(**{**_H2, "anc": 1.2})
    on_cutoff = [w for w in result.warnings if "sits exactly on a cut-off" in w]
    assert len(on_cutoff) == 1 and "anc" in on_cutoff[0] and CONFIRMATION_TEXT in on_cutoff[0]
    assert not [w for w in car_hematotox(**_H2).warnings if "sits exactly on a cut-off" in w]


def test_hematotox_unknown_convention_is_an_error() -> None:
    with pytest.raises(ValueError, match="strict_anc_hb"):
        car_hematotox(boundary_convention="lenient", **_H2)


# ------------------------------------------------------------------------------------------ missing inputs
def test_missing_input_is_named_and_gives_no_value_or_category() -> None:
    result = easix(ldh=450, creatinine=None, platelets=120)
    assert result.inputs_missing == ["creatinine"]
    assert result.value is None and result.log2_value is None and result.category is None
    assert result.inputs_used == {"ldh": 450, "platelets": 120}


def test_null_in_json_counts_as_missing_not_normal() -> None:
    report = assess({"ldh": 450, "creatinine": None, "platelets": 120})
    result = next(s for s in report.scores if s.name == "easix")
    assert result.inputs_missing == ["creatinine"]
    assert result.value is None


def test_empty_input_lists_every_input_as_missing() -> None:
    report = assess({})
    for score in report.scores:
        assert score.value is None
        assert score.inputs_missing, score.name
    names = {s.name: s.inputs_missing for s in report.scores}
    assert names["car_hematotox"] == ["platelets", "anc", "hemoglobin", "crp", "ferritin"]
    assert all(f.status == "unknown" for f in report.checklist.factors)


def test_hematotox_partial_points_reported_as_lower_bound() -> None:
    result = car_hematotox(platelets=60, anc=1.0, hemoglobin=None, crp=None, ferritin=None)
    assert result.value is None and result.category is None
    assert result.inputs_missing == ["hemoglobin", "crp", "ferritin"]
    assert result.points == {"platelets": 2, "anc": 1}
    assert any("at least 3" in w and "whatever the missing values" in w for w in result.warnings)


def test_hematotox_partial_points_below_threshold_say_class_is_open() -> None:
    result = car_hematotox(platelets=200, anc=None, hemoglobin=12, crp=5, ferritin=400)
    assert result.value is None
    assert any("depends on the missing values" in w for w in result.warnings)


# ------------------------------------------------------------------------------- not computable (§1.1 rule 3)
def test_platelets_zero_makes_platelet_scores_not_computable() -> None:
    report = assess({"ldh": 450, "creatinine": 1.1, "platelets": 0, "crp": 35})
    for score in report.scores:
        assert score.value is None
        assert (
            score.not_computable_reason is not None and "platelet count of 0" in score.not_computable_reason
        )


def test_platelets_after_transfusion_make_scores_not_computable() -> None:
    result = easix(ldh=450, creatinine=1.1, platelets=120, platelets_within_24h_of_transfusion=True)
    assert result.value is None and result.category is None
    assert result.not_computable_reason is not None and "transfusion" in result.not_computable_reason
    assert result.inputs_missing == []


def test_transfusion_flag_not_stated_is_a_report_warning() -> None:
    stated = assess({"platelets": 120, "platelets_within_24h_of_transfusion": False})
    unstated = assess({"platelets": 120})
    assert stated.warnings == []
    assert any("platelets_within_24h_of_transfusion not stated" in w for w in unstated.warnings)


# ------------------------------------------------------------------------------------- flag bounds (rule 2)
def test_input_outside_narrower_bounds_is_flagged_not_rejected() -> None:
    """LDH 25 000 U/L is plausible (interop ≤ 50 000) but outside the score's 50-20 000 flag range."""
    result = easix(ldh=25000, creatinine=1.0, platelets=100)
    assert result.value == pytest.approx(250.0)
    assert any("ldh = 25000" in w and "50-20000" in w for w in result.warnings)


def test_zero_crp_gives_zero_m_easix_and_no_log2() -> None:
    result = m_easix(ldh=450, crp=0, platelets=120)
    assert result.value == 0
    assert result.log2_value is None
    assert any("log2 is undefined" in w for w in result.warnings)
