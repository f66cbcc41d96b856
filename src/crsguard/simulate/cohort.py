"""Simulate a cohort and stream it to disk in the long format of interop.md §8, plus ``truth``.

Patients are generated one by one from their own random stream (seed, patient index) and written in chunks
(Parquet row groups or CSV appends), so memory is bounded by the chunk, not the cohort, and results do not
depend on the chunk size or the output format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from crsguard import __version__
from crsguard.io.longformat import INPUT_TABLES, DatasetWriter, FileFormat, dataset_metadata
from crsguard.model.vocabulary import QUANTITIES, resolve_product
from crsguard.simulate.calibration import patient_rng, policy_probabilities
from crsguard.simulate.charting import (
    CHARTED_QUANTITIES,
    CODES,
    LAB_SPECIMEN,
    METHODS,
    SOURCE_OF_QUANTITY,
    US_PER_MINUTE,
    ChartedPatient,
    chart_patient,
    source_code,
)
from crsguard.simulate.course import policy
from crsguard.simulate.distributions import HOURS_PER_DAY
from crsguard.simulate.latent import latent_hourly
from crsguard.simulate.parameters import load_module, mix_weights, product_models
from crsguard.simulate.patient import simulate_patient

MIX = "mix"
TRUTH_TABLE = "truth"
CHARTING_ERRORS_TABLE = "charting_errors"
DEFAULT_CHUNK_PATIENTS = 100
US_PER_HOUR = 60 * US_PER_MINUTE

TRUTH_SCHEMA = pl.Schema(
    {
        "patient_id": pl.String(),
        "time": pl.Datetime("us", "UTC"),
        "hours_from_t0": pl.Int32(),
        "crs_grade": pl.Int8(),
        "icans_grade": pl.Int8(),
        "crs_rung": pl.Int8(),
        "fever": pl.Boolean(),
        "fever_masked": pl.Boolean(),
        "hypotension_level": pl.Int8(),
        "hypoxia_level": pl.Int8(),
    }
)
"""``truth``: the latent hourly course (latent ASTCT ``crs_grade``, ``icans_grade`` and their drivers)."""

CHARTING_ERRORS_SCHEMA = pl.Schema(
    {
        "patient_id": pl.String(),
        "record_id": pl.String(),
        "quantity": pl.String(),
        "kind": pl.String(),
        "true_value": pl.Float64(),
        "charted_value": pl.Float64(),
    }
)


class SimulationError(ValueError):
    """Invalid simulation settings (named field, value and what is allowed)."""


@dataclass(frozen=True)
class SimulationSettings:
    """What ``crsguard simulate`` was asked to do."""

    product: str
    patients: int
    days: int
    seed: int
    policy: str = "reference"
    charting_error_rate: float = 0.0
    chunk_patients: int = DEFAULT_CHUNK_PATIENTS

    def validated(self) -> SimulationSettings:
        if self.patients < 1:
            raise SimulationError(f"patients: {self.patients} must be at least 1")
        if not 1 <= self.days <= 365:
            raise SimulationError(f"days: {self.days} must be between 1 and 365")
        if not 0.0 <= self.charting_error_rate <= 1.0:
            raise SimulationError(f"charting error rate: {self.charting_error_rate} must be between 0 and 1")
        if self.chunk_patients < 1:
            raise SimulationError(f"chunk size: {self.chunk_patients} must be at least 1")
        if self.seed < 0:
            raise SimulationError(f"seed: {self.seed} must be a non-negative integer")
        try:
            policy(self.policy)
        except ValueError as error:
            raise SimulationError(str(error)) from None
        return SimulationSettings(
            canonical_product(self.product),
            self.patients,
            self.days,
            self.seed,
            self.policy,
            self.charting_error_rate,
            self.chunk_patients,
        )


def canonical_product(name: str) -> str:
    """``mix`` or the canonical name of a simulated product (aliases of interop.md §2.3 accepted)."""
    if name.strip().lower() == MIX:
        return MIX
    product = resolve_product(name)
    if product.name not in product_models():
        raise SimulationError(
            f"product {name!r} ({product.name}) has no simulator calibration; simulated: "
            f"{', '.join(product_models())}, or 'mix'"
        )
    return product.name


@dataclass
class _Chunk:
    charted: list[ChartedPatient] = field(default_factory=list)
    t0_us: list[int] = field(default_factory=list)


def _t0(rng: np.random.Generator) -> tuple[int, int]:
    """Synthetic calendar: a day within the configured year and an infusion hour (charting.yaml [A])."""
    base = load_module("charting")["baseline"]
    start = datetime.fromisoformat(str(base["cohort_start"]["value"]).replace("Z", "+00:00"))
    day = int(rng.integers(0, int(base["cohort_start"]["spread_days"])))
    hour = int(rng.integers(int(base["infusion_hour_utc"]["min"]), int(base["infusion_hour_utc"]["max"]) + 1))
    t0_us = int(start.timestamp()) * 1_000_000 + day * 24 * US_PER_HOUR + hour * US_PER_HOUR
    return t0_us, hour


def simulate_charted(settings: SimulationSettings) -> Iterator[tuple[ChartedPatient, int]]:
    """Yield (charted patient, t0 in µs) one by one, deterministic for the settings."""
    models = product_models()
    weights = mix_weights()
    names = list(weights)
    p = np.array([weights[n] for n in names])
    chosen = policy(settings.policy)
    horizon = int(settings.days * HOURS_PER_DAY)
    for index in range(settings.patients):
        rng = patient_rng(settings.seed, index)
        name = names[int(rng.choice(len(names), p=p))] if settings.product == MIX else settings.product
        product = models[name]
        t0_us, t0_hour = _t0(rng)
        sim = simulate_patient(index, product, chosen, policy_probabilities(name), horizon, rng)
        latent = latent_hourly(rng, sim.course, horizon, t0_hour)
        patient_id = f"P{index + 1:06d}"
        yield chart_patient(rng, sim, latent, t0_us, t0_hour, patient_id, settings.charting_error_rate), t0_us


def _units() -> dict[int, str | None]:
    return {i: QUANTITIES[q].canonical_unit for i, q in enumerate(CHARTED_QUANTITIES)}


def observations_frame(chunk: _Chunk) -> pl.DataFrame:
    """One chunk of observations (interop.md §8.2) from the patients' column buffers."""
    parts = [c.observations for c in chunk.charted]
    counts = [len(p["minute"]) for p in parts]
    ids = [c.patient["patient_id"] for c in chunk.charted]
    minute = np.concatenate([p["minute"] for p in parts])
    t0 = np.repeat(np.array(chunk.t0_us, dtype=np.int64), counts)
    frame = pl.DataFrame(
        {
            "patient_id": pl.Series(ids, dtype=pl.String()).gather(np.repeat(np.arange(len(ids)), counts)),
            "time_us": t0 + minute * US_PER_MINUTE,
            "q": np.concatenate([p["quantity"] for p in parts]),
            "value": np.concatenate([p["value"] for p in parts]),
            "code": np.concatenate([p["code"] for p in parts]),
            "method_i": np.concatenate([p["method"] for p in parts]),
            "link": np.concatenate([p["link"] for p in parts]),
            "delay": np.concatenate([p["available_delay_min"] for p in parts]),
            "row": np.concatenate([np.arange(c) for c in counts]),
        }
    )
    quantity_names = dict(enumerate(CHARTED_QUANTITIES))
    sources = {i: SOURCE_OF_QUANTITY[q] for i, q in quantity_names.items()}
    codes = {i: source_code(q) for i, q in quantity_names.items()}
    specimen = {i: LAB_SPECIMEN.get(q, "serum") if sources[i] == "lis" else None for i, q in quantity_names.items()}
    time = pl.col("time_us").cast(pl.Datetime("us", "UTC"))
    return frame.select(
        pl.col("patient_id"),
        time.alias("time"),
        pl.col("q").replace_strict(quantity_names, return_dtype=pl.String()).alias("quantity"),
        pl.col("value").fill_nan(None).alias("value"),
        pl.col("q").replace_strict(_units(), return_dtype=pl.String()).alias("unit"),
        pl.col("q").replace_strict(sources, return_dtype=pl.String()).alias("source"),
        pl.when(pl.col("code") >= 0)
        .then(pl.col("code").replace_strict(dict(enumerate(CODES)), default=None, return_dtype=pl.String()))
        .alias("value_code"),
        pl.when(pl.col("delay") >= 0)
        .then((pl.col("time_us") + pl.col("delay") * US_PER_MINUTE).cast(pl.Datetime("us", "UTC")))
        .alias("available_time"),
        pl.when(pl.col("method_i") >= 0)
        .then(pl.col("method_i").replace_strict(dict(enumerate(METHODS)), default=None, return_dtype=pl.String()))
        .alias("method"),
        pl.when(pl.col("q") == CHARTED_QUANTITIES.index("body_temperature")).then(pl.lit("oral")).alias("body_site"),
        pl.col("q").replace_strict(specimen, return_dtype=pl.String()).alias("specimen"),
        pl.lit("final").alias("status"),
        pl.concat_str([pl.col("patient_id"), pl.lit("-R"), pl.col("row").cast(pl.String())]).alias("record_id"),
        pl.when(pl.col("link") >= 0)
        .then(pl.concat_str([pl.col("patient_id"), pl.lit("-O"), pl.col("link").cast(pl.String()).str.zfill(3)]))
        .alias("link_id"),
        pl.col("q").replace_strict(codes, return_dtype=pl.String()).alias("source_code"),
    )


