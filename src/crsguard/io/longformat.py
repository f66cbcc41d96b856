"""The plain CSV/Parquet long format of interop.md §8: table schemas as data, and streaming writers.

The schemas (column names, Polars dtypes, required flags and allowed values) are kept here as constants
so that the writer and a later reader with quarantine use exactly one definition (interop.md §8.2-§8.7).
A dataset is a directory with one file per table; writers stream chunks (Parquet row groups, CSV appends) into
a hidden temporary directory and move the files into place only when every table is complete, so an error
never leaves a partial dataset behind (COMMON.md: never partial writes).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import polars as pl
import pyarrow.parquet as pq

from crsguard import __version__
from crsguard.model.vocabulary import QuarantineReason

SCHEMA_VERSION = "1.0"
"""interop.md document / exchange-schema version (§8.1 ``schema_version``)."""

UTC_TIMESTAMP = pl.Datetime("us", "UTC")
"""Parquet TIMESTAMP(MICROS, isAdjustedToUTC=true) (interop.md §8.1)."""

FileFormat = Literal["parquet", "csv"]
FORMATS: tuple[FileFormat, ...] = ("parquet", "csv")


@dataclass(frozen=True)
class Column:
    """One column of a long-format table."""

    name: str
    dtype: pl.DataType
    required: bool = False
    allowed: tuple[str, ...] | None = None


def _c(name: str, dtype: pl.DataType, required: bool = False, allowed: tuple[str, ...] | None = None) -> Column:
    return Column(name, dtype, required, allowed)


S = pl.String()
F = pl.Float64()
B = pl.Boolean()
TS = UTC_TIMESTAMP

OBSERVATION_STATUS = ("final", "amended", "corrected", "preliminary", "entered-in-error")
INTERVENTION_KINDS = (
    "drug_dose",
    "drug_infusion_segment",
    "product_administration",
    "oxygen_device",
    "procedure",
)
INTERVENTION_STATUS = ("completed", "in-progress", "stopped", "not-done", "entered-in-error")
EVENT_KINDS = (
    "seizure",
    "focal_motor_weakness",
    "cerebral_edema",
    "death",
    "icu_admission",
    "intubation",
    "disease_progression",
    "subsequent_therapy",
)
SEXES = ("female", "male", "other", "unknown")
PRODUCT_CLASSES = ("car_t", "tce")
COMPARATORS = ("<", "<=", ">", ">=")
BODY_SITES = ("oral", "tympanic", "rectal", "axillary", "core", "temporal")
SPECIMENS = ("serum", "plasma", "blood", "arterial_blood", "venous_blood")
WEIGHT_SOURCES = ("ordered", "measured", "admission")
STRENGTH_BASES = ("base", "salt")
PROCEDURES = ("renal_replacement_therapy", "intubation", "icu_admission")

TABLES: Mapping[str, tuple[Column, ...]] = {
    # interop.md §8.2
    "observations": (
        _c("patient_id", S, True),
        _c("time", TS, True),
        _c("quantity", S, True),
        _c("value", F),
        _c("unit", S),
        _c("source", S, True),
        _c("value_code", S),
        _c("value_text", S),
        _c("comparator", S, allowed=COMPARATORS),
        _c("available_time", TS),
        _c("method", S),
        _c("body_site", S, allowed=BODY_SITES),
        _c("specimen", S, allowed=SPECIMENS),
        _c("status", S, allowed=OBSERVATION_STATUS),
        _c("record_id", S),
        _c("link_id", S),
        _c("source_code", S),
        _c("source_unit", S),
        _c("source_value", S),
        _c("ref_low", F),
        _c("ref_high", F),
    ),
    # interop.md §8.3
    "patients": (
        _c("patient_id", S, True),
        _c("course_id", S, True),
        _c("birth_date", pl.Date()),
        _c("age_at_t0", pl.Int32()),
        _c("age_top_coded", B),
        _c("sex", S, allowed=SEXES),
        _c("weight_kg", F),
        _c("height_cm", F),
        _c("product", S, True),
        _c("product_class", S, True, PRODUCT_CLASSES),
        _c("product_code", S),
        _c("target_antigen", S),
        _c("t0", TS, True),
        _c("dose_value", F),
        _c("dose_unit", S),
        _c("monitoring_end", TS),
        _c("site_id", S),
        _c("lymphodepletion_start", TS),
    ),
    # interop.md §8.4
    "interventions": (
        _c("patient_id", S, True),
        _c("interval_id", S, True),
        _c("kind", S, True, INTERVENTION_KINDS),
        _c("agent", S, True),
        _c("start_time", TS, True),
        _c("end_time", TS),
        _c("dose_value", F),
        _c("dose_unit", S),
        _c("rate_value", F),
        _c("rate_unit", S),
        _c("route", S),
        _c("dosing_weight_kg", F),
        _c("weight_source", S, allowed=WEIGHT_SOURCES),
        _c("strength_basis", S, allowed=STRENGTH_BASES),
        _c("bolus", B),
        _c("status", S, allowed=INTERVENTION_STATUS),
        _c("source", S, True),
        _c("record_id", S),
        _c("source_code", S),
        _c("source_value", S),
    ),
    # interop.md §8.5
    "events": (
        _c("patient_id", S, True),
        _c("event_id", S, True),
        _c("event", S, True, EVENT_KINDS),
        _c("start_time", TS, True),
        _c("end_time", TS),
        _c("attributes", S),
        _c("source", S),
        _c("record_id", S),
    ),
    # interop.md §8.6 (output of the grading engines)
    "grades": (
        _c("patient_id", S, True),
        _c("course_id", S),
        _c("eval_time", TS, True),
        _c("data_cutoff_time", TS),
        _c("syndrome", S, True, ("crs", "icans", "iec_hs", "icaht", "ctcae_term")),
        _c("system", S, True),
        _c("window", S, allowed=("early", "late")),
        _c("grade", pl.Int32()),
        _c("grade_status", S, allowed=("computed", "not_gradable", "confirmed", "overridden")),
        _c("drivers", S),
        _c("episode_id", S),
        _c("algorithm_version", S),
        _c("config_hash", S),
        _c("run_id", S),
    ),
}
"""Input and output tables of interop.md §8.2-§8.6, in the column order of the spec."""

QUARANTINE_EXTRA_COLUMNS: tuple[Column, ...] = (
    _c("table", S, True, ("observations", "patients", "interventions", "events")),
    _c("reason", S, True, tuple(r.value for r in QuarantineReason)),
    _c("detail", S),
    _c("ingested_at", TS, True),
)
"""interop.md §8.7: a quarantined row keeps all original columns plus these."""

INPUT_TABLES = ("patients", "observations", "interventions", "events")
"""The four input tables of a dataset (interop.md §8.1)."""


class LongFormatError(ValueError):
    """A frame that does not follow the interop.md §8 schema."""


def polars_schema(table: str) -> pl.Schema:
    """The exact Polars schema of a table."""
    return pl.Schema({column.name: column.dtype for column in _columns(table)})


def _columns(table: str) -> tuple[Column, ...]:
    try:
        return TABLES[table]
    except KeyError:
        raise LongFormatError(f"unknown table {table!r}; allowed: {', '.join(TABLES)}") from None


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with exactly the §8 columns of ``table`` in order (optional columns added as nulls).

    Raises :class:`LongFormatError` for unknown columns, nulls in required columns or values outside the
    allowed set, naming table, column and what is allowed.
    """
    columns = _columns(table)
    if frame.width == 0:
        if frame.height:
            raise LongFormatError(f"{table}: a frame without columns cannot hold {frame.height} rows")
        return pl.DataFrame(schema=polars_schema(table))
    known = {c.name for c in columns}
    unknown = [name for name in frame.columns if name not in known]
    if unknown:
        raise LongFormatError(f"{table}: unknown columns {unknown}; allowed: {', '.join(known)}")
    exprs = [(pl.col(c.name) if c.name in frame.columns else pl.lit(None)).cast(c.dtype).alias(c.name) for c in columns]
    out = frame.select(exprs)
    for column in columns:
        if column.required:
            missing = out.get_column(column.name).null_count()
            if missing:
                raise LongFormatError(f"{table}.{column.name}: required, but {missing} rows are empty")
        if column.allowed is not None:
            bad = out.filter(pl.col(column.name).is_not_null() & ~pl.col(column.name).is_in(column.allowed))
            if bad.height:
                values = bad.get_column(column.name).unique().head(5).to_list()
                raise LongFormatError(
                    f"{table}.{column.name}: values {values} not allowed; allowed: {', '.join(column.allowed)}"
                )
    return out


