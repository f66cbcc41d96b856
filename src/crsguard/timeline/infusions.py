"""Vasopressor inputs from infusion segments (interop.md §1.5, §2.2; crs-grading.md §2.3, D3–D5, A14).

Segments become *runs* (contiguous segments of one agent), runs become *levels* (for each segment's rate, the
longest stretch of contiguous segments at or above that rate), and each grid point takes, per agent, the longest
run and the highest level sustained ≥ `HIGH_DOSE_MIN_HOURS` that overlap its window (a run may start before the
window). Everything is joins and window expressions over all patients of a batch at once.

Concurrency: "multiple vasopressors" means agents running *at the same time* (the issue's point about SAS macros
counting pressors over a whole episode). The grader counts agents with `<drug>_hours > 0`; when no two
non-vasopressin agents overlapped inside the window, only the agent with the longest run is passed (a switch
between agents is one vasopressor), and the others still enter the A14 norepinephrine-equivalent.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from crsguard.grading.crs_derived import NE_EQ_DIVISOR
from crsguard.grading.inputs import (
    HIGH_DOSE_MIN_HOURS,
    NE_EQ_DERIVED,
    WEIGHT_DOSED,
    hours_column,
    sustained_column,
)
from crsguard.model.snapshot import VasopressorDrug
from crsguard.model.vocabulary import DRUGS

#: Agents entered as vasopressors (interop.md §1.5: never dobutamine, never a bolus).
PRESSORS = tuple(d.value for d in VasopressorDrug if DRUGS[d.value].counts_as_vasopressor)
NON_VASOPRESSIN = tuple(d for d in PRESSORS if d != VasopressorDrug.vasopressin.value)
#: Dopamine is passed per kg; the others dosed by weight are passed in mcg/min (interop.md §1.5, D3).
PER_KG_AGENTS = (VasopressorDrug.dopamine.value,)
ALL_AGENTS = "__any"
NE_EQ_SERIES = "__ne_eq"
_US_PER_HOUR = 3_600_000_000


def pressor_segments(interventions: pl.LazyFrame, data_end: pl.LazyFrame) -> pl.LazyFrame:
    """Rate segments with rate > 0: patient_id, agent, start, end, rate (canonical), rate_mcg_min (absolute).

    An open segment runs until the next segment of the same agent starts, else until the patient's data end.
    """
    segments = interventions.filter(
        (pl.col("kind") == "drug_infusion_segment")
        & pl.col("agent").is_in(PRESSORS)
        & pl.col("bolus").fill_null(False).not_()
        & (pl.col("rate_value") > 0)
    ).join(data_end, on="patient_id", how="left")
    next_start = pl.col("start_time").shift(-1).over("patient_id", "agent", order_by="start_time")
    per_minute = pl.col("agent").is_in([d.value for d in WEIGHT_DOSED if d.value not in PER_KG_AGENTS])
    return segments.select(
        "patient_id",
        "agent",
        pl.col("start_time").alias("start"),
        pl.coalesce("end_time", next_start, "data_end").alias("end"),
        pl.col("rate_value").alias("rate"),
        pl.when(per_minute).then(pl.col("rate_value") * pl.col("dosing_weight_kg")).alias("rate_mcg_min"),
    ).filter(pl.col("end") > pl.col("start"))


def _runs(segments: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Merge contiguous or overlapping intervals per key into runs (run_start, run_end, run_id)."""
    ordered = segments.sort(*keys, "start", "end")
    previous_end = pl.col("end").cum_max().shift(1).over(keys)
    new_run = previous_end.is_null() | (pl.col("start") > previous_end)
    return ordered.with_columns(new_run.cast(pl.Int32).cum_sum().over(keys).alias("run_id"))


