"""The worked vignettes of other-toxicities.md §8 (V1-V33) as data: inputs and the expected grade per system.

§8: "Unless stated: adult, no sedatives, no other cause for findings, normal baseline neurology (ICE 10), lab
baselines normal." `NEURO_BASELINE` states that explicitly (every neurological finding recorded as absent), so the
neurological results are complete (status ok, not a lower bound). Expected grades are the spec's, copied from §8.
"""

from __future__ import annotations

from typing import Any

ICANS, CRES = "astct2019_icans", "cartox10"
ICAHT, IECHS = "icaht2023", "iechs2023"


def ctcae(term: str) -> str:
    return f"ctcae_v5_{term}"


#: ICE items of a normal adult (ICE 10) and the CARTOX-10 head-of-state item (CARTOX 10).
ICE_NORMAL = {"ice_orientation": 4, "ice_naming": 3, "ice_commands": 1, "ice_writing": 1, "ice_attention": 1,
              "cartox_orient_head_of_state": 1}

NEURO_BASELINE: dict[str, Any] = {
    "age_years": 58,
    **ICE_NORMAL,
    "loc": "alert",
    "clinical_seizure": False,
    "clinical_seizure_resolved_rapidly": False,
    "eeg_nonconvulsive_seizure": False,
    "eeg_seizure_resolved_with_intervention": False,
    "eeg_seizure_responded_to_benzodiazepine": False,
    "seizures_repetitive_no_return_to_baseline": False,
    "status_epilepticus": "none",
    "seizure_history_prior": False,
    "deep_focal_motor_weakness": "none",
    "new_motor_weakness": False,
    "imaging_oedema": "none",
    "intracranial_haemorrhage": False,
    "posturing": "none",
    "cn6_palsy": False,
    "papilloedema": False,
    "cushing_triad": False,
}


def ice(orientation: int, naming: int, commands: int, writing: int, attention: int) -> dict[str, int]:
    return {"ice_orientation": orientation, "ice_naming": naming, "ice_commands": commands, "ice_writing": writing,
            "ice_attention": attention}


def ice_total_only(total: int) -> dict[str, Any]:
    """ICE given as a total (no items): the item fields of the baseline are removed."""
    return {**dict.fromkeys(ICE_NORMAL), "ice_total": total}


CAPD_ANSWERS = ("never", "rarely", "sometimes", "often", "always")


def capd(*answers: str) -> dict[str, str]:
    return {f"capd_item{i}": a for i, a in enumerate(answers, start=1)}


def child(age: float) -> dict[str, Any]:
    """A child assessed with the CAPD (no ICE)."""
    return {**dict.fromkeys(ICE_NORMAL), "age_years": age}


def anc_series(lows: list[tuple[int, int, float]], last_day: int = 30, normal: float = 1.5) -> list[dict[str, Any]]:
    """One ANC per day 0..last_day: `normal`, except (first, last, value) runs (later runs override)."""
    values = dict.fromkeys(range(last_day + 1), normal)
    for first, last, value in lows:
        values.update(dict.fromkeys(range(first, last + 1), value))
    return [{"study_day": d, "value": v} for d, v in values.items()]


def entry(term: str, **fields: Any) -> dict[str, Any]:
    return {"ctcae_term": term, **fields}


V10 = {**ice(2, 2, 1, 0, 1), "deep_focal_motor_weakness": "hemiparesis", "new_motor_weakness": True,
       "ctcae_term_assessments": [entry("muscle_weakness_left_sided", adl_limitation="instrumental")]}
V23 = {
    "age_years": 62,
    "crs_status": "resolved",
    "ferritin": 28000, "ferritin_uln": 300, "ferritin_at_infusion": 900,
    "fibrinogen": 120, "fibrinogen_lln": 200, "fibrinogen_baseline": 350,
    "alt": 260, "alt_uln": 40, "alt_baseline": 25,
    "platelets": 35, "platelets_lln": 150, "new_or_worsening_cytopenia": True,
    "ldh": 900, "ldh_uln": 250,
    "triglycerides_fasting": 310,
    "iec_hs_directed_therapy": ["corticosteroid", "anakinra"],
    "fibrinogen_replacement_given": True,
    "iec_hs_hospitalisation": "none",
    "vasopressor_for_iec_hs": False, "ppv_or_mechanical_ventilation_for_iec_hs": False, "rrt_for_iec_hs": False,
    "clinically_significant_bleeding": False,
    "iec_hs_clinician_confirmed": True,
}

