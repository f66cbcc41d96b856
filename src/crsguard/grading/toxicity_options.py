"""Named options of the non-CRS systems (other-toxicities.md §9), in the form of `crsguard.grading.options`.

They join the option registry from `crsguard.grading.registry`, so `--option` and `systems options` list them.
"""

from __future__ import annotations

from crsguard.grading.options import OptionSpec

OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "icaht_window",
        ("auto", "early", "late"),
        "auto",
        ("icaht2023", "ticaht2025"),
        "other-toxicities.md §5, §7.8",
        "Which ICAHT window to grade: auto = late when the assessment is after day +30 (or, without a day number, "
        "when the ANC series reaches past day +30), else early.",
    ),
    OptionSpec(
        "icaht_early_duration",
        ("cumulative", "longest_episode"),
        "cumulative",
        ("icaht2023",),
        "other-toxicities.md §5.3 rule 4, A-19",
        "Early ICAHT duration: cumulative neutropenic days (non-stable recoveries counted) or the longest single "
        "merged episode.",
    ),
)
