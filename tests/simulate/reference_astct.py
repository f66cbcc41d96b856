"""An independent, minimal ASTCT 2019 CRS grade computed from simulated observations, for tests only.

Written from crs-grading.md §3.1 (rules 1-6) and D2/D6, hour by hour (each hour graded from the readings and
interventions of that hour), so the simulator can be checked without crsguard.grading: a grader that reads the
observations correctly must recover the latent grade.
"""

from __future__ import annotations

import polars as pl

US_PER_HOUR = 3_600_000_000
MASKING = [
    "acetaminophen",
    "tocilizumab",
    "siltuximab",
    "anakinra",
    "dexamethasone",
    "methylprednisolone",
    "hydrocortisone",
]
PRESSORS = ["norepinephrine", "epinephrine", "phenylephrine", "dopamine"]
EPISODE_GAP_H = 48


def _hour(column: str, t0: str = "t0") -> pl.Expr:
    return ((pl.col(column).cast(pl.Int64) - pl.col(t0).cast(pl.Int64)) // US_PER_HOUR).alias("hour")


def _expand(intervals: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """One row per hour an interval covers (an open interval runs to the horizon)."""
    return (
        intervals.with_columns(
            ((pl.col("start_time").cast(pl.Int64) - pl.col("t0").cast(pl.Int64)) // US_PER_HOUR).alias("h0"),
            pl.when(pl.col("end_time").is_null())
            .then(pl.lit(horizon))
            .otherwise(
                (pl.col("end_time").cast(pl.Int64) - pl.col("t0").cast(pl.Int64) + US_PER_HOUR - 1) // US_PER_HOUR
            )
            .alias("h1"),
        )
        .with_columns(pl.int_ranges("h0", pl.max_horizontal("h1", pl.col("h0") + 1)).alias("hour"))
        .explode("hour")
    )


def hourly_grades(data: dict[str, pl.DataFrame], horizon: int) -> pl.DataFrame:
    """(patient_id, hour, grade) from the four input tables."""
    t0 = data["patients"].select("patient_id", "t0")
    obs = data["observations"].join(t0, on="patient_id").with_columns(_hour("time"))
    temp = (
        obs.filter(pl.col("quantity") == "body_temperature")
        .group_by("patient_id", "hour")
        .agg((pl.col("value").max() >= 38.0).alias("fever"))
    )
    sbp = (
        obs.filter(pl.col("quantity") == "systolic_bp")
        .group_by("patient_id", "hour")
        .agg((pl.col("value").min() < 90).alias("low_sbp"))
    )
    inter = data["interventions"].join(t0, on="patient_id")
    pressors = _expand(inter.filter(pl.col("kind") == "drug_infusion_segment"), horizon)
    pressor_grade = (
        pressors.group_by("patient_id", "hour")
        .agg(
            pl.col("agent").filter(pl.col("agent").is_in(PRESSORS)).n_unique().alias("n_pressors"),
            (pl.col("agent") == "vasopressin").any().alias("vasopressin"),
        )
        .with_columns(
            pl.when(pl.col("n_pressors") >= 2)
            .then(4)
            .when((pl.col("n_pressors") == 1) | pl.col("vasopressin"))
            .then(3)
            .otherwise(0)
            .alias("pressor_grade")
        )
    )
    flows = (
        obs.filter(pl.col("quantity") == "oxygen_flow_rate")
        .group_by("link_id")
        .agg(pl.col("value").max().alias("flow"))
    )
    devices = (
        _expand(
            inter.filter(pl.col("kind") == "oxygen_device").join(
                flows, left_on="interval_id", right_on="link_id", how="left"
            ),
            horizon,
        )
        .with_columns(
            pl.when(pl.col("agent").is_in(["cpap", "bipap_niv", "invasive_mechanical_ventilation"]))
            .then(4)
            .when(pl.col("agent").is_in(["nasal_cannula", "high_flow_nasal_cannula"]))
            .then(
                pl.when(pl.col("flow").is_not_null() & (pl.col("flow") <= 6))
                .then(2)
                .when(pl.col("agent") == "nasal_cannula")
                .then(pl.when(pl.col("flow").is_null()).then(2).otherwise(3))
                .otherwise(3)
            )
            .when(pl.col("agent") == "blow_by")
            .then(2)
            .when(pl.col("agent") == "room_air")
            .then(0)
            .otherwise(3)
            .alias("o2_grade")
        )
        .group_by("patient_id", "hour")
        .agg(pl.col("o2_grade").max())
    )
    masking = (
        inter.filter(pl.col("agent").is_in(MASKING) & (pl.col("kind") == "drug_dose"))
        .with_columns(_hour("start_time"))
        .select("patient_id", pl.col("hour").alias("mask_hour"))
    )
    grid = t0.select("patient_id").join(pl.DataFrame({"hour": list(range(horizon))}), how="cross")
    frame = (
        grid.join(temp, on=["patient_id", "hour"], how="left")
        .join(sbp, on=["patient_id", "hour"], how="left")
        .join(pressor_grade.select("patient_id", "hour", "pressor_grade"), on=["patient_id", "hour"], how="left")
        .join(devices, on=["patient_id", "hour"], how="left")
        .with_columns(pl.col("fever", "low_sbp").fill_null(False), pl.col("pressor_grade", "o2_grade").fill_null(0))
        .sort("patient_id", "hour")
    )
    # episode onset: a fever hour with no fever in the previous 48 h (crs-grading.md A18-like boundary)
    frame = (
        frame.with_columns(
            pl.col("fever")
            .cast(pl.Int32)
            .rolling_sum(EPISODE_GAP_H, min_samples=1)
            .shift(1)
            .over("patient_id")
            .fill_null(0)
            .alias("recent_fever")
        )
        .with_columns(pl.when(pl.col("fever") & (pl.col("recent_fever") == 0)).then(pl.col("hour")).alias("onset_mark"))
        .with_columns(pl.col("onset_mark").forward_fill().over("patient_id").alias("onset"))
    )
    first_mask = (
        frame.select("patient_id", "hour", "onset")
        .join(masking, on="patient_id", how="inner")
        .filter((pl.col("mask_hour") >= pl.col("onset")) & (pl.col("mask_hour") <= pl.col("hour")))
        .group_by("patient_id", "hour")
        .agg(pl.lit(True).alias("masked"))
    )
    frame = frame.join(first_mask, on=["patient_id", "hour"], how="left").with_columns(
        pl.col("masked").fill_null(False)
    )
    hypotension = pl.max_horizontal(pl.when(pl.col("low_sbp")).then(2).otherwise(0), pl.col("pressor_grade"))
    component = pl.max_horizontal(hypotension, pl.col("o2_grade"))
    grade = (
        pl.when(pl.col("fever"))
        .then(pl.max_horizontal(component, pl.lit(1)))
        .when(pl.col("masked"))
        .then(component)
        .otherwise(0)
    )
    graded = frame.select("patient_id", "hour", grade.alias("grade"))
    deaths = (
        data["events"]
        .filter(pl.col("event") == "death")
        .join(t0, on="patient_id")
        .select("patient_id", _hour("start_time"), pl.lit(5).alias("death_grade"))
    )
    return graded.join(deaths, on=["patient_id", "hour"], how="left").select(
        "patient_id", "hour", pl.max_horizontal("grade", pl.col("death_grade").fill_null(0)).alias("grade")
    )


def patient_max_icans(data: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """(patient_id, icans) maximum ASTCT ICANS grade from ICE, consciousness and events (other-toxicities.md
    §1.3-§1.4): ICE 7-9 → 1, 3-6 → 2, 0-2 → 3; unarousable → 4; voice → 2, tactile → 3; a rapidly resolving
    seizure → 3, a seizure > 5 min → 4; diffuse oedema → 4."""
    obs = data["observations"]
    ice = obs.filter(pl.col("quantity") == "ice_total").select(
        "patient_id",
        pl.when(pl.col("value") <= 2)
        .then(3)
        .when(pl.col("value") <= 6)
        .then(2)
        .when(pl.col("value") <= 9)
        .then(1)
        .otherwise(0)
        .alias("g"),
    )
    loc = obs.filter(pl.col("quantity") == "consciousness_astct").select(
        "patient_id",
        pl.col("value_code")
        .replace_strict(
            {
                "normal": 0,
                "awakens_spontaneously": 0,
                "awakens_to_voice": 2,
                "awakens_to_tactile": 3,
                "unarousable_or_coma": 4,
            },
            return_dtype=pl.Int32(),
        )
        .alias("g"),
    )
    unable = obs.filter((pl.col("quantity") == "ice_unable") & (pl.col("method") == "unarousable")).select(
        "patient_id", pl.lit(4).alias("g")
    )
    events = (
        data["events"]
        .filter(pl.col("event").is_in(["seizure", "cerebral_edema"]))
        .select(
            "patient_id",
            pl.when(pl.col("attributes").str.contains('"diffuse"'))
            .then(4)
            .when(pl.col("attributes").str.contains('"resolved_rapidly": false'))
            .then(4)
            .otherwise(3)
            .alias("g"),
        )
    )
    parts = [frame.with_columns(pl.col("g").cast(pl.Int32)) for frame in (ice, loc, unable, events)]
    return pl.concat(parts).group_by("patient_id").agg(pl.col("g").max().alias("icans"))
