"""The worked scenarios of management.md §10, one named test each (expected values from the spec text)."""

from __future__ import annotations

from datetime import date

import pytest

from crsguard.management import Protocol, Recommendation, RecommendationReport, load_protocol, recommend
from crsguard.management.dosing import (
    MethylprednisoloneRegimen,
    dexamethasone_dose,
    levetiracetam_dose,
    methylprednisolone_dose,
    tocilizumab_dose,
)
from crsguard.management.followup import follow_up_dates
from crsguard.management.protocol import SeizureProphylaxisPolicy
from crsguard.management.vocabulary import Jurisdiction
from tests.management.states import at, crs, dose, state


def recs(report: RecommendationReport, drug: str) -> list[Recommendation]:
    return [rec for rec in report.recommendations if rec.drug == drug]


def one(report: RecommendationReport, drug: str) -> Recommendation:
    found = recs(report, drug)
    assert len(found) == 1, [rec.rule_ids for rec in found]
    return found[0]


def by_regimen(report: RecommendationReport, regimen: str) -> Recommendation:
    return next(rec for rec in report.recommendations if rec.regimen == regimen)


def fired(report: RecommendationReport) -> set[str]:
    return {rule_id for rec in report.recommendations for rule_id in rec.rule_ids}


def all_text(report: RecommendationReport) -> str:
    parts = [text for rec in report.recommendations for text in rec.texts + rec.items + rec.notes]
    return "\n".join(parts + [finding.message for finding in report.findings])


def with_settings(**settings: object) -> Protocol:
    protocol = load_protocol("default")
    return protocol.model_copy(update={"settings": protocol.settings.model_copy(update=settings)})


def test_scenario_01_axi_cel_grade1_not_improving_at_24h() -> None:
    report = recommend(
        state(
            weight_kg=82,
            temperature_c=38.6,
            crs=crs(1, onset=at(1, 8), response="not_improving"),
            labs={"anc": 1.2},
        )
    )
    assert report.grades["astct2019"].grade == 1
    assert "CRS-1a" in fired(report) and "CRS-1b" not in fired(report)
    toci = one(report, "tocilizumab")
    assert toci.role.value == "overlay" and toci.rule_ids == ["OV-AXI-G1-TOCI"]
    assert toci.status == "suggested" and toci.dose is not None and toci.dose.dose_mg == 656.0
    assert "100 mL" in toci.dose.administration[1] and "32.8 mL" in toci.dose.administration[1]
    assert toci.requires_clinician_confirmation
    assert "OV-AXI-G1-DEX" not in fired(report)  # t_at_grade_h 26 < 72
    assert "earlier corticosteroid use is recommended" in all_text(report)
    assert "FB-1" in fired(report)
    assert any("every 4 h" in item for rec in report.recommendations for item in rec.monitoring)


@pytest.mark.parametrize(("onset_hours", "overlay"), [(35, True), (80, False), (72, False)])
def test_scenario_02_liso_cel_early_grade1_overlay(onset_hours: int, overlay: bool) -> None:
    onset = at(0, 9 + onset_hours)
    report = recommend(
        state(
            product="lisocabtagene_maraleucel",
            infusion_datetime=at(0, 9),
            evaluated_at=at(0, 9 + onset_hours + 5),
            weight_kg=70,
            weight_time=at(0, 8),
            temperature_c=38.3,
            crs=crs(1, onset=onset),
        )
    )
    assert ("OV-BMS-G1" in fired(report)) is overlay
    if overlay:
        assert one(report, "tocilizumab").dose.dose_mg == 560.0  # type: ignore[union-attr]
        dex = by_regimen(report, "dex_10_q24h")
        assert dex.dose is not None and dex.dose.dose_mg == 10.0 and dex.schedule == "every 24 h"
        assert "Breyanzi" in all_text(report)
        assert dex.requires_clinician_confirmation
    else:
        assert recs(report, "tocilizumab") == []


