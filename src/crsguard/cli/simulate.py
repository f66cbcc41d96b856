"""``crsguard simulate``: synthetic CAR-T / bispecific cohorts in the interop.md §8 long format, and the
calibration report (``--validate``, risk-and-epidemiology.md §5.9)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crsguard.io.longformat import FORMATS, FileFormat, LongFormatError
from crsguard.model.vocabulary import VocabularyError
from crsguard.simulate.calibration import CalibrationRow, calibration_report
from crsguard.simulate.cohort import (
    MIX,
    SimulationError,
    SimulationSettings,
    canonical_product,
    run_simulation,
)
from crsguard.simulate.parameters import product_models

DEFAULT_VALIDATE_PATIENTS = 4000

_err = Console(stderr=True)
_out = Console()


def _fail(message: str) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)


def _report_table(rows: list[CalibrationRow], patients: int) -> Table:
    table = Table(title=f"Simulated vs published ({patients} patients per product, reference policy)")
    for column in ("product", "figure", "simulated", "published", "tolerance", "status", "marker", "source", "note"):
        table.add_column(column, overflow="fold")
    for row in rows:
        if row.within:
            status = "[green]ok[/]"
        elif row.acceptance:
            status = "[red]MISS[/]"
        else:
            status = "[yellow]warn[/]"
        table.add_row(
            row.product,
            row.metric,
            f"{row.simulated:.1f} {row.unit}",
            f"{row.published:.1f} {row.unit}",
            f"± {row.tolerance:g}",
            status,
            row.marker,
            row.source,
            row.note,
        )
    return table


def _validate(product: str | None, patients: int, days: int, seed: int, as_json: bool) -> None:
    names = list(product_models()) if product is None or product == MIX else [canonical_product(product)]
    rows = calibration_report(names, patients, days, seed)
    if as_json:
        payload = [{**asdict(r), "within": r.within, "acceptance": r.acceptance, "note": r.note} for r in rows]
        typer.echo(json.dumps(payload, indent=2))
        return
    _out.print(_report_table(rows, patients))
    misses = [r for r in rows if r.acceptance and not r.within]
    warnings = [r for r in rows if not r.acceptance and not r.within]
    _out.print(
        f"{len(rows)} figures; {len(misses)} acceptance targets ([P]/[L]/[D]) outside tolerance; "
        f"{len(warnings)} warning targets ([S]/[U]/[A]) outside tolerance. "
        "Lee/Penn-graded trial grades are used "
        "as latent ASTCT rungs without conversion (assumption; see risk-and-epidemiology.md §4.5, §6 item 1)."
    )


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to the crsguard CLI."""

    @app.command("simulate")
    def simulate(
        product: Annotated[
            str | None,
            typer.Option(help="Canonical product name (interop.md §2.3) or alias such as axi-cel, or 'mix'."),
        ] = None,
        patients: Annotated[int, typer.Option(help="Number of patients.")] = 1000,
        days: Annotated[int, typer.Option(help="Days of follow-up from t0 (day 0).")] = 30,
        seed: Annotated[int, typer.Option(help="Random seed; same seed and version give the same data.")] = 7,
        out: Annotated[Path | None, typer.Option(help="Output folder for the dataset.")] = None,
        file_format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
        charting_error_rate: Annotated[
            float,
            typer.Option(help="Share of numeric values charted wrongly (°F as °C, decimal slip); default 0."),
        ] = 0.0,
        policy: Annotated[
            str, typer.Option(help="Management policy: reference, early_tocilizumab or no_tocilizumab.")
        ] = "reference",
        overwrite: Annotated[bool, typer.Option(help="Replace dataset files already in --out.")] = False,
        validate: Annotated[
            bool,
            typer.Option("--validate", help="Print the calibration report instead of writing a dataset."),
        ] = False,
        validate_patients: Annotated[
            int, typer.Option(help="Patients per product for --validate.")
        ] = DEFAULT_VALIDATE_PATIENTS,
        as_json: Annotated[bool, typer.Option("--json", help="With --validate: JSON to stdout.")] = False,
    ) -> None:
        """Simulate a synthetic cohort (interop.md §8 long format plus truth.parquet), or --validate."""
        try:
            if validate:
                if validate_patients < 100:
                    raise _fail(f"--validate-patients {validate_patients}: at least 100 are needed")
                _validate(product, validate_patients, days, seed, as_json)
                return
            if product is None:
                raise _fail("--product is required (a product name or alias, or 'mix')")
            if out is None:
                raise _fail("--out is required (the folder to write the dataset into)")
            if file_format not in FORMATS:
                raise _fail(f"--format {file_format!r} is not supported; allowed: {', '.join(FORMATS)}")
            fmt: FileFormat = "parquet" if file_format == "parquet" else "csv"
            settings = SimulationSettings(product, patients, days, seed, policy, charting_error_rate).validated()
            with Progress(
                TextColumn("[bold]simulating[/] {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=_err,
            ) as progress:
                task = progress.add_task(settings.product, total=settings.patients)
                counts = run_simulation(
                    settings,
                    out,
                    fmt,
                    overwrite=overwrite,
                    on_progress=lambda done: progress.update(task, completed=done),
                )
        except (SimulationError, VocabularyError, LongFormatError) as error:
            raise _fail(str(error)) from None
        summary = ", ".join(f"{table} {rows}" for table, rows in counts.items())
        _out.print(f"wrote {out} ({fmt}): {summary} rows")
