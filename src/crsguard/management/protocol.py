"""Protocols as data: the closed schema of a protocol file and its loader (management.md §3–§6, §9).

A protocol is a state graph (nodes and edges of management.md §9) plus rules attached to nodes (the decision
tables of §3, §5, §6 and §8), named regimens (the dose rules of §4) and bundles (§3.1, §8.1). The engine
evaluates exactly this data and the flowchart renders exactly this data: one source, two faces.

A file may `extends:` another protocol (an institution's own SOP on top of `default`, management.md §0.4
rank 1):
its settings are merged key by key, its regimens, bundles, nodes, edges and rules replace same-id entries of
the
base, and `disable_rules` removes base rules. Every file is validated against the closed schema: an unknown
key,
an unknown drug or an impossible dose rule is rejected with a message naming the file and the key.
"""

from __future__ import annotations

import re
from collections import Counter
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crsguard.management.dosing import AnakinraRegimen, MethylprednisoloneRegimen
from crsguard.management.vocabulary import CrsStatus, Drug, Jurisdiction, NotDosedAgent, Product, ResponseState
from crsguard.model.toxicity import TherapyClass

PROTOCOL_PACKAGE = "crsguard.management.protocols"


class ProtocolError(ValueError):
    """A protocol file could not be loaded; the message names the file and the key."""


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------------------------------------- conditions


class Comparison(_Closed):
    """Threshold sides as management.md §0.2: `lt`/`gt` exclude the value, `le`/`ge` include it."""

    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None
    eq: float | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Comparison:
        if all(value is None for value in self.model_dump().values()):
            raise ValueError("a comparison needs at least one of lt, le, gt, ge, eq")
        return self

    def holds(self, value: float) -> bool:
        """Whether `value` satisfies every bound given."""
        checks = (
            (self.lt, value < (self.lt or 0)),
            (self.le, value <= (self.le or 0)),
            (self.gt, value > (self.gt or 0)),
            (self.ge, value >= (self.ge or 0)),
            (self.eq, value == self.eq),
        )
        return all(result for bound, result in checks if bound is not None)

    def describe(self) -> str:
        """The comparison in words, e.g. '≥ 72'."""
        symbols = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "="}
        parts = [f"{symbols[key]} {value:g}" for key, value in self.model_dump().items() if value is not None]
        return " and ".join(parts)


GradeTest = Annotated[int, Field(ge=0, le=5)] | Comparison


