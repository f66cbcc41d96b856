"""Configuration of the timeline: assessment grid, look-back window, episode rule and local defaults.

Every default cites where it comes from; all are configurable because clinicians differ (ARCHITECTURE "Time").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from crsguard.model.errors import InputError

#: Grid names accepted besides a duration ("1h", "30m", "1d", ...).
GRID_EVERY_OBSERVATION = "observation"

_DURATION = re.compile(r"^(\d+)(m|h|d)$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class TimelineConfig:
    """How observations become snapshots and how grade series become episodes.

    * ``grid`` — evaluation times: a fixed step from t0 (default ``1h``; ``1d`` gives day 0, day 1, … from t0) or
      ``observation`` (every charted observation time at or after t0). Day 0 is the day of t0 (interop.md §0.3).
    * ``window_hours`` — look-back window feeding each snapshot: the 24 h ending at the evaluation time, worst value
      of each input (crs-grading.md §1.1 [L], interop.md §0.3, §1.5).
    * ``episode_gap_hours`` — an episode ends after this long at grade 0 (crs-grading.md A18 [L]: 24 h).
    * ``absent_device_means_room_air`` — no oxygen-device interval in the window is read as room air (local default:
      the flowsheet charts every device; off → `o2_device` missing).
    * ``absent_infusion_means_none`` — no vasopressor segment in the window means no vasopressor (local default:
      the MAR records every infusion; off → vasopressor inputs missing).
    * ``fever_masking`` — derive `fever_masked` from antipyretic / anti-cytokine / corticosteroid administrations
      started at or after the episode onset (interop.md §1.5, crs-grading.md §2.2, A2).
    * ``primary_system`` — the CRS system whose series defines the episodes used for fever masking (interop.md §1.5
      `crs_status`: default `astct2019`, the only system that reads `fever_masked`).
    """

    grid: str = "1h"
    window_hours: float = 24.0
    episode_gap_hours: float = 24.0
    absent_device_means_room_air: bool = True
    absent_infusion_means_none: bool = True
    fever_masking: bool = True
    primary_system: str = "astct2019"

    def validated(self) -> TimelineConfig:
        problems = []
        if self.grid != GRID_EVERY_OBSERVATION and _DURATION.match(self.grid) is None:
            problems.append(f"grid: {self.grid!r} is not allowed; use a duration such as 1h, 30m, 1d, or 'observation'")
        elif self.grid != GRID_EVERY_OBSERVATION and self.grid_step == timedelta(0):
            problems.append("grid: the step must be longer than zero")
        if not 0 < self.window_hours <= 24 * 30:
            problems.append(f"window_hours: {self.window_hours} must be > 0 and at most 720")
        if not 0 < self.episode_gap_hours <= 24 * 30:
            problems.append(f"episode_gap_hours: {self.episode_gap_hours} must be > 0 and at most 720")
        if problems:
            raise InputError(problems)
        return self

    @property
    def grid_step(self) -> timedelta:
        """The fixed grid step (zero for the observation grid)."""
        match = _DURATION.match(self.grid)
        if match is None:
            return timedelta(0)
        return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])

    @property
    def window(self) -> timedelta:
        return timedelta(hours=self.window_hours)

    @property
    def episode_gap(self) -> timedelta:
        return timedelta(hours=self.episode_gap_hours)
