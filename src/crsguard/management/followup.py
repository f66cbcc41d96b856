"""Proximity and driving dates after CAR-T (management.md §7.4, A15, A27).

US labels revised June 2025: stay near the treating facility and refrain from driving for at least 14 days.
EU product information as carried by the specification (and pre-June-2025 US labels): 28 days proximity,
56 days
driving [R]. Dates run to the end of the calendar day (infusion date + days); the no-driving date is extended
until clinician clearance after any ICANS or other neurological event. With no jurisdiction configured, both
rule sets are shown side by side.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from crsguard.management.vocabulary import Jurisdiction

RULE_SETS: dict[Jurisdiction, tuple[int, int, str, str]] = {
    Jurisdiction.US: (14, 14, "US labels revised June 2025", "S2"),
    Jurisdiction.EU: (28, 56, "EU product information (and US labels before June 2025)", "R"),
}


class FollowUpDates(BaseModel):
    """One rule set's dates, worded as advice for the treating team to confirm (§11.1)."""

    model_config = ConfigDict(frozen=True)

    jurisdiction: Jurisdiction
    rule_set: str
    proximity_until: date
    no_driving_until: date
    driving_extended_until_clearance: bool
    text: str
    source: str = "management.md §7.4"
    evidence: str


def follow_up_dates(
    infusion_date: date, jurisdiction: Jurisdiction | None, neurological_event: bool
) -> list[FollowUpDates]:
    """Proximity and no-driving dates for the configured jurisdiction, or for both when none is configured."""
    chosen = [jurisdiction] if jurisdiction is not None else list(RULE_SETS)
    results = []
    for item in chosen:
        proximity_days, driving_days, rule_set, evidence = RULE_SETS[item]
        proximity_until = infusion_date + timedelta(days=proximity_days)
        no_driving_until = infusion_date + timedelta(days=driving_days)
        text = (
            f"Suggested for the treating team to confirm ({rule_set}): stay within proximity of the treating "
            f"facility until the end of {proximity_until.isoformat()}; "
            "no driving or hazardous activities until "
            f"the end of {no_driving_until.isoformat()}"
        )
        if neurological_event:
            text += " and until clinician clearance, because ICANS or another neurological event occurred"
        if jurisdiction is None:
            text += "; no jurisdiction configured: the applicable rule set depends on jurisdiction"
            text += " and label version"
        results.append(
            FollowUpDates(
                jurisdiction=item,
                rule_set=rule_set,
                proximity_until=proximity_until,
                no_driving_until=no_driving_until,
                driving_extended_until_clearance=neurological_event,
                text=text,
                evidence=evidence,
            )
        )
    return results
