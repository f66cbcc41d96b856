"""Load the simulator's module files (``simulate/modules/*.yaml``) into typed parameters.

The module files are the model: states, transitions, guards, distributions and every number with its evidence
marker and source (risk-and-epidemiology.md §0.2: [U] and [A] numbers are configurable constants, never hidden
in code). This module reads them and checks their structure; it holds no clinical number of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from crsguard.model.vocabulary import resolve_product
from crsguard.simulate.distributions import HOURS_PER_DAY, WaitingTime, from_spec

MODULE_NAMES = ("crs", "icans", "management", "charting", "products")
MARKERS = frozenset({"P", "L", "S", "U", "A", "D", "R"})
STATE_MACHINE_MODULES = ("crs", "icans")


class ModuleError(ValueError):
    """A module file breaks the structure the engine needs."""


def module_text(name: str) -> str:
    return resources.files("crsguard.simulate").joinpath("modules", f"{name}.yaml").read_text(encoding="utf-8")


@cache
def load_module(name: str) -> Mapping[str, Any]:
    data = yaml.safe_load(module_text(name))
    if not isinstance(data, dict):
        raise ModuleError(f"module {name}: the file must hold a mapping")
    problems = check_module(name, data)
    if problems:
        raise ModuleError(f"module {name}: " + "; ".join(problems))
    return data


def _walk_parameters(node: Any, path: str, problems: list[str]) -> None:
    """Every mapping that carries a number-bearing parameter must carry a marker and a source."""
    if not isinstance(node, dict):
        return
    if "marker" in node:
        if node["marker"] not in MARKERS:
            problems.append(f"{path}: marker {node['marker']!r} not one of {sorted(MARKERS)}")
        if not str(node.get("source", "")).strip():
            problems.append(f"{path}: marker without a source")
        for key in ("value", "min", "max", "median", "median_h", "sigma"):
            value = node.get(key)
            if isinstance(value, float) and not math.isfinite(value):
                problems.append(f"{path}.{key}: not finite")
        return
    for key, child in node.items():
        _walk_parameters(child, f"{path}.{key}", problems)


def _check_state_machine(data: Mapping[str, Any], problems: list[str]) -> None:
    states = data.get("states") or {}
    distributions = data.get("distributions") or {}
    guards = data.get("guards") or {}
    initial = [name for name, spec in states.items() if spec.get("kind") == "initial"]
    if len(initial) != 1:
        problems.append(f"exactly one initial state required, found {initial}")
    edges: dict[str, set[str]] = {name: set() for name in states}
    for index, transition in enumerate(data.get("transitions") or []):
        where = f"transitions[{index}]"
        unknown = set(transition) - {"from", "to", "event", "timing", "guard"}
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        for end in ("from", "to"):
            if transition.get(end) not in states:
                problems.append(f"{where}: state {transition.get(end)!r} is not declared")
        timing = str(transition.get("timing", ""))
        known_timing = (
            timing in distributions
            or timing.startswith("product.")
            or timing in {"uniform_within_sojourn", "evenly_spaced_to_resolution", "tce_next_dose"}
        )
        if not known_timing:
            problems.append(f"{where}: timing {timing!r} is neither a distribution nor a known rule")
        if transition.get("guard") not in guards:
            problems.append(f"{where}: guard {transition.get('guard')!r} is not declared")
        if transition.get("from") in edges:
            edges[transition["from"]].add(str(transition.get("to")))
    if initial:
        seen, frontier = {initial[0]}, [initial[0]]
        while frontier:
            for nxt in edges.get(frontier.pop(), set()):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        unreachable = set(states) - seen
        if unreachable:
            problems.append(f"states not reachable from {initial[0]}: {sorted(unreachable)}")
    for name, spec in states.items():
        if spec.get("kind") == "terminal" and edges.get(name):
            problems.append(f"terminal state {name} has outgoing transitions")


def check_module(name: str, data: Mapping[str, Any]) -> list[str]:
    """Structural problems of one module file (empty list = valid). Used at load time and by the tests."""
    problems: list[str] = []
    if data.get("module") != name:
        problems.append(f"'module' must be {name!r}")
    if not str(data.get("source", "")).strip():
        problems.append("module without a source")
    if name in STATE_MACHINE_MODULES:
        if data.get("clock") != "hour":
            problems.append("state-machine modules run on an hourly clock ('clock: hour')")
        _check_state_machine(data, problems)
    if name == "products":
        for product, spec in (data.get("products") or {}).items():
            try:
                resolved = resolve_product(product)
            except ValueError as error:
                problems.append(str(error))
                continue
            if resolved.name != product:
                problems.append(f"products.{product}: use the canonical name {resolved.name}")
            for required in ("crs_any", "crs_grade3plus", "q2", "q4", "q5", "crs_onset", "crs_duration"):
                if required not in spec:
                    problems.append(f"products.{product}: missing {required}")
            if resolved.product_class == "tce" and "schedule" not in spec:
                problems.append(f"products.{product}: a T-cell engager needs a step-up schedule")
    _walk_parameters(dict(data), name, problems)
    return problems


def value(node: Mapping[str, Any]) -> float:
    return float(node["value"])


@dataclass(frozen=True)
class Figure:
    """A published (or assumed) figure with its evidence marker and source."""

    value: float
    marker: str
    source: str
    scope: str = "crs"
    measure: str = ""


@dataclass(frozen=True)
class Dose:
    """One scheduled T-cell-engager dose (interop.md §2.3 step-up fields)."""

    hour: float
    dose_value: float
    dose_unit: str
    step_up_dose_number: int | None
    is_full_dose: bool


@dataclass(frozen=True)
class ProductModel:
    """Everything the simulator needs for one product (risk-and-epidemiology.md §4, §5.4-§5.5)."""

    name: str
    product_class: str
    target_antigen: str
    disease: str
    grading: str
    trial: str
    crs_any: Figure
    crs_grade3plus: Figure
    q2: float
    q3: float
    q4: float
    q5: float
    onset: WaitingTime
    onset_figure: Mapping[str, Any]
    duration: WaitingTime
    duration_figure: Mapping[str, Any]
    component_mix: Mapping[str, float]
    tocilizumab_use: Figure | None
    steroid_use: Figure | None
    icans_any: Figure
    icans_grade3plus: Figure
    icans_onset: WaitingTime
    icans_duration: WaitingTime
    schedule: tuple[Dose, ...]
    premedication: bool
    first_event_dose_share: tuple[float, ...]

    @property
    def is_tce(self) -> bool:
        return self.product_class == "tce"


def _figure(node: Mapping[str, Any] | None) -> Figure | None:
    if node is None:
        return None
    return Figure(
        value=float(node["value"]),
        marker=str(node["marker"]),
        source=str(node["source"]),
        scope=str(node.get("scope", "crs")),
        measure=str(node.get("measure", "")),
    )


def _required_figure(node: Mapping[str, Any]) -> Figure:
    figure = _figure(node)
    if figure is None:
        raise ModuleError("missing figure")
    return figure


def _product_model(name: str, spec: Mapping[str, Any]) -> ProductModel:
    crs = load_module("crs")
    icans = load_module("icans")
    product = resolve_product(name)
    crs_any = _required_figure(spec["crs_any"])
    grade3 = _required_figure(spec["crs_grade3plus"])
    q2 = value(spec["q2"])
    q3 = 0.0 if crs_any.value == 0 or q2 == 0 else min(1.0, grade3.value / crs_any.value / q2)
    onset_cap = spec.get("onset_max_days")
    onset = from_spec(spec["crs_onset"], high_h=None if onset_cap is None else value(onset_cap) * HOURS_PER_DAY)
    icans_sigma = value(icans["parameters"]["onset_sigma_when_range_unknown"])
    default_icans_duration = icans["distributions"]["icans_duration_default"]
    icans_duration_spec = spec.get("icans_duration")
    if icans_duration_spec is None:
        icans_duration = from_spec(default_icans_duration)
    else:
        icans_duration = from_spec(icans_duration_spec, default_sigma=float(default_icans_duration["sigma"]))
    icans_onset_spec = spec.get("icans_onset") or spec["crs_onset"]
    schedule = tuple(
        Dose(
            hour=float(d["day"]) * HOURS_PER_DAY,
            dose_value=float(d["dose_value"]),
            dose_unit=str(d["dose_unit"]),
            step_up_dose_number=d.get("step_up_dose_number"),
            is_full_dose=bool(d["is_full_dose"]),
        )
        for d in spec.get("schedule") or ()
    )
    mix = dict(crs["component_mix"][spec.get("component_mix", "default")])
    return ProductModel(
        name=name,
        product_class=product.product_class,
        target_antigen=product.target_antigen,
        disease=str(spec["disease"]),
        grading=str(spec["grading"]),
        trial=str(spec["trial"]),
        crs_any=crs_any,
        crs_grade3plus=grade3,
        q2=q2,
        q3=q3,
        q4=value(spec["q4"]),
        q5=value(spec["q5"]),
        onset=onset,
        onset_figure=spec["crs_onset"],
        duration=from_spec(spec["crs_duration"]),
        duration_figure=spec["crs_duration"],
        component_mix={k: float(mix[k]) for k in ("hypotension_only", "hypoxia_only", "both")},
        tocilizumab_use=_figure(spec.get("tocilizumab_use")),
        steroid_use=_figure(spec.get("steroid_use")),
        icans_any=_required_figure(spec["icans_any"]),
        icans_grade3plus=_required_figure(spec["icans_grade3plus"]),
        icans_onset=from_spec(icans_onset_spec, default_sigma=icans_sigma),
        icans_duration=icans_duration,
        schedule=schedule,
        premedication=bool(spec.get("premedication", False)),
        first_event_dose_share=tuple(float(x) for x in (spec.get("first_event_dose_share") or {}).get("values", ())),
    )


@cache
def product_models() -> Mapping[str, ProductModel]:
    """All simulated products by canonical name (interop.md §2.3)."""
    data = load_module("products")
    return {name: _product_model(name, spec) for name, spec in data["products"].items()}


def mix_weights() -> Mapping[str, float]:
    """Product mix of ``--product mix`` [A], normalised to sum 1."""
    raw = {k: float(v) for k, v in load_module("products")["mix_weights"].items() if k not in {"marker", "source"}}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}
