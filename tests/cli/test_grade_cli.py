"""`crsguard grade`, `crsguard systems` and `crsguard example`: the command-line contract of issue 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crsguard.cli.main import app
from tests.grading.vignettes import expected, record

runner = CliRunner()


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_grade_json_lines_in_input_order_with_the_result_contract(tmp_path: Path) -> None:
    source = tmp_path / "batch.jsonl"
    source.write_text("\n".join(json.dumps(record(n)) for n in (15, 6, 36)) + "\n")
    result = runner.invoke(app, ["grade", "--system", "astct2019", str(source)])
    assert result.exit_code == 0, result.output
    rows = _lines(result.stdout)
    assert [r["grade"] for r in rows] == [expected(n)["astct2019"] for n in (15, 6, 36)]
    assert [r["line"] for r in rows] == [1, 2, 3]
    for row in rows:
        assert {"system", "toxicity", "grade", "drivers", "missing", "lower_bound", "status", "warnings"} <= set(row)
        assert row["toxicity"] == "crs"


def test_grade_all_reads_one_json_object_from_stdin() -> None:
    result = runner.invoke(app, ["grade", "--all", "-"], input=json.dumps(record(10)))
    assert result.exit_code == 0, result.output
    grades = {r["system"]: r["grade"] for r in _lines(result.stdout)}
    assert {s: grades[s] for s in expected(10)} == expected(10)


def test_invalid_lines_exit_2_naming_line_and_field_while_valid_lines_are_graded(tmp_path: Path) -> None:
    source = tmp_path / "mixed.jsonl"
    source.write_text(json.dumps(record(1)) + "\n" + '{"temperature_c": 50}\n' + "not json\n" + json.dumps(record(2)))
    result = runner.invoke(app, ["grade", "--system", "lee2014", str(source)])
    assert result.exit_code == 2
    assert [r["line"] for r in _lines(result.stdout)] == [1, 4]
    assert "line 2: temperature_c: 50 is out of range; allowed 30.0 to 45.0" in result.stderr
    assert "line 3: not valid JSON" in result.stderr
    assert "Traceback" not in result.output


def test_option_changes_the_documented_alternative_and_bad_option_exits_2() -> None:
    base = ["grade", "--system", "lee2014", "-"]
    plain = runner.invoke(app, base, input=json.dumps(record(27)))
    shifted = runner.invoke(app, [*base, "--option", "transaminitis_reading=shift"], input=json.dumps(record(27)))
    assert (_lines(plain.stdout)[0]["grade"], _lines(shifted.stdout)[0]["grade"]) == (3, 2)
    bad = runner.invoke(app, [*base, "--option", "transaminitis_reading=halve"], input=json.dumps(record(27)))
    assert bad.exit_code == 2 and "allowed values: ['cap', 'shift']" in bad.stderr


def test_table_format_and_unknown_system() -> None:
    table = runner.invoke(
        app, ["grade", "--all", "--format", "table", "-"], input=json.dumps(record(35)), env={"COLUMNS": "250"}
    )
    assert table.exit_code == 0 and "indeterminate" in table.stdout and "≥2" in table.stdout
    unknown = runner.invoke(app, ["grade", "--system", "astct", "-"], input="{}")
    assert unknown.exit_code == 2 and "known systems: astct2019" in unknown.stderr


def test_systems_list_show_and_options() -> None:
    listed = runner.invoke(app, ["systems", "list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0 and "cartox_peds" in listed.stdout and "Mahadeo" in listed.stdout
    shown = runner.invoke(app, ["systems", "show", "astct2019"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0
    assert (
        "Hypoxia requiring positive pressure" in shown.stdout and "option masked_fever_without_findings" in shown.stdout
    )
    options = runner.invoke(app, ["systems", "options"], env={"COLUMNS": "250"})
    assert "vasopressin_counts_as_multiple" in options.stdout


def test_example_prints_the_comparison_table() -> None:
    result = runner.invoke(app, ["example"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Nasal cannula at exactly 6 L/min" in result.stdout and "requires clinician confirmation" in result.stdout


def test_systems_inputs_lists_the_schema_and_unknown_fields_get_close_matches() -> None:
    listed = runner.invoke(app, ["systems", "inputs", "lee2014"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0 and "vasopressors" in listed.stdout and "30.0 to 45.0" in listed.stdout
    typo = runner.invoke(app, ["grade", "--all", "-"], input='{"temprature_c": 38}')
    assert typo.exit_code == 2 and "closest allowed fields: temperature_c" in typo.stderr


def test_all_grades_every_system_each_line_can_inform() -> None:
    lines = [json.dumps(record(1)), json.dumps(record(1) | {"alt": 250, "alt_uln": 40})]
    result = runner.invoke(app, ["grade", "--all", "-"], input="\n".join(lines))
    assert result.exit_code == 0, result.output
    systems = {line: {r["system"] for r in _lines(result.stdout) if r["line"] == line} for line in (1, 2)}
    assert "ctcae_v5_alanine_aminotransferase_increased" in systems[2] - systems[1]
    assert {"astct2019", "penn"} <= systems[1]
