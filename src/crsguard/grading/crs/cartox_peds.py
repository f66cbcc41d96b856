"""`cartox_peds` — paediatric CARTOX (PALISI / MD Anderson) CRS grading (Mahadeo KM et al., Nat Rev Clin Oncol
2019; crs-grading.md §3.9). Read from the primary paper's Table 2 [P]."""

from __future__ import annotations

import polars as pl

from crsguard.grading import crs_derived as d
from crsguard.grading.crs import common
from crsguard.grading.engine import Caution, Criterion, GradingSystem, Options, SystemCaution
from crsguard.grading.inputs import Inputs
from crsguard.model.snapshot import O2Device

REF = "crs-grading.md §3.9"

#: Rule 8: the scale is meant for children and young adults; warn from this age [L].
ADULT_WARNING_AGE_YEARS = 26.0

_ESTIMATED = Caution(common.FIO2_ESTIMATED, common.fio2_estimated)


def criteria(options: Options) -> list[Criterion]:
    multiple = common.multiple_vasopressors_row(
        3, "Hypotension (age-defined) requiring multiple vasopressors", f"{REF} rule 3", options
    )
    return [
        Criterion(1, "Temperature >= 38.0 °C", lambda x, o: d.fever(x), "P", f"{REF} rule 1"),
        Criterion(
            2,
            "Hypotension responding to IV fluids or a low-dose vasopressor",
            lambda x, o: d.hypotension_present(x),
            "P",
            f"{REF} rule 3",
        ),
        Criterion(
            2,
            "SpO2 < 90 % on room air with an FiO2 requirement < 40 %",
            lambda x, o: d.on_oxygen(x),
            "P",
            f"{REF} rule 4",
            cautions=(_ESTIMATED,),
        ),
        common.high_dose_row(
            3,
            "Hypotension requiring high-dose vasopressors",
            f"{REF} rule 3",
            common.HIGH_DOSE_NOTE + "; paediatric scaling by weight/70 [L, A6] under 18 years",
        ),
        multiple,
        Criterion(
            3,
            "FiO2 requirement >= 40 %",
            lambda x, o: d.oxygen_fio2_at_least_40(x, o),
            "P",
            f"{REF} rule 4",
            cautions=(_ESTIMATED,),
        ),
        Criterion(3, "BiPAP needed", lambda x, o: d.device_in(x, O2Device.bipap), "P", f"{REF} rule 4"),
        Criterion(
            3,
            "CPAP needed (treated like BiPAP)",
            lambda x, o: d.device_in(x, O2Device.cpap),
            "L",
            f"{REF} rule 4",
            "CPAP treated like BiPAP",
        ),
        Criterion(
            4,
            "Persistent hypotension despite fluid resuscitation and multiple vasopressors",
            lambda x, o: multiple.when(x, o) & x("hypotension_persistent_on_vasopressors"),
            multiple.tag,
            f"{REF} rule 3, A1",
            multiple.note,
        ),
        Criterion(
            4,
            "Requirement for invasive mechanical ventilation",
            lambda x, o: d.device_in(x, O2Device.mechanical_ventilation),
            "P",
            f"{REF} rule 4",
        ),
        *common.organ_toxicity_rows(f"{REF} rule 5", options, "P"),
        common.death("L"),
    ]


def _adult(x: Inputs, options: Options, grade: pl.Expr) -> pl.Expr:
    return x("age_years") >= ADULT_WARNING_AGE_YEARS


SYSTEM = GradingSystem(
    id="cartox_peds",
    toxicity=common.TOXICITY,
    title="Paediatric CARTOX (PALISI / MD Anderson) CRS grading",
    citation="Mahadeo KM et al. Management guidelines for paediatric patients receiving chimeric antigen receptor "
    "T cell therapy. Nat Rev Clin Oncol. 2019;16(1):45-63. doi:10.1038/s41571-018-0075-2",
    spec_section=REF,
    evidence="[P] Table 2 of the primary paper, publisher's rendering",
    criteria=criteria,
    cautions=(
        common.NO_FEVER_DOCUMENTED,
        SystemCaution("paediatric scale applied to an adult (crs-grading.md §3.9 rule 8)", _adult),
    ),
    gate_column=common.GATE_COLUMN,
    gate_text=common.GATE_TEXT,
    notes=("Hypotension by age: SBP < 70 + 2 x age (1-10 years), < 90 mmHg over 10 years (D2).",),
)
