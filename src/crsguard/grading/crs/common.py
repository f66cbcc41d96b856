"""Pieces every CRS system shares (crs-grading.md D9, D11, A15)."""

from __future__ import annotations

import polars as pl

from crsguard.grading import crs_derived as d
from crsguard.grading.engine import Condition, Criterion, Options, SystemCaution, Tag
from crsguard.grading.inputs import Inputs

TOXICITY = "crs"
GATE_COLUMN = "crs_attributed"
GATE_TEXT = "findings not attributed to CRS by the treating clinician (crs-grading.md D11)"


def death(tag: Tag = "S") -> Criterion:
    """D9: death in which CRS is the principal cause is grade 5 under every system."""
    return Criterion(
        5,
        "Death due to CRS (no other principal cause)",
        lambda x, o: x("death_from_crs"),
        tag,
        "crs-grading.md §3.0 D9, A20",
    )


def _no_fever_documented(x: Inputs, options: Options, grade: pl.Expr) -> pl.Expr:
    return (grade >= 1) & (grade < 5) & d.fever(x).not_() & x("fever_masked").not_()


#: A15: scales that do not require fever grade the findings, but say that no fever was documented.
NO_FEVER_DOCUMENTED = SystemCaution(
    "no fever documented: graded on the other findings because CRS is attributed by the clinician (crs-grading.md A15)",
    _no_fever_documented,
)

#: A13: the D5 high-dose table has not been re-read in the primary sources.
HIGH_DOSE_NOTE = "high-dose vasopressor table (D5) awaiting primary-source check (A13)"

FIO2_ESTIMATED = "FiO2 estimated from device (crs-grading.md D7, A4)"


def fio2_estimated(x: Inputs, options: Options) -> pl.Expr:
    return d.fio2_estimated(x)


def _organ_at_least(grade: int) -> Condition:
    return lambda x, o: x("organ_toxicity_max_grade") >= grade


def _transaminitis_at_least(crs_grade: int) -> Condition:
    return lambda x, o: d.transaminitis_at_least(x, crs_grade, o)


def organ_toxicity_rows(ref: str, options: Options, tag: Tag = "S") -> list[Criterion]:
    """Organ toxicity 2/3/4 → CRS 2/3/4 and the transaminitis rules shared by Lee 2014, CARTOX and paediatric
    CARTOX (§3.2 rules 6-7, §3.8 rules 6-7, §3.9 rule 5; A8 cap/shift reading)."""
    reading = options["transaminitis_reading"]
    shown = {"cap": (2, 3), "shift": (3, 4)}[reading]
    note = f"transaminitis read as organ toxicity ({reading} reading, option transaminitis_reading)"
    return [
        *(
            Criterion(
                g,
                f"Grade {g} organ toxicity" + (" (excluding transaminitis)" if g == 4 else ""),
                _organ_at_least(g),
                tag,
                ref,
            )
            for g in (2, 3, 4)
        ),
        *(
            Criterion(crs, f"Grade {lab} transaminitis", _transaminitis_at_least(crs), "R", f"{ref}, A8", note)
            for crs, lab in zip((2, 3), shown, strict=True)
        ),
        Criterion(3, "Grade 4 transaminitis (never grade 4)", lambda x, o: x("transaminitis_grade") >= 4, tag, ref),
    ]


def high_dose_row(grade: int, text: str, ref: str, note: str = HIGH_DOSE_NOTE) -> Criterion:
    """A criterion met by high-dose vasopressors (D5, sustained ≥ 3 h) [R, A13]."""
    return Criterion(grade, text, lambda x, o: d.high_dose(x, o), "R", f"{ref}, D5, A13", note)


def multiple_vasopressors_row(grade: int, text: str, ref: str, options: Options) -> Criterion:
    """'Multiple vasopressors' with vasopressin counted or not (A1): [R] for Lee/CARTOX, [L] otherwise."""
    counted = options["vasopressin_counts_as_multiple"]
    return Criterion(
        grade,
        text,
        lambda x, o: d.n_pressors_counted(x, o) >= 2,
        "R" if counted else "L",
        f"{ref}, A1",
        "vasopressin counts as a second vasopressor" if counted else "vasopressin not counted toward multiple",
    )
