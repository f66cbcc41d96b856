"""`iechs2023` — IEC-associated HLH-like syndrome (Hines MR et al., Transplant Cell Ther 2023; other-toxicities.md
§4): the screening rule of §4.2 and the grade anchors of §4.3, all reconstructed [R].

The engine never declares IEC-HS by itself: every grade needs the clinician's confirmation
(`iec_hs_clinician_confirmed`); when the criteria are met without it the grade stays 0 with the warning
"criteria met – requires clinical confirmation" (§4.2).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from crsguard.grading.engine import Criterion, GradingSystem, Options, SystemCaution
from crsguard.grading.inputs import Inputs
from crsguard.grading.toxicity_inputs import IEC_HS_THERAPY_GIVEN
from crsguard.model import toxicity as tox

REF = "other-toxicities.md §4"
TOXICITY = "iechs"

#: §4.2: ferritin > 2 × ULN or > 2 × the value at infusion [R].
FERRITIN_FOLD = 2.0
#: §4.2: ALT/AST > 5 × ULN (baseline normal) or > 5 × baseline (baseline abnormal) [R].
TRANSAMINASE_FOLD = 5.0
#: §4.2: fibrinogen < 150 mg/dL or < LLN [R].
FIBRINOGEN_LOW_MG_DL = 150.0


def ferritin_criterion(x: Inputs) -> pl.Expr:
    """Ferritin > 2 × ULN, > 2 × the infusion value, or rising rapidly by clinical judgement (§4.2)."""
    ferritin = x("ferritin")
    return (
        (ferritin > FERRITIN_FOLD * x("ferritin_uln"))
        | (ferritin > FERRITIN_FOLD * x("ferritin_at_infusion"))
        | x("ferritin_rapidly_rising")
    )


def onset_criterion(x: Inputs) -> pl.Expr:
    """Onset with CRS resolving or resolved, re-worsening after CRS therapy, or without CRS (A-25) [L]."""
    return x("crs_status") != tox.CrsStatus.active.value


def _transaminase(x: Inputs, analyte: str) -> pl.Expr:
    value, uln, baseline = x(analyte), x(f"{analyte}_uln"), x(f"{analyte}_baseline")
    normal = pl.when(baseline.is_null()).then(True).otherwise(baseline <= uln)
    return pl.when(normal).then(value > TRANSAMINASE_FOLD * uln).otherwise(value > TRANSAMINASE_FOLD * baseline)


def supporting_elements(x: Inputs) -> pl.Expr:
    """At least one of: transaminases, hypofibrinogenaemia, cytopenia, haemophagocytosis (§4.2)."""
    fibrinogen = x("fibrinogen")
    tissue = x("haemophagocytosis_tissue")
    return (
        _transaminase(x, "alt")
        | _transaminase(x, "ast")
        | (fibrinogen < FIBRINOGEN_LOW_MG_DL)
        | (fibrinogen < x("fibrinogen_lln"))
        | x("new_or_worsening_cytopenia")
        | tissue.is_in([tox.HaemophagocytosisTissue.bone_marrow.value, tox.HaemophagocytosisTissue.other_tissue.value])
    )


def criteria_met(x: Inputs) -> pl.Expr:
    """§4.2 screening rule: ferritin AND onset AND at least one supporting element."""
    return ferritin_criterion(x) & onset_criterion(x) & supporting_elements(x)


def confirmed(x: Inputs) -> pl.Expr:
    return criteria_met(x) & x("iec_hs_clinician_confirmed")


def _anchor(grade: int, text: str, anchor: Callable[[Inputs], pl.Expr]) -> Criterion:
    def rule(x: Inputs, o: Options) -> pl.Expr:
        return confirmed(x) & anchor(x)

    return Criterion(grade, text, rule, "R", f"{REF}.3", "IEC-HS grade anchors reconstructed, not yet confirmed")


def criteria(options: Options) -> list[Criterion]:
    return [
        Criterion(1, "IEC-HS criteria met and confirmed by the clinician (ferritin, onset, >= 1 supporting element)",
                  lambda x, o: confirmed(x), "R", f"{REF}.2, A-24",
                  "IEC-HS screening rule and thresholds reconstructed, not yet confirmed"),
        _anchor(2, "IEC-HS-directed therapy (e.g. corticosteroids, anakinra)",
                lambda x: x(IEC_HS_THERAPY_GIVEN)),
        _anchor(2, "Fibrinogen or cryoprecipitate replacement for hypofibrinogenaemia",
                lambda x: x("fibrinogen_replacement_given")),
        _anchor(3, "New admission or prolonged hospital stay attributed to IEC-HS",
                lambda x: x("iec_hs_hospitalisation").is_in([tox.IecHsHospitalisation.new_admission.value,
                                                             tox.IecHsHospitalisation.prolonged_stay.value])),
        _anchor(3, "Coagulopathy with bleeding (read as bleeding requiring transfusion)",
                lambda x: x("clinically_significant_bleeding")),
        _anchor(4, "Vasopressors for IEC-HS", lambda x: x("vasopressor_for_iec_hs")),
        _anchor(4, "Positive-pressure or mechanical ventilation for IEC-HS",
                lambda x: x("ppv_or_mechanical_ventilation_for_iec_hs")),
        _anchor(4, "Renal replacement therapy for IEC-HS", lambda x: x("rrt_for_iec_hs")),
        Criterion(5, "Death due to IEC-HS", lambda x, o: x("death_due_to_iec_hs"), "R", f"{REF}.3"),
    ]


def _unconfirmed(x: Inputs, o: Options, grade: pl.Expr) -> pl.Expr:
    return criteria_met(x).fill_null(False) & x("iec_hs_clinician_confirmed").fill_null(False).not_()


def _active_crs(x: Inputs, o: Options, grade: pl.Expr) -> pl.Expr:
    return ferritin_criterion(x).fill_null(False) & (x("crs_status") == tox.CrsStatus.active.value)


SYSTEM = GradingSystem(
    id="iechs2023",
    toxicity=TOXICITY,
    title="ASTCT IEC-associated HLH-like syndrome (IEC-HS): identification and grade",
    citation="Hines MR et al. Immune effector cell-associated hemophagocytic lymphohistiocytosis-like syndrome. "
    "Transplant Cell Ther. 2023;29(7):438.e1-438.e16. doi:10.1016/j.jtct.2023.03.006",
    spec_section=REF,
    evidence="[R] thresholds, Boolean structure and grade anchors reconstructed; confirm against the primary tables",
    criteria=criteria,
    cautions=(
        SystemCaution("IEC-HS criteria met – requires clinical confirmation (iec_hs_clinician_confirmed) "
                      "(other-toxicities.md §4.2)", _unconfirmed),
        SystemCaution("ferritin criterion met while CRS is active: IEC-HS is not assigned during active CRS "
                      "(other-toxicities.md A-25)", _active_crs),
    ),
    notes=(
        "Suspected = ferritin (> 2 x ULN or > 2 x infusion value, or rapidly rising) AND onset (CRS not active) "
        "AND >= 1 of ALT/AST > 5 x ULN/baseline, fibrinogen < 150 mg/dL or < LLN, cytopenia, haemophagocytosis.",
        "Every grade needs clinician confirmation; the engine never declares IEC-HS alone.",
    ),
)