def test_scenario_03_grade2_120kg_dose_cap() -> None:
    report = recommend(
        state(
            product="tisagenlecleucel",
            evaluated_at=at(3, 10),
            weight_kg=120,
            weight_time=at(3, 8),
            temperature_c=39.0,
            crs=crs(2, onset=at(3, 2), hypotension_present=True),
        )
    )
    toci = one(report, "tocilizumab")
    assert toci.dose is not None and toci.dose.dose_mg == 800.0 and toci.dose.capped
    assert "calculated 960 mg, capped to 800 mg" in toci.dose.formula
    assert "40 mL" in toci.dose.administration[1]
    assert any("Dose cap applied" in finding.message for finding in report.findings)
    assert "OV-TISA" in fired(report)
    assert "telemetry" in all_text(report).lower()
    assert tocilizumab_dose(100.0).dose_mg == 800.0 and not tocilizumab_dose(100.0).capped


def test_scenario_04_repeat_tocilizumab_too_early() -> None:
    report = recommend(
        state(
            weight_kg=75,
            evaluated_at=at(2, 14),
            temperature_c=38.5,
            crs=crs(
                2, onset=at(1, 20), hypotension_present=True, fluid_boluses_for_bp=2, response="not_improving"
            ),
            doses_given=[dose("tocilizumab", 600, 2, 0), dose("tocilizumab", 600, 2, 8, 30)],
        )
    )
    toci = one(report, "tocilizumab")
    assert toci.status == "refused"
    assert any("Minimum interval 8 h: 5.5 h" in reason for reason in toci.refusal_reasons)
    assert toci.next_eligible is not None and toci.next_eligible.isoformat() == at(2, 16, 30)
    projected = " ".join(toci.warnings)
    assert "dose 3 in the rolling 24 h" in projected and "dose 3 of 4 in the course" in projected
    assert "CR" not in report.active_nodes and "CRS-R" not in fired(report)
    dex = by_regimen(report, "dex_10_q6h")
    assert dex.rule_ids == ["CRS-2d"] and dex.dose is not None and dex.dose.dose_mg == 10.0
    assert "CRS-2c" in fired(report)
    assert "C3" not in report.active_nodes  # CRS-2e needs 24 h after the first anti-IL-6 dose


def _scenario_05_state(toci_doses: int, evaluated_at: str) -> dict[str, object]:
    starts = [(3, 0), (3, 8), (3, 16), (4, 0)][:toci_doses]
    return {
        "weight_kg": 68,
        "weight_time": at(3, 0),
        "evaluated_at": evaluated_at,
        "temperature_c": 38.2,
        "crs": crs(3, onset=at(2, 20), hypotension_present=True, response="not_improving"),
        "doses_given": [dose("tocilizumab", 544, day, hour) for day, hour in starts]
        + [dose("dexamethasone", 10, 3, hour) for hour in (8, 14, 20)],
    }


def test_scenario_05_fourth_dose_within_24h() -> None:
    report = recommend(state(**_scenario_05_state(3, at(3, 22))))
    toci = one(report, "tocilizumab")
    assert toci.status == "refused"
    reasons = " ".join(toci.refusal_reasons)
    assert "Minimum interval" in reasons and "3 doses already in the last 24 h" in reasons
    assert toci.next_eligible is not None and toci.next_eligible.isoformat() == at(4, 0)
    projected = " ".join(toci.warnings)
    assert "dose 3 in the rolling 24 h" in projected and "dose 4 of 4" in projected
    assert "C4" not in report.active_nodes and "CR" not in report.active_nodes  # 14 h < 24 h: not refractory
    assert by_regimen(report, "dex_10_q6h").status == "suggested"


def test_scenario_05_refractory_options_once_course_maximum_reached() -> None:
    report = recommend(state(**_scenario_05_state(4, at(4, 2))))
    assert "CR" in report.active_nodes
    siltuximab = one(report, "siltuximab")
    assert siltuximab.dose is not None and siltuximab.dose.dose_mg == 748.0
    anakinra = by_regimen(report, "anakinra_weight_based")
    assert anakinra.dose is not None and anakinra.dose.dose_range_mg == (181.3, 226.7)
    assert by_regimen(report, "anakinra_200_q8h").dose.dose_mg == 200.0  # type: ignore[union-attr]
    assert all("Specialist decision" in rec.texts[0] for rec in (siltuximab, anakinra))


