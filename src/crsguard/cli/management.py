"""CLI for management decision support: `dose`, `recommend`, `protocol show|list|validate`.

JSON goes to stdout; errors go to stderr with exit status 2 (invalid input), never a traceback.
Decision support — not an order (management.md §11.1).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from crsguard.management.dosing import (
    AnakinraRegimen,
    DoseCalculation,
    DoseInputError,
    MethylprednisoloneRegimen,
    acetaminophen_dose,
    anakinra_dose,
    dexamethasone_dose,
    levetiracetam_dose,
    methylprednisolone_dose,
    siltuximab_dose,
    tocilizumab_dose,
)
from crsguard.management.engine import NOT_AN_ORDER, ProtocolMismatchError, RecommendationReport, recommend
from crsguard.management.flowchart import to_html, to_mermaid, to_svg
from crsguard.management.protocol import (
    Protocol,
    ProtocolError,
    builtin_protocol_ids,
    describe_validation_error,
    dump_protocol,
    load_protocol,
)
from crsguard.management.safety import WEIGHT_REFUSE_AFTER_DAYS, WEIGHT_WARN_AFTER_DAYS
from crsguard.management.state import PatientState
from crsguard.management.vocabulary import NOT_DOSED_MESSAGE, Drug, NotDosedAgent

_stderr = Console(stderr=True)
_stdout = Console()

R = TypeVar("R", bound=StrEnum)
DOSED_DRUGS = [drug.value for drug in Drug if drug is not Drug.HYDROCORTISONE]


class OutputFormat(StrEnum):
    """`recommend` output."""

    JSON = "json"
    TABLE = "table"


class FlowchartFormat(StrEnum):
    """`protocol show` output."""

    MERMAID = "mermaid"
    SVG = "svg"
    HTML = "html"
    YAML = "yaml"


def _fail(message: str) -> NoReturn:
    _stderr.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# -------------------------------------------------------------------------------------------------- dose


def _weight_date_warnings(weight_date: str | None) -> list[str]:
    """Staleness of the weight (management.md §4.10, A23); a weight older than 30 days is refused."""
    if weight_date is None:
        return ["Weight date not given: confirm a measured weight from the last 7 days (§4.10)"]
    try:
        measured = date.fromisoformat(weight_date)
    except ValueError:
        _fail(f"--weight-date: {weight_date!r} is not a date (expected YYYY-MM-DD)")
    age_days = (datetime.now(UTC).date() - measured).days
    if age_days < 0:
        _fail(f"--weight-date: {weight_date} lies in the future")
    if age_days > WEIGHT_REFUSE_AFTER_DAYS:
        _fail(
            f"--weight-date: weight recorded {age_days} days "
            "ago (> 30 days); record a measured weight (§4.10)"
        )
    if age_days > WEIGHT_WARN_AFTER_DAYS:
        return [f"Weight recorded {age_days} days ago (> 7 days): confirm a measured weight (§4.10)"]
    return []


def _calculate(
    drug: Drug,
    weight_kg: float | None,
    age_years: float | None,
    regimen: str | None,
    adult_dose_mg: float | None,
    crcl_ml_min: float | None,
    haemodialysis: bool,
) -> DoseCalculation:
    if drug is Drug.TOCILIZUMAB:
        return tocilizumab_dose(weight_kg, age_years)
    if drug is Drug.DEXAMETHASONE:
        return dexamethasone_dose(weight_kg, age_years, adult_dose_mg or 10.0)
    if drug is Drug.METHYLPREDNISOLONE:
        choice = _regimen(MethylprednisoloneRegimen, regimen, MethylprednisoloneRegimen.STANDARD)
        return methylprednisolone_dose(weight_kg, age_years, choice)
    if drug is Drug.ANAKINRA:
        return anakinra_dose(
            weight_kg, age_years, _regimen(AnakinraRegimen, regimen, AnakinraRegimen.WEIGHT_BASED)
        )
    if drug is Drug.SILTUXIMAB:
        return siltuximab_dose(weight_kg, age_years)
    if drug is Drug.LEVETIRACETAM:
        return levetiracetam_dose(weight_kg, age_years, crcl_ml_min, haemodialysis, adult_dose_mg or 500.0)
    return acetaminophen_dose(weight_kg, age_years)


def _regimen(kind: type[R], value: str | None, default: R) -> R:
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(item.value for item in kind)
        _fail(f"--regimen: {value!r} is not a regimen of this drug; allowed: {allowed}")


def dose_command(
    drug: Annotated[str, typer.Argument(help=f"One of: {', '.join(DOSED_DRUGS)}")],
    weight_kg: Annotated[float | None, typer.Option("--weight-kg", help="Actual body weight, kg")] = None,
    age_years: Annotated[
        float | None, typer.Option("--age-years", help="Age; missing → child formula")
    ] = None,
    weight_date: Annotated[str | None, typer.Option("--weight-date", help="Date weighed, YYYY-MM-DD")] = None,
    regimen: Annotated[
        str | None, typer.Option("--regimen", help="methylprednisolone or anakinra regimen")
    ] = None,
    adult_dose_mg: Annotated[
        float | None, typer.Option("--adult-dose-mg", help="dexamethasone (10/20) or levetiracetam (500–750)")
    ] = None,
    crcl_ml_min: Annotated[float | None, typer.Option("--crcl-ml-min", help="Creatinine clearance")] = None,
    haemodialysis: Annotated[bool, typer.Option("--haemodialysis", help="On haemodialysis")] = False,
) -> None:
    """Calculate one dose (management.md §4); print JSON with drug, dose_mg, formula, capped, warnings."""
    name = drug.strip().lower()
    if name in {agent.value for agent in NotDosedAgent}:
        _fail(f"{name}: {NOT_DOSED_MESSAGE}")
    if name not in DOSED_DRUGS:
        _fail(f"unknown drug {drug!r}; allowed: {', '.join(DOSED_DRUGS)}")
    if regimen is not None and name not in {Drug.METHYLPREDNISOLONE.value, Drug.ANAKINRA.value}:
        _fail("--regimen applies only to methylprednisolone and anakinra")
    if age_years is not None and not 0 <= age_years <= 130:
        _fail(f"--age-years: {age_years:g} is implausible (allowed 0–130)")
    try:
        result = _calculate(
            Drug(name), weight_kg, age_years, regimen, adult_dose_mg, crcl_ml_min, haemodialysis
        )
    except DoseInputError as exc:
        option = "--" + exc.field.replace("_", "-")
        _fail(f"{name}: {option}: {exc.message}")
    warnings = list(result.warnings)
    if weight_kg is not None:
        warnings += _weight_date_warnings(weight_date)
    payload = {"label": NOT_AN_ORDER, **result.model_dump(mode="json"), "warnings": warnings}
    _print_json(payload)


# ---------------------------------------------------------------------------------------------- recommend


def _load_protocol_option(protocol: str, protocol_file: Path | None) -> Protocol:
    try:
        return load_protocol(protocol_file if protocol_file is not None else protocol)
    except ProtocolError as exc:
        _fail(str(exc))


def _load_state(path: Path) -> PatientState:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"{path}: cannot be read: {exc.strerror}")
    except json.JSONDecodeError as exc:
        _fail(f"{path}: not valid JSON: {exc}")
    try:
        return PatientState.model_validate(raw)
    except ValidationError as exc:
        _fail(f"{path}: invalid patient state:\n{describe_validation_error(exc, PatientState)}")


def _dose_text(rec_dose: DoseCalculation | None) -> str:
    if rec_dose is None:
        return ""
    amount = (
        f"{rec_dose.dose_mg:g} mg"
        if rec_dose.dose_mg is not None
        else (
            f"{rec_dose.dose_range_mg[0]:g}–{rec_dose.dose_range_mg[1]:g} mg"
            if rec_dose.dose_range_mg
            else ""
        )
    )
    return f"{amount} {rec_dose.route}\n{rec_dose.formula}"


def _print_table(report: RecommendationReport) -> None:
    _stdout.print(f"[bold]{report.label}[/] — protocol {report.protocol_id} ({report.protocol_version})")
    grades = ", ".join(f"{system} {read.grade}" for system, read in report.grades.items())
    _stdout.print(
        f"Grades read: {grades}; weight used: {report.weight_used_kg} kg; nodes: "
        f"{' '.join(report.active_nodes)}"
    )
    table = Table(show_lines=True)
    for column in ("role", "status", "suggestion", "dose", "schedule", "rules / source"):
        table.add_column(column, overflow="fold")
    drugs_first = sorted(report.recommendations, key=lambda rec: rec.dose is None and rec.drug is None)
    for rec in drugs_first:
        bundle = [f"(+ {len(rec.items)} bundle items in the JSON output)"] if rec.items else []
        suggestion = "\n".join(
            rec.texts + bundle + [f"⚠ {item}" for item in rec.refusal_reasons + rec.warnings]
        )
        if rec.next_eligible is not None:
            suggestion += f"\nnext eligible: {rec.next_eligible.isoformat()}"
        table.add_row(
            rec.role.value,
            rec.status,
            suggestion,
            _dose_text(rec.dose),
            rec.schedule or "",
            ", ".join(rec.rule_ids) + "\n" + "; ".join(rec.sources),
        )
    _stdout.print(table)
    findings = Table(title="Safety findings", show_lines=False)
    for column in ("severity", "message", "source"):
        findings.add_column(column, overflow="fold")
    for finding in report.findings:
        findings.add_row(finding.severity.value, finding.message, finding.source)
    _stdout.print(findings)
    if report.missing_inputs:
        _stdout.print(f"Missing inputs: {', '.join(report.missing_inputs)}")


def recommend_command(
    state_file: Annotated[Path, typer.Argument(help="Patient state JSON (management.md §2)")],
    protocol: Annotated[str, typer.Option("--protocol", help="Built-in protocol id")] = "default",
    protocol_file: Annotated[
        Path | None,
        typer.Option("--protocol-file", help="An institution's protocol YAML (overrides --protocol)"),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="json or table")
    ] = OutputFormat.JSON,
) -> None:
    """Recommendations and safety findings for one patient state (decision support — not an order)."""
    loaded = _load_protocol_option(protocol, protocol_file)
    state = _load_state(state_file)
    try:
        report = recommend(state, loaded)
    except ProtocolMismatchError as exc:
        _fail(str(exc))
    if output_format is OutputFormat.TABLE:
        _print_table(report)
    else:
        _print_json(report.model_dump(mode="json"))


# ----------------------------------------------------------------------------------------------- protocol

protocol_app = typer.Typer(help="Management protocols as data: show, list, validate.", no_args_is_help=True)


@protocol_app.command("show")
def protocol_show(
    protocol_id: Annotated[str, typer.Argument(help="Built-in protocol id, or a YAML path")],
    output_format: Annotated[FlowchartFormat, typer.Option("--format", help="mermaid, svg, html or yaml")] = (
        FlowchartFormat.MERMAID
    ),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead")] = None,
) -> None:
    """Render a protocol as the management flowchart (the same data the engine evaluates)."""
    loaded = _load_protocol_option(protocol_id, None)
    renderers = {
        FlowchartFormat.MERMAID: to_mermaid,
        FlowchartFormat.SVG: to_svg,
        FlowchartFormat.HTML: to_html,
        FlowchartFormat.YAML: dump_protocol,
    }
    text = renderers[output_format](loaded)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"{output}: cannot be written: {exc.strerror}")


@protocol_app.command("list")
def protocol_list() -> None:
    """The built-in protocols, as JSON."""
    _print_json(
        [
            {"id": loaded.id, "title": loaded.title, "applies_to": [item.value for item in loaded.applies_to]}
            for loaded in (load_protocol(protocol_id) for protocol_id in builtin_protocol_ids())
        ]
    )


@protocol_app.command("validate")
def protocol_validate(path: Annotated[Path, typer.Argument(help="Protocol YAML file")]) -> None:
    """Validate an institution's protocol file against the closed schema."""
    loaded = _load_protocol_option(str(path), path)
    _print_json({"valid": True, "id": loaded.id, "rules": len(loaded.rules), "nodes": len(loaded.nodes)})


def register(app: typer.Typer) -> None:
    """Add `dose`, `recommend` and the `protocol` group to the crsguard app."""
    app.command("dose")(dose_command)
    app.command("recommend")(recommend_command)
    app.add_typer(protocol_app, name="protocol")
