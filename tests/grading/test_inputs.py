"""Input validation of snapshots and grading frames: clear errors naming the field, nothing graded on bad input."""

from __future__ import annotations

import polars as pl
import pytest

import crsguard
from crsguard.model.errors import InputError
from tests.grading.vignettes import vaso


def test_frame_validation_checks_every_row_not_just_the_first() -> None:
    frame = pl.DataFrame({"temperature_c": [38.0, 37.0, 55.0], "o2_device": ["none", "none", "tent"]})
    with pytest.raises(InputError) as caught:
        crsguard.grade_frame(frame, ["astct2019"])
    text = str(caught.value)
    assert "temperature_c: out of range; allowed 30.0 to 45.0: row 2 (55.0)" in text
    assert "o2_device" in text and "row 2 ('tent')" in text


def test_frame_with_unreadable_column_type_is_rejected() -> None:
    frame = pl.DataFrame({"temperature_c": ["hot", "38"]})
    with pytest.raises(InputError, match="temperature_c: values of type String cannot be read as Float64"):
        crsguard.grade_frame(frame, ["astct2019"])


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"temperature": 38}, "unknown field 'temperature'; closest allowed fields: temperature_"),
        ({"temperature_c": 38, "temperature_f": 98}, "differ by more than 0.1 °C"),
        ({"sbp_mmhg": 10}, "sbp_mmhg: 10 is out of range; allowed 30 to 250"),
        ({"o2_device": "tent"}, "o2_device: 'tent' is not allowed; allowed values"),
        ({"fio2": 5}, "neither a percentage (21-100) nor a fraction"),
        ({"organ_toxicity_max_grade": 1, "creatinine_grade": 3}, "must be >= creatinine_grade"),
        ({"death_from_crs": True, "crs_attributed": False}, "requires the findings to be attributed to CRS"),
        (
            {"vasopressors": [vaso("angiotensin_ii", 1, "mcg_per_min", 1)]},
            "unsupported agent, clinician review",
        ),
        (
            {"vasopressors": [vaso("dobutamine", 5, "mcg_per_kg_per_min", 2)]},
            "never counts as a vasopressor",
        ),
        (
            {"vasopressors": [vaso("vasopressin", 0.03, "mcg_per_min", 2)]},
            "vasopressin only in units_per_min",
        ),
    ],
)
def test_invalid_snapshots_name_the_field_and_what_is_allowed(record: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as caught:
        crsguard.grade(record)
    assert message in str(caught.value)


def test_room_air_is_a_synonym_of_none_and_fio2_fraction_is_read_as_percent() -> None:
    as_words = crsguard.grade({"temperature_c": 38.5, "o2_device": "room_air"}, "lee2014")
    assert as_words.grade == 1
    fraction = crsguard.grade({"temperature_c": 38.5, "o2_device": "venturi_mask", "fio2": 0.5}, "lee2014")
    assert fraction.grade == 3
    assert any("fraction" in w for w in fraction.warnings)


def test_unknown_system_and_option_are_clear_errors() -> None:
    with pytest.raises(InputError, match="unknown grading system 'astct'; known systems: astct2019"):
        crsguard.grade({}, "astct")
    with pytest.raises(InputError, match="unknown option 'vaso'"):
        crsguard.grade({}, "lee2014", {"vaso": True})
    with pytest.raises(InputError, match="allowed values: \\['cap', 'shift'\\]"):
        crsguard.grade({}, "lee2014", {"transaminitis_reading": "halve"})
    with pytest.raises(InputError, match="does not apply to 'astct2019'"):
        crsguard.grade({}, "astct2019", {"astct2019.transaminitis_reading": "shift"})
