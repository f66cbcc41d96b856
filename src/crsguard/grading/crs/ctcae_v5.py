"""`ctcae_v5` — NCI CTCAE v5.0, term "Cytokine release syndrome" (crs-grading.md §3.4), and the shared
hypotension rules of CTCAE v5.0/v6.0 (v6.0 keeps the v5.0 hypotension wording, §3.5)."""

from __future__ import annotations

from crsguard.grading import crs_derived as d
from crsguard.grading.crs import common
from crsguard.grading.engine import Caution, Criterion, GradingSystem, Options
from crsguard.model.snapshot import O2Device

REF = "crs-grading.md §3.4"


def fever_and_hypotension(options: Options, ref: str) -> list[Criterion]:
    """Grade 1 fever and the hypotension ladder, identical in CTCAE v5.0 and v6.0 (§3.4 rules 1, 3; §3.5)."""
    counted = options["vasopressin_counts_as_multiple"]
    return [
        Criterion(1, "Fever, with or without constitutional symptoms", lambda x, o: d.fever(x), "P", f"{ref} rule 1"),
        Criterion(2, "Hypotension responding to fluids", lambda x, o: d.hypotension_present(x), "P", f"{ref} rule 3"),
        Criterion(3, "Hypotension managed with one pressor", lambda x, o: d.any_vasopressor(x), "P", f"{ref} rule 3"),
        Criterion(
            4,
            "Two or more pressors: life-threatening consequences; urgent intervention indicated",
            lambda x, o: d.n_pressors_counted(x, o) >= 2,
            "L",
            f"{ref} rule 3, A1",
            "two or more pressors read as grade 4"
            + (", vasopressin counted" if counted else ", vasopressin not counted"),
        ),
        Criterion(
            4,
            "Life-threatening consequences; urgent intervention indicated",
            lambda x, o: x("life_threatening"),
            "P",
            f"{ref} rule 5",
        ),
        common.death("P"),
    ]


def positive_pressure(options: Options, ref: str) -> list[Criterion]:
    """Invasive ventilation (and CPAP/BiPAP under A7) read as 'urgent intervention indicated' [L]."""
    rows = [
        Criterion(
            4,
            "Invasive mechanical ventilation: urgent intervention indicated",
            lambda x, o: d.device_in(x, O2Device.mechanical_ventilation),
            "L",
            f"{ref}, A7",
            "invasive ventilation read as urgent intervention",
        ),
    ]
    if options["cpap_bipap_as_ventilation"]:
        rows.append(
            Criterion(
                4,
                "CPAP or BiPAP: urgent intervention indicated",
                lambda x, o: d.device_in(x, O2Device.cpap, O2Device.bipap),
                "L",
                f"{ref}, A7",
                "CPAP/BiPAP read as urgent intervention (option cpap_bipap_as_ventilation)",
            )
        )
    return rows


_ESTIMATED = Caution(common.FIO2_ESTIMATED, common.fio2_estimated)


def criteria(options: Options) -> list[Criterion]:
    return [
        *fever_and_hypotension(options, REF),
        Criterion(
            2,
            "Hypoxia responding to < 40 % oxygen",
            lambda x, o: d.on_oxygen(x),
            "P",
            f"{REF} rule 4",
            cautions=(_ESTIMATED,),
        ),
        Criterion(
            3,
            "Hypoxia requiring >= 40 % oxygen",
            lambda x, o: d.oxygen_fio2_at_least_40(x, o),
            "P",
            f"{REF} rule 4",
            cautions=(_ESTIMATED,),
        ),
        *positive_pressure(options, REF),
    ]


SYSTEM = GradingSystem(
    id="ctcae_v5",
    toxicity=common.TOXICITY,
    title="NCI CTCAE v5.0 — Cytokine release syndrome",
    citation="National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE) version 5.0. "
    "27 November 2017. Term 'Cytokine release syndrome' (MedDRA 10052015).",
    spec_section=REF,
    evidence="[P] read in NCI's CTCAE v5.0 workbook",
    criteria=criteria,
    cautions=(common.NO_FEVER_DOCUMENTED,),
    gate_column=common.GATE_COLUMN,
    gate_text=common.GATE_TEXT,
    notes=(
        "Fever is required for grade 1 only; masking creates no grade.",
        "Organ toxicities are reported under their own CTCAE terms, not in this grade.",
    ),
)
