"""other-toxicities.md §8: every worked vignette (V1-V33), each a named test, through the public API."""

from __future__ import annotations

from typing import Any

import pytest

import crsguard
from tests.grading.vignettes_other import ICANS, NEURO, OTHER, neuro_record, other_record


def _check(record: dict[str, Any], expected: dict[str, int]) -> None:
    results = {r.system: r for r in crsguard.grade_many([record], sorted(expected))[0]}
    for system, want in expected.items():
        result = results[system]
        assert result.grade == want, f"{system}: {result.grade} != {want}; drivers {result.drivers}"
        assert result.status == "ok", f"{system}: {result.status}, missing {result.missing}"
        assert result.drivers, system


@pytest.mark.parametrize("name", sorted(NEURO))
def test_neurological_vignette(name: str) -> None:
    _check(neuro_record(name), NEURO[name][1])


@pytest.mark.parametrize("name", sorted(NEURO))
def test_neurological_vignettes_are_complete(name: str) -> None:
    """With every finding recorded, the ICANS grade is exact: not a lower bound, nothing missing."""
    result = crsguard.grade(neuro_record(name), ICANS)
    assert (result.lower_bound, result.missing) == (False, []), result


@pytest.mark.parametrize("name", sorted(OTHER))
def test_laboratory_and_haematotoxicity_vignette(name: str) -> None:
    _check(other_record(name), OTHER[name][1])