class Condition(_Closed):
    """A conjunction of facts about the patient (closed vocabulary; `any_of` gives a disjunction).

    Each field names one derived value of management.md §2 ("Derived values") or §1.5; the engine's
    `facts.py` computes it. A fact that cannot be computed because an input is missing makes the condition
    *unknown*, never false: the engine reports the rule as not evaluated and names the missing input.
    """

    crs_grade: GradeTest | None = None
    icans_grade: GradeTest | None = None
    iechs_grade: GradeTest | None = None
    therapy_class: TherapyClass | None = None
    high_risk_patient: bool | None = Field(None, description="flags.high_risk (§2)")
    high_risk_product: bool | None = Field(None, description="product in settings.high_risk_products (1.5)")
    fever: bool | None = Field(None, description="temperature_c ≥ 38.0 °C (§0.2)")
    hypotension_present: bool | None = None
    oxy_tier: Comparison | None = None
    fluid_boluses_for_bp: Comparison | None = None
    t_since_crs_onset_h: Comparison | None = None
    t_at_crs_grade_h: Comparison | None = None
    t_onset_after_infusion_h: Comparison | None = None
    t_since_first_antiil6_h: Comparison | None = None
    t_since_first_toci_h: Comparison | None = None
    toci_given_in_episode: bool | None = Field(None, description="a tocilizumab dose started in this episode")
    anti_il6_given: bool | None = Field(None, description="tocilizumab or siltuximab started in this episode")
    crs_response: list[ResponseState] | None = Field(None, description="response_state is one of these")
    icans_response: list[ResponseState] | None = None
    crs_refractory: bool | None = Field(None, description="refractory on the grade-3 regimen (1.5)")
    crs_refractory_on_high_dose_mp: bool | None = None
    icans_refractory: bool | None = Field(None, description="refractory on the grade-3 regimen (1.5)")
    icans_refractory_on_high_dose: bool | None = None
    toci_course_max_reached: bool | None = None
    toci_unavailable: bool | None = None
    crs_attributed: bool | None = None
    crs_episode_open: bool | None = Field(None, description="an episode started and has not ended (1.5)")
    episode_closed: bool | None = Field(None, description="crs_status = resolved (1.5, A18)")
    crs_status: list[CrsStatus] | None = None
    fb1_trigger: bool | None = Field(None, description="any fever-bundle trigger (8.1)")
    fn_pathway_trigger: bool | None = Field(None, description="febrile-neutropenia pathway trigger (8.1 item 5)")
    fever_within_8h_of_acetaminophen: bool | None = None
    iechs_screen_positive: bool | None = None
    iechs_confirmed: bool | None = None
    iechs_no_response_48h: bool | None = None
    iechs_compromise: bool | None = None
    seizure_or_oedema: bool | None = None
    fibrinogen: Comparison | None = Field(None, description="labs.fibrinogen, mg/dL")
    clinically_significant_bleeding: bool | None = None
    bleeding_status_known: bool | None = Field(None, description="clinically_significant_bleeding recorded")
    corticosteroid_active: bool | None = Field(None, description="treatment corticosteroid in the last 24 h")
    seizure_prophylaxis_policy_applies: bool | None = None
    on_levetiracetam: bool | None = None
    study_day: Comparison | None = Field(None, description="calendar days since t0 (day 0 = infusion day)")
    discharge_review: bool | None = None
    any_of: list[Condition] | None = Field(None, description="at least one of these conditions holds")

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if not self.model_dump(exclude_none=True):
            raise ValueError("an empty condition is not allowed; omit `when` for a rule that always applies")
        return self


# ---------------------------------------------------------------------------------------------- dose rules

# management.md §4.1.3 and the label: limits an institution may tighten but never loosen.
LABEL_TOCI_CAP_MG = 800.0
LABEL_TOCI_MIN_INTERVAL_H = 8.0
LABEL_TOCI_MAX_PER_24H = 3
LABEL_TOCI_MAX_PER_COURSE = 4


class TocilizumabLimits(_Closed):
    """Repeat-dose limits of management.md §4.1.3 (defaults) and §3.5 / A12 (bispecific counting)."""

    min_interval_h: float = Field(LABEL_TOCI_MIN_INTERVAL_H, gt=0)
    max_per_24h: int = Field(LABEL_TOCI_MAX_PER_24H, ge=1)
    max_per_course: int = Field(LABEL_TOCI_MAX_PER_COURSE, ge=1)
    course_scope: Literal["course", "episode"] = Field(
        "course", description="A1: CAR-T per course by default; bispecific per CRS episode"
    )
    warn_episode_dose: int | None = Field(None, ge=1, description="A12: warn when a dose would be this one")
    warn_42d_dose: int | None = Field(None, ge=1, description="A12: warn when a dose would be this one in 42 d")
    source: str = "management.md §4.1.3"

    @model_validator(mode="after")
    def _within_label(self) -> TocilizumabLimits:
        problems = []
        if self.min_interval_h < LABEL_TOCI_MIN_INTERVAL_H:
            problems.append(f"min_interval_h {self.min_interval_h:g} is below the 8 h minimum")
        if self.max_per_24h > LABEL_TOCI_MAX_PER_24H:
            problems.append(f"max_per_24h {self.max_per_24h} exceeds 3 doses per 24 h")
        if self.max_per_course > LABEL_TOCI_MAX_PER_COURSE:
            problems.append(f"max_per_course {self.max_per_course} exceeds 4 doses")
        if problems:
            raise ValueError(
                "impossible dose rule: " + "; ".join(problems) + " (management.md §4.1.3; a protocol may only "
                "tighten these limits; going beyond them is an attested override, §4.1.4)"
            )
        return self


