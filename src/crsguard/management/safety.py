"""Safety checks on top of the rules (management.md §3.3, §4.1.4, §4.2–§4.6, §4.10).

REFUSE = the engine does not present the suggestion (it cannot stop an order, §11.1); WARN = shown with the
warning; REMIND = a standing prompt, not tied to a dose. Every check cites its section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from crsguard.management.dosing import WEIGHT_MAX_KG, WEIGHT_MIN_KG, is_adult
from crsguard.management.facts import Facts
from crsguard.management.state import PatientState, WeightSource
from crsguard.management.vocabulary import CORTICOSTEROIDS, DEXAMETHASONE_EQUIVALENT_FACTOR, DosePurpose, Drug
from crsguard.model.toxicity import TherapyClass

WEIGHT_WARN_AFTER_DAYS = 7.0  # §2, §4.10, A23 [P]
WEIGHT_REFUSE_AFTER_DAYS = 30.0
WEIGHT_CHANGE_FRACTION = 0.10  # §4.10: differs > 10 % from the previous value
HEPATIC_ULN_MULTIPLE = 5.0  # §4.1.4 [P]
BSAB_CUMULATIVE_DAYS = 42.0  # §4.1.3 toci_42d
RECORD_WEIGHT = "Record a measured weight"


class Severity(StrEnum):
    """How a finding is shown (management.md §4.10)."""

    REFUSE = "refuse"
    WARN = "warn"
    REMIND = "remind"
    INFO = "info"


class SafetyFinding(BaseModel):
    """One refusal, warning, reminder or note, with the section it comes from."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    code: str
    message: str
    source: str
    drug: str | None = None
    rule_ids: list[str] = Field(default_factory=list)


@dataclass
class WeightAssessment:
    """The weight the engine may use for weight-based doses (management.md §2, §4.10)."""

    weight_kg: float | None
    refusal: str | None = None
    awaiting_confirmation: bool = False
    findings: list[SafetyFinding] = field(default_factory=list)


def _finding(severity: Severity, code: str, message: str, source: str, drug: str | None = None) -> SafetyFinding:
    return SafetyFinding(severity=severity, code=code, message=message, source=source, drug=drug)


def _weight_dated(state: PatientState) -> tuple[datetime, list[SafetyFinding]]:
    """The weight's time; an undated weight is dated at t0 with a warning (§2 `weight_kg` [P])."""
    if state.weight_time is not None:
        return state.weight_time, []
    note = "Weight date not recorded — confirm a measured weight (dated at t0 for the staleness check)"
    if state.weight_source is not WeightSource.PRE_INFUSION:
        note = "Weight date missing — confirm a measured weight (dated at t0 for the staleness check)"
    return state.infusion_datetime, [_finding(Severity.WARN, "weight_undated", note, "management.md §2")]


def assess_weight(state: PatientState, stale_policy: str, change_policy: str) -> WeightAssessment:
    """Missing, implausible, stale (> 7 / > 30 days), changed (> 10 %) or age-inconsistent weight (§4.10)."""
    weight = state.weight_kg
    if weight is None:
        message = f"Weight missing: weight-based doses refused. {RECORD_WEIGHT}."
        return WeightAssessment(None, message, findings=[_finding(Severity.REFUSE, "weight_missing", message, "§4.10")])
    if not WEIGHT_MIN_KG <= weight <= WEIGHT_MAX_KG:
        message = f"Weight {weight:g} kg is outside 0.5–350 kg and treated as missing. {RECORD_WEIGHT}."
        return WeightAssessment(
            None,
            message,
            findings=[_finding(Severity.REFUSE, "weight_implausible", message, "management.md §0.2")],
        )
    when, findings = _weight_dated(state)
    age_days = (state.evaluated_at - when).total_seconds() / 86400.0
    assessment = WeightAssessment(weight, findings=findings)
    if age_days > WEIGHT_REFUSE_AFTER_DAYS:
        message = f"Weight recorded {age_days:.0f} days ago (> 30 days). {RECORD_WEIGHT}."
        if stale_policy == "refuse":
            assessment.weight_kg, assessment.refusal = None, message
            assessment.findings.append(_finding(Severity.REFUSE, "weight_stale", message, "management.md §4.10, A23"))
            return assessment
        assessment.findings.append(_finding(Severity.WARN, "weight_stale", message, "management.md §4.10, A23"))
    elif age_days > WEIGHT_WARN_AFTER_DAYS:
        message = f"Weight recorded {age_days:.0f} days ago (> 7 days): confirm a measured weight"
        assessment.findings.append(_finding(Severity.WARN, "weight_old", message, "management.md §4.10"))
    previous = state.previous_weight_kg
    if previous is not None and abs(weight - previous) / previous > WEIGHT_CHANGE_FRACTION:
        change = abs(weight - previous) / previous * 100
        message = (
            f"Weight {weight:g} kg differs by {change:.0f} % from the previous {previous:g} kg: confirm "
            "measured weight "
            "and unit (possible pound/kilogram error)"
        )
        if change_policy == "confirm_first" and not state.weight_confirmed:
            assessment.awaiting_confirmation = True
            assessment.weight_kg = None
            message += "; weight-based doses are shown once the weight is confirmed"
        assessment.findings.append(_finding(Severity.WARN, "weight_changed", message, "management.md §4.10"))
    if state.age_years is not None and state.age_years >= 18 and weight < 30:
        assessment.findings.append(
            _finding(
                Severity.WARN,
                "weight_age_inconsistent",
                "Adult weighing < 30 kg: confirm weight and unit "
                "(possible pound/kilogram error); the 12 mg/kg "
                "tocilizumab band applies",
                "management.md §4.10",
            )
        )
    if state.age_years is not None and state.age_years < 12 and weight > 100:
        assessment.findings.append(
            _finding(
                Severity.WARN,
                "weight_age_inconsistent",
                "Child under 12 weighing > 100 kg: confirm weight and unit (possible pound/kilogram error)",
                "management.md §4.10",
            )
        )
    return assessment


