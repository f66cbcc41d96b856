"""Public grading API: one snapshot (`grade`, `grade_all`) or a frame of millions (`grade_frame`).

Both paths run the same definitions through the same engine; a single assessment is a one-row frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
from pydantic import ValidationError

from crsguard import __version__
from crsguard.grading import registry
from crsguard.grading.engine import GradingSystem, evaluate
from crsguard.grading.inputs import snapshots_frame
from crsguard.grading.result import GradeResult
from crsguard.model.errors import InputError, describe_validation_error
from crsguard.model.snapshot import Snapshot

SnapshotLike = Snapshot | Mapping[str, Any]


def as_snapshot(value: SnapshotLike) -> Snapshot:
    """Validate a mapping into a `Snapshot`; errors name the field, the value and what is allowed."""
    if isinstance(value, Snapshot):
        return value
    try:
        return Snapshot.model_validate(value)
    except ValidationError as error:
        raise InputError(describe_validation_error(error, Snapshot)) from None


def _systems(systems: str | Sequence[str] | None, toxicity: str = "crs") -> list[GradingSystem]:
    if systems is None or systems == "all":
        return registry.by_toxicity(toxicity)
    if isinstance(systems, str):
        systems = [systems]
    return [registry.get(s) for s in systems]


def _results(frame: pl.DataFrame, systems: list[GradingSystem]) -> list[list[GradeResult]]:
    rows = frame.to_dicts()
    return [
        [
            GradeResult(
                system=s.id,
                toxicity=s.toxicity,
                grade=row[f"{s.id}_grade"],
                status=row[f"{s.id}_status"],
                grade_upper=row[f"{s.id}_grade_upper"],
                lower_bound=row[f"{s.id}_lower_bound"],
                drivers=row[f"{s.id}_drivers"],
                missing=row[f"{s.id}_missing"],
                warnings=row[f"{s.id}_warnings"],
                version_of_rules=f"{s.id}/{s.version} crsguard {__version__}",
                **{f.name: row[f"{s.id}_{f.name}"] for f in s.result_fields},
            )
            for s in systems
        ]
        for row in rows
    ]


def grade_many(
    snapshots: Iterable[SnapshotLike],
    systems: str | Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> list[list[GradeResult]]:
    """Grade several snapshots in one vectorised pass; one list of results (one per system) per snapshot."""
    chosen = _systems(systems)
    frame = snapshots_frame(as_snapshot(s) for s in snapshots)
    return _results(evaluate(frame, chosen, options, detail=True), chosen)


def grade(snapshot: SnapshotLike, system: str = "astct2019", options: Mapping[str, Any] | None = None) -> GradeResult:
    """Grade one snapshot under one system, with drivers, missing inputs and warnings."""
    return grade_many([snapshot], [system], options)[0][0]


def grade_all(snapshot: SnapshotLike, options: Mapping[str, Any] | None = None) -> list[GradeResult]:
    """Grade one snapshot under every CRS system (none falls back to another)."""
    return grade_many([snapshot], None, options)[0]


def grade_frame(
    frame: pl.DataFrame,
    systems: str | Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
    detail: bool = False,
) -> pl.DataFrame:
    """Grade a frame of snapshots (columns of `crsguard.grading.inputs.SCHEMA`; absent columns are missing).

    Returns the input frame with, per system, `<id>_grade`, `<id>_grade_upper`, `<id>_lower_bound`, `<id>_status`
    and, with
    `detail=True`, `<id>_drivers`, `<id>_missing`, `<id>_warnings`. Native Polars expressions only.
    """
    return frame.hstack(evaluate(frame, _systems(systems), options, detail=detail))


def informative_systems(snapshot_or_frame: SnapshotLike | pl.DataFrame) -> list[str]:
    """Ids of the systems that the given inputs can inform (for `crsguard grade --all`), in registry order.

    CRS systems always (the CRS grade is the point of the tool); every other system when at least one of the inputs
    it reads is present in the snapshot (or non-null in some row of the frame), so a snapshot with vitals, ICE
    items and labs gets CRS, ICANS, CRES and the CTCAE terms of those labs, and IEC-HS/ICAHT only where their
    inputs are given.
    """
    if isinstance(snapshot_or_frame, pl.DataFrame):
        frame = snapshot_or_frame
    else:
        frame = snapshots_frame([as_snapshot(snapshot_or_frame)])
    present = {c for c in frame.columns if frame[c].null_count() < frame.height}
    return [s.id for s in registry.SYSTEMS.values() if s.toxicity == "crs" or present & registry.informing_inputs(s)]
