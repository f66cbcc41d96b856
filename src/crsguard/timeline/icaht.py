"""ICAHT day counts (other-toxicities.md §5.3) from the patient's `anc` observations, vectorised over evaluations.

The grading frame does not take `anc_series` as a list: it takes the counts that `grading.icaht_series.count`
computes from it (`grading.toxicity_inputs.ICAHT_COLUMNS`). A snapshot's `anc_series` is every ANC value from
day −7 on up to the evaluation time (interop.md §1.5; only values known by then, §0.3), so this module builds,
for each evaluation it counts at, that truncated series and applies the rules of §5.3 with Polars window
expressions over (patient, evaluation) groups — the same arithmetic as the reference implementation, which the
tests compare it with. No per-patient or per-snapshot Python loop.

Which evaluations (local choice, documented in docs/timeline.md): the counts are computed at the **last evaluation
of each study day** of a patient; earlier evaluations of the same day leave the ICAHT columns null (so the grader
reports `anc_series` missing there). ICAHT counts whole days, so one count per day is all it can change; on a
`1d` grid every evaluation is counted. Cost: (evaluated days × ANC values) rows per patient.

Censoring (§5.3 rule 6): the earliest `disease_progression`, `subsequent_therapy` or `death` event, once its time
is at or before the evaluation time. Last follow-up (§5.3 rule 9): the patient's data end (interop.md §1.5 "latest
observation time", capped by `monitoring_end`) once the evaluation has reached it; before that follow-up is open.
"""

from __future__ import annotations

import polars as pl

from crsguard.grading import icaht_series as rules
from crsguard.grading import toxicity_inputs as t
from crsguard.io.reader import Dataset

#: interop.md §1.5: `anc_series` holds every value from day −7 on.
SERIES_FIRST_DAY = -7
#: Events that stop the counting (other-toxicities.md §5.3 rule 6; interop.md §1.5, §8.5).
CENSORING_EVENTS = ("disease_progression", "subsequent_therapy", "death")
ANC_QUANTITY = "anc"
PLATELET_QUANTITY = "platelets"

_GROUP = ("patient_id", "eval_time")


def _day(moment: str) -> pl.Expr:
    """Day number of interop.md §0.3 (calendar days since the day of t0)."""
    return (pl.col(moment).dt.date() - pl.col("t0").dt.date()).dt.total_days().cast(pl.Int64)


def counted_evaluations(frame: pl.DataFrame) -> pl.LazyFrame:
    """(patient_id, eval_time): the last evaluation of each study day of each patient."""
    return frame.lazy().group_by("patient_id", "study_day").agg(pl.col("time").max().alias("eval_time")).select(*_GROUP)


def _context(evaluations: pl.LazyFrame, dataset: Dataset, end: pl.LazyFrame) -> pl.LazyFrame:
    """Per evaluation: t0, lymphodepletion start, early/late window ends, censoring and follow-up days."""
    censor = (
        dataset.events.lazy()
        .filter(pl.col("event").is_in(list(CENSORING_EVENTS)))
        .group_by("patient_id")
        .agg(pl.col("start_time").min().alias("__censor_time"))
    )
    patients = dataset.patients.lazy().select("patient_id", "t0", "lymphodepletion_start")
    known = pl.col("__censor_time") <= pl.col("eval_time")
    censor_day = pl.when(known).then(_day("__censor_time"))
    followup_day = pl.when(pl.col("data_end") <= pl.col("eval_time")).then(_day("data_end"))
    return (
        evaluations.join(patients, on="patient_id")
        .join(end, on="patient_id", how="left")
        .join(censor, on="patient_id", how="left")
        .with_columns(censor_day.alias("censor_day"), followup_day.alias("followup_day"))
        .with_columns(
            pl.min_horizontal(pl.lit(rules.EARLY_LAST_DAY), pl.col("censor_day") - 1).alias("early_last"),
            pl.min_horizontal(pl.lit(rules.LATE_LAST_DAY), pl.col("censor_day") - 1, "followup_day").alias("late_last"),
        )
        .select(*_GROUP, "t0", "lymphodepletion_start", "censor_day", "followup_day", "early_last", "late_last")
    )


