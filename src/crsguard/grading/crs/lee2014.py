"""`lee2014` — 2014 NCI consensus ("Lee") revised CRS grading (Lee DW et al., Blood 2014; crs-grading.md §3.2).

Any single criterion suffices; the grade is the highest met. Fever is not an explicit criterion (rule 1).
"""

from __future__ import annotations

from crsguard.grading import crs_derived as d
from crsguard.grading.crs import common
from crsguard.grading.engine import Caution, Criterion, GradingSystem, Options
from crsguard.model.snapshot import O2Device

REF = "crs-grading.md §3.2"

_ESTIMATED = Caution(common.FIO2_ESTIMATED, common.fio2_estimated)


def ventilator_devices(options: Options) -> tuple[O2Device, ...]:
    """'Ventilator support': invasive ventilation, plus CPAP/BiPAP only under option A7."""
    if options["cpap_bipap_as_ventilation"]:
        return (O2Device.cpap, O2Device.bipap, O2Device.mechanical_ventilation)
    return (O2Device.mechanical_ventilation,)


def criteria(options: Options) -> list[Criterion]:
    return [
        Criterion(
            1,
            "Symptoms requiring symptomatic treatment only (fever, nausea, fatigue, headache, myalgia, malaise)",
            lambda x, o: d.fever(x) | x("crs_symptoms_present"),
            "L",
            f"{REF} rule 1",
            "grade 1 when fever or constitutional symptoms are present",
        ),
        Criterion(
            1,
            "Grade 1 organ toxicity",
            lambda x, o: x("organ_toxicity_max_grade") >= 1,
            "L",
            f"{REF} rule 6",
            "grade 1 organ toxicity alone gives grade 1",
        ),
        Criterion(
            2,
            "Hypotension responsive to fluids or to a low dose of one vasopressor",
            lambda x, o: d.hypotension_present(x),
            "S",
            f"{REF} rule 2",
        ),
        Criterion(
            2,
            "Oxygen requirement < 40 % FiO2",
            lambda x, o: d.on_oxygen(x),
            "S",
            f"{REF} rule 4",
            cautions=(_ESTIMATED,),
        ),
        common.high_dose_row(3, "Hypotension requiring high-dose vasopressors (sustained >= 3 h)", f"{REF} rule 2"),
        common.multiple_vasopressors_row(3, "Hypotension requiring multiple vasopressors", f"{REF} rule 3", options),
        Criterion(
            3,
            "Oxygen requirement >= 40 % FiO2",
            lambda x, o: d.oxygen_fio2_at_least_40(x, o),
            "S",
            f"{REF} rule 4",
            cautions=(_ESTIMATED,),
        ),
        Criterion(
            4,
            "Requirement for ventilator support",
            lambda x, o: d.device_in(x, *ventilator_devices(o)),
            "L" if options["cpap_bipap_as_ventilation"] else "S",
            f"{REF} rule 5, A7",
            "CPAP/BiPAP counted as ventilator support",
        ),
        Criterion(4, "Life-threatening symptoms", lambda x, o: x("life_threatening"), "S", f"{REF} rule 8"),
        *common.organ_toxicity_rows(f"{REF} rules 6-7", options),
        common.death(),
    ]


SYSTEM = GradingSystem(
    id="lee2014",
    toxicity=common.TOXICITY,
    title="2014 NCI consensus (Lee) revised CRS grading",
    citation="Lee DW et al. Current concepts in the diagnosis and management of cytokine release syndrome. "
    "Blood. 2014;124(2):188-195. doi:10.1182/blood-2014-05-552729",
    spec_section=REF,
    evidence="[S] reproduced identically in three comparison tables; high-dose table [R]",
    criteria=criteria,
    cautions=(common.NO_FEVER_DOCUMENTED,),
    gate_column=common.GATE_COLUMN,
    gate_text=common.GATE_TEXT,
    notes=(
        "CPAP/BiPAP are graded by FiO2, not as ventilator support (A7, configurable).",
        "Organ toxicity grades are CTCAE grades (v4.0x in the original, D8).",
    ),
)
