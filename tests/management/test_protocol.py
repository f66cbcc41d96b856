"""Protocols as data: closed schema, clear errors, round trip, institution override, structure (§9)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from crsguard.management import ProtocolError, load_protocol, recommend
from crsguard.management.facts import Facts
from crsguard.management.flowchart import describe_condition, to_html, to_mermaid, to_svg
from crsguard.management.protocol import Condition, builtin_protocol_ids, dump_protocol
from tests.management.states import at, crs, dose, state

SPEC_EDGES = {f"E{number}" for number in range(1, 59)}
SPEC_NODES = {
    *("S0", "T1", "FB", "FN", "BH", "C0", "C1", "C1V", "C2", "C2T", "C2S", "C3", "C4", "CR"),
    *("D1", "D2", "H1", "H2", "H3", "N0", "NT", "N1", "N2", "N3", "N4", "NR", "ND", "FU"),
}


def write(tmp_path: Path, data: dict[str, Any], name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_builtin_protocols_load() -> None:
    assert {"default", "bispecific"} <= set(builtin_protocol_ids())
    assert load_protocol("default").applies_to[0].value == "car_t"
    assert load_protocol("bispecific").settings.tocilizumab.course_scope == "episode"


@pytest.mark.parametrize("protocol_id", ["default", "bispecific"])
def test_graph_matches_spec_9(protocol_id: str) -> None:
    """Every node of §9.2 and every edge E1–E58 of §9.3 exists exactly once."""
    protocol = load_protocol(protocol_id)
    assert {node.id for node in protocol.nodes} == SPEC_NODES
    assert sorted(edge.id for edge in protocol.edges) == sorted(SPEC_EDGES)


@pytest.mark.parametrize("protocol_id", ["default", "bispecific"])
def test_every_rule_cites_the_spec(protocol_id: str) -> None:
    protocol = load_protocol(protocol_id)
    for rule in protocol.rules:
        assert re.search(r"management\.md §\d", rule.source), rule.id
        assert re.search(r"\b(S2|S|R|P)\b", rule.evidence), rule.id
    for name, regimen in protocol.regimens.items():
        assert re.search(r"management\.md §\d", regimen.source), name


def test_every_condition_field_has_a_fact() -> None:
    facts = Facts(state(), load_protocol("default").settings)
    for name in Condition.model_fields:
        if name != "any_of":
            facts.get(name)  # raises KeyError when a condition names no computable fact


def test_round_trip(tmp_path: Path) -> None:
    for protocol_id in ("default", "bispecific"):
        original = load_protocol(protocol_id)
        path = tmp_path / f"{protocol_id}-copy.yaml"
        path.write_text(dump_protocol(original), encoding="utf-8")
        assert load_protocol(path) == original


def test_institution_override(tmp_path: Path) -> None:
    """A site file extends default: stricter course limit, earlier corticosteroid rule disabled, own rule."""
    site = {
        "id": "site-sop",
        "extends": "default",
        "title": "Example centre SOP",
        "version": "2025-01",
        "settings": {"tocilizumab": {"max_per_course": 3}, "high_risk_products": ["tisagenlecleucel"]},
        "disable_rules": ["CRS-2d"],
        "rules": [
            {
                "id": "SITE-G2-DEX",
                "node": "C2",
                "title": "Site SOP: dexamethasone with the first tocilizumab dose",
                "actions": [
                    {
                        "kind": "drug",
                        "regimen": "dex_10_q6h",
                        "steroid": "add",
                        "text": "Site SOP: consider dexamethasone with the first tocilizumab dose",
                    }
                ],
                "source": "Example centre CRS SOP v3 §2 (based on management.md §3.2)",
                "evidence": "P",
            }
        ],
    }
    protocol = load_protocol(write(tmp_path, site))
    assert protocol.id == "site-sop" and protocol.settings.tocilizumab.max_per_course == 3
    assert "CRS-2d" not in {rule.id for rule in protocol.rules}
    patient = state(
        crs=crs(2, onset=at(1, 20), hypotension_present=True, response="not_improving"),
        evaluated_at=at(3, 2),
        doses_given=[
            dose("tocilizumab", 560, 2, 0),
            dose("tocilizumab", 560, 2, 9),
            dose("tocilizumab", 560, 2, 18),
        ],
    )
    default_report = recommend(patient)
    site_report = recommend(patient, protocol)
    default_toci = next(rec for rec in default_report.recommendations if rec.drug == "tocilizumab")
    site_toci = next(rec for rec in site_report.recommendations if rec.drug == "tocilizumab")
    assert default_toci.status == "suggested"
    assert site_toci.status == "refused" and "Course maximum (3)" in " ".join(site_toci.refusal_reasons)
    site_rules = {rule_id for rec in site_report.recommendations for rule_id in rec.rule_ids}
    assert "SITE-G2-DEX" in site_rules and "CRS-2d" not in site_rules


def _error(tmp_path: Path, data: dict[str, Any]) -> str:
    with pytest.raises(ProtocolError) as caught:
        load_protocol(write(tmp_path, data))
    return str(caught.value)


def _site(**extra: Any) -> dict[str, Any]:
    return {"id": "site", "extends": "default", "title": "t", "version": "1", **extra}


def test_unknown_key_is_rejected_with_allowed_keys(tmp_path: Path) -> None:
    message = _error(tmp_path, _site(settings={"tocilizumab": {"max_per_day": 2}}))
    assert "site.yaml" in message and "settings.tocilizumab.max_per_day" in message
    assert "unknown key 'max_per_day'" in message and "max_per_24h" in message


def test_unknown_drug_is_rejected(tmp_path: Path) -> None:
    regimen = {"drug": "aspirin", "schedule": "daily", "source": "x §1", "evidence": "P"}
    message = _error(tmp_path, _site(regimens={"aspirin_daily": regimen}))
    assert "regimens.aspirin_daily.drug" in message and "tocilizumab" in message


@pytest.mark.parametrize(
    ("regimens", "settings", "expected"),
    [
        ({"dex_bad": {"drug": "dexamethasone", "adult_dose_mg": -10}}, {}, "must be positive"),
        ({"toci_fast": {"drug": "tocilizumab", "every_h": 6}}, {}, "below the 8 h minimum"),
        ({"dex_range": {"drug": "dexamethasone", "adult_dose_mg": 10, "every_h": [12, 6]}}, {}, "ordered"),
        ({"mp": {"drug": "methylprednisolone"}}, {}, "needs methylprednisolone_regimen"),
        ({"toci_mp": {"drug": "tocilizumab", "methylprednisolone_regimen": "pulse"}}, {}, "applies only to"),
        ({}, {"tocilizumab": {"max_per_24h": 4}}, "exceeds 3 doses per 24 h"),
        ({}, {"tocilizumab": {"max_per_course": 6}}, "exceeds 4 doses"),
        ({}, {"levetiracetam_adult_dose_mg": 1500}, "levetiracetam_adult_dose_mg"),
    ],
)
def test_impossible_dose_rule_is_rejected(
    tmp_path: Path, regimens: dict[str, Any], settings: dict[str, Any], expected: str
) -> None:
    for regimen in regimens.values():
        regimen.setdefault("schedule", "s")
        regimen.setdefault("source", "management.md §4")
        regimen.setdefault("evidence", "P")
    message = _error(tmp_path, _site(regimens=regimens, settings=settings))
    assert expected in message


def test_reference_and_wording_errors(tmp_path: Path) -> None:
    bad_rule = {
        "id": "X-1",
        "node": "C9",
        "title": "t",
        "actions": [{"kind": "drug", "regimen": "missing", "text": "Give tocilizumab now"}],
        "source": "management.md §3",
        "evidence": "P",
    }
    message = _error(tmp_path, _site(rules=[bad_rule]))
    assert "order-like wording 'Give'" in message
    bad_rule["actions"] = [{"kind": "drug", "regimen": "missing", "text": "Consider tocilizumab"}]
    message = _error(tmp_path, _site(rules=[bad_rule]))
    assert "unknown node 'C9'" in message and "unknown regimen 'missing'" in message


def test_extension_errors(tmp_path: Path) -> None:
    assert "names unknown rules: NOPE" in _error(tmp_path, _site(disable_rules=["NOPE"]))
    assert "unknown protocol 'nope'" in _error(tmp_path, {**_site(), "extends": "nope"})
    standalone = {"id": "x", "title": "t", "version": "1", "disable_rules": ["CRS-1a"]}
    assert "only allowed together with 'extends'" in _error(tmp_path, standalone)
    (tmp_path / "broken.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(ProtocolError, match="not valid YAML"):
        load_protocol(tmp_path / "broken.yaml")
    with pytest.raises(ProtocolError, match="cannot be read"):
        load_protocol(tmp_path / "absent.yaml")
    with pytest.raises(ProtocolError, match="built-in protocols: "):
        load_protocol("no-such-protocol")


def test_flowchart_faces_come_from_the_protocol() -> None:
    protocol = load_protocol("default")
    mermaid = to_mermaid(protocol)
    assert mermaid.splitlines()[1] == "flowchart TD"
    for edge in protocol.edges:
        assert f'|"{edge.id}: ' in mermaid
    svg = to_svg(protocol)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for node in protocol.nodes:
        assert f"{node.id} · " in svg
    for rule in protocol.rules:
        assert rule.id in svg  # every rule is shown inside its node
    page = to_html(protocol)
    assert "Decision support — not an order" in page and "<script" not in page
    assert describe_condition(protocol.edges[15].guard) in page  # E16's guard in machine form


def test_describe_condition_words() -> None:
    condition = Condition.model_validate({"crs_grade": 2, "t_since_crs_onset_h": {"ge": 72}, "fever": False})
    assert describe_condition(condition) == "crs_grade = 2 and not fever and t_since_crs_onset_h ≥ 72"
    assert describe_condition(None) == "always"
