"""Hypothesis strategies for the non-CRS inputs (other-toxicities.md §7), and the ways to make one clinically worse."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from crsguard.model import toxicity as tox

NEURO_FLAGS = ("clinical_seizure", "eeg_nonconvulsive_seizure", "seizures_repetitive_no_return_to_baseline",
               "new_motor_weakness", "cn6_palsy", "papilloedema", "cushing_triad")
QUALIFIERS = ("clinical_seizure_resolved_rapidly", "eeg_seizure_resolved_with_intervention",
              "eeg_seizure_responded_to_benzodiazepine", "seizure_history_prior", "intracranial_haemorrhage",
              "awake_global_aphasia", "baseline_developmental_delay", "on_anticoagulation",
              "clinically_significant_bleeding", "rbc_transfusion_indicated", "sinus_rhythm",
              "new_or_worsening_cytopenia", "fibrinogen_replacement_given", "vasopressor_for_iec_hs",
              "ppv_or_mechanical_ventilation_for_iec_hs", "rrt_for_iec_hs", "iec_hs_clinician_confirmed",
              "ferritin_rapidly_rising", "icaht_late_non_transient", "ticaht_late_non_transient")
#: Lab value → (ULN/LLN field, reference value, low, high) in canonical units; higher is worse unless in LOWER.
RISING = {"alt": ("alt_uln", 40.0), "ast": ("ast_uln", 40.0), "bilirubin_total": ("bilirubin_total_uln", 1.2),
          "creatinine": ("creatinine_uln", 1.2), "aptt": ("aptt_uln", 35.0), "ldh": ("ldh_uln", 250.0),
          "ferritin": ("ferritin_uln", 300.0)}
FALLING = {"anc": ("anc_lln", 1.8), "platelets": ("platelets_lln", 150.0), "hemoglobin": ("hemoglobin_lln", 12.0),
           "wbc": ("wbc_lln", 4.0), "alc": ("alc_lln", 1.0), "fibrinogen": ("fibrinogen_lln", 200.0)}
BASELINES = {"alt": 40.0, "ast": 40.0, "bilirubin_total": 1.2, "creatinine": 1.2, "fibrinogen": 200.0}
LIMITS = {"alt": 30000.0, "ast": 30000.0, "bilirubin_total": 100.0, "creatinine": 40.0, "aptt": 250.0,
          "ldh": 50000.0, "ferritin": 500000.0, "inr": 20.0, "triglycerides_fasting": 10000.0,
          "hemoglobin": 1.0}
ORDERED = {"symptom_severity": tuple(tox.Severity), "adl_limitation": tuple(tox.AdlLimitation),
           "intervention_level": tuple(tox.InterventionLevel)}


@st.composite
def term_entry(draw: st.DrawFn, term: str) -> dict[str, Any]:
    return {
        "ctcae_term": term,
        **{f: draw(st.sampled_from(order)).value for f, order in ORDERED.items()},
        "life_threatening": draw(st.integers(0, 5)) == 0,
        "hospitalisation_indicated": draw(st.booleans()),
        "dialysis_indicated": draw(st.integers(0, 5)) == 0,
    }


@st.composite
def anc_points(draw: st.DrawFn) -> list[dict[str, Any]]:
    last = draw(st.sampled_from([30, 60]))
    values = draw(st.lists(st.sampled_from([0.05, 0.1, 0.3, 0.5, 0.51, 0.8, 1.0, 1.4, 2.0]), min_size=last + 1,
                           max_size=last + 1))
    return [{"study_day": d, "value": v} for d, v in enumerate(values)]


@st.composite
def platelet_points(draw: st.DrawFn) -> list[dict[str, Any]]:
    last = draw(st.sampled_from([30, 60]))
    values = draw(st.lists(st.sampled_from([5.0, 19.9, 20.0, 35.0, 50.0, 80.0, 120.0]), min_size=last + 1,
                           max_size=last + 1))
    return [{"study_day": d, "value": v} for d, v in enumerate(values)]


@st.composite
def complete_other(draw: st.DrawFn) -> dict[str, Any]:
    """A snapshot with every input of the non-CRS systems present."""
    age = float(draw(st.sampled_from([3, 8, 11.9, 12, 15, 40, 70])))
    snapshot: dict[str, Any] = {
        "age_years": age,
        "ice_baseline_total": 10,
        **{item: draw(st.integers(0, top)) for item, top in tox.ICE_ITEMS.items()},
        "cartox_orient_head_of_state": draw(st.integers(0, 1)),
        **{item: draw(st.sampled_from(list(tox.CapdResponse))).value for item in tox.CAPD_ITEMS},
        "loc": draw(st.sampled_from(list(tox.Loc))).value,
        "seizure_type": draw(st.sampled_from(list(tox.SeizureType))).value,
        "seizure_duration_max_min": float(draw(st.sampled_from([0.5, 2, 5, 6, 20]))),
        "status_epilepticus": draw(st.sampled_from(list(tox.StatusEpilepticus))).value,
        "deep_focal_motor_weakness": draw(st.sampled_from(list(tox.MotorWeakness))).value,
        "imaging_oedema": draw(st.sampled_from(list(tox.ImagingOedema))).value,
        "posturing": draw(st.sampled_from(list(tox.Posturing))).value,
        "papilloedema_frisen_stage": draw(st.integers(0, 5)),
        "csf_opening_pressure_mmHg": float(draw(st.sampled_from([10, 18, 19, 20, 25]))),
        "tremor_severity": draw(st.sampled_from(list(tox.Severity))).value,
        "myoclonus_severity": draw(st.sampled_from(list(tox.Severity))).value,
        **{flag: draw(st.booleans()) for flag in NEURO_FLAGS + QUALIFIERS},
        "ctcae_term_assessments": [draw(term_entry(t)) for t in tox.CTCAE_ASSESSED_TERMS],
        "inr": draw(st.sampled_from([1.0, 1.3, 2.0, 3.0])),
        "inr_baseline": 1.0,
        "triglycerides_fasting": float(draw(st.sampled_from([100, 150, 301, 600, 1200]))),
        "temperature_c": draw(st.sampled_from([36.5, 38.0, 39.0, 39.5, 40.5])),
        "temperature_above_40_duration_h": float(draw(st.sampled_from([1, 24, 30]))),
        "spo2_rest": float(draw(st.sampled_from([85, 92, 98]))),
        "spo2_exertion": float(draw(st.sampled_from([80, 90, 97]))),
        "pao2_mmHg": float(draw(st.sampled_from([50, 55, 80]))),
        "heart_rate": float(draw(st.sampled_from([80, 101, 140]))),
        "lvef_percent": float(draw(st.sampled_from([15, 35, 45, 60]))),
        "lvef_baseline_percent": 60.0,
        "ferritin_at_infusion": 500.0,
        "crs_status": draw(st.sampled_from(list(tox.CrsStatus))).value,
        "haemophagocytosis_tissue": draw(st.sampled_from(list(tox.HaemophagocytosisTissue))).value,
        "iec_hs_directed_therapy": [draw(st.sampled_from(list(tox.IecHsTherapy))).value],
        "iec_hs_hospitalisation": draw(st.sampled_from(list(tox.IecHsHospitalisation))).value,
        "anc_series": draw(anc_points()),
        "platelet_series": draw(platelet_points()),
        "study_day": draw(st.sampled_from([20, 30, 60])),
    }
    for lab, (ref_field, ref) in RISING.items():
        snapshot[ref_field] = ref
        snapshot[lab] = min(LIMITS[lab], round(ref * draw(st.sampled_from([0.5, 1.2, 2.0, 4.0, 8.0, 25.0])), 3))
    for lab, (ref_field, ref) in FALLING.items():
        snapshot[ref_field] = ref
        snapshot[lab] = round(ref * draw(st.sampled_from([0.05, 0.2, 0.4, 0.6, 0.9, 1.1])), 3)
    snapshot["hemoglobin"] = max(snapshot["hemoglobin"], 1.0)
    for lab, normal in BASELINES.items():
        snapshot[f"{lab}_baseline"] = round(normal * draw(st.sampled_from([0.5, 1.0, 2.0])), 3)
    return snapshot


def worsen_other(snapshot: dict[str, Any], how: int, draw: st.DrawFn) -> dict[str, Any]:
    """One clinically worse version of `snapshot` (lower ICE, deeper coma, new finding, worse lab, ...)."""
    worse = dict(snapshot)
    kind = how % 9
    if kind == 0:
        item = draw(st.sampled_from(list(tox.ICE_ITEMS)))
        if item in worse:
            worse[item] = max(0, worse[item] - 1)
    elif kind == 1 and "loc" in worse:
        order = list(tox.Loc)
        worse["loc"] = order[min(len(order) - 1, order.index(tox.Loc(worse["loc"])) + 1)].value
    elif kind == 2:
        worse[draw(st.sampled_from(NEURO_FLAGS))] = True
    elif kind == 3:
        lab = draw(st.sampled_from(sorted(RISING)))
        if lab in worse:
            worse[lab] = min(LIMITS[lab], round(worse[lab] * 1.5, 3))
    elif kind == 4:
        lab = draw(st.sampled_from(sorted(FALLING)))
        if lab in worse:
            worse[lab] = max(LIMITS.get(lab, 0.0), round(worse[lab] * 0.7, 3))
    elif kind == 5 and worse.get("ctcae_term_assessments"):
        items = list(worse["ctcae_term_assessments"])
        i = draw(st.integers(0, len(items) - 1))
        field = draw(st.sampled_from(sorted(ORDERED)))
        order = [v.value for v in ORDERED[field]]
        current = items[i].get(field, order[0])
        items[i] = items[i] | {field: order[min(len(order) - 1, order.index(current) + 1)]}
        worse["ctcae_term_assessments"] = items
    elif kind == 6 and worse.get("anc_series"):
        points = list(worse["anc_series"])
        first = draw(st.integers(0, len(points) - 1))
        for j in range(first, min(len(points), first + draw(st.integers(1, 8)))):
            points[j] = points[j] | {"value": round(points[j]["value"] * 0.5, 4)}
        worse["anc_series"] = points
    elif kind == 8 and worse.get("platelet_series"):
        points = list(worse["platelet_series"])
        first = draw(st.integers(0, len(points) - 1))
        for j in range(first, min(len(points), first + draw(st.integers(1, 8)))):
            points[j] = points[j] | {"value": round(points[j]["value"] * 0.5, 4)}
        worse["platelet_series"] = points
    elif kind == 7:
        worse[draw(st.sampled_from(("vasopressor_for_iec_hs", "fibrinogen_replacement_given",
                                    "new_or_worsening_cytopenia", "ferritin_rapidly_rising")))] = True
    return worse


@st.composite
def partial_other(draw: st.DrawFn) -> dict[str, Any]:
    full = draw(complete_other())
    keep = draw(st.sets(st.sampled_from(sorted(full)), max_size=len(full)))
    return {k: v for k, v in full.items() if k in keep}