# ------------------------------------------------------------------------------------------- tocilizumab


@dataclass
class TociCheck:
    """Result of the eligibility check of management.md §4.1.4 (every failing reason reported)."""

    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    next_eligible: datetime | None = None


def _fmt_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def tocilizumab_check(facts: Facts) -> TociCheck:
    """management.md §4.1.4 on the recorded doses plus the suggested one (window sides as §0.2)."""
    state, limits = facts.state, facts.settings.tocilizumab
    now = state.evaluated_at
    check = TociCheck()
    icans_grade = state.icans.grade if state.icans is not None else 0
    if state.crs.grade == 0 and icans_grade >= 1:
        check.refusals.append("Not recommended for ICANS without CRS (§5.3)")
    elif state.crs.grade == 0:
        check.refusals.append("No active CRS")
    times = facts.toci_times()
    in_24h = sorted((t for t in times if now - timedelta(hours=24) < t <= now), reverse=True)
    course = facts.toci_course_count()
    episode = facts.toci_episode_count()
    hard_stop = bool(check.refusals)
    if times and (now - times[-1]) < timedelta(hours=limits.min_interval_h):
        gap_h = (now - times[-1]).total_seconds() / 3600
        check.refusals.append(
            f"Minimum interval {limits.min_interval_h:g} h: "
            f"{gap_h:.1f} h since the last dose; next eligible at "
            f"{_fmt_time(times[-1] + timedelta(hours=limits.min_interval_h))}"
        )
    if len(in_24h) >= limits.max_per_24h:
        oldest = in_24h[limits.max_per_24h - 1]
        check.refusals.append(
            f"{len(in_24h)} doses already in the last 24 h (maximum "
            f"{limits.max_per_24h}); next eligible when the "
            f"dose of {_fmt_time(oldest)} is 24 h old"
        )
    if course is not None and course >= limits.max_per_course:
        hard_stop = True
        check.refusals.append(
            f"Course maximum ({limits.max_per_course}) reached; see CRS-R options (siltuximab, anakinra, "
            "corticosteroid escalation); an override needs attending and pharmacist attestation"
        )
    if course is None:
        hard_stop = True
        check.refusals.append("CRS onset unknown: the per-episode count cannot be checked (enter crs.onset)")
    if not hard_stop:
        check.next_eligible = _next_eligible(times, in_24h, facts)
    if not check.refusals:  # a refused dose is described at its next eligible time instead
        _count_warnings(check, len(in_24h), course, episode, facts)
    _clinical_warnings(check, episode, facts)
    if check.next_eligible is not None and check.next_eligible > now:
        _projected_warning(check, times, course, facts)
    return check


def _next_eligible(times: list[datetime], in_24h: list[datetime], facts: Facts) -> datetime | None:
    limits = facts.settings.tocilizumab
    candidates = [times[-1] + timedelta(hours=limits.min_interval_h)] if times else []
    if len(in_24h) >= limits.max_per_24h:
        candidates.append(in_24h[limits.max_per_24h - 1] + timedelta(hours=24))
    return max(candidates) if candidates else facts.state.evaluated_at


