"""The long-format reader: row-by-row quarantine with §8.7 reason codes, units, times, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from crsguard.io.longformat import polars_schema
from crsguard.io.reader import ReadOptions, read_dataset, validate_tables

T0 = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)


def observation(
    hours: float, quantity: str, value: float | None, unit: str | None, *, code: str | None = None
) -> dict[str, object]:
    return {
        "patient_id": "P1",
        "time": T0 + timedelta(hours=hours),
        "quantity": quantity,
        "value": value,
        "unit": unit,
        "source": "test",
        "value_code": code,
        "status": "final",
    }


def _conform(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    return frame.select(
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c) for c, t in polars_schema(table).items()
    )


def raw_tables(rows: list[dict[str, object]]) -> dict[str, pl.DataFrame]:
    patient = pl.DataFrame(
        [
            {
                "patient_id": "P1",
                "course_id": "1",
                "product": "axicabtagene_ciloleucel",
                "product_class": "car_t",
                "t0": T0,
                "monitoring_end": T0 + timedelta(days=2),
            }
        ]
    )
    return {
        "patients": _conform(patient, "patients"),
        "observations": _conform(pl.DataFrame(rows, infer_schema_length=None), "observations"),
        "interventions": pl.DataFrame(schema=polars_schema("interventions")),
        "events": pl.DataFrame(schema=polars_schema("events")),
    }


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (observation(1, "body_temprature", 38.0, "Cel"), "ENUM_INVALID"),
        (observation(1, "body_temperature", 38.0, "mmol/L"), "UNIT_NOT_ACCEPTED"),
        (observation(1, "body_temperature", 38.0, None), "UNIT_MISSING"),
        (observation(1, "spo2", 0.95, "%"), "UNIT_AMBIGUOUS"),
        (observation(1, "systolic_bp", 400.0, "mm[Hg]"), "OUT_OF_RANGE"),
        (observation(1, "body_temperature", 27.0, "Cel"), "OUT_OF_RANGE"),  # snapshot range 30-45 °C (§1.5)
        (observation(1, "oxygen_delivery_device", None, None, code="hood"), "ENUM_INVALID"),
        ({**observation(1, "heart_rate", 80.0, "/min"), "patient_id": "nobody"}, "PATIENT_UNKNOWN"),
    ],
)
def test_bad_rows_are_quarantined_with_their_reason(row: dict[str, object], reason: str) -> None:
    good = observation(2, "heart_rate", 80.0, "/min")
    dataset = validate_tables(raw_tables([row, good]))
    assert dataset.quarantine["reason"].to_list() == [reason]
    assert dataset.observations.height == 1


def test_units_are_converted_to_canonical() -> None:
    rows = [
        observation(1, "body_temperature", 101.3, "°F"),
        observation(2, "creatinine", 88.42, "umol/L"),
        observation(3, "platelets", 500.0, "/uL"),
        observation(4, "spo2", 0.95, "1"),
    ]
    values = validate_tables(raw_tables(rows)).observations.sort("time")["value"].to_list()
    assert values[0] == 38.5
    assert values[1] == pytest.approx(1.0, abs=1e-3)
    assert values[2] == 0.5
    assert values[3] == pytest.approx(95.0)


def test_fraction_sources_are_read_as_percent() -> None:
    rows = [{**observation(1, "spo2", 0.95, "%"), "source": "monitor"}]
    dataset = validate_tables(raw_tables(rows), ReadOptions(fraction_sources=("monitor",)))
    assert dataset.observations["value"].to_list() == [95.0]


def write_csv(directory: Path, time_text: str) -> None:
    tables = raw_tables([observation(1, "heart_rate", 80.0, "/min")])
    tables["patients"].with_columns(
        pl.col("t0").dt.strftime("%Y-%m-%dT%H:%M:%SZ"), pl.col("monitoring_end").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    ).write_csv(directory / "patients.csv")
    tables["observations"].with_columns(pl.lit(time_text).alias("time")).write_csv(directory / "observations.csv")


def test_naive_times_are_rejected_unless_a_zone_is_named(tmp_path: Path) -> None:
    write_csv(tmp_path, "2025-01-01T10:00:00")
    rejected = read_dataset(tmp_path)
    assert rejected.quarantine["reason"].to_list() == ["TIME_UNPARSEABLE"]
    accepted = read_dataset(tmp_path, ReadOptions(source_time_zone="Europe/Paris"))
    assert accepted.observations["time"].dt.hour().to_list() == [9]


def test_offsets_are_converted_to_utc(tmp_path: Path) -> None:
    write_csv(tmp_path, "2025-01-01T10:00:00+02:00")
    assert read_dataset(tmp_path).observations["time"].dt.hour().to_list() == [8]


def test_reloading_the_same_rows_changes_nothing() -> None:
    rows = [observation(1, "heart_rate", 80.0, "/min")]
    once = validate_tables(raw_tables(rows))
    twice = validate_tables(raw_tables(rows * 2))
    assert twice.observations.equals(once.observations)
    assert twice.dropped["observations_duplicates"] == 1


def test_a_resent_record_replaces_the_earlier_one() -> None:
    """interop.md §8.2: re-sending a record_id replaces the earlier row; an amendment wins over the final value."""
    first = {**observation(1, "heart_rate", 80.0, "/min"), "record_id": "r1"}
    amended = {**observation(1, "heart_rate", 95.0, "/min"), "record_id": "r1", "status": "amended"}
    dataset = validate_tables(raw_tables([amended, first]))
    assert dataset.observations["value"].to_list() == [95.0]


def test_entered_in_error_retracts_the_record() -> None:
    """interop.md §1.4: an entered-in-error row retracts any value with the same source identifier."""
    value = {**observation(1, "heart_rate", 80.0, "/min"), "record_id": "r1"}
    error = {**observation(1, "heart_rate", 80.0, "/min"), "record_id": "r1", "status": "entered-in-error"}
    other = observation(2, "heart_rate", 70.0, "/min")
    dataset = validate_tables(raw_tables([value, error, other]))
    assert dataset.observations["value"].to_list() == [70.0]
    assert dataset.dropped["observations_retracted"] == 1
