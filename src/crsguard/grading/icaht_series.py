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


def merge_non_stable(low: list[bool | None]) -> list[bool]:
    """Rules 3-4: low days plus non-stable (1-2 day) recoveries between them; missing days never count."""
    merged = [flag is True for flag in low]
    i = 0
    while i < len(low):
        if low[i] is not False:
            i += 1
            continue
        j = i
        while j < len(low) and low[j] is False:
            j += 1
        bounded = i > 0 and low[i - 1] is True and j < len(low) and low[j] is True
        if bounded and j - i < STABLE_RECOVERY_DAYS:
            merged[i:j] = [True] * (j - i)
        i = j
    return merged


def neutropenic_days(series: list[float | None], threshold: float) -> list[bool]:
    """Days ≤ threshold (inclusive, A-21), with non-stable recoveries counted (rules 3-4)."""
    return merge_non_stable([None if v is None else v <= threshold for v in series])


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


# ------------------------------------------------------------------------------- T-ICAHT (§5.4, optional module)
#: §5.4: strict thresholds (<), 10⁹/L [P]; early counts below 50 and 20, late bands below 100, 50 and 20.
PLATELET_EARLY_THRESHOLDS = (50.0, 20.0)
PLATELET_LATE_THRESHOLDS = (100.0, 50.0, 20.0)
#: §5.4: recovery from < 20 needs values ≥ 20 with no platelet transfusion in the preceding 7 days [P].
TRANSFUSION_LOOKBACK_DAYS = 7


@dataclass(frozen=True)
class TicahtCounts:
    """What the T-ICAHT criteria need from one platelet series."""

    early_days: dict[float, int]
    late_counts: dict[float, int]
    late_days_below_20: int
    late_values: int
    data_gap: bool
    censored: bool


def platelet_low_days(series: list[float | None], first_day: int, threshold: float,
                      transfusion_days: frozenset[int]) -> list[bool]:
    """Days below `threshold` (strict, A-21), with non-stable recoveries counted (§5.4). For 20 × 10⁹/L a value
    ≥ 20 within 7 days after a platelet transfusion is no recovery: it stays in the episode [P]."""
    masked = threshold == PLATELET_EARLY_THRESHOLDS[1]
    low: list[bool | None] = []
    in_episode = False
    for offset, value in enumerate(series):
        if value is None:
            low.append(None)
            continue
        day = first_day + offset
        transfused = any(day - TRANSFUSION_LOOKBACK_DAYS <= t < day for t in transfusion_days)
        in_episode = value < threshold or (masked and in_episode and transfused)
        low.append(in_episode)
    return merge_non_stable(low)


def count_platelets(points: Iterable[tuple[int, float]], transfusion_days: Iterable[int], censor_day: int | None,
                    late_end_day: int | None) -> TicahtCounts:
    """Early (day 0-30) and late (day 31-100) T-ICAHT counts, censored like ICAHT (§5.4, §5.3 rules 2, 6)."""
    days = daily_lowest(points)
    transfused = frozenset(transfusion_days)
    early_last = EARLY_LAST_DAY if censor_day is None else min(EARLY_LAST_DAY, censor_day - 1)
    observed_last = max((d for d in days if d <= early_last), default=-1)
    series, gap = interpolate(days, 0, max(observed_last, 0))
    early = {t: sum(platelet_low_days(series, 0, t, transfused)) for t in PLATELET_EARLY_THRESHOLDS}
    late_last = min(x for x in (LATE_LAST_DAY, censor_day and censor_day - 1, late_end_day) if x is not None)
    late_days = [d for d in days if LATE_FIRST_DAY <= d <= late_last]
    late_series, _ = interpolate(days, LATE_FIRST_DAY, max(late_days, default=LATE_FIRST_DAY))
    late_low = platelet_low_days(late_series, LATE_FIRST_DAY, PLATELET_EARLY_THRESHOLDS[1], transfused)
    return TicahtCounts(
        early_days=early,
        late_counts={t: sum(days[d] < t for d in late_days) for t in PLATELET_LATE_THRESHOLDS},
        late_days_below_20=sum(late_low) if late_days else 0,
        late_values=len(late_days),
        data_gap=gap or observed_last < early_last,
        censored=censor_day is not None and censor_day <= EARLY_LAST_DAY,
    )
