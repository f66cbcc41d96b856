"""Input vocabulary of the non-CRS toxicities (other-toxicities.md §7): enums, list items and the ICE/CAPD scores.

The `Snapshot` (crsguard.model.snapshot) carries these fields; this module holds what they are made of, so the
snapshot stays one flat, closed record. Scores are computed from their items here, once (§1.2, §1.5.1, §2.1):
a total may be given alone, but when the items are given as well they must agree with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

from annotated_types import Interval
from pydantic import BaseModel, ConfigDict, Field, model_validator

from crsguard.model.vocabulary import QUANTITIES, to_canonical


class IceStatus(StrEnum):
    """Whether the ICE screen was obtained (§7.2); "not assessable" is never a score of 0 (§0.5)."""

    assessed = "assessed"
    not_assessable_unarousable = "not_assessable_unarousable"
    not_assessable_sedation = "not_assessable_sedation"
    not_assessable_intubated_awake = "not_assessable_intubated_awake"
    not_assessable_language = "not_assessable_language"
    not_assessable_other = "not_assessable_other"


class CapdStatus(StrEnum):
    """Whether the CAPD was obtained (§7.3)."""

    assessed = "assessed"
    not_assessable_sedation = "not_assessable_sedation"
    not_assessable_unarousable = "not_assessable_unarousable"
    not_assessable_nmb = "not_assessable_nmb"
    not_assessable_other = "not_assessable_other"


class CapdResponse(StrEnum):
    """The nurse's rating of one CAPD item over the shift (§1.5.1)."""

    never = "never"
    rarely = "rarely"
    sometimes = "sometimes"
    often = "often"
    always = "always"


class SedationScale(StrEnum):
    rass = "rass"
    sbs = "sbs"
    none = "none"


class Loc(StrEnum):
    """Level of consciousness in ASTCT terms (§7.4), least to most depressed."""

    alert = "alert"
    awakens_spontaneously = "awakens_spontaneously"
    awakens_to_voice = "awakens_to_voice"
    awakens_only_to_tactile = "awakens_only_to_tactile"
    vigorous_or_repetitive_tactile = "vigorous_or_repetitive_tactile"
    unarousable = "unarousable"
    stupor = "stupor"
    coma = "coma"


class SeizureType(StrEnum):
    focal = "focal"
    generalised = "generalised"
    unknown = "unknown"


class StatusEpilepticus(StrEnum):
    none = "none"
    convulsive = "convulsive"
    non_convulsive = "non_convulsive"


class MotorWeakness(StrEnum):
    none = "none"
    hemiparesis = "hemiparesis"
    paraparesis = "paraparesis"
    other_deep_focal = "other_deep_focal"


class ImagingOedema(StrEnum):
    none = "none"
    focal = "focal"
    diffuse = "diffuse"
    not_done = "not_done"


class Posturing(StrEnum):
    none = "none"
    decerebrate = "decerebrate"
    decorticate = "decorticate"


class Severity(StrEnum):
    """Clinician rating of symptoms (§7.4 tremor/myoclonus, §7.5 symptom_severity), least to most severe."""

    none = "none"
    mild = "mild"
    moderate = "moderate"
    severe = "severe"


class AdlLimitation(StrEnum):
    none = "none"
    instrumental = "instrumental"
    self_care = "self_care"


class InterventionLevel(StrEnum):
    none = "none"
    non_urgent = "non_urgent"
    medical_hospitalisation = "medical_hospitalisation"
    urgent = "urgent"


class TherapyClass(StrEnum):
    car_t = "car_t"
    tce = "tce"
    tcr_t = "tcr_t"
    til = "til"
    nk = "nk"
    other_iec = "other_iec"


class ProductTarget(StrEnum):
    cd19 = "cd19"
    bcma = "bcma"
    cd22 = "cd22"
    gprc5d = "gprc5d"
    cd20 = "cd20"
    other = "other"


class CrsStatus(StrEnum):
    """CRS course for the IEC-HS onset criterion (§7.7, A-25)."""

    never = "never"
    active = "active"
    resolving = "resolving"
    resolved = "resolved"
    reworsening_after_therapy = "reworsening_after_therapy"


class HaemophagocytosisTissue(StrEnum):
    none = "none"
    bone_marrow = "bone_marrow"
    other_tissue = "other_tissue"
    not_examined = "not_examined"


class IecHsTherapy(StrEnum):
    none = "none"
    corticosteroid = "corticosteroid"
    anakinra = "anakinra"
    ruxolitinib = "ruxolitinib"
    emapalumab = "emapalumab"
    etoposide = "etoposide"
    other = "other"


