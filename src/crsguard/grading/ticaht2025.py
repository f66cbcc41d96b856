"""`ticaht2025` — thrombocytopenia extension of ICAHT (Rejeski K et al., Blood 2025; other-toxicities.md §5.4),
the optional module: platelets graded by depth and duration, early (day 0 to +30) or late (day +31 to +100).

Thresholds are strict (< 50, < 20, < 100 × 10⁹/L), unlike neutrophil ICAHT (A-21). The day counting runs once
per snapshot (`crsguard.grading.icaht_series.count_platelets`); the window is chosen as for `icaht2023`.
"""

from __future__ import annotations

import polars as pl

from crsguard.grading import icaht2023
from crsguard.grading import toxicity_inputs as t
from crsguard.grading.engine import Condition, Criterion, GradingSystem, Options, ResultField, SystemCaution
from crsguard.grading.inputs import Inputs

REF = "other-toxicities.md §5.4"
TOXICITY = "icaht"
EARLY, LATE = icaht2023.EARLY, icaht2023.LATE

#: §5.4 early rows: grade → (threshold, minimum days below it) [P].
EARLY_ROWS = {1: (50.0, 1), 2: (50.0, 7), 3: (20.0, 1), 4: (20.0, 14)}
#: §5.4 late rows: grade → threshold confirmed on ≥ 2 tests or non-transient; grade 4 needs ≥ 14 days < 20 [P].
LATE_BANDS = {1: 100.0, 2: 50.0, 3: 20.0}
LATE_GRADE_4_DAYS = 14


def _early(threshold: float, days: int) -> Condition:
    def rule(x: Inputs, o: Options) -> pl.Expr:
        return icaht2023.window(x, o).eq(EARLY) & (x(t.platelet_column("early_days", threshold)) >= days)

    return rule


def _count(x: Inputs, threshold: float) -> pl.Expr:
    return x(t.platelet_column("late_count", threshold))


def _late(threshold: float, single: bool) -> Condition:
    def rule(x: Inputs, o: Options) -> pl.Expr:
        n = _count(x, threshold)
        confirmed_flag = x("ticaht_late_non_transient")
        found = (n == 1) & confirmed_flag.fill_null(False).not_() if single else (n >= 2) | ((n >= 1) & confirmed_flag)
        return icaht2023.window(x, o).eq(LATE) & found

    return rule


def criteria(options: Options) -> list[Criterion]:
    rows = [
        Criterion(g, f"Early: platelets < {th:.0f} x 10^9/L on >= {days} day(s) (cumulative)", _early(th, days), "P",
                  REF)
        for g, (th, days) in EARLY_ROWS.items()
    ]
    for g, threshold in LATE_BANDS.items():
        rows.append(Criterion(g, f"Late: platelets < {threshold:.0f} x 10^9/L on >= 2 tests or non-transient",
                              _late(threshold, single=False), "P", REF))
        rows.append(Criterion(g, f"Late: single platelet count < {threshold:.0f} x 10^9/L (provisional, single_value)",
                              _late(threshold, single=True), "R", f"{REF}, §5.3 rule 9",
                              "single_value: one late count in this band; clinician to confirm it is not transient"))
    rows.append(
        Criterion(4, f"Late: platelets < 20 x 10^9/L on >= {LATE_GRADE_4_DAYS} days",
                  lambda x, o: icaht2023.window(x, o).eq(LATE) & (x(t.TICAHT_LATE_DAYS_LT_20) >= LATE_GRADE_4_DAYS)
                  & ((_count(x, 20.0) >= 2) | x("ticaht_late_non_transient")), "P", REF)
    )
    return rows


SYSTEM = GradingSystem(
    id="ticaht2025",
    toxicity=TOXICITY,
    title="T-ICAHT: thrombocytopenia after CAR T-cell therapy (optional module)",
    citation="Rejeski K et al. T-ICAHT: grading and prognostic impact of thrombocytopenia after CAR T-cell "
    "therapy. Blood. 2025. doi:10.1182/blood.2025028833",
    spec_section=REF,
    evidence="[P] grade table; counting rules [L] shared with ICAHT (§5.3)",
    criteria=criteria,
    cautions=(
        icaht2023.WINDOW_INFERRED,
        SystemCaution("ticaht_data_gap: platelet days missing in the early window (other-toxicities.md §5.3 rule 2)",
                      lambda x, o, g: icaht2023.window(x, o).eq(EARLY) & x(t.TICAHT_DATA_GAP).fill_null(False)),
        SystemCaution("icaht_censored: counting stopped at progression, next therapy or death (other-toxicities.md "
                      "§5.3 rule 6)", lambda x, o, g: icaht2023.window(x, o).eq(EARLY)
                      & x(t.TICAHT_CENSORED).fill_null(False)),
    ),
    notes=(
        "Strict thresholds (<), unlike neutrophil ICAHT (A-21).",
        "Recovery from < 20 x 10^9/L = 3 consecutive days >= 20 without platelet transfusion in the preceding 7 "
        "days; shorter recoveries count as days below.",
    ),
    result_fields=(ResultField("window", icaht2023.window),),
)
