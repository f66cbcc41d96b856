"""IEC-HS (other-toxicities.md §4): never declared without the clinician; onset and supporting elements."""

from __future__ import annotations

import crsguard
from tests.grading.vignettes_other import IECHS, V23


def test_criteria_met_without_confirmation_is_grade_0_with_a_warning() -> None:
    result = crsguard.grade(V23 | {"iec_hs_clinician_confirmed": False}, IECHS)
    assert result.grade == 0
    assert any("requires clinical confirmation" in w for w in result.warnings)


def test_every_grade_carries_the_reconstruction_warning() -> None:
    result = crsguard.grade(V23, IECHS)
    assert result.grade == 2
    assert all("requires clinician confirmation" in w for w in result.warnings if "§4" in w)
    assert any("requires clinician confirmation" in w for w in result.warnings)


def test_not_assigned_while_crs_is_active() -> None:
    result = crsguard.grade(V23 | {"crs_status": "active"}, IECHS)
    assert result.grade == 0
    assert any("A-25" in w for w in result.warnings)


def test_ferritin_alone_is_not_enough() -> None:
    alone = {"ferritin": 28000, "ferritin_uln": 300, "crs_status": "resolved", "iec_hs_clinician_confirmed": True,
             "alt": 30, "alt_uln": 40, "fibrinogen": 300, "fibrinogen_lln": 200, "new_or_worsening_cytopenia": False,
             "haemophagocytosis_tissue": "none"}
    assert crsguard.grade(alone, IECHS).grade == 0


def test_hospitalisation_is_grade_3() -> None:
    assert crsguard.grade(V23 | {"iec_hs_hospitalisation": "new_admission"}, IECHS).grade == 3
