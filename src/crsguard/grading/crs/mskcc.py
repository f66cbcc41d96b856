"""`mskcc` — Memorial Sloan Kettering CRS grading (Park JH et al., N Engl J Med 2018, supplement;
crs-grading.md §3.7). Vasopressors graded by duration (< 24 h → 2, ≥ 24 h → 3); grade 4 needs hypotension
refractory to high-dose vasopressors. No organ criterion."""

from __future__ import annotations

from crsguard.grading import crs_derived as d
from crsguard.grading.crs import common
from crsguard.grading.crs.lee2014 import ventilator_devices
from crsguard.grading.engine import Caution, Criterion, GradingSystem, Options, Tag

REF = "crs-grading.md §3.7"

#: Rule 2: vasopressors for at least this long are grade 3 (exactly 24.0 h → 3) [S].
VASOPRESSOR_HOURS_GRADE_3 = 24.0

_ESTIMATED = Caution(common.FIO2_ESTIMATED, common.fio2_estimated)
_DURATION_FALLBACK = Caution(
    "vasopressor_total_hours not given: duration taken from the longest single-drug run, which misses switches "
    "between agents (crs-grading.md §2.3)",
    lambda x, o: x("vasopressor_total_hours").is_null(),
)


def criteria(options: Options) -> list[Criterion]:
    fluid_grade = options["mskcc_fluid_responsive_hypotension_grade"]
    pp_tag: Tag = "L" if options["cpap_bipap_as_ventilation"] else "S"
    return [
        Criterion(
            1,
            "Mild symptoms requiring observation or supportive care only",
            lambda x, o: d.fever(x) | x("crs_symptoms_present"),
            "L",
            f"{REF} rule 1",
            "grade 1 when fever or constitutional symptoms are present",
        ),
        Criterion(
            fluid_grade,
            "Hypotension treated with fluids alone",
            lambda x, o: d.hypotension_present(x),
            "L",
            f"{REF} rule 4, A9",
            f"no MSKCC criterion for fluid-only hypotension: graded {fluid_grade} "
            "(option mskcc_fluid_responsive_hypotension_grade)",
        ),
        Criterion(
            2,
            "Hypotension requiring any vasopressors for < 24 h",
            lambda x, o: d.any_vasopressor(x),
            "S",
            f"{REF} rule 2",
            cautions=(_DURATION_FALLBACK,),
        ),
        Criterion(
            2,
            "Hypoxia or dyspnoea requiring supplemental oxygen < 40 %",
            lambda x, o: d.on_oxygen(x),
            "S",
            f"{REF} rule 5",
            cautions=(_ESTIMATED,),
        ),
        Criterion(
            3,
            "Hypotension requiring any vasopressors for >= 24 h",
            lambda x, o: d.any_vasopressor(x) & (d.vasopressor_hours(x) >= VASOPRESSOR_HOURS_GRADE_3),
            "S",
            f"{REF} rule 2",
            cautions=(_DURATION_FALLBACK,),
        ),
        Criterion(
            3,
            "Hypoxia or dyspnoea requiring supplemental oxygen >= 40 %",
            lambda x, o: d.oxygen_fio2_at_least_40(x, o),
            "S",
            f"{REF} rule 5",
            cautions=(_ESTIMATED,),
        ),
        Criterion(
            4,
            "Hypotension refractory to high-dose vasopressors",
            lambda x, o: d.high_dose(x, o) & x("hypotension_persistent_on_vasopressors"),
            "R",
            f"{REF} rule 3, D5, A13",
            "'refractory' read as persistent hypotension on high-dose vasopressors [L]; " + common.HIGH_DOSE_NOTE,
        ),
        Criterion(
            4,
            "Hypoxia or dyspnoea requiring mechanical ventilation",
            lambda x, o: d.device_in(x, *ventilator_devices(o)),
            pp_tag,
            f"{REF} rule 5, A7",
            "CPAP/BiPAP counted as mechanical ventilation",
        ),
        Criterion(4, "Life-threatening complications", lambda x, o: x("life_threatening"), "S", f"{REF} rule 7"),
        common.death(),
    ]


SYSTEM = GradingSystem(
    id="mskcc",
    toxicity=common.TOXICITY,
    title="Memorial Sloan Kettering CRS grading",
    citation="Park JH et al. Long-term follow-up of CD19 CAR therapy in acute lymphoblastic leukemia. "
    "N Engl J Med. 2018;378(5):449-459. doi:10.1056/NEJMoa1709919 (supplementary appendix)",
    spec_section=REF,
    evidence="[S] one comparison table; NEJM supplement not re-read",
    criteria=criteria,
    cautions=(common.NO_FEVER_DOCUMENTED,),
    gate_column=common.GATE_COLUMN,
    gate_text=common.GATE_TEXT,
    notes=("Vasopressor duration is vasopressor_total_hours, else the longest single-drug run.",),
)