class Regimen(_Closed):
    """A named dose rule: the drug, which of its §4 calculators applies, and how often.

    `every_h` is one interval or a range [shortest, longest] (the 24 h checks use the shortest, §4.2 [P]);
    `doses` limits a short series ("once" = 1, "2 doses 6 h apart" = 2).
    """

    drug: Drug
    adult_dose_mg: float | None = Field(None, description="dexamethasone or levetiracetam fixed adult dose")
    methylprednisolone_regimen: MethylprednisoloneRegimen | None = None
    anakinra_regimen: AnakinraRegimen | None = None
    every_h: float | tuple[float, float] | None = None
    doses: int | None = Field(None, ge=1)
    schedule: str = Field(description="The interval and duration in words, as the clinician reads them")
    route: str | None = None
    source: str = Field(min_length=1)
    evidence: str = Field(min_length=1)

    @model_validator(mode="after")
    def _possible(self) -> Regimen:
        allowed = {
            "adult_dose_mg": {Drug.DEXAMETHASONE, Drug.LEVETIRACETAM},
            "methylprednisolone_regimen": {Drug.METHYLPREDNISOLONE},
            "anakinra_regimen": {Drug.ANAKINRA},
        }
        for field_name, drugs in allowed.items():
            if getattr(self, field_name) is not None and self.drug not in drugs:
                names = ", ".join(sorted(drug.value for drug in drugs))
                raise ValueError(f"{field_name} applies only to {names}, not to {self.drug.value}")
        if self.drug is Drug.METHYLPREDNISOLONE and self.methylprednisolone_regimen is None:
            raise ValueError("methylprednisolone needs methylprednisolone_regimen (one of the §4.3 regimens)")
        if self.drug is Drug.DEXAMETHASONE and self.adult_dose_mg is None:
            raise ValueError("dexamethasone needs adult_dose_mg (§4.2)")
        if self.adult_dose_mg is not None and self.adult_dose_mg <= 0:
            raise ValueError(f"impossible dose rule: adult_dose_mg {self.adult_dose_mg:g} must be positive")
        levetiracetam_dose_mg = self.adult_dose_mg if self.drug is Drug.LEVETIRACETAM else None
        if levetiracetam_dose_mg is not None and not 500 <= levetiracetam_dose_mg <= 750:
            raise ValueError("impossible dose rule: levetiracetam adult_dose_mg must lie in 500–750 mg (§4.6)")
        interval = self.every_h
        if isinstance(interval, tuple):
            if not 0 < interval[0] <= interval[1]:
                raise ValueError(f"impossible dose rule: every_h range {interval} must be positive and ordered")
        elif interval is not None and interval <= 0:
            raise ValueError(f"impossible dose rule: every_h {interval:g} must be positive")
        shortest = self.shortest_interval_h
        if self.drug is Drug.TOCILIZUMAB and shortest is not None and shortest < LABEL_TOCI_MIN_INTERVAL_H:
            raise ValueError("impossible dose rule: tocilizumab every_h below the 8 h minimum (§4.1.3)")
        return self

    @property
    def shortest_interval_h(self) -> float | None:
        """The interval used by the 24 h checks: the shortest of a range (§4.2 [P])."""
        return self.every_h[0] if isinstance(self.every_h, tuple) else self.every_h

    def doses_per_24h(self) -> float:
        """Administrations in 24 h implied by the regimen (a short series counts its own doses)."""
        shortest = self.shortest_interval_h
        per_day = 24.0 / shortest if shortest else 1.0
        return min(per_day, float(self.doses)) if self.doses is not None else per_day


# --------------------------------------------------------------------------------------- actions and rules

