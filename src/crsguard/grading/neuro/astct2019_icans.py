"""`astct2019_icans` — ASTCT consensus ICANS grading (Lee DW et al. 2019; other-toxicities.md §1).

Overall grade = the most severe of five domains (encephalopathy score, consciousness, seizure, motor, raised ICP
/ cerebral oedema), counting only findings not attributed to another cause (§1.4). The encephalopathy score is the
ICE for adults and children ≥ 12 years, the CAPD for children < 12 (§1.5, A-1). Tremor, myoclonus, headache and
intracranial haemorrhage are not ICANS (§1.4 rules 4-6): this system does not read them.
"""

from __future__ import annotations

import polars as pl

from crsguard.grading.engine import Caution, Criterion, GradingSystem, Options, ResultField, SystemCaution
from crsguard.grading.inputs import Inputs
from crsguard.grading.neuro import domains as n
from crsguard.model import toxicity as tox

REF = "other-toxicities.md §1.3"
PEDS_REF = "other-toxicities.md §1.5.3"
TOXICITY = "icans"


def _ice(x: Inputs, o: Options) -> pl.Expr:
    return n.uses(x, o, n.ICE)


def _capd(x: Inputs, o: Options) -> pl.Expr:
    return n.uses(x, o, n.CAPD)


def _capd_band(x: Inputs, o: Options, low: int, high: int) -> pl.Expr:
    total = x("capd_total")
    assessed = n.capd_status(x) == tox.CapdStatus.assessed.value
    return _capd(x, o) & assessed & total.is_between(low, high) & x("capd_total_other_cause").not_()


_NOT_RAPID = Caution(
    "local interpretation: a clinical seizure not documented as resolving rapidly is graded 3 unless it meets "
    "grade 4 (other-toxicities.md §1.7, A-6)",
    lambda x, o: n.clinical_seizure(x) & x("clinical_seizure_resolved_rapidly").fill_null(False).not_(),
)


def criteria(options: Options) -> list[Criterion]:
    ice_unarousable = tox.IceStatus.not_assessable_unarousable.value
    capd_unarousable = tox.CapdStatus.not_assessable_unarousable.value
    return [
        # encephalopathy score: ICE (≥ 12 years) ...
        Criterion(1, "ICE score 7-9", lambda x, o: _ice(x, o) & n.ice_band(x, 7, 9), "P", f"{REF}, §1.2"),
        Criterion(2, "ICE score 3-6", lambda x, o: _ice(x, o) & n.ice_band(x, 3, 6), "P", f"{REF}, §1.2"),
        Criterion(3, "ICE score 0-2 (patient arousable; e.g. ICE 0 with global aphasia)",
                  lambda x, o: _ice(x, o) & n.ice_band(x, 0, 2), "P", f"{REF}, §1.4 rule 2, A-2"),
        Criterion(4, "ICE score 0: patient unarousable and unable to perform ICE",
                  lambda x, o: _ice(x, o) & n.unarousable_cannot_perform(x, n.ice_status(x), ice_unarousable),
                  "P", f"{REF}, §1.4 rule 2, §1.6"),
        # ... or CAPD (< 12 years)
        Criterion(1, "CAPD score 1-8 (child < 12 years)", lambda x, o: _capd_band(x, o, 1, n.CAPD_POSITIVE - 1),
                  "S", f"{PEDS_REF}, A-1"),
        Criterion(3, "CAPD score >= 9 (child < 12 years)", lambda x, o: _capd_band(x, o, n.CAPD_POSITIVE, 32),
                  "S", f"{PEDS_REF}, A-1"),
        Criterion(4, "Unable to perform CAPD: child unarousable",
                  lambda x, o: _capd(x, o) & n.unarousable_cannot_perform(x, n.capd_status(x), capd_unarousable),
                  "S", f"{PEDS_REF}, A-1"),
        # depressed level of consciousness ("awakens spontaneously" is not a finding, §1.4 rule 7)
        Criterion(2, "Depressed level of consciousness: awakens to voice",
                  lambda x, o: n.loc_at_least(x, tox.Loc.awakens_to_voice), "P", f"{REF}, §1.4 rules 3, 7"),
        Criterion(3, "Depressed level of consciousness: awakens only to tactile stimulus",
                  lambda x, o: n.loc_at_least(x, tox.Loc.awakens_only_to_tactile), "P", f"{REF}, §1.4 rule 3"),
        Criterion(4, "Depressed level of consciousness: unarousable or requiring vigorous or repetitive tactile "
                     "stimuli to arouse; stupor or coma",
                  lambda x, o: n.loc_at_least(x, *n.LOC_GRADE_4), "P", f"{REF}, §1.4 rule 3"),
        # seizure
        Criterion(3, "Any clinical seizure, focal or generalised, that resolves rapidly",
                  lambda x, o: n.clinical_seizure(x), "P", f"{REF}, §1.6, A-6", cautions=(_NOT_RAPID,)),
        Criterion(3, "Non-convulsive seizure on EEG that resolves with intervention",
                  lambda x, o: n.eeg_seizure(x) & x("eeg_seizure_resolved_with_intervention"), "P", REF),
        Criterion(3, "Non-convulsive seizure on EEG (resolution with intervention not documented)",
                  lambda x, o: n.eeg_seizure(x), "L", f"{REF}, §1.7",
                  "any EEG seizure not meeting grade 4 is grade 3 (§1.7 pseudocode)"),
        Criterion(4, "Life-threatening prolonged seizure (> 5 min)",
                  lambda x, o: n.any_seizure(x) & (x("seizure_duration_max_min") > 5), "P", f"{REF}, §1.6"),
        Criterion(4, "Repetitive clinical or electrical seizures without return to baseline in between",
                  lambda x, o: n.any_seizure(x) & x("seizures_repetitive_no_return_to_baseline"), "P", REF),
        Criterion(4, "Status epilepticus (convulsive or non-convulsive)",
                  lambda x, o: n.status_epilepticus(x), "P", f"{REF}, §1.7"),
        # motor findings (tremor and myoclonus never count, §1.4 rule 4)
        Criterion(4, "Deep focal motor weakness such as hemiparesis or paraparesis",
                  lambda x, o: n.enum_finding(x, "deep_focal_motor_weakness", tox.MotorWeakness.hemiparesis.value,
                                              tox.MotorWeakness.paraparesis.value,
                                              tox.MotorWeakness.other_deep_focal.value), "P", f"{REF}, §1.4 rule 4"),
        # raised ICP / cerebral oedema (haemorrhage excluded, §1.4 rule 5)
        Criterion(3, "Focal/local oedema on neuroimaging",
                  lambda x, o: n.imaging_oedema(x, tox.ImagingOedema.focal.value), "P", f"{REF}, §1.4 rule 5"),
        Criterion(4, "Diffuse cerebral oedema on neuroimaging",
                  lambda x, o: n.imaging_oedema(x, tox.ImagingOedema.diffuse.value), "P", f"{REF}, §1.4 rule 5"),
        Criterion(4, "Decerebrate or decorticate posturing",
                  lambda x, o: n.enum_finding(x, "posturing", tox.Posturing.decerebrate.value,
                                              tox.Posturing.decorticate.value), "P", REF),
        Criterion(4, "Cranial nerve VI palsy", lambda x, o: n.finding(x, "cn6_palsy"), "P", REF),
        Criterion(4, "Papilloedema (any stage)", lambda x, o: n.finding(x, "papilloedema"), "P", f"{REF}, §2.4"),
        Criterion(4, "Cushing's triad", lambda x, o: n.finding(x, "cushing_triad"), "P", REF),
        Criterion(5, "Death due to ICANS (no other principal cause)", lambda x, o: x("death_due_to_icans"), "S",
                  f"{REF}, A-8"),
    ]


