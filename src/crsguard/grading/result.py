"""The result of grading one snapshot under one system (crs-grading.md §2.6, issue contract)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class GradeResult(BaseModel):
    """A grade that explains itself.

    `grade` is always the grade that is *certain* from the inputs given. When `lower_bound` is true, an absent input
    listed in `missing` could raise it; `status` is "indeterminate" when that holds even with the spec's defaults
    for defaulted inputs (a number such as weight or temperature is unknown), so `grade` is then the spec's
    `grade_lower_bound` (§2.6).
    """

    model_config = ConfigDict(frozen=True)

    system: str
    toxicity: str
    grade: int = Field(ge=0, le=5)
    #: The highest grade the criteria could reach if every absent input took its worst value.
    grade_upper: int = Field(ge=0, le=5)
    status: Literal["ok", "indeterminate", "unsupported"]
    lower_bound: bool
    drivers: list[str]
    missing: list[str]
    warnings: list[str]
    version_of_rules: str
    #: ICAHT window, `early` or `late` (other-toxicities.md §7.8); null for every other system.
    window: Literal["early", "late"] | None = None
    #: Neurotoxicity instrument, `ice`, `capd` or `cartox10` (other-toxicities.md §7.8, A-1); null otherwise.
    instrument: Literal["ice", "capd", "cartox10"] | None = None
