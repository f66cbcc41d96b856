"""Oxygen inputs from device intervals and linked flow/FiO2 observations (interop.md §1.5, §2.4).

`o2_device` = the most intensive device in use during the window, ordered by the support tier of crs-grading.md
D6 (interop.md §2.4 tiers) and, within a tier, by the D7 FiO2 estimate (both read from the vocabulary and from
`crsguard.grading.crs_derived`, never re-typed). `o2_flow_l_min` and `fio2` = the highest value linked
(`link_id`) to the chosen interval inside the window, else the latest linked value before it.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import polars as pl

from crsguard.grading.crs_derived import estimated_fio2
from crsguard.grading.inputs import Inputs
from crsguard.model.vocabulary import O2_DEVICES

#: Support tiers of interop.md §2.4, least to most intensive (`invasive_ventilation` is above positive pressure).
TIER_ORDER = ("none", "low_flow", "high_flow", "positive_pressure", "invasive_ventilation")
LINKED_QUANTITIES = {"oxygen_flow_rate": "o2_flow_l_min", "fio2": "fio2"}
#: A D7 option value other than the A4 cap ("below_40"): the plain D7 table.
_D7_TABLE = "d7"


@cache
def device_table() -> pl.DataFrame:
    """Per device enum: snapshot `o2_device` (§1.5), the mapping warning and its intensity rank (D6, D7)."""
    rows = [
        {
            "agent": name,
            "o2_device": d.snapshot_o2_device,
            "device_warning": d.mapping_warning,
            "tier_rank": TIER_ORDER.index(d.tier),
        }
        for name, d in O2_DEVICES.items()
    ]
    frame = pl.DataFrame(
        rows,
        schema={"agent": pl.String, "o2_device": pl.String, "device_warning": pl.String, "tier_rank": pl.Int64},
        orient="row",
    )
    estimate = frame.with_columns(pl.lit(None, pl.Float64).alias("o2_flow_l_min")).select(
        estimated_fio2(Inputs("raw"), _D7_TABLE).alias("fio2_estimate")
    )
    return frame.hstack(estimate).with_columns(
        (pl.col("tier_rank") * 1000 + pl.col("fio2_estimate").fill_null(0.0)).alias("rank")
    )


def device_intervals(interventions: pl.LazyFrame, data_end: pl.LazyFrame) -> pl.LazyFrame:
    """Device intervals; an open interval ends where the next device starts, else at the data end (§2.4)."""
    devices = interventions.filter(pl.col("kind") == "oxygen_device").join(data_end, on="patient_id", how="left")
    next_start = pl.col("start_time").shift(-1).over("patient_id", order_by="start_time")
    return devices.select(
        "patient_id",
        "interval_id",
        "agent",
        pl.col("start_time").alias("start"),
        pl.coalesce("end_time", next_start, "data_end").alias("end"),
    ).join(device_table().lazy().select("agent", "o2_device", "device_warning", "rank"), on="agent", how="left")


def oxygen_fields(
    grid: pl.LazyFrame, intervals: pl.LazyFrame, observations: pl.LazyFrame, window: timedelta
) -> pl.LazyFrame:
    """Per grid row with a device in the window: o2_device, device_warning, o2_flow_l_min, fio2."""
    joined = grid.join(intervals, on="patient_id").filter(
        (pl.col("start") <= pl.col("time")) & (pl.col("end") > pl.col("time") - window)
    )
    chosen = (
        joined.sort("rank", "start", "interval_id", descending=[True, True, False])
        .group_by("patient_id", "time")
        .first()
        .select("patient_id", "time", "interval_id", "o2_device", "device_warning")
    )
    linked = observations.filter(pl.col("quantity").is_in(list(LINKED_QUANTITIES)) & pl.col("link_id").is_not_null())
    values = chosen.join(
        linked.select(
            "patient_id", pl.col("link_id").alias("interval_id"), pl.col("time").alias("obs_time"), "quantity", "value"
        ),
        on=["patient_id", "interval_id"],
    ).filter(pl.col("obs_time") <= pl.col("time"))
    in_window = pl.col("obs_time") > pl.col("time") - window
    per_quantity = [
        pl.coalesce(
            pl.col("value").filter(in_window & (pl.col("quantity") == q)).max(),
            pl.col("value")
            .filter(pl.col("quantity") == q)
            .sort_by(pl.col("obs_time").filter(pl.col("quantity") == q))
            .last(),
        ).alias(field)
        for q, field in LINKED_QUANTITIES.items()
    ]
    summary = values.group_by("patient_id", "time").agg(per_quantity)
    return chosen.join(summary, on=["patient_id", "time"], how="left").drop("interval_id")
