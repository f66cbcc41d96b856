"""One compliance suite every grading system must pass (in the spirit of scikit-learn's `check_estimator`).

Parametrised over the whole registry: stable ids; worse inputs never lower the grade; units never change it;
missing inputs are reported and never silently lower it; the scalar and vectorised paths agree; death and attribution
gates hold; results keep their contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crsguard
from crsguard.grading import registry
from crsguard.grading.inputs import snapshots_frame
from crsguard.model.snapshot import Snapshot
from tests.grading.strategies import complete_snapshot, partial_snapshot, worsen
from tests.grading.strategies_other import complete_other, partial_other, worsen_other

CRS_SYSTEMS = [s.id for s in registry.by_toxicity("crs")]
OTHER_SYSTEMS = [s.id for s in registry.SYSTEMS.values() if s.toxicity != "crs"]
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Family:
    """Systems that read the same inputs, with strategies for complete and partial snapshots and worsening."""

    name: str
    systems: list[str]
    complete: st.SearchStrategy[dict[str, Any]]
    partial: st.SearchStrategy[dict[str, Any]]
    worsen: Callable[[dict[str, Any], int, st.DrawFn], dict[str, Any]]
    removable: Callable[[str], bool]
    #: True where the missing input is reported under its own name (other families may report a derived input).
    names_the_field: bool


FAMILIES = [
    Family(
        "crs",
        CRS_SYSTEMS,
        complete_snapshot(),
        partial_snapshot(),
        worsen,
        lambda k: k not in ("crs_attributed", "death_from_crs", "hypotension") and not k.endswith("_other_cause"),
        True,
    ),
    Family(
        "other",
        OTHER_SYSTEMS,
        complete_other(),
        partial_other(),
        worsen_other,
        lambda k: not k.endswith("_other_cause"),
        False,
    ),
]
by_family = pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)


def test_every_registered_system_is_in_a_family() -> None:
    covered = [s for f in FAMILIES for s in f.systems]
    assert sorted(covered) == sorted(registry.SYSTEMS)


#: crs-grading.md §1.2 and ARCHITECTURE: these ids are part of the public contract and never change.
PUBLISHED_CRS_IDS = {
    "astct2019",
    "lee2014",
    "ctcae_v4",
    "ctcae_v5",
    "ctcae_v6",
    "penn",
    "mskcc",
    "cartox",
    "cartox_peds",
}


def grades(snapshot: dict[str, Any], systems: list[str] = CRS_SYSTEMS, **options: Any) -> dict[str, int]:
    return {r.system: r.grade for r in crsguard.grade_many([snapshot], systems, options or None)[0]}


def test_published_crs_ids_are_all_registered() -> None:
    assert set(registry.SYSTEMS) >= PUBLISHED_CRS_IDS


@pytest.mark.parametrize("system_id", sorted(registry.SYSTEMS))
def test_ids_are_stable_lower_case_and_match_their_key(system_id: str) -> None:
    system = registry.SYSTEMS[system_id]
    assert system.id == system_id
    assert re.fullmatch(r"[a-z][a-z0-9_]*", system_id)
    assert system.citation and system.spec_section and system.title
    criteria = system.criteria({**{n: s.default_for(system_id) for n, s in crsguard.grading.options.OPTIONS.items()}})
    assert criteria, "a system without criteria"
    assert all(0 <= c.grade <= 5 and c.tag in "PSRL" and c.ref for c in criteria)


@by_family
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_worse_inputs_never_lower_the_grade(family: Family, data: st.DataObject) -> None:
    base = data.draw(family.partial)
    worse = [family.worsen(base, kind, data.draw) for kind in range(9)]
    results = crsguard.grade_many([base, *worse], family.systems)
    before = {r.system: r.grade for r in results[0]}
    for snapshot, after in zip(worse, results[1:], strict=True):
        for result in after:
            assert result.grade >= before[result.system], (result.system, base, snapshot)


@PROPERTY
@given(complete_snapshot())
def test_fahrenheit_and_celsius_give_the_same_result(snapshot: dict[str, Any]) -> None:
    in_f = {k: v for k, v in snapshot.items() if k != "temperature_c"}
    in_f["temperature_f"] = round(snapshot["temperature_c"] * 9 / 5 + 32, 2)
    assert grades(in_f) == grades(snapshot)


@PROPERTY
@given(complete_snapshot())
def test_vasopressor_dose_units_and_fio2_fraction_give_the_same_result(snapshot: dict[str, Any]) -> None:
    weight = snapshot["weight_kg"]
    per_minute = [
        item | {"dose": round(item["dose"] * weight, 6), "dose_unit": "mcg_per_min"}
        if item["dose_unit"] == "mcg_per_kg_per_min"
        else item
        for item in snapshot["vasopressors"]
    ]
    other = snapshot | {"vasopressors": per_minute, "fio2": snapshot["fio2"] / 100}
    assert grades(other) == grades(snapshot)


@by_family
@PROPERTY
@given(data=st.data())
def test_complete_input_is_never_a_lower_bound(family: Family, data: st.DataObject) -> None:
    for result in crsguard.grade_many([data.draw(family.complete)], family.systems)[0]:
        assert (result.status, result.lower_bound, result.missing) == ("ok", False, []), result


#: Inputs the spec replaces by an estimate or fallback when absent (D6, D7, §2.3); the result then says so.
FALLBACK_WARNING = {
    "fio2": ("FiO2 estimated",),
    "o2_flow_l_min": ("flow not recorded", "FiO2 estimated"),
    "vasopressor_total_hours": ("vasopressor_total_hours not given",),
    "study_day": ("window inferred from the series' reach",),
}


@by_family
@PROPERTY
@given(data=st.data())
def test_a_missing_input_never_silently_lowers_the_grade(family: Family, data: st.DataObject) -> None:
    """Removing an input keeps the grade, or reports the input as missing (lower bound), or warns of the spec's
    estimate that replaced it."""
    snapshot = data.draw(family.complete)
    field = data.draw(st.sampled_from(sorted(k for k in snapshot if family.removable(k))))
    reduced = {k: v for k, v in snapshot.items() if k != field}
    full, partial = crsguard.grade_many([snapshot, reduced], family.systems)
    before = {r.system: r.grade for r in full}
    for result in partial:
        if result.grade < before[result.system]:
            warned = any(w in text for w in FALLBACK_WARNING.get(field, ()) for text in result.warnings)
            reported = field in result.missing if family.names_the_field else bool(result.missing)
            assert warned or (result.lower_bound and reported), (field, result)


@by_family
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_scalar_and_vectorised_paths_agree(family: Family, data: st.DataObject) -> None:
    snapshots = data.draw(st.lists(family.partial, min_size=1, max_size=8))
    frame = snapshots_frame(Snapshot.model_validate(s) for s in snapshots)
    vectorised = crsguard.grade_frame(frame, family.systems, detail=True)
    for i, snapshot in enumerate(snapshots):
        row = vectorised.row(i, named=True)
        for system in family.systems:
            scalar = crsguard.grade(snapshot, system)
            assert (
                scalar.grade,
                scalar.status,
                scalar.lower_bound,
                scalar.drivers,
                scalar.missing,
                scalar.warnings,
            ) == (
                row[f"{system}_grade"],
                row[f"{system}_status"],
                row[f"{system}_lower_bound"],
                row[f"{system}_drivers"],
                row[f"{system}_missing"],
                row[f"{system}_warnings"],
            ), (system, snapshot)


@settings(max_examples=20, deadline=None)
@given(st.lists(partial_snapshot(), min_size=2, max_size=10), st.randoms())
def test_row_order_does_not_change_results(snapshots: list[dict[str, Any]], rnd: Any) -> None:
    frame = snapshots_frame(Snapshot.model_validate(s) for s in snapshots).with_row_index("id")
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=rnd.randint(0, 10_000))
    a = crsguard.grade_frame(frame, CRS_SYSTEMS).sort("id")
    b = crsguard.grade_frame(shuffled, CRS_SYSTEMS).sort("id")
    assert a.equals(b)


@PROPERTY
@given(partial_snapshot())
def test_death_is_five_and_unattributed_is_zero_everywhere(snapshot: dict[str, Any]) -> None:
    assert set(grades(snapshot | {"death_from_crs": True, "crs_attributed": True}).values()) == {5}
    unattributed = {r.system: r for r in crsguard.grade_all(snapshot | {"crs_attributed": False})}
    assert {r.grade for r in unattributed.values()} == {0}
    assert all(not r.lower_bound for r in unattributed.values())


@by_family
@PROPERTY
@given(data=st.data())
def test_results_keep_their_contract(family: Family, data: st.DataObject) -> None:
    for result in crsguard.grade_many([data.draw(family.partial)], family.systems)[0]:
        assert 0 <= result.grade <= 5 and result.drivers
        assert (result.toxicity == "crs") == (family.name == "crs")
        if result.status == "indeterminate":
            assert result.lower_bound and result.missing
        assert result.lower_bound == bool(result.missing) or result.status == "indeterminate"
        assert (result.window is not None) == (result.system in ("icaht2023", "ticaht2025"))


def test_grade_frame_keeps_the_callers_columns_and_adds_results() -> None:
    frame = pl.DataFrame({"patient_id": ["a", "b"], "temperature_c": [38.5, 37.0]})
    out = crsguard.grade_frame(frame, ["astct2019"])
    assert out.columns[:2] == ["patient_id", "temperature_c"]
    assert out["astct2019_grade"].to_list() == [1, 0]
    assert out["astct2019_lower_bound"].to_list() == [True, True]
