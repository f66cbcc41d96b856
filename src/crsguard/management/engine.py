"""The recommendation engine: evaluates a protocol's state graph and rules against one patient state.

How a snapshot is evaluated (management.md §9.3): start at the protocol's start node, follow every evaluated
edge whose guard holds (several can hold at once; the CRS and ICANS sub-graphs run in parallel), and also
enter any node whose `entry` condition holds (a snapshot does not remember the path, so de-escalation and
post-episode nodes are entered from the state). At every node reached, the rules attached to it fire when
their
own conditions hold; their actions become suggestions, doses are calculated (§4) and checked (§4.1.4, §4.10).
A condition that needs a missing input is *unknown*: the rule or edge is reported as not evaluated, with the
missing input named, never silently treated as false.

The engine never grades (§0.2): grades come in the state. Its output is decision support — not an order.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crsguard.management.dosing import (
    DoseCalculation,
    DoseInputError,
    acetaminophen_dose,
    anakinra_dose,
    dexamethasone_dose,
    levetiracetam_dose,
    methylprednisolone_dose,
    siltuximab_dose,
    tocilizumab_dose,
)
from crsguard.management.facts import Facts
from crsguard.management.followup import follow_up_dates
from crsguard.management.protocol import (
    Action,
    ActionKind,
    Comparison,
    Condition,
    Protocol,
    Regimen,
    Role,
    Rule,
    SteroidRelation,
    load_protocol,
)
from crsguard.management.safety import (
    SafetyFinding,
    Severity,
    WeightAssessment,
    assess_weight,
    corticosteroid_findings,
    dex_equivalent_mg,
    drug_warnings,
    tocilizumab_check,
)
from crsguard.management.state import PatientState
from crsguard.management.vocabulary import NOT_DOSED_MESSAGE, Drug, Product
from crsguard.model.toxicity import TherapyClass

NOT_AN_ORDER = "Decision support — not an order"
CONFIRM = "requires clinician confirmation"
Tri = bool | None  # Kleene logic: None = unknown because an input is missing

_ROLE_RANK = {Role.BASELINE: 0, Role.ALTERNATIVE: 1, Role.OVERLAY: 2, Role.REMINDER: 3}
_STEROIDS = {Drug.DEXAMETHASONE, Drug.METHYLPREDNISOLONE}


class ProtocolMismatchError(ValueError):
    """The protocol does not cover the patient's therapy class (never applied silently, §0.1)."""


class Recommendation(BaseModel):
    """One suggestion (merged across the rules that make it), worded as a suggestion (§11.1)."""

    model_config = ConfigDict(frozen=True)

    kind: ActionKind
    role: Role
    status: Literal["suggested", "refused", "awaiting_weight_confirmation", "not_dosed", "information"]
    texts: list[str]
    rule_ids: list[str]
    nodes: list[str]
    drug: str | None = None
    regimen: str | None = None
    schedule: str | None = None
    route: str | None = None
    dose: DoseCalculation | None = None
    steroid: SteroidRelation | None = None
    refusal_reasons: list[str] = Field(default_factory=list)
    next_eligible: datetime | None = None
    warnings: list[str] = Field(default_factory=list)
    monitoring: list[str] = Field(default_factory=list)
    escalation: list[str] = Field(default_factory=list)
    items: list[str] = Field(default_factory=list, description="bundle items")
    notes: list[str] = Field(default_factory=list)
    sources: list[str]
    evidence: list[str]
    requires_clinician_confirmation: bool = False


class GradeRead(BaseModel):
    """A grade as read from a grading module (§11.1: every output carries the grades it read)."""

    grade: int | None
    drivers: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    lower_bound: bool = False


class RecommendationReport(BaseModel):
    """Everything the engine says about one state under one protocol."""

    label: str = NOT_AN_ORDER
    protocol_id: str
    protocol_title: str
    protocol_version: str
    evaluated_at: datetime
    product: Product
    therapy_class: TherapyClass | None
    grades: dict[str, GradeRead]
    weight_used_kg: float | None
    active_nodes: list[str]
    recommendations: list[Recommendation]
    findings: list[SafetyFinding]
    missing_inputs: list[str]
    not_evaluated: list[str]
    inputs: PatientState = Field(description="The state evaluated (§11.1: outputs carry their inputs)")