def test_scenario_06_grade4_after_course_maximum() -> None:
    report = recommend(
        state(
            weight_kg=90,
            weight_time=at(3, 0),
            evaluated_at=at(4, 12),
            temperature_c=38.0,
            crs=crs(4, onset=at(1, 20), hypotension_present=True, oxy_tier=3, response="not_improving"),
            doses_given=[dose("tocilizumab", 720, d, h) for d, h in ((2, 0), (2, 8), (2, 16), (3, 0))]
            + [dose("dexamethasone", 10, 3, 6 + 6 * k) for k in range(6)],
        )
    )
    toci = one(report, "tocilizumab")
    assert toci.status == "refused" and "Course maximum (4) reached" in " ".join(toci.refusal_reasons)
    asco = by_regimen(report, "mp_asco_grade4")
    assert asco.dose is not None and asco.dose.dose_mg == 500.0 and asco.steroid is not None
    assert asco.steroid.value == "replace" and "30 minutes" in asco.dose.administration[0]
    pulse = by_regimen(report, "mp_pulse")
    assert (
        pulse.dose is not None
        and pulse.dose.dose_mg == 1000.0
        and pulse.role.value in {"alternative", "overlay"}
    )
    assert "CR" in report.active_nodes
    siltuximab = one(report, "siltuximab")
    assert siltuximab.dose is not None and siltuximab.dose.dose_mg == 990.0
    assert not any("1100" in warning for warning in siltuximab.warnings)
    assert by_regimen(report, "anakinra_weight_based").dose.dose_range_mg == (240.0, 300.0)  # type: ignore[union-attr]
    reminders = [finding.message for finding in report.findings if finding.code == "antifungal_review"]
    assert reminders and "prolonged" in reminders[0]
    assert "CRS-4b" not in fired(report)  # methylprednisolone not yet given


def test_scenario_07_child_tisa_cel_grade2() -> None:
    child = {"age_years": 8, "weight_kg": 22, "product": "tisagenlecleucel", "evaluated_at": at(4, 10)}
    report = recommend(
        state(**child, weight_time=at(4, 8), temperature_c=39.2, crs=crs(2, onset=at(4, 2), oxy_tier=1))
    )
    toci = one(report, "tocilizumab")
    assert toci.dose is not None and toci.dose.dose_mg == 264.0
    assert "50 mL" in toci.dose.administration[1] and "13.2 mL" in toci.dose.administration[1]
    assert not any("labelled age" in warning for warning in toci.warnings)
    dex = dexamethasone_dose(22, 8)
    assert dex.dose_mg == 10.0 and dex.capped and dex.unrounded_mg == 11.0
    pulse = methylprednisolone_dose(22, 8, MethylprednisoloneRegimen.ASCO_GRADE4)
    assert pulse.dose_mg == 660.0 and pulse.regimen == "child pulse 30 mg/kg"
    grade4 = recommend(state(**child, weight_time=at(4, 8), crs=crs(4, onset=at(4, 2), oxy_tier=3)))
    steroids = recs(grade4, "methylprednisolone")
    assert steroids and all(rec.dose is not None and rec.dose.dose_mg == 660.0 for rec in steroids)


def test_scenario_08_weight_at_30kg_boundary() -> None:
    child_a, child_b = tocilizumab_dose(29.9, 9), tocilizumab_dose(30.0, 9)
    assert child_a.dose_mg == 358.8 and child_b.dose_mg == 240.0
    for result in (child_a, child_b):
        assert any(
            "28.0–32.0 kg" in warning and "larger absolute dose" in warning for warning in result.warnings
        )


