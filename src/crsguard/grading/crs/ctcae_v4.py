"""`ctcae_v4` — NCI CTCAE v4.03, term "Cytokine release syndrome" (crs-grading.md §3.3).

An infusion-reaction scale; its mapping onto CAR-T / bispecific inputs is a set of local rules [L].
"""

from __future__ import annotations

from crsguard.grading import crs_derived as d
from crsguard.grading.crs import common
from crsguard.grading.engine import Criterion, GradingSystem, Options
from crsguard.model.snapshot import O2Device

REF = "crs-grading.md §3.3"


def criteria(options: Options) -> list[Criterion]:
    rows = [
        Criterion(
            1,
            "Mild reaction: fever or constitutional symptoms, observation or oral antipyretic only",
            lambda x, o: d.fever(x) | x("crs_symptoms_present"),
            "L",
            f"{REF} rule 1",
            "fever or symptoms read as a mild reaction",
        ),
        Criterion(
            2,
            "Symptomatic treatment needed (antihistamines, NSAIDs, opioids, IV fluids)",
            lambda x, o: x("symptomatic_treatment_required"),
            "L",
            f"{REF} rule 2",
            "symptomatic treatment read as grade 2",
        ),
        Criterion(
            2,
            "IV therapy needed",
            lambda x, o: x("iv_therapy_required"),
            "L",
            f"{REF} rule 2",
            "IV therapy read as grade 2",
        ),
        Criterion(
            2,
            "Hypotension responding to fluids (no vasopressor)",
            lambda x, o: d.hypotension_present(x),
            "L",
            f"{REF} rule 2",
            "fluid-responsive hypotension read as grade 2",
        ),
        Criterion(
            2,
            "Supplemental oxygen (not positive pressure)",
            lambda x, o: d.on_oxygen(x),
            "L",
            f"{REF} rule 2",
            "supplemental oxygen read as grade 2",
        ),
        Criterion(
            3,
            "Prolonged course or recurrence after initial improvement",
            lambda x, o: x("prolonged_or_recurrent"),
            "S",
            f"{REF} rule 3",
        ),
        Criterion(
            3,
            "Hospitalisation indicated for clinical sequelae (e.g. renal impairment, pulmonary infiltrates)",
            lambda x, o: x("hospitalized_for_organ_dysfunction"),
            "S",
            f"{REF} rule 3",
        ),
        Criterion(
            4,
            "Vasopressor support indicated (any vasopressor, vasopressin included)",
            lambda x, o: d.any_vasopressor(x),
            "S",
            f"{REF} rule 4",
        ),
        Criterion(
            4,
            "Ventilatory support indicated (invasive ventilation)",
            lambda x, o: d.device_in(x, O2Device.mechanical_ventilation),
            "S",
            f"{REF} rule 4",
        ),
        Criterion(4, "Life-threatening consequences", lambda x, o: x("life_threatening"), "S", f"{REF} rule 4"),
        common.death(),
    ]
    if options["cpap_bipap_as_ventilation"]:
        rows.append(
            Criterion(
                4,
                "Ventilatory support indicated (CPAP or BiPAP)",
                lambda x, o: d.device_in(x, O2Device.cpap, O2Device.bipap),
                "L",
                f"{REF} rule 4, A7",
                "CPAP/BiPAP read as ventilatory support (option cpap_bipap_as_ventilation)",
            )
        )
    return rows


SYSTEM = GradingSystem(
    id="ctcae_v4",
    toxicity=common.TOXICITY,
    title="NCI CTCAE v4.03 — Cytokine release syndrome",
    citation="National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE) version 4.03. "
    "14 June 2010.",
    spec_section=REF,
    evidence="[S] wording from two comparison tables; mapping to CRS inputs [L]",
    criteria=criteria,
    cautions=(common.NO_FEVER_DOCUMENTED,),
    gate_column=common.GATE_COLUMN,
    gate_text=common.GATE_TEXT,
    notes=("Organ toxicity acts only through the hospitalisation and life-threatening flags (rule 6).",),
)