def _levels(segments: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Per segment: the stretch of contiguous segments at a rate ≥ its own rate (level_start, level_end, rate).

    For each segment i the stretch ends at the nearest segment of lower rate on each side within its run.
    """
    runs = _runs(segments, keys).with_columns(pl.int_range(pl.len()).over([*keys, "run_id"]).alias("idx"))
    group = [*keys, "run_id"]
    pairs = runs.join(
        runs.select(
            *group,
            pl.col("idx").alias("j"),
            pl.col("rate").alias("rate_j"),
            pl.col("start").alias("start_j"),
            pl.col("end").alias("end_j"),
        ),
        on=group,
    )
    lower = pl.col("rate_j") < pl.col("rate")
    breaks = pairs.group_by(*group, "idx").agg(
        pl.col("j").filter(lower & (pl.col("j") < pl.col("idx"))).max().alias("left"),
        pl.col("j").filter(lower & (pl.col("j") > pl.col("idx"))).min().alias("right"),
    )
    inside = (pl.col("j") > pl.col("left").fill_null(-1)) & (pl.col("j") < pl.col("right").fill_null(1 << 30))
    return (
        pairs.join(breaks, on=[*group, "idx"])
        .filter(inside)
        .group_by(*group, "idx")
        .agg(
            pl.col("start_j").min().alias("level_start"),
            pl.col("end_j").max().alias("level_end"),
            pl.col("rate").first().alias("rate"),
            pl.col("rate_mcg_min").first().alias("rate_mcg_min"),
        )
    )


def _hours(end: pl.Expr, start: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_microseconds() / _US_PER_HOUR


def _overlapping(grid: pl.LazyFrame, intervals: pl.LazyFrame, start: str, end: str, window: timedelta) -> pl.LazyFrame:
    """Grid rows joined with the intervals that overlap their window (t − window, t] (interval joins)."""
    joined = grid.join(intervals, on="patient_id", how="inner")
    return joined.filter((pl.col(start) <= pl.col("time")) & (pl.col(end) > pl.col("time") - window))


def ne_equivalent_series(segments: pl.LazyFrame) -> pl.LazyFrame:
    """Norepinephrine-equivalent over elementary time intervals (crs-grading.md D5 VASST equation, A14).

    NE, epinephrine and phenylephrine enter in mcg/min (divided by their `NE_EQ_DIVISOR`), dopamine in mcg/kg/min,
    exactly as D5 mixes the units; an agent without an absolute rate leaves the interval unknown (dropped).
    """
    divisor = {d.value: v for d, v in NE_EQ_DIVISOR.items()}
    weighted = segments.filter(pl.col("agent").is_in(list(divisor))).with_columns(
        (
            pl.when(pl.col("agent").is_in(PER_KG_AGENTS)).then(pl.col("rate")).otherwise(pl.col("rate_mcg_min"))
            / pl.col("agent").replace_strict(divisor, return_dtype=pl.Float64)
        ).alias("ne_eq")
    )
    bounds = (
        pl.concat(
            [
                weighted.select("patient_id", pl.col("start").alias("b")),
                weighted.select("patient_id", pl.col("end").alias("b")),
            ]
        )
        .unique()
        .sort("patient_id", "b")
    )
    elementary = bounds.with_columns(pl.col("b").shift(-1).over("patient_id").alias("b_next")).drop_nulls("b_next")
    covered = elementary.join(weighted, on="patient_id").filter(
        (pl.col("start") <= pl.col("b")) & (pl.col("end") > pl.col("b"))
    )
    return (
        covered.group_by("patient_id", "b", "b_next")
        .agg(pl.col("ne_eq").sum().alias("rate"), pl.col("ne_eq").is_null().any().alias("unknown"))
        .filter(pl.col("unknown").not_() & (pl.col("rate") > 0))
        .select(
            "patient_id",
            pl.lit(NE_EQ_SERIES).alias("agent"),
            pl.col("b").alias("start"),
            pl.col("b_next").alias("end"),
            "rate",
            pl.col("rate").alias("rate_mcg_min"),
        )
    )


def _concurrent_windows(segments: pl.LazyFrame) -> pl.LazyFrame:
    """Intervals during which two different non-vasopressin agents ran together (overlap_start, overlap_end)."""
    runs = (
        _runs(segments.filter(pl.col("agent").is_in(NON_VASOPRESSIN)), ["patient_id", "agent"])
        .group_by("patient_id", "agent", "run_id")
        .agg(pl.col("start").min(), pl.col("end").max())
    )
    other = runs.select(
        "patient_id", pl.col("agent").alias("agent_b"), pl.col("start").alias("start_b"), pl.col("end").alias("end_b")
    )
    return (
        runs.join(other, on="patient_id")
        .filter(pl.col("agent") < pl.col("agent_b"))
        .select(
            "patient_id",
            pl.max_horizontal("start", "start_b").alias("overlap_start"),
            pl.min_horizontal("end", "end_b").alias("overlap_end"),
        )
        .filter(pl.col("overlap_end") > pl.col("overlap_start"))
    )


def vasopressor_fields(grid: pl.LazyFrame, segments: pl.LazyFrame, window: timedelta) -> pl.LazyFrame:
    """Per grid row with an infusion in its window: `<drug>_hours`, `<drug>_sustained_*`,
    `ne_eq_derived_sustained_mcg_min` and `vasopressor_total_hours` (interop.md §1.5, crs-grading.md A14)."""
    any_agent = segments.with_columns(pl.lit(ALL_AGENTS).alias("agent"))
    series = pl.concat([segments, any_agent, ne_equivalent_series(segments)], how="vertical_relaxed")
    levels = _levels(series, ["patient_id", "agent"])
    hit = _overlapping(grid, levels, "level_start", "level_end", window).with_columns(
        _hours(pl.min_horizontal("level_end", "time"), pl.col("level_start")).alias("hours")
    )
    sustained = pl.col("hours") >= HIGH_DOSE_MIN_HOURS
    per_agent = hit.group_by("patient_id", "time", "agent").agg(
        pl.col("hours").max().alias("hours"),
        pl.col("rate").filter(sustained & pl.col("rate_mcg_min").is_null()).max().alias("per_kg"),
        pl.col("rate_mcg_min").filter(sustained).max().alias("per_min"),
    )
    wide = per_agent.collect().pivot(on="agent", index=["patient_id", "time"], values=["hours", "per_kg", "per_min"])
    return _named_columns(wide).lazy().pipe(_only_concurrent, grid, segments, window)


def _named_columns(wide: pl.DataFrame) -> pl.DataFrame:
    """The pivoted columns renamed to the grading frame's vasopressor columns (0 where the agent did not run)."""

    def get(kind: str, agent: str) -> pl.Expr:
        name = f"{kind}_{agent}"
        return pl.col(name) if name in wide.columns else pl.lit(None, pl.Float64)

    exprs = [get("hours", d).fill_null(0.0).alias(hours_column(VasopressorDrug(d))) for d in PRESSORS]
    for drug in (d.value for d in WEIGHT_DOSED):
        exprs.append(get("per_min", drug).fill_null(0.0).alias(sustained_column(drug, "mcg_min")))
        exprs.append(get("per_kg", drug).fill_null(0.0).alias(sustained_column(drug, "mcg_kg_min")))
    exprs += [
        get("per_min", NE_EQ_SERIES).fill_null(0.0).alias(sustained_column(NE_EQ_DERIVED, "mcg_min")),
        pl.lit(0.0).alias(sustained_column(NE_EQ_DERIVED, "mcg_kg_min")),
        get("hours", ALL_AGENTS).fill_null(0.0).alias("vasopressor_total_hours"),
    ]
    return wide.select("patient_id", "time", *exprs)


def _only_concurrent(wide: pl.LazyFrame, grid: pl.LazyFrame, segments: pl.LazyFrame, window: timedelta) -> pl.LazyFrame:
    """Keep one non-vasopressin agent when no two of them overlapped in the window (a switch is one agent)."""
    concurrent = (
        _overlapping(grid, _concurrent_windows(segments), "overlap_start", "overlap_end", window)
        .select("patient_id", "time")
        .unique()
        .with_columns(pl.lit(True).alias("__concurrent"))
    )
    hours = {d: pl.col(hours_column(VasopressorDrug(d))) for d in NON_VASOPRESSIN}
    longest = pl.max_horizontal(*hours.values())
    keep: dict[str, pl.Expr] = {}
    taken = pl.lit(False)
    for drug, value in hours.items():
        chosen = taken.not_() & (value == longest) & (value > 0)
        keep[drug] = chosen
        taken = taken | chosen
    joined = wide.join(concurrent, on=["patient_id", "time"], how="left")
    is_concurrent = pl.col("__concurrent").fill_null(False)
    updates = []
    for drug in NON_VASOPRESSIN:
        kept = is_concurrent | keep[drug]
        columns = [hours_column(VasopressorDrug(drug))]
        if drug in {d.value for d in WEIGHT_DOSED}:
            columns += [sustained_column(drug, "mcg_min"), sustained_column(drug, "mcg_kg_min")]
        updates += [pl.when(kept).then(pl.col(c)).otherwise(0.0).alias(c) for c in columns]
    return joined.with_columns(updates).drop("__concurrent")
