"""Parse and validate the pre-infusion input object (closed schema) into canonical values.

Keys: the interop.md §1.1 quantity names the scores read (canonical unit when given as a bare number, or
``{"value": ..., "unit": ...}`` in an accepted alternative unit of interop.md §1.2), ``age_years``, the seed
risk factor flags, ``platelets_within_24h_of_transfusion`` (risk §1.1 rule 3) and an optional ``patient_id``.
Unit conversion and plausibility use the shared vocabulary only (``crsguard.model.vocabulary``).
``null`` means "not known": the input is reported as missing, never read as normal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from crsguard.model import vocabulary
from crsguard.risk.definitions import seed_factor_checklist
from crsguard.risk.formulas import TRANSFUSION_FLAG, input_columns
from crsguard.risk.results import InputValue

AGE_KEY = "age_years"
PATIENT_ID_KEY = "patient_id"
AGE_RANGE_YEARS = (0.0, 130.0)
"""Engineering bound against typing errors (local choice; no spec range for age). Not a clinical threshold."""


class RiskInputError(ValueError):
    """The input object is invalid; ``problems`` names every offending field and what is allowed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid risk input:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class BaselineInputs:
    """Validated pre-infusion inputs: canonical values for the quantities given, flags true/false/unknown."""

    values: Mapping[str, InputValue] = field(default_factory=dict)
    age_years: float | None = None
    platelets_within_24h_of_transfusion: bool | None = None
    flags: Mapping[str, bool | None] = field(default_factory=dict)
    patient_id: str | None = None

    def canonical(self, quantity: str) -> float | None:
        entry = self.values.get(quantity)
        return None if entry is None else entry.value


def allowed_keys() -> tuple[str, ...]:
    """Every key the input object may hold, in documentation order."""
    return (
        PATIENT_ID_KEY,
        *input_columns(),
        AGE_KEY,
        TRANSFUSION_FLAG,
        *seed_factor_checklist().flag_inputs(),
    )


def _is_number(raw: object) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _parse_quantity(quantity: str, raw: object) -> InputValue:
    """One quantity as canonical value; raises ValueError with a message naming what is allowed."""
    canonical_unit = vocabulary.QUANTITIES[quantity].canonical_unit
    if _is_number(raw):
        number = float(raw)  # type: ignore[arg-type]
        if not math.isfinite(number):
            raise ValueError(f"{quantity}: value must be a finite number, got {raw!r}")
        vocabulary.check_plausible(quantity, number)
        return InputValue(value=number, unit=canonical_unit, given_value=number, given_unit=canonical_unit)
    if isinstance(raw, Mapping):
        if set(raw) != {"value", "unit"}:
            raise ValueError(
                f"{quantity}: an object value must have exactly the keys 'value' and 'unit', got {sorted(raw)}"
            )
        value, unit = raw["value"], raw["unit"]
        if not _is_number(value) or not math.isfinite(float(value)):
            raise ValueError(f"{quantity}: 'value' must be a finite number, got {value!r}")
        if not isinstance(unit, str):
            raise ValueError(f"{quantity}: 'unit' must be a string, got {unit!r}")
        converted = vocabulary.canonical(quantity, float(value), unit)
        return InputValue(value=converted, unit=canonical_unit, given_value=float(value), given_unit=unit)
    raise ValueError(
        f'{quantity}: expected a number in {canonical_unit} or an object {{"value": number, "unit": text}}, got {raw!r}'
    )


def _parse_flag(key: str, raw: object) -> bool | None:
    if raw is None or isinstance(raw, bool):
        return raw
    raise ValueError(f"{key}: expected true, false or null (unknown), got {raw!r}")


def _parse_age(raw: object) -> float | None:
    if raw is None:
        return None
    low, high = AGE_RANGE_YEARS
    if not _is_number(raw) or not math.isfinite(float(raw)):  # type: ignore[arg-type]
        raise ValueError(f"{AGE_KEY}: expected a number of years or null, got {raw!r}")
    age = float(raw)  # type: ignore[arg-type]
    if not low <= age <= high:
        raise ValueError(f"{AGE_KEY}: {age:g} is outside the accepted range {low:g}-{high:g} years")
    return age


def _parse_patient_id(raw: object) -> str | None:
    if raw is None or (isinstance(raw, str) and raw.strip()):
        return raw
    raise ValueError(f"{PATIENT_ID_KEY}: expected a non-empty string, got {raw!r}")


def parse_baseline(raw: object) -> BaselineInputs:
    """Validate the whole object; collect every problem before failing so the user can fix them at once."""
    if not isinstance(raw, Mapping):
        raise RiskInputError([f"input must be a JSON object of baseline values, got {type(raw).__name__}"])
    allowed = allowed_keys()
    problems = [f"unknown key {key!r}; allowed keys: {', '.join(allowed)}" for key in raw if key not in allowed]
    values: dict[str, InputValue] = {}
    flags: dict[str, bool | None] = {}
    age: float | None = None
    transfused: bool | None = None
    patient_id: str | None = None
    for key in allowed:
        if key not in raw:
            continue
        entry = raw[key]
        try:
            if key == PATIENT_ID_KEY:
                patient_id = _parse_patient_id(entry)
            elif key == AGE_KEY:
                age = _parse_age(entry)
            elif key == TRANSFUSION_FLAG:
                transfused = _parse_flag(key, entry)
            elif key in input_columns():
                if entry is not None:
                    values[key] = _parse_quantity(key, entry)
            else:
                flags[key] = _parse_flag(key, entry)
        except ValueError as exc:
            message = str(exc)
            problems.append(message if message.startswith(f"{key}:") else f"{key}: {message}")
    if problems:
        raise RiskInputError(problems)
    return BaselineInputs(
        values=values,
        age_years=age,
        platelets_within_24h_of_transfusion=transfused,
        flags=flags,
        patient_id=patient_id,
    )


def baseline_from_canonical(
    values: Mapping[str, float | None],
    *,
    age_years: float | None = None,
    platelets_within_24h_of_transfusion: bool | None = None,
) -> BaselineInputs:
    """Keyword convenience for the per-score functions: canonical values, validated like JSON input."""
    raw: dict[str, object] = {k: v for k, v in values.items() if v is not None}
    if age_years is not None:
        raw[AGE_KEY] = age_years
    if platelets_within_24h_of_transfusion is not None:
        raw[TRANSFUSION_FLAG] = platelets_within_24h_of_transfusion
    return parse_baseline(raw)
