"""The worked vignettes of crs-grading.md §4 as data: inputs (changes from baseline B) and expected grades.

`None` in an expected cell is never used; "ind" cells are written ("ind", n) = indeterminate with lower bound n.
ctcae_v6 equals ctcae_v5 except vignettes 15 (→ 2) and 18 (→ 3) (§3.5).
"""

from __future__ import annotations

from typing import Any

#: Baseline record B (§4): every other boolean false, no oxygen, no vasopressors, organ grades 0, no boluses.
BASELINE: dict[str, Any] = {
    "age_years": 60,
    "weight_kg": 70,
    "crs_attributed": True,
    "temperature_c": 38.6,
    "crs_symptoms_present": True,
    "fever_masked": False,
    "fever_attributable_other_cause": False,
    "hypotension": False,
    "hypotension_persistent_on_vasopressors": False,
    "hypotension_fluid_responsive": False,
    "fluid_boluses_for_bp": 0,
    "hypotension_attributable_other_cause": False,
    "vasopressors": [],
    "o2_device": "none",
    "hypoxia_attributable_other_cause": False,
    "organ_toxicity_max_grade": 0,
    "transaminitis_grade": 0,
    "creatinine_grade": 0,
    "coagulopathy_requiring_products": False,
    "hospitalized_for_crs": False,
    "iv_therapy_required": False,
    "hospitalized_for_organ_dysfunction": False,
    "symptomatic_treatment_required": False,
    "prolonged_or_recurrent": False,
    "life_threatening": False,
    "death_from_crs": False,
}

SYSTEM_ORDER = ("astct2019", "lee2014", "ctcae_v4", "ctcae_v5", "penn", "mskcc", "cartox", "cartox_peds")


def vaso(drug: str, dose: float, unit: str, hours: float) -> dict[str, Any]:
    return {"drug": drug, "dose": dose, "dose_unit": unit, "hours_continuous": hours}


NE5_6H = [vaso("norepinephrine", 5, "mcg_per_min", 6)]
V4 = {
    "hypotension": True,
    "sbp_mmhg": 84,
    "hypotension_fluid_responsive": True,
    "fluid_boluses_for_bp": 1,
    "hospitalized_for_crs": True,
}
V6 = {
    "hypotension": True,
    "sbp_mmhg": 82,
    "fluid_boluses_for_bp": 2,
    "hospitalized_for_crs": True,
    "vasopressors": NE5_6H,
}
V10 = V6 | {
    "vasopressors": [vaso("norepinephrine", 8, "mcg_per_min", 5), vaso("vasopressin", 0.03, "units_per_min", 5)]
}
V15 = {"o2_device": "nasal_cannula", "o2_flow_l_min": 6, "hospitalized_for_crs": True}
V30 = {
    "age_years": 6,
    "weight_kg": 20,
    "temperature_c": 38.9,
    "hypotension": None,
    "sbp_mmhg": 80,
    "hypotension_fluid_responsive": True,
    "fluid_boluses_for_bp": 1,
    "hospitalized_for_crs": True,
}
V32 = {
    "age_years": 6,
    "weight_kg": 20,
    "hypotension": True,
    "hospitalized_for_crs": True,
    "vasopressors": [vaso("norepinephrine", 0.1, "mcg_per_kg_per_min", 4)],
}

