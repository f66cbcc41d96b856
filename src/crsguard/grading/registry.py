"""The registry of grading systems, keyed by their stable ids (crs-grading.md §1.2, ARCHITECTURE)."""

from __future__ import annotations

import functools

import polars as pl

from crsguard.grading import icaht2023, iechs2023, organ_from_labs, ticaht2025, toxicity_options
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
from crsguard.grading.ctcae import terms as ctcae_terms
from crsguard.grading.engine import Condition, GradingSystem, Options
from crsguard.grading.inputs import LOWER_ONLY_DEFAULTS, Inputs, Rule, columns_read
from crsguard.grading.neuro import astct2019_icans, cartox10
from crsguard.grading.options import OPTIONS, resolve
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
        astct2019_icans.SYSTEM,
        cartox10.SYSTEM,
        iechs2023.SYSTEM,
        icaht2023.SYSTEM,
        ticaht2025.SYSTEM,
        *ctcae_terms.SYSTEMS,
    )
}

#: The options of the non-CRS systems join the one option registry (other-toxicities.md §9).
OPTIONS.update({o.name: o for o in toxicity_options.OPTIONS})
#: CRS organ grades derived from CTCAE v5.0 lab grades when not given (crs-grading.md D8); registered on import.
ORGAN_DERIVATION = organ_from_labs.DERIVATION

#: Inputs that alone never make a system worth running under `--all` (context, or defaults that only lower).
_CONTEXT_INPUTS = frozenset({"age_years", "weight_kg", "study_day", "baseline_developmental_delay", "therapy_class",
                             "g_csf_given", "clinically_significant_bleeding", "seizure_history_prior",
                             *LOWER_ONLY_DEFAULTS})


#: Systems whose key manifestation must be present before the rest means anything (IEC-HS: ferritin, §4.2).
_KEY_INPUTS = {
    iechs2023.SYSTEM.id: frozenset({"ferritin", "ferritin_rapidly_rising", "iec_hs_clinician_confirmed"}),
    **ctcae_terms.KEY_INPUTS,
}


@functools.cache
def informing_inputs(system: GradingSystem) -> frozenset[str]:
    """Grading-frame columns whose presence lets `system` say something (all it reads, minus context)."""
    if system.id in _KEY_INPUTS:
        return _KEY_INPUTS[system.id]
    options = resolve(system.id, {})
    read: set[str] = set()
    for criterion in system.criteria(options):
        read.update(columns_read(_bound(criterion.when, options)))
    return frozenset(read - _CONTEXT_INPUTS)


def _bound(condition: Condition, options: Options) -> Rule:
    def rule(x: Inputs) -> pl.Expr:
        return condition(x, options)

    return rule


def get(system_id: str) -> GradingSystem:
    """The system with this id, or an error listing the known ids."""
    try:
        return SYSTEMS[system_id]
    except KeyError:
        raise InputError([f"unknown grading system {system_id!r}; known systems: {', '.join(SYSTEMS)}"]) from None


def by_toxicity(toxicity: str) -> list[GradingSystem]:
    return [s for s in SYSTEMS.values() if s.toxicity == toxicity]