def dataset_metadata(
    producer: str, *, time_basis: str = "absolute", date_shift_applied: bool = False
) -> dict[str, str]:
    """Key-value metadata of interop.md §8.1 (Parquet metadata, ``dataset.json`` sidecar for CSV)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "producer": producer,
        "terminology_version": f"crsguard-vocabulary {__version__}",
        "date_shift_applied": "true" if date_shift_applied else "false",
        "time_basis": time_basis,
    }


def _csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """ISO 8601 timestamps with ``Z`` and dates as YYYY-MM-DD (interop.md §8.1)."""
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ"))
        elif isinstance(dtype, pl.Date):
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs)


class DatasetWriter:
    """Streams conformed chunks of several tables into ``out_dir`` (all-or-nothing on close).

    Table names are the §8 tables; extra tables (for example the simulator's ``truth``) are written with the
    schema of their first chunk. Use as a context manager: on an exception nothing is moved into ``out_dir``.
    """

    def __init__(
        self,
        out_dir: Path,
        file_format: FileFormat = "parquet",
        metadata: Mapping[str, str] | None = None,
        *,
        overwrite: bool = False,
    ) -> None:
        if file_format not in FORMATS:
            raise LongFormatError(f"format {file_format!r} not supported; allowed: {', '.join(FORMATS)}")
        self.out_dir = out_dir
        self.file_format = file_format
        self.metadata = dict(metadata or dataset_metadata(f"crsguard {__version__}"))
        self.overwrite = overwrite
        self._tmp: Path | None = None
        self._parquet: dict[str, pq.ParquetWriter] = {}
        self._csv_started: set[str] = set()
        self._schemas: dict[str, pl.Schema] = {}
        self._rows: dict[str, int] = {}

    def __enter__(self) -> DatasetWriter:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=".crsguard-tmp-", dir=self.out_dir))
        return self

    def target(self, table: str) -> Path:
        return self.out_dir / f"{table}.{self.file_format}"

    def existing_targets(self, tables: tuple[str, ...]) -> list[Path]:
        return [self.target(t) for t in tables if self.target(t).exists()]

    def write(self, table: str, frame: pl.DataFrame) -> None:
        """Append one chunk of ``table`` (conformed to the §8 schema when it is a §8 table)."""
        if self._tmp is None:
            raise RuntimeError("DatasetWriter must be used as a context manager")
        chunk = conform(table, frame) if table in TABLES else frame
        expected = self._schemas.setdefault(table, chunk.schema)
        if chunk.schema != expected:
            raise LongFormatError(f"{table}: chunk schema {chunk.schema} differs from the first chunk {expected}")
        self._rows[table] = self._rows.get(table, 0) + chunk.height
        path = self._tmp / f"{table}.{self.file_format}"
        if self.file_format == "parquet":
            arrow = chunk.to_arrow()
            writer = self._parquet.get(table)
            if writer is None:
                schema = arrow.schema.with_metadata({k.encode(): v.encode() for k, v in self.metadata.items()})
                writer = pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=True)
                self._parquet[table] = writer
            writer.write_table(arrow.replace_schema_metadata(writer.schema.metadata))
        else:
            with path.open("a", encoding="utf-8", newline="") as handle:
                _csv_ready(chunk).write_csv(handle, include_header=table not in self._csv_started, line_terminator="\n")
            self._csv_started.add(table)

    @property
    def row_counts(self) -> dict[str, int]:
        return dict(self._rows)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for writer in self._parquet.values():
            writer.close()
        tmp = self._tmp
        self._tmp = None
        if tmp is None:
            return
        try:
            if exc_type is None:
                self._publish(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _publish(self, tmp: Path) -> None:
        files = sorted(tmp.iterdir())
        clashes = [self.out_dir / f.name for f in files if (self.out_dir / f.name).exists()]
        if clashes and not self.overwrite:
            raise LongFormatError(f"output files already exist: {', '.join(str(c) for c in clashes)}")
        if self.file_format == "csv":
            (tmp / "dataset.json").write_text(json.dumps(self.metadata, indent=2) + "\n", encoding="utf-8")
            files = sorted(tmp.iterdir())
        for path in files:
            os.replace(path, self.out_dir / path.name)


def read_table(path: Path, table: str) -> pl.DataFrame:
    """Read a table written by :class:`DatasetWriter` back with the exact §8 schema (CSV times parsed)."""
    if path.suffix == ".parquet":
        return conform(table, pl.read_parquet(path))
    schema = polars_schema(table)
    raw = pl.read_csv(path, schema_overrides={n: pl.String() for n in schema.names()}, infer_schema=False)
    exprs: list[Any] = []
    for name, dtype in schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            exprs.append(column.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC", time_unit="us"))
        elif isinstance(dtype, pl.Date):
            exprs.append(column.str.to_date("%Y-%m-%d"))
        elif dtype == pl.Boolean():
            exprs.append(column.replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean()))
        else:
            exprs.append(column.cast(dtype))
    return conform(table, raw.select([e for e in exprs if e.meta.output_name() in raw.columns]))
