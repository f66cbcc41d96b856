"""ICAHT day counting from an ANC series (other-toxicities.md §5.3), in plain Python, once per snapshot.

The result is a handful of numbers (days at or below each threshold, counts of late values per band) that become
columns of the grading frame; the `icaht2023` criteria then read those columns like any other input. A cohort
graded as a frame supplies the same columns directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

#: §5.1: early window, days 0 to +30 inclusive; thresholds inclusive (≤), 10⁹/L [S].
EARLY_LAST_DAY = 30
EARLY_THRESHOLDS = (0.5, 0.1)
#: §5.3 rule 5: the first fall to ≤ 0.5 must be within day 0-3 for "never above" grade 4 [L].
NEVER_ABOVE_FIRST_FALL_BY_DAY = 3
#: §5.3 rule 2: gaps of at most this many missing days are interpolated [L].
MAX_INTERPOLATED_GAP_DAYS = 7
#: §5.3 rule 3: a recovery is stable after this many consecutive days above the threshold [L].
STABLE_RECOVERY_DAYS = 3
#: §5.2 late bands (grade 1-4) and §5.3 rule 9 / A-22 default window end (day +100) [S/L].
LATE_FIRST_DAY = 31
LATE_LAST_DAY = 100
LATE_THRESHOLDS = (1.5, 1.0, 0.5, 0.1)


def threshold_name(threshold: float) -> str:
    """0.5 → "0_5" (for column names)."""
    return f"{threshold:.1f}".replace(".", "_")


@dataclass(frozen=True)
class IcahtCounts:
    """What the ICAHT criteria need from one ANC series."""

    early_days: dict[float, int]
    early_longest: dict[float, int]
    #: None while the early window is still open and the rule holds so far (the patient may yet recover).
    early_never_above_0_5: bool | None
    late_counts: dict[float, int]
    late_values: int
    data_gap: bool
    censored: bool


def daily_lowest(points: Iterable[tuple[int, float]]) -> dict[int, float]:
    """Rule 1: one value per calendar day, the lowest."""
    days: dict[int, float] = {}
    for day, value in points:
        days[day] = min(value, days.get(day, value))
    return days


def interpolate(days: dict[int, float], first: int, last: int) -> tuple[list[float | None], bool]:
    """Rule 2: the series day `first`..`last`, linear interpolation over gaps ≤ 7 days; True if a gap stays."""
    series: list[float | None] = [days.get(d) for d in range(first, last + 1)]
    measured = sorted(d for d in days if first <= d <= last)
    gap = False
    for a, b in pairwise(measured):
        if b - a - 1 > MAX_INTERPOLATED_GAP_DAYS:
            gap = True
            continue
        for d in range(a + 1, b):
            series[d - first] = days[a] + (days[b] - days[a]) * (d - a) / (b - a)
    if not measured or measured[0] > first or measured[-1] < last:
        gap = True
    return series, gap


def neutropenic_days(series: list[float | None], threshold: float) -> list[bool]:
    """Rules 3-4: days ≤ threshold, plus non-stable (1-2 day) recoveries between them; missing days never count."""
    low = [v is not None and v <= threshold for v in series]
    merged = list(low)
    i = 0
    while i < len(series):
        if low[i] or series[i] is None:
            i += 1
            continue
        j = i
        while j < len(series) and not low[j] and series[j] is not None:
            j += 1
        bounded = i > 0 and low[i - 1] and j < len(series) and low[j]
        if bounded and j - i < STABLE_RECOVERY_DAYS:
            merged[i:j] = [True] * (j - i)
        i = j
    return merged


def _longest_run(flags: list[bool]) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def _never_above(series: list[float | None], threshold: float) -> bool:
    """Rule 5 / A-23: first fall by day +3 and no stable recovery through the end of the observed window."""
    low = [v is not None and v <= threshold for v in series]
    if True not in low or low.index(True) > NEVER_ABOVE_FIRST_FALL_BY_DAY:
        return False
    above = 0
    for value in series[low.index(True) :]:
        if value is None:
            continue
        above = above + 1 if value > threshold else 0
        if above >= STABLE_RECOVERY_DAYS:
            return False
    return True


def count(
    points: Iterable[tuple[int, float]], censor_day: int | None, late_end_day: int | None
) -> IcahtCounts:
    """Early and late ICAHT counts (§5.3 rules 1-6, 9). `censor_day`: progression, next therapy or death;
    `late_end_day`: last follow-up. Days from the censoring day on are not counted [L]. The never-above rule (rule 5,
    A-23) is decided once day +30, a censoring event or the end of follow-up is reached; before that it is unknown."""
    days = daily_lowest(points)
    early_last = EARLY_LAST_DAY if censor_day is None else min(EARLY_LAST_DAY, censor_day - 1)
    observed_last = max((d for d in days if d <= early_last), default=-1)
    series, gap = interpolate(days, 0, max(observed_last, 0))
    early_days = {}
    early_longest = {}
    for threshold in EARLY_THRESHOLDS:
        flags = neutropenic_days(series, threshold)
        early_days[threshold] = sum(flags)
        early_longest[threshold] = _longest_run(flags)
    late_last = min(x for x in (LATE_LAST_DAY, censor_day and censor_day - 1, late_end_day) if x is not None)
    late = [v for d, v in days.items() if LATE_FIRST_DAY <= d <= late_last]
    never_above: bool | None = observed_last >= 0 and _never_above(series, EARLY_THRESHOLDS[0])
    followup_ended = late_end_day is not None and late_end_day < EARLY_LAST_DAY
    closed = observed_last >= EARLY_LAST_DAY or early_last < EARLY_LAST_DAY or followup_ended
    if never_above and not closed:
        never_above = None
    return IcahtCounts(
        early_days=early_days,
        early_longest=early_longest,
        early_never_above_0_5=never_above,
        late_counts={t: sum(v <= t for v in late) for t in LATE_THRESHOLDS},
        late_values=len(late),
        data_gap=gap or observed_last < early_last,
        censored=censor_day is not None and censor_day <= EARLY_LAST_DAY,
    )
