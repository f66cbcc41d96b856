"""Dose calculators (management.md §4), plain functions a pharmacist can check line by line.

Calculation order (management.md §0.2 "Doses" [P]): formula on the recorded weight, unrounded → cap
(`min(dose, cap)`) → round half up to 0.1 mg. The unrounded value is returned next to the suggested dose.
Every result is a suggestion that needs a prescriber's order and pharmacist verification (§4 general rules).

A calculator that needs a weight raises `DoseInputError` when the weight is missing or outside 0.5–350 kg
(§0.2, §4.10); staleness and change checks need the weight's date and history and live in `safety.py`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crsguard.management.vocabulary import Drug

WEIGHT_MIN_KG = 0.5  # management.md §0.2: plausible range 0.5–350 kg inclusive
WEIGHT_MAX_KG = 350.0
ADULT_AGE_YEARS = 18.0  # management.md §0.2: adult = age ≥ 18 years [P]
CONFIRM = "requires clinician confirmation"


class DoseInputError(ValueError):
    """An input a calculation needs is missing or implausible; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DoseCalculation(BaseModel):
    """One calculated dose with its formula in words, the cap applied and the warnings (management.md §4)."""

    model_config = ConfigDict(frozen=True)

    drug: str
    regimen: str
    dose_mg: float | None = Field(
        description="Suggested dose per administration; null for a range or refusal"
    )
    dose_range_mg: tuple[float, float] | None = Field(None, description="Range the prescriber picks from")
    unrounded_mg: float | None = None
    formula: str
    inputs: dict[str, float | None] = Field(default_factory=dict)
    capped: bool = False
    cap_mg: float | None = None
    route: str
    interval: str
    interval_h: float | None = Field(
        None, description="Shortest interval; used by the 24 h checks (§4.2 [P])"
    )
    administration: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    source: str
    evidence: str
    requires_clinician_confirmation: bool = False

    @field_validator("unrounded_mg")
    @classmethod
    def _trim_float_noise(cls, value: float | None) -> float | None:
        """12 × 29.9 is 358.79999…: the unrounded value is shown to 4 decimals, before the 0.1 mg step."""
        return None if value is None else round(value, 4)


