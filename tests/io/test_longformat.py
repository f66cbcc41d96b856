"""The interop.md §8 schemas and the streaming, all-or-nothing dataset writer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from crsguard.io.longformat import (
    QUARANTINE_EXTRA_COLUMNS,
    TABLES,
    DatasetWriter,
    LongFormatError,
    conform,
    polars_schema,
    read_table,
)


def _observations(n: int = 3, start_value: float = 38.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient_id": ["P-1"] * n,
            "time": [datetime(2025, 3, 12, 14, i, tzinfo=UTC) for i in range(n)],
            "quantity": ["body_temperature"] * n,
            "value": [start_value + 0.1 * i for i in range(n)],
            "unit": ["Cel"] * n,
            "source": ["ehr-vitals"] * n,
        }
    )


def test_section_8_2_columns_in_spec_order() -> None:
    assert list(polars_schema("observations")) == [
        "patient_id",
        "time",
        "quantity",
        "value",
        "unit",
        "source",
        "value_code",
        "value_text",
        "comparator",
        "available_time",
        "method",
        "body_site",
        "specimen",
        "status",
        "record_id",
        "link_id",
        "source_code",
        "source_unit",
        "source_value",
        "ref_low",
        "ref_high",
    ]


def test_timestamps_are_utc_microseconds() -> None:
    for table, columns in TABLES.items():
        for column in columns:
            if isinstance(column.dtype, pl.Datetime):
                assert column.dtype == pl.Datetime("us", "UTC"), f"{table}.{column.name}"


def test_quarantine_reasons_come_from_the_vocabulary() -> None:
    reason = next(c for c in QUARANTINE_EXTRA_COLUMNS if c.name == "reason")
    assert reason.allowed is not None and "OUT_OF_RANGE" in reason.allowed and "UNIT_MISSING" in reason.allowed


def test_conform_adds_optional_columns_and_casts() -> None:
    out = conform("observations", _observations())
    assert out.schema == polars_schema("observations")
    assert out["status"].null_count() == 3


def test_conform_rejects_unknown_column() -> None:
    with pytest.raises(LongFormatError, match=r"unknown columns \['temperature'\]"):
        conform("observations", _observations().with_columns(pl.lit(1).alias("temperature")))


def test_conform_rejects_missing_required_value() -> None:
    frame = _observations().with_columns(pl.lit(None, dtype=pl.String()).alias("source"))
    with pytest.raises(LongFormatError, match=r"observations.source: required"):
        conform("observations", frame)


def test_conform_rejects_value_outside_allowed_set() -> None:
    frame = _observations().with_columns(pl.lit("ear").alias("body_site"))
    with pytest.raises(LongFormatError, match=r"body_site: values \['ear'\] not allowed; allowed: oral"):
        conform("observations", frame)


def test_empty_frame_conforms_to_an_empty_table() -> None:
    out = conform("events", pl.DataFrame())
    assert out.height == 0 and out.schema == polars_schema("events")


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_chunks_stream_into_one_file_and_read_back(tmp_path: Path, file_format: str) -> None:
    with DatasetWriter(tmp_path, file_format) as writer:  # type: ignore[arg-type]
        writer.write("observations", _observations(2))
        writer.write("observations", _observations(3, 39.0))
    back = read_table(tmp_path / f"observations.{file_format}", "observations")
    expected = conform("observations", pl.concat([_observations(2), _observations(3, 39.0)]))
    assert_frame_equal(back, expected)


def test_parquet_metadata_and_csv_sidecar(tmp_path: Path) -> None:
    with DatasetWriter(tmp_path / "p", "parquet") as writer:
        writer.write("observations", _observations())
    metadata = pq.read_metadata(tmp_path / "p" / "observations.parquet").metadata
    for key in (
        b"schema_version",
        b"generated_at",
        b"producer",
        b"terminology_version",
        b"date_shift_applied",
        b"time_basis",
    ):
        assert key in metadata
    with DatasetWriter(tmp_path / "c", "csv") as writer:
        writer.write("observations", _observations())
    assert (tmp_path / "c" / "dataset.json").exists()
    first_row = (tmp_path / "c" / "observations.csv").read_text().splitlines()[1]
    assert first_row.startswith("P-1,2025-03-12T14:00:00Z,body_temperature,38.0,Cel,ehr-vitals,")


def test_nothing_is_written_when_an_error_interrupts(tmp_path: Path) -> None:
    with pytest.raises(LongFormatError), DatasetWriter(tmp_path, "parquet") as writer:
        writer.write("observations", _observations())
        writer.write("observations", _observations().with_columns(pl.lit("ear").alias("body_site")))
    assert list(tmp_path.iterdir()) == []


def test_existing_files_are_not_replaced_without_overwrite(tmp_path: Path) -> None:
    with DatasetWriter(tmp_path) as writer:
        writer.write("observations", _observations(1))
    with pytest.raises(LongFormatError, match="already exist"), DatasetWriter(tmp_path) as writer:
        writer.write("observations", _observations(2))
    assert pl.read_parquet(tmp_path / "observations.parquet").height == 1
    with DatasetWriter(tmp_path, overwrite=True) as writer:
        writer.write("observations", _observations(2))
    assert pl.read_parquet(tmp_path / "observations.parquet").height == 2


def test_unknown_format_and_table_are_specific_errors(tmp_path: Path) -> None:
    with pytest.raises(LongFormatError, match="format 'xlsx'"):
        DatasetWriter(tmp_path, "xlsx")  # type: ignore[arg-type]
    with pytest.raises(LongFormatError, match="unknown table 'vitals'"):
        conform("vitals", _observations())