def test_scenario_09_weight_missing() -> None:
    report = recommend(
        state(
            product="idecabtagene_vicleucel",
            age_years=61,
            weight_kg=None,
            weight_time=None,
            flags={"high_risk": True},
            temperature_c=38.9,
            crs=crs(2, onset=at(1, 20), hypotension_present=True),
        )
    )
    toci = one(report, "tocilizumab")
    assert toci.status == "refused" and toci.dose is None
    reasons = " ".join(toci.refusal_reasons)
    assert "Record a measured weight" in reasons and "enter a weight to calculate" in reasons
    dex = by_regimen(report, "dex_10_q6h")
    assert dex.status == "suggested" and dex.dose is not None and dex.dose.dose_mg == 10.0
    assert "SC-CRS" in {
        rec.texts[0].split()[2] for rec in report.recommendations if rec.kind.value == "bundle"
    }
    assert any(finding.code == "weight_missing" for finding in report.findings)


def test_scenario_10_isolated_icans_grade2_axi_cel() -> None:
    scenario = {
        "weight_kg": 68,
        "evaluated_at": at(6, 10),
        "weight_time": at(6, 8),
        "temperature_c": 36.8,
        "crs": crs(0, status="resolved"),
        "icans": {"grade": 2, "onset": at(6, 6)},
        "doses_given": [dose("tocilizumab", 544, 2, 10)],
    }
    report = recommend(state(**scenario))
    assert recs(report, "tocilizumab") == []
    assert "ICANS-NO-TOCI" in fired(report)
    dex = by_regimen(report, "dex_10_x2")
    assert (
        dex.dose is not None
        and dex.dose.dose_mg == 10.0
        and "2 doses given 6 h apart" in (dex.schedule or "")
    )
    methylprednisolone = by_regimen(report, "mp_1mgkg_q12h")
    assert methylprednisolone.dose is not None and methylprednisolone.dose.dose_mg == 68.0
    assert any(finding.code == "antifungal_review" for finding in report.findings)
    assert "MRI brain" in all_text(report) and "EEG" in all_text(report)
    policy = with_settings(seizure_prophylaxis=SeizureProphylaxisPolicy.HIGH_RISK_PRODUCTS)
    levetiracetam = one(recommend(state(**scenario), policy), "levetiracetam")
    assert levetiracetam.dose is not None and levetiracetam.dose.dose_mg == 500.0


def test_scenario_11_icans3_with_concurrent_grade2_crs() -> None:
    report = recommend(
        state(
            product="ciltacabtagene_autoleucel",
            weight_kg=80,
            weight_time=at(8, 0),
            evaluated_at=at(8, 20),
            temperature_c=38.9,
            crs=crs(2, onset=at(7, 12), oxy_tier=1, response="not_improving"),
            icans={"grade": 3, "onset": at(8, 12), "response": "not_improving"},
            doses_given=[dose("tocilizumab", 640, 8, 10)],
        )
    )
    toci = one(report, "tocilizumab")
    assert toci.status == "suggested" and toci.dose is not None and toci.dose.dose_mg == 640.0
    assert {"CRS-2b", "ICANS-NT"} <= set(toci.rule_ids)
    assert any("Caution repeating tocilizumab with ICANS" in warning for warning in toci.warnings)
    dex = by_regimen(report, "dex_10_q6_12h")
    assert "ICANS-3b" in dex.rule_ids and dex.dose is not None and dex.dose.dose_mg == 10.0
    assert by_regimen(report, "mp_1mgkg_q12h").dose.dose_mg == 80.0  # type: ignore[union-attr]
    assert "ICANS-3b-immediate" in fired(report)
    assert "ICU level of care suggested" in all_text(report)
    assert any(finding.code == "antifungal_review" for finding in report.findings)


