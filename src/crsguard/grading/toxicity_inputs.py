"""The grading-frame columns of the non-CRS toxicities (other-toxicities.md §7), added to `crsguard.grading.inputs`.

What lives here: which snapshot fields are not frame columns (context, times, lists), the columns that lists and
series flatten into (ICAHT day counts, one column set per CTCAE term assessment, IEC-HS therapy), the defaults of
the new inputs (same three classes as `inputs`), and the frame-level checks and totals that mirror the snapshot's
validators (ICE/CAPD items → totals), so a frame of millions is checked like one snapshot.
"""

from __future__ import annotations

import datetime as dt
import functools
import typing
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import polars as pl

from crsguard.grading import icaht_series
from crsguard.model import toxicity as tox
from crsguard.model.snapshot import Snapshot

#: Snapshot fields that are not grading columns: identity and times (used to derive `study_day` and the ICAHT
#: counts) and the lists that flatten into the columns below.
NOT_COLUMNS = frozenset(
    {
        "patient_id",
        "date_of_birth",
        *tox.DATETIME_FIELDS,
        "anc_series",
        "platelet_series",
        "ctcae_term_assessments",
        "iec_hs_directed_therapy",
    }
)


def _enum_of(field: str) -> type[StrEnum] | None:
    for arg in typing.get_args(Snapshot.model_fields[field].annotation):
        if isinstance(arg, type) and issubclass(arg, StrEnum):
            return arg
    return None


#: Enum fields of §7 → their enum: frame columns of type String, checked against the value set (`o2_device` keeps
#: its own handling in `inputs`, with synonyms).
ENUMS: dict[str, type[StrEnum]] = {
    f: e
    for f in Snapshot.model_fields
    if f not in NOT_COLUMNS and f != "o2_device" and (e := _enum_of(f)) is not None
}


# ------------------------------------------------------------------------------------------ flattened columns
def term_column(term: str, suffix: str) -> str:
    """Column of one §7.5 entry for one CTCAE term, e.g. `ctcae_tremor_adl`."""
    return f"ctcae_{term}_{suffix}"


def early_days_column(threshold: float, longest: bool = False) -> str:
    kind = "longest" if longest else "days"
    return f"icaht_early_{kind}_anc_le_{icaht_series.threshold_name(threshold)}"


def late_count_column(threshold: float) -> str:
    return f"icaht_late_count_anc_le_{icaht_series.threshold_name(threshold)}"


def platelet_column(kind: str, threshold: float) -> str:
    """T-ICAHT columns, e.g. `ticaht_early_days_plt_lt_50`."""
    return f"ticaht_{kind}_plt_lt_{threshold:.0f}"


TICAHT_LATE_DAYS_LT_20 = "ticaht_late_days_plt_lt_20"
TICAHT_LATE_VALUES = "ticaht_late_values"
TICAHT_DATA_GAP = "ticaht_data_gap"
TICAHT_CENSORED = "ticaht_censored"
ICAHT_NEVER_ABOVE = "icaht_early_never_above_0_5"
ICAHT_LATE_VALUES = "icaht_late_values"
ICAHT_DATA_GAP = "icaht_data_gap"
ICAHT_CENSORED = "icaht_censored"
ICAHT_BASELINE_NEUTROPENIA = "icaht_baseline_neutropenia"
IEC_HS_THERAPY_GIVEN = "iec_hs_directed_therapy_given"

_TERM_DTYPES: dict[str, pl.DataType] = {
    "assessed": pl.Boolean(),
    "severity": pl.String(),
    "adl": pl.String(),
    "intervention": pl.String(),
    "life_threatening": pl.Boolean(),
    "hospitalisation": pl.Boolean(),
    "dialysis": pl.Boolean(),
}

ICAHT_COLUMNS: dict[str, pl.DataType] = {
    **{
        early_days_column(t, longest): pl.Int64()
        for t in icaht_series.EARLY_THRESHOLDS
        for longest in (False, True)
    },
    ICAHT_NEVER_ABOVE: pl.Boolean(),
    **{late_count_column(t): pl.Int64() for t in icaht_series.LATE_THRESHOLDS},
    ICAHT_LATE_VALUES: pl.Int64(),
    ICAHT_DATA_GAP: pl.Boolean(),
    ICAHT_CENSORED: pl.Boolean(),
    ICAHT_BASELINE_NEUTROPENIA: pl.Boolean(),
}

