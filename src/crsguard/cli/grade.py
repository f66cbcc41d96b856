"""`crsguard grade` and `crsguard systems`: grade snapshots from JSON, and show the grading definitions."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from crsguard.cli.common import fail, json_records, out_console, parse_options, read_text, run_checked
from crsguard.grading import api, registry
from crsguard.grading.engine import TAG_MEANING, GradingSystem
from crsguard.grading.inputs import INPUT_FIELD
from crsguard.grading.options import OPTIONS, resolve, validate_options
from crsguard.grading.result import GradeResult
from crsguard.model.errors import InputError
from crsguard.model.snapshot import Snapshot

OptionFlag = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        "-o",
        help="Interpretive option NAME=VALUE (or SYSTEM.NAME=VALUE); repeatable. See `crsguard systems options`.",
    ),
]


def _result_json(line: int, result: GradeResult) -> str:
    return json.dumps({"line": line, **result.model_dump()}, ensure_ascii=False)


def _table(rows: list[tuple[int, GradeResult]]) -> Table:
    table = Table(title="Grades", show_lines=True)
    for column in ("line", "system", "grade", "status", "drivers", "missing", "warnings"):
        table.add_column(column, overflow="fold")
    for line, r in rows:
        grade = f"≥{r.grade}" if r.lower_bound else str(r.grade)
        table.add_row(
            str(line), r.system, grade, r.status, "\n".join(r.drivers), ", ".join(r.missing), "\n".join(r.warnings)
        )
    return table


def _grade_lines(
    valid: list[tuple[int, dict[str, Any]]], systems: list[str] | None, options: dict[str, Any]
) -> list[tuple[int, GradeResult]]:
    """Grade each line under `systems`, or (for --all) under every system its own inputs can inform, batching the
    lines that share a system set into one vectorised call."""
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
    for line, record in valid:
        chosen = tuple(systems) if systems is not None else tuple(api.informative_systems(record))
        groups.setdefault(chosen, []).append((line, record))
    graded: list[tuple[int, GradeResult]] = []
    for chosen, members in groups.items():
        results = run_checked(api.grade_many, [r for _, r in members], list(chosen), options)
        graded += [(line, r) for (line, _), per_system in zip(members, results, strict=True) for r in per_system]
    return graded


def grade_command(
    file: Annotated[str, typer.Argument(help="JSON object or JSON Lines (one snapshot per line); '-' for stdin.")],
    system: Annotated[str | None, typer.Option("--system", "-s", help="Grading system id.")] = None,
    all_systems: Annotated[
        bool, typer.Option("--all", help="Grade under every system the inputs of each line can inform.")
    ] = False,
    option: OptionFlag = None,
    output_format: Annotated[str, typer.Option("--format", help="json (JSON Lines) or table.")] = "json",
) -> None:
    """Grade snapshots: one JSON result per input line and system, in input order."""
    if output_format not in ("json", "table"):
        fail(f"--format {output_format!r}: allowed values are json, table")
    if all_systems == (system is not None):
        fail("give exactly one of --system ID or --all")
    systems = None if all_systems else [run_checked(registry.get, system).id]
    options = run_checked(validate_options, parse_options(option))
    valid: list[tuple[int, dict[str, Any]]] = []
    problems: list[str] = []
    for line, record in json_records(read_text(file)):
        if isinstance(record, InputError):
            problems += [f"line {line}: {p}" for p in record.problems]
            continue
        try:
            api.as_snapshot(record)
        except InputError as error:
            problems += [f"line {line}: {p}" for p in error.problems]
            continue
        valid.append((line, record))
    rows = sorted(_grade_lines(valid, systems, options), key=lambda pair: pair[0])
    if output_format == "table":
        out_console.print(_table(rows))
    else:
        for line, result in rows:
            typer.echo(_result_json(line, result))
    if problems:
        fail([*problems, f"{len(problems)} problem(s); lines graded: {len(valid)}; invalid lines were not graded"])


systems_app = typer.Typer(
    help="The grading systems: list them, show one as its grade table, list options.", no_args_is_help=True
)


@systems_app.command("list")
def systems_list() -> None:
    """List every grading system with its citation."""
    table = Table(title="Grading systems", show_lines=True)
    for column in ("id", "toxicity", "title", "evidence", "citation"):
        table.add_column(column, overflow="fold")
    for s in registry.SYSTEMS.values():
        table.add_row(s.id, s.toxicity, s.title, s.evidence, s.citation)
    out_console.print(table)


def definition_table(system: GradingSystem, options: dict[str, Any]) -> Table:
    """The definition rendered as the grade table the paper prints, with provenance beside each criterion."""
    resolved = resolve(system.id, options)
    table = Table(title=f"{system.id} — {system.title}", caption=system.citation, show_lines=True)
    for column in ("grade", "criterion (any one suffices)", "provenance", "spec", "recorded interpretation"):
        table.add_column(column, overflow="fold")
    criteria = sorted(system.criteria(resolved), key=lambda c: c.grade)
    for grade in sorted({c.grade for c in criteria}):
        rows = [c for c in criteria if c.grade == grade]
        for i, c in enumerate(rows):
            table.add_row(str(grade) if i == 0 else "", c.text, f"[{c.tag}] {TAG_MEANING[c.tag]}", c.ref, c.note)
    return table


@systems_app.command("show")
def systems_show(
    system_id: Annotated[str, typer.Argument(help="System id, e.g. astct2019.")], option: OptionFlag = None
) -> None:
    """Render one system's definition as its grade table, with notes and the options that apply."""
    system = run_checked(registry.get, system_id)
    options = run_checked(validate_options, parse_options(option))
    out_console.print(definition_table(system, options))
    for note in system.notes:
        out_console.print(f"• {note}")
    if system.gate_column:
        out_console.print(f"• Grade 0 whenever {system.gate_column} is false: {system.gate_text}.")
    resolved = resolve(system.id, options)
    for spec in OPTIONS.values():
        if system.id in spec.systems:
            out_console.print(f"• option {spec.name} = {resolved[spec.name]} ({spec.ref}): {spec.description}")


