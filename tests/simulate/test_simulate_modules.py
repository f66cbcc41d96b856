"""Structural walk of every simulator module file (the Synthea idea: the model is data, checked by a test)."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
import yaml

from crsguard.simulate.parameters import MODULE_NAMES, check_module, load_module, module_text, product_models

MODULE_FILES = sorted(
    p.name.removesuffix(".yaml")
    for p in resources.files("crsguard.simulate").joinpath("modules").iterdir()
    if p.name.endswith(".yaml")
)


def test_every_module_file_is_known_to_the_engine() -> None:
    assert sorted(MODULE_NAMES) == MODULE_FILES


@pytest.mark.parametrize("name", MODULE_FILES)
def test_module_file_is_structurally_valid(name: str) -> None:
    data = yaml.safe_load(module_text(name))
    assert check_module(name, data) == []


@pytest.mark.parametrize("name", MODULE_FILES)
def test_every_number_carries_a_marker_and_a_source(name: str) -> None:
    """risk-and-epidemiology.md §0.2: [U]/[A] numbers are configurable constants with their marker."""

    def walk(node: Any, path: str) -> list[str]:
        if isinstance(node, dict):
            if "marker" in node:
                return []
            return [p for key, child in node.items() for p in walk(child, f"{path}.{key}")]
        if isinstance(node, bool | str) or node is None:
            return []
        if isinstance(node, int | float):
            return [path]
        return [p for i, child in enumerate(node) for p in walk(child, f"{path}[{i}]")]

    data = yaml.safe_load(module_text(name))
    # schedules (source: `schedule_source`), baseline labs (`baseline_marker`) and state rungs are structure
    structural = (".schedule[", ".labs.baseline.", ".states.")
    unmarked = [p for p in walk(data, name) if not any(s in p for s in structural)]
    assert unmarked == []


def _broken(name: str, mutate: Any) -> list[str]:
    data = copy.deepcopy(dict(load_module(name)))
    mutate(data)
    return check_module(name, data)


def test_structural_check_catches_unknown_state() -> None:
    problems = _broken(
        "crs",
        lambda d: d["transitions"].append(
            {"from": "G4", "to": "G9", "event": "escalate", "timing": "time_to_rung_2", "guard": "after_peak"}
        ),
    )
    assert any("G9" in p for p in problems)


def test_structural_check_catches_unreachable_state() -> None:
    problems = _broken("icans", lambda d: d["states"].update({"N9": {"kind": "active", "rung": 9}}))
    assert any("not reachable" in p for p in problems)


def test_structural_check_catches_missing_source_and_bad_marker() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["parameters"]["min_hours_after_peak"] = {"value": 24, "marker": "X", "source": ""}

    problems = _broken("crs", mutate)
    assert any("marker 'X'" in p for p in problems)
    assert any("without a source" in p for p in problems)


def test_structural_check_catches_terminal_state_with_exit() -> None:
    problems = _broken(
        "crs",
        lambda d: d["transitions"].append(
            {
                "from": "DEAD",
                "to": "G1",
                "event": "relapse",
                "timing": "tce_next_dose",
                "guard": "tce_recurrence",
            }
        ),
    )
    assert any("terminal state DEAD" in p for p in problems)


def test_structural_check_catches_product_alias_and_missing_schedule() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["products"]["axi-cel"] = d["products"]["axicabtagene_ciloleucel"]
        del d["products"]["teclistamab"]["schedule"]

    problems = _broken("products", mutate)
    assert any("canonical name axicabtagene_ciloleucel" in p for p in problems)
    assert any("step-up schedule" in p for p in problems)


def test_required_products_are_simulated() -> None:
    """Issue 4: at least these products, the bispecifics with step-up dosing."""
    models = product_models()
    for name in (
        "axicabtagene_ciloleucel",
        "tisagenlecleucel",
        "lisocabtagene_maraleucel",
        "idecabtagene_vicleucel",
        "ciltacabtagene_autoleucel",
        "brexucabtagene_autoleucel",
        "teclistamab",
        "epcoritamab",
        "glofitamab",
    ):
        assert name in models
    for name in ("teclistamab", "epcoritamab", "glofitamab"):
        schedule = models[name].schedule
        assert schedule[0].hour == 0 and not schedule[0].is_full_dose
        assert any(d.is_full_dose for d in schedule)
