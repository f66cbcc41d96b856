"""Neurological assessments from long-format rows: one ICE assessment per charted time, items kept together.

interop.md §1.5: `ice_total` and the five ICE items are "taken together from the assessment with the lowest
`ice_total` in the window". An assessment is the set of ICE rows of one patient at one `time` (the long format,
§8.2, has no assessment id; rows charted at the same instant belong to the same form). To keep the window a plain
rolling `min`, each assessment is packed into one integer key: the total in the high digits, the five items (each
at most 4, one decimal digit) below it, or all nines when the items are incomplete. The smallest key is the lowest
total and, between equal totals, an assessment with all items wins over one with the total only.
"""

from __future__ import annotations

import polars as pl

from crsguard.model import toxicity as tox

#: The five ICE items of other-toxicities.md §1.2 / §7.2 (orientation 0-4, naming 0-3, the others 0-1).
ICE_ITEMS: tuple[str, ...] = tuple(tox.ICE_ITEMS)
ICE_QUANTITIES: tuple[str, ...] = ("ice_total", *ICE_ITEMS)
_ITEMS_PLACE = int(10 ** len(ICE_ITEMS))
#: Item code of an assessment whose items are incomplete (or disagree with its total): the total alone is passed.
_ITEMS_ABSENT = _ITEMS_PLACE - 1


def _digit_place(index: int) -> int:
    return int(10 ** (len(ICE_ITEMS) - 1 - index))


def ice_assessment_keys(observations: pl.LazyFrame) -> pl.LazyFrame:
    """(patient_id, time, `__ice_key`): one packed key per ICE assessment (interop.md §1.5).

    The total is the charted `ice_total`, else the sum of the five items when all are charted (other-toxicities.md
    §1.2). Items are kept only when all five are charted and they agree with the total; a disagreeing total is
    quarantined by the reader (`io.reader`, interop.md §1.1 range rule, §8.7 OUT_OF_RANGE), so here it is only a
    guard: the total is passed alone and the grader never receives a contradiction.
    """
    rows = (
        observations.filter(pl.col("quantity").is_in(list(ICE_QUANTITIES)))
        .group_by("patient_id", "time")
        .agg(pl.col("value").filter(pl.col("quantity") == q).min().alias(q) for q in ICE_QUANTITIES)
    )
    complete = pl.all_horizontal(pl.col(i).is_not_null() for i in ICE_ITEMS)
    items_sum = pl.sum_horizontal(ICE_ITEMS)
    total = pl.coalesce(pl.col("ice_total"), pl.when(complete).then(items_sum))
    agree = complete & (pl.col("ice_total").is_null() | (pl.col("ice_total") == items_sum))
    code = pl.sum_horizontal(pl.col(i) * _digit_place(n) for n, i in enumerate(ICE_ITEMS))
    key = total * _ITEMS_PLACE + pl.when(agree).then(code).otherwise(_ITEMS_ABSENT)
    return rows.select("patient_id", "time", key.cast(pl.Int64).alias("__ice_key")).drop_nulls("__ice_key")


def ice_total_of_key(key: pl.Expr) -> pl.Expr:
    return key.floordiv(_ITEMS_PLACE)


def ice_items_of_key(key: pl.Expr, assessed: pl.Expr) -> list[pl.Expr]:
    """The five item columns of the chosen assessment; null when it had no complete items or is not `assessed`."""
    code = key % _ITEMS_PLACE
    keep = assessed & (code != _ITEMS_ABSENT)
    return [
        pl.when(keep).then((code // _digit_place(n)) % 10).cast(pl.Int64).alias(item)
        for n, item in enumerate(ICE_ITEMS)
    ]