def _points(context: pl.LazyFrame, observations: pl.DataFrame, quantity: str) -> pl.LazyFrame:
    """Every value of `quantity` from day −7 on known at each evaluation: (group, time, day, value)."""
    values = observations.lazy().filter(pl.col("quantity") == quantity).select("patient_id", "time", "value")
    return (
        context.select(*_GROUP, "t0")
        .join(values, on="patient_id")
        .filter(pl.col("time") <= pl.col("eval_time"))
        .with_columns(_day("time").alias("day"))
        .filter(pl.col("day") >= SERIES_FIRST_DAY)
        .drop("t0")
    )


def _daily_series(daily: pl.LazyFrame, groups: pl.LazyFrame, first: pl.Expr, last: pl.Expr) -> pl.LazyFrame:
    """Rules 1-2: days `first` … `last` of each group, the daily lowest, linear interpolation over gaps ≤ 7 days."""
    measured = pl.col("lowest").is_not_null()

    def fill(column: str, backward: bool) -> pl.Expr:
        known = pl.when(measured).then(pl.col(column))
        return (known.backward_fill() if backward else known.forward_fill()).over(_GROUP)

    span = pl.col("next_day") - pl.col("prev_day")
    interpolated = pl.when(measured.not_() & (span - 1 <= rules.MAX_INTERPOLATED_GAP_DAYS)).then(
        pl.col("prev_value")
        + (pl.col("next_value") - pl.col("prev_value")) * (pl.col("day") - pl.col("prev_day")) / span
    )
    return (
        groups.select(*_GROUP, pl.int_ranges(first, last + 1).alias("day"))
        .explode("day")
        .join(daily, on=[*_GROUP, "day"], how="left")
        .sort(*_GROUP, "day")
        .with_columns(
            fill("day", backward=False).alias("prev_day"),
            fill("lowest", backward=False).alias("prev_value"),
            fill("day", backward=True).alias("next_day"),
            fill("lowest", backward=True).alias("next_value"),
        )
        .with_columns(pl.coalesce("lowest", interpolated).alias("value"))
        .select(*_GROUP, "day", "lowest", "value")
    )


def _gap(series: pl.LazyFrame) -> pl.LazyFrame:
    """Rule 2: a gap stays when two measured days are > 7 days apart or day 0 is not measured."""
    measured = series.filter(pl.col("lowest").is_not_null())
    long_gap = (pl.col("day") - pl.col("day").shift(1) - 1 > rules.MAX_INTERPOLATED_GAP_DAYS).fill_null(False)
    gaps = measured.group_by(_GROUP).agg((long_gap.any() | (pl.col("day").min() > 0)).alias("__gap"))
    return (
        series.select(*_GROUP)
        .unique()
        .join(gaps, on=_GROUP, how="left")
        .select(*_GROUP, pl.col("__gap").fill_null(True))
    )


def _runs(flag: str) -> pl.Expr:
    return pl.col(flag).rle_id().over(_GROUP)


def _low_days(
    series: pl.LazyFrame, threshold: float, strict: bool, days_column: str, longest_column: str | None
) -> pl.LazyFrame:
    """Rules 3-4 at one threshold: days low (≤ for ANC, < for platelets, A-21) counting 1-2 day recoveries between
    low days, and (optionally) the longest such run."""
    name = rules.threshold_name(threshold)
    low, merged = f"__low_{name}", f"__merged_{name}"
    run = [*_GROUP, "__run"]
    before = pl.col("__before").first().over(run).fill_null(False)
    after = pl.col("__after").last().over(run).fill_null(False)
    short = pl.len().over(run) < rules.STABLE_RECOVERY_DAYS
    recovered_briefly = pl.col(low).not_().fill_null(False) & before & after & short
    flagged = (
        series.with_columns(((pl.col("value") < threshold) if strict else (pl.col("value") <= threshold)).alias(low))
        .with_columns(
            _runs(low).alias("__run"),
            pl.col(low).shift(1).over(_GROUP).alias("__before"),
            pl.col(low).shift(-1).over(_GROUP).alias("__after"),
        )
        .with_columns((pl.col(low).fill_null(False) | recovered_briefly).alias(merged))
        .with_columns(_runs(merged).alias("__run"))
        .with_columns(pl.len().over(run).alias("__run_length"))
    )
    longest = pl.col("__run_length").filter(pl.col(merged)).max().fill_null(0).cast(pl.Int64)
    return flagged.group_by(_GROUP).agg(
        pl.col(merged).sum().cast(pl.Int64).alias(days_column),
        *([] if longest_column is None else [longest.alias(longest_column)]),
    )