# management.md §11.1: imperative order wording is a defect.
_ORDER_WORDS = re.compile(r"^\s*(give|administer|start|infuse|inject|order)\b", re.IGNORECASE)


class ActionKind(StrEnum):
    """What an action suggests."""

    DRUG = "drug"  # a dose the engine calculates from a regimen
    OPTION = "option"  # an agent named as an option, never dosed (§4.7)
    BUNDLE = "bundle"  # a bundle of §3.1 / §8.1
    CARE = "care"  # supportive measure, level of care, referral, work-up item
    REMINDER = "reminder"  # standing reminder (§4.10 REMIND)


class SteroidRelation(StrEnum):
    """§3.3: every corticosteroid suggestion says whether it replaces or adds to the current regimen."""

    REPLACE = "replace"  # replace the current corticosteroid regimen
    ADD = "add"  # add to the current regimen (or start one)


class Action(_Closed):
    """One suggestion of a rule, worded as a suggestion (management.md §0.2 "Wording", §11.1)."""

    kind: ActionKind
    text: str = Field(min_length=1)
    regimen: str | None = Field(None, description="id in the protocol's `regimens` (kind: drug)")
    agent: NotDosedAgent | None = Field(None, description="kind: option; named, never dosed (§4.7)")
    bundle: str | None = Field(None, description="id in the protocol's `bundles` (kind: bundle)")
    steroid: SteroidRelation | None = None
    when: Condition | None = Field(None, description="the action applies only when this also holds")

    @field_validator("text")
    @classmethod
    def _suggestion_wording(cls, text: str) -> str:
        if _ORDER_WORDS.match(text):
            raise ValueError(
                f"order-like wording {text.split()[0]!r}: phrase it as a suggestion ('consider …', "
                "'suggested …'), management.md §11.1"
            )
        return text

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Action:
        needs = {ActionKind.DRUG: "regimen", ActionKind.OPTION: "agent", ActionKind.BUNDLE: "bundle"}
        for kind, field_name in needs.items():
            present = getattr(self, field_name) is not None
            if (self.kind is kind) != present:
                raise ValueError(f"`{field_name}` is required with kind {kind.value} and only with it")
        return self


class Role(StrEnum):
    """How a rule's suggestions are shown (management.md §3.4, §3.6)."""

    BASELINE = "baseline"  # the protocol's default pathway
    ALTERNATIVE = "alternative"  # shown alongside; the institution or prescriber chooses
    OVERLAY = "overlay"  # product-label row, shown as a second, labelled option (§3.4)
    REMINDER = "reminder"  # standing reminder (§4.10)


class Rule(_Closed):
    """One row of a decision table, attached to the flowchart node whose entry actions it is (§9.2)."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    node: str
    title: str = Field(min_length=1)
    role: Role = Role.BASELINE
    products: list[Product] | None = Field(None, description="only for these products (overlays)")
    when: Condition | None = None
    actions: list[Action] = Field(min_length=1)
    monitoring: list[str] = Field(default_factory=list)
    escalation: str | None = None
    source: str = Field(min_length=1, description="section of the specification or institutional document")
    evidence: str = Field(min_length=1, description="S, S2, R or P (management.md §0.3)")
    note: str | None = None

    @model_validator(mode="after")
    def _overlay_names_products(self) -> Rule:
        if self.role is Role.OVERLAY and not self.products:
            raise ValueError(f"rule {self.id}: an overlay must name its products (§3.4)")
        return self

    @property
    def needs_confirmation(self) -> bool:
        """Rules tagged [R] carry 'requires clinician confirmation' (spec README); [P] proposals do not."""
        return "R" in re.findall(r"\b(S2|S|R|P)\b", self.evidence)


class Bundle(_Closed):
    """A named list of items (management.md §3.1 SC-CRS, WU-CRS, ICU-TRIGGER; §8.1 FB-1; §5.1; §6.2)."""

    title: str
    items: list[str] = Field(min_length=1)
    source: str = Field(min_length=1)


class NodeShape(StrEnum):
    """Flowchart shapes of management.md §9.1."""

    TERMINAL = "terminal"
    DECISION = "decision"
    STEP = "step"


class Node(_Closed):
    """A state of the management graph (management.md §9.2)."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*$")
    label: str
    shape: NodeShape = NodeShape.STEP
    entry: Condition | None = Field(
        None, description="a snapshot may start here when this holds (the path is not remembered, §9.3)"
    )


