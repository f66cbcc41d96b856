"""The compliance properties of tests/grading/test_compliance.py, over every non-CRS system of the registry
(monotone in severity, missing inputs reported, complete input exact, scalar = vectorised, result contract)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crsguard
from crsguard.grading import registry
from crsguard.grading.inputs import snapshots_frame
from crsguard.model.snapshot import Snapshot
from tests.grading.strategies_other import complete_other, partial_other, worsen_other

OTHER_SYSTEMS = [s.id for s in registry.SYSTEMS.values() if s.toxicity != "crs"]
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def results(snapshot: dict[str, Any]) -> dict[str, crsguard.GradeResult]:
    return {r.system: r for r in crsguard.grade_many([snapshot], OTHER_SYSTEMS)[0]}


@PROPERTY
@given(st.data())
def test_worse_inputs_never_lower_the_grade(data: st.DataObject) -> None:
    base = data.draw(partial_other())
    worse = worsen_other(base, data.draw(st.integers(0, 8)), data.draw)
    before, after = results(base), results(worse)
    for system in OTHER_SYSTEMS:
        assert after[system].grade >= before[system].grade, (system, base, worse)


@PROPERTY
@given(complete_other())
def test_complete_input_is_never_a_lower_bound(snapshot: dict[str, Any]) -> None:
    for result in results(snapshot).values():
        assert (result.status, result.lower_bound, result.missing) == ("ok", False, []), result


@PROPERTY
@given(complete_other(), st.data())
def test_a_missing_input_never_silently_lowers_the_grade(snapshot: dict[str, Any], data: st.DataObject) -> None:
    removable = sorted(k for k in snapshot if not k.endswith("_other_cause"))
    field = data.draw(st.sampled_from(removable))
    reduced = {k: v for k, v in snapshot.items() if k != field}
    full = results(snapshot)
    for system, result in results(reduced).items():
        if result.grade < full[system].grade:
            assert result.lower_bound and result.missing, (field, result)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(partial_other(), min_size=1, max_size=6))
def test_scalar_and_vectorised_paths_agree(snapshots: list[dict[str, Any]]) -> None:
    frame = snapshots_frame(Snapshot.model_validate(s) for s in snapshots)
    vectorised = crsguard.grade_frame(frame, OTHER_SYSTEMS, detail=True)
    for i, snapshot in enumerate(snapshots):
        scalar = results(snapshot)
        row = vectorised.row(i, named=True)
        for system in OTHER_SYSTEMS:
            r = scalar[system]
            assert (r.grade, r.status, r.lower_bound, r.drivers, r.missing, r.warnings) == (
                row[f"{system}_grade"], row[f"{system}_status"], row[f"{system}_lower_bound"],
                row[f"{system}_drivers"], row[f"{system}_missing"], row[f"{system}_warnings"]), system


@PROPERTY
@given(partial_other())
def test_results_keep_their_contract(snapshot: dict[str, Any]) -> None:
    for result in results(snapshot).values():
        assert 0 <= result.grade <= 5 and result.drivers
        assert result.toxicity != "crs"
        if result.status == "indeterminate":
            assert result.lower_bound and result.missing
        assert (result.window is not None) == (result.system in ("icaht2023", "ticaht2025"))
