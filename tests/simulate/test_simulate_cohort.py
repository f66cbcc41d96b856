"""The simulated dataset: exact §8 schemas, determinism, streaming in chunks, CLI behaviour."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from crsguard.cli.main import app
from crsguard.io.longformat import TABLES, polars_schema
from crsguard.model.vocabulary import (
    DRUGS,
    O2_DEVICES,
    PRODUCTS,
    QUANTITIES,
    ImplausibleValueError,
    canonical,
)
from crsguard.simulate.cohort import (
    TRUTH_SCHEMA,
    SimulationError,
    SimulationSettings,
    run_simulation,
)
from tests.simulate.datasets import load_dataset

runner = CliRunner()


def _run(folder: Path, **overrides: object) -> dict[str, pl.DataFrame]:
    settings = {"product": "mix", "patients": 24, "days": 10, "seed": 3, **overrides}
    chunk = settings.pop("chunk_patients", 250)
    fmt = settings.pop("file_format", "parquet")
    run_simulation(SimulationSettings(chunk_patients=chunk, **settings), folder, fmt)  # type: ignore[arg-type]
    return load_dataset(folder, fmt)  # type: ignore[arg-type]


def test_tables_follow_the_interop_schema_exactly(mix_dataset: dict[str, pl.DataFrame]) -> None:
    for table in ("patients", "observations", "interventions", "events"):
        assert mix_dataset[table].schema == polars_schema(table)
    assert mix_dataset["truth"].schema == TRUTH_SCHEMA


def test_written_parquet_has_the_exact_schema_without_conforming(tmp_path: Path) -> None:
    run_simulation(SimulationSettings("axi-cel", 5, 5, 1), tmp_path)
    for table in ("patients", "observations", "interventions"):
        assert pl.read_parquet(tmp_path / f"{table}.parquet").schema == polars_schema(table)


def test_vocabulary_names_and_units_are_canonical(mix_dataset: dict[str, pl.DataFrame]) -> None:
    obs = mix_dataset["observations"]
    for quantity, unit in obs.select("quantity", "unit").unique().iter_rows():
        assert quantity in QUANTITIES
        assert unit == QUANTITIES[quantity].canonical_unit
    agents = set(mix_dataset["interventions"]["agent"].unique().to_list())
    assert agents <= set(DRUGS) | set(PRODUCTS) | set(O2_DEVICES)
    products = set(mix_dataset["patients"]["product"].to_list())
    assert len(products) >= 5 and products <= set(PRODUCTS)


def test_truth_is_hourly_per_patient(mix_dataset: dict[str, pl.DataFrame]) -> None:
    truth = mix_dataset["truth"]
    per_patient = truth.group_by("patient_id").agg(pl.len(), pl.col("hours_from_t0").max())
    assert (per_patient["hours_from_t0"] == per_patient["len"] - 1).all()
    assert set(truth["crs_grade"].unique().to_list()) <= {0, 1, 2, 3, 4, 5}
    assert set(truth["icans_grade"].unique().to_list()) <= {0, 1, 2, 3, 4}


def test_deterministic_for_a_seed_and_independent_of_chunking_and_format(tmp_path: Path) -> None:
    first = _run(tmp_path / "a")
    second = _run(tmp_path / "b", chunk_patients=5)
    as_csv = _run(tmp_path / "c", file_format="csv")
    for table in ("patients", "observations", "interventions", "events"):
        assert_frame_equal(first[table], second[table])
        assert_frame_equal(first[table], as_csv[table])
    assert_frame_equal(first["truth"], second["truth"])
    other_seed = _run(tmp_path / "d", seed=4)
    assert not first["observations"].equals(other_seed["observations"])


def test_charting_errors_are_off_by_default_and_caught_by_the_vocabulary(tmp_path: Path) -> None:
    data = _run(tmp_path / "errors", charting_error_rate=0.02, product="axi-cel")
    errors = pl.read_parquet(tmp_path / "errors" / "charting_errors.parquet")
    assert errors.height > 0
    fahrenheit = errors.filter(pl.col("kind") == "fahrenheit_as_celsius")
    assert fahrenheit.height > 0
    for value in fahrenheit["charted_value"].to_list():
        with pytest.raises(ImplausibleValueError):
            canonical("body_temperature", value, "Cel")
    charted = data["observations"].join(errors.select("record_id", "charted_value"), on="record_id")
    assert (charted["value"] == charted["charted_value"]).all()
    clean = tmp_path / "clean"
    run_simulation(SimulationSettings("axi-cel", 3, 3, 1), clean)
    assert not (clean / "charting_errors.parquet").exists()


def test_tce_step_up_doses_are_product_administrations(mix_dataset: dict[str, pl.DataFrame]) -> None:
    tce = mix_dataset["patients"].filter(pl.col("product_class") == "tce")
    assert tce.height > 0
    doses = mix_dataset["interventions"].filter(
        (pl.col("kind") == "product_administration") & pl.col("patient_id").is_in(tce["patient_id"].implode())
    )
    first = doses.sort("start_time").group_by("patient_id", maintain_order=True).first()
    joined = first.join(tce.select("patient_id", "t0", "dose_value"), on="patient_id")
    assert (joined["start_time"] == joined["t0"]).all()
    assert (joined["dose_value"] == joined["dose_value_right"]).all()


def test_invalid_settings_are_specific_errors(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="patients"):
        run_simulation(SimulationSettings("axi-cel", 0, 30, 1), tmp_path)
    with pytest.raises(SimulationError, match="charting error rate"):
        run_simulation(SimulationSettings("axi-cel", 1, 30, 1, charting_error_rate=2.0), tmp_path)
    with pytest.raises(SimulationError, match="no simulator calibration"):
        run_simulation(SimulationSettings("blinatumomab", 1, 30, 1), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_existing_dataset_is_not_overwritten_silently(tmp_path: Path) -> None:
    run_simulation(SimulationSettings("axi-cel", 2, 2, 1), tmp_path)
    before = (tmp_path / "patients.parquet").read_bytes()
    with pytest.raises(SimulationError, match="--overwrite"):
        run_simulation(SimulationSettings("axi-cel", 3, 2, 9), tmp_path)
    assert (tmp_path / "patients.parquet").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_writes_dataset(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["simulate", "--product", "teclistamab", "--patients", "6", "--days", "8", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "events.parquet",
        "interventions.parquet",
        "observations.parquet",
        "patients.parquet",
        "truth.parquet",
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--product", "zuma-cel", "--out", "X"], "unknown product"),
        (["--product", "axi-cel"], "--out is required"),
        (["--out", "X"], "--product is required"),
        (["--product", "axi-cel", "--out", "X", "--format", "xlsx"], "not supported"),
        (["--product", "axi-cel", "--out", "X", "--policy", "magic"], "unknown management policy"),
        (["--product", "axi-cel", "--out", "X", "--days", "0"], "days"),
    ],
)
def test_cli_invalid_input_exits_2_without_traceback(tmp_path: Path, arguments: list[str], message: str) -> None:
    arguments = [str(tmp_path / "out") if a == "X" else a for a in arguments]
    result = runner.invoke(app, ["simulate", *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_cli_validate_json_reports_published_values_and_sources() -> None:
    import json

    result = runner.invoke(
        app, ["simulate", "--validate", "--product", "cilta-cel", "--validate-patients", "400", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    metrics = {r["metric"] for r in rows}
    assert {
        "crs_any",
        "crs_grade3plus",
        "median_onset",
        "median_duration",
        "tocilizumab_use",
        "steroid_use",
        "icans_any",
    } <= metrics
    assert all(r["source"].startswith("risk-and-epidemiology.md") for r in rows)
    assert all(r["product"] == "ciltacabtagene_autoleucel" for r in rows)
    assert all((r["note"] == "requires clinician confirmation") == (r["marker"] in {"U", "R", "A"}) for r in rows)


def test_all_tables_known_to_writer() -> None:
    assert {"patients", "observations", "interventions", "events", "grades"} <= set(TABLES)
