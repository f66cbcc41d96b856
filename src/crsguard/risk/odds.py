"""Applying the EASIX odds ratio per doubling (Korell 2022) to a difference in log2EASIX (risk §1.2).

Used by the simulator's risk linkage (risk §5.3) and to reproduce the spec's derived example [D]. The OR is
for the composite grade >= 3 CRS and/or ICANS; applying it to CRS alone is an assumption (risk §6 item 11).
"""

from __future__ import annotations

import math

from crsguard.risk.definitions import score_catalogue


def easix_odds_ratio_per_doubling() -> float:
    ratio = score_catalogue().score("easix").odds_ratio_per_doubling
    if ratio is None:
        raise ValueError("scores.yaml: easix has no odds_ratio_per_doubling")
    return ratio


def relative_odds(log2_from: float, log2_to: float, odds_ratio_per_doubling: float | None = None) -> float:
    """Odds at ``log2_to`` relative to ``log2_from``: OR ** (log2_to - log2_from)."""
    ratio = odds_ratio_per_doubling or easix_odds_ratio_per_doubling()
    return float(ratio ** (log2_to - log2_from))


def shifted_probability(probability: float, log2_delta: float, odds_ratio_per_doubling: float | None = None) -> float:
    """logit^-1(logit(p) + ln(OR) × delta log2EASIX): a calibrated probability moved along the EASIX axis."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be strictly between 0 and 1, got {probability}")
    ratio = odds_ratio_per_doubling or easix_odds_ratio_per_doubling()
    logit = math.log(probability / (1.0 - probability)) + math.log(ratio) * log2_delta
    return 1.0 / (1.0 + math.exp(-logit))
