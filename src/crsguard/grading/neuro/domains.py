"""Findings shared by the neurotoxicity systems, as three-valued Polars expressions (other-toxicities.md §1.7).

A finding counts only when it is not attributed to another cause (§0.4): every `<finding>_other_cause` flag
defaults to false, and intracranial haemorrhage pre-sets the oedema flag (§1.4 rule 5, §1.7).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from crsguard.grading.engine import Options, SystemCaution
from crsguard.grading.inputs import Inputs
from crsguard.model import toxicity as tox

#: A-1: ICE from 12.0 years of age (children < 12 and any age with developmental delay use the CAPD) [L].
ICE_MIN_AGE_YEARS = 12.0
#: A-1 speaks of "the child" for the baseline-ICE condition: adults (≥ 18 years) always use the ICE [L].
ADULT_AGE_YEARS = 18.0
#: §1.5.1: a CAPD total of at least 9 is a positive delirium screen [P].
CAPD_POSITIVE = 9

ICE, CAPD = "ice", "capd"


def finding(x: Inputs, column: str) -> pl.Expr:
    """A boolean finding, counted only when not attributed to another cause (§0.4)."""
    return x(column) & x(f"{column}_other_cause").not_()


def enum_finding(x: Inputs, column: str, *values: str) -> pl.Expr:
    """An enum finding with one of `values`, not attributed to another cause (§0.4)."""
    return x(column).is_in(list(values)) & x(f"{column}_other_cause").not_()


def imaging_oedema(x: Inputs, *extents: str) -> pl.Expr:
    """Oedema of one of `extents`; excluded when flagged, which an intracranial haemorrhage pre-sets (§1.4 rule 5,
    §1.7; `crsguard.grading.toxicity_inputs.frame_totals`)."""
    return x("imaging_oedema").is_in(list(extents)) & x("imaging_oedema_other_cause").not_()


def ice_status(x: Inputs) -> pl.Expr:
    """interop.md §1.5: a total without a status is an assessed ICE."""
    assessed = pl.lit(tox.IceStatus.assessed.value)
    return pl.coalesce(x("ice_status"), pl.when(x("ice_total").is_not_null()).then(assessed))


def capd_status(x: Inputs) -> pl.Expr:
    assessed = pl.lit(tox.CapdStatus.assessed.value)
    return pl.coalesce(x("capd_status"), pl.when(x("capd_total").is_not_null()).then(assessed))


def _has_ice(x: Inputs) -> pl.Expr:
    return x("ice_status").is_not_null() | x("ice_total").is_not_null()


def _has_capd(x: Inputs) -> pl.Expr:
    return x("capd_status").is_not_null() | x("capd_total").is_not_null()


def instrument(x: Inputs, options: Options) -> pl.Expr:
    """A-1: CAPD under 12 years or with baseline developmental delay; ICE for adults; a child of 12-17 years uses the
    ICE only when a baseline ICE is recorded (could perform it), else the CAPD. With age unknown, the only
    instrument recorded [L]; null when neither age nor the data decide."""
    age = x("age_years")
    delay = x("baseline_developmental_delay").fill_null(False)
    baseline_ice = x("ice_baseline_total").is_not_null()
    by_data = pl.when(_has_ice(x) & _has_capd(x).not_()).then(pl.lit(ICE)).when(
        _has_capd(x) & _has_ice(x).not_()
    ).then(pl.lit(CAPD))
    return (
        pl.when(delay)
        .then(pl.lit(CAPD))
        .when(age >= ADULT_AGE_YEARS)
        .then(pl.lit(ICE))
        .when(age >= ICE_MIN_AGE_YEARS)
        .then(pl.when(baseline_ice).then(pl.lit(ICE)).otherwise(pl.lit(CAPD)))
        .when(age < ICE_MIN_AGE_YEARS)
        .then(pl.lit(CAPD))
        .otherwise(by_data)
    )


def child_without_baseline_ice(x: Inputs) -> pl.Expr:
    """A 12-17-year-old graded by CAPD because no baseline ICE is recorded (A-1)."""
    age = x("age_years")
    no_delay = x("baseline_developmental_delay").fill_null(False).not_()
    return (age >= ICE_MIN_AGE_YEARS) & (age < ADULT_AGE_YEARS) & x("ice_baseline_total").is_null() & no_delay


def uses(x: Inputs, options: Options, name: str) -> pl.Expr:
    return instrument(x, options) == name


def ice_band(x: Inputs, low: int, high: int) -> pl.Expr:
    """An assessed ICE total in [low, high], not attributed to another cause (§1.2 bands)."""
    total = x("ice_total")
    assessed = ice_status(x) == tox.IceStatus.assessed.value
    return assessed & total.is_between(low, high) & x("ice_total_other_cause").not_()


def unarousable_cannot_perform(x: Inputs, status: pl.Expr, value: str) -> pl.Expr:
    """ICE/CAPD impossible because the patient is unarousable, not from sedation or another cause (§1.6)."""
    return (status == value) & x("loc_other_cause").not_()


def loc_at_least(x: Inputs, *levels: tox.Loc) -> pl.Expr:
    """Depressed consciousness at one of `levels`, not attributed to another cause (§1.4 rule 3)."""
    return enum_finding(x, "loc", *(level.value for level in levels))


LOC_GRADE_4 = (tox.Loc.vigorous_or_repetitive_tactile, tox.Loc.unarousable, tox.Loc.stupor, tox.Loc.coma)


def clinical_seizure(x: Inputs) -> pl.Expr:
    return finding(x, "clinical_seizure")


def eeg_seizure(x: Inputs) -> pl.Expr:
    return finding(x, "eeg_nonconvulsive_seizure")


def any_seizure(x: Inputs) -> pl.Expr:
    return clinical_seizure(x) | eeg_seizure(x)


def status_epilepticus(x: Inputs) -> pl.Expr:
    """Convulsive status counts as a clinical seizure, non-convulsive as an EEG seizure (interop.md §1.5)."""
    status = x("status_epilepticus")
    convulsive = (status == tox.StatusEpilepticus.convulsive.value) & x("clinical_seizure_other_cause").not_()
    non_convulsive = (status == tox.StatusEpilepticus.non_convulsive.value) & x(
        "eeg_nonconvulsive_seizure_other_cause"
    ).not_()
    return convulsive | non_convulsive


#: Findings with an `_other_cause` companion (§0.4), as the words the output uses.
ATTRIBUTABLE = {
    "ice_total": "ICE score",
    "capd_total": "CAPD score",
    "cartox_total": "CARTOX-10 score",
    "loc": "depressed level of consciousness",
    "clinical_seizure": "clinical seizure",
    "eeg_nonconvulsive_seizure": "EEG seizure",
    "deep_focal_motor_weakness": "deep focal motor weakness",
    "new_motor_weakness": "new motor weakness",
    "imaging_oedema": "oedema on imaging",
    "posturing": "posturing",
    "cn6_palsy": "cranial nerve VI palsy",
    "papilloedema": "papilloedema",
    "cushing_triad": "Cushing's triad",
}
#: The "nothing found" value of the enum findings.
_ABSENT = {"loc": ("alert",), "deep_focal_motor_weakness": ("none",), "imaging_oedema": ("none", "not_done"),
           "posturing": ("none",)}


def excluded(x: Inputs, column: str) -> pl.Expr:
    """The finding is present but attributed to another cause (§0.4: listed as "excluded: other cause")."""
    value = x(column)
    if column in _ABSENT:
        present = value.is_not_null() & ~value.is_in(list(_ABSENT[column]))
    elif column in ("ice_total", "capd_total", "cartox_total"):
        present = value.is_not_null()
    else:
        present = value.fill_null(False)
    return present & x(f"{column}_other_cause").fill_null(False)


def exclusion_cautions(*columns: str) -> tuple[SystemCaution, ...]:
    """One result warning per finding excluded as attributable to another cause (§0.4, A-7)."""
    def rule(column: str) -> Callable[[Inputs, Options, pl.Expr], pl.Expr]:
        def when(x: Inputs, o: Options, grade: pl.Expr) -> pl.Expr:
            return excluded(x, column)

        return when

    return tuple(
        SystemCaution(f"excluded: other cause: {ATTRIBUTABLE[c]} (other-toxicities.md §0.4)", rule(c)) for c in columns
    )


def not_assessable(x: Inputs, o: Options, grade: pl.Expr) -> pl.Expr:
    """The screen was not obtained for a reason other than an unarousable patient (§0.5, A-3, A-4)."""
    ice = ice_status(x).str.starts_with("not_assessable") & (ice_status(x) != "not_assessable_unarousable")
    capd = capd_status(x).str.starts_with("not_assessable") & (capd_status(x) != "not_assessable_unarousable")
    return (ice | capd).fill_null(False)
