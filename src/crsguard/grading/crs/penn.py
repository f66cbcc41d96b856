"""`penn` — University of Pennsylvania CRS grading scale (Porter D et al., J Hematol Oncol 2018; crs-grading.md §3.6).

Any single criterion suffices. Penn has no "multiple vasopressors" criterion: any vasopressor that is not high-dose is
grade 3, high-dose (D5, a local borrowing, A13) is grade 4.
"""

from __future__ import annotations

from crsguard.grading import crs_derived as d
from crsguard.grading.crs import common
from crsguard.grading.engine import Criterion, GradingSystem, Options
from crsguard.model.snapshot import O2Device

REF = "crs-grading.md §3.6"

#: Rule 5: "multiple fluid boluses" means at least this many (§3.6 rule 5) [S].
MULTIPLE_FLUID_BOLUSES = 2


def criteria(options: Options) -> list[Criterion]:
    return [
        Criterion(
            1,
            "Mild reaction treated with supportive care (fever or constitutional symptoms)",
            lambda x, o: d.fever(x) | x("crs_symptoms_present"),
            "L",
            f"{REF} rule 1",
            "grade 1 when fever or constitutional symptoms are present",
        ),
        Criterion(
            2, "Organ dysfunction: grade 2 creatinine", lambda x, o: x("creatinine_grade") >= 2, "S", f"{REF} rule 2"
        ),
        Criterion(
            2,
            "Organ dysfunction: grade 3 liver function tests",
            lambda x, o: x("transaminitis_grade") >= 3,
            "S",
            f"{REF} rule 2",
        ),
        Criterion(
            2,
            "Hospitalisation for management of CRS symptoms (including fever with neutropenia)",
            lambda x, o: x("hospitalized_for_crs"),
            "S",
            f"{REF} rule 3",
        ),
        Criterion(
            2,
            "IV therapies needed (not counting fluid resuscitation for hypotension)",
            lambda x, o: x("iv_therapy_required"),
            "S",
            f"{REF} rule 3",
        ),
        Criterion(3, "Grade 4 liver function tests", lambda x, o: x("transaminitis_grade") >= 4, "S", f"{REF} rule 4"),
        Criterion(
            3,
            "Grade 3 creatinine (grade 4 stays 3 unless life-threatening)",
            lambda x, o: x("creatinine_grade") >= 3,
            "S",
            f"{REF} rule 4",
        ),
        Criterion(
            3,
            "Hospitalisation required to manage organ dysfunction",
            lambda x, o: x("hospitalized_for_organ_dysfunction"),
            "S",
            f"{REF} rule 4",
        ),
        Criterion(
            3,
            "Hypotension treated with multiple fluid boluses",
            lambda x, o: x("fluid_boluses_for_bp") >= MULTIPLE_FLUID_BOLUSES,
            "S",
            f"{REF} rule 5",
        ),
        Criterion(
            3,
            "Hypotension treated with low-dose vasopressors",
            lambda x, o: d.any_vasopressor(x),
            "S",
            f"{REF} rules 5-6",
        ),
        Criterion(
            3,
            "Coagulopathy requiring fresh frozen plasma, cryoprecipitate or fibrinogen concentrate",
            lambda x, o: x("coagulopathy_requiring_products"),
            "S",
            f"{REF} rule 8",
        ),
        Criterion(
            3,
            "Hypoxia requiring supplemental oxygen (nasal cannula, high-flow oxygen, CPAP or BiPAP)",
            lambda x, o: d.on_oxygen(x),
            "S",
            f"{REF} rule 7",
        ),
        Criterion(
            4,
            "Hypotension requiring high-dose vasopressors",
            lambda x, o: d.high_dose(x, o),
            "R",
            f"{REF} rule 5, D5, A13",
            "Penn's own high-dose definition unconfirmed; D5 table borrowed (A13); " + common.HIGH_DOSE_NOTE,
        ),
        Criterion(
            4,
            "Hypoxia requiring mechanical ventilation",
            lambda x, o: d.device_in(x, O2Device.mechanical_ventilation),
            "S",
            f"{REF} rule 7",
        ),
        Criterion(4, "Life-threatening complications", lambda x, o: x("life_threatening"), "S", f"{REF} rule 9"),
        common.death(),
    ]


SYSTEM = GradingSystem(
    id="penn",
    toxicity=common.TOXICITY,
    title="University of Pennsylvania CRS grading scale",
    citation="Porter D et al. Grading of cytokine release syndrome associated with the CAR T cell therapy "
    "tisagenlecleucel. J Hematol Oncol. 2018;11(1):35. doi:10.1186/s13045-018-0571-y",
    spec_section=REF,
    evidence="[S] reproduced consistently in five comparison tables; high-dose definition [R]",
    criteria=criteria,
    cautions=(common.NO_FEVER_DOCUMENTED,),
    gate_column=common.GATE_COLUMN,
    gate_text=common.GATE_TEXT,
    notes=("Any supplemental oxygen is grade 3; FiO2 is not used.",),
)
