"""Hand-built long-format timelines (interop.md §8) for the timeline tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from crsguard.io.longformat import polars_schema

T0 = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
PATIENT = "P1"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def patients(monitoring_days: int = 5) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "patient_id": PATIENT,
                "course_id": "1",
                "age_at_t0": 60,
                "weight_kg": 70.0,
                "product": "axicabtagene_ciloleucel",
                "product_class": "car_t",
                "target_antigen": "CD19",
                "t0": T0,
                "monitoring_end": at(24 * monitoring_days),
            }
        ],
    ).pipe(_conform, "patients")


def observation(
    hours: float,
    quantity: str,
    value: float | None,
    unit: str | None,
    *,
    link: str | None = None,
    code: str | None = None,
    method: str | None = None,
) -> dict[str, Any]:
    return {
        "patient_id": PATIENT,
        "time": at(hours),
        "quantity": quantity,
        "value": value,
        "unit": unit,
        "source": "test",
        "value_code": code,
        "link_id": link,
        "method": method,
        "status": "final",
    }


def vitals(hours: range, temperature_c: float = 37.0, sbp: float = 120.0) -> list[dict[str, Any]]:
    rows = []
    for hour in hours:
        rows.append(observation(hour, "body_temperature", temperature_c, "Cel"))
        rows.append(observation(hour, "systolic_bp", sbp, "mm[Hg]"))
    return rows


def infusion(
    interval_id: str, agent: str, start: float, end: float, rate: float, unit: str = "ug/kg/min"
) -> dict[str, Any]:
    return {
        "patient_id": PATIENT,
        "interval_id": interval_id,
        "kind": "drug_infusion_segment",
        "agent": agent,
        "start_time": at(start),
        "end_time": at(end),
        "rate_value": rate,
        "rate_unit": unit,
        "dosing_weight_kg": 70.0,
        "source": "test",
        "status": "completed",
    }


def dose(interval_id: str, agent: str, hours: float, mg: float) -> dict[str, Any]:
    return {
        "patient_id": PATIENT,
        "interval_id": interval_id,
        "kind": "drug_dose",
        "agent": agent,
        "start_time": at(hours),
        "end_time": at(hours),
        "dose_value": mg,
        "dose_unit": "mg",
        "source": "test",
        "status": "completed",
    }


def device(interval_id: str, agent: str, start: float, end: float | None) -> dict[str, Any]:
    return {
        "patient_id": PATIENT,
        "interval_id": interval_id,
        "kind": "oxygen_device",
        "agent": agent,
        "start_time": at(start),
        "end_time": None if end is None else at(end),
        "source": "test",
        "status": "completed",
    }


def _conform(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    schema = polars_schema(table)
    return frame.select(
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(dtype).alias(c) for c, dtype in schema.items()
    )


def raw_tables(
    observations: list[dict[str, Any]], interventions: list[dict[str, Any]] | None = None, monitoring_days: int = 5
) -> dict[str, pl.DataFrame]:
    obs = pl.DataFrame(observations, infer_schema_length=None).pipe(_conform, "observations")
    inter = pl.DataFrame(interventions or [], infer_schema_length=None)
    return {
        "patients": patients(monitoring_days),
        "observations": obs,
        "interventions": _conform(inter, "interventions")
        if inter.width
        else pl.DataFrame(schema=polars_schema("interventions")),
        "events": pl.DataFrame(schema=polars_schema("events")),
    }