class IecHsHospitalisation(StrEnum):
    none = "none"
    new_admission = "new_admission"
    prolonged_stay = "prolonged_stay"


#: Ordered enums: the grading frame compares their rank (index in this order).
ORDERED_ENUMS: dict[str, type[StrEnum]] = {
    "severity": Severity,
    "adl": AdlLimitation,
    "intervention": InterventionLevel,
}


# ---------------------------------------------------------------------------------------------------- ICE
#: ICE items and their maxima (§1.2 [P]); the total is their sum, 10 = no impairment.
ICE_ITEMS: dict[str, int] = {
    "ice_orientation": 4,
    "ice_naming": 3,
    "ice_commands": 1,
    "ice_writing": 1,
    "ice_attention": 1,
}
#: Optional per-question detail of the orientation item (§7.2); their sum must equal `ice_orientation`.
ICE_ORIENTATION_QUESTIONS = ("ice_orient_year", "ice_orient_month", "ice_orient_city", "ice_orient_hospital")
#: CARTOX-10 = ICE orientation + head of state + naming + writing + attention (§2.1, §7.2); no command item.
CARTOX_ITEMS = (
    "ice_orientation",
    "cartox_orient_head_of_state",
    "ice_naming",
    "ice_writing",
    "ice_attention",
)

# --------------------------------------------------------------------------------------------------- CAPD
CAPD_ITEMS = tuple(f"capd_item{i}" for i in range(1, 9))
#: Items 1-4 are reverse-scored: "never" is the worst answer (§1.5.1 [P]).
CAPD_REVERSED = frozenset(CAPD_ITEMS[:4])
_CAPD_ORDER = tuple(CapdResponse)


def capd_points(item: str, response: CapdResponse | str) -> int:
    """Points of one CAPD answer (0-4), items 1-4 reversed (Traube 2014, §1.5.1)."""
    rank = _CAPD_ORDER.index(CapdResponse(response))
    return 4 - rank if item in CAPD_REVERSED else rank


def _sum_if_complete(values: Mapping[str, Any], items: tuple[str, ...]) -> int | None:
    parts = [values.get(i) for i in items]
    numbers = [p for p in parts if isinstance(p, int) and not isinstance(p, bool)]
    return sum(numbers) if len(numbers) == len(parts) else None


def _reconcile(
    values: dict[str, Any], total: str, computed: int | None, items: tuple[str, ...], ref: str
) -> None:
    """Fill `total` from its items, or reject a given total that disagrees with them."""
    if computed is None:
        return
    given = values.get(total)
    if given is None:
        values[total] = computed
    elif given != computed:
        raise ValueError(
            f"{total} {given!r} disagrees with the sum of its items {', '.join(items)} = {computed}; give the items "
            f"alone or a matching total ({ref})"
        )


def reconcile_scores(values: dict[str, Any]) -> dict[str, Any]:
    """Compute ICE, CARTOX-10 and CAPD totals from their items (§1.2, §2.1, §1.5.1, §7.2-7.3).

    Items out of range are left to field validation; a total is computed only from complete, valid items.
    """
    out = dict(values)
    questions = _sum_if_complete(out, ICE_ORIENTATION_QUESTIONS)
    if questions is not None and all(out[q] in (0, 1) for q in ICE_ORIENTATION_QUESTIONS):
        _reconcile(out, "ice_orientation", questions, ICE_ORIENTATION_QUESTIONS, "other-toxicities.md §7.2")
    items_valid = all(isinstance(out.get(i), int) and 0 <= out[i] <= top for i, top in ICE_ITEMS.items())
    if items_valid:
        _reconcile(
            out,
            "ice_total",
            _sum_if_complete(out, tuple(ICE_ITEMS)),
            tuple(ICE_ITEMS),
            "other-toxicities.md §1.2, §7.2",
        )
    if items_valid and out.get("cartox_orient_head_of_state") in (0, 1):
        _reconcile(
            out,
            "cartox_total",
            _sum_if_complete(out, CARTOX_ITEMS),
            CARTOX_ITEMS,
            "other-toxicities.md §2.1, §7.2",
        )
    answers = [out.get(i) for i in CAPD_ITEMS]
    if all(a is not None and str(a) in CapdResponse.__members__ for a in answers):
        total = sum(capd_points(i, str(a)) for i, a in zip(CAPD_ITEMS, answers, strict=True))
        _reconcile(out, "capd_total", total, CAPD_ITEMS, "other-toxicities.md §1.5.1, §7.3")
    return out


