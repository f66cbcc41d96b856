"""CRS organ-toxicity inputs from laboratory values, through the CTCAE v5.0 term definitions (crs-grading.md D8,
interop.md §1.5, other-toxicities.md §6).

`transaminitis_grade` = higher of the ALT and AST grades; `creatinine_grade` = "Creatinine increased";
`organ_toxicity_max_grade` = highest of creatinine, bilirubin and the coagulation grades (fibrinogen, INR, aPTT).
A value given in the snapshot always wins; a derived one is used only when it is certain (every lab term with a
value has the ULN/LLN it needs), and each CRS result that reads it says so in its warnings.
"""

from __future__ import annotations

import polars as pl

from crsguard.grading import engine
from crsguard.grading.ctcae.terms import SYSTEMS as CTCAE_SYSTEMS
from crsguard.grading.engine import Derivation, GradingSystem, note_column

_BY_ID = {s.id: s for s in CTCAE_SYSTEMS}

#: CRS input → the CTCAE v5.0 terms whose highest grade fills it, with the lab value each term needs.
SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "transaminitis_grade": (
        ("ctcae_v5_alanine_aminotransferase_increased", "alt"),
        ("ctcae_v5_aspartate_aminotransferase_increased", "ast"),
    ),
    "creatinine_grade": (("ctcae_v5_creatinine_increased", "creatinine"),),
    "organ_toxicity_max_grade": (
        ("ctcae_v5_creatinine_increased", "creatinine"),
        ("ctcae_v5_blood_bilirubin_increased", "bilirubin_total"),
        ("ctcae_v5_fibrinogen_decreased", "fibrinogen"),
        ("ctcae_v5_inr_increased", "inr"),
        ("ctcae_v5_activated_partial_thromboplastin_time_prolonged", "aptt"),
    ),
}
#: A grade this high is certain whatever the other terms are (no organ grade above 4).
TOP_GRADE = 4
D8 = "organ_ctcae_version = 5.0; the pre-ASTCT scales were written for CTCAE v4.0x (crs-grading.md D8)"


def _systems() -> list[GradingSystem]:
    ids = dict.fromkeys(i for sources in SOURCES.values() for i, _ in sources)
    return [_BY_ID[i] for i in ids]


def _derived(column: str) -> tuple[pl.Expr, pl.Expr]:
    """(derived grade or null, text listing the term grades) for one CRS input."""
    terms = SOURCES[column]
    contributing = [pl.col(value).is_not_null() for _, value in terms]
    grades = [pl.when(c).then(pl.col(f"{i}_grade")) for c, (i, _) in zip(contributing, terms, strict=True)]
    uncertain = [c & pl.col(f"{i}_lower_bound") for c, (i, _) in zip(contributing, terms, strict=True)]
    best = pl.max_horizontal(*grades)
    certain = (best >= TOP_GRADE) | ~pl.any_horizontal(*uncertain)
    derived = pl.when(certain).then(best).cast(pl.Int64)
    text = pl.concat_str(
        [pl.when(c).then(pl.format("{} {}", pl.lit(i.removeprefix("ctcae_v5_")), pl.col(f"{i}_grade")))
         for c, (i, _) in zip(contributing, terms, strict=True)],
        separator=", ",
        ignore_nulls=True,
    )
    return derived, text


def _note(column: str, given: pl.Expr, derived: pl.Expr, text: pl.Expr) -> pl.Expr:
    used = pl.format("{} = {} derived from laboratory values ({}) ({})", pl.lit(column), derived, text, pl.lit(D8))
    differs = pl.format(
        "{} = {} as given (wins over the laboratory CTCAE v5.0 grades: {})", pl.lit(column), given, text
    )
    return (
        pl.when(given.is_null() & derived.is_not_null())
        .then(used)
        .when(given.is_not_null() & derived.is_not_null() & (given != derived))
        .then(differs)
        .alias(note_column(column))
    )


def derive(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill the CRS organ inputs that are absent from the lab grades; add one note column per input."""
    lab_columns = {value for sources in SOURCES.values() for _, value in sources}
    if all(frame[c].null_count() == frame.height for c in lab_columns):
        return frame.with_columns(pl.lit(None, pl.String).alias(note_column(c)) for c in SOURCES)
    graded = frame.hstack(engine.evaluate(frame, _systems()))
    updates = []
    for column in SOURCES:
        derived, text = _derived(column)
        given = pl.col(column)
        updates += [pl.coalesce(given, derived).cast(frame.schema[column]).alias(column),
                    _note(column, given, derived, text)]
    return graded.with_columns(updates).select(*frame.columns, *(note_column(c) for c in SOURCES))


DERIVATION = Derivation(columns=tuple(SOURCES), apply=derive)
engine.DERIVATIONS.append(DERIVATION)
