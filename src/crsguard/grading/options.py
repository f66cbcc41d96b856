"""Named options for the choices clinicians make differently (crs-grading.md §5).

Each option has the spec's recommended rule as its default. Options can be given for all systems they concern
(`vasopressin_counts_as_multiple=false`) or for one system (`lee2014.cpap_bipap_as_ventilation=true`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crsguard.model.errors import InputError


@dataclass(frozen=True)
class OptionSpec:
    name: str
    choices: tuple[Any, ...]
    default: Any
    systems: tuple[str, ...]
    ref: str
    description: str
    #: Per-system defaults where the spec's recommended rule differs by system (A7).
    system_defaults: tuple[tuple[str, Any], ...] = ()

    def default_for(self, system_id: str) -> Any:
        return dict(self.system_defaults).get(system_id, self.default)


_FIO2_SYSTEMS = ("lee2014", "ctcae_v5", "mskcc", "cartox", "cartox_peds")
_HIGH_DOSE_SYSTEMS = ("lee2014", "penn", "mskcc", "cartox", "cartox_peds")

OPTIONS: dict[str, OptionSpec] = {
    o.name: o
    for o in (
        OptionSpec(
            "vasopressin_counts_as_multiple",
            (True, False),
            True,
            ("lee2014", "cartox", "cartox_peds", "ctcae_v5", "ctcae_v6"),
            "crs-grading.md A1",
            "Outside ASTCT, vasopressin counts as a second agent toward 'multiple vasopressors'. "
            "false: count only non-vasopressin agents.",
        ),
        OptionSpec(
            "masked_fever_without_findings",
            ("grade_1_if_symptoms", "grade_0"),
            "grade_1_if_symptoms",
            ("astct2019",),
            "crs-grading.md A3",
            "ASTCT: fever masked by therapy with neither hypotension nor hypoxia is grade 1 while CRS symptoms "
            "persist; grade_0: considered resolved.",
        ),
        OptionSpec(
            "nasal_cannula_fio2",
            ("d7_estimate", "below_40"),
            "d7_estimate",
            _FIO2_SYSTEMS,
            "crs-grading.md A4, D7",
            "FiO2 of nasal cannula when not recorded: the D7 estimate (20 + 4 x flow, so 5-6 L/min reach 40 %) or "
            "always below 40 % (capped at 39 %).",
        ),
        OptionSpec(
            "paediatric_vasopressor_scaling",
            (True, False),
            True,
            _HIGH_DOSE_SYSTEMS,
            "crs-grading.md A6, D5 rule 4",
            "Under 18 years, scale the mcg/min high-dose thresholds by weight_kg / 70 (dopamine and vasopressin "
            "unscaled).",
        ),
        OptionSpec(
            "cpap_bipap_as_ventilation",
            (True, False),
            False,
            ("lee2014", "cartox", "mskcc", "ctcae_v4", "ctcae_v5", "ctcae_v6"),
            "crs-grading.md A7",
            "Whether CPAP/BiPAP count as 'ventilator support' / urgent intervention (grade 4). Default: no for "
            "Lee, CARTOX and MSKCC (graded by FiO2); yes for CTCAE v4.03, v5.0 and v6.0.",
            system_defaults=(("ctcae_v4", True), ("ctcae_v5", True), ("ctcae_v6", True)),
        ),
        OptionSpec(
            "transaminitis_reading",
            ("cap", "shift"),
            "cap",
            ("lee2014", "cartox", "cartox_peds"),
            "crs-grading.md A8",
            "cap: transaminitis grade g gives CRS min(g, 3); shift: grade 3 gives 2, grade 4 gives 3.",
        ),
        OptionSpec(
            "mskcc_fluid_responsive_hypotension_grade",
            (1, 2),
            1,
            ("mskcc",),
            "crs-grading.md A9",
            "MSKCC grade for hypotension treated with fluids alone (no criterion in the table).",
        ),
        OptionSpec(
            "cartox_persistent_hypotension_limb",
            (True, False),
            True,
            ("cartox",),
            "crs-grading.md A10",
            "CARTOX grade 4 'life-threatening hypotension' also when hypotension persists on high-dose or multiple "
            "vasopressors (borrowed from paediatric CARTOX).",
        ),
    )
}


def _coerce(spec: OptionSpec, value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().lower()
        for choice in spec.choices:
            if text == str(choice).lower():
                return choice
    elif value in spec.choices and type(value) is type(spec.choices[0]):
        return value
    raise InputError([f"option {spec.name}: {value!r} is not allowed; allowed values: {list(spec.choices)}"])


def validate_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check option names and values; returns them coerced to their types (strings from the CLI accepted)."""
    checked: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in (options or {}).items():
        system, _, name = key.rpartition(".")
        spec = OPTIONS.get(name)
        if spec is None:
            problems.append(f"unknown option {key!r}; known options: {', '.join(OPTIONS)}")
            continue
        if system and system not in spec.systems:
            problems.append(f"option {name} does not apply to {system!r}; it applies to {', '.join(spec.systems)}")
            continue
        try:
            checked[key] = _coerce(spec, value)
        except InputError as error:
            problems.extend(error.problems)
    if problems:
        raise InputError(problems)
    return checked


def resolve(system_id: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every option for one system: system-scoped beats global beats the spec default."""
    return {
        name: options.get(f"{system_id}.{name}", options.get(name, spec.default_for(system_id)))
        for name, spec in OPTIONS.items()
    }