#: number -> (inputs, {system: expected grade}); neurological vignettes start from NEURO_BASELINE.
NEURO: dict[str, tuple[dict[str, Any], dict[str, int]]] = {
    "V1": ({**ice(4, 1, 1, 0, 1), "loc": "awakens_spontaneously",
            "ctcae_term_assessments": [entry("dysphasia", symptom_severity="mild")]},
           {ICANS: 1, CRES: 1, ctcae("dysphasia"): 1}),
    "V2": ({**ice(2, 2, 1, 0, 0), "cartox_orient_head_of_state": 0, "loc": "awakens_to_voice"},
           {ICANS: 2, CRES: 2}),
    "V3": ({**ice_total_only(3), "clinical_seizure": True, "seizure_type": "generalised",
            "seizure_duration_max_min": 2, "clinical_seizure_resolved_rapidly": True},
           {ICANS: 3, CRES: 4, ctcae("seizure"): 3}),
    "V4": ({**ice(0, 0, 0, 0, 0), "cartox_orient_head_of_state": 0, "awake_global_aphasia": True,
            "loc": "awakens_spontaneously"},
           {ICANS: 3, CRES: 3}),
    "V5": ({**dict.fromkeys(ICE_NORMAL), "ice_status": "not_assessable_unarousable", "loc": "unarousable",
            "sedating_drug_active": False},
           {ICANS: 4, CRES: 4, ctcae("depressed_level_of_consciousness"): 4}),
    "V6": ({**dict.fromkeys(ICE_NORMAL), "ice_status": "not_assessable_sedation", "loc": "unarousable",
            "loc_other_cause": True, "sedating_drug_active": True, "clinical_seizure": True,
            "status_epilepticus": "convulsive", "seizure_type": "generalised", "seizure_duration_max_min": 12},
           {ICANS: 4, CRES: 4, ctcae("seizure"): 4}),
    "V7": ({**dict.fromkeys(ICE_NORMAL), "ice_status": "not_assessable_sedation", "loc": "unarousable",
            "loc_other_cause": True, "sedating_drug_active": True, "ice_baseline_total": 10},
           {ICANS: 0}),
    "V8": ({**ice(4, 3, 1, 1, 0), "imaging_oedema": "focal"}, {ICANS: 3, CRES: 4}),
    "V9": ({**ice_total_only(7), "papilloedema": True, "papilloedema_frisen_stage": 2}, {ICANS: 4, CRES: 3}),
    "V10": (V10, {ICANS: 4, CRES: 4, ctcae("muscle_weakness_left_sided"): 2}),
    "V10b": (V10 | {"deep_focal_motor_weakness_other_cause": True, "intracranial_haemorrhage": True},
             {ICANS: 2}),
    "V11": ({**child(6), **capd("rarely", "sometimes", "sometimes", "rarely", "never", "never", "often", "often"),
             "loc": "awakens_spontaneously"}, {ICANS: 3}),
    "V12": ({**child(8), **capd("often", "often", "often", "sometimes", "rarely", "never", "never", "never"),
             "loc": "awakens_to_voice"}, {ICANS: 2}),
    "V13": ({**child(3), **capd("always", "always", "always", "always", "never", "never", "never", "never")},
            {ICANS: 0}),
    "V14": ({**child(10), "capd_status": "not_assessable_unarousable", "loc": "vigorous_or_repetitive_tactile"},
            {ICANS: 4}),
    "V15": ({"age_years": 12.25, "ice_baseline_total": 10, **ice(4, 2, 1, 1, 0)}, {ICANS: 1}),
    "V31": ({**ice(4, 3, 0, 1, 1), "cartox_orient_head_of_state": 1}, {ICANS: 1, CRES: 0}),
    "V32": ({**ice(4, 3, 1, 0, 0), "csf_opening_pressure_mmHg": 22}, {ICANS: 1, CRES: 4}),
    "V33": ({"ctcae_term_assessments": [entry("tremor", symptom_severity="moderate", adl_limitation="instrumental")],
             "tremor_severity": "moderate", "myoclonus_severity": "mild"},
            {ICANS: 0, CRES: 0, ctcae("tremor"): 2}),
}