# ------------------------------------------------------------------------------------------ conditions


def _test(expected: object, value: object) -> bool:
    if value is None:
        return False
    if isinstance(expected, Comparison):
        return isinstance(value, float) and expected.holds(value)
    if isinstance(expected, list):
        return value in [getattr(item, "value", item) for item in expected]
    if isinstance(expected, bool):
        return value is expected
    if isinstance(expected, int):
        return value == float(expected)
    return value == getattr(expected, "value", expected)


def evaluate(condition: Condition | None, facts: Facts) -> tuple[Tri, set[str]]:
    """Kleene evaluation: (True/False/None, missing inputs when None)."""
    if condition is None:
        return True, set()
    results: list[tuple[Tri, set[str]]] = []
    for name in condition.model_fields_set - {"any_of"}:
        expected = getattr(condition, name)
        if expected is None:
            continue
        fact = facts.get(name)
        results.append((None, set(fact.missing)) if not fact.known else (_test(expected, fact.value), set()))
    if condition.any_of:
        branches = [evaluate(branch, facts) for branch in condition.any_of]
        if any(result is True for result, _ in branches):
            results.append((True, set()))
        elif any(result is None for result, _ in branches):
            results.append((None, set().union(*(missing for result, missing in branches if result is None))))
        else:
            results.append((False, set()))
    if any(result is False for result, _ in results):
        return False, set()
    unknown = [missing for result, missing in results if result is None]
    return (None, set().union(*unknown)) if unknown else (True, set())


# ------------------------------------------------------------------------------------------ traversal


class _Trace:
    def __init__(self) -> None:
        self.missing: set[str] = set()
        self.not_evaluated: list[str] = []

    def unknown(self, what: str, missing: set[str]) -> None:
        self.missing |= missing
        self.not_evaluated.append(f"{what}: missing {', '.join(sorted(missing))}")


def active_nodes(protocol: Protocol, facts: Facts, trace: _Trace) -> list[str]:
    """Nodes reached from the start node and from node entry conditions (§9.3; module docstring)."""
    reached: list[str] = []
    queue = [protocol.start]
    for node in protocol.nodes:
        if node.entry is None:
            continue
        result, missing = evaluate(node.entry, facts)
        if result is True:
            queue.append(node.id)
        elif result is None:
            trace.unknown(f"node {node.id} entry", missing)
    while queue:
        node_id = queue.pop(0)
        if node_id in reached:
            continue
        reached.append(node_id)
        for edge in protocol.edges:
            if edge.source != node_id or not edge.evaluated:
                continue
            result, missing = evaluate(edge.guard, facts)
            if result is True:
                queue.append(edge.target)
            elif result is None:
                trace.unknown(f"edge {edge.id} ({edge.source}→{edge.target})", missing)
    order = [node.id for node in protocol.nodes]
    return sorted(reached, key=order.index)


def fired_rules(protocol: Protocol, nodes: list[str], facts: Facts, trace: _Trace) -> list[tuple[Rule, Role]]:
    """Rules at the reached nodes whose product filter and conditions hold, with their display role."""
    in_scope = facts.state.product is not Product.OTHER
    fired: list[tuple[Rule, Role]] = []
    for node_id in nodes:
        for rule in protocol.rules_at(node_id):
            if rule.products is not None and facts.state.product not in rule.products:
                continue
            if not in_scope and rule.role is not Role.REMINDER:
                continue
            result, missing = evaluate(rule.when, facts)
            if result is True:
                fired.append((rule, rule.role))
            elif result is None:
                trace.unknown(f"rule {rule.id}", missing)
    if protocol.settings.overlay_mode == "replace":
        overlay_nodes = {rule.node for rule, role in fired if role is Role.OVERLAY}
        fired = [(rule, _swap_for_replace(role) if rule.node in overlay_nodes else role) for rule, role in fired]
    return fired


