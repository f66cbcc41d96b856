"""`cartox` — CARTOX adult CRS grading (Neelapu SS et al., Nat Rev Clin Oncol 2018; crs-grading.md §3.8).

Fever (or grade 1 organ toxicity) for grade 1 only; grades 2–4 at any temperature; masking has no effect.
"""

from __future__ import annotations

from crsguard.grading import crs_derived as d
from crsguard.grading.crs import common
from crsguard.grading.crs.lee2014 import ventilator_devices
from crsguard.grading.engine import Caution, Criterion, GradingSystem, Options

REF = "crs-grading.md §3.8"

_ESTIMATED = Caution(common.FIO2_ESTIMATED, common.fio2_estimated)


def criteria(options: Options) -> list[Criterion]:
    rows = [
        Criterion(1, "Temperature >= 38.0 °C", lambda x, o: d.fever(x), "S", f"{REF} rule 1"),
        Criterion(1, "Grade 1 organ toxicity", lambda x, o: x("organ_toxicity_max_grade") >= 1, "S", f"{REF} rule 6"),
        Criterion(
            2,
            "Hypotension responding to IV fluids or a low-dose vasopressor",
            lambda x, o: d.hypotension_present(x),
            "S",
            f"{REF} rule 3",
        ),
        Criterion(
            2,
            "Hypoxia needing supplemental oxygen with FiO2 < 40 %",
            lambda x, o: d.on_oxygen(x),
            "S",
            f"{REF} rule 5",
            cautions=(_ESTIMATED,),
        ),
        common.high_dose_row(3, "Hypotension needing high-dose vasopressors", f"{REF} rule 3"),
        common.multiple_vasopressors_row(3, "Hypotension needing multiple vasopressors", f"{REF} rule 3", options),
        Criterion(
            3,
            "Hypoxia needing FiO2 >= 40 %",
            lambda x, o: d.oxygen_fio2_at_least_40(x, o),
            "S",
            f"{REF} rule 5",
            cautions=(_ESTIMATED,),
        ),
        Criterion(
            4,
            "Life-threatening hypotension",
            lambda x, o: x("life_threatening") & d.hypotension_present(x),
            "S",
            f"{REF} rule 4",
        ),
        Criterion(
            4,
            "Need for ventilator support",
            lambda x, o: d.device_in(x, *ventilator_devices(o)),
            "L",
            f"{REF} rule 5, A7",
            "ventilator support read as invasive ventilation"
            + (" or CPAP/BiPAP" if options["cpap_bipap_as_ventilation"] else "; CPAP/BiPAP graded by FiO2"),
        ),
        *common.organ_toxicity_rows(f"{REF} rules 6-7", options),
        common.death(),
    ]
    if options["cartox_persistent_hypotension_limb"]:
        rows.append(
            Criterion(
                4,
                "Life-threatening hypotension: persistent despite high-dose or multiple vasopressors",
                lambda x, o: (
                    x("hypotension_persistent_on_vasopressors")
                    & d.hypotension_present(x)
                    & (d.high_dose(x, o) | (d.n_pressors_counted(x, o) >= 2))
                ),
                "L",
                f"{REF} rule 4, A10",
                "persistent hypotension on high-dose or multiple vasopressors read as life-threatening "
                "(borrowed from paediatric CARTOX; option cartox_persistent_hypotension_limb)",
            )
        )
    return rows


SYSTEM = GradingSystem(
    id="cartox",
    toxicity=common.TOXICITY,
    title="CARTOX (MD Anderson) adult CRS grading",
    citation="Neelapu SS et al. Chimeric antigen receptor T-cell therapy - assessment and management of "
    "toxicities. Nat Rev Clin Oncol. 2018;15(1):47-62. doi:10.1038/nrclinonc.2017.148",
    spec_section=REF,
    evidence="[S] two comparison tables; high-dose table [R]",
    criteria=criteria,
    cautions=(common.NO_FEVER_DOCUMENTED,),
    gate_column=common.GATE_COLUMN,
    gate_text=common.GATE_TEXT,
    notes=("Hypotension: SBP < 90 mmHg in adults (D2).",),
)