def test_scenario_12_icans4_status_epilepticus() -> None:
    report = recommend(
        state(
            weight_kg=75,
            evaluated_at=at(7, 10),
            weight_time=at(7, 8),
            temperature_c=38.1,
            crs=crs(1, onset=at(6, 10)),
            icans={"grade": 4, "onset": at(7, 9), "seizure": True},
        )
    )
    pulse = by_regimen(report, "mp_pulse")
    assert (
        pulse.dose is not None
        and pulse.dose.dose_mg == 1000.0
        and "30 minutes" in pulse.dose.administration[0]
    )
    reminders = [finding.message for finding in report.findings if finding.code == "antifungal_review"]
    assert reminders and "prolonged" in reminders[0]
    toci = one(report, "tocilizumab")
    assert toci.dose is not None and toci.dose.dose_mg == 600.0 and "ICANS-NT" in toci.rule_ids
    assert "corticosteroids are the priority" in toci.texts[0]
    assert "does not compute loading doses" in all_text(report)
    dates = follow_up_dates(date(2025, 3, 1), Jurisdiction.US, neurological_event=True)
    assert dates[0].driving_extended_until_clearance and "clinician clearance" in dates[0].text


def test_scenario_13_levetiracetam_renal_and_child() -> None:
    assert levetiracetam_dose(100, 50, crcl_ml_min=40).dose_mg == 500.0
    assert levetiracetam_dose(100, 50, crcl_ml_min=40, adult_dose_mg=750).dose_mg == 750.0
    at_edge = levetiracetam_dose(100, 50, crcl_ml_min=50, adult_dose_mg=750)
    assert "≥ 30 to ≤ 50" in at_edge.formula and at_edge.dose_mg == 750.0
    lowered = levetiracetam_dose(100, 50, crcl_ml_min=25, adult_dose_mg=750)
    assert lowered.dose_mg == 500.0 and any("lowered to the band maximum 500" in w for w in lowered.warnings)
    assert any("1.73 m²" in warning for warning in lowered.warnings)
    assert levetiracetam_dose(25, 9).dose_mg == 250.0
    policy = with_settings(seizure_prophylaxis=SeizureProphylaxisPolicy.ALL_PRODUCTS)
    child = state(
        product="tisagenlecleucel", age_years=9, weight_kg=25, evaluated_at=at(0, 12), weight_time=at(0, 8)
    )
    report = recommend(child, policy)
    levetiracetam = one(report, "levetiracetam")
    assert levetiracetam.dose is not None and levetiracetam.dose.dose_mg == 250.0
    assert "Galli" in " ".join(levetiracetam.notes) and "day 29" in (levetiracetam.schedule or "")


def _teclistamab(**fields: object) -> dict[str, object]:
    return {
        "product": "teclistamab",
        "infusion_datetime": at(1, 9),
        "bsab_last_dose_time": at(1, 9),
        "step_up_dose_number": 1,
        "weight_kg": 80,
        "weight_time": at(1, 8),
        "evaluated_at": at(2, 16),
        "temperature_c": 38.4,
        "crs": crs(1, onset=at(2, 15)),
        **fields,
    }


def test_scenario_14_teclistamab_step_up_grade1() -> None:
    report = recommend(state(**_teclistamab()), "bispecific")
    acetaminophen = one(report, "acetaminophen")
    assert acetaminophen.dose is not None and acetaminophen.dose.dose_range_mg == (650.0, 1000.0)
    assert "6 h" in (acetaminophen.schedule or "") and "4000 mg" in (acetaminophen.schedule or "")
    text = all_text(report)
    assert "0.3 mg/kg × 80 kg = 24 mg" in text and "1.5 mg/kg × 80 kg = 120 mg" in text
    assert "dexamethasone 16 mg" in text and "48 h" in text and "withheld until CRS resolves" in text
    assert "extrapolated" in text and "FB-1" in fired(report)
    assert "BS-1-DEX" not in fired(report)
    after_paracetamol = _teclistamab(doses_given=[dose("acetaminophen", 1000, 2, 15, 30)])
    variant = recommend(state(**after_paracetamol), "bispecific")
    assert by_regimen(variant, "dex_10_once").rule_ids == ["BS-1-DEX"]
    grade2 = recommend(state(**_teclistamab(crs=crs(2, onset=at(2, 15), oxy_tier=1))), "bispecific")
    assert one(grade2, "tocilizumab").dose.dose_mg == 640.0  # type: ignore[union-attr]


