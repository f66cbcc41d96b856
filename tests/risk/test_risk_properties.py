"""Property tests: alternative units give the same scores; scalar and vectorised paths agree; invariants."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crsguard.risk import assess, output_columns, parse_baseline, score_frame
from crsguard.risk.scores import evaluate_row

# Factors to canonical, written from interop.md §1.2 (independently of the vocabulary data file):
# (quantity, alternative unit, multiply alternative value by this to get the canonical value).
ALTERNATIVES = [
    ("ldh", "ukat/L", 60.0),
    ("ldh", "[IU]/L", 1.0),
    ("creatinine", "umol/L", 0.01131),
    ("creatinine", "mmol/L", 11.31),
    ("platelets", "/uL", 0.001),
    ("platelets", "10*3/uL", 1.0),
    ("crp", "mg/dL", 10.0),
    ("crp", "ug/mL", 1.0),
    ("ferritin", "ug/L", 1.0),
    ("anc", "/uL", 0.001),
    ("anc", "10*3/uL", 1.0),
    ("hemoglobin", "g/L", 0.1),
    ("hemoglobin", "mmol/L", 1.611),
]

# Canonical value ranges inside both the interop plausible range and the score flag bounds.
RANGES = {
    "ldh": (50.0, 5000.0),
    "creatinine": (0.1, 15.0),
    "platelets": (1.0, 1500.0),
    "crp": (0.0, 600.0),
    "ferritin": (1.0, 100000.0),
    "anc": (0.0, 50.0),
    "hemoglobin": (3.0, 20.0),
}
SCORE_NAMES = ("easix", "s_easix", "m_easix", "car_hematotox")


def _canonical_values() -> st.SearchStrategy[dict[str, float]]:
    return st.fixed_dictionaries(
        {q: st.floats(low, high, allow_nan=False, allow_infinity=False) for q, (low, high) in RANGES.items()}
    )


def _scores(raw: dict[str, Any]) -> dict[str, Any]:
    return {s.name: (s.value, s.category) for s in assess(raw).scores}


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


@pytest.mark.parametrize(("quantity", "unit", "factor"), ALTERNATIVES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_alternative_unit_gives_same_scores(
    quantity: str, unit: str, factor: float, data: st.DataObject
) -> None:
    """A value sent in an accepted alternative unit scores exactly like its canonical equivalent."""
    values = data.draw(_canonical_values())
    low, high = RANGES[quantity]
    # Draw the value in the alternative unit so the canonical value is what the lab's number means.
    given_alt = data.draw(st.floats(low / factor, high / factor, allow_nan=False, allow_infinity=False))
    canonical_value = given_alt * factor
    # Keep clear of CAR-HEMATOTOX cut-offs: float rounding there is a boundary question, not a unit one.
    cut_points = {175.0, 75.0, 1.2, 9.0, 30.0, 650.0, 2000.0}
    if any(math.isclose(canonical_value, c, rel_tol=1e-6) for c in cut_points):
        return
    in_canonical = _scores({**values, quantity: canonical_value})
    in_alternative = _scores({**values, quantity: {"value": given_alt, "unit": unit}})
    for name in SCORE_NAMES:
        (v1, c1), (v2, c2) = in_canonical[name], in_alternative[name]
        assert _close(v1, v2), (name, v1, v2)
        if not (name == "easix" and v1 is not None and math.isclose(v1, 4.67, rel_tol=1e-6)):
            assert c1 == c2, name


def _optional(strategy: st.SearchStrategy[float]) -> st.SearchStrategy[float | None]:
    return st.one_of(st.none(), strategy)


def _cut_point_or_range(quantity: str) -> st.SearchStrategy[float]:
    """Values in range, with extra weight on the exact cut-offs and on 0 where it is allowed."""
    low, high = RANGES[quantity]
    specials = {
        "platelets": [75.0, 175.0, 0.0],
        "anc": [1.2, 0.0],
        "hemoglobin": [9.0],
        "crp": [30.0, 0.0],
        "ferritin": [650.0, 2000.0],
        "ldh": [467.0],
        "creatinine": [1.0],
    }[quantity]
    return st.one_of(st.sampled_from(specials), st.floats(low, high, allow_nan=False, allow_infinity=False))


@st.composite
def _patient_rows(draw: st.DrawFn) -> dict[str, Any]:
    row: dict[str, Any] = {q: draw(_optional(_cut_point_or_range(q))) for q in RANGES}
    row["platelets_within_24h_of_transfusion"] = draw(st.one_of(st.none(), st.booleans()))
    return row


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(_patient_rows(), min_size=1, max_size=8),
    convention=st.sampled_from(["middle_band", "strict_anc_hb"]),
)
def test_scalar_and_vectorised_paths_agree(rows: list[dict[str, Any]], convention: str) -> None:
    """One definition: the cohort frame and the one-patient path give identical outputs for every row."""
    schema: dict[str, pl.DataType] = dict.fromkeys(RANGES, pl.Float64())
    schema["platelets_within_24h_of_transfusion"] = pl.Boolean()
    frame = score_frame(pl.DataFrame(rows, schema=schema), convention)
    for index, row in enumerate(rows):
        raw = {k: v for k, v in row.items() if v is not None}
        scalar = evaluate_row(parse_baseline(raw), convention)
        vector = frame.row(index, named=True)
        for column in output_columns(convention):
            assert _close(scalar[column], vector[column]), (column, scalar[column], vector[column])
        results = {s.name: s for s in assess(raw, convention).scores}
        for name in SCORE_NAMES:
            assert _close(results[name].value, vector[name]), name
            if f"{name}_category" in vector:
                assert results[name].category == vector[f"{name}_category"]


def test_score_frame_accepts_lazy_frames_and_missing_columns() -> None:
    frame = pl.LazyFrame({"ldh": [450.0], "platelets": [120.0]})
    result = score_frame(frame).collect()
    assert result["s_easix"].to_list() == [pytest.approx(3.75)]
    assert result["easix"].to_list() == [None]
    assert set(result.columns) == {"ldh", "platelets", *output_columns()}


def test_score_frame_keeps_caller_columns_and_rows() -> None:
    frame = pl.DataFrame({"patient_id": ["a", "b"], "ldh": [450.0, 600.0], "creatinine": [1.1, 1.3]})
    result = score_frame(frame.with_columns(platelets=pl.lit(120.0)))
    assert result["patient_id"].to_list() == ["a", "b"]
    assert result.height == 2


@settings(max_examples=40, deadline=None)
@given(values=_canonical_values(), factor=st.floats(1.01, 4.0))
def test_easix_family_monotone_in_ldh_and_antitone_in_platelets(
    values: dict[str, float], factor: float
) -> None:
    """Raising LDH never lowers an EASIX-family score; raising platelets never raises one (§1.2-§1.3)."""
    base = _scores(values)
    more_ldh = _scores({**values, "ldh": min(values["ldh"] * factor, 20000.0)})
    more_platelets = _scores({**values, "platelets": min(values["platelets"] * factor, 2000.0)})
    for name in ("easix", "s_easix", "m_easix"):
        assert more_ldh[name][0] >= base[name][0]
        assert more_platelets[name][0] <= base[name][0]


@settings(max_examples=40, deadline=None)
@given(values=_canonical_values())
def test_hematotox_is_between_zero_and_seven_and_high_iff_two_or_more(values: dict[str, float]) -> None:
    total, category = _scores(values)["car_hematotox"]
    assert 0 <= total <= 7
    assert category == ("high" if total >= 2 else "low")