class Edge(_Closed):
    """A transition of management.md §9.3; `guard` in the condition language; temporal edges display only."""

    id: str = Field(pattern=r"^E\d+[a-z]?$")
    source: str
    target: str
    label: str
    guard: Condition | None = None
    evaluated: bool = Field(
        True,
        description="false for temporal edges ('grade rises', 'after the suggestion') a snapshot cannot see",
    )


class SeizureProphylaxisPolicy(StrEnum):
    """A11 / §5.4: the institution's levetiracetam prophylaxis policy."""

    NONE = "none"
    HIGH_RISK_PRODUCTS = "high_risk_products"
    ALL_PRODUCTS = "all_products"


class StepUpSchedule(_Closed):
    """A bispecific's label step-up schedule (management.md §7.4); the last dose is the treatment dose."""

    unit: Literal["mg", "mg_per_kg"]
    doses: list[float] = Field(min_length=2)
    premedication: str
    hospitalisation: str
    source: str = Field(min_length=1)
    evidence: str = Field(min_length=1)

    @model_validator(mode="after")
    def _possible(self) -> StepUpSchedule:
        if any(dose <= 0 for dose in self.doses):
            raise ValueError("impossible dose rule: step-up doses must be positive")
        if any(later < earlier for earlier, later in zip(self.doses, self.doses[1:], strict=False)):
            raise ValueError("impossible dose rule: step-up doses must not decrease")
        return self


class Settings(_Closed):
    """Institutional settings (management.md §2 `config.*`), each a documented default."""

    high_risk_products: list[Product] = Field(
        default_factory=lambda: [Product.AXICABTAGENE_CILOLEUCEL, Product.BREXUCABTAGENE_AUTOLEUCEL],
        description="1.5 high-risk product list (ASCO: earlier corticosteroids)",
    )
    overlay_mode: Literal["accompany", "replace"] = Field(
        "accompany", description="§3.4: overlay rows accompany the baseline or replace it"
    )
    seizure_prophylaxis: SeizureProphylaxisPolicy = SeizureProphylaxisPolicy.NONE
    levetiracetam_adult_dose_mg: float = Field(500.0, ge=500, le=750)
    jurisdiction: Jurisdiction | None = Field(None, description="§7.4, A27; none → both rule sets shown")
    stale_weight_over_30_days: Literal["refuse", "warn"] = Field("refuse", description="A23")
    weight_change_over_10_percent: Literal["confirm_first", "warn"] = Field("confirm_first", description="4.10")
    tocilizumab: TocilizumabLimits = Field(default_factory=TocilizumabLimits)


