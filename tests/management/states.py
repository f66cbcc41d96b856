"""Builders for patient states used by the management tests (clock: D0 = 2025-03-01, UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crsguard.management import PatientState

D0 = datetime(2025, 3, 1, tzinfo=UTC)


def at(day: int, hour: int = 0, minute: int = 0) -> str:
    """ISO time of study day `day` at hh:mm (day 0 = infusion day)."""
    return (D0 + timedelta(days=day, hours=hour, minutes=minute)).isoformat()


def dose(drug: str, dose_mg: float, day: int, hour: int = 0, minute: int = 0, **extra: Any) -> dict[str, Any]:
    """One `doses_given` record."""
    return {"drug": drug, "dose_mg": dose_mg, "start": at(day, hour, minute), **extra}


def state(**fields: Any) -> PatientState:
    """An adult CAR-T state with grades 0, overridden by `fields` (nested dicts replace whole sub-objects)."""
    base: dict[str, Any] = {
        "evaluated_at": at(2, 10),
        "product": "axicabtagene_ciloleucel",
        "infusion_datetime": at(0, 10),
        "age_years": 60,
        "weight_kg": 70,
        "weight_time": at(2, 8),
        "temperature_c": 37.0,
        "crs": {"grade": 0, "hypotension_present": False, "oxy_tier": 0},
        "icans": {"grade": 0},
        "labs": {"anc": 1.5},
    }
    base.update(fields)
    return PatientState.model_validate(base)


def crs(grade: int, onset: str | None = None, **fields: Any) -> dict[str, Any]:
    """A CRS block; `onset` also sets `grade_since` unless given."""
    block: dict[str, Any] = {"grade": grade, "hypotension_present": False, "oxy_tier": 0, **fields}
    if onset is not None:
        block.setdefault("onset", onset)
        block.setdefault("grade_since", onset)
        block.setdefault("status", "active")
    return block