def round_half_up(value_mg: float) -> float:
    """Round to the nearest 0.1 mg, halves up (management.md §0.2)."""
    return float(Decimal(repr(value_mg)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _fmt(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def require_weight(weight_kg: float | None) -> float:
    """The recorded weight, or `DoseInputError` when missing or outside 0.5–350 kg (§0.2, §4.10)."""
    if weight_kg is None:
        raise DoseInputError("weight_kg", "missing; record a measured weight (weight-based dose, §4.10)")
    if not WEIGHT_MIN_KG <= weight_kg <= WEIGHT_MAX_KG:
        raise DoseInputError(
            "weight_kg",
            f"{_fmt(weight_kg)} kg is implausible (allowed "
            "0.5–350 kg); record a measured weight (§0.2, §4.10)",
        )
    return weight_kg


def is_adult(age_years: float | None) -> bool:
    """Adult only when age ≥ 18 is recorded; a missing age uses the child formula (§0.2 [P])."""
    return age_years is not None and age_years >= ADULT_AGE_YEARS


def _age_warnings(age_years: float | None) -> list[str]:
    if age_years is None:
        return ["Age missing: child formula used where one exists; fixed adult doses not shown (§0.2, §4.10)"]
    return []


def _weight_age_warnings(weight_kg: float, age_years: float | None) -> list[str]:
    """§4.10: weight inconsistent with age (possible pound/kilogram error)."""
    if age_years is not None and age_years >= ADULT_AGE_YEARS and weight_kg < 30:
        return ["Adult weighing < 30 kg: confirm weight and unit (possible pound/kilogram error) (§4.10)"]
    if age_years is not None and age_years < 12 and weight_kg > 100:
        return [
            "Child under 12 weighing > 100 kg: confirm weight "
            "and unit (possible pound/kilogram error) (§4.10)"
        ]
    return []


# ---------------------------------------------------------------------------------------------- tocilizumab

TOCI_BAND_KG = 30.0  # §4.1.1: < 30 kg → 12 mg/kg; 30.0 kg exactly takes the 8 mg/kg band
TOCI_LIGHT_MG_PER_KG = 12.0
TOCI_STANDARD_MG_PER_KG = 8.0
TOCI_CAP_MG = 800.0  # §4.1.1: maximum per dose
TOCI_CONCENTRATION_MG_PER_ML = 20.0  # §4.1.2
TOCI_CONFIRM_BAND_KG = (28.0, 32.0)  # §4.1.1 [P]: confirm a measured weight near the band edge
TOCI_LABELLED_MIN_AGE_YEARS = 2.0  # §4.1.1


def tocilizumab_dose(weight_kg: float | None, age_years: float | None = None) -> DoseCalculation:
    """Tocilizumab for CRS: 12 mg/kg below 30 kg, else 8 mg/kg, maximum 800 mg (§4.1.1–4.1.2)."""
    weight = require_weight(weight_kg)
    light = weight < TOCI_BAND_KG
    per_kg = TOCI_LIGHT_MG_PER_KG if light else TOCI_STANDARD_MG_PER_KG
    unrounded = per_kg * weight
    capped = unrounded > TOCI_CAP_MG
    dose = round_half_up(min(unrounded, TOCI_CAP_MG))
    band = "weight < 30 kg: 12 mg/kg" if light else "weight ≥ 30 kg: 8 mg/kg, maximum 800 mg"
    formula = f"{_fmt(per_kg)} mg/kg × {_fmt(weight)} kg = {_fmt(round_half_up(unrounded))} mg ({band})"
    if capped:
        formula += f"; calculated {_fmt(round_half_up(unrounded))} mg, capped to 800 mg (maximum per dose)"
    warnings = _weight_age_warnings(weight, age_years)
    if TOCI_CONFIRM_BAND_KG[0] <= weight <= TOCI_CONFIRM_BAND_KG[1]:
        warnings.append(
            "Weight 28.0–32.0 kg: confirm a measured weight; "
            "the dose band changes at 30 kg, so a lighter child "
            "receives the larger absolute dose by design of the label bands (§4.1.1)"
        )
    if age_years is not None and age_years < TOCI_LABELLED_MIN_AGE_YEARS:
        warnings.append("Outside labelled age (< 2 years); specialist decision (§4.1.1)")
    bag_ml = 50 if light else 100
    return DoseCalculation(
        drug=Drug.TOCILIZUMAB.value,
        regimen="standard",
        dose_mg=dose,
        unrounded_mg=unrounded,
        formula=formula,
        inputs={"weight_kg": weight, "age_years": age_years},
        capped=capped,
        cap_mg=TOCI_CAP_MG,
        route="IV",
        interval=(
            "may repeat no sooner than 8 h after the previous start; ≤ 3 per rolling 24 h; ≤ 4 per course"
        ),
        interval_h=8.0,
        administration=[
            "IV infusion over 60 minutes; not an IV push; the subcutaneous formulation is not used for CRS",
            f"Dilute in a {bag_ml} mL bag of 0.9 % (or 0.45 %) "
            "sodium chloride, removing an equal volume first; "
            f"drug volume {_fmt(round_half_up(dose / TOCI_CONCENTRATION_MG_PER_ML))} mL at 20 mg/mL",
            "Biosimilar: confirm that the product's label includes CRS before substituting (§4.1.2)",
        ],
        warnings=warnings,
        source="management.md §4.1.1–4.1.2",
        evidence="S2 (bands and cap); S (tisa-cel label bands)",
    )


# --------------------------------------------------------------------------------------------- dexamethasone

DEX_CHILD_MG_PER_KG = 0.5  # §4.2 [R]
DEX_CHILD_CAP_MG = 10.0


def dexamethasone_dose(
    weight_kg: float | None,
    age_years: float | None,
    adult_dose_mg: float = 10.0,
    interval: str = "every 6 h",
    interval_h: float | None = 6.0,
) -> DoseCalculation:
    """Dexamethasone (management.md §4.2): adults a fixed dose; children 0.5 mg/kg, maximum 10 mg per dose.

    Child dosing of the 20 mg escalation regimens is "specialist" in §4.2, so it is refused for < 18 years.
    """
    warnings = _age_warnings(age_years)
    if is_adult(age_years):
        if adult_dose_mg > 20:
            warnings.append("Adult dexamethasone dose > 20 mg: check for a documented high-dose plan (§4.2)")
        return DoseCalculation(
            drug=Drug.DEXAMETHASONE.value,
            regimen=f"adult {_fmt(adult_dose_mg)} mg",
            dose_mg=round_half_up(adult_dose_mg),
            unrounded_mg=adult_dose_mg,
            formula=f"fixed adult dose {_fmt(adult_dose_mg)} mg (age ≥ 18 years)",
            inputs={"weight_kg": weight_kg, "age_years": age_years},
            route="IV",
            interval=interval,
            interval_h=interval_h,
            warnings=warnings,
            source="management.md §4.2",
            evidence="S/S2 (adult)",
        )
    if adult_dose_mg > DEX_CHILD_CAP_MG:
        raise DoseInputError(
            "age_years",
            f"dexamethasone {_fmt(adult_dose_mg)} mg regimen has no child dose (specialist decision, §4.2)",
        )
    weight = require_weight(weight_kg)
    unrounded = DEX_CHILD_MG_PER_KG * weight
    capped = unrounded > DEX_CHILD_CAP_MG
    dose = round_half_up(min(unrounded, DEX_CHILD_CAP_MG))
    formula = (
        f"0.5 mg/kg × {_fmt(weight)} kg = {_fmt(round_half_up(unrounded))} mg (child, maximum 10 mg per dose)"
    )
    if capped:
        formula += f"; capped to {_fmt(DEX_CHILD_CAP_MG)} mg"
    return DoseCalculation(
        drug=Drug.DEXAMETHASONE.value,
        regimen="child 0.5 mg/kg",
        dose_mg=dose,
        unrounded_mg=unrounded,
        formula=formula,
        inputs={"weight_kg": weight, "age_years": age_years},
        capped=capped,
        cap_mg=DEX_CHILD_CAP_MG,
        route="IV",
        interval=interval,
        interval_h=interval_h,
        warnings=[*warnings, *_weight_age_warnings(weight, age_years), f"Child dose [R]: {CONFIRM}"],
        source="management.md §4.2, §4.9",
        evidence="R (paediatric CARTOX)",
        requires_clinician_confirmation=True,
    )


# ----------------------------------------------------------------------------------------- methylprednisolone


class MethylprednisoloneRegimen(StrEnum):
    """The methylprednisolone regimens of management.md §4.3."""

    STANDARD = "standard"  # 1 mg/kg IV every 12 h (ICANS alternative), no cap (A8)
    PULSE = "pulse"  # adult 1000 mg once daily × 3 days; child 30 mg/kg (max 1000 mg)
    ASCO_GRADE4 = "asco_grade4"  # adult 500 mg every 12 h × 3 days then taper; child → child pulse
    HIGH_DOSE_Q12H = "high_dose_q12h"  # CRS-4b adult 1000 mg every 12 h; child: specialist
    LABEL_ESCALATION = "label_escalation"  # OV-BMS: 2 mg/kg then 0.5 mg/kg every 6 h


MP_CHILD_PULSE_MG_PER_KG = 30.0  # §4.3 [R]
MP_MAX_DOSE_MG = 1000.0
MP_INFUSION_WARNING_MG = 500.0  # §4.3: doses ≥ 500 mg need an infusion over ≥ 30 minutes
MP_INFUSION_TEXT = (
    "Give doses ≥ 500 mg as an infusion over at least 30 minutes: rapid injection of large doses (> 0.5 g in "
    "< 10 minutes) has been associated with arrhythmia, circulatory collapse and cardiac arrest (§4.3)"
)
ASCO_GRADE4_TAPER = (
    "500 mg IV every 12 h for 3 days (6 doses), then 250 mg every 12 h for 2 days, 125 mg every 12 h for "
    "2 days, then 60 mg every 12 h until CRS ≤ grade 1 (ASCO, §3.2 CRS-4a)"
)


def _child_pulse(weight: float, age_years: float | None, warnings: list[str]) -> DoseCalculation:
    unrounded = MP_CHILD_PULSE_MG_PER_KG * weight
    capped = unrounded > MP_MAX_DOSE_MG
    dose = round_half_up(min(unrounded, MP_MAX_DOSE_MG))
    formula = (
        f"30 mg/kg × {_fmt(weight)} kg = {_fmt(round_half_up(unrounded))} mg (child pulse, maximum 1000 mg)"
    )
    if capped:
        formula += "; capped to 1000 mg"
    return DoseCalculation(
        drug=Drug.METHYLPREDNISOLONE.value,
        regimen="child pulse 30 mg/kg",
        dose_mg=dose,
        unrounded_mg=unrounded,
        formula=formula,
        inputs={"weight_kg": weight, "age_years": age_years},
        capped=capped,
        cap_mg=MP_MAX_DOSE_MG,
        route="IV",
        interval="once daily for 3 days (maximum 1000 mg per dose and per day)",
        interval_h=24.0,
        administration=[MP_INFUSION_TEXT] if dose >= MP_INFUSION_WARNING_MG else [],
        warnings=[
            *warnings,
            *_weight_age_warnings(weight, age_years),
            "Adult fixed regimens are never shown below 18 years (§4.3, A26)",
            f"Child pulse [R]: {CONFIRM}; specialist confirms",
        ],
        source="management.md §4.3, §4.9, A26",
        evidence="R",
        requires_clinician_confirmation=True,
    )


def methylprednisolone_dose(
    weight_kg: float | None,
    age_years: float | None,
    regimen: MethylprednisoloneRegimen = MethylprednisoloneRegimen.STANDARD,
) -> DoseCalculation:
    """Methylprednisolone (management.md §4.3); below 18 years only weight-based doses are shown."""
    warnings = _age_warnings(age_years)
    adult = is_adult(age_years)
    if regimen is MethylprednisoloneRegimen.STANDARD:
        weight = require_weight(weight_kg)
        dose = round_half_up(weight)
        return DoseCalculation(
            drug=Drug.METHYLPREDNISOLONE.value,
            regimen="standard 1 mg/kg",
            dose_mg=dose,
            unrounded_mg=weight,
            formula=f"1 mg/kg × {_fmt(weight)} kg = {_fmt(dose)} mg (no cap; actual body weight, A8)",
            inputs={"weight_kg": weight, "age_years": age_years},
            route="IV",
            interval="every 12 h",
            interval_h=12.0,
            administration=[MP_INFUSION_TEXT] if dose >= MP_INFUSION_WARNING_MG else [],
            warnings=[*warnings, *_weight_age_warnings(weight, age_years)],
            source="management.md §4.3",
            evidence="S (ASCO)",
        )
    if regimen is MethylprednisoloneRegimen.LABEL_ESCALATION:
        weight = require_weight(weight_kg)
        first = round_half_up(2 * weight)
        then = round_half_up(0.5 * weight)
        return DoseCalculation(
            drug=Drug.METHYLPREDNISOLONE.value,
            regimen="label escalation 2 mg/kg then 2 mg/kg/day",
            dose_mg=first,
            unrounded_mg=2 * weight,
            formula=(
                f"first dose 2 mg/kg × {_fmt(weight)} kg = "
                f"{_fmt(first)} mg, then 0.5 mg/kg × {_fmt(weight)} kg "
                f"= {_fmt(then)} mg every 6 h (2 mg/kg/day)"
            ),
            inputs={"weight_kg": weight, "age_years": age_years},
            route="IV",
            interval="first dose, then every 6 h",
            interval_h=6.0,
            administration=[MP_INFUSION_TEXT] if first >= MP_INFUSION_WARNING_MG else [],
            warnings=[*warnings, f"Liso-cel/ide-cel label escalation [R]: {CONFIRM}"],
            source="management.md §4.3 (liso-cel/ide-cel labels)",
            evidence="R",
            requires_clinician_confirmation=True,
        )
    if not adult:
        if regimen is MethylprednisoloneRegimen.HIGH_DOSE_Q12H:
            raise DoseInputError(
                "age_years",
                "methylprednisolone 1000 mg every 12 h has no child dose: specialist decision (§3.2 CRS-4b)",
            )
        return _child_pulse(require_weight(weight_kg), age_years, warnings)
    fixed = {
        MethylprednisoloneRegimen.PULSE: (1000.0, "once daily for 3 days, then taper", 24.0, "pulse 1000 mg"),
        MethylprednisoloneRegimen.ASCO_GRADE4: (
            500.0,
            ASCO_GRADE4_TAPER,
            12.0,
            "ASCO grade 4: 500 mg every 12 h",
        ),
        MethylprednisoloneRegimen.HIGH_DOSE_Q12H: (
            1000.0,
            "every 12 h (specialist decision)",
            12.0,
            "1000 mg q12h",
        ),
    }
    dose, interval, interval_h, name = fixed[regimen]
    return DoseCalculation(
        drug=Drug.METHYLPREDNISOLONE.value,
        regimen=name,
        dose_mg=dose,
        unrounded_mg=dose,
        formula=f"fixed adult dose {_fmt(dose)} mg (age ≥ 18 years)",
        inputs={"weight_kg": weight_kg, "age_years": age_years},
        route="IV",
        interval=interval,
        interval_h=interval_h,
        administration=[MP_INFUSION_TEXT],
        warnings=warnings,
        source="management.md §4.3",
        evidence="S (ASCO 500 mg regimen, CRS-4b); S2/R (1000 mg daily pulse)",
    )


# ------------------------------------------------------------------------------------------------ anakinra


class AnakinraRegimen(StrEnum):
    """Anakinra regimens of management.md §4.4 (off-label); a child (< 18 y or no age) gets `child`."""

    WEIGHT_BASED = "weight_based"  # adult 8–10 mg/kg/day divided every 8 h
    FIXED_200_Q8H = "fixed_200_q8h"  # adult 200 mg IV/SC every 8 h
    LOW_INTENSITY = "low_intensity"  # adult 100 mg SC/IV every 6–12 h, escalated to effect
    CHILD = "child"  # 2 mg/kg every 6 h, max 100 mg per dose, 400 mg/day


ANAKINRA_OFF_LABEL = "Off-label use; specialist decision (§4.4)"


def anakinra_dose(
    weight_kg: float | None,
    age_years: float | None,
    regimen: AnakinraRegimen = AnakinraRegimen.WEIGHT_BASED,
) -> DoseCalculation:
    """Anakinra (management.md §4.4): adults a range the prescriber picks from; children 2 mg/kg q6h."""
    warnings = [*_age_warnings(age_years), ANAKINRA_OFF_LABEL]
    if not is_adult(age_years) or regimen is AnakinraRegimen.CHILD:
        weight = require_weight(weight_kg)
        unrounded = 2 * weight
        capped = unrounded > 100
        dose = round_half_up(min(unrounded, 100.0))
        return DoseCalculation(
            drug=Drug.ANAKINRA.value,
            regimen="child 2 mg/kg every 6 h",
            dose_mg=dose,
            unrounded_mg=unrounded,
            formula=(
                f"2 mg/kg × {_fmt(weight)} kg = {_fmt(round_half_up(unrounded))} "
                "mg (maximum 100 mg per dose, "
                "400 mg per 24 h)" + ("; capped to 100 mg" if capped else "")
            ),
            inputs={"weight_kg": weight, "age_years": age_years},
            capped=capped,
            cap_mg=100.0,
            route="IV",
            interval=(
                "every 6 h (alternatively start 2 mg/kg/day and titrate up to 10 mg/kg/day, "
                "maximum 400 mg/day)"
            ),
            interval_h=6.0,
            warnings=[*warnings, *_weight_age_warnings(weight, age_years)],
            source="management.md §4.4, §4.9",
            evidence="S2",
        )
    if regimen is AnakinraRegimen.FIXED_200_Q8H:
        if weight_kg is not None and WEIGHT_MIN_KG <= weight_kg <= WEIGHT_MAX_KG and 10 * weight_kg < 600:
            warnings.append("600 mg/24 h exceeds 10 mg/kg/day for this weight; pharmacist review (§4.4)")
        return DoseCalculation(
            drug=Drug.ANAKINRA.value,
            regimen="adult 200 mg every 8 h",
            dose_mg=200.0,
            unrounded_mg=200.0,
            formula="fixed adult dose 200 mg (institutional practice)",
            inputs={"weight_kg": weight_kg, "age_years": age_years},
            route="IV or SC",
            interval="every 8 h",
            interval_h=8.0,
            warnings=warnings,
            source="management.md §4.4",
            evidence="S2",
        )
    if regimen is AnakinraRegimen.LOW_INTENSITY:
        return DoseCalculation(
            drug=Drug.ANAKINRA.value,
            regimen="adult 100 mg every 6–12 h",
            dose_mg=100.0,
            unrounded_mg=100.0,
            formula="fixed adult dose 100 mg, escalated to effect (institutional protocols)",
            inputs={"weight_kg": weight_kg, "age_years": age_years},
            route="SC or IV",
            interval="every 6–12 h",
            interval_h=6.0,
            warnings=warnings,
            source="management.md §4.4",
            evidence="S2",
        )
    weight = require_weight(weight_kg)
    daily = (8 * weight, 10 * weight)
    per_dose = (round_half_up(daily[0] / 3), round_half_up(daily[1] / 3))
    return DoseCalculation(
        drug=Drug.ANAKINRA.value,
        regimen="adult 8–10 mg/kg/day divided every 8 h",
        dose_mg=None,
        dose_range_mg=per_dose,
        unrounded_mg=None,
        formula=(
            f"8–10 mg/kg/day × {_fmt(weight)} kg = "
            f"{_fmt(round_half_up(daily[0]))}–{_fmt(round_half_up(daily[1]))} "
            f"mg/day, divided every 8 h = {_fmt(per_dose[0])}–{_fmt(per_dose[1])} "
            "mg per dose; prescriber picks"
        ),
        inputs={"weight_kg": weight, "age_years": age_years},
        route="IV",
        interval="every 8 h",
        interval_h=8.0,
        warnings=[*warnings, *_weight_age_warnings(weight, age_years)],
        source="management.md §4.4",
        evidence="S2",
    )


# ---------------------------------------------------------------------------------------------- siltuximab

SILTUXIMAB_MG_PER_KG = 11.0  # §4.5 [S2]
SILTUXIMAB_CONFIRM_ABOVE_MG = 1100.0  # §4.5 [P]


def siltuximab_dose(weight_kg: float | None, age_years: float | None = None) -> DoseCalculation:
    """Siltuximab 11 mg/kg IV over 1 h, usually once (management.md §4.5); no labelled cap."""
    weight = require_weight(weight_kg)
    unrounded = SILTUXIMAB_MG_PER_KG * weight
    dose = round_half_up(unrounded)
    warnings = ["Off-label use; at most one dose per CRS episode is suggested, a repeat is specialist (§4.5)"]
    warnings += _weight_age_warnings(weight, age_years)
    if dose > SILTUXIMAB_CONFIRM_ABOVE_MG:
        warnings.append("Calculated dose > 1100 mg (weight > 100 kg): confirm (§4.5)")
    return DoseCalculation(
        drug=Drug.SILTUXIMAB.value,
        regimen="11 mg/kg once",
        dose_mg=dose,
        unrounded_mg=unrounded,
        formula=f"11 mg/kg × {_fmt(weight)} kg = {_fmt(dose)} mg (no labelled cap)",
        inputs={"weight_kg": weight, "age_years": age_years},
        route="IV",
        interval="single dose over 1 h",
        administration=[
            "IV infusion over 1 hour; vials 100 mg and 400 mg, reconstitute per product instructions"
        ],
        warnings=warnings,
        source="management.md §4.5",
        evidence="S2 (CARTOX)",
    )


# -------------------------------------------------------------------------------------------- levetiracetam

LEVETIRACETAM_BSA_CAVEAT = "The label's renal bands are per 1.73 m²; crcl_ml_min used as supplied (§4.6) [R]"


def levetiracetam_renal_band(crcl_ml_min: float) -> tuple[float, float, str]:
    """The label's adult band (low mg, high mg, text) every 12 h (§4.6 [R]).

    The label's bands share their end points; a shared value goes to the more restrictive band [P] (A28).
    """
    if crcl_ml_min > 80:
        return 500.0, 1500.0, "CrCl > 80 mL/min: 500–1500 mg every 12 h"
    if crcl_ml_min > 50:
        return 500.0, 1000.0, "CrCl > 50 to ≤ 80 mL/min: 500–1000 mg every 12 h"
    if crcl_ml_min >= 30:
        return 250.0, 750.0, "CrCl ≥ 30 to ≤ 50 mL/min: 250–750 mg every 12 h"
    return 250.0, 500.0, "CrCl < 30 mL/min: 250–500 mg every 12 h"


def levetiracetam_dose(
    weight_kg: float | None,
    age_years: float | None,
    crcl_ml_min: float | None = None,
    on_haemodialysis: bool = False,
    adult_dose_mg: float = 500.0,
) -> DoseCalculation:
    """Levetiracetam seizure prophylaxis (management.md §4.6, §5.4) from day 0 to day 29 inclusive.

    Adults 500–750 mg every 12 h (the prescriber picks; `adult_dose_mg` is the dose checked against the renal
    band and lowered to the band maximum with a warning). Children min(10 mg/kg, 500 mg) every 12 h.
    """
    warnings = _age_warnings(age_years)
    if not is_adult(age_years):
        weight = require_weight(weight_kg)
        unrounded = 10 * weight
        capped = unrounded > 500
        dose = round_half_up(min(unrounded, 500.0))
        if crcl_ml_min is not None or on_haemodialysis:
            warnings.append("Child with renal data: no engine adjustment; refer to the pharmacist (§4.6)")
        return DoseCalculation(
            drug=Drug.LEVETIRACETAM.value,
            regimen="child prophylaxis 10 mg/kg",
            dose_mg=dose,
            unrounded_mg=unrounded,
            formula=f"10 mg/kg × {_fmt(weight)} kg = {_fmt(round_half_up(unrounded))} mg "
            "(maximum 500 mg per dose)" + ("; capped to 500 mg" if capped else ""),
            inputs={"weight_kg": weight, "age_years": age_years, "crcl_ml_min": crcl_ml_min},
            capped=capped,
            cap_mg=500.0,
            route="PO or IV",
            interval="every 12 h from day 0 to day 29 inclusive (30 days)",
            interval_h=12.0,
            warnings=[*warnings, *_weight_age_warnings(weight, age_years)],
            source="management.md §4.6, §5.4",
            evidence="S2",
        )
    if not 500.0 <= adult_dose_mg <= 750.0:
        raise DoseInputError(
            "adult_dose_mg", f"{_fmt(adult_dose_mg)} mg is outside the 500–750 mg range (§4.6)"
        )
    inputs: dict[str, float | None] = {
        "weight_kg": weight_kg,
        "age_years": age_years,
        "crcl_ml_min": crcl_ml_min,
    }
    if on_haemodialysis:
        return DoseCalculation(
            drug=Drug.LEVETIRACETAM.value,
            regimen="adult prophylaxis, haemodialysis",
            dose_mg=500.0,
            unrounded_mg=500.0,
            formula="haemodialysis: 500 mg every 24 h; post-dialysis supplement set by the pharmacist (§4.6)",
            inputs=inputs,
            route="PO or IV",
            interval="every 24 h from day 0 to day 29 inclusive",
            interval_h=24.0,
            warnings=[*warnings, "Supplemental dose after dialysis: refer to the pharmacist (§4.6)", CONFIRM],
            source="management.md §4.6",
            evidence="R",
            requires_clinician_confirmation=True,
        )
    dose = adult_dose_mg
    formula = f"adult {_fmt(adult_dose_mg)} mg (range 500–750 mg)"
    if crcl_ml_min is None:
        warnings.append("CrCl missing: renal band not checked (§2 crcl_ml_min)")
    else:
        _, high, band = levetiracetam_renal_band(crcl_ml_min)
        formula += f"; renal band {band}"
        warnings.append(LEVETIRACETAM_BSA_CAVEAT)
        if dose > high:
            warnings.append(
                f"{_fmt(dose)} mg is above the renal band; lowered to the band maximum {_fmt(high)} mg"
            )
            dose = high
        warnings.append(f"Renal band [R]: {CONFIRM}")
    return DoseCalculation(
        drug=Drug.LEVETIRACETAM.value,
        regimen="adult prophylaxis 500–750 mg",
        dose_mg=dose,
        unrounded_mg=adult_dose_mg,
        formula=formula,
        inputs=inputs,
        capped=dose < adult_dose_mg,
        route="PO or IV",
        interval="every 12 h from day 0 to day 29 inclusive (30 days)",
        interval_h=12.0,
        warnings=warnings,
        source="management.md §4.6, §5.4",
        evidence="S2 (dose); R (renal bands)",
        requires_clinician_confirmation=crcl_ml_min is not None,
    )


# ---------------------------------------------------------------------------------------------- acetaminophen


def acetaminophen_dose(weight_kg: float | None, age_years: float | None) -> DoseCalculation:
    """Paracetamol (management.md §3.1, §4.9): adult 650–1000 mg; child or adult < 50 kg 15 mg/kg."""
    warnings = _age_warnings(age_years)
    adult = is_adult(age_years)
    if adult and weight_kg is not None and weight_kg >= 50:
        return DoseCalculation(
            drug=Drug.ACETAMINOPHEN.value,
            regimen="adult 650–1000 mg",
            dose_mg=None,
            dose_range_mg=(650.0, 1000.0),
            formula="adult 650–1000 mg per dose; maximum 4000 mg per rolling 24 h from all sources",
            inputs={"weight_kg": weight_kg, "age_years": age_years},
            route="PO or IV",
            interval="no sooner than 6 h after the previous dose",
            interval_h=6.0,
            warnings=[*warnings, "Lower institutional maximum with hepatic impairment (§3.1)"],
            source="management.md §3.1",
            evidence="S (dose range); R (daily maximum)",
        )
    weight = require_weight(weight_kg)
    unrounded = 15 * weight
    capped = unrounded > 1000
    dose = round_half_up(min(unrounded, 1000.0))
    daily_max = min(75 * weight, 4000.0)
    return DoseCalculation(
        drug=Drug.ACETAMINOPHEN.value,
        regimen="15 mg/kg",
        dose_mg=dose,
        unrounded_mg=unrounded,
        formula=(
            f"15 mg/kg × {_fmt(weight)} kg = {_fmt(round_half_up(unrounded))} mg (maximum 1000 mg per dose; "
            f"maximum {_fmt(round_half_up(daily_max))} mg per 24 h = min(75 mg/kg, 4000 mg))"
        )
        + ("; capped to 1000 mg" if capped else ""),
        inputs={"weight_kg": weight, "age_years": age_years},
        capped=capped,
        cap_mg=1000.0,
        route="PO or IV",
        interval="no sooner than 6 h after the previous dose",
        interval_h=6.0,
        warnings=[*warnings, f"Weight-based paracetamol [R]: {CONFIRM}"],
        source="management.md §3.1, §4.9",
        evidence="R",
        requires_clinician_confirmation=True,
    )
