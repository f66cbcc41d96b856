"""Invariants of the latent course for any seed (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crsguard.simulate.calibration import patient_rng, policy_probabilities
from crsguard.simulate.course import policy
from crsguard.simulate.latent import FEVER_C, latent_hourly
from crsguard.simulate.parameters import product_models
from crsguard.simulate.patient import simulate_patient

HOURS = 20 * 24


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(sorted(product_models())),
    st.integers(min_value=0, max_value=2**31),
    st.sampled_from(["reference", "early_tocilizumab", "no_tocilizumab"]),
)
def test_latent_grade_follows_its_components(product: str, seed: int, policy_name: str) -> None:
    rng = patient_rng(seed, 0)
    sim = simulate_patient(0, product_models()[product], policy(policy_name), policy_probabilities(product), HOURS, rng)
    latent = latent_hourly(rng, sim.course, HOURS, 10)
    grade = latent.crs_grade.astype(int)
    alive = np.arange(HOURS) != (sim.course.death_h if sim.course.death_h is not None else -1)
    assert ((grade > 0) <= (latent.rung > 0))[alive].all()
    assert (latent.fever == (latent.temperature_c >= FEVER_C)).all()
    components = np.maximum(latent.hypotension, latent.hypoxia)
    assert (grade[alive] <= np.maximum(components[alive] + 1, 1)).all()
    assert (grade[alive & (components > 0) & (latent.fever | latent.masked)] >= 2).all()
    assert ((latent.hypotension <= np.maximum(latent.rung - 1, 0)) & (latent.hypoxia <= 3)).all()
    # premedication never masks: every masked hour lies inside an episode
    inside = np.zeros(HOURS, dtype=bool)
    for episode in sim.course.episodes:
        inside[episode.onset_h : episode.resolve_h] = True
    assert (latent.masked <= inside).all()
    if policy_name == "no_tocilizumab":
        assert not sim.course.received({"tocilizumab"}, {"crs"})
