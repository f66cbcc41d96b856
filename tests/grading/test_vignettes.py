"""crs-grading.md §4: every worked vignette, under every system, as a named test."""

from __future__ import annotations

import pytest

import crsguard
from tests.grading.vignettes import VIGNETTES, expected, record


@pytest.mark.parametrize("number", sorted(VIGNETTES), ids=lambda n: f"vignette_{n}")
def test_vignette(number: int) -> None:
    results = {r.system: r for r in crsguard.grade_all(record(number))}
    for system, want in expected(number).items():
        result = results[system]
        if isinstance(want, tuple):
            assert (result.status, result.grade, result.lower_bound) == ("indeterminate", want[1], True), system
            assert "weight_kg" in result.missing, system
        else:
            assert result.grade == want, f"{system}: {result.grade} != {want}; drivers {result.drivers}"
            assert result.status == "ok", f"{system}: {result.status}, missing {result.missing}"
            assert not result.lower_bound, f"{system}: lower bound, missing {result.missing}"
        assert result.drivers, system
