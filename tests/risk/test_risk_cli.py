"""`crsguard risk PATIENT.json`: JSON and table output, exit status 2 and no stdout on invalid input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from crsguard.cli import risk as risk_cli
from crsguard.cli.main import app as main_app


def _app() -> typer.Typer:
    """The risk command inside a command group, as in the full CLI (whatever else is registered)."""
    app = typer.Typer()

    @app.callback()
    def _group() -> None:
        """crsguard"""

    risk_cli.register(app)
    return app


def _write(tmp_path: Path, content: object | str) -> Path:
    path = tmp_path / "patient.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


E2 = {"patient_id": "E2", "ldh": 600, "creatinine": 1.3, "platelets": 80, "age_years": 70, "obesity": False}


def test_json_output_has_scores_and_checklist(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["risk", str(_write(tmp_path, E2))])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    scores = {s["name"]: s for s in out["scores"]}
    assert list(scores) == ["easix", "s_easix", "m_easix", "car_hematotox"]
    assert scores["easix"]["value"] == pytest.approx(9.75)
    assert scores["easix"]["category"] == "high risk"
    assert scores["m_easix"]["inputs_missing"] == ["crp"]
    assert scores["m_easix"]["category"] is None
    assert scores["easix"]["source"]["spec_section"] == "risk §1.2"
    factors = {f["factor"]: f["status"] for f in out["checklist"]["factors"]}
    assert factors["age_65_or_over"] == "present" and factors["obesity"] == "absent"
    assert out["patient_id"] == "E2"


def test_table_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["risk", str(_write(tmp_path, E2)), "--format", "table"])
    assert result.exit_code == 0, result.stderr
    assert "easix" in result.stdout and "9.750" in result.stdout
    assert "checklist, NOT a score" in result.stdout


def test_boundary_convention_option(tmp_path: Path) -> None:
    patient = {"platelets": 200, "anc": 1.2, "hemoglobin": 12, "crp": 5, "ferritin": 400}
    path = _write(tmp_path, patient)
    default = json.loads(CliRunner().invoke(_app(), ["risk", str(path)]).stdout)
    strict = json.loads(
        CliRunner().invoke(_app(), ["risk", str(path), "--hematotox-boundary", "strict_anc_hb"]).stdout
    )
    assert default["scores"][3]["value"] == 1
    assert strict["scores"][3]["value"] == 0


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ({"ldh": 450, "bogus": 1}, "unknown key 'bogus'"),
        ({"platelets": 5000}, "plausible range"),
        ({"crp": {"value": 3, "unit": "nmol/L"}}, "not accepted"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_invalid_input_exits_2_with_message_and_no_stdout(
    tmp_path: Path, content: object, fragment: str
) -> None:
    result = CliRunner().invoke(_app(), ["risk", str(_write(tmp_path, content))])
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["risk", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_unknown_boundary_convention_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["risk", str(_write(tmp_path, E2)), "--hematotox-boundary", "nope"])
    assert result.exit_code == 2
    assert "middle_band" in result.stderr


def test_registered_in_main_app() -> None:
    assert any(command.name == "risk" for command in main_app.registered_commands)


def test_main_app_runs_risk(tmp_path: Path) -> None:
    """End to end through `crsguard.cli.main:app` (a command group once several commands are registered)."""
    result = CliRunner().invoke(main_app, ["risk", str(_write(tmp_path, E2))])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["scores"][0]["category"] == "high risk"
