"""The patient state the recommendation engine reads (management.md §2).

The state carries grades already computed by the grading modules (`astct2019`, `astct2019_icans`,
`iechs2023`);
this package never grades (management.md §0.2 "Grades"). Every model is closed (`extra="forbid"`): an unknown
key is an error naming the key and the allowed ones, never silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from crsguard.management.vocabulary import (
    CrsStatus,
    DosePurpose,
    Drug,
    Product,
    ResponseState,
    therapy_class_of,
)
from crsguard.model.toxicity import TherapyClass

Grade = Annotated[int, Field(ge=0, le=5)]
Hours = Annotated[float, Field(ge=0)]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeightSource(StrEnum):
    """management.md §2 `weight_kg`: measured, dosing weight (fallback), or the pre-infusion record."""

    MEASURED = "measured"
    DOSING = "dosing"
    PRE_INFUSION = "pre_infusion"


class CrsState(_Closed):
    """Current CRS picture from the `astct2019` grading module and the timeline (§1.1, §1.5)."""

    grade: Grade = Field(description="Current astct2019 grade (0–5), from the grading module")
    drivers: list[str] = Field(default_factory=list, description="Criteria that set the grade")
    missing: list[str] = Field(default_factory=list, description="Inputs the grading module lacked")
    lower_bound: bool = Field(False, description="The grading module marked the grade as a lower bound")
    onset: AwareDatetime | None = Field(None, description="t_crs_onset: first CRS fever of the episode (1.5)")
    grade_since: AwareDatetime | None = Field(None, description="When the current grade was first reached")
    status: CrsStatus | None = Field(None, description="crs_status (other-toxicities §7.7)")
    attributed: bool | None = Field(
        None, description="crs_attributed; default true inside the product's risk window (§3.2 CRS-0)"
    )
    hypotension_present: bool | None = Field(None, description="Derived hypotension_present (G-5)")
    fluid_boluses_for_bp: int | None = Field(None, ge=0, description="Fluid boluses for blood pressure")
    oxy_tier: int | None = Field(None, ge=0, le=3, description="0 none, 1 low flow, 2 high flow, 3 positive pressure")
    fever_masked: bool | None = Field(None, description="fever_masked (G-1)")
    premedicated: bool = Field(False, description="Premedication or prophylaxis may hide a fever (G-1, 8.1)")
    response: ResponseState | None = Field(None, description="response_state for CRS (1.5)")


class IcansState(_Closed):
    """Current ICANS grade from `astct2019_icans` (management.md §1.3, §5)."""

    grade: Grade
    drivers: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="Inputs the grading module lacked")
    lower_bound: bool = Field(False, description="The grading module marked the grade as a lower bound")
    onset: AwareDatetime | None = None
    grade_since: AwareDatetime | None = None
    response: ResponseState | None = None
    seizure: bool = Field(False, description="Any clinical or EEG seizure in the window (5.5, 5.6)")
    cerebral_oedema: bool = Field(False, description="Suspected cerebral oedema (5.5, 5.6)")


class IecHsState(_Closed):
    """IEC-HS screen and clinician assessment (management.md §6; grade from `iechs2023`)."""

    screen_positive: bool | None = Field(None, description="6.1 screen result from the grading module")
    clinician_confirmed: bool | None = Field(None, description="iec_hs_clinician_confirmed (E37)")
    grade: Grade | None = None
    no_response_48h: bool | None = Field(None, description="Clinician-entered: no response by ~48 h (E39)")
    haemodynamic_or_respiratory_compromise: bool = False


class DoseGiven(_Closed):
    """One administration from `meds_administered[]` (management.md §2). Times are administration starts."""

    drug: Drug
    dose_mg: float = Field(gt=0)
    start: AwareDatetime
    route: str | None = None
    purpose: DosePurpose = DosePurpose.TREATMENT


class TemperatureReading(_Closed):
    """One `body_temperature` reading in °C (management.md §2)."""

    time: AwareDatetime
    temperature_c: float = Field(ge=30, le=45)


class Flags(_Closed):
    """Clinician-set flags of management.md §2 (absent = not set by the clinician)."""

    infection_suspected: bool = False
    neutropenic_fever: bool = False
    anc_expected_below_0_5: bool = False
    high_risk: bool = False
    toci_unavailable: bool = False


class Labs(_Closed):
    """Laboratory values in the canonical units of §0.2 (counts: lowest value in the window)."""

    anc: float | None = Field(None, ge=0, description="10⁹/L")
    platelets: float | None = Field(None, ge=0, description="10⁹/L")
    alt: float | None = Field(None, ge=0, description="U/L")
    ast: float | None = Field(None, ge=0, description="U/L")
    alt_uln: float | None = Field(None, gt=0)
    ast_uln: float | None = Field(None, gt=0)
    fibrinogen: float | None = Field(None, ge=0, description="mg/dL")
    clinically_significant_bleeding: bool | None = None


class PatientState(_Closed):
    """Everything the engine reads at one evaluation time (management.md §2).

    `doses_given` holds the doses of the current treatment course (CAR-T: since infusion; prophylactic doses
    included, A13). Times must carry a UTC offset; naive times are rejected (ARCHITECTURE "Time").
    """

    evaluated_at: AwareDatetime
    product: Product
    therapy_class: TherapyClass | None = Field(None, description="Derived from product when absent")
    infusion_datetime: AwareDatetime = Field(description="t0: CAR-T infusion or bispecific step-up dose 1")
    age_years: float | None = Field(None, ge=0, le=130)
    weight_kg: float | None = Field(None, description="Latest measured weight (plausible 0.5–350 kg)")
    weight_time: AwareDatetime | None = None
    weight_source: WeightSource = WeightSource.MEASURED
    previous_weight_kg: float | None = Field(None, gt=0)
    weight_confirmed: bool = Field(False, description="User confirmed the weight after a > 10 % change (4.10)")
    crcl_ml_min: float | None = Field(None, ge=0)
    on_haemodialysis: bool = False
    temperature_c: float | None = Field(None, ge=30, le=45, description="Highest reading in the window")
    body_temperature: list[TemperatureReading] = Field(default_factory=list)
    crs: CrsState
    icans: IcansState | None = None
    iechs: IecHsState | None = None
    doses_given: list[DoseGiven] = Field(default_factory=list)
    flags: Flags = Field(default_factory=Flags)
    labs: Labs = Field(default_factory=Labs)
    bsab_last_dose_time: AwareDatetime | None = None
    step_up_dose_number: int | None = Field(None, ge=1, description="Last bispecific step-up dose given (1 = first)")
    discharge_review: bool = Field(False, description="Discharge or outpatient review: show follow-up dates (7.4)")
    neurological_event_this_course: bool = Field(
        False,
        description="Any ICANS or other neurological event since t0 (extends the no-driving period, 7.4)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> PatientState:
        derived = therapy_class_of(self.product)
        if self.therapy_class is not None and derived is not None and self.therapy_class is not derived:
            raise ValueError(
                f"therapy_class {self.therapy_class.value!r} contradicts product {self.product.value!r} "
                f"(which is {derived.value!r})"
            )
        for reading in (self.weight_time, self.crs.onset, self.bsab_last_dose_time):
            if reading is not None and reading > self.evaluated_at:
                raise ValueError(f"time {reading.isoformat()} lies after evaluated_at")
        if any(dose.start > self.evaluated_at for dose in self.doses_given):
            raise ValueError("doses_given: a dose start lies after evaluated_at (doses must already have started)")
        return self

    @property
    def resolved_therapy_class(self) -> TherapyClass | None:
        """Therapy class as given or derived from the product; None when out of scope."""
        return self.therapy_class or therapy_class_of(self.product)

    def hours_since(self, moment: datetime | None) -> float | None:
        """Hours from `moment` to the evaluation time; None when the moment is unknown."""
        if moment is None:
            return None
        return (self.evaluated_at - moment).total_seconds() / 3600.0
