"""Shared derived quantities of crs-grading.md §3.0 (D1–D7), written once as Polars expressions.

Every function takes the rule's column accessor `x` (three-valued: an absent input is null) and the options resolved
for the system, and returns a Boolean or numeric expression. Null means "cannot be decided from what was given".
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce
from typing import Any

import polars as pl

from crsguard.grading.inputs import (
    HIGH_DOSE_MIN_HOURS,
    NE_EQ_DERIVED,
    Inputs,
    hours_column,
    staged,
    sustained_column,
)
from crsguard.model.snapshot import O2Device
from crsguard.model.snapshot import VasopressorDrug as Drug

Options = Mapping[str, Any]

#: D1: fever threshold, inclusive, in °C (crs-grading.md §3.0 D1) [S].
FEVER_C = 38.0

#: D2: adult hypotension threshold and the paediatric formula 70 + 2 x completed years for ages 1-10 (Mahadeo
#: 2019, paediatric CARTOX) [P]; 70 mmHg under 1 year [L].
ADULT_SBP_MMHG = 90.0
INFANT_SBP_MMHG = 70.0
PAEDIATRIC_SBP_PER_YEAR = 2.0
PAEDIATRIC_FORMULA_MAX_YEARS = 10

#: D5: monotherapy high-dose thresholds (norepinephrine, phenylephrine, epinephrine in mcg/min; dopamine in
#: mcg/kg/min) and the combination thresholds in norepinephrine-equivalent mcg/min [R, A13].
HIGH_DOSE_MCG_MIN = {Drug.norepinephrine: 20.0, Drug.phenylephrine: 200.0, Drug.epinephrine: 10.0}
HIGH_DOSE_DOPAMINE_MCG_KG_MIN = 10.0
NE_EQ_WITH_VASOPRESSIN_MCG_MIN = 10.0
NE_EQ_COMBINATION_MCG_MIN = 20.0
#: VASST norepinephrine-equivalent divisors: NE + dopamine/2 + epinephrine + phenylephrine/10 (D5).
NE_EQ_DIVISOR = {Drug.norepinephrine: 1.0, Drug.dopamine: 2.0, Drug.epinephrine: 1.0, Drug.phenylephrine: 10.0}
#: D5 rule 4 [L, A6]: thresholds in mcg/min scale by weight / 70 kg under this age.
PAEDIATRIC_AGE_YEARS = 18.0
REFERENCE_WEIGHT_KG = 70.0

#: D6: ASTCT oxygen categories, ordered.
O2_NONE, O2_LOW_FLOW, O2_HIGH_FLOW, O2_POSITIVE_PRESSURE = 0, 1, 2, 3
#: D6: the ASTCT low-/high-flow boundary, L/min (≤ 6 is low flow) [S].
LOW_FLOW_MAX_L_MIN = 6.0
MASKS = (O2Device.simple_face_mask, O2Device.venturi_mask, O2Device.non_rebreather_mask)
POSITIVE_PRESSURE = (O2Device.cpap, O2Device.bipap, O2Device.mechanical_ventilation)

#: D7 / A4: FiO2 threshold of the FiO2-based systems, percent.
FIO2_THRESHOLD_PCT = 40.0
NASAL_CANNULA_BELOW_40_PCT = 39.0

_DIGITS = 6  # converted doses are compared after rounding, so unit choice never flips a boundary


def _v(device: O2Device) -> str:
    return device.value


# D1 -------------------------------------------------------------------------------------------------------------
@staged
def fever(x: Inputs) -> pl.Expr:
    """Temperature ≥ 38.0 °C not attributed to another cause (D1, §2.2)."""
    return (x("temperature_c") >= FEVER_C) & x("fever_attributable_other_cause").not_()


@staged
def astct_entry(x: Inputs) -> pl.Expr:
    """ASTCT needs a fever, or a fever masked by therapy given after CRS onset (§3.1 rules 1, 3)."""
    return fever(x) | x("fever_masked")


# D2–D4 ----------------------------------------------------------------------------------------------------------
@staged
def sbp_below_age_threshold(x: Inputs) -> pl.Expr:
    """SBP below the age norm (D2). With age unknown, decided only where every age gives the same answer."""
    age, sbp = x("age_years"), x("sbp_mmhg")
    completed = age.floor().clip(upper_bound=PAEDIATRIC_FORMULA_MAX_YEARS)
    threshold = pl.when(age < 1).then(INFANT_SBP_MMHG).otherwise(INFANT_SBP_MMHG + PAEDIATRIC_SBP_PER_YEAR * completed)
    unknown_age = pl.when(sbp < INFANT_SBP_MMHG).then(True).when(sbp >= ADULT_SBP_MMHG).then(False)
    return pl.when(age.is_null()).then(unknown_age).otherwise(sbp < threshold)


@staged
def drug_running(x: Inputs, drug: Drug) -> pl.Expr:
    """The drug ran in the window for CRS-related hypotension (D3: other-cause pressors are discarded)."""
    return (x(hours_column(drug)) > 0) & x("hypotension_attributable_other_cause").not_()


def _count(x: Inputs, drugs: tuple[Drug, ...]) -> pl.Expr:
    return reduce(lambda a, b: a + b, (drug_running(x, d).cast(pl.Int32) for d in drugs))


@staged
def n_pressors_all(x: Inputs) -> pl.Expr:
    """Distinct vasopressors, vasopressin included (D4)."""
    return _count(x, tuple(Drug))


@staged
def n_pressors_non_vasopressin(x: Inputs) -> pl.Expr:
    """Distinct vasopressors other than vasopressin (D4)."""
    return _count(x, tuple(d for d in Drug if d is not Drug.vasopressin))


def n_pressors_counted(x: Inputs, options: Options) -> pl.Expr:
    """The count toward 'multiple vasopressors' under option A1."""
    return n_pressors_all(x) if options["vasopressin_counts_as_multiple"] else n_pressors_non_vasopressin(x)


def any_vasopressor(x: Inputs) -> pl.Expr:
    return n_pressors_all(x) >= 1


@staged
def hypotension_present(x: Inputs) -> pl.Expr:
    """D2: clinician flag, else SBP below the age norm; any CRS vasopressor implies it; other causes excluded."""
    flagged = pl.coalesce(x("hypotension"), sbp_below_age_threshold(x))
    return (flagged | any_vasopressor(x)) & x("hypotension_attributable_other_cause").not_()


@staged
def vasopressor_hours(x: Inputs) -> pl.Expr:
    """MSKCC duration: `vasopressor_total_hours`, else the longest single-drug run (§2.3) [L]."""
    longest = pl.max_horizontal(*(x(hours_column(d)) for d in Drug))
    return pl.coalesce(x("vasopressor_total_hours"), longest)


# D5 -------------------------------------------------------------------------------------------------------------
def _in_mcg_min(x: Inputs, name: str) -> tuple[pl.Expr, pl.Expr]:
    """(known sustained rate in mcg/min, whether a per-kg rate could not be converted for lack of weight) (D3)."""
    per_min, per_kg, weight = (
        x(sustained_column(name, "mcg_min")),
        x(sustained_column(name, "mcg_kg_min")),
        x("weight_kg"),
    )
    known = pl.max_horizontal(per_min, (per_kg * weight).round(_DIGITS))
    return known, (per_kg > 0) & weight.is_null()


def _dopamine_mcg_kg_min(x: Inputs) -> tuple[pl.Expr, pl.Expr]:
    """Dopamine stays per kg (D3): mcg/min ÷ weight."""
    name = Drug.dopamine.value
    per_min, per_kg, weight = (
        x(sustained_column(name, "mcg_min")),
        x(sustained_column(name, "mcg_kg_min")),
        x("weight_kg"),
    )
    known = pl.max_horizontal(per_kg, (per_min / weight).round(_DIGITS))
    return known, (per_min > 0) & weight.is_null()


def _at_least(x: Inputs, known: pl.Expr, unconvertible: pl.Expr, threshold: float, scaled: bool) -> pl.Expr:
    """known ≥ threshold, with D5 rule 4 paediatric scaling; null where weight or age leave it undecided."""
    adult = known.round(_DIGITS) >= threshold
    if scaled:
        age = x("age_years")
        child = known.round(_DIGITS) >= (threshold * x("weight_kg") / REFERENCE_WEIGHT_KG).round(_DIGITS)
        meets: pl.Expr = (
            pl.when(age >= PAEDIATRIC_AGE_YEARS)
            .then(adult)
            .when(age < PAEDIATRIC_AGE_YEARS)
            .then(child)
            .otherwise(adult & child)
        )
    else:
        meets = adult
    return pl.when(meets.fill_null(False)).then(True).when(meets.is_null() | unconvertible).then(None).otherwise(False)


def _ne_equivalent(x: Inputs) -> tuple[pl.Expr, pl.Expr]:
    """VASST norepinephrine-equivalent of the sustained rates, assuming overlap (D5 rule 1), or the A14 item."""
    parts = []
    unknowns = []
    for drug in NE_EQ_DIVISOR:
        known, unknown = _dopamine_mcg_kg_min(x) if drug is Drug.dopamine else _in_mcg_min(x, drug.value)
        parts.append(known / NE_EQ_DIVISOR[drug])
        unknowns.append(unknown)
    derived, derived_unknown = _in_mcg_min(x, NE_EQ_DERIVED)
    total = pl.max_horizontal(reduce(lambda a, b: a + b, parts), derived)
    return total, pl.any_horizontal(*unknowns, derived_unknown)


def high_dose(x: Inputs, options: Options) -> pl.Expr:
    """D5: any monotherapy threshold, or a vasopressin / multi-agent combination, each sustained ≥ 3 h [R, A13]."""
    return _high_dose(x, bool(options["paediatric_vasopressor_scaling"]))


@staged
def _high_dose(x: Inputs, scale_children: bool) -> pl.Expr:
    rules = [
        _at_least(x, *_in_mcg_min(x, drug.value), threshold, scale_children)
        for drug, threshold in HIGH_DOSE_MCG_MIN.items()
    ]
    rules.append(_at_least(x, *_dopamine_mcg_kg_min(x), HIGH_DOSE_DOPAMINE_MCG_KG_MIN, False))
    rules.append(_at_least(x, *_in_mcg_min(x, NE_EQ_DERIVED), HIGH_DOSE_MCG_MIN[Drug.norepinephrine], scale_children))
    ne_eq = _ne_equivalent(x)
    vasopressin_sustained = drug_running(x, Drug.vasopressin) & (
        x(hours_column(Drug.vasopressin)) >= HIGH_DOSE_MIN_HOURS
    )
    rules.append(vasopressin_sustained & _at_least(x, *ne_eq, NE_EQ_WITH_VASOPRESSIN_MCG_MIN, scale_children))
    rules.append((n_pressors_non_vasopressin(x) >= 2) & _at_least(x, *ne_eq, NE_EQ_COMBINATION_MCG_MIN, scale_children))
    mask = x("hypotension_attributable_other_cause").not_()
    return reduce(lambda a, b: a | b, rules) & mask


# D6–D7 ----------------------------------------------------------------------------------------------------------
def _device_is(x: Inputs, *devices: O2Device) -> pl.Expr:
    return x("o2_device").is_in([_v(d) for d in devices])


@staged
def oxygen_category(x: Inputs) -> pl.Expr:
    """D6 ASTCT category 0–3: none, low flow, high flow, positive pressure; oxygen for another cause ignored."""
    flow = x("o2_flow_l_min")
    device = x("o2_device")
    return (
        pl.when(x("hypoxia_attributable_other_cause"))
        .then(O2_NONE)
        .when(device == _v(O2Device.none))
        .then(O2_NONE)
        .when(device == _v(O2Device.blow_by))
        .then(O2_LOW_FLOW)
        .when(device == _v(O2Device.nasal_cannula))
        .then(pl.when(flow > LOW_FLOW_MAX_L_MIN).then(O2_HIGH_FLOW).otherwise(O2_LOW_FLOW))
        .when(device == _v(O2Device.high_flow_nasal_cannula))
        .then(pl.when(flow <= LOW_FLOW_MAX_L_MIN).then(O2_LOW_FLOW).otherwise(O2_HIGH_FLOW))
        .when(device.is_in([_v(d) for d in MASKS]))
        .then(O2_HIGH_FLOW)
        .when(device.is_in([_v(d) for d in POSITIVE_PRESSURE]))
        .then(O2_POSITIVE_PRESSURE)
    )


def nasal_cannula_flow_not_recorded(x: Inputs) -> pl.Expr:
    return _device_is(x, O2Device.nasal_cannula) & x("o2_flow_l_min").is_null()


def high_flow_device_at_low_flow(x: Inputs) -> pl.Expr:
    """A5: a high-flow nasal cannula run at ≤ 6 L/min is graded as low flow."""
    return _device_is(x, O2Device.high_flow_nasal_cannula) & (x("o2_flow_l_min") <= LOW_FLOW_MAX_L_MIN)


@staged
def on_oxygen(x: Inputs) -> pl.Expr:
    """Any oxygen or respiratory support required for CRS hypoxia (device other than none)."""
    return (x("o2_device") != _v(O2Device.none)) & x("hypoxia_attributable_other_cause").not_()


def device_in(x: Inputs, *devices: O2Device) -> pl.Expr:
    """The device is one of `devices`, required for CRS hypoxia."""
    return _device_is(x, *devices) & x("hypoxia_attributable_other_cause").not_()


def estimated_fio2(x: Inputs, nasal_cannula_fio2: str) -> pl.Expr:
    """D7 FiO2 estimate in % when none is recorded [L]; A4 option caps nasal cannula below 40 %."""
    flow, device = x("o2_flow_l_min"), x("o2_device")
    nasal = pl.when(flow.is_null()).then(28.0).otherwise((20.0 + 4.0 * flow).clip(upper_bound=50.0))
    if nasal_cannula_fio2 == "below_40":
        nasal = nasal.clip(upper_bound=NASAL_CANNULA_BELOW_40_PCT)
    face_mask = pl.when(flow > 7.0).then(60.0).when(flow > 6.0).then(50.0).otherwise(40.0)
    return (
        pl.when(device == _v(O2Device.none))
        .then(21.0)
        .when(device == _v(O2Device.nasal_cannula))
        .then(nasal)
        .when(device == _v(O2Device.blow_by))
        .then(30.0)
        .when(device == _v(O2Device.simple_face_mask))
        .then(face_mask)
        .when(device == _v(O2Device.venturi_mask))
        .then(40.0)
        .when(device == _v(O2Device.non_rebreather_mask))
        .then(80.0)
        .when(device == _v(O2Device.high_flow_nasal_cannula))
        .then(50.0)
        .when(device.is_in([_v(d) for d in POSITIVE_PRESSURE]))
        .then(40.0)
    )


@staged
def fio2_effective(x: Inputs, nasal_cannula_fio2: str) -> pl.Expr:
    """D7: the recorded FiO2 (%), else the device estimate."""
    return pl.coalesce(x("fio2"), estimated_fio2(x, nasal_cannula_fio2))


def fio2_estimated(x: Inputs) -> pl.Expr:
    return x("fio2").is_null() & (x("o2_device") != _v(O2Device.none))


def oxygen_fio2_at_least_40(x: Inputs, options: Options) -> pl.Expr:
    """Oxygen for CRS hypoxia with FiO2 ≥ 40 % (recorded or D7-estimated)."""
    return on_oxygen(x) & (fio2_effective(x, options["nasal_cannula_fio2"]) >= FIO2_THRESHOLD_PCT)


# Organ toxicity (D8) ----------------------------------------------------------------------------------------------
def transaminitis_at_least(x: Inputs, crs_grade: int, options: Options) -> pl.Expr:
    """Transaminitis grade giving at least `crs_grade` under A8: cap (g → min(g, 3)) or shift (g → g − 1)."""
    needed = crs_grade if options["transaminitis_reading"] == "cap" else crs_grade + 1
    return x("transaminitis_grade") >= needed
