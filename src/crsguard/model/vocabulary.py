"""The shared vocabulary: quantities, units and conversions, drugs, products and oxygen devices.

Everything here is read from the YAML files in ``crsguard/model/data`` (a clinician reads those against
interop.md §1-§2); this module only loads them and applies them. Why one place: every reader, the timeline
engine and the simulator must agree on names, canonical units and conversion factors (interop.md §1.2: "the
factors the conversion library must use (do not let each adapter pick its own)").
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

__all__ = [
    "DRUGS",
    "O2_DEVICES",
    "PRODUCTS",
    "QUANTITIES",
    "CodeNotInValueSetError",
    "Drug",
    "ImplausibleValueError",
    "LoincCode",
    "O2Device",
    "Product",
    "QualityFlag",
    "Quantity",
    "QuarantineReason",
    "UnitAmbiguousError",
    "UnitConversion",
    "UnitMissingError",
    "UnitNotAcceptedError",
    "UnknownDrugError",
    "UnknownProductError",
    "UnknownQuantityError",
    "VocabularyError",
    "canonical",
    "check_code",
    "check_plausible",
    "from_canonical",
    "normalize_unit",
    "o2_support_tier",
    "rate_to_canonical",
    "resolve_drug",
    "resolve_product",
    "to_canonical",
]


class QuarantineReason(enum.StrEnum):
    """Reason codes of a rejected row (interop.md §8.7)."""

    OUT_OF_RANGE = "OUT_OF_RANGE"
    UNIT_MISSING = "UNIT_MISSING"
    UNIT_NOT_ACCEPTED = "UNIT_NOT_ACCEPTED"
    UNIT_AMBIGUOUS = "UNIT_AMBIGUOUS"
    TIME_MISSING = "TIME_MISSING"
    TIME_UNPARSEABLE = "TIME_UNPARSEABLE"
    CODE_UNMAPPED = "CODE_UNMAPPED"
    ENUM_INVALID = "ENUM_INVALID"
    INTERVAL_INVALID = "INTERVAL_INVALID"
    PATIENT_UNKNOWN = "PATIENT_UNKNOWN"
    DUPLICATE = "DUPLICATE"


class QualityFlag(enum.StrEnum):
    """Flags that mark a row without rejecting it (interop.md §8.7)."""

    TIME_IMPRECISE = "TIME_IMPRECISE"
    WEIGHT_STALE = "WEIGHT_STALE"
    PRELIMINARY = "PRELIMINARY"


class VocabularyError(ValueError):
    """A value, unit or name that the vocabulary does not accept; ``reason`` is the §8.7 quarantine code."""

    reason: QuarantineReason = QuarantineReason.ENUM_INVALID


class UnknownQuantityError(VocabularyError):
    """The quantity name is not in interop.md §1.1."""

    reason = QuarantineReason.ENUM_INVALID


class UnitMissingError(VocabularyError):
    """No unit was given and the source declared no default unit (interop.md §0.5 rule 3)."""

    reason = QuarantineReason.UNIT_MISSING


class UnitNotAcceptedError(VocabularyError):
    """The unit is not canonical and not an accepted alternative for the quantity (interop.md §0.5 rule 4)."""

    reason = QuarantineReason.UNIT_NOT_ACCEPTED


class UnitAmbiguousError(VocabularyError):
    """The unit does not say which quantity/basis is meant (interop.md §1.2: fractions, D-dimer basis)."""

    reason = QuarantineReason.UNIT_AMBIGUOUS


class ImplausibleValueError(VocabularyError):
    """The canonical value lies outside the engineering bounds of interop.md §1.1 (§0.4)."""

    reason = QuarantineReason.OUT_OF_RANGE


class CodeNotInValueSetError(VocabularyError):
    """A coded value is not in the value set of the quantity (interop.md §1.3, §2.4)."""

    reason = QuarantineReason.ENUM_INVALID


class UnknownProductError(VocabularyError):
    """The product name or alias is not in interop.md §2.3."""

    reason = QuarantineReason.ENUM_INVALID


class UnknownDrugError(VocabularyError):
    """The drug name is not in interop.md §2.1-§2.2."""

    reason = QuarantineReason.ENUM_INVALID


@dataclass(frozen=True)
class UnitConversion:
    """canonical = (value + offset) × factor ÷ divisor (interop.md §1.2); molar factors are not exact."""

    factor: float = 1.0
    divisor: float = 1.0
    offset: float = 0.0
    exact: bool = True
    source: str = ""

    def to_canonical(self, value: float) -> float:
        return (value + self.offset) * self.factor / self.divisor

    def from_canonical(self, value: float) -> float:
        return value * self.divisor / self.factor - self.offset


@dataclass(frozen=True)
class LoincCode:
    """One LOINC code with its verification mark (interop.md §0.1)."""

    code: str
    display: str
    verification: str


@dataclass(frozen=True)
class Quantity:
    """One entry of the clinical quantity dictionary (interop.md §1.1-§1.3)."""

    name: str
    meaning: str
    canonical_unit: str | None
    loinc: tuple[str, ...]
    plausible_min: float | None
    plausible_max: float | None
    alternative_units: Mapping[str, UnitConversion]
    value_set: tuple[str, ...] | None
    loinc_codes: tuple[LoincCode, ...] = ()
    integer: bool = False
    enzyme: bool = False
    fraction_ambiguous: bool = False
    rejected_units: Mapping[str, str] = field(default_factory=dict)
    ambiguous_units: Mapping[str, str] = field(default_factory=dict)
    attribute_value_sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    local_code: str | None = None
    notes: str = ""
    source: str = ""

    @property
    def accepted_units(self) -> tuple[str, ...]:
        """Canonical unit first, then the accepted alternatives."""
        if self.canonical_unit is None:
            return ()
        return (self.canonical_unit, *self.alternative_units)

    @property
    def is_coded(self) -> bool:
        return self.canonical_unit is None


@dataclass(frozen=True)
class Drug:
    """A drug of interop.md §2.1-§2.2."""

    name: str
    role: str
    category: str
    masks_fever: bool
    counts_as_vasopressor: bool
    rxnorm: str | None
    atc: str | None
    omop_concept_id: int | None
    canonical_rate_unit: str | None
    plausible_rate_min: float | None
    plausible_rate_max: float | None
    synonyms: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Product:
    """An immune effector cell therapy or T-cell engager of interop.md §2.3."""

    name: str
    brand: str
    product_class: str
    target_antigen: str
    costimulatory_domain: str | None
    aliases: tuple[str, ...]
    atc: str | None
    omop_concept_id: int | None


@dataclass(frozen=True)
class O2Device:
    """An oxygen delivery device enum value of interop.md §2.4 with its §1.5 snapshot mapping."""

    name: str
    snomed_device: tuple[str, ...]
    snomed_therapy: tuple[str, ...]
    tier: str
    tier_above_low_flow_max: str | None
    tier_at_or_below_low_flow_max: str | None
    snapshot_o2_device: str
    mapping_warning: str | None


def _load_yaml(name: str) -> dict[str, Any]:
    text = resources.files("crsguard.model").joinpath("data", name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise RuntimeError(f"vocabulary file {name} must hold a mapping")
    return data


def _conversion(spec: Mapping[str, Any]) -> UnitConversion:
    return UnitConversion(
        factor=float(spec.get("factor", 1.0)),
        divisor=float(spec.get("divisor", 1.0)),
        offset=float(spec.get("offset", 0.0)),
        exact=bool(spec.get("exact", True)),
        source=str(spec.get("source", "")),
    )


def _build_quantities(device_names: tuple[str, ...]) -> dict[str, Quantity]:
    data = _load_yaml("quantities.yaml")
    out: dict[str, Quantity] = {}
    for name, spec in data["quantities"].items():
        loinc_codes = tuple(
            LoincCode(str(c["code"]), str(c["display"]), str(c["verification"])) for c in spec.get("loinc") or []
        )
        plausible = spec.get("plausible") or {}
        value_set: tuple[str, ...] | None = None
        if spec.get("value_set_from") == "o2_devices":
            value_set = device_names
        elif "value_set" in spec:
            value_set = tuple(str(v) for v in spec["value_set"])
        out[name] = Quantity(
            name=name,
            meaning=str(spec["meaning"]),
            canonical_unit=spec.get("canonical_unit"),
            loinc=tuple(c.code for c in loinc_codes),
            plausible_min=None if plausible.get("min") is None else float(plausible["min"]),
            plausible_max=None if plausible.get("max") is None else float(plausible["max"]),
            alternative_units=MappingProxyType(
                {str(u): _conversion(c) for u, c in (spec.get("alternative_units") or {}).items()}
            ),
            value_set=value_set,
            loinc_codes=loinc_codes,
            integer=bool(spec.get("integer", False)),
            enzyme=bool(spec.get("enzyme", False)),
            fraction_ambiguous=bool(spec.get("fraction_ambiguous", False)),
            rejected_units=MappingProxyType(dict(spec.get("rejected_units") or {})),
            ambiguous_units=MappingProxyType(dict(spec.get("ambiguous_units") or {})),
            attribute_value_sets=MappingProxyType(
                {k: tuple(v) for k, v in (spec.get("attribute_value_sets") or {}).items()}
            ),
            local_code=spec.get("local_code"),
            notes=str(spec.get("notes", "")),
            source=str(spec["source"]),
        )
    return out


def _code(entry: Mapping[str, Any] | None) -> Any:
    return None if entry is None else entry.get("code")


def _build_drugs() -> tuple[dict[str, Drug], dict[str, dict[str, dict[str, Any]]], dict[str, str]]:
    data = _load_yaml("drugs.yaml")
    drugs: dict[str, Drug] = {}
    for name, spec in data["drugs"].items():
        rate = spec.get("plausible_rate") or {}
        omop = _code(spec.get("omop_concept_id"))
        drugs[name] = Drug(
            name=name,
            role=str(spec["role"]),
            category=str(spec["category"]),
            masks_fever=bool(spec.get("masks_fever", False)),
            counts_as_vasopressor=bool(spec.get("counts_as_vasopressor", False)),
            rxnorm=_code(spec.get("rxnorm")),
            atc=_code(spec.get("atc")),
            omop_concept_id=None if omop is None else int(omop),
            canonical_rate_unit=spec.get("canonical_rate_unit"),
            plausible_rate_min=None if rate.get("min") is None else float(rate["min"]),
            plausible_rate_max=None if rate.get("max") is None else float(rate["max"]),
            synonyms=tuple(spec.get("synonyms") or ()),
            source=str(spec["source"]),
        )
    return drugs, data["rate_units"], dict(data["rate_unit_synonyms"])


def _build_products() -> dict[str, Product]:
    data = _load_yaml("products.yaml")
    out: dict[str, Product] = {}
    for name, spec in data["products"].items():
        omop = _code(spec.get("omop_concept_id"))
        out[name] = Product(
            name=name,
            brand=str(spec["brand"]),
            product_class=str(spec["product_class"]),
            target_antigen=str(spec["target_antigen"]),
            costimulatory_domain=spec.get("costimulatory_domain"),
            aliases=tuple(str(a) for a in spec.get("aliases") or ()),
            atc=_code(spec.get("atc")),
            omop_concept_id=None if omop is None else int(omop),
        )
    return out


def _build_devices() -> tuple[dict[str, O2Device], float]:
    data = _load_yaml("o2_devices.yaml")
    out: dict[str, O2Device] = {}
    for name, spec in data["devices"].items():
        out[name] = O2Device(
            name=name,
            snomed_device=tuple(str(c["code"]) for c in spec.get("snomed_device") or ()),
            snomed_therapy=tuple(str(c["code"]) for c in spec.get("snomed_therapy") or ()),
            tier=str(spec["tier"]),
            tier_above_low_flow_max=spec.get("tier_above_low_flow_max"),
            tier_at_or_below_low_flow_max=spec.get("tier_at_or_below_low_flow_max"),
            snapshot_o2_device=str(spec["snapshot_o2_device"]),
            mapping_warning=spec.get("mapping_warning"),
        )
    return out, float(data["low_flow_max_l_min"])


_DEVICES, LOW_FLOW_MAX_L_MIN = _build_devices()
O2_DEVICES: Mapping[str, O2Device] = MappingProxyType(_DEVICES)
QUANTITIES: Mapping[str, Quantity] = MappingProxyType(_build_quantities(tuple(_DEVICES)))
_DRUGS, _RATE_UNITS, _RATE_UNIT_SYNONYMS = _build_drugs()
DRUGS: Mapping[str, Drug] = MappingProxyType(_DRUGS)
PRODUCTS: Mapping[str, Product] = MappingProxyType(_build_products())


# ---------------------------------------------------------------------------------------- unit normalisation
# interop.md §0.5 rule 1: whole-string spellings mapped to UCUM.
_WHOLE_UNIT_SPELLINGS: Mapping[str, str] = MappingProxyType(
    {
        "°C": "Cel",
        "C": "Cel",
        "degC": "Cel",
        "°F": "[degF]",
        "F": "[degF]",
        "degF": "[degF]",
        "mmHg": "mm[Hg]",
        "mm Hg": "mm[Hg]",
        "bpm": "/min",
        "beats/min": "/min",
        "{beats}/min": "/min",
        "breaths/min": "/min",
        "{breaths}/min": "/min",
        "sec": "s",
        "x10^9/L": "10*9/L",
        "10^9/L": "10*9/L",
        "G/L": "10*9/L",
        "10E9/L": "10*9/L",
        "10^3/uL": "10*3/uL",
        "K/uL": "10*3/uL",
        "10*3/mm3": "10*3/uL",
        "thou/uL": "10*3/uL",
        "cells/uL": "/uL",
        "/mm3": "/uL",
        "units/min": "U/min",
    }
)
_MICRO = re.compile(r"[µμ]")
_MC_PREFIX = re.compile(r"(?<![A-Za-z])mc(?=(g|L|mol|kat|m3)\b|(g|L|mol|kat)/)")
_ENZYME_IU = "IU/L"


def normalize_unit(unit: str, quantity: str | None = None) -> str:
    """Map common non-UCUM spellings to UCUM (interop.md §0.5 rule 1); case is kept (rule 2).

    ``IU/L`` becomes ``U/L`` only for enzymes (rule 1); for any other quantity, or when no quantity is given,
    it becomes the UCUM ``[IU]/L`` so that it is judged like any other unit.
    """
    text = unit.strip()
    text = _MICRO.sub("u", text)
    text = _MC_PREFIX.sub("u", text)
    if text == _ENZYME_IU:
        spec = QUANTITIES.get(quantity) if quantity is not None else None
        return "U/L" if spec is not None and spec.enzyme else "[IU]/L"
    return _WHOLE_UNIT_SPELLINGS.get(text, text)


# ------------------------------------------------------------------------------------------------ conversions
def _quantity(name: str) -> Quantity:
    try:
        return QUANTITIES[name]
    except KeyError:
        raise UnknownQuantityError(
            f"unknown quantity {name!r}: not in the quantity dictionary (interop.md §1.1); "
            f"allowed: {', '.join(sorted(QUANTITIES))}"
        ) from None


def _conversion_for(spec: Quantity, unit: str) -> UnitConversion:
    if unit == spec.canonical_unit:
        return UnitConversion(source="canonical unit")
    if unit in spec.alternative_units:
        return spec.alternative_units[unit]
    allowed = ", ".join(repr(u) for u in spec.accepted_units)
    if unit in spec.ambiguous_units:
        raise UnitAmbiguousError(
            f"{spec.name}: unit {unit!r} is ambiguous: {spec.ambiguous_units[unit]}; accepted units: {allowed}"
        )
    if unit in spec.rejected_units:
        raise UnitNotAcceptedError(
            f"{spec.name}: unit {unit!r} is not accepted: {spec.rejected_units[unit]}; accepted units: {allowed}"
        )
    raise UnitNotAcceptedError(
        f"{spec.name}: unit {unit!r} is not accepted (interop.md §0.5 rule 4, no guessing); accepted units: {allowed}"
    )


def _numeric_quantity(name: str) -> Quantity:
    spec = _quantity(name)
    if spec.is_coded:
        raise CodeNotInValueSetError(
            f"{name} is a coded quantity without a unit (interop.md §1.1); check it with check_code, "
            f"allowed values: {', '.join(spec.value_set or ())}"
        )
    return spec


def to_canonical(
    quantity: str,
    value: float,
    unit: str | None,
    *,
    default_unit: str | None = None,
    fraction: bool = False,
) -> float:
    """Convert ``value`` in ``unit`` to the canonical unit of ``quantity`` (factors of interop.md §1.2).

    ``default_unit`` is the unit a source adapter declared for this field; it is used only when ``unit`` is
    missing (§0.5 rule 3). ``fraction`` is the per-source ``fraction=true`` setting of §1.2 for SpO2/FiO2.
    """
    spec = _numeric_quantity(quantity)
    if not math.isfinite(value):
        raise ImplausibleValueError(f"{quantity}: value {value!r} is not a finite number")
    raw_unit = unit if unit is not None and unit.strip() else default_unit
    if raw_unit is None or not raw_unit.strip():
        raise UnitMissingError(
            f"{quantity}: unit missing and no default unit declared by the source (interop.md §0.5 rule 3); "
            f"accepted units: {', '.join(repr(u) for u in spec.accepted_units)}"
        )
    normalized = normalize_unit(raw_unit, quantity)
    if spec.fraction_ambiguous and normalized == spec.canonical_unit and 0 < value <= 1.0:
        if fraction:
            return value * 100.0
        raise UnitAmbiguousError(
            f"{quantity}: value {value} with unit '%' looks like a fraction (0 < value <= 1); send unit '1' "
            "or configure the source with fraction=true (interop.md §1.2)"
        )
    return _conversion_for(spec, normalized).to_canonical(value)


def from_canonical(quantity: str, value: float, unit: str) -> float:
    """Express a canonical value in an accepted unit (inverse of :func:`to_canonical`; used by writers)."""
    spec = _numeric_quantity(quantity)
    return _conversion_for(spec, normalize_unit(unit, quantity)).from_canonical(value)


def check_plausible(quantity: str, value: float) -> None:
    """Reject a canonical value outside the plausible range of interop.md §1.1 (§0.4: OUT_OF_RANGE)."""
    spec = _numeric_quantity(quantity)
    low, high = spec.plausible_min, spec.plausible_max
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        raise ImplausibleValueError(
            f"{quantity}: value {value} {spec.canonical_unit} is outside the plausible range "
            f"{low}–{high} {spec.canonical_unit} (interop.md §1.1)"
        )
    if spec.integer and value != int(value):
        raise ImplausibleValueError(f"{quantity}: value {value} must be a whole number ({low}–{high})")


def canonical(quantity: str, value: float, unit: str | None, **options: Any) -> float:
    """Convert to the canonical unit and check plausibility; the one call a reader needs per value."""
    result = to_canonical(quantity, value, unit, **options)
    check_plausible(quantity, result)
    return result


def check_code(quantity: str, code: str) -> None:
    """Reject a coded value outside the value set of ``quantity`` (interop.md §1.3, §2.4)."""
    spec = _quantity(quantity)
    if spec.value_set is None:
        raise CodeNotInValueSetError(f"{quantity} is numeric (unit {spec.canonical_unit}), not a coded quantity")
    if code not in spec.value_set:
        raise CodeNotInValueSetError(
            f"{quantity}: value {code!r} is not in the value set; allowed: {', '.join(spec.value_set)}"
        )


# ---------------------------------------------------------------------------------- products, drugs, devices
def _alias_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


@cache
def _product_aliases() -> Mapping[str, str]:
    table: dict[str, str] = {}
    for product in PRODUCTS.values():
        for alias in (product.name, product.brand, *product.aliases):
            table[_alias_key(alias)] = product.name
    return MappingProxyType(table)


def resolve_product(name_or_alias: str) -> Product:
    """Find a product by canonical name (interop.md §2.3), brand or usual short name (``axi-cel``)."""
    key = _alias_key(name_or_alias)
    if key in _product_aliases():
        return PRODUCTS[_product_aliases()[key]]
    accepted = ", ".join(f"{p.name} ({', '.join(p.aliases)})" if p.aliases else p.name for p in PRODUCTS.values())
    raise UnknownProductError(f"unknown product {name_or_alias!r}; accepted names (aliases): {accepted}")


def resolve_drug(name: str) -> Drug:
    """Find a drug by canonical name or synonym (``paracetamol``) of interop.md §2.1-§2.2."""
    key = name.strip().lower()
    for drug in DRUGS.values():
        if key == drug.name or key in drug.synonyms:
            return drug
    raise UnknownDrugError(f"unknown drug {name!r}; accepted: {', '.join(DRUGS)}")


def rate_to_canonical(drug: str, rate: float, unit: str, dosing_weight_kg: float | None = None) -> float:
    """Convert an infusion rate to the drug's canonical rate unit (interop.md §2.2).

    Weight-based conversions need the segment's own ``dosing_weight_kg``; without it they are refused rather
    than guessed. ``mL/h`` needs a concentration and is refused here (the source adapter must supply it).
    """
    spec = resolve_drug(drug)
    if spec.canonical_rate_unit is None:
        raise UnitNotAcceptedError(f"{drug} is not given as a rate infusion in interop.md §2.2")
    text = normalize_unit(unit)
    text = _RATE_UNIT_SYNONYMS.get(text, text)
    table: Mapping[str, Mapping[str, Any]] = _RATE_UNITS[spec.canonical_rate_unit]
    if text not in table:
        raise UnitNotAcceptedError(
            f"{drug}: rate unit {unit!r} is not accepted; accepted: {', '.join(table)} (interop.md §2.2)"
        )
    entry = table[text]
    converted = rate * float(entry.get("factor", 1.0)) / float(entry.get("divisor", 1.0))
    if entry.get("per_weight"):
        if dosing_weight_kg is None or not dosing_weight_kg > 0:
            raise UnitMissingError(
                f"{drug}: rate in {unit!r} needs a positive dosing_weight_kg to become "
                f"{spec.canonical_rate_unit} (interop.md §2.2)"
            )
        converted /= dosing_weight_kg
    return converted


def o2_support_tier(device: str, flow_l_min: float | None) -> str:
    """Support tier of a device and flow (interop.md §2.4, crs-grading.md D6): flow ≤ 6 L/min is low flow."""
    try:
        spec = O2_DEVICES[device]
    except KeyError:
        raise CodeNotInValueSetError(
            f"oxygen_delivery_device: {device!r} is not in the value set; allowed: {', '.join(O2_DEVICES)}"
        ) from None
    if flow_l_min is None:
        return spec.tier
    if spec.tier_above_low_flow_max is not None and flow_l_min > LOW_FLOW_MAX_L_MIN:
        return spec.tier_above_low_flow_max
    if spec.tier_at_or_below_low_flow_max is not None and flow_l_min <= LOW_FLOW_MAX_L_MIN:
        return spec.tier_at_or_below_low_flow_max
    return spec.tier
