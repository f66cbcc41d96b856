"""Named regression tests for the classic errors of public CRS calculators (issue 2 *Why*), and the spec's
alternative readings (the † cells of crs-grading.md §4) under their options."""

from __future__ import annotations

from typing import Any

import pytest

import crsguard
from tests.grading.vignettes import record, vaso


def grade(number: int, system: str, changes: dict[str, Any] | None = None, **options: Any) -> int:
    return crsguard.grade(record(number) | (changes or {}), system, options or None).grade


def test_vasopressin_is_not_a_second_pressor_under_astct() -> None:
    assert grade(10, "astct2019") == 3
    assert grade(12, "astct2019") == 4  # two non-vasopressin agents are "multiple"


def test_fever_masked_by_tocilizumab_no_longer_drives_the_astct_grade() -> None:
    assert grade(22, "astct2019") == 3
    assert grade(23, "astct2019") == 0  # afebrile and unmasked: ASTCT criteria not met


def test_six_litres_per_minute_is_low_flow_and_above_six_is_high_flow() -> None:
    assert grade(15, "astct2019") == 2
    assert grade(15, "astct2019", {"o2_flow_l_min": 6.5}) == 3


def test_organ_toxicity_does_not_enter_astct() -> None:
    assert grade(25, "astct2019") == 1
    assert grade(26, "astct2019") == 1


def test_high_rate_for_under_three_hours_is_not_high_dose() -> None:
    assert grade(9, "lee2014") == 2
    assert grade(8, "lee2014") == 3


def test_premedication_given_before_onset_is_entered_as_not_masked() -> None:
    """A2: masking is an input the caller sets only for therapy after CRS onset; without it ASTCT needs fever."""
    afebrile_on_pressor = record(22) | {"fever_masked": False}
    result = crsguard.grade(afebrile_on_pressor, "astct2019")
    assert result.grade == 0
    assert any("no fever and no masking therapy" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("number", "system", "option", "value", "alternative"),
    [
        (10, "lee2014", "vasopressin_counts_as_multiple", "false", 2),
        (10, "cartox", "vasopressin_counts_as_multiple", "false", 2),
        (10, "cartox_peds", "vasopressin_counts_as_multiple", "false", 2),
        (10, "ctcae_v5", "vasopressin_counts_as_multiple", "false", 3),
        (24, "astct2019", "masked_fever_without_findings", "grade_0", 0),
        (15, "lee2014", "nasal_cannula_fio2", "below_40", 2),
        (15, "mskcc", "nasal_cannula_fio2", "below_40", 2),
        (33, "lee2014", "paediatric_vasopressor_scaling", "false", 2),
        (33, "penn", "paediatric_vasopressor_scaling", "false", 3),
        (33, "cartox_peds", "paediatric_vasopressor_scaling", "false", 2),
        (19, "lee2014", "cpap_bipap_as_ventilation", "true", 4),
        (19, "cartox", "cpap_bipap_as_ventilation", "true", 4),
        (19, "ctcae_v5", "cpap_bipap_as_ventilation", "false", 3),
        (20, "ctcae_v6", "cpap_bipap_as_ventilation", "false", 3),
        (27, "lee2014", "transaminitis_reading", "shift", 2),
        (27, "cartox", "transaminitis_reading", "shift", 2),
        (4, "mskcc", "mskcc_fluid_responsive_hypotension_grade", "2", 2),
        (13, "cartox", "cartox_persistent_hypotension_limb", "false", 3),
    ],
)
def test_documented_alternative_under_its_option(
    number: int, system: str, option: str, value: str, alternative: int
) -> None:
    assert grade(number, system, **{option: value}) == alternative


def test_system_scoped_option_leaves_other_systems_alone() -> None:
    options = {"lee2014.cpap_bipap_as_ventilation": "true"}
    results = {r.system: r.grade for r in crsguard.grade_many([record(19)], ["lee2014", "cartox"], options)[0]}
    assert results == {"lee2014": 4, "cartox": 3}


def test_unverified_rules_say_they_require_clinician_confirmation() -> None:
    high_dose = crsguard.grade(record(8), "lee2014")
    assert any(w.startswith("requires clinician confirmation: high-dose vasopressor table") for w in high_dose.warnings)
    fio2 = crsguard.grade(record(15), "lee2014")
    assert any("FiO2 estimated from device" in w for w in fio2.warnings)


def test_paediatric_weight_scaling_needs_no_weight_for_per_kg_doses_in_adults_only() -> None:
    child_without_weight = record(33) | {"weight_kg": None}
    result = crsguard.grade(child_without_weight, "lee2014")
    assert result.status == "indeterminate" and "weight_kg" in result.missing
    adult = record(6) | {"vasopressors": [vaso("norepinephrine", 25, "mcg_per_min", 4)], "weight_kg": None}
    assert crsguard.grade(adult, "lee2014").status == "ok"