TICAHT_COLUMNS: dict[str, pl.DataType] = {
    **{platelet_column("early_days", t): pl.Int64() for t in icaht_series.PLATELET_EARLY_THRESHOLDS},
    **{platelet_column("late_count", t): pl.Int64() for t in icaht_series.PLATELET_LATE_THRESHOLDS},
    TICAHT_LATE_DAYS_LT_20: pl.Int64(),
    TICAHT_LATE_VALUES: pl.Int64(),
    TICAHT_DATA_GAP: pl.Boolean(),
    TICAHT_CENSORED: pl.Boolean(),
}

#: Columns that do not exist as snapshot fields, with their dtype.
EXTRA_COLUMNS: dict[str, pl.DataType] = {
    **{term_column(t, s): d for t in tox.CTCAE_ASSESSED_TERMS for s, d in _TERM_DTYPES.items()},
    **ICAHT_COLUMNS,
    **TICAHT_COLUMNS,
    IEC_HS_THERAPY_GIVEN: pl.Boolean(),
}

#: Extra column → the input a user knows it by (for `missing`).
EXTRA_INPUT_FIELD: dict[str, str] = {
    **{
        term_column(t, s): f"ctcae_term_assessments[{t}]"
        for t in tox.CTCAE_ASSESSED_TERMS
        for s in _TERM_DTYPES
    },
    **dict.fromkeys(ICAHT_COLUMNS, "anc_series"),
    **dict.fromkeys(TICAHT_COLUMNS, "platelet_series"),
    IEC_HS_THERAPY_GIVEN: "iec_hs_directed_therapy",
}

#: Ordered enum columns of the term assessments → their order (rank comparisons).
TERM_ORDER: dict[str, tuple[str, ...]] = {
    term_column(t, s): tuple(e) for t in tox.CTCAE_ASSESSED_TERMS for s, e in tox.ORDERED_ENUMS.items()
}


# ------------------------------------------------------------------------------------------------- defaults
#: Inputs that can only lower a grade (other-toxicities.md §0.4: a finding's `_other_cause` defaults to false;
#: a death attribution is absent unless recorded). `imaging_oedema_other_cause` takes the value of
#: `intracranial_haemorrhage` when absent (§1.4 rule 5, §1.7), before this default (`frame_totals`).
LOWER_ONLY_DEFAULTS: dict[str, Any] = {
    **{f: False for f in Snapshot.model_fields if f.endswith("_other_cause")},
    "death_due_to_icans": False,
    "death_due_to_cres": False,
    "death_due_to_iec_hs": False,
}

#: Enums graded with their "nothing found" value when absent, but reported missing when that could matter.
ENUM_DEFAULTS: dict[str, str] = {
    "seizure_type": tox.SeizureType.unknown.value,
    "status_epilepticus": tox.StatusEpilepticus.none.value,
    "deep_focal_motor_weakness": tox.MotorWeakness.none.value,
    "imaging_oedema": tox.ImagingOedema.not_done.value,
    "posturing": tox.Posturing.none.value,
    "tremor_severity": tox.Severity.none.value,
    "myoclonus_severity": tox.Severity.none.value,
    "haemophagocytosis_tissue": tox.HaemophagocytosisTissue.not_examined.value,
    "iec_hs_hospitalisation": tox.IecHsHospitalisation.none.value,
}


# ---------------------------------------------------------------------------------------------- flattening
def calendar_day(moment: dt.datetime, t0: dt.datetime) -> int:
    """Day number of §0.2: calendar days since day 0, in the time zone (offset) of `t0` [L]."""
    return (moment.astimezone(t0.tzinfo).date() - t0.date()).days


def _day(moment: dt.datetime | None, t0: dt.datetime | None) -> int | None:
    return None if moment is None or t0 is None else calendar_day(moment, t0)


def _points(
    snapshot: Snapshot, series: Sequence[tox.AncPoint] | Sequence[tox.PlateletPoint] | None
) -> list[tuple[int, float]] | None:
    """(day, value) of each result; None when a timed result cannot be placed (no infusion time)."""
    points = []
    for point in series or ():
        day = (
            point.study_day
            if point.study_day is not None
            else _day(point.datetime, snapshot.infusion_datetime)
        )
        if day is None:
            return None
        points.append((day, point.value))
    return points