def test_scenario_15_epcoritamab_grade2_after_first_full_dose() -> None:
    report = recommend(
        state(
            product="epcoritamab",
            infusion_datetime=at(1, 10),
            bsab_last_dose_time=at(15, 10),
            step_up_dose_number=3,
            weight_kg=65,
            weight_time=at(15, 8),
            evaluated_at=at(16, 9),
            temperature_c=38.8,
            crs=crs(2, onset=at(16, 8), hypotension_present=True),
        ),
        "bispecific",
    )
    assert one(report, "tocilizumab").dose.dose_mg == 520.0  # type: ignore[union-attr]
    dex = by_regimen(report, "dex_10_once")
    assert dex.dose is not None and dex.dose.dose_mg == 10.0 and "prescriber sets any repeat" in dex.texts[0]
    assert "BS-2" in dex.rule_ids and "withhold" in all_text(report)


def _scenario_16(**iechs: object) -> dict[str, object]:
    return {
        "product": "ciltacabtagene_autoleucel",
        "weight_kg": 72,
        "weight_time": at(13, 8),
        "evaluated_at": at(13, 10),
        "temperature_c": 36.9,
        "crs": crs(0, status="resolved"),
        "iechs": {"screen_positive": True, **iechs},
        "labs": {"fibrinogen": 110, "platelets": 35, "clinically_significant_bleeding": False},
        "doses_given": [dose("tocilizumab", 576, 6, 10), dose("tocilizumab", 576, 7, 10)],
    }


def test_scenario_16_possible_iechs_after_cilta_cel() -> None:
    report = recommend(state(**_scenario_16(clinician_confirmed=False)))
    assert "H1" in report.active_nodes and "H2" not in report.active_nodes
    assert "Possible IEC-HS — clinician assessment required" in all_text(report)
    assert "soluble CD25" in all_text(report)
    assert recs(report, "anakinra") == [] and recs(report, "tocilizumab") == []
    confirmed = recommend(state(**_scenario_16(clinician_confirmed=True)))
    assert by_regimen(confirmed, "anakinra_100_q6h").dose.dose_mg == 100.0  # type: ignore[union-attr]
    assert by_regimen(confirmed, "anakinra_weight_based").dose.dose_range_mg == (192.0, 240.0)  # type: ignore[union-attr]
    assert recs(confirmed, "tocilizumab") == []
    assert "Fibrinogen below" not in all_text(confirmed)  # 110 mg/dL, no bleeding: none suggested
    unknown_bleeding = _scenario_16(clinician_confirmed=True)
    unknown_bleeding["labs"] = {"fibrinogen": 110}
    assert "both fibrinogen targets apply" in all_text(recommend(state(**unknown_bleeding)))


@pytest.mark.parametrize(
    ("variant", "anc", "readings", "pathway"),
    [
        ("base", 0.2, [], True),
        ("a_anc_0_8", 0.8, [], False),
        ("b_run_60_min", 0.2, [(10, 0, 38.1), (11, 0, 38.2)], True),
        ("c_run_45_min", 0.2, [(10, 0, 38.1), (10, 45, 38.2)], False),
    ],
)
def test_scenario_17_neutropenic_fever(
    variant: str, anc: float, readings: list[tuple[int, int, float]], pathway: bool
) -> None:
    temperature = 38.4 if not readings else max(reading[2] for reading in readings)
    report = recommend(
        state(
            weight_kg=78,
            evaluated_at=at(9, 11, 30),
            weight_time=at(9, 8),
            temperature_c=temperature,
            body_temperature=[{"time": at(9, h, m), "temperature_c": c} for h, m, c in readings],
            crs=crs(1, onset=at(9, 6)),
            labs={"anc": anc},
        )
    )
    assert ("FN" in report.active_nodes) is pathway, variant
    assert "FB" in report.active_nodes and "CRS-X2" in fired(report)
    if pathway:
        assert "within 60 minutes" in all_text(report)
    assert recs(report, "tocilizumab") == []  # grade 1 < 72 h and not yet 24 h at grade