def _never_above(series: pl.LazyFrame) -> pl.LazyFrame:
    """Rule 5 / A-23 before closing: first fall ≤ 0.5 by day +3 and no 3 consecutive measured days above it."""
    threshold = rules.EARLY_THRESHOLDS[0]
    valued = series.filter(pl.col("value").is_not_null())
    first_low = pl.col("day").filter(pl.col("value") <= threshold).min().over(_GROUP)
    after = valued.with_columns(first_low.alias("__first_low")).filter(pl.col("day") >= pl.col("__first_low"))
    above = (pl.col("value") > threshold).alias("__above")
    recovery = (
        after.with_columns(above)
        .with_columns(_runs("__above").alias("__run"))
        .with_columns(pl.len().over(*_GROUP, "__run").alias("__run_length"))
        .group_by(_GROUP)
        .agg(
            pl.col("__first_low").first(),
            (pl.col("__above") & (pl.col("__run_length") >= rules.STABLE_RECOVERY_DAYS)).any().alias("__recovered"),
        )
    )
    holds = (pl.col("__first_low") <= rules.NEVER_ABOVE_FIRST_FALL_BY_DAY) & pl.col("__recovered").not_()
    return recovery.select(*_GROUP, holds.alias("__never_above"))


_LATE_WINDOW = pl.col("day").is_between(rules.LATE_FIRST_DAY, pl.col("late_last"))


def _late(daily: pl.LazyFrame, context: pl.LazyFrame, bands: dict[str, pl.Expr], values_column: str) -> pl.LazyFrame:
    """§5.2, rule 9, §5.4: daily values from day +31 to the late window end, counted per band (column → test)."""
    late = pl.col("lowest").filter(_LATE_WINDOW)
    return (
        daily.join(context.select(*_GROUP, "late_last"), on=_GROUP)
        .group_by(_GROUP)
        .agg(
            *(test.filter(_LATE_WINDOW).sum().cast(pl.Int64).alias(column) for column, test in bands.items()),
            late.len().cast(pl.Int64).alias(values_column),
        )
    )


def _baseline_neutropenia(points: pl.LazyFrame, context: pl.LazyFrame) -> pl.LazyFrame:
    """Rule 7 / A-20: the last ANC at or before the start of lymphodepletion is ≤ 0.5 × 10⁹/L (null if unknown)."""
    before = pl.col("time") <= pl.col("lymphodepletion_start")
    last = pl.col("value").filter(before).sort_by(pl.col("time").filter(before)).last()
    return (
        points.join(context.select(*_GROUP, "lymphodepletion_start"), on=_GROUP)
        .group_by(_GROUP)
        .agg((last <= rules.EARLY_THRESHOLDS[0]).alias(t.ICAHT_BASELINE_NEUTROPENIA))
    )


def _early_series(
    frame: pl.DataFrame, dataset: Dataset, end: pl.LazyFrame, quantity: str
) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """(context, points, daily lowest, groups with `observed_last`, early daily series) of one count quantity."""
    context = _context(counted_evaluations(frame), dataset, end)
    points = _points(context, dataset.observations, quantity)
    daily = points.group_by(*_GROUP, "day").agg(pl.col("value").min().alias("lowest"))
    early = pl.col("day").filter(pl.col("day") <= pl.col("early_last"))
    groups = (
        daily.join(context, on=_GROUP)
        .group_by(_GROUP)
        .agg(early.max().fill_null(-1).alias("observed_last"), pl.col("early_last").first())
        .join(context.select(*_GROUP, "censor_day", "followup_day"), on=_GROUP)
    )
    series = _daily_series(daily, groups, pl.lit(0), pl.max_horizontal("observed_last", 0))
    return context, points, daily, groups, series


def _data_gap_and_censoring(column_gap: str, column_censored: str) -> list[pl.Expr]:
    return [
        (pl.col("__gap") | (pl.col("observed_last") < pl.col("early_last"))).alias(column_gap),
        (pl.col("censor_day") <= rules.EARLY_LAST_DAY).fill_null(False).alias(column_censored),
    ]