def _baseline_neutropenia(snapshot: Snapshot) -> bool | None:
    """§5.3 rule 7: last ANC at or before the start of lymphodepletion ≤ 0.5 × 10⁹/L (A-20)."""
    start = snapshot.lymphodepletion_start_datetime
    if start is None or not snapshot.anc_series:
        return None
    before = [p for p in snapshot.anc_series if p.datetime is not None and p.datetime <= start]
    if not before:
        return None
    return max(before, key=lambda p: p.datetime or start).value <= icaht_series.EARLY_THRESHOLDS[0]


def icaht_row(snapshot: Snapshot) -> dict[str, Any]:
    """The ICAHT columns of one snapshot (all null when there is no ANC series)."""
    points = _points(snapshot, snapshot.anc_series)
    if snapshot.anc_series is None or points is None:
        return dict.fromkeys(ICAHT_COLUMNS)
    counts = icaht_series.count(points, *_censoring(snapshot))
    return {
        **{early_days_column(t): n for t, n in counts.early_days.items()},
        **{early_days_column(t, longest=True): n for t, n in counts.early_longest.items()},
        ICAHT_NEVER_ABOVE: counts.early_never_above_0_5,
        **{late_count_column(t): n for t, n in counts.late_counts.items()},
        ICAHT_LATE_VALUES: counts.late_values,
        ICAHT_DATA_GAP: counts.data_gap,
        ICAHT_CENSORED: counts.censored,
        ICAHT_BASELINE_NEUTROPENIA: _baseline_neutropenia(snapshot),
    }


def _censoring(snapshot: Snapshot) -> tuple[int | None, int | None]:
    """(first day of progression, next therapy or death; day of last follow-up) (§5.3 rules 6, 9)."""
    t0 = snapshot.infusion_datetime
    events = (snapshot.progression_datetime, snapshot.next_therapy_datetime, snapshot.death_datetime)
    censor_days = [d for d in (_day(e, t0) for e in events) if d is not None]
    return min(censor_days, default=None), _day(snapshot.last_followup_datetime, t0)


def ticaht_row(snapshot: Snapshot) -> dict[str, Any]:
    """The T-ICAHT columns of one snapshot (§5.4); all null without a platelet series or when times can't be placed."""
    points = _points(snapshot, snapshot.platelet_series)
    transfusions = [_day(t, snapshot.infusion_datetime) for t in snapshot.platelet_transfusion_datetimes or ()]
    if snapshot.platelet_series is None or points is None or None in transfusions:
        return dict.fromkeys(TICAHT_COLUMNS)
    counts = icaht_series.count_platelets(points, [d for d in transfusions if d is not None], *_censoring(snapshot))
    return {
        **{platelet_column("early_days", t): n for t, n in counts.early_days.items()},
        **{platelet_column("late_count", t): n for t, n in counts.late_counts.items()},
        TICAHT_LATE_DAYS_LT_20: counts.late_days_below_20,
        TICAHT_LATE_VALUES: counts.late_values,
        TICAHT_DATA_GAP: counts.data_gap,
        TICAHT_CENSORED: counts.censored,
    }


def term_row(snapshot: Snapshot) -> dict[str, Any]:
    """One column set per CTCAE term entered in `ctcae_term_assessments` (§7.5); other terms stay null."""
    row: dict[str, Any] = dict.fromkeys(
        term_column(t, s) for t in tox.CTCAE_ASSESSED_TERMS for s in _TERM_DTYPES
    )
    for item in snapshot.ctcae_term_assessments or ():
        row[term_column(item.ctcae_term, "assessed")] = True
        for field, suffix in tox.TERM_ASSESSMENT_COLUMNS.items():
            value = getattr(item, field)
            row[term_column(item.ctcae_term, suffix)] = value.value if isinstance(value, StrEnum) else value
    return row