def _swap_for_replace(role: Role) -> Role:
    """§3.4 overlay_mode=replace: the overlay becomes the default and the baseline the alternative."""
    return {Role.OVERLAY: Role.BASELINE, Role.BASELINE: Role.ALTERNATIVE}.get(role, role)


# ------------------------------------------------------------------------------------------ doses


def calculate(regimen: Regimen, weight_kg: float | None, state: PatientState, protocol: Protocol) -> DoseCalculation:
    """The §4 calculator for a regimen (raises DoseInputError when an input is missing or implausible)."""
    age = state.age_years
    drug = regimen.drug
    if drug is Drug.TOCILIZUMAB:
        return tocilizumab_dose(weight_kg, age)
    if drug is Drug.DEXAMETHASONE:
        return dexamethasone_dose(
            weight_kg, age, regimen.adult_dose_mg or 10.0, regimen.schedule, regimen.shortest_interval_h
        )
    if drug is Drug.METHYLPREDNISOLONE and regimen.methylprednisolone_regimen is not None:
        return methylprednisolone_dose(weight_kg, age, regimen.methylprednisolone_regimen)
    if drug is Drug.ANAKINRA and regimen.anakinra_regimen is not None:
        return anakinra_dose(weight_kg, age, regimen.anakinra_regimen)
    if drug is Drug.SILTUXIMAB:
        return siltuximab_dose(weight_kg, age)
    if drug is Drug.LEVETIRACETAM:
        adult_dose = regimen.adult_dose_mg or protocol.settings.levetiracetam_adult_dose_mg
        return levetiracetam_dose(weight_kg, age, state.crcl_ml_min, state.on_haemodialysis, adult_dose)
    if drug is Drug.ACETAMINOPHEN:
        return acetaminophen_dose(weight_kg, age)
    raise DoseInputError("regimen", f"no calculator for {drug.value}")


class _Draft:
    """A recommendation being assembled from one or more rule actions."""

    def __init__(self, action: Action, rule: Rule, role: Role, protocol: Protocol) -> None:
        self.action = action
        self.role = role
        self.texts = [action.text]
        self.rules = [rule]
        self.regimen = protocol.regimens.get(action.regimen or "")

    def merge(self, action: Action, rule: Rule, role: Role) -> None:
        if action.text not in self.texts:
            self.texts.append(action.text)
        if rule not in self.rules:
            self.rules.append(rule)
        self.role = min(self.role, role, key=_ROLE_RANK.__getitem__)


def _key(action: Action, protocol: Protocol) -> tuple[str, str]:
    """Merge key: tocilizumab is one suggestion whatever regimen id a rule names (C2T and NT share counters,
    §9.3); other drugs merge per regimen; care and reminder texts merge when identical."""
    if action.kind is ActionKind.DRUG:
        regimen = protocol.regimens[action.regimen or ""]
        return ("drug", regimen.drug.value if regimen.drug is Drug.TOCILIZUMAB else action.regimen or "")
    if action.kind is ActionKind.BUNDLE:
        return ("bundle", action.bundle or "")
    if action.kind is ActionKind.OPTION:
        return ("option", action.agent.value if action.agent else "")
    return (action.kind.value, action.text)


def collect_drafts(fired: list[tuple[Rule, Role]], protocol: Protocol, facts: Facts, trace: _Trace) -> list[_Draft]:
    """Actions of the fired rules, merged and de-duplicated (§3.2: 'actions are merged and de-duplicated')."""
    drafts: dict[tuple[str, str], _Draft] = {}
    for rule, role in fired:
        for action in rule.actions:
            result, missing = evaluate(action.when, facts)
            if result is None:
                trace.unknown(f"rule {rule.id} action '{action.text[:40]}…'", missing)
            if result is not True:
                continue
            key = _key(action, protocol)
            if key in drafts:
                drafts[key].merge(action, rule, role)
            else:
                drafts[key] = _Draft(action, rule, role, protocol)
    return list(drafts.values())


