"""`astct2019` — ASTCT consensus CRS grading (Lee DW et al., Biol Blood Marrow Transplant 2019; crs-grading.md §3.1).

Grade = the more severe of hypotension and hypoxia, with fever (or fever masked by therapy given after CRS onset)
as the entry condition. Organ toxicity and FiO2 do not enter (§3.1 rules 7, 8).
"""

from __future__ import annotations

import polars as pl

from crsguard.grading import crs_derived as d
from crsguard.grading.crs import common
from crsguard.grading.engine import Caution, Criterion, GradingSystem, Options, SystemCaution
from crsguard.grading.inputs import Inputs
from crsguard.model.snapshot import VasopressorDrug

REF = "crs-grading.md §3.1"

_FLOW_NOT_RECORDED = Caution(
    "nasal cannula flow not recorded: graded as low flow (crs-grading.md D6)",
    lambda x, o: d.nasal_cannula_flow_not_recorded(x),
)
_HFNC_LOW_FLOW = Caution(
    "high-flow nasal cannula at <= 6 L/min graded as low flow (crs-grading.md A5)",
    lambda x, o: d.high_flow_device_at_low_flow(x),
)


def criteria(options: Options) -> list[Criterion]:
    entry = d.astct_entry
    rows = [
        Criterion(1, "Fever >= 38.0 °C", lambda x, o: d.fever(x), "S", f"{REF} rules 1-2"),
    ]
    if options["masked_fever_without_findings"] == "grade_1_if_symptoms":
        rows.append(
            Criterion(
                1,
                "Fever masked by antipyretic or anti-cytokine therapy after CRS onset; CRS symptoms persist",
                lambda x, o: x("fever_masked") & x("crs_symptoms_present"),
                "L",
                f"{REF} rule 3, A3",
                "masked fever with neither hypotension nor hypoxia is grade 1 while symptoms persist "
                "(option masked_fever_without_findings)",
            )
        )
    rows += [
        Criterion(
            2,
            "Hypotension not requiring vasopressors",
            lambda x, o: entry(x) & d.hypotension_present(x),
            "S",
            f"{REF} rule 5",
        ),
        Criterion(
            2,
            "Hypoxia requiring low-flow nasal cannula (<= 6 L/min) or blow-by",
            lambda x, o: entry(x) & (d.oxygen_category(x) == d.O2_LOW_FLOW),
            "S",
            f"{REF} rule 6",
            cautions=(_FLOW_NOT_RECORDED, _HFNC_LOW_FLOW),
        ),
        Criterion(
            3,
            "Hypotension requiring one vasopressor, with or without vasopressin",
            lambda x, o: entry(x) & (d.n_pressors_non_vasopressin(x) >= 1),
            "S",
            f"{REF} rule 5",
        ),
        Criterion(
            3,
            "Hypotension requiring vasopressin as the only vasopressor (treated as one vasopressor)",
            lambda x, o: entry(x) & d.drug_running(x, VasopressorDrug.vasopressin),
            "L",
            f"{REF} rule 5",
            "vasopressin alone is treated as one vasopressor",
        ),
        Criterion(
            3,
            "Hypoxia requiring high-flow nasal cannula (> 6 L/min), facemask, non-rebreather mask or Venturi mask",
            lambda x, o: entry(x) & (d.oxygen_category(x) == d.O2_HIGH_FLOW),
            "S",
            f"{REF} rule 6",
        ),
        Criterion(
            4,
            "Hypotension requiring multiple vasopressors (excluding vasopressin)",
            lambda x, o: entry(x) & (d.n_pressors_non_vasopressin(x) >= 2),
            "S",
            f"{REF} rule 5",
        ),
        Criterion(
            4,
            "Hypoxia requiring positive pressure (CPAP, BiPAP, intubation and mechanical ventilation)",
            lambda x, o: entry(x) & (d.oxygen_category(x) == d.O2_POSITIVE_PRESSURE),
            "S",
            f"{REF} rule 6",
        ),
        common.death(),
    ]
    return rows


def _not_entered(x: Inputs, options: Options, grade: pl.Expr) -> pl.Expr:
    return d.astct_entry(x).not_() & (grade == 0)


SYSTEM = GradingSystem(
    id="astct2019",
    toxicity=common.TOXICITY,
    title="ASTCT consensus CRS grading",
    citation="Lee DW et al. ASTCT consensus grading for cytokine release syndrome and neurologic toxicity "
    "associated with immune effector cells. Biol Blood Marrow Transplant. 2019;25(4):625-638. "
    "doi:10.1016/j.bbmt.2018.12.758",
    spec_section=REF,
    evidence="[S] table confirmed in four concordant reproductions",
    criteria=criteria,
    cautions=(
        SystemCaution(
            "ASTCT CRS criteria not met: no fever and no masking therapy (crs-grading.md §3.1 rule 1)", _not_entered
        ),
    ),
    gate_column=common.GATE_COLUMN,
    gate_text=common.GATE_TEXT,
    notes=(
        "Grade = the more severe of hypotension and hypoxia; fever (>= 38.0 °C) or masked fever is required.",
        "Vasopressin never counts toward 'multiple vasopressors'; dose and duration do not matter.",
        "Organ toxicity (including transaminitis) and FiO2 do not affect the ASTCT CRS grade.",
    ),
)
