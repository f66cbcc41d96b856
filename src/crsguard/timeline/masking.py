"""`fever_masked` from administrations after the episode onset (interop.md §1.5, crs-grading.md §2.2, A2, A18).

The rule: masked from the first antipyretic / anti-cytokine / corticosteroid administration that starts at or after
the onset of the current CRS episode, until that episode ends (A18: after `episode_gap_hours` at grade 0).
Premedication before the onset never masks. Onset = the first fever reading of the episode (the first evaluation
at which the derived fever is true; its earliest fever reading in the window, so a dose charted minutes after the
fever but before the next grid point still counts).

Masking lengthens episodes (a masked grade needs no fever), and episodes decide masking; the fixed point is found by
iterating whole-batch passes (each vectorised over every patient), starting from "never masked". Masking only
grows, so the passes stop, usually after two or three. The grades come from `grade_frame` of the primary system
evaluated once without and once with the mask (no second grading implementation).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from crsguard.model import toxicity as tox
from crsguard.model.vocabulary import DRUGS

#: Drugs whose administration can mask fever (interop.md §1.5 list, `masks_fever` in the vocabulary).
MASKING_DRUGS = tuple(name for name, drug in DRUGS.items() if drug.masks_fever)
MAX_PASSES = 50


def masking_times(interventions: pl.DataFrame) -> pl.DataFrame:
    """Start times of masking administrations (doses or infusions), sorted per patient."""
    return (
        interventions.filter(
            pl.col("agent").is_in(MASKING_DRUGS) & pl.col("kind").is_in(["drug_dose", "drug_infusion_segment"])
        )
        .select("patient_id", pl.col("start_time").alias("drug_time"))
        .unique()
        .sort("patient_id", "drug_time")
    )


def episode_ids(active: pl.Expr, gap: timedelta) -> pl.Expr:
    """Episode number per row (null outside active rows): a new episode when the previous active evaluation is
    more than `gap` earlier (A18). Must run inside `.over("patient_id")` on time-sorted rows."""
    active_time = pl.when(active).then(pl.col("time"))
    previous = active_time.shift(1).forward_fill()
    starts = active & (previous.is_null() | ((pl.col("time") - previous) > gap))
    return pl.when(active).then(starts.cast(pl.Int32).cum_sum())


def _pass(frame: pl.DataFrame, drugs: pl.DataFrame, gap: timedelta) -> pl.Series:
    """One pass: episodes of the current grade series → which rows are masked."""
    active = pl.when(pl.col("__masked")).then(pl.col("__masked_grade")).otherwise(pl.col("__grade")) > 0
    with_episodes = frame.with_columns(episode_ids(active, gap).over("patient_id").alias("__episode"))
    episodes = (
        with_episodes.filter(pl.col("__episode").is_not_null())
        .group_by("patient_id", "__episode")
        .agg(
            pl.col("fever_onset_time").first().alias("__onset"),
            pl.col("time").first().alias("__onset_eval"),
            pl.col("time").last().alias("__last_active"),
        )
        .with_columns(pl.coalesce("__onset", "__onset_eval").alias("__onset"))
        .sort("patient_id", "__onset")
    )
    first_dose = episodes.join_asof(
        drugs, left_on="__onset", right_on="drug_time", by="patient_id", strategy="forward", check_sortedness=False
    ).select("patient_id", "__episode", "__onset_eval", "__last_active", "drug_time")
    spans = first_dose.filter(pl.col("drug_time") <= pl.col("__last_active") + gap).sort("patient_id", "__onset_eval")
    joined = (
        frame.select("patient_id", "time")
        .with_row_index("__row")
        .sort("patient_id", "time")
        .join_asof(
            spans, left_on="time", right_on="__onset_eval", by="patient_id", strategy="backward", check_sortedness=False
        )
    )
    masked = (pl.col("drug_time") <= pl.col("time")) & (pl.col("time") <= pl.col("__last_active") + gap)
    return joined.sort("__row").select(masked.fill_null(False)).to_series()


def fever_masked(frame: pl.DataFrame, drugs: pl.DataFrame, gap: timedelta) -> pl.Series:
    """Masking per row of `frame` (sorted by patient_id, time) with columns `__grade` (unmasked primary grade),
    `__masked_grade` (the same rows graded with `fever_masked` = true) and `fever_onset_time`."""
    current = frame.with_columns(pl.lit(False).alias("__masked"))
    for _ in range(MAX_PASSES):
        updated = _pass(current, drugs, gap)
        if updated.equals(current["__masked"]):
            return updated.alias("fever_masked")
        current = current.with_columns(updated.alias("__masked"))
    raise RuntimeError("fever masking did not converge")  # masking only grows, so this cannot happen


def crs_status(frame: pl.DataFrame, gap: timedelta) -> pl.Series:
    """`crs_status` (interop.md §1.5, other-toxicities.md §7.7) from the primary system's grade series.

    `frame` holds patient_id, time (sorted), `__primary` (the grade) and `fever_masked`. Only data up to each time
    are used: `never` before the first grade ≥ 1; `active` while the grade is at the episode's maximum so far or
    rising; `resolving` below it and not rising, or at grade 0 for less than the A18 gap; `resolved` after the gap;
    `reworsening_after_therapy` rising after an earlier fall while fever-masking therapy has been given in the
    episode (local default of §1.5, read here as: masked = tocilizumab, a corticosteroid or an antipyretic given
    after onset).
    """
    grade = pl.col("__primary")
    active = grade > 0
    by = "patient_id"
    episode = episode_ids(active, gap).over(by).forward_fill().over(by)
    last_active = pl.when(active).then(pl.col("time")).forward_fill().over(by)
    previous = grade.shift(1).over(by)
    rising = grade > previous.fill_null(0)
    fell = (grade < previous).fill_null(False).cast(pl.Int32)
    working = frame.with_columns(episode.alias("__episode"), last_active.alias("__last_active"))
    in_episode = ["patient_id", "__episode"]
    running_max = pl.col("__primary").cum_max().over(in_episode)
    falls_before = fell.cum_sum().over(in_episode) - fell
    status = (
        pl.when(pl.col("__last_active").is_null())
        .then(pl.lit(tox.CrsStatus.never.value))
        .when(active & rising & (falls_before > 0) & pl.col("fever_masked").fill_null(False))
        .then(pl.lit(tox.CrsStatus.reworsening_after_therapy.value))
        .when(active & (rising | (grade >= running_max)))
        .then(pl.lit(tox.CrsStatus.active.value))
        .when(active | ((pl.col("time") - pl.col("__last_active")) <= gap))
        .then(pl.lit(tox.CrsStatus.resolving.value))
        .otherwise(pl.lit(tox.CrsStatus.resolved.value))
    )
    return working.select(status.alias("crs_status")).to_series()
