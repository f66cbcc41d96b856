"""Hypothesis strategies for CRS snapshots, and the ways to make one clinically worse."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from crsguard.model.snapshot import DoseUnit, O2Device, VasopressorDrug

POSITIVE_FLAGS = (
    "crs_symptoms_present",
    "fever_masked",
    "hypotension_persistent_on_vasopressors",
    "coagulopathy_requiring_products",
    "hospitalized_for_crs",
    "iv_therapy_required",
    "hospitalized_for_organ_dysfunction",
    "symptomatic_treatment_required",
    "prolonged_or_recurrent",
    "life_threatening",
)
CAUSE_FLAGS = (
    "fever_attributable_other_cause",
    "hypotension_attributable_other_cause",
    "hypoxia_attributable_other_cause",
)

tenth = st.integers(min_value=0, max_value=10).map(lambda i: i / 10)


@st.composite
def vasopressor(draw: st.DrawFn) -> dict[str, Any]:
    drug = draw(st.sampled_from(list(VasopressorDrug)))
    if drug is VasopressorDrug.vasopressin:
        unit, dose = DoseUnit.units_per_min, draw(st.sampled_from([0.01, 0.03, 0.04]))
    elif draw(st.booleans()):
        unit, dose = DoseUnit.mcg_per_min, float(draw(st.integers(1, 300)))
    else:
        unit, dose = DoseUnit.mcg_per_kg_per_min, draw(st.integers(1, 300)) / 100
    hours = float(draw(st.sampled_from([0.5, 1, 2, 2.9, 3, 4, 12, 23.9, 24, 30, 72])))
    return {"drug": drug.value, "dose": dose, "dose_unit": unit.value, "hours_continuous": hours}


def mostly(draw: st.DrawFn, normal: Any, abnormal: st.SearchStrategy[Any]) -> Any:
    """The normal value three times in four, so that one finding alone often decides the grade."""
    return draw(abnormal) if draw(st.integers(0, 3)) == 0 else normal


@st.composite
def complete_snapshot(draw: st.DrawFn) -> dict[str, Any]:
    """A snapshot with every CRS input present (age/weight consistent; findings sparse; cause flags rare)."""
    age = float(draw(st.sampled_from([0.5, 3, 6, 10.5, 14, 17, 18, 25, 40, 60, 85])))
    organ = mostly(draw, 0, st.integers(0, 4))
    snapshot: dict[str, Any] = {
        "age_years": age,
        "weight_kg": float(draw(st.sampled_from([8, 20, 35, 50, 70, 90, 140]))),
        "crs_attributed": True,
        "temperature_c": round(36.0 + draw(st.integers(0, 50)) / 10, 1),
        "hypotension": mostly(draw, False, st.booleans()),
        "sbp_mmhg": float(draw(st.integers(50, 140))),
        "fluid_boluses_for_bp": mostly(draw, 0, st.integers(0, 4)),
        "hypotension_fluid_responsive": draw(st.booleans()),
        "vasopressors": mostly(draw, [], st.lists(vasopressor(), max_size=3)),
        "vasopressor_total_hours": float(draw(st.sampled_from([1, 12, 24, 48]))),
        "o2_device": mostly(draw, "none", st.sampled_from([d.value for d in O2Device])),
        "o2_flow_l_min": float(draw(st.sampled_from([1, 2, 4, 5, 6, 6.5, 7, 10, 40]))),
        "fio2": float(draw(st.sampled_from([25, 35, 39, 40, 50, 80]))),
        "organ_toxicity_max_grade": organ,
        "transaminitis_grade": mostly(draw, 0, st.integers(0, 4)),
        "creatinine_grade": draw(st.integers(0, organ)),
        "death_from_crs": False,
    }
    for flag in POSITIVE_FLAGS:
        snapshot[flag] = draw(st.integers(0, 5)) == 0
    for flag in CAUSE_FLAGS:
        snapshot[flag] = draw(st.integers(0, 9)) == 0
    return snapshot


@st.composite
def partial_snapshot(draw: st.DrawFn) -> dict[str, Any]:
    """A complete snapshot with a random subset of its inputs left out (missing)."""
    full = draw(complete_snapshot())
    dropped = draw(st.sets(st.sampled_from(sorted(full)), max_size=len(full)))
    return {k: v for k, v in full.items() if k not in dropped}


def worsen(snapshot: dict[str, Any], how: int, draw: st.DrawFn) -> dict[str, Any]:
    """One clinically worse version of `snapshot` (higher temperature, lower SBP, more support, ...)."""
    worse = dict(snapshot)
    kind = how % 9
    if kind == 0:
        worse["temperature_c"] = min(45.0, worse.get("temperature_c", 36.0) + draw(st.sampled_from([0.1, 0.5, 2])))
    elif kind == 1:
        worse["sbp_mmhg"] = max(30.0, worse.get("sbp_mmhg", 120.0) - draw(st.sampled_from([1, 5, 20])))
    elif kind == 2:
        worse[draw(st.sampled_from(POSITIVE_FLAGS))] = True
    elif kind == 3:
        worse["vasopressors"] = [*worse.get("vasopressors", []), draw(vasopressor())][:10]
    elif kind == 4 and worse.get("vasopressors"):
        items = list(worse["vasopressors"])
        i = draw(st.integers(0, len(items) - 1))
        items[i] = items[i] | {
            "dose": items[i]["dose"] * 2,
            "hours_continuous": min(720.0, items[i]["hours_continuous"] * 2),
        }
        worse["vasopressors"] = items
    elif kind == 5:  # more of what was recorded (an absent high-flow rate is already read as high flow, D6)
        if "o2_flow_l_min" in worse:
            worse["o2_flow_l_min"] = min(80.0, worse["o2_flow_l_min"] + draw(st.sampled_from([0.5, 1, 3])))
        if "fio2" in worse:
            worse["fio2"] = min(100.0, worse["fio2"] + 5)
    elif kind == 6:
        if worse.get("o2_device", "none") == "none":
            worse["o2_device"] = draw(st.sampled_from([d.value for d in O2Device if d is not O2Device.none]))
        else:
            worse["o2_device"] = O2Device.mechanical_ventilation.value
    elif kind == 7:
        organ = min(4, worse.get("organ_toxicity_max_grade", 0) + 1)
        worse["organ_toxicity_max_grade"] = organ
        worse["transaminitis_grade"] = min(4, worse.get("transaminitis_grade", 0) + 1)
    else:
        worse["fluid_boluses_for_bp"] = min(20, worse.get("fluid_boluses_for_bp", 0) + 1)
        worse["hypotension"] = True
    return worse