def _rule_fields(draft: _Draft) -> dict[str, object]:
    rules = draft.rules
    notes = [rule.note for rule in rules if rule.note]
    confirm = any(rule.needs_confirmation for rule in rules)
    if confirm:
        notes.append(f"Rule tagged [R] (unconfirmed against the current source): {CONFIRM}")
    return {
        "kind": draft.action.kind,
        "role": draft.role,
        "texts": draft.texts,
        "rule_ids": [rule.id for rule in rules],
        "nodes": sorted({rule.node for rule in rules}),
        "monitoring": [item for rule in rules for item in rule.monitoring],
        "escalation": [rule.escalation for rule in rules if rule.escalation],
        "notes": notes,
        "sources": [rule.source for rule in rules],
        "evidence": [rule.evidence for rule in rules],
        "requires_clinician_confirmation": confirm,
        "steroid": draft.action.steroid,
    }


def _weight_refusal_with_candidates(
    regimen: Regimen, weight: WeightAssessment, state: PatientState, protocol: Protocol
) -> list[str]:
    """After a > 10 % change, name the dose under each candidate weight (Scenario 20a)."""
    reasons = ["Weight changed > 10 %: the dose is shown once the measured weight is confirmed (§4.10)"]
    for candidate in (state.previous_weight_kg, state.weight_kg):
        try:
            calc = calculate(regimen, candidate, state, protocol)
        except DoseInputError:
            continue
        reasons.append(f"With {candidate:g} kg: {calc.formula}")
    return reasons


def build_drug(draft: _Draft, facts: Facts, weight: WeightAssessment, protocol: Protocol) -> Recommendation:
    """Calculate and check the dose of a drug suggestion (§4, §4.1.4, §4.10)."""
    regimen = draft.regimen
    assert regimen is not None
    state = facts.state
    fields = _rule_fields(draft)
    base = {
        **fields,
        "drug": regimen.drug.value,
        "regimen": draft.action.regimen,
        "schedule": regimen.schedule,
    }
    base["route"] = regimen.route
    warnings: list[str] = []
    refusals: list[str] = []
    next_eligible = None
    if regimen.drug is Drug.TOCILIZUMAB:
        check = tocilizumab_check(facts)
        refusals += check.refusals
        warnings += check.warnings
        next_eligible = check.next_eligible
    try:
        dose = calculate(regimen, weight.weight_kg, state, protocol)
    except DoseInputError as exc:
        if exc.field == "weight_kg" and weight.awaiting_confirmation:
            reasons = _weight_refusal_with_candidates(regimen, weight, state, protocol)
            return Recommendation(
                **base,
                status="awaiting_weight_confirmation",
                refusal_reasons=refusals + reasons,
                warnings=warnings,
            )
        reason = exc.message if exc.field != "weight_kg" else (weight.refusal or exc.message)
        if exc.field == "weight_kg" and not refusals:
            reason += f"; {regimen.drug.value} is indicated by the firing rule: enter a weight to calculate"
        return Recommendation(
            **base,
            status="refused",
            refusal_reasons=[*refusals, reason],
            warnings=warnings,
            next_eligible=None,
        )
    if refusals:
        return Recommendation(
            **base, status="refused", refusal_reasons=refusals, warnings=warnings, next_eligible=next_eligible
        )
    if dose.dose_mg is not None:
        warnings += drug_warnings(regimen.drug, dose.dose_mg, regimen.doses_per_24h(), facts)
    confirm = bool(fields["requires_clinician_confirmation"]) or dose.requires_clinician_confirmation
    base["requires_clinician_confirmation"] = confirm
    return Recommendation(**base, status="suggested", dose=dose, warnings=[*dose.warnings, *warnings])


def build_other(draft: _Draft, protocol: Protocol) -> Recommendation:
    """Care, bundle, option and reminder suggestions."""
    fields = _rule_fields(draft)
    action = draft.action
    if action.kind is ActionKind.OPTION:
        return Recommendation(
            **fields,
            status="not_dosed",
            drug=action.agent.value if action.agent else None,
            warnings=[NOT_DOSED_MESSAGE],
        )
    items = protocol.bundles[action.bundle].items if action.bundle else []
    return Recommendation(**fields, status="information", items=items)


# ------------------------------------------------------------------------------------------ extras


