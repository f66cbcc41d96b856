"""`ctcae_v6` — NCI CTCAE v6.0, term "Cytokine release syndrome" (crs-grading.md §3.5): hypoxia by device.

Never falls back to CTCAE v5.0 or ASTCT; the borrowed ≤ 6 / > 6 L/min split, vasopressin counting and positive
pressure → 4 are local readings that warn in every result they decide.
"""

from __future__ import annotations

from crsguard.grading import crs_derived as d
from crsguard.grading.crs import common
from crsguard.grading.crs.ctcae_v5 import fever_and_hypotension, positive_pressure
from crsguard.grading.engine import Caution, Criterion, GradingSystem, Options
from crsguard.model.snapshot import O2Device

REF = "crs-grading.md §3.5"

_FLOW_SPLIT = Caution(
    "low/high flow split at 6 L/min borrowed from ASTCT: CTCAE v6.0 prints no flow definition (crs-grading.md §3.5, "
    "A5)",
    lambda x, o: d.device_in(x, O2Device.nasal_cannula, O2Device.high_flow_nasal_cannula),
)


def criteria(options: Options) -> list[Criterion]:
    rows = [
        *fever_and_hypotension(options, REF),
        Criterion(
            2,
            "Hypoxia needing low-flow nasal cannula or blow-by oxygen",
            lambda x, o: d.oxygen_category(x) == d.O2_LOW_FLOW,
            "P",
            f"{REF} rule 3",
            cautions=(_FLOW_SPLIT,),
        ),
        Criterion(
            3,
            "Hypoxia needing high-flow nasal cannula, facemask, non-rebreather mask or Venturi mask",
            lambda x, o: d.oxygen_category(x) == d.O2_HIGH_FLOW,
            "P",
            f"{REF} rule 3",
            cautions=(_FLOW_SPLIT,),
        ),
        *positive_pressure(options, REF),
    ]
    if not options["cpap_bipap_as_ventilation"]:
        rows.append(
            Criterion(
                3,
                "CPAP or BiPAP read as at least high-flow oxygen",
                lambda x, o: d.device_in(x, O2Device.cpap, O2Device.bipap),
                "L",
                f"{REF} rule 3, A7",
                "CPAP/BiPAP graded 3 (option cpap_bipap_as_ventilation=false)",
            )
        )
    return rows


SYSTEM = GradingSystem(
    id="ctcae_v6",
    toxicity=common.TOXICITY,
    title="NCI CTCAE v6.0 — Cytokine release syndrome",
    citation="National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE) version 6.0 "
    "(MedDRA 28.0). 10 July 2025; errata 20 January 2026. Term 'Cytokine release syndrome' (MedDRA 10052015).",
    spec_section=REF,
    evidence="[P] read in NCI's CTCAE v6.0 workbook; flow split, vasopressin counting, positive pressure [L]",
    criteria=criteria,
    cautions=(common.NO_FEVER_DOCUMENTED,),
    gate_column=common.GATE_COLUMN,
    gate_text=common.GATE_TEXT,
    notes=("Hypoxia graded by device (ASTCT vocabulary); hypotension as in CTCAE v5.0.",),
)