class Protocol(_Closed):
    """A complete, validated protocol (after any `extends` has been resolved)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    version: str
    applies_to: list[TherapyClass] = Field(min_length=1)
    description: str | None = None
    settings: Settings = Field(default_factory=Settings)
    bundles: dict[str, Bundle] = Field(default_factory=dict)
    regimens: dict[str, Regimen] = Field(default_factory=dict)
    nodes: list[Node] = Field(min_length=1)
    edges: list[Edge] = Field(default_factory=list)
    rules: list[Rule] = Field(min_length=1)
    step_up_schedules: dict[Product, StepUpSchedule] = Field(default_factory=dict)
    start: str = Field("S0", description="the node every evaluation starts from")

    @model_validator(mode="after")
    def _references_resolve(self) -> Protocol:
        node_ids = [node.id for node in self.nodes]
        problems = _duplicates("node", node_ids) + _duplicates("edge", [edge.id for edge in self.edges])
        problems += _duplicates("rule", [rule.id for rule in self.rules])
        known = set(node_ids)
        if self.start not in known:
            problems.append(f"start node {self.start!r} is not among the nodes")
        for edge in self.edges:
            problems += [
                f"edges.{edge.id}: unknown node {end!r}" for end in (edge.source, edge.target) if end not in known
            ]
        for rule in self.rules:
            if rule.node not in known:
                problems.append(f"rules.{rule.id}.node: unknown node {rule.node!r}")
            for action in rule.actions:
                if action.regimen is not None and action.regimen not in self.regimens:
                    problems.append(f"rules.{rule.id}: unknown regimen {action.regimen!r}")
                if action.bundle is not None and action.bundle not in self.bundles:
                    problems.append(f"rules.{rule.id}: unknown bundle {action.bundle!r}")
                regimen = self.regimens.get(action.regimen or "")
                is_steroid = regimen is not None and regimen.drug in {
                    Drug.DEXAMETHASONE,
                    Drug.METHYLPREDNISOLONE,
                }
                if is_steroid and action.steroid is None:
                    problems.append(f"rules.{rule.id}: corticosteroid action must say `steroid: replace/add` (§3.3)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def node(self, node_id: str) -> Node:
        """The node with this id."""
        return next(node for node in self.nodes if node.id == node_id)

    def rules_at(self, node_id: str) -> list[Rule]:
        """Rules that are entry actions of a node, in file order (§3.2: evaluated in order)."""
        return [rule for rule in self.rules if rule.node == node_id]


def _duplicates(kind: str, ids: list[str]) -> list[str]:
    repeated = sorted(item for item, count in Counter(ids).items() if count > 1)
    return [f"duplicate {kind} id {item!r}" for item in repeated]


# ---------------------------------------------------------------------------------------------------- loading


def builtin_protocol_ids() -> list[str]:
    """Ids of the protocols shipped with the package."""
    folder = resources.files(PROTOCOL_PACKAGE)
    return sorted(entry.name.removesuffix(".yaml") for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def _read_yaml(text: str, origin: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProtocolError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProtocolError(f"{origin}: a protocol file must be a mapping at the top level")
    return data


def _builtin_raw(protocol_id: str, chain: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    if protocol_id not in builtin_protocol_ids():
        raise ProtocolError(
            f"unknown protocol {protocol_id!r}; built-in protocols: {', '.join(builtin_protocol_ids())} "
            "(or pass a file path)"
        )
    origin = f"protocol {protocol_id!r} (crsguard/management/protocols/{protocol_id}.yaml)"
    text = resources.files(PROTOCOL_PACKAGE).joinpath(f"{protocol_id}.yaml").read_text(encoding="utf-8")
    return _resolve(_read_yaml(text, origin), origin, chain), origin


_MERGE_BY_KEY = ("bundles", "regimens", "step_up_schedules")
_MERGE_BY_ID = ("nodes", "edges", "rules")
_EXTENSION_ONLY = ("extends", "disable_rules")


def _merge_by_id(base: list[dict[str, Any]], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = {str(item.get("id")): item for item in base}
    for item in extra:
        merged[str(item.get("id"))] = item
    return list(merged.values())


def _resolve(raw: dict[str, Any], origin: str, chain: tuple[str, ...]) -> dict[str, Any]:
    """Apply `extends` (recursively) and `disable_rules`; the result is a plain protocol mapping."""
    parent_id = raw.get("extends")
    disabled = raw.get("disable_rules", [])
    if parent_id is None:
        if disabled:
            raise ProtocolError(f"{origin}: key 'disable_rules' is only allowed together with 'extends'")
        return raw
    if not isinstance(parent_id, str):
        raise ProtocolError(f"{origin}: key 'extends' must be a protocol id")
    if parent_id in chain:
        raise ProtocolError(f"{origin}: key 'extends' makes a cycle: {' → '.join((*chain, parent_id))}")
    base, _ = _builtin_raw(parent_id, (*chain, parent_id))
    merged: dict[str, Any] = {**base, **{k: v for k, v in raw.items() if k not in _EXTENSION_ONLY}}
    merged["settings"] = {**base.get("settings", {}), **raw.get("settings", {})}
    for key in _MERGE_BY_KEY:
        merged[key] = {**base.get(key, {}), **raw.get(key, {})}
    for key in _MERGE_BY_ID:
        merged[key] = _merge_by_id(base.get(key, []), raw.get(key, []))
    if not isinstance(disabled, list):
        raise ProtocolError(f"{origin}: key 'disable_rules' must be a list of rule ids")
    known_rules = {str(rule.get("id")) for rule in merged["rules"]}
    unknown = [rule_id for rule_id in disabled if rule_id not in known_rules]
    if unknown:
        raise ProtocolError(f"{origin}: key 'disable_rules' names unknown rules: {', '.join(map(str, unknown))}")
    merged["rules"] = [rule for rule in merged["rules"] if rule.get("id") not in disabled]
    return merged


def _validate(raw: dict[str, Any], origin: str) -> Protocol:
    try:
        return Protocol.model_validate(raw)
    except ValidationError as exc:
        raise ProtocolError(f"{origin}: invalid protocol:\n{describe_validation_error(exc, Protocol)}") from exc


def load_protocol(protocol: str | Path) -> Protocol:
    """Load a built-in protocol by id (`default`, `bispecific`, …) or an institution's YAML file by path."""
    if isinstance(protocol, Path) or protocol.endswith((".yaml", ".yml")):
        path = Path(protocol)
        origin = f"protocol file {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProtocolError(f"{origin}: cannot be read: {exc.strerror}") from exc
        raw = _read_yaml(text, origin)
        return _validate(_resolve(raw, origin, (str(raw.get("id", path.stem)),)), origin)
    return _load_builtin(protocol)


