"""The score formulas, each written once as a Polars expression over canonical-unit columns.

The same expressions serve a cohort frame (``score_frame``) and a single patient (``crsguard.risk.scores``
evaluates them on a one-row frame), so the scalar and vectorised results cannot drift apart.

Columns read (interop.md §1.1 names and canonical units): ``ldh`` U/L, ``creatinine`` mg/dL, ``platelets``
10^9/L, ``crp`` mg/L, ``ferritin`` ng/mL, ``anc`` 10^9/L, ``hemoglobin`` g/dL, and optionally the boolean
``platelets_within_24h_of_transfusion``. A missing column is treated as all-null (score inputs) or all-false
(the transfusion flag). Output columns are listed by :func:`output_columns`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TypeVar

import polars as pl

from crsguard.risk.definitions import Cutoff, PointBand, hematotox_table, score_catalogue

TRANSFUSION_FLAG = "platelets_within_24h_of_transfusion"
CRP_MG_L_PER_MG_DL = 10.0
"""m-EASIX is published with CRP in mg/dL; canonical ``crp`` is mg/L, so CRP[mg/dL] = crp / 10 (risk §1.3)."""

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


@dataclass(frozen=True)
class ScoreFormula:
    """One score as expressions: its value, its log2 (EASIX family) and its category (if a cut-off exists)."""

    name: str
    inputs: tuple[str, ...]
    value: pl.Expr
    log2: pl.Expr | None
    category: pl.Expr | None


def _usable_platelets() -> pl.Expr:
    """Platelets, or null where no score may use them: 0, or drawn <= 24 h after transfusion (§1.1 rule 3)."""
    transfused = pl.col(TRANSFUSION_FLAG).fill_null(False)
    platelets = pl.col("platelets")
    return pl.when((platelets > 0) & ~transfused).then(platelets)


def _log2(value: pl.Expr) -> pl.Expr:
    """log2 for the EASIX family (odds reported per doubling, risk §1.1 rule 4); undefined at 0 -> null."""
    return pl.when(value > 0).then(value.log(2))


def _category(value: pl.Expr, cutoff: Cutoff) -> pl.Expr:
    above = value > cutoff.value if cutoff.operator == ">" else value >= cutoff.value
    return (
        pl.when(value.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(above)
        .then(pl.lit(cutoff.category_above))
        .otherwise(pl.lit(cutoff.category_otherwise))
    )


def easix_value() -> pl.Expr:
    """EASIX = LDH × creatinine / platelets (risk §1.2, Luft 2017 / Korell 2022)."""
    return pl.col("ldh") * pl.col("creatinine") / _usable_platelets()


def s_easix_value() -> pl.Expr:
    """s-EASIX = LDH / platelets (risk §1.3, Pennisi 2021)."""
    return pl.col("ldh") / _usable_platelets()


def m_easix_value() -> pl.Expr:
    """m-EASIX = LDH × CRP[mg/dL] / platelets, CRP[mg/dL] = crp[mg/L] / 10 (risk §1.3, Pennisi 2021)."""
    return pl.col("ldh") * (pl.col("crp") / CRP_MG_L_PER_MG_DL) / _usable_platelets()


def _band_condition(column: pl.Expr, band: PointBand) -> pl.Expr:
    condition = pl.lit(True)
    if band.lower is not None:
        bound, inclusive = band.lower
        condition = condition & (column >= bound if inclusive else column > bound)
    if band.upper is not None:
        bound, inclusive = band.upper
        condition = condition & (column <= bound if inclusive else column < bound)
    return condition


def hematotox_points(quantity: str, bands: tuple[PointBand, ...]) -> pl.Expr:
    """Points for one CAR-HEMATOTOX variable from its bands; null input gives null points (risk §1.5)."""
    column = _usable_platelets() if quantity == "platelets" else pl.col(quantity)
    # The bands partition the value axis (checked at load), so exactly one branch is non-null.
    return pl.coalesce(
        [pl.when(_band_condition(column, band)).then(pl.lit(band.points, dtype=pl.Int8)) for band in bands]
    )


def hematotox_points_column(quantity: str) -> str:
    return f"car_hematotox_points_{quantity}"


def hematotox_on_cutoff() -> pl.Expr:
    """True where an input sits exactly on a cut-off: the boundary convention [A] decided a point (§1.5)."""
    table = hematotox_table()
    hits = [pl.col(v.quantity).is_in(list(table.cut_points(v.quantity))).fill_null(False) for v in table.variables]
    return pl.any_horizontal(hits)


def hematotox_total(convention: str) -> pl.Expr:
    """HT = sum of the five point values; null if any input is missing (risk §1.5)."""
    bands = hematotox_table().bands_for(convention)
    total = pl.lit(0, dtype=pl.Int8)
    for quantity, quantity_bands in bands.items():
        total = total + hematotox_points(quantity, quantity_bands)
    return total


def formulas(hematotox_convention: str | None = None) -> dict[str, ScoreFormula]:
    """All implemented scores keyed by name, in catalogue order."""
    catalogue = score_catalogue()
    convention = hematotox_convention or hematotox_table().default_convention
    values = {
        "easix": easix_value(),
        "s_easix": s_easix_value(),
        "m_easix": m_easix_value(),
        "car_hematotox": hematotox_total(convention),
    }
    log_scale = {"easix", "s_easix", "m_easix"}
    result: dict[str, ScoreFormula] = {}
    for definition in catalogue.scores:
        value = values[definition.name]
        result[definition.name] = ScoreFormula(
            name=definition.name,
            inputs=definition.inputs,
            value=value,
            log2=_log2(value) if definition.name in log_scale else None,
            category=_category(value, definition.cutoff) if definition.cutoff is not None else None,
        )
    missing = set(values) - set(result)
    if missing:
        raise ValueError(f"formulas without a catalogue entry in scores.yaml: {sorted(missing)}")
    return result


def input_columns() -> tuple[str, ...]:
    """Every canonical quantity some score reads, in first-use order."""
    seen: dict[str, None] = {}
    for definition in score_catalogue().scores:
        seen.update(dict.fromkeys(definition.inputs))
    return tuple(seen)


def score_expressions(hematotox_convention: str | None = None) -> list[pl.Expr]:
    """Named output expressions: value, log2, category per score; CAR-HEMATOTOX points and cut-off flag."""
    return list(_score_expressions(hematotox_convention or hematotox_table().default_convention))


@cache
def _score_expressions(convention: str) -> tuple[pl.Expr, ...]:
    """Built once per convention (expressions are immutable), so a one-patient call stays cheap."""
    expressions: list[pl.Expr] = []
    for name, formula in formulas(convention).items():
        expressions.append(formula.value.alias(name))
        if formula.log2 is not None:
            expressions.append(formula.log2.alias(f"{name}_log2"))
        if formula.category is not None:
            expressions.append(formula.category.alias(f"{name}_category"))
    for quantity, bands in hematotox_table().bands_for(convention).items():
        expressions.append(hematotox_points(quantity, bands).alias(hematotox_points_column(quantity)))
    expressions.append(hematotox_on_cutoff().alias("car_hematotox_on_cutoff"))
    return tuple(expressions)


def _absent_inputs(frame: pl.DataFrame | pl.LazyFrame) -> list[pl.Expr]:
    """Absent input columns as nulls (missing, never normal) and an absent transfusion flag as false."""
    present = set(frame.collect_schema().names())
    additions = [pl.lit(None, dtype=pl.Float64).alias(c) for c in input_columns() if c not in present]
    if TRANSFUSION_FLAG not in present:
        additions.append(pl.lit(False).alias(TRANSFUSION_FLAG))
    return additions


def score_frame(frame: FrameT, hematotox_convention: str | None = None) -> FrameT:
    """Vectorised scores for a cohort: one row per patient-draw, canonical units, nulls for missing values.

    Works on a DataFrame or a LazyFrame (returns the same kind); adds the columns of :func:`output_columns`.
    Plausibility is the caller's job (interop.md §1.1: rejected at ingestion); this function only computes.
    """
    additions = _absent_inputs(frame)
    added = [expr.meta.output_name() for expr in additions]
    return frame.with_columns(additions).with_columns(score_expressions(hematotox_convention)).drop(added)


def output_columns(hematotox_convention: str | None = None) -> tuple[str, ...]:
    """Names of the columns :func:`score_frame` adds."""
    return tuple(expr.meta.output_name() for expr in score_expressions(hematotox_convention))