#: ICAHT and laboratory vignettes (no neurological baseline).
OTHER: dict[str, tuple[dict[str, Any], dict[str, int]]] = {
    "V16": ({"study_day": 30, "anc_series": anc_series([(2, 10, 0.3), (4, 6, 0.04)]), "anc": 0.04, "anc_lln": 1.8},
            {ICAHT: 2, ctcae("neutrophil_count_decreased"): 4}),
    "V17": ({"study_day": 30, "anc_series": anc_series([(1, 12, 0.3), (3, 10, 0.05)])}, {ICAHT: 3}),
    "V18": ({"study_day": 30, "anc_series": anc_series([(0, 30, 0.2)])}, {ICAHT: 4}),
    "V19": ({"study_day": 30, "anc_series": anc_series([(1, 8, 0.3), (9, 14, 0.8), (15, 21, 0.3)])}, {ICAHT: 3}),
    "V20": ({"study_day": 30, "anc_series": anc_series([(1, 6, 0.3), (7, 8, 0.65), (9, 14, 0.3)])}, {ICAHT: 3}),
    "V21": ({"study_day": 52, "anc_series": [{"study_day": 45, "value": 0.8}, {"study_day": 52, "value": 0.9}],
             "anc": 0.9, "anc_lln": 1.8},
            {ICAHT: 2, ctcae("neutrophil_count_decreased"): 3}),
    "V21_day45": ({"anc": 0.8, "anc_lln": 1.8}, {ctcae("neutrophil_count_decreased"): 3}),
    "V22": ({"study_day": 60, "anc_series": [{"study_day": 38, "value": 0.45}, {"study_day": 60, "value": 2.1}]},
            {ICAHT: 3}),
    "V22_day38": ({"anc": 0.45, "anc_lln": 1.8}, {ctcae("neutrophil_count_decreased"): 4}),
    "V23": (V23, {IECHS: 2, ctcae("alanine_aminotransferase_increased"): 3, ctcae("fibrinogen_decreased"): 2,
                  ctcae("platelet_count_decreased"): 3, ctcae("hypertriglyceridemia"): 2,
                  ctcae("blood_lactate_dehydrogenase_increased"): 1}),
    "V24": (V23 | {"vasopressor_for_iec_hs": True, "ppv_or_mechanical_ventilation_for_iec_hs": True}, {IECHS: 4}),
    "V25": ({"alt": 300, "alt_uln": 40, "alt_baseline": 90}, {ctcae("alanine_aminotransferase_increased"): 2}),
    "V26": ({"bilirubin_total": 4.0, "bilirubin_total_uln": 1.2, "bilirubin_total_baseline": 0.8},
            {ctcae("blood_bilirubin_increased"): 3}),
    "V27": ({"creatinine": 2.6, "creatinine_uln": 1.2, "creatinine_baseline": 0.8,
             "ctcae_term_assessments": [entry("acute_kidney_injury", hospitalisation_indicated=True)]},
            {ctcae("creatinine_increased"): 3, ctcae("acute_kidney_injury"): 3}),
    "V28": ({"fibrinogen": 40, "fibrinogen_lln": 200, "fibrinogen_baseline": 300}, {ctcae("fibrinogen_decreased"): 4}),
    "V29": ({"temperature_c": 40.4, "temperature_above_40_duration_h": 30}, {ctcae("fever"): 4}),
    "V30": ({"inr": 1.9, "on_anticoagulation": False, "clinically_significant_bleeding": False},
            {ctcae("inr_increased"): 2}),
}


def neuro_record(name: str) -> dict[str, Any]:
    changes, _ = NEURO[name]
    return {k: v for k, v in (NEURO_BASELINE | changes).items() if v is not None}


def other_record(name: str) -> dict[str, Any]:
    return dict(OTHER[name][0])
