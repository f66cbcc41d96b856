"""`cartox10` — CARTOX-10 and CRES grading (Neelapu SS et al. 2018; other-toxicities.md §2), the legacy second
neurotoxicity system. CRES grade = the most severe row, counting only events not attributed to another cause.

Reproduces the discordances with ASTCT ICANS of §2.4: papilloedema by Frisén stage, CSF opening pressure, any
generalised seizure grade 4, any cerebral oedema grade 4 (A-13), no consciousness row, no command item.
"""

from __future__ import annotations

import polars as pl

from crsguard.grading.engine import Criterion, GradingSystem, Options, ResultField, SystemCaution
from crsguard.grading.inputs import Inputs
from crsguard.grading.neuro import domains as n
from crsguard.model import toxicity as tox

REF = "other-toxicities.md §2.2"
TOXICITY = "icans"

#: §2.2 / A-11: CSF opening pressure ≥ 20 mmHg is grade 4; above the upper normal and below 20 is grade 3.
CSF_GRADE_4_MMHG = 20.0
#: §7.4 default upper normal of the opening pressure, 18.4 mmHg (= 25 cmH₂O, adult) [L].
CSF_ULN_DEFAULT_MMHG = 18.4
#: §2.3: CARTOX-10 is reserved for patients of 12 years and over.
CARTOX_MIN_AGE = n.ICE_MIN_AGE_YEARS
#: §2.1 is [R]: every grade from the CARTOX-10 score carries the confirmation warning.
CARTOX_ITEMS_R = "CARTOX-10 items reconstructed from the source structure (§2.1 [R])"


def _cartox_band(x: Inputs, low: int, high: int) -> pl.Expr:
    assessed = n.ice_status(x) == tox.IceStatus.assessed.value
    return assessed & x("cartox_total").is_between(low, high) & x("cartox_total_other_cause").not_()


def _obtunded(x: Inputs) -> pl.Expr:
    """'Critical condition and/or obtunded; cannot perform the tasks' read as: unarousable for the screen, or
    consciousness needing vigorous stimuli, stupor or coma (A-2 analogue) [L]."""
    unarousable = n.unarousable_cannot_perform(x, n.ice_status(x), tox.IceStatus.not_assessable_unarousable.value)
    return unarousable | n.loc_at_least(x, *n.LOC_GRADE_4)


def _csf_uln(x: Inputs) -> pl.Expr:
    return pl.coalesce(x("csf_opening_pressure_uln_mmHg"), pl.lit(CSF_ULN_DEFAULT_MMHG))


def _papilloedema_stage(x: Inputs, low: int, high: int) -> pl.Expr:
    """A Frisén stage in [low, high]; a stage is irrelevant when papilloedema is recorded as absent."""
    not_absent = pl.coalesce(x("papilloedema"), pl.lit(True))
    return not_absent & x("papilloedema_frisen_stage").is_between(low, high) & x("papilloedema_other_cause").not_()


def _csf(x: Inputs, condition: pl.Expr) -> pl.Expr:
    """An opening pressure counts only when a lumbar puncture measured it: no LP is not an unknown finding, LP being
    an optional investigation (other-toxicities.md §0.5: null = not attempted) [L]."""
    return condition.fill_null(False)


def _cerebral_oedema(x: Inputs) -> pl.Expr:
    return n.imaging_oedema(x, tox.ImagingOedema.focal.value, tox.ImagingOedema.diffuse.value)


