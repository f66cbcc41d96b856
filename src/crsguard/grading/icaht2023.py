"""`icaht2023` — EHA/EBMT immune effector cell-associated haematotoxicity (Rejeski K et al., Blood 2023;
other-toxicities.md §5): neutropenia graded by depth and duration, early (day 0 to +30) or late (after day +30).

The day counting of §5.3 runs once per snapshot (`crsguard.grading.icaht_series`); the criteria read its counts.
The window graded is a result field (`window`), chosen from the assessment day (option `icaht_window`).
"""

from __future__ import annotations

import polars as pl

from crsguard.grading import icaht_series as series
from crsguard.grading import toxicity_inputs as t
from crsguard.grading.engine import Condition, Criterion, GradingSystem, Options, ResultField, SystemCaution
from crsguard.grading.inputs import Inputs

REF = "other-toxicities.md §5"
TOXICITY = "icaht"
EARLY, LATE = "early", "late"

#: §5.1 early bands: days with ANC ≤ 0.5 × 10⁹/L for grades 1-3, days ≤ 0.1 × 10⁹/L for grades 3-4 [S].
EARLY_DAYS_LE_0_5 = {1: 1, 2: 7, 3: 14}
EARLY_DAYS_LE_0_1 = {3: 7, 4: 14}
#: §5.2 late bands: grade → ANC threshold (≤, 10⁹/L) [S].
LATE_BANDS = dict(zip((1, 2, 3, 4), series.LATE_THRESHOLDS, strict=True))
#: §5.2 / §5.3 rule 9: a late value is confirmed by this many measurements in the band [S].
LATE_CONFIRMING_VALUES = 2


def window(x: Inputs, options: Options) -> pl.Expr:
    """The window graded: the option, else late after day +30 (assessment day, else the series' reach) [L]."""
    chosen = options["icaht_window"]
    if chosen != "auto":
        return pl.lit(chosen)
    day = x("study_day")
    late = pl.when(day.is_not_null()).then(day > series.EARLY_LAST_DAY).otherwise(x(t.ICAHT_LATE_VALUES) > 0)
    return pl.when(late.fill_null(False)).then(pl.lit(LATE)).otherwise(pl.lit(EARLY))


def _in(x: Inputs, options: Options, name: str) -> pl.Expr:
    return window(x, options) == name


def _early_days(x: Inputs, options: Options, threshold: float) -> pl.Expr:
    longest = options["icaht_early_duration"] == "longest_episode"
    return x(t.early_days_column(threshold, longest=longest))


def _late_confirmed(x: Inputs, threshold: float) -> pl.Expr:
    n = x(t.late_count_column(threshold))
    return (n >= LATE_CONFIRMING_VALUES) | ((n >= 1) & x("icaht_late_non_transient"))


def _late_single(x: Inputs, threshold: float) -> pl.Expr:
    unconfirmed = x("icaht_late_non_transient").fill_null(False).not_()
    return (x(t.late_count_column(threshold)) == 1) & unconfirmed


def _early_rule(threshold: float, days: int) -> Condition:
    def rule(x: Inputs, o: Options) -> pl.Expr:
        return _in(x, o, EARLY) & (_early_days(x, o, threshold) >= days)

    return rule


def _late_rule(threshold: float, single: bool) -> Condition:
    def rule(x: Inputs, o: Options) -> pl.Expr:
        found = _late_single(x, threshold) if single else _late_confirmed(x, threshold)
        return _in(x, o, LATE) & found

    return rule