def test_scenario_18_grading_after_anticytokine_therapy() -> None:
    report = recommend(
        state(
            weight_kg=85,
            weight_time=at(3, 8),
            evaluated_at=at(4, 10),
            temperature_c=37.2,
            crs=crs(
                3,
                onset=at(2, 20),
                hypotension_present=True,
                oxy_tier=1,
                fever_masked=True,
                response="not_improving",
            ),
            doses_given=[dose("tocilizumab", 680, 3, 10), dose("dexamethasone", 10, 3, 10)],
        )
    )
    toci = one(report, "tocilizumab")
    assert toci.status == "suggested" and toci.dose is not None and toci.dose.dose_mg == 680.0
    assert by_regimen(report, "dex_10_q6h").steroid.value == "replace"  # type: ignore[union-attr]
    assert "FB" in report.active_nodes  # masked fever with haemodynamic deterioration
    assert "ICU level of care suggested" in all_text(report)


def test_scenario_19_proximity_and_driving_by_jurisdiction() -> None:
    infused = date(2025, 9, 1)
    us = follow_up_dates(infused, Jurisdiction.US, neurological_event=True)
    assert [(d.proximity_until, d.no_driving_until) for d in us] == [(date(2025, 9, 15), date(2025, 9, 15))]
    eu = follow_up_dates(infused, Jurisdiction.EU, neurological_event=True)
    assert [(d.proximity_until, d.no_driving_until) for d in eu] == [(date(2025, 9, 29), date(2025, 10, 27))]
    both = follow_up_dates(infused, None, neurological_event=True)
    assert len(both) == 2 and all("depends on jurisdiction" in d.text for d in both)
    assert all("Suggested for the treating team to confirm" in d.text for d in us + eu + both)
    review = state(discharge_review=True, neurological_event_this_course=True, evaluated_at=at(10, 10))
    report = recommend(review, with_settings(jurisdiction=Jurisdiction.US))
    assert "FU" in report.active_nodes
    assert any(f.code == "follow_up_dates" and "2025-03-15" in f.message for f in report.findings)


def test_scenario_20a_weight_change_unit_error() -> None:
    child = {"age_years": 8, "weight_time": at(2, 8), "crs": crs(2, onset=at(1, 20), oxy_tier=1)}
    report = recommend(state(**child, weight_kg=55.0, previous_weight_kg=25.0))
    toci = one(report, "tocilizumab")
    assert toci.status == "awaiting_weight_confirmation" and toci.dose is None
    reasons = " ".join(toci.refusal_reasons)
    assert "12 mg/kg × 25 kg = 300 mg" in reasons and "8 mg/kg × 55 kg = 440 mg" in reasons
    confirmed = recommend(state(**child, weight_kg=25.0, previous_weight_kg=55.0, weight_confirmed=True))
    assert one(confirmed, "tocilizumab").dose.dose_mg == 300.0  # type: ignore[union-attr]
    assert dexamethasone_dose(25.0, 8).dose_mg == 10.0 and dexamethasone_dose(55.0, 8).dose_mg == 10.0


@pytest.mark.parametrize(("days_old", "status", "warned"), [(31, "refused", False), (8, "suggested", True)])
def test_scenario_20b_stale_weight(days_old: int, status: str, warned: bool) -> None:
    report = recommend(
        state(age_years=58, weight_time=at(2 - days_old, 10), crs=crs(2, onset=at(1, 20), oxy_tier=1))
    )
    toci = one(report, "tocilizumab")
    assert toci.status == status
    if status == "refused":
        assert "Record a measured weight" in " ".join(toci.refusal_reasons)
    assert any(finding.code == "weight_old" for finding in report.findings) is warned


def test_scenario_20c_measured_weight_used() -> None:
    report = recommend(state(weight_kg=70.0, weight_time=at(-1, 10), crs=crs(2, onset=at(1, 20), oxy_tier=1)))
    assert one(report, "tocilizumab").dose.dose_mg == 560.0  # type: ignore[union-attr]
    assert not any(finding.code.startswith("weight") for finding in report.findings)
