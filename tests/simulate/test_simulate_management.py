"""Management changes the course (risk-and-epidemiology.md §5.4a, §5.6) and the latent grade is masked only by
therapy given after onset (crs-grading.md A2)."""

from __future__ import annotations

import numpy as np
import pytest

from crsguard.simulate.calibration import simulate_latent_cohort
from crsguard.simulate.latent import latent_grade

PRODUCT = "axicabtagene_ciloleucel"
N = 2500


def _share(policy: str, predicate: str) -> float:
    cohort = list(simulate_latent_cohort(PRODUCT, N, 30, 21, policy))
    if predicate == "grade3":
        return sum(p.course.crs_max >= 3 for p in cohort) / N
    durations = [e.resolve_h - e.onset_h for p in cohort for e in p.course.episodes]
    return float(np.median(durations))


def test_early_tocilizumab_lowers_severe_crs_and_withholding_raises_it() -> None:
    reference = _share("reference", "grade3")
    assert _share("early_tocilizumab", "grade3") < reference - 0.02
    assert _share("no_tocilizumab", "grade3") >= reference


def test_early_tocilizumab_shortens_and_withholding_lengthens_crs() -> None:
    reference = _share("reference", "duration")
    assert _share("early_tocilizumab", "duration") < reference
    assert _share("no_tocilizumab", "duration") > reference


def test_no_tocilizumab_policy_gives_none() -> None:
    cohort = simulate_latent_cohort(PRODUCT, 300, 30, 2, "no_tocilizumab")
    assert not any(p.course.received({"tocilizumab"}, {"crs"}) for p in cohort)


def test_premedication_never_masks_and_steroids_follow_grade() -> None:
    for patient in simulate_latent_cohort("teclistamab", 400, 30, 8):
        course = patient.course
        for episode in course.episodes:
            premeds = [a for a in course.administrations if a.reason == "premedication"]
            assert all(a.start_h < episode.onset_h or a.start_h >= episode.resolve_h for a in premeds)
        assert not any(a.agent == "methylprednisolone" for a in course.administrations) or course.crs_max >= 4


@pytest.mark.parametrize(
    ("rung", "hypotension", "hypoxia", "fever", "masked", "expected"),
    [
        (1, 0, 0, True, False, 1),  # fever only
        (2, 1, 0, True, False, 2),  # fever + hypotension without vasopressor
        (3, 2, 1, True, False, 3),  # one vasopressor and low-flow oxygen: the worse wins (§3.1 rule 4)
        (4, 0, 3, True, False, 4),  # positive pressure
        (3, 2, 0, False, True, 3),  # afebrile after tocilizumab: grade follows hypotension (rule 3)
        (1, 0, 0, False, True, 0),  # masked, no findings, no symptoms field from data (A3)
        (2, 1, 0, False, False, 0),  # no fever, no masking: criteria not met (rule 1)
        (0, 0, 0, True, False, 0),  # no CRS episode
    ],
)
def test_latent_grade_rules(
    rung: int, hypotension: int, hypoxia: int, fever: bool, masked: bool, expected: int
) -> None:
    grade = latent_grade(
        np.array([rung], dtype=np.int8),
        np.array([hypotension], dtype=np.int8),
        np.array([hypoxia], dtype=np.int8),
        np.array([fever]),
        np.array([masked]),
    )
    assert int(grade[0]) == expected