def _step_up_recommendation(protocol: Protocol, state: PatientState, weight: float | None) -> Recommendation | None:
    """Next bispecific dose from the label's step-up table (§7.4), shown with the dose hold (BS-H)."""
    schedule = protocol.step_up_schedules.get(state.product)
    if schedule is None or state.step_up_dose_number is None:
        return None
    next_index = min(state.step_up_dose_number, len(schedule.doses) - 1)
    label = f"step-up dose {next_index + 1}" if next_index < len(schedule.doses) - 1 else "treatment dose"

    def amount(value: float) -> str:
        if schedule.unit == "mg":
            return f"{value:g} mg"
        if weight is None:
            return f"{value:g} mg/kg (weight needed to calculate)"
        return f"{value:g} mg/kg × {weight:g} kg = {round(value * weight, 1):g} mg"

    texts = [
        f"Next dose after CRS resolves ({label}): {amount(schedule.doses[next_index])}; first treatment dose "
        f"{amount(schedule.doses[-1])}; restart and delay rules from the label table",
        f"Premedication per label: {schedule.premedication}",
        f"Monitoring per label: {schedule.hospitalisation}",
    ]
    confirm = "R" in schedule.evidence
    return Recommendation(
        kind=ActionKind.CARE,
        role=Role.BASELINE,
        status="information",
        texts=texts,
        rule_ids=["BS-H"],
        nodes=["BH"],
        sources=[schedule.source],
        evidence=[schedule.evidence],
        notes=[f"Label schedule [R]: {CONFIRM}"] if confirm else [],
        requires_clinician_confirmation=confirm,
    )


def dex_equivalent_per_24h(rec: Recommendation, protocol: Protocol) -> float:
    """A suggested corticosteroid as dexamethasone-equivalent mg per 24 h (§4.8); 0 for anything else.

    The interval is the calculated dose's own (a child pulse is once daily even where the adult regimen is
    every 12 h), else the regimen's shortest interval (§4.2 [P]); a short series counts its own doses.
    """
    if rec.status != "suggested" or rec.dose is None or rec.dose.dose_mg is None or rec.regimen is None:
        return 0.0
    regimen = protocol.regimens[rec.regimen]
    if regimen.drug not in _STEROIDS:
        return 0.0
    interval_h = rec.dose.interval_h or regimen.shortest_interval_h
    per_day = 24.0 / interval_h if interval_h else 1.0
    if regimen.doses is not None:
        per_day = min(per_day, float(regimen.doses))
    return dex_equivalent_mg(regimen.drug, rec.dose.dose_mg) * per_day


def _implied_dex_equiv(recommendations: list[Recommendation], protocol: Protocol) -> float:
    """§3.3: the highest corticosteroid regimen the firing rules suggest, as dexamethasone mg per 24 h."""
    return max([0.0, *(dex_equivalent_per_24h(rec, protocol) for rec in recommendations)])


def _general_findings(state: PatientState, facts: Facts, protocol: Protocol) -> list[SafetyFinding]:
    findings = []
    if state.product is Product.OTHER:
        findings.append(
            SafetyFinding(
                severity=Severity.WARN,
                code="no_product_rules",
                message="No product-specific rule set exists for this product: generic information only; "
                "consult the treating team / institutional protocol",
                source="management.md §0.1, §4.10",
            )
        )
    if state.age_years is None:
        findings.append(
            SafetyFinding(
                severity=Severity.WARN,
                code="age_missing",
                message="Age missing: child formulas used where they exist; fixed adult doses not shown",
                source="management.md §0.2, §4.10",
            )
        )
    elif state.age_years < 2:
        findings.append(
            SafetyFinding(
                severity=Severity.WARN,
                code="specialist_review",
                message="Patient under 2 years: engine output is advisory only; specialist review",
                source="management.md §11.2",
            )
        )
    if state.on_haemodialysis:
        findings.append(
            SafetyFinding(
                severity=Severity.WARN,
                code="specialist_review",
                message="On haemodialysis (severe renal impairment): advisory output; specialist review",
                source="management.md §11.2",
            )
        )
    for system, read in (("astct2019", state.crs), ("astct2019_icans", state.icans)):
        if read is not None and (read.lower_bound or read.missing):
            missing = f" (missing: {', '.join(read.missing)})" if read.missing else ""
            findings.append(
                SafetyFinding(
                    severity=Severity.WARN,
                    code="grade_incomplete",
                    message=f"{system} grade {read.grade} is a lower bound{missing}: suggestions may be too "
                    "low; complete the missing inputs and re-grade",
                    source="management.md §4.10 (grade inputs incomplete)",
                )
            )
    if state.discharge_review and state.resolved_therapy_class is TherapyClass.car_t:
        neuro = state.neurological_event_this_course or (state.icans is not None and state.icans.grade >= 1)
        for dates in follow_up_dates(state.infusion_datetime.date(), protocol.settings.jurisdiction, neuro):
            findings.append(
                SafetyFinding(severity=Severity.REMIND, code="follow_up_dates", message=dates.text, source=dates.source)
            )
    return findings