# ------------------------------------------------------------------------------------------------ labs
#: Snapshot field -> interop quantity whose canonical unit and factors it uses (other-toxicities.md §0.6,
#: interop.md §1.2). A value may be given as a number in the canonical unit or as {"value": v, "unit": u}.
LAB_QUANTITY: dict[str, str] = {
    **dict.fromkeys(("alt", "alt_uln", "alt_baseline"), "alt"),
    **dict.fromkeys(("ast", "ast_uln", "ast_baseline"), "ast"),
    **dict.fromkeys(
        ("bilirubin_total", "bilirubin_total_uln", "bilirubin_total_baseline"), "bilirubin_total"
    ),
    **dict.fromkeys(("creatinine", "creatinine_uln", "creatinine_baseline"), "creatinine"),
    **dict.fromkeys(("anc", "anc_lln"), "anc"),
    **dict.fromkeys(("platelets", "platelets_lln"), "platelets"),
    **dict.fromkeys(("hemoglobin", "hemoglobin_lln"), "hemoglobin"),
    **dict.fromkeys(("wbc", "wbc_lln"), "wbc"),
    **dict.fromkeys(("alc", "alc_lln"), "lymphocytes_abs"),
    **dict.fromkeys(("fibrinogen", "fibrinogen_lln", "fibrinogen_baseline"), "fibrinogen"),
    **dict.fromkeys(("inr", "inr_baseline"), "inr"),
    **dict.fromkeys(("aptt", "aptt_uln"), "aptt"),
    **dict.fromkeys(("ferritin", "ferritin_uln", "ferritin_at_infusion"), "ferritin"),
    **dict.fromkeys(("ldh", "ldh_uln"), "ldh"),
    "triglycerides_fasting": "triglycerides",
    **dict.fromkeys(("spo2_rest", "spo2_exertion"), "spo2"),
    "heart_rate": "heart_rate",
}


def plausible(quantity: str) -> Interval:
    """Field bounds from the plausible range of interop.md §1.1 (one definition, in the vocabulary)."""
    spec = QUANTITIES[quantity]
    return Interval(ge=spec.plausible_min, le=spec.plausible_max)


def lab_to_canonical(field: str, value: Any) -> Any:
    """{"value": v, "unit": u} → v in the canonical unit with the interop factors; a number passes unchanged."""
    if not isinstance(value, Mapping):
        return value
    unknown = set(value) - {"value", "unit"}
    if unknown or "value" not in value:
        raise ValueError(
            f"give a number in {QUANTITIES[LAB_QUANTITY[field]].canonical_unit} or "
            '{"value": number, "unit": text}'
        )
    number = value["value"]
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise ValueError(f"value {number!r} is not a number")
    return to_canonical(LAB_QUANTITY[field], float(number), value.get("unit"))


# ------------------------------------------------------------------------------------------------ list items
class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _CountPoint(_Closed):
    """One count result of a series (§7.6): its time (or day number) and value in 10⁹/L."""

    QUANTITY: ClassVar[str]
    FIELD: ClassVar[str]
    datetime: dt.datetime | None = None
    study_day: int | None = Field(default=None, ge=-400, le=4000)
    value: float = Field(ge=0, le=3000)

    @model_validator(mode="before")
    @classmethod
    def _units(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("value"), Mapping):
            return {**data, "value": lab_to_canonical(cls.QUANTITY, data["value"])}
        return data

    @model_validator(mode="after")
    def _timed(self) -> _CountPoint:
        if self.datetime is None and self.study_day is None:
            raise ValueError(f"a {self.FIELD} item needs datetime or study_day (other-toxicities.md §7.6)")
        if self.datetime is not None and self.datetime.tzinfo is None:
            raise ValueError(f"{self.FIELD} datetime must carry a time zone (other-toxicities.md §0.2)")
        return self


class AncPoint(_CountPoint):
    """One ANC result of `anc_series` (§7.6, ICAHT)."""

    QUANTITY = "anc"
    FIELD = "anc_series"
    value: float = Field(ge=0, le=500)


class PlateletPoint(_CountPoint):
    """One platelet result of `platelet_series` (§7.6, T-ICAHT)."""

    QUANTITY = "platelets"
    FIELD = "platelet_series"