def icaht_counts(frame: pl.DataFrame, dataset: Dataset, end: pl.LazyFrame) -> pl.LazyFrame:
    """(patient_id, time, ICAHT columns) at the last evaluation of each study day that has an ANC value by then.

    Mirrors `grading.icaht_series.count` (other-toxicities.md §5.3 rules 1-7, 9) on the series a snapshot at that
    time would carry; evaluations without any ANC value are absent (their columns stay null: `anc_series` missing).
    """
    context, points, daily, groups, series = _early_series(frame, dataset, end, ANC_QUANTITY)
    closed = (
        (pl.col("observed_last") >= rules.EARLY_LAST_DAY)
        | (pl.col("early_last") < rules.EARLY_LAST_DAY)
        | (pl.col("followup_day") < rules.EARLY_LAST_DAY).fill_null(False)
    )
    never = (pl.col("observed_last") >= 0) & pl.col("__never_above").fill_null(False)
    result = groups
    for part in (
        *(
            _low_days(series, x, False, t.early_days_column(x), t.early_days_column(x, longest=True))
            for x in rules.EARLY_THRESHOLDS
        ),
        _gap(series),
        _never_above(series),
        _late(
            daily,
            context,
            {t.late_count_column(x): pl.col("lowest") <= x for x in rules.LATE_THRESHOLDS},
            t.ICAHT_LATE_VALUES,
        ),
        _baseline_neutropenia(points, context),
    ):
        result = result.join(part, on=_GROUP, how="left")
    return result.select(
        "patient_id",
        pl.col("eval_time").alias("time"),
        *(pl.col(c) for c in t.ICAHT_COLUMNS if c.startswith("icaht_early_") and c != t.ICAHT_NEVER_ABOVE),
        pl.when(never & closed.not_()).then(None).otherwise(never).alias(t.ICAHT_NEVER_ABOVE),
        *(pl.col(t.late_count_column(threshold)) for threshold in rules.LATE_THRESHOLDS),
        pl.col(t.ICAHT_LATE_VALUES),
        *_data_gap_and_censoring(t.ICAHT_DATA_GAP, t.ICAHT_CENSORED),
        pl.col(t.ICAHT_BASELINE_NEUTROPENIA),
    )


def _late_days_below_20(daily: pl.LazyFrame, context: pl.LazyFrame) -> pl.LazyFrame:
    """§5.4: late days < 20 × 10⁹/L on the day +31 … last late value series (interpolated, non-stable recoveries
    counted); 0 without late values."""
    last_late = pl.col("day").filter(_LATE_WINDOW).max()
    late_groups = (
        daily.join(context.select(*_GROUP, "late_last"), on=_GROUP)
        .group_by(_GROUP)
        .agg(last_late.alias("__last_late"))
        .drop_nulls("__last_late")
    )
    series = _daily_series(daily, late_groups, pl.lit(rules.LATE_FIRST_DAY), pl.col("__last_late"))
    return _low_days(series, rules.PLATELET_EARLY_THRESHOLDS[1], True, t.TICAHT_LATE_DAYS_LT_20, None)


def ticaht_counts(frame: pl.DataFrame, dataset: Dataset, end: pl.LazyFrame) -> pl.LazyFrame:
    """(patient_id, time, T-ICAHT columns) like `icaht_counts`, from `platelets` (other-toxicities.md §5.4).

    Mirrors `grading.icaht_series.count_platelets` with no platelet transfusion: transfusions are assessment-only
    inputs (interop.md §1.5), so a count ≥ 20 shortly after a transfusion is read as a recovery here.
    """
    context, _, daily, groups, series = _early_series(frame, dataset, end, PLATELET_QUANTITY)
    result = groups
    for part in (
        *(
            _low_days(series, x, True, t.platelet_column("early_days", x), None)
            for x in rules.PLATELET_EARLY_THRESHOLDS
        ),
        _gap(series),
        _late(
            daily,
            context,
            {t.platelet_column("late_count", x): pl.col("lowest") < x for x in rules.PLATELET_LATE_THRESHOLDS},
            t.TICAHT_LATE_VALUES,
        ),
        _late_days_below_20(daily, context),
    ):
        result = result.join(part, on=_GROUP, how="left")
    return result.select(
        "patient_id",
        pl.col("eval_time").alias("time"),
        *(pl.col(t.platelet_column("early_days", x)) for x in rules.PLATELET_EARLY_THRESHOLDS),
        *(pl.col(t.platelet_column("late_count", x)) for x in rules.PLATELET_LATE_THRESHOLDS),
        pl.col(t.TICAHT_LATE_DAYS_LT_20).fill_null(0),
        pl.col(t.TICAHT_LATE_VALUES),
        *_data_gap_and_censoring(t.TICAHT_DATA_GAP, t.TICAHT_CENSORED),
    )
