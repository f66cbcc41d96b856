"""`crsguard regrade`, `timeline` and `demo` through the main app (exit codes, files written, tables printed)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from crsguard.cli.main import app
from crsguard.cli.timeline import OUTPUT_TABLES

runner = CliRunner()


def test_regrade_writes_every_table_with_registry_ids(simulated_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["regrade", str(simulated_dir), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    for table in OUTPUT_TABLES:
        assert (tmp_path / "out" / f"{table}.parquet").exists()
    grades = pl.read_parquet(tmp_path / "out" / "grades.parquet")
    assert {"astct2019", "lee2014", "ctcae_v5", "penn", "mskcc", "cartox"} <= set(grades["system"].unique())
    summary = pl.read_parquet(tmp_path / "out" / "patient_summary.parquet")
    assert {"patient_id", "system", "max_grade"} <= set(summary.columns)
    assert "Concordance" in result.output
    alerts = pl.read_parquet(tmp_path / "out" / "alerts.parquet")
    assert {"patient_id", "time", "rule", "system", "values", "source", "requires_confirmation"} <= set(alerts.columns)
    fevers = alerts.filter(pl.col("rule") == "first_fever")
    assert fevers.height == fevers["patient_id"].n_unique() > 0  # one first fever per febrile patient


def test_regrade_csv_and_refuses_to_overwrite(simulated_dir: Path, tmp_path: Path) -> None:
    args = ["regrade", str(simulated_dir), "--out", str(tmp_path), "--systems", "astct2019", "--format", "csv"]
    assert runner.invoke(app, args).exit_code == 0
    assert (tmp_path / "episodes.csv").exists()
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "already exist" in again.output


def test_regrade_rejects_bad_input_with_exit_2(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["regrade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 2
    bad_grid = runner.invoke(app, ["regrade", str(tmp_path), "--out", str(tmp_path / "o"), "--grid", "hourly"])
    assert bad_grid.exit_code == 2
    assert "grid" in bad_grid.output
    unknown = runner.invoke(app, ["regrade", str(tmp_path), "--out", str(tmp_path / "o"), "--systems", "nope"])
    assert unknown.exit_code == 2


def test_timeline_prints_one_patient(simulated_dir: Path) -> None:
    result = runner.invoke(app, ["timeline", "P000001", str(simulated_dir)], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    assert "P000001" in result.output
    assert "astct2019" in result.output
    assert runner.invoke(app, ["timeline", "P999999", str(simulated_dir)]).exit_code == 2


def test_demo_runs_end_to_end() -> None:
    result = runner.invoke(app, ["demo", "--patients", "30"], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    assert "published" in result.output
    assert "latent truth" in result.output
