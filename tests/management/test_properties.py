"""Property tests (management.md §4, §3.2): no suggested dose exceeds its cap; a higher grade never
suggests less."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crsguard.management import PatientState, RecommendationReport, load_protocol, recommend
from crsguard.management.dosing import (
    AnakinraRegimen,
    MethylprednisoloneRegimen,
    anakinra_dose,
    dexamethasone_dose,
    levetiracetam_dose,
    methylprednisolone_dose,
    tocilizumab_dose,
)
from crsguard.management.engine import dex_equivalent_per_24h
from crsguard.management.protocol import Role
from tests.management.states import at

DEFAULT = load_protocol("default")
CAR_T = [
    "axicabtagene_ciloleucel",
    "brexucabtagene_autoleucel",
    "tisagenlecleucel",
    "lisocabtagene_maraleucel",
    "idecabtagene_vicleucel",
    "ciltacabtagene_autoleucel",
]
weights = st.floats(min_value=0.5, max_value=350, allow_nan=False)
ages = st.none() | st.floats(min_value=0, max_value=100, allow_nan=False)


@given(weight=weights, age=ages)
def test_calculators_never_exceed_their_caps(weight: float, age: float | None) -> None:
    results = [tocilizumab_dose(weight, age), anakinra_dose(weight, age, AnakinraRegimen.CHILD)]
    results += [
        methylprednisolone_dose(weight, age, regimen)
        for regimen in MethylprednisoloneRegimen
        if regimen is not MethylprednisoloneRegimen.HIGH_DOSE_Q12H or (age or 0) >= 18
    ]
    if (age or 0) < 18:
        results += [dexamethasone_dose(weight, age), levetiracetam_dose(weight, age)]
    for result in results:
        assert result.cap_mg is None or (result.dose_mg or 0) <= result.cap_mg, result.formula
    assert (tocilizumab_dose(weight, age).dose_mg or 0) <= 800


doses = st.lists(
    st.tuples(
        st.sampled_from(["tocilizumab", "dexamethasone", "methylprednisolone", "siltuximab"]),
        st.integers(min_value=1, max_value=120),
    ),
    max_size=5,
)


@st.composite
def patient(draw: st.DrawFn) -> dict[str, Any]:
    now_hour = 24 * 6
    onset_hours_ago = draw(st.integers(min_value=1, max_value=120))
    drug_doses = draw(doses)
    unit_dose = {"tocilizumab": 560, "dexamethasone": 10, "methylprednisolone": 500, "siltuximab": 700}
    return {
        "evaluated_at": at(0, now_hour),
        "product": draw(st.sampled_from(CAR_T)),
        "infusion_datetime": at(0, 0),
        "age_years": draw(ages),
        "weight_kg": draw(st.none() | weights),
        "weight_time": at(0, now_hour - 2),
        "temperature_c": draw(st.floats(min_value=36, max_value=41)),
        "flags": {"high_risk": draw(st.booleans()), "toci_unavailable": draw(st.booleans())},
        "crs": {
            "grade": 1,
            "onset": at(0, now_hour - onset_hours_ago),
            "grade_since": at(0, now_hour - draw(st.integers(min_value=0, max_value=onset_hours_ago))),
            "status": "active",
            "hypotension_present": draw(st.booleans()),
            "fluid_boluses_for_bp": draw(st.integers(min_value=0, max_value=3)),
            "oxy_tier": draw(st.integers(min_value=0, max_value=3)),
            "response": draw(st.sampled_from(["improving", "not_improving", "worsening"])),
        },
        "icans": {
            "grade": 0,
            "onset": at(0, now_hour - draw(st.integers(min_value=1, max_value=72))),
            "response": draw(st.sampled_from(["improving", "not_improving", "worsening"])),
        },
        "doses_given": [
            {"drug": drug, "dose_mg": unit_dose[drug], "start": at(0, now_hour - hours_ago)}
            for drug, hours_ago in drug_doses
            if hours_ago < onset_hours_ago
        ],
    }


def with_grades(raw: dict[str, Any], crs_grade: int, icans_grade: int) -> PatientState:
    data = {**raw, "crs": {**raw["crs"], "grade": crs_grade}, "icans": {**raw["icans"], "grade": icans_grade}}
    return PatientState.model_validate(data)


@settings(max_examples=60, deadline=None)
@given(raw=patient(), crs_grade=st.integers(0, 4), icans_grade=st.integers(0, 4))
def test_no_suggested_dose_exceeds_its_cap(raw: dict[str, Any], crs_grade: int, icans_grade: int) -> None:
    report = recommend(with_grades(raw, crs_grade, icans_grade), DEFAULT)
    for rec in report.recommendations:
        if rec.dose is None or rec.dose.dose_mg is None:
            continue
        assert rec.dose.cap_mg is None or rec.dose.dose_mg <= rec.dose.cap_mg
        if rec.drug == "tocilizumab":
            assert rec.dose.dose_mg <= 800
        if rec.drug == "dexamethasone" and (raw["age_years"] is None or raw["age_years"] < 18):
            assert rec.dose.dose_mg <= 10


def intensity(report: RecommendationReport) -> tuple[bool, float, bool, bool]:
    """Baseline pathway intensity: tocilizumab offered, dex-equivalent per 24 h, ICU, refractory options."""
    baseline = [rec for rec in report.recommendations if rec.role is Role.BASELINE]
    toci = any(rec.drug == "tocilizumab" for rec in baseline)
    steroid = max([0.0, *(dex_equivalent_per_24h(rec, DEFAULT) for rec in baseline)])
    icu = any("ICU level of care suggested" in text for rec in baseline for text in rec.texts)
    refractory_options = any(rec.drug in {"siltuximab", "anakinra"} for rec in baseline)
    return toci, steroid, icu, refractory_options


def at_least(higher: tuple[bool, float, bool, bool], lower: tuple[bool, float, bool, bool]) -> bool:
    return all(h >= low for h, low in zip(higher, lower, strict=True))


@settings(max_examples=60, deadline=None)
@given(raw=patient(), grade=st.integers(1, 3))
def test_higher_crs_grade_never_suggests_less(raw: dict[str, Any], grade: int) -> None:
    lower = intensity(recommend(with_grades(raw, grade, 0), DEFAULT))
    higher = intensity(recommend(with_grades(raw, grade + 1, 0), DEFAULT))
    assert at_least(higher, lower), (grade, lower, higher)


@settings(max_examples=60, deadline=None)
@given(raw=patient(), grade=st.integers(1, 3), crs_grade=st.integers(0, 4))
def test_higher_icans_grade_never_suggests_less(raw: dict[str, Any], grade: int, crs_grade: int) -> None:
    lower = intensity(recommend(with_grades(raw, crs_grade, grade), DEFAULT))
    higher = intensity(recommend(with_grades(raw, crs_grade, grade + 1), DEFAULT))
    assert at_least(higher, lower), (grade, lower, higher)