def _count_warnings(check: TociCheck, count_24h: int, course: int | None, episode: int | None, facts: Facts) -> None:
    state, limits = facts.state, facts.settings.tocilizumab
    if count_24h == limits.max_per_24h - 1:
        check.warnings.append(f"This would be dose {limits.max_per_24h} in 24 h (the maximum)")
    if course is not None and course == limits.max_per_course - 1:
        scope = "course" if limits.course_scope == "course" else "CRS episode"
        check.warnings.append(f"This would be dose {limits.max_per_course} and the final dose of the {scope}")
    bispecific = state.resolved_therapy_class is TherapyClass.tce
    if bispecific and limits.warn_episode_dose is not None and episode == limits.warn_episode_dose - 1:
        check.warnings.append(
            f"Bispecific: dose {limits.warn_episode_dose} in this "
            "CRS episode; limits not harmonised; check the "
            "product label (A12)"
        )
    if bispecific and limits.warn_42d_dose is not None:
        in_42d = facts.doses_in_window({Drug.TOCILIZUMAB}, BSAB_CUMULATIVE_DAYS * 24)
        if len(in_42d) >= limits.warn_42d_dose - 1:
            check.warnings.append(f"Bispecific: dose {len(in_42d) + 1} within 42 days (A12)")


def _clinical_warnings(check: TociCheck, episode: int | None, facts: Facts) -> None:
    state = facts.state
    labs = state.labs
    hepatic = [
        name
        for name, value, uln in (("ALT", labs.alt, labs.alt_uln), ("AST", labs.ast, labs.ast_uln))
        if value is not None and uln is not None and value > HEPATIC_ULN_MULTIPLE * uln
    ]
    if hepatic:
        check.warnings.append(
            f"{'/'.join(hepatic)} > 5 × ULN: hepatotoxicity risk; "
            "benefit usually outweighs risk in severe CRS; "
            "document (§4.1.4 [P])"
        )
    if state.flags.infection_suspected:
        check.warnings.append("Tocilizumab masks fever and CRP; ensure cultures and antimicrobials (§4.1.4)")
    if state.icans is not None and state.icans.grade >= 1 and (episode or 0) >= 1:
        check.warnings.append("Caution repeating tocilizumab with ICANS; consider corticosteroid (§5.3)")


def _projected_warning(check: TociCheck, times: list[datetime], course: int | None, facts: Facts) -> None:
    """What the dose would be at the next eligible time (Scenario 4, 5)."""
    moment = check.next_eligible
    assert moment is not None
    limits = facts.settings.tocilizumab
    window = [t for t in times if moment - timedelta(hours=24) < t <= moment]
    text = f"At {_fmt_time(moment)}: dose {len(window) + 1} in the rolling 24 h (maximum {limits.max_per_24h})"
    if course is not None:
        text += f", dose {course + 1} of {limits.max_per_course} in the {limits.course_scope}"
    check.warnings.append(text + "; only if still not improving")


# ------------------------------------------------------------------------------------------ other drugs


def dex_equivalent_mg(drug: Drug, dose_mg: float) -> float:
    """Dexamethasone-equivalent mg (management.md §4.8 [R]); display aid only."""
    return dose_mg * DEXAMETHASONE_EQUIVALENT_FACTOR.get(drug, 0.0)


def recorded_mg_24h(facts: Facts, drug: Drug) -> float:
    """Sum of a drug's recorded doses in the rolling 24 h (§0.2)."""
    return sum(dose.dose_mg for dose in facts.doses_in_window({drug}, 24.0))


def drug_warnings(drug: Drug, dose_mg: float, doses_per_24h: float, facts: Facts) -> list[str]:
    """Per-dose and rolling-24 h checks of §4.2–§4.5 and §3.1, against recorded doses plus the suggestion."""
    state = facts.state
    planned_24h = recorded_mg_24h(facts, drug) + dose_mg * doses_per_24h
    adult = is_adult(state.age_years)
    weight = state.weight_kg
    warnings: list[str] = []
    if drug is Drug.DEXAMETHASONE and adult and planned_24h > 80:
        warnings.append(f"Dexamethasone {planned_24h:g} mg per 24 h (> 80 mg) unless a high-dose plan exists (§4.2)")
    if drug is Drug.METHYLPREDNISOLONE and adult and planned_24h > 3000:
        warnings.append(f"Methylprednisolone {planned_24h:g} mg per 24 h (> 3000 mg) (§4.3)")
    if drug is Drug.ANAKINRA:
        warnings += _anakinra_warnings(planned_24h, dose_mg, facts)
    if drug is Drug.ACETAMINOPHEN:
        last = facts.doses_of({Drug.ACETAMINOPHEN})
        if last and state.evaluated_at - last[-1].start < timedelta(hours=6):
            warnings.append("Less than 6 h since the previous paracetamol dose (§3.1)")
        if planned_24h > 4000 or (weight is not None and (not adult or weight < 50) and planned_24h > 75 * weight):
            warnings.append("Paracetamol above the 24 h maximum (4000 mg; 75 mg/kg below 50 kg or in a child) (§3.1)")
    if drug is Drug.SILTUXIMAB and (facts.episode_doses({Drug.SILTUXIMAB}) or []):
        warnings.append("Siltuximab already given in this CRS episode: a repeat is a specialist decision (§4.5)")
    return warnings