def extra_row(snapshot: Snapshot) -> dict[str, Any]:
    """Every column of this module for one validated snapshot, plus `study_day` and `age_years` derived from the
    times when not given (§7.1)."""
    therapy = snapshot.iec_hs_directed_therapy
    study_day = snapshot.study_day
    if study_day is None:
        study_day = _day(snapshot.assessment_datetime, snapshot.infusion_datetime)
    row = {
        **term_row(snapshot),
        **icaht_row(snapshot),
        **ticaht_row(snapshot),
        IEC_HS_THERAPY_GIVEN: None if therapy is None else any(t is not tox.IecHsTherapy.none for t in therapy),
        "study_day": study_day,
    }
    if snapshot.age_years is None and snapshot.date_of_birth is not None and snapshot.assessment_datetime is not None:
        row["age_years"] = age_years(snapshot.date_of_birth, snapshot.assessment_datetime)
    return row


def age_years(born: dt.date, at: dt.datetime) -> float:
    """Age at the assessment in years with decimals (§7.1 `age_years`, interop.md §1.5), days ÷ 365.25 [L]."""
    return round((at.date() - born).days / 365.25, 4)


# ------------------------------------------------------------------------------------- frame checks and totals
_ICE_ITEMS_SUM = pl.sum_horizontal(*(pl.col(c) for c in tox.ICE_ITEMS))
_ICE_ITEMS_COMPLETE = pl.all_horizontal(*(pl.col(c).is_not_null() for c in tox.ICE_ITEMS))
_CARTOX_SUM = pl.sum_horizontal(*(pl.col(c) for c in tox.CARTOX_ITEMS))
_CARTOX_COMPLETE = pl.all_horizontal(*(pl.col(c).is_not_null() for c in tox.CARTOX_ITEMS))
_QUESTIONS_SUM = pl.sum_horizontal(*(pl.col(c) for c in tox.ICE_ORIENTATION_QUESTIONS))
_QUESTIONS_COMPLETE = pl.all_horizontal(*(pl.col(c).is_not_null() for c in tox.ICE_ORIENTATION_QUESTIONS))


def _capd_points(item: str) -> pl.Expr:
    return pl.col(item).replace_strict(
        {r.value: tox.capd_points(item, r) for r in tox.CapdResponse}, default=None, return_dtype=pl.Int64
    )


_CAPD_SUM = pl.sum_horizontal(*(_capd_points(i) for i in tox.CAPD_ITEMS))
_CAPD_COMPLETE = pl.all_horizontal(*(pl.col(c).is_not_null() for c in tox.CAPD_ITEMS))

_TOTALS = (
    ("ice_orientation", _QUESTIONS_SUM, _QUESTIONS_COMPLETE, "§7.2"),
    ("ice_total", _ICE_ITEMS_SUM, _ICE_ITEMS_COMPLETE, "§1.2, §7.2"),
    ("cartox_total", _CARTOX_SUM, _CARTOX_COMPLETE, "§2.1, §7.2"),
    ("capd_total", _CAPD_SUM, _CAPD_COMPLETE, "§1.5.1, §7.3"),
)


@functools.cache
def frame_checks() -> tuple[tuple[str, pl.Expr, str], ...]:
    """(column, bad rows, message) for the value sets of §7 enums and the item/total agreement of the scores."""
    checks = [
        (column, ~pl.col(column).is_in([v.value for v in enum]), f"not allowed; allowed values: {[*enum]}")
        for column, enum in ENUMS.items()
    ]
    checks += [
        (column, ~pl.col(column).is_in(list(order)), f"not allowed; allowed values: {list(order)}")
        for column, order in TERM_ORDER.items()
    ]
    checks += [
        (
            total,
            complete & pl.col(total).is_not_null() & (pl.col(total) != items),
            f"disagrees with the sum of its items (other-toxicities.md {ref})",
        )
        for total, items, complete, ref in _TOTALS
    ]
    return tuple(checks)


def frame_totals() -> list[pl.Expr]:
    """Totals computed from complete items where the total itself was not given (in dependency order), and the
    oedema attribution pre-set by an intracranial haemorrhage (§1.7: clinician may override)."""
    return [
        *(
            pl.coalesce(pl.col(total), pl.when(complete).then(items)).alias(total)
            for total, items, complete, _ in _TOTALS
        ),
        pl.coalesce(pl.col("imaging_oedema_other_cause"), pl.col("intracranial_haemorrhage")).alias(
            "imaging_oedema_other_cause"
        ),
    ]