def criteria(options: Options) -> list[Criterion]:
    return [
        Criterion(1, "CARTOX-10 score 7-9 (mild impairment)", lambda x, o: _cartox_band(x, 7, 9), "R",
                  f"{REF}, §2.1", CARTOX_ITEMS_R),
        Criterion(2, "CARTOX-10 score 3-6 (moderate impairment)", lambda x, o: _cartox_band(x, 3, 6), "R",
                  f"{REF}, §2.1", CARTOX_ITEMS_R),
        Criterion(3, "CARTOX-10 score 0-2 (severe impairment)", lambda x, o: _cartox_band(x, 0, 2), "R",
                  f"{REF}, §2.1, A-12", CARTOX_ITEMS_R),
        Criterion(4, "Critical condition and/or obtunded; cannot perform the tasks", lambda x, o: _obtunded(x), "L",
                  REF, "obtunded read as unarousable for the screen, vigorous stimuli, stupor or coma"),
        Criterion(3, "Papilloedema stage 1-2", lambda x, o: _papilloedema_stage(x, 1, 2), "S", REF),
        Criterion(3, "Papilloedema (stage not recorded, at least stage 1)",
                  lambda x, o: n.finding(x, "papilloedema"), "L", REF,
                  "papilloedema without a Frisén stage counts as stage 1-2 until staged"),
        Criterion(3, "CSF opening pressure < 20 mmHg (above the upper normal)",
                  lambda x, o: _csf(x, (x("csf_opening_pressure_mmHg") > _csf_uln(x))
                                    & (x("csf_opening_pressure_mmHg") < CSF_GRADE_4_MMHG)), "L", f"{REF}, A-11",
                  "opening pressure counts for grade 3 only above the upper normal (default 18.4 mmHg)"),
        Criterion(4, "Papilloedema stage 3-5", lambda x, o: _papilloedema_stage(x, 3, 5), "S", REF),
        Criterion(4, "CSF opening pressure >= 20 mmHg",
                  lambda x, o: _csf(x, x("csf_opening_pressure_mmHg") >= CSF_GRADE_4_MMHG), "S", REF),
        Criterion(4, "Cerebral oedema (any extent on imaging)", lambda x, o: _cerebral_oedema(x), "L",
                  f"{REF}, A-13", "literal reading: focal oedema is cerebral oedema, grade 4 (differs from ASTCT)"),
        Criterion(3, "Partial seizure (any clinical seizure is at least grade 3)",
                  lambda x, o: n.clinical_seizure(x), "S", REF),
        Criterion(3, "Non-convulsive seizure on EEG responding to benzodiazepine",
                  lambda x, o: n.eeg_seizure(x) & x("eeg_seizure_responded_to_benzodiazepine"), "S", REF),
        Criterion(3, "Non-convulsive seizure on EEG (response to benzodiazepine not documented)",
                  lambda x, o: n.eeg_seizure(x), "L", REF,
                  "an EEG seizure not meeting grade 4 is graded 3, as in ASTCT §1.7"),
        Criterion(4, "Generalised seizure",
                  lambda x, o: n.clinical_seizure(x) & (x("seizure_type") == tox.SeizureType.generalised.value),
                  "S", REF),
        Criterion(4, "Convulsive or non-convulsive status epilepticus", lambda x, o: n.status_epilepticus(x), "S",
                  REF),
        Criterion(4, "New motor weakness", lambda x, o: n.finding(x, "new_motor_weakness"), "S", REF),
        Criterion(5, "Death due to CRES", lambda x, o: x("death_due_to_cres"), "S", REF),
    ]


SYSTEM = GradingSystem(
    id="cartox10",
    toxicity=TOXICITY,
    title="CARTOX-10 / CRES (CAR-T-cell-related encephalopathy syndrome) grading",
    citation="Neelapu SS et al. Chimeric antigen receptor T-cell therapy - assessment and management of "
    "toxicities. Nat Rev Clin Oncol. 2018;15(1):47-62. doi:10.1038/nrclinonc.2017.148",
    spec_section="other-toxicities.md §2",
    evidence="[S] CRES table from secondary reproductions; CARTOX-10 items [R]",
    criteria=criteria,
    cautions=(
        SystemCaution("CARTOX-10 is for patients >= 12 years; children are graded by ASTCT ICANS with the CAPD "
                      "(other-toxicities.md §2.3)", lambda x, o, g: (x("age_years") < CARTOX_MIN_AGE).fill_null(False)),
        SystemCaution("CARTOX-10 not assessable (not scored as 0): graded from the other rows (other-toxicities.md "
                      "§0.5)", n.not_assessable),
        *n.exclusion_cautions("cartox_total", "loc", "clinical_seizure", "eeg_nonconvulsive_seizure",
                              "new_motor_weakness", "imaging_oedema", "papilloedema"),
    ),
    notes=(
        "CARTOX-10 = ICE orientation (4) + head of state (1) + naming (3) + writing (1) + attention (1); no "
        "command item (§2.1).",
        "CSF opening pressure in mmHg; grade 3 only above the upper normal (A-11).",
        "Any cerebral oedema is grade 4; any generalised seizure is grade 4 (§2.4).",
    ),
    result_fields=(ResultField("instrument", lambda x, o: pl.lit("cartox10")),),
)