def _schema_row(name: str, prop: dict[str, Any], defs: dict[str, Any]) -> tuple[str, str, str]:
    """(type, allowed values or range, meaning) of one field from the model's JSON schema."""
    choices = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
    first = choices[0] if choices else {}
    if "$ref" in first:
        target = defs[first["$ref"].rsplit("/", 1)[-1]]
        kind = "enum" if "enum" in target else "object"
        allowed = ", ".join(map(str, target.get("enum", []))) or target.get("title", "")
    else:
        kind = " | ".join(str(c.get("type", "object")) for c in choices)
        low = first.get("minimum", first.get("exclusiveMinimum"))
        high = first.get("maximum", first.get("exclusiveMaximum"))
        allowed = f"{low} to {high}" if low is not None or high is not None else ""
    return kind, allowed, prop.get("description", "")


@systems_app.command("inputs")
def systems_inputs(
    system_id: Annotated[str | None, typer.Argument(help="Only the inputs this system reads.")] = None,
) -> None:
    """List the snapshot input fields with their type and allowed values (the closed schema)."""
    columns = None if system_id is None else registry.informing_inputs(run_checked(registry.get, system_id))
    read = None if columns is None else {INPUT_FIELD.get(c, c) for c in columns}
    schema = Snapshot.model_json_schema()
    table = Table(title="Snapshot inputs" + (f" read by {system_id}" if system_id else ""))
    for column in ("field", "type", "allowed", "meaning"):
        table.add_column(column, overflow="fold")
    for name, prop in schema["properties"].items():
        if read is None or name in read:
            table.add_row(name, *_schema_row(name, prop, schema.get("$defs", {})))
    out_console.print(table)


@systems_app.command("options")
def systems_options() -> None:
    """List the interpretive options with their defaults and the systems they concern."""
    table = Table(title="Options (--option NAME=VALUE or SYSTEM.NAME=VALUE)", show_lines=True)
    for column in ("name", "default", "allowed", "systems", "spec", "meaning"):
        table.add_column(column, overflow="fold")
    for spec in OPTIONS.values():
        default = (
            ", ".join(f"{s}: {spec.default_for(s)}" for s in spec.systems)
            if spec.system_defaults
            else str(spec.default)
        )
        table.add_row(
            spec.name, default, ", ".join(map(str, spec.choices)), ", ".join(spec.systems), spec.ref, spec.description
        )
    out_console.print(table)


def example_command(
    option: OptionFlag = None,
) -> None:
    """Grade the spec's worked example cases under every CRS system and print how the systems compare."""
    from importlib.resources import files

    data = json.loads(files("crsguard.grading").joinpath("data/example_cases.json").read_text("utf-8"))
    cases = [
        {"name": c["name"], "snapshot": {k: v for k, v in (data["baseline"] | c["changes"]).items() if v is not None}}
        for c in data["cases"]
    ]
    options = run_checked(validate_options, parse_options(option))
    systems = [s.id for s in registry.by_toxicity("crs")]
    results = run_checked(api.grade_many, [c["snapshot"] for c in cases], systems, options)
    table = Table(
        title="One patient state, nine CRS grading systems (≥n: lower bound, an input is missing)",
        caption="Grades differ because the systems differ (crs-grading.md §3.10). Decision support, not an order.",
        show_lines=True,
    )
    table.add_column("case", overflow="fold", min_width=24)
    for system in systems:
        table.add_column(system, justify="center")
    for case, per_system in zip(cases, results, strict=True):
        table.add_row(case["name"], *(f"≥{r.grade}" if r.lower_bound else str(r.grade) for r in per_system))
    out_console.print(table)
    example = results[2][1]
    out_console.print(f"\nWhy {example.system} gives {example.grade} for “{cases[2]['name']}”:")
    for driver in example.drivers:
        out_console.print(f"  • {driver}")
    for warning in example.warnings:
        out_console.print(f"  ⚠ {warning}")


def register(app: typer.Typer) -> None:
    app.command("grade")(grade_command)
    app.command("example")(example_command)
    app.add_typer(systems_app, name="systems")