def _anakinra_warnings(planned_24h: float, dose_mg: float, facts: Facts) -> list[str]:
    state = facts.state
    warnings = []
    if state.crcl_ml_min is not None and state.crcl_ml_min < 30:
        warnings.append("CrCl < 30 mL/min: anakinra is renally cleared; pharmacist to individualise (§4.4)")
    if state.labs.anc is not None and state.labs.anc < 0.5:
        warnings.append("Neutropenia (ANC < 0.5 × 10⁹/L): infection risk with anakinra (§4.4)")
    if state.flags.infection_suspected:
        warnings.append("Active infection suspected: caution with anakinra (§4.4)")
    if state.labs.platelets is not None and state.labs.platelets < 20:
        warnings.append("Platelets < 20 × 10⁹/L: SC injection may be unsuitable (§4.4)")
    weight = state.weight_kg
    if weight is not None and planned_24h > 10 * weight:
        warnings.append(f"Anakinra {planned_24h:g} mg per 24 h exceeds 10 mg/kg/day; pharmacist review (§4.4)")
    if not is_adult(state.age_years) and (dose_mg > 100 or planned_24h > 400):
        warnings.append("Child anakinra above 100 mg per dose or 400 mg per 24 h (§4.4)")
    return warnings


def corticosteroid_findings(
    facts: Facts, implied_dex_equiv_24h: float, steroid_suggested: bool, high_dose_mp_suggested: bool
) -> list[SafetyFinding]:
    """§3.3 duplicate and concurrent checks, and the antifungal reminder of §4.10 / §1.5."""
    findings: list[SafetyFinding] = []
    recent = [dose for dose in facts.doses_in_window(CORTICOSTEROIDS, 24.0) if dose.purpose is DosePurpose.TREATMENT]
    drugs = sorted({dose.drug.value for dose in recent})
    if len(drugs) >= 2:
        findings.append(
            _finding(
                Severity.WARN,
                "concurrent_corticosteroids",
                f"Two systemic corticosteroids active in the last 24 h ({', '.join(drugs)}): likely duplication",
                "management.md §3.3, §4.2",
            )
        )
    given_equiv = sum(dex_equivalent_mg(dose.drug, dose.dose_mg) for dose in facts.doses_in_window(CORTICOSTEROIDS, 24))
    if implied_dex_equiv_24h > 0 and given_equiv > 2 * implied_dex_equiv_24h:
        findings.append(
            _finding(
                Severity.WARN,
                "corticosteroid_duplicate",
                f"Corticosteroid in the last 24 h = {given_equiv:g} "
                "mg dexamethasone equivalent, more than twice the "
                f"{implied_dex_equiv_24h:g} mg the firing rules imply: possible duplicate orders",
                "management.md §3.3, §4.8",
            )
        )
    if recent and implied_dex_equiv_24h == 0:
        findings.append(
            _finding(
                Severity.INFO,
                "corticosteroid_without_indication",
                "Corticosteroid active without a current rule indication — confirm indication (prophylaxis, "
                "premedication, other)",
                "management.md §3.3",
            )
        )
    if steroid_suggested or recent:
        findings.append(_antifungal_reminder(facts, high_dose_mp_suggested))
    return findings


def _antifungal_reminder(facts: Facts, high_dose_suggested: bool) -> SafetyFinding:
    treatment = [dose for dose in facts.doses_of(CORTICOSTEROIDS) if dose.purpose is DosePurpose.TREATMENT]
    first = facts.state.hours_since(treatment[0].start) if treatment else None
    high_dose = any(dose.drug is Drug.METHYLPREDNISOLONE and dose.dose_mg >= 500 for dose in treatment)
    prolonged = (first is not None and first >= 72) or high_dose or high_dose_suggested
    message = "Corticosteroid treatment for CRS/ICANS/IEC-HS: review antifungal prophylaxis"
    if prolonged:
        message += " (corticosteroid treatment is prolonged: ≥ 72 h or methylprednisolone ≥ 500 mg)"
    return _finding(Severity.REMIND, "antifungal_review", message, "management.md §4.10, §1.5 (ASCO [S])")
