"""ICANS and CRES: the traps public calculators fall into (issue 3), the ICE/CAPD scores and instrument choice."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import crsguard
from crsguard.grading.api import as_snapshot
from crsguard.model.errors import InputError
from tests.grading.vignettes_other import CRES, ICANS, NEURO_BASELINE, capd, ice


def icans(**changes: Any) -> crsguard.GradeResult:
    record = {k: v for k, v in (NEURO_BASELINE | changes).items() if v is not None}
    return crsguard.grade(record, ICANS)


def cres(**changes: Any) -> crsguard.GradeResult:
    record = {k: v for k, v in (NEURO_BASELINE | changes).items() if v is not None}
    return crsguard.grade(record, CRES)


# --- the traps -------------------------------------------------------------------------------------------------
def test_ice_0_in_an_awake_aphasic_patient_is_grade_3_not_4() -> None:
    result = icans(**ice(0, 0, 0, 0, 0), awake_global_aphasia=True, loc="awakens_spontaneously")
    assert (result.grade, result.lower_bound) == (3, False)
    assert "ICE score 0-2 (patient arousable; e.g. ICE 0 with global aphasia)" in result.drivers


def test_an_unarousable_patient_is_grade_4() -> None:
    result = icans(ice_orientation=None, ice_naming=None, ice_commands=None, ice_writing=None, ice_attention=None,
                   ice_status="not_assessable_unarousable", loc="unarousable")
    assert result.grade == 4
    assert any("unarousable" in d for d in result.drivers)


def test_unarousable_from_sedation_is_not_grade_4() -> None:
    result = icans(ice_orientation=None, ice_naming=None, ice_commands=None, ice_writing=None, ice_attention=None,
                   ice_status="not_assessable_sedation", loc="unarousable", loc_other_cause=True)
    assert result.grade == 0
    assert any("limited by sedation" in w for w in result.warnings)


@pytest.mark.parametrize("severity", ["mild", "moderate", "severe"])
def test_tremor_and_myoclonus_do_not_raise_the_grade(severity: str) -> None:
    plain = icans()
    shaking = icans(tremor_severity=severity, myoclonus_severity=severity)
    assert plain.grade == shaking.grade == 0
    assert crsguard.grade({**NEURO_BASELINE, "tremor_severity": severity}, "ctcae_v5_tremor").grade >= 1


def test_focal_oedema_is_grade_3_and_diffuse_oedema_grade_4() -> None:
    assert icans(imaging_oedema="focal").grade == 3
    assert icans(imaging_oedema="diffuse").grade == 4


def test_oedema_of_a_haemorrhage_is_not_icans_unless_the_clinician_overrides() -> None:
    assert icans(imaging_oedema="diffuse", intracranial_haemorrhage=True).grade == 0
    assert icans(imaging_oedema="diffuse", intracranial_haemorrhage=True, imaging_oedema_other_cause=False).grade == 4


def test_cres_grades_any_cerebral_oedema_4_with_the_discordance_recorded() -> None:
    result = cres(imaging_oedema="focal")
    assert result.grade == 4
    assert any("A-13" in w for w in result.warnings)


def test_awakens_spontaneously_alone_is_not_icans() -> None:
    assert icans(loc="awakens_spontaneously").grade == 0


@pytest.mark.parametrize(("duration", "grade"), [(2, 3), (5, 3), (5.5, 4)])
def test_seizure_longer_than_5_minutes_is_grade_4(duration: float, grade: int) -> None:
    result = icans(clinical_seizure=True, clinical_seizure_resolved_rapidly=True, seizure_duration_max_min=duration)
    assert result.grade == grade


def test_seizure_of_unknown_duration_is_a_lower_bound_naming_the_duration() -> None:
    result = icans(clinical_seizure=True)
    assert (result.grade, result.lower_bound) == (3, True)
    assert "seizure_duration_max_min" in result.missing


def test_domain_attributed_to_another_cause_is_excluded() -> None:
    assert icans(deep_focal_motor_weakness="hemiparesis", deep_focal_motor_weakness_other_cause=True).grade == 0
    assert icans(papilloedema=True, papilloedema_other_cause=True).grade == 0


def test_death_due_to_icans_is_grade_5() -> None:
    assert icans(death_due_to_icans=True).grade == 5


# --- scores -----------------------------------------------------------------------------------------------------
def test_ice_total_is_computed_from_its_items() -> None:
    snapshot = as_snapshot({**ice(3, 2, 1, 0, 1), "cartox_orient_head_of_state": 1})
    assert (snapshot.ice_total, snapshot.cartox_total) == (7, 7)


def test_ice_total_without_items_is_accepted() -> None:
    assert icans(**dict.fromkeys(("ice_orientation", "ice_naming", "ice_commands", "ice_writing", "ice_attention")),
                 cartox_orient_head_of_state=None, ice_total=5).grade == 2


def test_items_and_a_disagreeing_total_are_an_error() -> None:
    with pytest.raises(InputError, match="ice_total 9 disagrees with the sum of its items"):
        as_snapshot({**ice(4, 3, 1, 0, 0), "ice_total": 9})


@pytest.mark.parametrize(("field", "value"), [("ice_orientation", 5), ("ice_naming", 4), ("ice_commands", 2),
                                              ("ice_total", 11), ("capd_total", 33)])
def test_items_are_range_checked(field: str, value: int) -> None:
    with pytest.raises(InputError, match=field):
        as_snapshot({field: value})


def test_orientation_questions_must_match_the_orientation_item() -> None:
    with pytest.raises(InputError, match="ice_orientation"):
        as_snapshot({"ice_orientation": 4, "ice_orient_year": 1, "ice_orient_month": 0, "ice_orient_city": 1,
                     "ice_orient_hospital": 1})


def test_capd_items_are_reverse_scored_for_items_1_to_4() -> None:
    worst = as_snapshot(capd("never", "never", "never", "never", "always", "always", "always", "always"))
    best = as_snapshot(capd("always", "always", "always", "always", "never", "never", "never", "never"))
    assert (worst.capd_total, best.capd_total) == (32, 0)


def test_not_assessable_is_never_a_score_of_0() -> None:
    with pytest.raises(InputError, match="never 0"):
        as_snapshot({"ice_status": "not_assessable_sedation", "ice_total": 0})


# --- instrument (A-1) -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("age", "delay", "baseline_ice", "instrument"), [
    (11.9, False, 10, "capd"), (12.0, False, 10, "ice"), (12.0, False, None, "capd"), (17.9, False, None, "capd"),
    (18.0, False, None, "ice"), (40, True, 10, "capd"), (70, False, None, "ice")])
def test_instrument_is_chosen_from_age_baseline_ice_and_developmental_delay(
    age: float, delay: bool, baseline_ice: int | None, instrument: str
) -> None:
    result = icans(age_years=age, baseline_developmental_delay=delay, ice_baseline_total=baseline_ice, capd_total=0)
    assert result.instrument == instrument


def test_a_child_under_12_is_graded_by_capd_not_ice() -> None:
    result = icans(age_years=8, capd_total=12)
    assert (result.grade, result.instrument) == (3, "capd")


def test_frame_totals_match_the_snapshot_path() -> None:
    frame = pl.DataFrame({"age_years": [58.0], **{k: [v] for k, v in ice(4, 1, 1, 0, 1).items()}})
    out = crsguard.grade_frame(frame, [ICANS])
    assert out[f"{ICANS}_grade"].to_list() == [1]
    assert out[f"{ICANS}_instrument"].to_list() == ["ice"]


def test_frame_with_disagreeing_total_is_rejected() -> None:
    frame = pl.DataFrame({**{k: [v] for k, v in ice(4, 1, 1, 0, 1).items()}, "ice_total": [9]})
    with pytest.raises(InputError, match="ice_total"):
        crsguard.grade_frame(frame, [ICANS])


def test_excluded_findings_are_listed() -> None:
    result = icans(cn6_palsy=True, cn6_palsy_other_cause=True)
    assert result.grade == 0
    assert "excluded: other cause: cranial nerve VI palsy (other-toxicities.md §0.4)" in result.warnings


def test_ice_not_assessable_for_language_is_not_a_zero() -> None:
    result = icans(**dict.fromkeys(("ice_orientation", "ice_naming", "ice_commands", "ice_writing", "ice_attention")),
                   ice_status="not_assessable_language")
    assert result.grade == 0
    assert any("not scored as 0" in w for w in result.warnings)


@pytest.mark.parametrize(("scale", "score"), [("rass", -4), ("rass", -5), ("sbs", -2)])
def test_capd_cannot_be_scored_when_deeply_sedated(scale: str, score: int) -> None:
    with pytest.raises(InputError, match="cannot be scored"):
        as_snapshot({"sedation_scale": scale, "sedation_score": score, "capd_total": 4})


def test_age_is_derived_from_date_of_birth_at_the_assessment() -> None:
    record = {"date_of_birth": "2016-03-01", "assessment_datetime": "2026-01-10T10:00:00+00:00", "capd_total": 10,
              "ice_total": 8, "loc": "alert"}
    assert crsguard.grade(record, ICANS).instrument == "capd"  # 9.9 years
    assert crsguard.grade(record | {"date_of_birth": "2010-03-01"}, ICANS).instrument == "capd"  # 15.9, no baseline
    older = record | {"date_of_birth": "2010-03-01", "ice_baseline_total": 10}
    assert crsguard.grade(older, ICANS).instrument == "ice"