# number: (changes from B, grades in SYSTEM_ORDER)
VIGNETTES: dict[int, tuple[dict[str, Any], tuple[Any, ...]]] = {
    1: ({}, (1, 1, 1, 1, 1, 1, 1, 1)),
    2: ({"temperature_c": 37.9, "crs_symptoms_present": False}, (0, 0, 0, 0, 0, 0, 0, 0)),
    3: ({"temperature_c": None, "temperature_f": 100.4}, (1, 1, 1, 1, 1, 1, 1, 1)),
    4: (V4, (2, 2, 2, 2, 2, 1, 2, 2)),
    5: (V4 | {"fluid_boluses_for_bp": 2}, (2, 2, 2, 2, 3, 1, 2, 2)),
    6: (V6, (3, 2, 4, 3, 3, 2, 2, 2)),
    7: (V6 | {"vasopressors": [vaso("norepinephrine", 5, "mcg_per_min", 30)]}, (3, 2, 4, 3, 3, 3, 2, 2)),
    8: (V6 | {"vasopressors": [vaso("norepinephrine", 25, "mcg_per_min", 4)]}, (3, 3, 4, 3, 4, 2, 3, 3)),
    9: (V6 | {"vasopressors": [vaso("norepinephrine", 25, "mcg_per_min", 2)]}, (3, 2, 4, 3, 3, 2, 2, 2)),
    10: (V10, (3, 3, 4, 4, 3, 2, 3, 3)),
    11: (
        V6
        | {
            "vasopressors": [
                vaso("norepinephrine", 12, "mcg_per_min", 5),
                vaso("vasopressin", 0.03, "units_per_min", 5),
            ]
        },
        (3, 3, 4, 4, 4, 2, 3, 3),
    ),
    12: (
        V6
        | {"vasopressors": [vaso("norepinephrine", 5, "mcg_per_min", 4), vaso("phenylephrine", 50, "mcg_per_min", 4)]},
        (4, 3, 4, 4, 3, 2, 3, 3),
    ),
    13: (
        V6
        | {
            "vasopressors": [
                vaso("norepinephrine", 30, "mcg_per_min", 4),
                vaso("phenylephrine", 100, "mcg_per_min", 4),
            ],
            "hypotension_persistent_on_vasopressors": True,
        },
        (4, 3, 4, 4, 4, 4, 4, 4),
    ),
    14: ({"o2_device": "nasal_cannula", "o2_flow_l_min": 2, "hospitalized_for_crs": True}, (2, 2, 2, 2, 3, 2, 2, 2)),
    15: (V15, (2, 3, 2, 3, 3, 3, 3, 3)),
    16: (V15 | {"o2_flow_l_min": 7}, (3, 3, 2, 3, 3, 3, 3, 3)),
    17: ({"o2_device": "simple_face_mask", "o2_flow_l_min": 5}, (3, 3, 2, 3, 3, 3, 3, 3)),
    18: ({"o2_device": "high_flow_nasal_cannula", "o2_flow_l_min": 40, "fio2": 35}, (3, 2, 2, 2, 3, 2, 2, 2)),
    19: ({"o2_device": "bipap", "fio2": 50}, (4, 3, 4, 4, 3, 3, 3, 3)),
    20: ({"o2_device": "cpap", "fio2": 30}, (4, 2, 4, 4, 3, 2, 2, 3)),
    21: (
        {"o2_device": "mechanical_ventilation", "fio2": 60, "vasopressors": NE5_6H, "hypotension": True},
        (4, 4, 4, 4, 4, 4, 4, 4),
    ),
    22: (V6 | {"temperature_c": 37.2, "fever_masked": True}, (3, 2, 4, 3, 3, 2, 2, 2)),
    23: (V4 | {"temperature_c": 37.2, "fever_masked": False}, (0, 2, 2, 2, 2, 1, 2, 2)),
    24: ({"temperature_c": 37.0, "fever_masked": True}, (1, 1, 1, 0, 1, 1, 0, 0)),
    25: (
        {"organ_toxicity_max_grade": 4, "creatinine_grade": 4, "hospitalized_for_organ_dysfunction": True},
        (1, 4, 3, 1, 3, 1, 4, 4),
    ),
    26: ({"transaminitis_grade": 4, "hospitalized_for_organ_dysfunction": True}, (1, 3, 3, 1, 3, 1, 3, 3)),
    27: ({"transaminitis_grade": 3}, (1, 3, 1, 1, 2, 1, 3, 3)),
    28: (
        {"coagulopathy_requiring_products": True, "organ_toxicity_max_grade": 2, "iv_therapy_required": True},
        (1, 2, 2, 1, 3, 1, 2, 2),
    ),
    29: (
        {"o2_device": "nasal_cannula", "o2_flow_l_min": 4, "hypoxia_attributable_other_cause": True},
        (1, 1, 1, 1, 1, 1, 1, 1),
    ),
    30: (V30, (2, 2, 2, 2, 2, 1, 2, 2)),
    31: (V30 | {"sbp_mmhg": 84}, (1, 1, 1, 1, 2, 1, 1, 1)),
    32: (V32, (3, 2, 4, 3, 3, 2, 2, 2)),
    33: (V32 | {"vasopressors": [vaso("norepinephrine", 0.3, "mcg_per_kg_per_min", 4)]}, (3, 3, 4, 3, 4, 2, 3, 3)),
    34: (V6 | {"vasopressors": [vaso("dopamine", 12, "mcg_per_kg_per_min", 4)]}, (3, 3, 4, 3, 4, 2, 3, 3)),
    35: (
        V6 | {"weight_kg": None, "vasopressors": [vaso("norepinephrine", 0.05, "mcg_per_kg_per_min", 4)]},
        (3, ("ind", 2), 4, 3, ("ind", 3), 2, ("ind", 2), ("ind", 2)),
    ),
    36: ({"death_from_crs": True}, (5, 5, 5, 5, 5, 5, 5, 5)),
    37: (V6 | {"crs_attributed": False}, (0, 0, 0, 0, 0, 0, 0, 0)),
}

CTCAE_V6_DIFFERS = {15: 2, 18: 3}


def record(number: int) -> dict[str, Any]:
    changes, _ = VIGNETTES[number]
    return {k: v for k, v in (BASELINE | changes).items() if v is not None}


def expected(number: int) -> dict[str, Any]:
    _, grades = VIGNETTES[number]
    table = dict(zip(SYSTEM_ORDER, grades, strict=True))
    table["ctcae_v6"] = CTCAE_V6_DIFFERS.get(number, table["ctcae_v5"])
    return table
