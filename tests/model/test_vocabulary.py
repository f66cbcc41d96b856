"""Tests of the shared vocabulary against interop.md §0.5, §1.1-§1.3, §2.1-§2.4, §8.7."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crsguard.model import vocabulary as v

_COUNTS = ("wbc", "anc", "lymphocytes_abs", "platelets")

# (quantity, value, unit, expected canonical), written from interop.md §1.2 independently of the YAML.
SPEC_1_2_CONVERSIONS = [
    ("body_temperature", 100.4, "[degF]", 38.0),
    ("body_temperature", 311.15, "K", 38.0),
    ("heart_rate", 80, "{beats}/min", 80),
    ("respiratory_rate", 18, "{breaths}/min", 18),
    ("systolic_bp", 12.0, "kPa", 12.0 * 7.50062),
    ("diastolic_bp", 8.0, "kPa", 8.0 * 7.50062),
    ("mean_arterial_pressure", 10.0, "kPa", 75.0062),
    ("spo2", 0.94, "1", 94.0),
    ("fio2", 0.4, "1", 40.0),
    ("oxygen_flow_rate", 500, "mL/min", 0.5),
    ("body_weight", 70000, "g", 70.0),
    ("body_weight", 100, "[lb_av]", 45.359237),
    ("body_weight", 16, "[oz_av]", 0.45359237),
    ("body_height", 1.75, "m", 175.0),
    ("body_height", 1750, "mm", 175.0),
    ("body_height", 10, "[in_i]", 25.4),
    ("body_height", 6, "[ft_i]", 182.88),
    ("crp", 15.2, "mg/dL", 152.0),
    ("crp", 15.2, "ug/mL", 15.2),
    ("ferritin", 800, "ug/L", 800),
    *[(q, 40, "ng/L", 40) for q in ("il6", "mcp1", "ifn_gamma")],
    *[(q, 0.04, "ng/mL", 40) for q in ("il6", "mcp1", "ifn_gamma")],
    *[(q, 250, "[IU]/L", 250) for q in ("ldh", "ast", "alt")],
    *[(q, 5, "ukat/L", 300) for q in ("ldh", "ast", "alt")],
    *[(q, 1000, "nkat/L", 60) for q in ("ldh", "ast", "alt")],
    ("fibrinogen", 1.5, "g/L", 150),
    ("fibrinogen", 1500, "mg/L", 150),
    ("d_dimer_feu", 2.0, "ug/mL{FEU}", 2.0),
    ("d_dimer_feu", 2000, "ng/mL{FEU}", 2.0),
    ("d_dimer_feu", 2000, "ug/L{FEU}", 2.0),
    ("d_dimer_ddu", 300, "ug/L{DDU}", 300),
    ("d_dimer_ddu", 0.3, "ug/mL{DDU}", 300),
    ("d_dimer_ddu", 0.3, "mg/L{DDU}", 300),
    ("triglycerides", 2.0, "mmol/L", 177.14),
    ("bilirubin_total", 17.1, "umol/L", 17.1 * 0.05848),
    ("creatinine", 106, "umol/L", 106 * 0.01131),
    ("creatinine", 0.1, "mmol/L", 1.131),
    *[(q, 4.5, "10*3/uL", 4.5) for q in _COUNTS],
    *[(q, 4.5, "10*3/mm3", 4.5) for q in _COUNTS],
    *[(q, 20, "/nL", 20) for q in _COUNTS],
    *[(q, 500, "/uL", 0.5) for q in _COUNTS],
    *[(q, 100, "/mm3", 0.1) for q in _COUNTS],
    *[(q, 800, "10*6/L", 0.8) for q in _COUNTS],
    ("hemoglobin", 95, "g/L", 9.5),
    ("hemoglobin", 6.0, "mmol/L", 9.666),
    ("pt", 13, "s", 13),
    ("inr", 1.2, "1", 1.2),
    ("inr", 1.2, "{ratio}", 1.2),
    ("sil2r", 1200, "kU/L", 1200),
    ("sil2r", 1200, "[IU]/mL", 1200),
    ("procalcitonin", 0.5, "ug/L", 0.5),
    ("procalcitonin", 500, "pg/mL", 0.5),
    ("lactate", 18.0, "mg/dL", 1.998),
]


@pytest.mark.parametrize(("quantity", "value", "unit", "expected"), SPEC_1_2_CONVERSIONS)
def test_every_section_1_2_conversion_matches_spec_and_round_trips(
    quantity: str, value: float, unit: str, expected: float
) -> None:
    result = v.to_canonical(quantity, value, unit)
    assert result == pytest.approx(expected, rel=1e-9)
    assert v.from_canonical(quantity, result, unit) == pytest.approx(value, rel=1e-9)


def test_every_alternative_unit_in_the_dictionary_is_covered_by_the_spec_table() -> None:
    covered = {(q, u) for q, _, u, _ in SPEC_1_2_CONVERSIONS}
    declared = {(q.name, u) for q in v.QUANTITIES.values() for u in q.alternative_units}
    assert declared - covered == set()


def test_per_microlitre_counts_meet_the_icaht_thresholds_exactly() -> None:
    """interop.md §1.2 notes: 500/µL must become exactly 0.5 × 10⁹/L, 100/µL exactly 0.1."""
    assert v.to_canonical("anc", 500, "cells/uL") == 0.5
    assert v.to_canonical("anc", 100, "/mm3") == 0.1
    assert v.to_canonical("platelets", 20000, "/uL") == 20.0


def test_fahrenheit_threshold_is_exact() -> None:
    """crs-grading.md §2.2: 100.4 °F corresponds exactly to 38.0 °C."""
    assert v.to_canonical("body_temperature", 100.4, "°F") == 38.0


_numeric = [q for q in v.QUANTITIES.values() if not q.is_coded and q.alternative_units]


@given(
    st.sampled_from([(q.name, u) for q in _numeric for u in q.alternative_units]),
    st.floats(min_value=0.0, max_value=1e5, allow_nan=False, allow_infinity=False),
)
def test_alternative_unit_round_trip_preserves_canonical_value(pair: tuple[str, str], canonical: float) -> None:
    quantity, unit = pair
    spec = v.QUANTITIES[quantity]
    if spec.fraction_ambiguous and 0 < canonical <= 1.0:
        canonical += 1.0  # canonical % values this small are rejected as ambiguous, tested separately
    alternative = v.from_canonical(quantity, canonical, unit)
    back = v.to_canonical(quantity, alternative, unit)
    assert math.isclose(back, canonical, rel_tol=1e-12, abs_tol=1e-9)


@pytest.mark.parametrize(
    ("spelling", "ucum"),
    [
        ("°C", "Cel"),
        ("C", "Cel"),
        ("degC", "Cel"),
        ("°F", "[degF]"),
        ("degF", "[degF]"),
        ("mmHg", "mm[Hg]"),
        ("mm Hg", "mm[Hg]"),
        ("bpm", "/min"),
        ("beats/min", "/min"),
        ("breaths/min", "/min"),
        ("sec", "s"),
        ("x10^9/L", "10*9/L"),
        ("G/L", "10*9/L"),
        ("10E9/L", "10*9/L"),
        ("K/uL", "10*3/uL"),
        ("thou/uL", "10*3/uL"),
        ("cells/uL", "/uL"),
        ("/mm3", "/uL"),
        ("units/min", "U/min"),
        ("mcg/kg/min", "ug/kg/min"),
        ("µmol/L", "umol/L"),
        ("μg/mL", "ug/mL"),
        ("  mg/dL ", "mg/dL"),
    ],
)
def test_unit_normalisation_rules_of_section_0_5(spelling: str, ucum: str) -> None:
    assert v.normalize_unit(spelling) == ucum


def test_iu_per_litre_becomes_u_per_litre_for_enzymes_only() -> None:
    assert v.to_canonical("alt", 40, "IU/L") == 40
    with pytest.raises(v.UnitNotAcceptedError):
        v.to_canonical("crp", 40, "IU/L")


def test_units_are_case_sensitive_after_normalisation() -> None:
    with pytest.raises(v.UnitNotAcceptedError, match="'MG/DL'"):
        v.to_canonical("crp", 1.0, "MG/DL")


def test_missing_unit_is_rejected_unless_the_source_declares_a_default() -> None:
    with pytest.raises(v.UnitMissingError, match="body_temperature") as info:
        v.to_canonical("body_temperature", 38.2, None)
    assert info.value.reason is v.QuarantineReason.UNIT_MISSING
    assert v.to_canonical("body_temperature", 38.2, None, default_unit="Cel") == 38.2


def test_unaccepted_unit_names_quantity_unit_and_allowed_units() -> None:
    with pytest.raises(v.UnitNotAcceptedError) as info:
        v.to_canonical("ferritin", 10, "pmol/L")
    message = str(info.value)
    assert "ferritin" in message and "pmol/L" in message and "ng/mL" in message
    assert info.value.reason is v.QuarantineReason.UNIT_NOT_ACCEPTED


def test_d_dimer_without_basis_is_ambiguous_and_never_crosses_feu_ddu() -> None:
    with pytest.raises(v.UnitAmbiguousError):
        v.to_canonical("d_dimer_feu", 1.0, "mg/L")
    with pytest.raises(v.UnitNotAcceptedError):
        v.to_canonical("d_dimer_feu", 1.0, "ug/L{DDU}")


def test_fraction_in_percent_is_ambiguous_unless_source_is_configured() -> None:
    with pytest.raises(v.UnitAmbiguousError) as info:
        v.to_canonical("fio2", 0.5, "%")
    assert info.value.reason is v.QuarantineReason.UNIT_AMBIGUOUS
    assert v.to_canonical("fio2", 0.5, "%", fraction=True) == 50.0
    assert v.to_canonical("fio2", 50, "%") == 50.0


def test_unknown_quantity_lists_allowed_names() -> None:
    with pytest.raises(v.UnknownQuantityError, match=r"temperature_c.*body_temperature") as info:
        v.to_canonical("temperature_c", 38.0, "Cel")
    assert info.value.reason is v.QuarantineReason.ENUM_INVALID


@pytest.mark.parametrize(
    ("quantity", "value", "unit"),
    [("body_temperature", 24.9, "Cel"), ("body_temperature", 45.1, "Cel"), ("heart_rate", 301, "/min")],
)
def test_implausible_values_are_rejected_with_range(quantity: str, value: float, unit: str) -> None:
    with pytest.raises(v.ImplausibleValueError, match=r"plausible range") as info:
        v.canonical(quantity, value, unit)
    assert info.value.reason is v.QuarantineReason.OUT_OF_RANGE


def test_fahrenheit_charted_as_celsius_is_implausible() -> None:
    """The charting error the simulator injects (°F value with unit Cel) must be caught here."""
    with pytest.raises(v.ImplausibleValueError):
        v.canonical("body_temperature", 101.3, "Cel")


def test_plausible_bounds_are_inclusive_and_scores_must_be_whole() -> None:
    v.check_plausible("body_temperature", 25.0)
    v.check_plausible("body_temperature", 45.0)
    v.check_plausible("ice_total", 10)
    with pytest.raises(v.ImplausibleValueError, match="whole number"):
        v.check_plausible("ice_total", 7.5)


def test_coded_quantities_use_value_sets() -> None:
    v.check_code("level_of_consciousness", "V")
    v.check_code("oxygen_delivery_device", "high_flow_nasal_cannula")
    with pytest.raises(v.CodeNotInValueSetError, match="nasal_prongs"):
        v.check_code("oxygen_delivery_device", "nasal_prongs")
    with pytest.raises(v.CodeNotInValueSetError):
        v.to_canonical("level_of_consciousness", 1.0, "1")


def test_every_quantity_cites_the_spec_and_has_a_coherent_range() -> None:
    for quantity in v.QUANTITIES.values():
        assert quantity.source.startswith("interop.md §1")
        if quantity.is_coded:
            assert quantity.plausible_min is None and quantity.plausible_max is None
        else:
            assert quantity.plausible_min is not None and quantity.plausible_max is not None
            assert quantity.plausible_min < quantity.plausible_max


@pytest.mark.parametrize(
    ("alias", "canonical_name", "product_class"),
    [
        ("axi-cel", "axicabtagene_ciloleucel", "car_t"),
        ("tisa-cel", "tisagenlecleucel", "car_t"),
        ("liso-cel", "lisocabtagene_maraleucel", "car_t"),
        ("ide-cel", "idecabtagene_vicleucel", "car_t"),
        ("cilta-cel", "ciltacabtagene_autoleucel", "car_t"),
        ("brexu-cel", "brexucabtagene_autoleucel", "car_t"),
        ("Yescarta", "axicabtagene_ciloleucel", "car_t"),
        ("teclistamab", "teclistamab", "tce"),
        ("epcoritamab", "epcoritamab", "tce"),
        ("glofitamab", "glofitamab", "tce"),
        ("Axicabtagene Ciloleucel", "axicabtagene_ciloleucel", "car_t"),
    ],
)
def test_resolve_product_accepts_canonical_names_and_aliases(
    alias: str, canonical_name: str, product_class: str
) -> None:
    product = v.resolve_product(alias)
    assert product.name == canonical_name
    assert product.product_class == product_class


def test_unknown_product_lists_accepted_names() -> None:
    with pytest.raises(v.UnknownProductError, match="axi-cel"):
        v.resolve_product("zuma-cel")


def test_drugs_and_vasopressor_rates() -> None:
    assert v.resolve_drug("paracetamol").name == "acetaminophen"
    assert not v.DRUGS["dobutamine"].counts_as_vasopressor
    assert v.DRUGS["vasopressin"].canonical_rate_unit == "U/min"
    assert v.rate_to_canonical("norepinephrine", 7.0, "mcg/min", dosing_weight_kg=70) == pytest.approx(0.1)
    assert v.rate_to_canonical("norepinephrine", 0.42, "mg/h", dosing_weight_kg=70) == pytest.approx(0.1)
    assert v.rate_to_canonical("vasopressin", 2.4, "units/h") == pytest.approx(0.04)
    assert v.rate_to_canonical("vasopressin", 40, "mU/min") == pytest.approx(0.04)
    with pytest.raises(v.UnitMissingError, match="dosing_weight_kg"):
        v.rate_to_canonical("norepinephrine", 7.0, "ug/min")
    with pytest.raises(v.UnitNotAcceptedError):
        v.rate_to_canonical("vasopressin", 0.04, "ug/kg/min")


@pytest.mark.parametrize(
    ("device", "flow", "tier"),
    [
        ("nasal_cannula", 6.0, "low_flow"),
        ("nasal_cannula", 6.5, "high_flow"),
        ("nasal_cannula", None, "low_flow"),
        ("high_flow_nasal_cannula", 40.0, "high_flow"),
        ("high_flow_nasal_cannula", 5.0, "low_flow"),
        ("non_rebreather_mask", 15.0, "high_flow"),
        ("bipap_niv", None, "positive_pressure"),
        ("room_air", None, "none"),
    ],
)
def test_o2_support_tier_follows_d6(device: str, flow: float | None, tier: str) -> None:
    assert v.o2_support_tier(device, flow) == tier


def test_quarantine_reasons_are_those_of_section_8_7() -> None:
    assert {r.value for r in v.QuarantineReason} == {
        "OUT_OF_RANGE",
        "UNIT_MISSING",
        "UNIT_NOT_ACCEPTED",
        "UNIT_AMBIGUOUS",
        "TIME_MISSING",
        "TIME_UNPARSEABLE",
        "CODE_UNMAPPED",
        "ENUM_INVALID",
        "INTERVAL_INVALID",
        "PATIENT_UNKNOWN",
        "DUPLICATE",
    }
