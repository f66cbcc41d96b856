"""The registry of grading systems, keyed by their stable ids (crs-grading.md §1.2, ARCHITECTURE)."""

from __future__ import annotations

from crsguard.grading.crs import (
    astct2019,
    cartox,
    cartox_peds,
    ctcae_v4,
    ctcae_v5,
    ctcae_v6,
    lee2014,
    mskcc,
    penn,
)
from crsguard.grading.engine import GradingSystem
from crsguard.model.errors import InputError

SYSTEMS: dict[str, GradingSystem] = {
    s.id: s
    for s in (
        astct2019.SYSTEM,
        lee2014.SYSTEM,
        ctcae_v4.SYSTEM,
        ctcae_v5.SYSTEM,
        ctcae_v6.SYSTEM,
        penn.SYSTEM,
        mskcc.SYSTEM,
        cartox.SYSTEM,
        cartox_peds.SYSTEM,
    )
}


def get(system_id: str) -> GradingSystem:
    """The system with this id, or an error listing the known ids."""
    try:
        return SYSTEMS[system_id]
    except KeyError:
        raise InputError([f"unknown grading system {system_id!r}; known systems: {', '.join(SYSTEMS)}"]) from None


def by_toxicity(toxicity: str) -> list[GradingSystem]:
    return [s for s in SYSTEMS.values() if s.toxicity == toxicity]