# ------------------------------------------------------------------------------------------ entry point


def recommend(state: PatientState, protocol: str | Path | Protocol = "default") -> RecommendationReport:
    """Evaluate `protocol` (a built-in id, a YAML path or a loaded Protocol) for one patient state."""
    loaded = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    therapy_class = state.resolved_therapy_class
    if therapy_class is not None and therapy_class not in loaded.applies_to:
        applies = ", ".join(item.value for item in loaded.applies_to)
        hint = "bispecific" if therapy_class is TherapyClass.tce else "default"
        raise ProtocolMismatchError(
            f"protocol {loaded.id!r} applies to {applies}, but product {state.product.value!r} is "
            f"{therapy_class.value}; choose a protocol for {therapy_class.value} (built-in: {hint!r})"
        )
    facts = Facts(state, loaded.settings)
    trace = _Trace()
    weight = assess_weight(
        state, loaded.settings.stale_weight_over_30_days, loaded.settings.weight_change_over_10_percent
    )
    nodes = active_nodes(loaded, facts, trace)
    drafts = collect_drafts(fired_rules(loaded, nodes, facts, trace), loaded, facts, trace)
    recommendations = [
        build_drug(draft, facts, weight, loaded) if draft.regimen is not None else build_other(draft, loaded)
        for draft in drafts
    ]
    if "BH" in nodes:
        step_up = _step_up_recommendation(loaded, state, weight.weight_kg)
        if step_up is not None:
            recommendations.append(step_up)
    steroid_suggested = [
        rec for rec in recommendations if rec.status == "suggested" and rec.drug in {d.value for d in _STEROIDS}
    ]
    high_dose_mp = any(
        rec.drug == Drug.METHYLPREDNISOLONE.value and rec.dose is not None and (rec.dose.dose_mg or 0) >= 500
        for rec in steroid_suggested
    )
    findings = [
        *weight.findings,
        *_general_findings(state, facts, loaded),
        *corticosteroid_findings(
            facts, _implied_dex_equiv(recommendations, loaded), bool(steroid_suggested), high_dose_mp
        ),
    ]
    findings += _findings_from_recommendations(recommendations)
    grades = {
        "astct2019": GradeRead(
            grade=state.crs.grade,
            drivers=state.crs.drivers,
            missing=state.crs.missing,
            lower_bound=state.crs.lower_bound,
        ),
        "astct2019_icans": GradeRead(
            grade=state.icans.grade if state.icans else None,
            drivers=state.icans.drivers if state.icans else [],
            missing=state.icans.missing if state.icans else ["icans"],
            lower_bound=state.icans.lower_bound if state.icans else False,
        ),
        "iechs2023": GradeRead(grade=state.iechs.grade if state.iechs else None),
    }
    return RecommendationReport(
        protocol_id=loaded.id,
        protocol_title=loaded.title,
        protocol_version=loaded.version,
        evaluated_at=state.evaluated_at,
        product=state.product,
        therapy_class=therapy_class,
        grades=grades,
        weight_used_kg=weight.weight_kg,
        active_nodes=nodes,
        recommendations=recommendations,
        findings=findings,
        missing_inputs=sorted(trace.missing),
        not_evaluated=trace.not_evaluated,
        inputs=state,
    )


