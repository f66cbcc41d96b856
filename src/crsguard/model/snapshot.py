"""The patient at one assessment: the canonical CRS input fields of crs-grading.md §2.

One `Snapshot` is one assessment record (default window: the 24 h ending at the evaluation time, §1.1); for every
numeric field it carries the *worst* value in the window. Field names, units and plausible ranges are exactly those of
crs-grading.md §2.1–§2.5. Every field is optional: an absent field is *missing*, never silently normal. How a
missing field is graded (default, or unknown) is decided once, in `crsguard.grading.inputs`.

The schema is closed: an unknown key is an error that names the key and lists the allowed ones
(`crsguard.model.errors`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from crsguard.model import toxicity as tox


class O2Device(StrEnum):
    """Most intensive oxygen or respiratory-support modality required for hypoxia (crs-grading.md §2.4).

    Listed from least to most intensive as the spec lists them; `none` is the default of a missing enum (§2).
    """

    none = "none"
    nasal_cannula = "nasal_cannula"
    blow_by = "blow_by"
    simple_face_mask = "simple_face_mask"
    venturi_mask = "venturi_mask"
    non_rebreather_mask = "non_rebreather_mask"
    high_flow_nasal_cannula = "high_flow_nasal_cannula"
    cpap = "cpap"
    bipap = "bipap"
    mechanical_ventilation = "mechanical_ventilation"


#: Synonyms accepted on input (§2.4: `room_air` is a synonym of `none`).
O2_DEVICE_SYNONYMS = {"room_air": O2Device.none}


class VasopressorDrug(StrEnum):
    """Vasopressor agents the graders know (crs-grading.md §2.3)."""

    norepinephrine = "norepinephrine"
    epinephrine = "epinephrine"
    phenylephrine = "phenylephrine"
    dopamine = "dopamine"
    vasopressin = "vasopressin"


#: Agents rejected with a specific reason instead of "unknown value" (§2.3 `drug`).
REJECTED_AGENTS = {
    "angiotensin_ii": "unsupported agent, clinician review (crs-grading.md §2.3)",
    "methylene_blue": "unsupported agent, clinician review (crs-grading.md §2.3)",
    "dobutamine": "an inotrope without vasopressor intent is not entered and never counts as a vasopressor "
    "(crs-grading.md §2.3)",
    "milrinone": "an inotrope without vasopressor intent is not entered and never counts as a vasopressor "
    "(crs-grading.md §2.3)",
}


class DoseUnit(StrEnum):
    """Vasopressor dose units (crs-grading.md §2.3): vasopressin only, and always, in units/min."""

    mcg_per_min = "mcg_per_min"
    mcg_per_kg_per_min = "mcg_per_kg_per_min"
    units_per_min = "units_per_min"


Grade = Annotated[int, Field(ge=0, le=4)]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class VasopressorItem(_Closed):
    """One sustained vasopressor rate in the window (crs-grading.md §2.3, items of `vasopressors`)."""

    drug: VasopressorDrug
    dose: float = Field(gt=0, description="Highest rate maintained continuously for hours_continuous.")
    dose_unit: DoseUnit
    hours_continuous: float = Field(gt=0, le=720, description="Continuous hours at a rate >= dose.")
    derived_ne_eq: bool = Field(
        default=False,
        description="Synthetic norepinephrine item carrying the highest norepinephrine-equivalent sustained "
        ">= 3 h (A14); used for the high-dose test only, not counted as an agent.",
    )

    @field_validator("drug", mode="before")
    @classmethod
    def _known_agent(cls, value: Any) -> Any:
        if isinstance(value, str) and value in REJECTED_AGENTS:
            raise ValueError(f"{value!r}: {REJECTED_AGENTS[value]}")
        return value

    @model_validator(mode="after")
    def _unit_matches_drug(self) -> VasopressorItem:
        is_vasopressin = self.drug is VasopressorDrug.vasopressin
        if is_vasopressin != (self.dose_unit is DoseUnit.units_per_min):
            raise ValueError(
                f"dose_unit {self.dose_unit.value!r} is not allowed for {self.drug.value}: vasopressin only in "
                "units_per_min, other agents in mcg_per_min or mcg_per_kg_per_min (crs-grading.md §2.3)"
            )
        if self.derived_ne_eq and self.drug is not VasopressorDrug.norepinephrine:
            raise ValueError("derived_ne_eq is allowed only on a norepinephrine item (crs-grading.md §2.3, A14)")
        return self


class Snapshot(_Closed):
    """The canonical CRS assessment record (crs-grading.md §2). All fields optional; absent means missing."""

    # §2.1 Patient and attribution
    age_years: float | None = Field(default=None, ge=0, le=120)
    weight_kg: float | None = Field(default=None, ge=0.5, le=350)
    crs_attributed: bool | None = None
    crs_symptoms_present: bool | None = None
    # §2.2 Temperature
    temperature_c: float | None = Field(default=None, ge=30.0, le=45.0)
    temperature_f: float | None = Field(default=None, ge=86.0, le=113.0)
    fever_masked: bool | None = None
    fever_attributable_other_cause: bool | None = None
    # §2.3 Haemodynamics
    hypotension: bool | None = None
    sbp_mmhg: float | None = Field(default=None, ge=30, le=250)
    hypotension_persistent_on_vasopressors: bool | None = None
    hypotension_fluid_responsive: bool | None = None
    fluid_boluses_for_bp: int | None = Field(default=None, ge=0, le=20)
    hypotension_attributable_other_cause: bool | None = None
    vasopressors: list[VasopressorItem] | None = Field(default=None, max_length=10)
    vasopressor_total_hours: float | None = Field(default=None, ge=0, le=720)
    # §2.4 Oxygenation
    o2_device: O2Device | None = None
    o2_flow_l_min: float | None = Field(default=None, ge=0, le=80)
    fio2: float | None = Field(
        default=None,
        ge=0.21,
        le=100,
        description="Percent, 21-100; a fraction 0.21-1.00 is read as a fraction and multiplied by 100 with a "
        "warning (A23).",
    )
    hypoxia_attributable_other_cause: bool | None = None
    # §2.5 Organ toxicity and supportive-care flags
    organ_toxicity_max_grade: Grade | None = None
    transaminitis_grade: Grade | None = None
    creatinine_grade: Grade | None = None
    coagulopathy_requiring_products: bool | None = None
    hospitalized_for_crs: bool | None = None
    iv_therapy_required: bool | None = None
    hospitalized_for_organ_dysfunction: bool | None = None
    symptomatic_treatment_required: bool | None = None
    prolonged_or_recurrent: bool | None = None
    life_threatening: bool | None = None
    death_from_crs: bool | None = None

    # other-toxicities.md §7.1 Context
    patient_id: str | None = None
    date_of_birth: date | None = None
    baseline_developmental_delay: bool | None = None
    therapy_class: tox.TherapyClass | None = None
    product_target: tox.ProductTarget | None = None
    infusion_datetime: datetime | None = None
    lymphodepletion_start_datetime: datetime | None = None
    assessment_datetime: datetime | None = None
    study_day: int | None = Field(default=None, ge=-400, le=4000)
    progression_datetime: datetime | None = None
    next_therapy_datetime: datetime | None = None
    death_datetime: datetime | None = None
    last_followup_datetime: datetime | None = None
    # §7.2 ICE / CARTOX-10 (items are computed into totals: crsguard.model.toxicity.reconcile_scores)
    ice_status: tox.IceStatus | None = None
    ice_orientation: int | None = Field(default=None, ge=0, le=4)
    ice_orient_year: int | None = Field(default=None, ge=0, le=1)
    ice_orient_month: int | None = Field(default=None, ge=0, le=1)
    ice_orient_city: int | None = Field(default=None, ge=0, le=1)
    ice_orient_hospital: int | None = Field(default=None, ge=0, le=1)
    ice_naming: int | None = Field(default=None, ge=0, le=3)
    ice_commands: int | None = Field(default=None, ge=0, le=1)
    ice_writing: int | None = Field(default=None, ge=0, le=1)
    ice_attention: int | None = Field(default=None, ge=0, le=1)
    ice_total: int | None = Field(default=None, ge=0, le=10)
    ice_total_other_cause: bool | None = None
    ice_baseline_total: int | None = Field(default=None, ge=0, le=10)
    awake_global_aphasia: bool | None = None
    cartox_orient_head_of_state: int | None = Field(default=None, ge=0, le=1)
    cartox_total: int | None = Field(default=None, ge=0, le=10)
    cartox_total_other_cause: bool | None = None
    # §7.3 CAPD
    capd_status: tox.CapdStatus | None = None
    capd_item1: tox.CapdResponse | None = None
    capd_item2: tox.CapdResponse | None = None
    capd_item3: tox.CapdResponse | None = None
    capd_item4: tox.CapdResponse | None = None
    capd_item5: tox.CapdResponse | None = None
    capd_item6: tox.CapdResponse | None = None
    capd_item7: tox.CapdResponse | None = None
    capd_item8: tox.CapdResponse | None = None
    capd_total: int | None = Field(default=None, ge=0, le=32)
    capd_total_other_cause: bool | None = None
    capd_baseline_total: int | None = Field(default=None, ge=0, le=32)
    sedation_scale: tox.SedationScale | None = None
    sedation_score: int | None = Field(default=None, ge=-5, le=4)
    neuromuscular_blockade: bool | None = None
    # §7.4 Consciousness, seizure, motor, ICP
    loc: tox.Loc | None = None
    loc_other_cause: bool | None = None
    sedating_drug_active: bool | None = None
    clinical_seizure: bool | None = None
    clinical_seizure_other_cause: bool | None = None
    seizure_type: tox.SeizureType | None = None
    seizure_duration_max_min: float | None = Field(default=None, ge=0, le=1440)
    clinical_seizure_resolved_rapidly: bool | None = None
    eeg_nonconvulsive_seizure: bool | None = None
    eeg_nonconvulsive_seizure_other_cause: bool | None = None
    eeg_seizure_resolved_with_intervention: bool | None = None
    eeg_seizure_responded_to_benzodiazepine: bool | None = None
    seizures_repetitive_no_return_to_baseline: bool | None = None
    status_epilepticus: tox.StatusEpilepticus | None = None
    seizure_history_prior: bool | None = None
    deep_focal_motor_weakness: tox.MotorWeakness | None = None
    deep_focal_motor_weakness_other_cause: bool | None = None
    new_motor_weakness: bool | None = None
    new_motor_weakness_other_cause: bool | None = None
    imaging_oedema: tox.ImagingOedema | None = None
    imaging_oedema_other_cause: bool | None = None
    intracranial_haemorrhage: bool | None = None
    posturing: tox.Posturing | None = None
    posturing_other_cause: bool | None = None
    cn6_palsy: bool | None = None
    cn6_palsy_other_cause: bool | None = None
    papilloedema: bool | None = None
    papilloedema_other_cause: bool | None = None
    papilloedema_frisen_stage: int | None = Field(default=None, ge=0, le=5)
    csf_opening_pressure_mmHg: float | None = Field(default=None, ge=0, le=100)
    csf_opening_pressure_uln_mmHg: float | None = Field(default=None, gt=0, le=100)
    cushing_triad: bool | None = None
    cushing_triad_other_cause: bool | None = None
    tremor_severity: tox.Severity | None = None
    myoclonus_severity: tox.Severity | None = None
    death_due_to_icans: bool | None = None
    death_due_to_cres: bool | None = None
    death_due_to_iec_hs: bool | None = None
    # §7.5 CTCAE clinical-severity entries, one item per term
    ctcae_term_assessments: list[tox.CtcaeTermAssessment] | None = Field(default=None, max_length=60)
    # §7.6 Laboratory and vital signs (canonical units of interop.md §1.1; {"value", "unit"} converted)
    alt: Annotated[float | None, tox.plausible("alt")] = None
    alt_uln: float | None = Field(default=None, gt=0, le=30000)
    alt_baseline: Annotated[float | None, tox.plausible("alt")] = None
    ast: Annotated[float | None, tox.plausible("ast")] = None
    ast_uln: float | None = Field(default=None, gt=0, le=30000)
    ast_baseline: Annotated[float | None, tox.plausible("ast")] = None
    bilirubin_total: Annotated[float | None, tox.plausible("bilirubin_total")] = None
    bilirubin_total_uln: float | None = Field(default=None, gt=0, le=100)
    bilirubin_total_baseline: Annotated[float | None, tox.plausible("bilirubin_total")] = None
    bilirubin_direct: float | None = Field(default=None, ge=0, le=100)
    bilirubin_direct_uln: float | None = Field(default=None, gt=0, le=100)
    creatinine: Annotated[float | None, tox.plausible("creatinine")] = None
    creatinine_uln: Annotated[float | None, tox.plausible("creatinine")] = None
    creatinine_baseline: Annotated[float | None, tox.plausible("creatinine")] = None
    anc: Annotated[float | None, tox.plausible("anc")] = None
    anc_lln: float | None = Field(default=None, gt=0, le=500)
    anc_series: list[tox.AncPoint] | None = Field(default=None, max_length=2000)
    platelets: Annotated[float | None, tox.plausible("platelets")] = None
    platelets_lln: float | None = Field(default=None, gt=0, le=3000)
    platelet_series: list[tox.PlateletPoint] | None = Field(default=None, max_length=2000)
    platelet_transfusion_datetimes: list[datetime] | None = Field(default=None, max_length=400)
    hemoglobin: Annotated[float | None, tox.plausible("hemoglobin")] = None
    hemoglobin_lln: Annotated[float | None, tox.plausible("hemoglobin")] = None
    rbc_transfusion_indicated: bool | None = None
    wbc: Annotated[float | None, tox.plausible("wbc")] = None
    wbc_lln: float | None = Field(default=None, gt=0, le=1000)
    alc: Annotated[float | None, tox.plausible("lymphocytes_abs")] = None
    alc_lln: float | None = Field(default=None, gt=0, le=1000)
    fibrinogen: Annotated[float | None, tox.plausible("fibrinogen")] = None
    fibrinogen_lln: float | None = Field(default=None, gt=0, le=2000)
    fibrinogen_baseline: Annotated[float | None, tox.plausible("fibrinogen")] = None
    inr: Annotated[float | None, tox.plausible("inr")] = None
    inr_baseline: Annotated[float | None, tox.plausible("inr")] = None
    on_anticoagulation: bool | None = None
    aptt: Annotated[float | None, tox.plausible("aptt")] = None
    aptt_uln: Annotated[float | None, tox.plausible("aptt")] = None
    clinically_significant_bleeding: bool | None = None
    ferritin: Annotated[float | None, tox.plausible("ferritin")] = None
    ferritin_uln: float | None = Field(default=None, gt=0, le=500000)
    ferritin_at_infusion: Annotated[float | None, tox.plausible("ferritin")] = None
    ferritin_rapidly_rising: bool | None = None
    ldh: Annotated[float | None, tox.plausible("ldh")] = None
    ldh_uln: float | None = Field(default=None, gt=0, le=50000)
    triglycerides_fasting: Annotated[float | None, tox.plausible("triglycerides")] = None
    temperature_above_40_duration_h: float | None = Field(default=None, ge=0, le=720)
    spo2_rest: Annotated[float | None, tox.plausible("spo2")] = None
    spo2_exertion: Annotated[float | None, tox.plausible("spo2")] = None
    pao2_mmHg: float | None = Field(default=None, ge=10, le=700)
    heart_rate: Annotated[float | None, tox.plausible("heart_rate")] = None
    sinus_rhythm: bool | None = None
    lvef_percent: float | None = Field(default=None, ge=0, le=100)
    lvef_baseline_percent: float | None = Field(default=None, ge=0, le=100)
    g_csf_given: bool | None = None
    # §7.7 IEC-HS
    crs_status: tox.CrsStatus | None = None
    crs_resolution_datetime: datetime | None = None
    new_or_worsening_cytopenia: bool | None = None
    haemophagocytosis_tissue: tox.HaemophagocytosisTissue | None = None
    new_splenomegaly: bool | None = None
    iec_hs_directed_therapy: list[tox.IecHsTherapy] | None = Field(default=None, max_length=7)
    fibrinogen_replacement_given: bool | None = None
    iec_hs_hospitalisation: tox.IecHsHospitalisation | None = None
    vasopressor_for_iec_hs: bool | None = None
    ppv_or_mechanical_ventilation_for_iec_hs: bool | None = None
    rrt_for_iec_hs: bool | None = None
    iec_hs_clinician_confirmed: bool | None = None
    # §5.3 rule 9: clinician confirms a single late ICAHT value as non-transient
    icaht_late_non_transient: bool | None = None
    ticaht_late_non_transient: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _scores_from_items(cls, data: Any) -> Any:
        """ICE, CARTOX-10 and CAPD totals from their items (other-toxicities.md §1.2, §1.5.1, §2.1)."""
        return tox.reconcile_scores(dict(data)) if isinstance(data, dict) else data

    @field_validator(*tox.DATETIME_FIELDS)
    @classmethod
    def _aware(cls, value: Any, info: ValidationInfo) -> Any:
        """Times carry their zone: a naive time is rejected, not guessed (ARCHITECTURE "Time", §0.2)."""
        for moment in value if isinstance(value, list) else [value]:
            if isinstance(moment, datetime) and moment.tzinfo is None:
                raise ValueError(f"{moment.isoformat()} has no time zone; give an offset such as +00:00")
        return value

    @field_validator(*tox.LAB_QUANTITY, mode="before")
    @classmethod
    def _lab_units(cls, value: Any, info: ValidationInfo) -> Any:
        """A lab value with its unit is converted once, with the interop factors (other-toxicities.md §0.6)."""
        return tox.lab_to_canonical(str(info.field_name), value)

    @field_validator("o2_device", mode="before")
    @classmethod
    def _device_synonyms(cls, value: Any) -> Any:
        return O2_DEVICE_SYNONYMS.get(value, value) if isinstance(value, str) else value

    @field_validator("fio2")
    @classmethod
    def _fio2_percent_or_fraction(cls, value: float | None) -> float | None:
        if value is not None and 1.0 < value < 21.0:
            raise ValueError(
                f"fio2 {value} is neither a percentage (21-100) nor a fraction (0.21-1.00) (crs-grading.md §2.4, A23)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Snapshot:
        for problem in consistency_problems(self.model_dump(exclude_none=True)):
            raise ValueError(problem)
        return self


def fahrenheit_to_celsius(temperature_f: float) -> float:
    """°F → °C rounded to 2 decimals, the conversion the spec prescribes (crs-grading.md §2.2)."""
    return round((temperature_f - 32.0) * 5.0 / 9.0, 2)


#: Largest tolerated difference between temperature_c and converted temperature_f (crs-grading.md §2.2).
TEMPERATURE_CONSISTENCY_C = 0.1


def consistency_problems(values: dict[str, Any]) -> list[str]:
    """Cross-field rules of crs-grading.md §2 that a single field's range cannot express."""
    problems = []
    t_c, t_f = values.get("temperature_c"), values.get("temperature_f")
    if t_c is not None and t_f is not None and abs(fahrenheit_to_celsius(t_f) - t_c) > TEMPERATURE_CONSISTENCY_C:
        problems.append(
            f"temperature_c {t_c} and temperature_f {t_f} (= {fahrenheit_to_celsius(t_f)} °C) differ by more than "
            f"{TEMPERATURE_CONSISTENCY_C} °C; give one of them (crs-grading.md §2.2)"
        )
    organ, creatinine = values.get("organ_toxicity_max_grade"), values.get("creatinine_grade")
    if organ is not None and creatinine is not None and organ < creatinine:
        problems.append(
            f"organ_toxicity_max_grade {organ} must be >= creatinine_grade {creatinine} (crs-grading.md §2.5)"
        )
    problems.extend(tox.consistency_problems(values))
    if values.get("death_from_crs") is True and values.get("crs_attributed") is False:
        problems.append(
            "death_from_crs is true but crs_attributed is false: a death caused by CRS requires the findings to be "
            "attributed to CRS (crs-grading.md D9, D11)"
        )
    return problems


SNAPSHOT_FIELDS: tuple[str, ...] = tuple(Snapshot.model_fields)
