"""Snapshot fields from charted observations: look-back windows and latest values (interop.md §1.5).

All rules are rows of `WINDOW_RULES` (field, quantity, worst = max/min) or small named functions; all of them run
as Polars window expressions over one frame in which the grid rows and the observation rows of a patient are
interleaved in time order (`rolling_*_by` for windows, `forward_fill` for latest values). No per-patient loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crsguard.grading.crs_derived import FEVER_C
from crsguard.model import toxicity as tox
from crsguard.timeline.assessments import ICE_ITEMS, ice_assessment_keys, ice_items_of_key, ice_total_of_key
from crsguard.timeline.config import TimelineConfig


@dataclass(frozen=True)
class WindowRule:
    """Snapshot `field` = worst (`max` or `min`) value of `quantity` in the window (interop.md §1.5)."""

    field: str
    quantity: str
    worst: str
    source: str


WINDOW_RULES: tuple[WindowRule, ...] = (
    WindowRule("temperature_c", "body_temperature", "max", "interop.md §1.5 (highest value, any site)"),
    WindowRule("sbp_mmhg", "systolic_bp", "min", "interop.md §1.5 (lowest value; MAP not mapped, A16)"),
    *(
        WindowRule(q, q, "max", "interop.md §1.5 (laboratory: highest value)")
        for q in ("alt", "ast", "bilirubin_total", "creatinine", "inr", "aptt", "ferritin", "ldh")
    ),
    *(
        WindowRule(q, q, "min", "interop.md §1.5 (laboratory: lowest value)")
        for q in ("anc", "platelets", "hemoglobin", "wbc", "fibrinogen")
    ),
    WindowRule("alc", "lymphocytes_abs", "min", "interop.md §1.5 (lymphocytes_abs → alc, lowest value)"),
    WindowRule("spo2_rest", "spo2", "min", "interop.md §1.5 (lowest value)"),
    WindowRule("heart_rate", "heart_rate", "max", "interop.md §1.5 (highest value)"),
    WindowRule("capd_total", "capd_total", "max", "interop.md §1.5 (highest CAPD total)"),
)


@dataclass(frozen=True)
class ReferenceRule:
    """`field` = the reference limit (`ref_high` for a ULN, `ref_low` for an LLN) sent with the latest `quantity`
    result in the window, converted like the value (interop.md §1.5 reference-range row)."""

    field: str
    quantity: str
    limit: str


REFERENCE_RULES: tuple[ReferenceRule, ...] = (
    *(
        ReferenceRule(f"{q}_uln", q, "ref_high")
        for q in ("alt", "ast", "bilirubin_total", "creatinine", "aptt", "ferritin", "ldh")
    ),
    *(ReferenceRule(f"{q}_lln", q, "ref_low") for q in ("anc", "platelets", "hemoglobin", "wbc", "fibrinogen")),
    ReferenceRule("alc_lln", "lymphocytes_abs", "ref_low"),
)

#: Baselines of interop.md §1.5: last value before lymphodepletion (CAR-T) or before t0 (TCE, or when the
#: lymphodepletion start is unknown — other-toxicities.md §6.1, A-35 leaves them null then; see `baseline_fields`).
BASELINE_QUANTITIES: dict[str, str] = {
    "alt_baseline": "alt",
    "ast_baseline": "ast",
    "bilirubin_total_baseline": "bilirubin_total",
    "creatinine_baseline": "creatinine",
    "fibrinogen_baseline": "fibrinogen",
    "inr_baseline": "inr",
}

#: consciousness_astct → loc, worst in the window (interop.md §1.5); ranks follow `tox.Loc` order.
LOC_OF_CONSCIOUSNESS: dict[str, str] = {
    "normal": tox.Loc.alert.value,
    "awakens_spontaneously": tox.Loc.awakens_spontaneously.value,
    "awakens_to_voice": tox.Loc.awakens_to_voice.value,
    "awakens_to_tactile": tox.Loc.awakens_only_to_tactile.value,
    "unarousable_or_coma": tox.Loc.unarousable.value,
}
_LOC_RANK = {loc.value: rank for rank, loc in enumerate(tox.Loc)}

#: ice_unable reason → ice_status (interop.md §1.5); `unarousable` wins over a total in the window.
ICE_STATUS_OF_REASON: dict[str, str] = {
    "unarousable": tox.IceStatus.not_assessable_unarousable.value,
    "sedation": tox.IceStatus.not_assessable_sedation.value,
    "intubated_awake": tox.IceStatus.not_assessable_intubated_awake.value,
    "language": tox.IceStatus.not_assessable_language.value,
}
OTHER_REASON = tox.IceStatus.not_assessable_other.value
#: capd_unable reason → capd_status (interop.md §1.5 "status as for ICE"); any other reason → not_assessable_other.
CAPD_STATUS_OF_REASON: dict[str, str] = {
    "unarousable": tox.CapdStatus.not_assessable_unarousable.value,
    "sedation": tox.CapdStatus.not_assessable_sedation.value,
    "neuromuscular_blockade": tox.CapdStatus.not_assessable_nmb.value,
}


@dataclass(frozen=True)
class UnableRule:
    """`<instrument>_status` from the `quantity` flag (`value_code` true, `method` = reason) and the total
    (interop.md §1.5): `unarousable` first, then a total (assessed), then the other reasons, then `other`."""

    instrument: str
    quantity: str
    status_of_reason: dict[str, str]
    other: str

    @property
    def reasons(self) -> tuple[str, ...]:
        return (*self.status_of_reason, "other")

    def column(self, reason: str) -> str:
        return f"__{self.instrument}_{reason}"


UNABLE_RULES: tuple[UnableRule, ...] = (
    UnableRule("ice", "ice_unable", ICE_STATUS_OF_REASON, OTHER_REASON),
    UnableRule("capd", "capd_unable", CAPD_STATUS_OF_REASON, tox.CapdStatus.not_assessable_other.value),
)

#: Scores whose baseline is the last total before t0 (interop.md §1.5).
SCORES = ("ice", "capd")
WEIGHT_QUANTITY = "body_weight"
DOSING_METHOD = "dosing"
TEMPERATURE_QUANTITY = "body_temperature"


def _value_columns(present: set[str], with_reference: set[str]) -> list[pl.Expr]:
    """One column per rule whose quantity occurs in the batch, holding the value where the row is that quantity."""
    quantity, value = pl.col("quantity"), pl.col("value")
    columns = [
        pl.when(quantity == r.quantity).then(value).alias(f"__v_{r.field}")
        for r in WINDOW_RULES
        if r.quantity in present
    ]
    rank = (
        pl.col("value_code")
        .replace_strict(LOC_OF_CONSCIOUSNESS, default=None)
        .replace_strict(_LOC_RANK, default=None, return_dtype=pl.Int64)
    )
    columns.append(pl.when(quantity == "consciousness_astct").then(rank).alias("__loc_rank"))
    reason = pl.col("method")
    for unable_rule in UNABLE_RULES:
        unable = (quantity == unable_rule.quantity) & (pl.col("value_code") == "true")
        for name in unable_rule.status_of_reason:
            columns.append(pl.when(unable & (reason == name)).then(1).alias(unable_rule.column(name)))
        known = list(unable_rule.status_of_reason)
        other = unable & (reason.is_null() | ~reason.is_in(known))
        columns.append(pl.when(other).then(1).alias(unable_rule.column("other")))
    weight = quantity == WEIGHT_QUANTITY
    dosing = pl.col("method") == DOSING_METHOD
    columns.append(pl.when(weight & dosing.fill_null(False).not_()).then(value).alias("__weight_measured"))
    columns.append(pl.when(weight & dosing.fill_null(False)).then(value).alias("__weight_dosing"))
    for rule in REFERENCE_RULES:
        if rule.quantity in with_reference:
            limit = pl.when(quantity == rule.quantity).then(pl.col(rule.limit))
            columns += [
                limit.alias(f"__r_{rule.field}"),
                pl.when(limit.is_not_null()).then(pl.col("time")).alias(f"__rt_{rule.field}"),
            ]
    fever = (quantity == TEMPERATURE_QUANTITY) & (value >= FEVER_C)
    columns.append(pl.when(fever).then(pl.col("time")).alias("__fever_time"))
    return columns


_USED_QUANTITIES = frozenset(
    {r.quantity for r in WINDOW_RULES}
    | {r.quantity for r in UNABLE_RULES}
    | {"consciousness_astct", WEIGHT_QUANTITY, TEMPERATURE_QUANTITY}
)


def _latest(column: str) -> pl.Expr:
    """Latest non-null value at or before the row, within the patient (rows are sorted by patient and time)."""
    owner = pl.when(pl.col(column).is_not_null()).then(pl.col("patient_id")).forward_fill()
    return pl.when(owner == pl.col("patient_id")).then(pl.col(column).forward_fill())


def observation_fields(grid: pl.DataFrame, observations: pl.DataFrame, config: TimelineConfig) -> pl.LazyFrame:
    """Grid rows (patient_id, time) with every observation-derived snapshot field of interop.md §1.5.

    Grid and observation rows are interleaved in (patient, time) order, observations first at equal times, so a
    window `(t − window, t]` ending at a grid row sees every observation at or before t. One rolling pass per
    patient computes every windowed field; quantities absent from the batch are null columns, not computed.
    """
    present = set(observations["quantity"].unique().to_list())
    with_reference = set(
        observations.filter(pl.col("ref_low").is_not_null() | pl.col("ref_high").is_not_null())["quantity"]
        .unique()
        .to_list()
    )
    obs = (
        observations.lazy()
        .filter(pl.col("quantity").is_in(list(_USED_QUANTITIES)))
        .select("patient_id", "time", *_value_columns(present, with_reference), pl.lit(False).alias("__grid"))
    )
    ice = ice_assessment_keys(observations.lazy()).with_columns(pl.lit(False).alias("__grid"))
    rows = grid.lazy().select("patient_id", "time", pl.lit(True).alias("__grid"))
    both = pl.concat([obs, ice, rows], how="diagonal_relaxed").sort("patient_id", "time", "__grid")
    windowed = [r for r in WINDOW_RULES if r.quantity in present]
    aggregations = [
        (pl.col(f"__v_{r.field}").max() if r.worst == "max" else pl.col(f"__v_{r.field}").min()).alias(r.field)
        for r in windowed
    ]
    aggregations += [
        pl.col("__loc_rank").max(),
        pl.col("__ice_key").min(),
        *(pl.col(rule.column(name)).max() for rule in UNABLE_RULES for name in rule.reasons),
        pl.col("__fever_time").min().alias("fever_onset_time"),
    ]
    rolled = both.rolling("time", period=config.window, group_by="patient_id").agg(aggregations)
    latest = [
        _latest("__weight_measured").alias("__weight_measured"),
        _latest("__weight_dosing").alias("__weight_dosing"),
        *(
            pl.when(_latest(f"__rt_{r.field}") > pl.col("time") - config.window)
            .then(_latest(f"__r_{r.field}"))
            .alias(r.field)
            for r in REFERENCE_RULES
            if r.quantity in with_reference
        ),
    ]
    side = both.select("__grid", *latest)
    graded = pl.concat([rolled, side], how="horizontal").filter(pl.col("__grid"))
    absent = [pl.lit(None, pl.Float64).alias(r.field) for r in WINDOW_RULES if r.quantity not in present]
    absent += [pl.lit(None, pl.Float64).alias(r.field) for r in REFERENCE_RULES if r.quantity not in with_reference]
    return (
        graded.with_columns(*absent)
        .with_columns(
            _loc(pl.col("__loc_rank")).alias("loc"),
            _status(UNABLE_RULES[0], ice_total_of_key(pl.col("__ice_key"))).alias("ice_status"),
            _status(UNABLE_RULES[1], pl.col("capd_total")).alias("capd_status"),
        )
        .with_columns(
            *_assessed_scores(),
        )
        .select(
            "patient_id",
            "time",
            *(r.field for r in WINDOW_RULES if r.field != "capd_total"),
            "ice_total",
            *ICE_ITEMS,
            "ice_status",
            "capd_total",
            "capd_status",
            "loc",
            pl.coalesce("__weight_measured", "__weight_dosing").alias("__weight_observed"),
            "fever_onset_time",
            *(r.field for r in REFERENCE_RULES),
        )
    )


def baseline_fields(patients: pl.LazyFrame, observations: pl.LazyFrame) -> pl.LazyFrame:
    """Per patient: laboratory baselines, `ferritin_at_infusion`, `ice_baseline_total` and `capd_baseline_total`
    (interop.md §1.5).

    Lab baselines: last value before `lymphodepletion_start` for a CAR-T, before t0 for a TCE; null for a CAR-T
    whose lymphodepletion start is unknown (other-toxicities.md A-35). Ferritin: last value at or before t0.
    ICE and CAPD: last charted total before t0.
    """
    cutoffs = patients.select(
        "patient_id",
        "t0",
        pl.when(pl.col("product_class") == "tce")
        .then(pl.col("t0"))
        .otherwise(pl.col("lymphodepletion_start"))
        .alias("__lab_cutoff"),
    )
    joined = observations.select("patient_id", "time", "quantity", "value").join(cutoffs, on="patient_id")
    wanted = {
        **BASELINE_QUANTITIES,
        "ferritin_at_infusion": "ferritin",
        **{f"{score}_baseline_total": f"{score}_total" for score in SCORES},
    }
    before = {
        field: (pl.col("time") <= pl.col("t0"))
        if field == "ferritin_at_infusion"
        else (pl.col("time") < (pl.col("t0") if field.endswith("_baseline_total") else pl.col("__lab_cutoff")))
        for field in wanted
    }
    latest = [
        pl.col("value")
        .filter((pl.col("quantity") == q) & before[f])
        .sort_by(pl.col("time").filter((pl.col("quantity") == q) & before[f]))
        .last()
        .alias(f)
        for f, q in wanted.items()
    ]
    totals = [pl.col(f"{score}_baseline_total").cast(pl.Int64) for score in SCORES]
    return joined.group_by("patient_id").agg(latest).with_columns(totals)


def _loc(rank: pl.Expr) -> pl.Expr:
    names = {r: name for name, r in _LOC_RANK.items()}
    return rank.replace_strict(names, default=None, return_dtype=pl.String)


def _status(rule: UnableRule, total: pl.Expr) -> pl.Expr:
    """`ice_status` / `capd_status` per interop.md §1.5: unarousable first, then a total (assessed), then the other
    reasons; null when the window holds neither a total nor a flag."""
    reasons = {name: pl.col(rule.column(name)) for name in rule.reasons}
    ordered = [
        pl.when(reasons["unarousable"] == 1).then(pl.lit(rule.status_of_reason["unarousable"])),
        pl.when(total.is_not_null()).then(pl.lit(tox.IceStatus.assessed.value)),
        *(
            pl.when(reasons[name] == 1).then(pl.lit(value))
            for name, value in rule.status_of_reason.items()
            if name != "unarousable"
        ),
        pl.when(reasons["other"] == 1).then(pl.lit(rule.other)),
    ]
    return pl.coalesce(ordered)


def _assessed_scores() -> list[pl.Expr]:
    """Totals (and ICE items) only where the status is `assessed`: an unarousable flag in the window wins (§1.5)."""
    ice_assessed = pl.col("ice_status") == tox.IceStatus.assessed.value
    capd_assessed = pl.col("capd_status") == tox.CapdStatus.assessed.value
    return [
        pl.when(ice_assessed).then(ice_total_of_key(pl.col("__ice_key"))).cast(pl.Int64).alias("ice_total"),
        *ice_items_of_key(pl.col("__ice_key"), ice_assessed),
        pl.when(capd_assessed).then(pl.col("capd_total")).cast(pl.Int64).alias("capd_total"),
    ]