def _findings_from_recommendations(recommendations: list[Recommendation]) -> list[SafetyFinding]:
    """Refusals and dose warnings also listed as safety findings, naming the drug and the rules."""
    findings = []
    for rec in recommendations:
        if rec.kind is not ActionKind.DRUG:
            continue
        severity = Severity.REFUSE if rec.status in {"refused", "awaiting_weight_confirmation"} else Severity.WARN
        messages = rec.refusal_reasons if severity is Severity.REFUSE else []
        messages = [*messages, *rec.warnings]
        if rec.dose is not None and rec.dose.capped:
            messages.append(f"Dose cap applied: {rec.dose.formula}")
        for message in messages:
            findings.append(
                SafetyFinding(
                    severity=severity if message in rec.refusal_reasons else Severity.WARN,
                    code=f"{rec.drug}_check",
                    message=message,
                    source=", ".join(rec.sources),
                    drug=rec.drug,
                    rule_ids=rec.rule_ids,
                )
            )
    return findings


# ------------------------------------------------------------------------------------------ order check

ORDER_DEVIATION_FRACTION = 0.10  # §4.10: an entered dose differing > 10 % from the calculated dose: WARN


def order_check(
    state: PatientState, drug: Drug, dose_mg: float, protocol: str | Path | Protocol = "default"
) -> list[SafetyFinding]:
    """Check an entered dose against the §4.10 limits (the order-check path of interop §5.6).

    REFUSE maps to a `critical` card and WARN to `warning` (interop §5.1); the engine cannot stop an order
    (§11.1).
    """
    loaded = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    facts = Facts(state, loaded.settings)
    weight = assess_weight(
        state, loaded.settings.stale_weight_over_30_days, loaded.settings.weight_change_over_10_percent
    )
    findings = list(weight.findings)
    source = "management.md §4.10"

    def add(severity: Severity, message: str) -> None:
        findings.append(
            SafetyFinding(
                severity=severity, code=f"{drug.value}_order", message=message, source=source, drug=drug.value
            )
        )

    adult = state.age_years is not None and state.age_years >= 18
    per_kg = dose_mg / weight.weight_kg if weight.weight_kg else None
    if drug is Drug.TOCILIZUMAB:
        if dose_mg > 800:
            add(Severity.REFUSE, f"Tocilizumab {dose_mg:g} mg exceeds the 800 mg maximum per dose (hard stop)")
        check = tocilizumab_check(facts)
        for reason in check.refusals:
            add(Severity.REFUSE, reason)
        for warning in check.warnings:
            add(Severity.WARN, warning)
        if weight.weight_kg is not None:
            expected = tocilizumab_dose(weight.weight_kg, state.age_years).dose_mg or 0.0
            if expected and abs(dose_mg - expected) / expected > ORDER_DEVIATION_FRACTION:
                add(
                    Severity.WARN,
                    f"Entered {dose_mg:g} mg differs > 10 % from the calculated {expected:g} mg",
                )
    if drug is Drug.DEXAMETHASONE:
        if adult and dose_mg > 20:
            add(
                Severity.WARN,
                f"Dexamethasone {dose_mg:g} mg > 20 mg per dose unless a high-dose plan exists (§4.2)",
            )
        if not adult and (dose_mg > 10 or (per_kg is not None and per_kg > 0.5)):
            add(Severity.WARN, f"Child dexamethasone {dose_mg:g} mg above 0.5 mg/kg or 10 mg per dose (§4.2)")
    if drug is Drug.METHYLPREDNISOLONE:
        if dose_mg >= 500:
            add(Severity.WARN, "Methylprednisolone ≥ 500 mg: infuse over at least 30 minutes (§4.3)")
        if adult and dose_mg > 1000:
            add(Severity.WARN, f"Methylprednisolone {dose_mg:g} mg > 1000 mg per dose (§4.3)")
        if not adult and (dose_mg > 1000 or (per_kg is not None and per_kg > 30)):
            add(Severity.WARN, f"Child methylprednisolone {dose_mg:g} mg above 30 mg/kg or 1000 mg (§4.3)")
    for warning in drug_warnings(drug, dose_mg, 1.0, facts):
        add(Severity.WARN, warning)
    return findings