class CtcaeTermAssessment(_Closed):
    """Clinician severity entries for one CTCAE v5.0 term (§7.5); the term is named by its snake-case id."""

    ctcae_term: str
    symptom_severity: Severity = Severity.none
    adl_limitation: AdlLimitation = AdlLimitation.none
    intervention_level: InterventionLevel = InterventionLevel.none
    life_threatening: bool = False
    hospitalisation_indicated: bool = False
    dialysis_indicated: bool = False

    @model_validator(mode="after")
    def _known_term(self) -> CtcaeTermAssessment:
        if self.ctcae_term not in CTCAE_ASSESSED_TERMS:
            raise ValueError(
                f"ctcae_term {self.ctcae_term!r} is not a term graded from clinician entries; allowed: "
                f"{', '.join(CTCAE_ASSESSED_TERMS)} (other-toxicities.md §7.5)"
            )
        return self


#: Item fields of `CtcaeTermAssessment` → the suffix of their flattened grading column (§7.5).
TERM_ASSESSMENT_COLUMNS: dict[str, str] = {
    "symptom_severity": "severity",
    "adl_limitation": "adl",
    "intervention_level": "intervention",
    "life_threatening": "life_threatening",
    "hospitalisation_indicated": "hospitalisation",
    "dialysis_indicated": "dialysis",
}

#: Snapshot fields holding times (§7.1, §7.6-7.7); each must carry a time zone.
DATETIME_FIELDS = (
    "infusion_datetime",
    "lymphodepletion_start_datetime",
    "assessment_datetime",
    "progression_datetime",
    "next_therapy_datetime",
    "death_datetime",
    "last_followup_datetime",
    "crs_resolution_datetime",
    "platelet_transfusion_datetimes",
)

#: CTCAE v5.0 terms that take clinician entries in `ctcae_term_assessments` (§7.5, A-26); the grading tables in
#: crsguard/grading/ctcae/terms.yaml name the same set (checked by a test).
CTCAE_ASSESSED_TERMS: tuple[str, ...] = (
    "encephalopathy",
    "seizure",
    "somnolence",
    "depressed_level_of_consciousness",
    "dysphasia",
    "tremor",
    "confusion",
    "delirium",
    "edema_cerebral",
    "dysarthria",
    "headache",
    "movements_involuntary",
    "muscle_weakness_left_sided",
    "muscle_weakness_right_sided",
    "hepatic_failure",
    "acute_kidney_injury",
    "anemia",
    "febrile_neutropenia",
    "disseminated_intravascular_coagulation",
    "hypoxia",
    "hypotension",
    "sinus_tachycardia",
    "heart_failure",
    "left_ventricular_systolic_dysfunction",
)


def consistency_problems(values: Mapping[str, Any]) -> list[str]:
    """Cross-field rules of other-toxicities.md §7 that one field's range cannot express."""
    problems = []
    terms = [item.get("ctcae_term") for item in values.get("ctcae_term_assessments") or ()]
    repeated = sorted({t for t in terms if terms.count(t) > 1})
    if repeated:
        problems.append(
            f"ctcae_term_assessments: term(s) {', '.join(repeated)} given more than once; give one entry "
            "per term (other-toxicities.md §7.5)"
        )
    if values.get("ice_status") not in (None, IceStatus.assessed) and values.get("ice_total") is not None:
        problems.append(
            f"ice_total {values['ice_total']} given with ice_status {values['ice_status']!s}: a score "
            "that could not be obtained is null, never 0 (other-toxicities.md §0.5)"
        )
    if values.get("capd_status") not in (None, CapdStatus.assessed) and values.get("capd_total") is not None:
        problems.append(
            f"capd_total {values['capd_total']} given with capd_status {values['capd_status']!s}: a score "
            "that could not be obtained is null, never 0 (other-toxicities.md §0.5)"
        )
    problems.extend(_sedation_problems(values))
    return problems


#: §1.5.1: the CAPD cannot be scored at RASS -4/-5 or SBS -2/-3, nor under neuromuscular blockade [P/S].
CAPD_MAX_SEDATION = {SedationScale.rass: -4, SedationScale.sbs: -2}


def _sedation_problems(values: Mapping[str, Any]) -> list[str]:
    problems = []
    scale = values.get("sedation_scale")
    score = values.get("sedation_score")
    if scale is not None and score is not None and values.get("capd_total") is not None:
        name = SedationScale(scale)
        limit = CAPD_MAX_SEDATION.get(name)
        if limit is not None and score <= limit:
            problems.append(f"capd_total given at {name.value} {score}: the CAPD cannot be scored at {name.value} "
                            f"<= {limit}; record capd_status not_assessable_sedation (other-toxicities.md §1.5.1)")
    if values.get("neuromuscular_blockade") is True:
        for total in ("ice_total", "capd_total"):
            if values.get(total) is not None:
                problems.append(f"{total} given under neuromuscular blockade: not assessable "
                                "(other-toxicities.md §1.5.1, §7.3)")
    return problems