@lru_cache(maxsize=16)
def _load_builtin(protocol_id: str) -> Protocol:
    """Built-in protocols are parsed once per process (the models are frozen)."""
    raw, origin = _builtin_raw(protocol_id, (protocol_id,))
    return _validate(raw, origin)


def dump_protocol(protocol: Protocol) -> str:
    """The protocol as YAML (resolved, no `extends`), loadable again with `load_protocol`."""
    data = protocol.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


# ------------------------------------------------------------------------------------------ error messages


def _allowed_keys(model: type[BaseModel], location: tuple[int | str, ...]) -> list[str] | None:
    """Field names of the model that sits at `location` inside `model`, when it can be found."""
    current: Any = model
    for part in location:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if isinstance(part, str) and part in current.model_fields:
                current = current.model_fields[part].annotation
                continue
            if isinstance(part, str):
                return None
        current = _unwrap(current, part)
        if current is None:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return None


def _unwrap(annotation: Any, part: int | str) -> Any:
    """The element model of list[X], dict[str, X] or X | None, for walking an error location."""
    args = getattr(annotation, "__args__", ())
    candidates = [arg for arg in args if isinstance(arg, type) and issubclass(arg, BaseModel)]
    if candidates:
        return candidates[0]
    for arg in args:
        inner = _unwrap(arg, part)
        if inner is not None:
            return inner
    return None


def describe_validation_error(exc: ValidationError, model: type[BaseModel]) -> str:
    """One line per problem: the key path, what was wrong and, for unknown keys, the allowed keys."""
    lines = []
    for error in exc.errors():
        location = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
        path = ".".join(str(part) for part in location) or "(top level)"
        message = str(error["msg"])
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, location[:-1])
            message = f"unknown key {location[-1]!r}" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
        elif error["type"] == "missing":
            message = "required key is missing"
        lines.append(f"  {path}: {message}")
    return "\n".join(lines)