def truth_frame(chunk: _Chunk) -> pl.DataFrame:
    """One chunk of the hourly latent truth."""
    parts = [c.truth for c in chunk.charted]
    counts = [len(p["hour"]) for p in parts]
    ids = [c.patient["patient_id"] for c in chunk.charted]
    hours = np.concatenate([p["hour"] for p in parts]).astype(np.int64)
    t0 = np.repeat(np.array(chunk.t0_us, dtype=np.int64), counts)
    data: dict[str, Any] = {
        "patient_id": pl.Series(ids, dtype=pl.String()).gather(np.repeat(np.arange(len(ids)), counts)),
        "time": pl.Series(t0 + hours * US_PER_HOUR).cast(pl.Datetime("us", "UTC")),
        "hours_from_t0": hours.astype(np.int32),
    }
    for name in (
        "crs_grade",
        "icans_grade",
        "crs_rung",
        "fever",
        "fever_masked",
        "hypotension_level",
        "hypoxia_level",
    ):
        data[name] = np.concatenate([p[name] for p in parts])
    return pl.DataFrame(data, schema=TRUTH_SCHEMA)


def _rows_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.from_dicts(rows, infer_schema_length=None) if rows else pl.DataFrame()


def charting_errors_frame(chunk: _Chunk) -> pl.DataFrame:
    rows = []
    for charted in chunk.charted:
        for error in charted.charting_errors:
            rows.append(
                {
                    **{k: v for k, v in error.items() if k != "row"},
                    "record_id": f"{error['patient_id']}-R{error['row']}",
                }
            )
    return pl.DataFrame(rows, schema=CHARTING_ERRORS_SCHEMA)