def _sedated(x: Inputs, o: Options, grade: pl.Expr) -> pl.Expr:
    sedation = (n.ice_status(x) == tox.IceStatus.not_assessable_sedation.value) | (
        n.capd_status(x) == tox.CapdStatus.not_assessable_sedation.value
    )
    return sedation | x("loc_other_cause")


def _baseline_below_10(x: Inputs, o: Options, grade: pl.Expr) -> pl.Expr:
    return _ice(x, o) & (x("ice_baseline_total") < 10)


def _teen_without_baseline(x: Inputs, o: Options, grade: pl.Expr) -> pl.Expr:
    return n.child_without_baseline_ice(x).fill_null(False)


def _instrument_from_data(x: Inputs, o: Options, grade: pl.Expr) -> pl.Expr:
    return x("age_years").is_null() & n.instrument(x, o).is_not_null()


def instrument_field(x: Inputs, o: Options) -> pl.Expr:
    return n.instrument(x, o)


SYSTEM = GradingSystem(
    id="astct2019_icans",
    toxicity=TOXICITY,
    title="ASTCT consensus ICANS grading (ICE, CAPD under 12 years)",
    citation="Lee DW et al. ASTCT consensus grading for cytokine release syndrome and neurologic toxicity "
    "associated with immune effector cells. Biol Blood Marrow Transplant. 2019;25(4):625-638. "
    "doi:10.1016/j.bbmt.2018.12.758",
    spec_section="other-toxicities.md §1",
    evidence="[P] adult table and ICE; [S] paediatric CAPD table",
    criteria=criteria,
    cautions=(
        SystemCaution("neuro assessment limited by sedation: ICE/CAPD or consciousness not assessable, graded from "
                      "the assessable domains (other-toxicities.md §1.6, A-3)", _sedated),
        SystemCaution("encephalopathy screen not assessable (not scored as 0): graded from the other domains "
                      "(other-toxicities.md §0.5, A-3, A-4)", n.not_assessable),
        *n.exclusion_cautions("ice_total", "capd_total", "loc", "clinical_seizure", "eeg_nonconvulsive_seizure",
                              "deep_focal_motor_weakness", "imaging_oedema", "posturing", "cn6_palsy", "papilloedema",
                              "cushing_triad"),
        SystemCaution("baseline_ice_below_10: ICE graded as an absolute score; the clinician may attribute chronic "
                      "deficits to another cause (other-toxicities.md §1.6, A-5)", _baseline_below_10),
        SystemCaution("CAPD used for a child of 12-17 years without a recorded baseline ICE; record "
                      "ice_baseline_total if the child could perform the ICE (other-toxicities.md A-1)",
                      _teen_without_baseline),
        SystemCaution("age not given: instrument chosen from the only score recorded (other-toxicities.md A-1)",
                      _instrument_from_data),
    ),
    notes=(
        "Grade = the most severe domain; findings attributed to another cause are excluded (§1.4).",
        "ICE 0 in an awake patient is grade 3; an unarousable patient is grade 4 (§1.4 rule 2).",
        "Tremor, myoclonus, headache and intracranial haemorrhage do not affect the ICANS grade (§1.4 rules 4-6).",
        "Instrument: ICE from 12 years, CAPD under 12 years or with developmental delay (A-1).",
    ),
    result_fields=(ResultField("instrument", instrument_field),),
)
