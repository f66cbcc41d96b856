"""The non-CRS systems through `crsguard grade --system ID` and `crsguard systems show ID` (issue 3, item 5)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from crsguard.cli.main import app
from tests.grading.vignettes_other import neuro_record, other_record

runner = CliRunner()


def test_grade_icans_from_json_lines(tmp_path: object) -> None:
    lines = "\n".join(json.dumps(neuro_record(v)) for v in ("V1", "V4", "V11"))
    result = runner.invoke(app, ["grade", "--system", "astct2019_icans", "-"], input=lines)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["grade"], r["toxicity"], r["instrument"]) for r in rows] == [(1, "icans", "ice"), (3, "icans", "ice"),
                                                                          (3, "icans", "capd")]


def test_grade_icaht_reports_its_window() -> None:
    result = runner.invoke(app, ["grade", "--system", "icaht2023", "-"], input=json.dumps(other_record("V21")))
    row = json.loads(result.stdout)
    assert (row["grade"], row["window"], row["toxicity"]) == (2, "late", "icaht")


def test_ctcae_term_toxicity_is_the_term() -> None:
    result = runner.invoke(app, ["grade", "--system", "ctcae_v5_alanine_aminotransferase_increased", "-"],
                           input=json.dumps({"alt": {"value": 5, "unit": "ukat/L"}, "alt_uln": 40}))
    row = json.loads(result.stdout)
    assert (row["grade"], row["toxicity"]) == (3, "alanine_aminotransferase_increased")  # 300 U/L = 7.5 x ULN


def test_items_disagreeing_with_the_total_exit_2_naming_the_field() -> None:
    record = neuro_record("V1") | {"ice_total": 10}
    result = runner.invoke(app, ["grade", "--system", "astct2019_icans", "-"], input=json.dumps(record))
    assert result.exit_code == 2
    assert "ice_total" in result.stderr and "Traceback" not in result.output


def test_systems_show_renders_a_ctcae_term_table() -> None:
    result = runner.invoke(app, ["systems", "show", "ctcae_v5_neutrophil_count_decreased"])
    assert result.exit_code == 0
    assert "< 0.5 x 10^9/L" in result.stdout
