"""Safety findings of management.md §3.3, §4.1.4 and §4.10 beyond the worked scenarios."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crsguard.management import (
    PatientState,
    ProtocolMismatchError,
    RecommendationReport,
    order_check,
    recommend,
)
from crsguard.management.vocabulary import Drug
from tests.management.states import at, crs, dose, state


def codes(report: RecommendationReport) -> set[str]:
    return {finding.code for finding in report.findings}


def toci(report: RecommendationReport):  # type: ignore[no-untyped-def]
    return next(rec for rec in report.recommendations if rec.drug == "tocilizumab")


def _bispecific(evaluated_at: str, onset: str, doses: list[tuple[int, int]]) -> RecommendationReport:
    return recommend(
        state(
            product="epcoritamab",
            infusion_datetime=at(0, 10),
            bsab_last_dose_time=at(0, 10),
            evaluated_at=evaluated_at,
            weight_time=at(0, 8),
            temperature_c=38.6,
            crs=crs(2, onset=onset, oxy_tier=1, response="not_improving", attributed=True),
            doses_given=[dose("tocilizumab", 560, day, hour) for day, hour in doses],
        ),
        "bispecific",
    )


def test_bispecific_counts_per_episode_and_warns_at_third_dose() -> None:
    third = toci(_bispecific(at(2, 10), at(1, 0), [(1, 1), (1, 12)]))
    assert third.status == "suggested"
    assert any("dose 3 in this CRS episode" in warning for warning in third.warnings)
    fifth = toci(_bispecific(at(3, 20), at(1, 0), [(1, 1), (1, 12), (2, 1), (2, 12)]))
    assert fifth.status == "refused" and "Course maximum (4)" in " ".join(fifth.refusal_reasons)


def test_bispecific_new_episode_restarts_the_count_but_not_the_42_day_check() -> None:
    report = _bispecific(at(20, 10), at(20, 0), [(1, 1), (1, 12), (2, 1), (2, 12)])
    new_episode = toci(report)
    assert new_episode.status == "suggested"
    assert any("dose 5 within 42 days" in warning for warning in new_episode.warnings)


def test_out_of_scope_product_gives_generic_information_only() -> None:
    report = recommend(state(product="other", temperature_c=38.5, crs=crs(2, onset=at(1, 20), oxy_tier=1)))
    assert "no_product_rules" in codes(report)
    assert all(rec.role.value == "reminder" for rec in report.recommendations)
    assert not any(rec.drug == "tocilizumab" for rec in report.recommendations)


def test_protocol_mismatch_is_an_error_not_a_silent_fallback() -> None:
    with pytest.raises(ProtocolMismatchError, match="'bispecific'"):
        recommend(state(product="teclistamab"))
    with pytest.raises(ProtocolMismatchError, match="'default'"):
        recommend(state(), "bispecific")


def test_missing_age_uses_child_formula_and_warns() -> None:
    report = recommend(
        state(age_years=None, weight_kg=30, crs=crs(3, onset=at(1, 20), hypotension_present=True))
    )
    assert "age_missing" in codes(report)
    dex = next(rec for rec in report.recommendations if rec.drug == "dexamethasone")
    assert dex.dose is not None and dex.dose.dose_mg == 10.0 and dex.dose.regimen == "child 0.5 mg/kg"


def test_concurrent_and_duplicate_corticosteroids() -> None:
    report = recommend(
        state(
            evaluated_at=at(3, 10),
            crs=crs(3, onset=at(1, 20), hypotension_present=True, response="not_improving"),
            doses_given=[
                dose("dexamethasone", 20, 3, 0),
                dose("dexamethasone", 20, 3, 4),
                dose("dexamethasone", 20, 3, 8),
                dose("methylprednisolone", 125, 3, 9),
            ],
        )
    )
    assert {"concurrent_corticosteroids", "corticosteroid_duplicate", "antifungal_review"} <= codes(report)
    dex = next(rec for rec in report.recommendations if rec.regimen == "dex_10_q6h")
    assert any("per 24 h (> 80 mg)" in warning for warning in dex.warnings)


def test_corticosteroid_without_rule_indication_is_information() -> None:
    report = recommend(state(doses_given=[dose("dexamethasone", 10, 2, 6)]))
    assert "corticosteroid_without_indication" in codes(report)


def test_antifungal_reminder_when_corticosteroid_prolonged() -> None:
    report = recommend(
        state(
            evaluated_at=at(5, 10),
            crs=crs(3, onset=at(1, 20), hypotension_present=True, response="improving"),
            doses_given=[dose("dexamethasone", 10, 1, 22), dose("dexamethasone", 10, 5, 4)],
        )
    )
    reminder = next(finding for finding in report.findings if finding.code == "antifungal_review")
    assert "prolonged" in reminder.message


def test_tocilizumab_clinical_warnings() -> None:
    report = recommend(
        state(
            age_years=1.5,
            weight_kg=10,
            flags={"infection_suspected": True},
            labs={"alt": 300, "alt_uln": 40},
            crs=crs(2, onset=at(1, 20), oxy_tier=1),
        )
    )
    warnings = " ".join(toci(report).warnings)
    assert "Outside labelled age" in warnings and "ALT > 5 × ULN" in warnings and "masks fever" in warnings
    assert "specialist_review" in codes(report)


def test_implausible_weight_is_treated_as_missing() -> None:
    report = recommend(state(weight_kg=420, crs=crs(2, onset=at(1, 20), oxy_tier=1)))
    assert "weight_implausible" in codes(report) and toci(report).status == "refused"


def test_onset_missing_names_the_missing_input() -> None:
    report = recommend(
        state(crs={"grade": 1, "hypotension_present": False, "oxy_tier": 0, "status": "active"})
    )
    assert "crs.onset" in report.missing_inputs
    assert any(item.startswith("rule CRS-1a") for item in report.not_evaluated)


def test_state_is_closed_and_names_allowed_values() -> None:
    with pytest.raises(ValidationError) as caught:
        PatientState.model_validate({**state().model_dump(mode="json"), "weight_lbs": 150})
    assert "weight_lbs" in str(caught.value)
    with pytest.raises(ValidationError, match="tisagenlecleucel"):
        PatientState.model_validate({**state().model_dump(mode="json"), "product": "kymriah"})
    with pytest.raises(ValidationError, match="contradicts product"):
        PatientState.model_validate({**state().model_dump(mode="json"), "therapy_class": "tce"})
    with pytest.raises(ValidationError, match="timezone"):
        PatientState.model_validate(
            {**state().model_dump(mode="json"), "evaluated_at": "2025-03-02T10:00:00"}
        )
    with pytest.raises(ValidationError, match="after evaluated_at"):
        state(doses_given=[dose("tocilizumab", 560, 9, 0)])


def test_outside_the_risk_window_crs_attribution_is_asked() -> None:
    report = recommend(
        state(evaluated_at=at(20, 10), temperature_c=38.5, crs=crs(1, onset=at(20, 8)), weight_time=at(20, 8))
    )
    assert "C0" not in report.active_nodes and "crs.attributed" in report.missing_inputs
    assert "FB" in report.active_nodes  # the fever bundle runs for every fever, in or outside the window


def test_order_check_hard_stop_and_deviation() -> None:
    patient = state(weight_kg=70, crs=crs(2, onset=at(1, 20), oxy_tier=1))
    over_cap = order_check(patient, Drug.TOCILIZUMAB, 900)
    assert any(f.severity.value == "refuse" and "hard stop" in f.message for f in over_cap)
    assert any("differs > 10 %" in f.message for f in order_check(patient, Drug.TOCILIZUMAB, 700))
    assert not any(f.severity.value == "refuse" for f in order_check(patient, Drug.TOCILIZUMAB, 560))
    no_crs = order_check(state(), Drug.TOCILIZUMAB, 560)
    assert any("No active CRS" in f.message for f in no_crs)
    child = state(age_years=8, weight_kg=22, crs=crs(2, onset=at(1, 20), oxy_tier=1))
    assert any("0.5 mg/kg or 10 mg" in f.message for f in order_check(child, Drug.DEXAMETHASONE, 12))
    adult = order_check(patient, Drug.METHYLPREDNISOLONE, 1500)
    assert {"infuse over at least 30 minutes", "> 1000 mg per dose"} <= {
        phrase
        for f in adult
        for phrase in ("infuse over at least 30 minutes", "> 1000 mg per dose")
        if phrase in f.message
    }


def test_incomplete_grade_is_flagged() -> None:
    block = crs(2, onset=at(1, 20), oxy_tier=1, lower_bound=True, missing=["o2_device"])
    report = recommend(state(crs=block))
    finding = next(f for f in report.findings if f.code == "grade_incomplete")
    assert "astct2019 grade 2 is a lower bound (missing: o2_device)" in finding.message
    assert report.grades["astct2019"].lower_bound


def test_de_escalation_suggests_an_editable_taper() -> None:
    report = recommend(
        state(
            evaluated_at=at(4, 10),
            crs=crs(1, onset=at(1, 20), response="improving"),
            doses_given=[dose("tocilizumab", 560, 2, 0), dose("dexamethasone", 10, 4, 4)],
        )
    )
    assert "D1" in report.active_nodes
    texts = " ".join(text for rec in report.recommendations for text in rec.texts)
    assert "No further tocilizumab" in texts and "step to every 12 h, then every 24 h" in texts
    assert not any(rec.drug == "tocilizumab" for rec in report.recommendations)