def _write_chunk(writer: DatasetWriter, chunk: _Chunk, with_errors: bool) -> None:
    writer.write("patients", _rows_frame([c.patient for c in chunk.charted]))
    writer.write("observations", observations_frame(chunk))
    interventions = [row for c in chunk.charted for row in c.interventions]
    if interventions:
        writer.write("interventions", _rows_frame(interventions))
    events = [row for c in chunk.charted for row in c.events]
    if events:
        writer.write("events", _rows_frame(events))
    writer.write(TRUTH_TABLE, truth_frame(chunk))
    if with_errors:
        writer.write(CHARTING_ERRORS_TABLE, charting_errors_frame(chunk))


def run_simulation(
    settings: SimulationSettings,
    out_dir: Path,
    file_format: FileFormat = "parquet",
    *,
    overwrite: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Simulate and write the dataset; returns the row count per table. All-or-nothing (DatasetWriter)."""
    settings = settings.validated()
    metadata = dataset_metadata(
        f"crsguard {__version__} simulate (product={settings.product}, seed={settings.seed}, "
        f"policy={settings.policy}, charting_error_rate={settings.charting_error_rate})"
    )
    with_errors = settings.charting_error_rate > 0
    with DatasetWriter(out_dir, file_format, metadata, overwrite=overwrite) as writer:
        tables = (*INPUT_TABLES, TRUTH_TABLE, CHARTING_ERRORS_TABLE)
        clashes = writer.existing_targets(tables)
        if clashes and not overwrite:
            raise SimulationError(
                f"output folder already holds {', '.join(str(c) for c in clashes)}; use --overwrite or another --out"
            )
        chunk = _Chunk()
        done = 0
        for charted, t0_us in simulate_charted(settings):
            chunk.charted.append(charted)
            chunk.t0_us.append(t0_us)
            if len(chunk.charted) >= settings.chunk_patients:
                _write_chunk(writer, chunk, with_errors)
                done += len(chunk.charted)
                chunk = _Chunk()
                if on_progress is not None:
                    on_progress(done)
        if chunk.charted:
            _write_chunk(writer, chunk, with_errors)
            done += len(chunk.charted)
            if on_progress is not None:
                on_progress(done)
        for table in ("interventions", "events"):
            if table not in writer.row_counts:
                writer.write(table, pl.DataFrame())
        return writer.row_counts
