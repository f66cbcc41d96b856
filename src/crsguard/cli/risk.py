"""`crsguard risk PATIENT.json`: pre-infusion risk scores and the seeds' risk-factor checklist."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crsguard.risk import RiskInputError, RiskReport, assess
from crsguard.risk.definitions import hematotox_table

INVALID_INPUT_EXIT = 2


class OutputFormat(enum.StrEnum):
    json = "json"
    table = "table"


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {message}", markup=False)
    return typer.Exit(INVALID_INPUT_EXIT)


def _read_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _fail(f"{path} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def _print_table(report: RiskReport) -> None:
    console = Console(highlight=False)
    scores = Table(title="Validated risk scores (risk-and-epidemiology.md §1)")
    for column in ("score", "value", "log2", "category", "cut-off", "missing inputs"):
        scores.add_column(column, overflow="fold")
    notes: list[str] = []
    for score in report.scores:
        cutoff = score.cutoff.describe_short() if score.cutoff is not None else "none validated"
        scores.add_row(
            score.name,
            _fmt(score.value),
            _fmt(score.log2_value),
            score.category or "—",
            cutoff,
            ", ".join(score.inputs_missing) or "—",
        )
        reasons = [score.not_computable_reason] if score.not_computable_reason else []
        notes += [f"{score.name}: {text}" for text in reasons + score.warnings]
    console.print(scores)
    for note in notes:
        console.print(f"  • {note}", markup=False)
    unavailable = Table(title="Scores not computed")
    for column in ("score", "reason", "spec"):
        unavailable.add_column(column, overflow="fold")
    for item in report.unavailable_scores:
        unavailable.add_row(item.name, item.reason, item.spec_section)
    console.print(unavailable)
    checklist = Table(title="Seed risk factors — checklist, NOT a score (risk-and-epidemiology.md §3)")
    for column in ("factor", "status", "evidence grade", "use"):
        checklist.add_column(column, overflow="fold")
    for factor in report.checklist.factors:
        checklist.add_row(factor.factor, factor.status, factor.evidence_grade, factor.use)
    console.print(checklist)
    console.print(report.checklist.note, markup=False)
    for warning in report.warnings:
        console.print(f"warning: {warning}", markup=False)


def risk_command(
    patient_json: Annotated[
        Path, typer.Argument(help="JSON object of baseline values (interop quantity names, canonical units).")
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.json,
    hematotox_boundary: Annotated[
        str | None,
        typer.Option(
            "--hematotox-boundary",
            help="CAR-HEMATOTOX scoring of a value exactly on a cut-off [A]: middle_band or strict_anc_hb.",
        ),
    ] = None,
) -> None:
    """Pre-infusion risk scores (EASIX, s-EASIX, m-EASIX, CAR-HEMATOTOX); seed risk-factor checklist."""
    table = hematotox_table()
    convention = hematotox_boundary or table.default_convention
    if convention not in table.conventions:
        raise _fail(
            f"--hematotox-boundary: unknown convention {convention!r}; "
            f"allowed: {', '.join(table.conventions)}"
        )
    raw = _read_json(patient_json)
    try:
        report = assess(raw, convention)
    except RiskInputError as exc:
        raise _fail(f"invalid input in {patient_json}:\n  " + "\n  ".join(exc.problems)) from None
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        _print_table(report)


def register(app: typer.Typer) -> None:
    """Add `crsguard risk` to the application."""
    app.command("risk")(risk_command)