def criteria(options: Options) -> list[Criterion]:
    rows = [
        Criterion(g, f"Early: ANC <= 0.5 x 10^9/L (500/µL) on >= {days} days (cumulative, §5.3)",
                  _early_rule(0.5, days), "S", f"{REF}.1, §5.3")
        for g, days in EARLY_DAYS_LE_0_5.items()
    ]
    rows += [
        Criterion(g, f"Early: ANC <= 0.1 x 10^9/L (100/µL) on >= {days} days", _early_rule(0.1, days), "S",
                  f"{REF}.1, §5.3")
        for g, days in EARLY_DAYS_LE_0_1.items()
    ]
    rows.append(
        Criterion(4, "Early: ANC never above 0.5 x 10^9/L once fallen (by day +3) through day +30 or death/last ANC",
                  lambda x, o: _in(x, o, EARLY) & x(t.ICAHT_NEVER_ABOVE), "L", f"{REF}.1, §5.3 rule 5, A-23",
                  "never-above rule: first fall by day +3, no stable (3-day) recovery")
    )
    for g, threshold in LATE_BANDS.items():
        per_ul = f"{threshold * 1000:.0f}/µL"
        rows.append(
            Criterion(g, f"Late: ANC <= {threshold} x 10^9/L ({per_ul}) on >= 2 measurements or non-transient",
                      _late_rule(threshold, single=False), "S", f"{REF}.2")
        )
        rows.append(
            Criterion(g, f"Late: single ANC <= {threshold} x 10^9/L ({per_ul}) (provisional, single_value)",
                      _late_rule(threshold, single=True), "R", f"{REF}.2, §5.3 rule 9, A-22",
                      "single_value: one late value in this band; clinician to confirm it is not transient")
        )
    return rows


#: The window was chosen without an assessment day (study_day absent, option auto): the result says so.
WINDOW_INFERRED = SystemCaution(
    "window inferred from the series' reach: study_day not given (late only if the series reaches day +31; "
    "other-toxicities.md §5, option icaht_window)",
    lambda x, o, g: pl.lit(o["icaht_window"] == "auto") & x("study_day").is_null(),
)


def _flag(column: str, name: str) -> SystemCaution:
    return SystemCaution(name, lambda x, o, g: x(column).fill_null(False))


SYSTEM = GradingSystem(
    id="icaht2023",
    toxicity=TOXICITY,
    title="EHA/EBMT immune effector cell-associated haematotoxicity (ICAHT), early and late",
    citation="Rejeski K et al. Immune effector cell-associated hematotoxicity: EHA/EBMT consensus grading and best "
    "practice recommendations. Blood. 2023;142(10):865-877. doi:10.1182/blood.2023020578",
    spec_section=REF,
    evidence="[S] grade tables; counting rules [L] (§5.3)",
    criteria=criteria,
    cautions=(
        WINDOW_INFERRED,
        SystemCaution("icaht_data_gap: ANC days missing in the early window (gaps > 7 days are not interpolated and "
                      "count as not neutropenic) (other-toxicities.md §5.3 rule 2)",
                      lambda x, o, g: _in(x, o, EARLY) & x(t.ICAHT_DATA_GAP).fill_null(False)),
        SystemCaution("icaht_censored: counting stopped at progression, next therapy or death (other-toxicities.md "
                      "§5.3 rule 6)", lambda x, o, g: _in(x, o, EARLY) & x(t.ICAHT_CENSORED).fill_null(False)),
        _flag(t.ICAHT_BASELINE_NEUTROPENIA, "baseline_neutropenia: ANC <= 0.5 x 10^9/L at the start of "
              "lymphodepletion; exclude from aggregate ICAHT statistics (other-toxicities.md A-20)"),
        SystemCaution("ICAHT (adapted for TCE): day 0 = first step-up dose (other-toxicities.md A-27)",
                      lambda x, o, g: x("therapy_class") == "tce"),
        SystemCaution("G-CSF given: does not change the grade (other-toxicities.md §5.3 rule 8)",
                      lambda x, o, g: x("g_csf_given").fill_null(False)),
    ),
    notes=(
        "Early: the higher of the <= 0.5 and <= 0.1 x 10^9/L duration rows; thresholds inclusive (A-21).",
        "Late (day +31 to +100): lowest band confirmed on >= 2 values or flagged non-transient.",
    ),
    result_fields=(ResultField("window", window),),
)
