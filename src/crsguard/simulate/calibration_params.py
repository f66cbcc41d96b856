"""Per-product probabilities of the reference policy and risk linkage, fitted on a pilot cohort.

They are computed (never typed in) by :func:`crsguard.simulate.calibration.policy_probabilities` so that the
simulated use of tocilizumab and corticosteroids, the grade ≥ 3 share and the ICANS rate match the product's
published figures (risk-and-epidemiology.md §5.3 step 4, §5.8, §5.9).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyProbabilities:
    """Calibrated constants of one product (all [D] from the module files and a pilot cohort).

    Tocilizumab: ``tocilizumab_grade3`` for episodes reaching rung ≥ 3, ``tocilizumab_high`` for rung 2,
    ``tocilizumab_low`` for rung-1 episodes lasting > 24 h; filled in that order of severity, so that the
    sickest patients are treated first when the published use is below the share reaching grade 2.
    """

    q3_intercept: float
    log2_easix_median: float
    tocilizumab_grade3: float
    tocilizumab_high: float
    tocilizumab_low: float
    steroid_grade3: float
    steroid_grade2: float
    steroid_icans: float
    icans_intercept: float
    duration_scale: float = 1.0
