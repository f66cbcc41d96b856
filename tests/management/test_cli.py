"""CLI: `crsguard dose`, `recommend`, `protocol show|list|validate` (JSON on stdout, exit 2 on bad input)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from crsguard.cli.main import app
from tests.management.states import at, crs, dose

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_dose_prints_one_json_object() -> None:
    code, out, _ = run("dose", "tocilizumab", "--weight-kg", "120", "--age-years", "50")
    assert code == 0
    payload = json.loads(out)
    assert payload["drug"] == "tocilizumab" and payload["dose_mg"] == 800.0 and payload["capped"] is True
    assert "capped to 800 mg" in payload["formula"] and isinstance(payload["warnings"], list)
    assert payload["label"] == "Decision support — not an order"


def test_dose_child_and_regimens() -> None:
    code, out, _ = run("dose", "dexamethasone", "--weight-kg", "22", "--age-years", "8")
    assert code == 0 and json.loads(out)["dose_mg"] == 10.0
    code, out, _ = run("dose", "methylprednisolone", "--regimen", "pulse", "--age-years", "40")
    assert code == 0 and json.loads(out)["dose_mg"] == 1000.0
    code, out, _ = run("dose", "anakinra", "--weight-kg", "68", "--age-years", "50")
    assert code == 0 and json.loads(out)["dose_range_mg"] == [181.3, 226.7]
    code, out, _ = run(
        "dose", "levetiracetam", "--age-years", "50", "--crcl-ml-min", "25", "--adult-dose-mg", "750"
    )
    assert code == 0 and json.loads(out)["dose_mg"] == 500.0


def test_dose_weight_date_staleness() -> None:
    today = datetime.now(UTC).date()
    fresh = (today - timedelta(days=2)).isoformat()
    code, out, _ = run("dose", "siltuximab", "--weight-kg", "70", "--weight-date", fresh)
    assert code == 0 and not any("Weight" in warning for warning in json.loads(out)["warnings"])
    old = (today - timedelta(days=10)).isoformat()
    code, out, _ = run("dose", "siltuximab", "--weight-kg", "70", "--weight-date", old)
    assert code == 0 and any("> 7 days" in warning for warning in json.loads(out)["warnings"])
    stale = (today - timedelta(days=31)).isoformat()
    code, _, err = run("dose", "siltuximab", "--weight-kg", "70", "--weight-date", stale)
    assert code == 2 and "> 30 days" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dose", "tocilizumab"], "--weight-kg: missing"),
        (["dose", "tocilizumab", "--weight-kg", "400"], "implausible (allowed 0.5–350 kg)"),
        (["dose", "siltuximab", "--weight-kg", "0.2"], "implausible"),
        (["dose", "dexamethasone", "--age-years", "8"], "--weight-kg: missing"),
        (["dose", "ruxolitinib", "--weight-kg", "70"], "specialist order; no calculated dose"),
        (["dose", "aspirin", "--weight-kg", "70"], "allowed: tocilizumab"),
        (["dose", "anakinra", "--weight-kg", "70", "--regimen", "weekly"], "allowed: weight_based"),
        (["dose", "tocilizumab", "--weight-kg", "70", "--regimen", "pulse"], "--regimen applies only"),
        (["dose", "tocilizumab", "--weight-kg", "70", "--age-years", "200"], "--age-years"),
        (["dose", "tocilizumab", "--weight-kg", "70", "--weight-date", "yesterday"], "is not a date"),
    ],
)
def test_dose_refusals_exit_2(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == "" and message in err and "Traceback" not in err


def _state_file(tmp_path: Path, **overrides: Any) -> Path:
    data: dict[str, Any] = {
        "evaluated_at": at(2, 14),
        "product": "axicabtagene_ciloleucel",
        "infusion_datetime": at(0, 10),
        "age_years": 60,
        "weight_kg": 75,
        "weight_time": at(2, 8),
        "temperature_c": 38.5,
        "crs": crs(2, onset=at(1, 20), hypotension_present=True, response="not_improving"),
        "icans": {"grade": 0},
        "doses_given": [dose("tocilizumab", 600, 2, 0), dose("tocilizumab", 600, 2, 8, 30)],
        **overrides,
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_recommend_json_and_table(tmp_path: Path) -> None:
    path = _state_file(tmp_path)
    code, out, _ = run("recommend", str(path))
    assert code == 0
    report = json.loads(out)
    assert report["label"] == "Decision support — not an order" and report["protocol_id"] == "default"
    toci = next(rec for rec in report["recommendations"] if rec["drug"] == "tocilizumab")
    assert toci["status"] == "refused" and toci["next_eligible"].startswith("2025-03-03T16:30")
    code, out, _ = run("recommend", str(path), "--format", "table")
    assert code == 0 and "Safety findings" in out and "CRS-2d" in out


def test_recommend_errors(tmp_path: Path) -> None:
    bad_enum = _state_file(tmp_path, product="kymriah")
    code, _, err = run("recommend", str(bad_enum))
    assert code == 2 and "product" in err and "tisagenlecleucel" in err
    extra = _state_file(tmp_path, weight_lb=150)
    code, _, err = run("recommend", str(extra))
    assert code == 2 and "unknown key 'weight_lb'" in err and "weight_kg" in err
    nested = _state_file(tmp_path, crs={"grade": 7})
    code, _, err = run("recommend", str(nested))
    assert code == 2 and "crs.grade" in err
    bispecific = _state_file(tmp_path, product="teclistamab")
    code, _, err = run("recommend", str(bispecific))
    assert code == 2 and "'bispecific'" in err
    code, _, err = run("recommend", str(tmp_path / "absent.json"))
    assert code == 2 and "cannot be read" in err
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    code, _, err = run("recommend", str(tmp_path / "bad.json"))
    assert code == 2 and "not valid JSON" in err


def test_recommend_with_institution_protocol_file(tmp_path: Path) -> None:
    site = {"id": "site", "extends": "default", "title": "Site", "version": "1", "disable_rules": ["CRS-2d"]}
    protocol_file = tmp_path / "site.yaml"
    protocol_file.write_text(yaml.safe_dump(site), encoding="utf-8")
    code, out, _ = run("recommend", str(_state_file(tmp_path)), "--protocol-file", str(protocol_file))
    assert code == 0
    report = json.loads(out)
    assert report["protocol_id"] == "site"
    assert all("CRS-2d" not in rec["rule_ids"] for rec in report["recommendations"])
    protocol_file.write_text(yaml.safe_dump({**site, "colour": "red"}), encoding="utf-8")
    code, _, err = run("recommend", str(_state_file(tmp_path)), "--protocol-file", str(protocol_file))
    assert code == 2 and "unknown key 'colour'" in err and "site.yaml" in err


@pytest.mark.parametrize(
    ("fmt", "marker"), [("mermaid", "flowchart TD"), ("svg", "<svg"), ("html", "<!DOCTYPE html>")]
)
def test_protocol_show(fmt: str, marker: str, tmp_path: Path) -> None:
    code, out, _ = run("protocol", "show", "default", "--format", fmt)
    assert code == 0 and marker in out
    target = tmp_path / f"flowchart.{fmt}"
    code, _, _ = run("protocol", "show", "bispecific", "--format", fmt, "--output", str(target))
    assert code == 0 and marker in target.read_text(encoding="utf-8")


def test_protocol_list_validate_and_unknown(tmp_path: Path) -> None:
    code, out, _ = run("protocol", "list")
    assert code == 0 and {item["id"] for item in json.loads(out)} >= {"default", "bispecific"}
    code, out, _ = run("protocol", "show", "default", "--format", "yaml")
    copy = tmp_path / "copy.yaml"
    copy.write_text(out, encoding="utf-8")
    code, out, _ = run("protocol", "validate", str(copy))
    assert code == 0 and json.loads(out)["valid"] is True
    code, _, err = run("protocol", "show", "nope")
    assert code == 2 and "built-in protocols" in err
