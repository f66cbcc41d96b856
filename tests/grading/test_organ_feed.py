"""Organ toxicity feeds CRS (crs-grading.md D8, interop.md §1.5): lab values through CTCAE v5.0, given grades win."""

from __future__ import annotations

from typing import Any

import polars as pl

import crsguard
from crsguard.grading.api import informative_systems
from tests.grading.vignettes import BASELINE

LABS = {"creatinine": 2.6, "creatinine_uln": 1.2, "creatinine_baseline": 0.8}


def crs_without_organ_grades(**changes: Any) -> dict[str, Any]:
    record = {k: v for k, v in BASELINE.items()
              if k not in ("organ_toxicity_max_grade", "transaminitis_grade", "creatinine_grade")}
    return record | changes


def test_creatinine_from_labs_gives_lee_grade_3_and_says_so() -> None:
    result = crsguard.grade(crs_without_organ_grades(**LABS), "lee2014")
    assert result.grade == 3
    assert any("derived from laboratory values" in w and "organ_ctcae_version = 5.0" in w for w in result.warnings)


def test_a_given_organ_grade_wins_over_the_labs() -> None:
    given = crs_without_organ_grades(**LABS, organ_toxicity_max_grade=1, creatinine_grade=1, transaminitis_grade=0)
    result = crsguard.grade(given, "lee2014")
    assert result.grade == 1
    assert any("as given" in w for w in result.warnings)


def test_transaminitis_from_alt_feeds_penn() -> None:
    record = crs_without_organ_grades(alt=1000, alt_uln=40, creatinine_grade=0)
    assert crsguard.grade(record, "penn").grade == 3  # ALT 25 x ULN = grade 4 LFTs -> Penn 3


def test_uncertain_lab_grade_is_not_used() -> None:
    record = crs_without_organ_grades(creatinine=2.6)  # no ULN: the CTCAE grade is undetermined
    result = crsguard.grade(record, "lee2014")
    assert "organ_toxicity_max_grade" in result.missing


def test_labs_do_not_change_astct() -> None:
    assert crsguard.grade(crs_without_organ_grades(**LABS), "astct2019").grade == 1


def test_frame_path_derives_too() -> None:
    frame = pl.DataFrame([crs_without_organ_grades(**LABS) | {"vasopressors": None}]).drop("vasopressors")
    out = crsguard.grade_frame(frame, ["lee2014"])
    assert out["lee2014_grade"].to_list() == [3]


def test_informative_systems_for_vitals_ice_and_labs() -> None:
    snapshot = {"age_years": 60, "temperature_c": 38.6, "ice_total": 8, "loc": "alert", "alt": 100, "alt_uln": 40,
                "anc": 0.4}
    chosen = informative_systems(snapshot)
    assert {"astct2019", "astct2019_icans", "cartox10", "ctcae_v5_alanine_aminotransferase_increased",
            "ctcae_v5_neutrophil_count_decreased", "ctcae_v5_fever"} <= set(chosen)
    assert "icaht2023" not in chosen and "iechs2023" not in chosen and "ctcae_v5_hypotension" not in chosen
