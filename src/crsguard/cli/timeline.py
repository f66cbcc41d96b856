"""`crsguard regrade`, `crsguard timeline` and `crsguard demo`: graded courses from charted data (issue 5)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from crsguard.cli.common import err_console, fail, out_console
from crsguard.engines.kernel import BatchResult, grades_table, run_batch
from crsguard.engines.local import DEFAULT_BATCH_PATIENTS, RunSummary, run
from crsguard.grading import registry
from crsguard.io.longformat import FORMATS, DatasetWriter, FileFormat, LongFormatError
from crsguard.io.reader import Dataset, ReadOptions, empty_quarantine, scan_raw, validate_tables
from crsguard.model.errors import InputError
from crsguard.model.vocabulary import PRODUCTS, VocabularyError
from crsguard.risk import ALERT_SCHEMA, course_alerts
from crsguard.timeline import course
from crsguard.timeline.config import TimelineConfig

OUTPUT_TABLES = ("grades", "episodes", "daily", "patient_summary", "concordance", "alerts", "quarantine")
REFERENCE_SYSTEM = "astct2019"
#: Concordance compares CRS systems with each other (ICANS grades another syndrome).
CRS_SYSTEMS = tuple(s.id for s in registry.by_toxicity("crs"))
DEMO_PATIENTS = 300
DEMO_DAYS = 30
GRADES = range(6)


class _Collector:
    """Receives batches: streams `grades`, keeps the smaller tables for the end (concordance needs them all)."""

    def __init__(
        self, writer: DatasetWriter | None, detail: bool, progress: Progress | None, task: TaskID | None
    ) -> None:
        self.writer, self.detail, self.progress, self.task = writer, detail, progress, task
        self.episodes: list[pl.DataFrame] = []
        self.daily: list[pl.DataFrame] = []
        self.summary: list[pl.DataFrame] = []
        self.quarantine: list[pl.DataFrame] = []
        self.alerts: list[pl.DataFrame] = []
        self.results: list[BatchResult] = []
        self.keep_results = False

    def __call__(self, dataset: Dataset, result: BatchResult | None, systems: list[str], patients: int) -> None:
        if dataset.quarantine.height:
            self.quarantine.append(dataset.quarantine)
        if result is not None:
            if self.writer is not None:
                self.writer.write(
                    "grades", grades_table(result.graded, systems, result.episodes, dataset.patients, self.detail)
                )
            self.episodes.append(result.episodes)
            self.daily.append(result.daily)
            self.summary.append(result.summary)
            self.alerts.append(
                course_alerts(dataset.observations, dataset.interventions, result.series, dataset.patients)
            )
            if self.keep_results:
                self.results.append(result)
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, patients)

    def tables(self) -> dict[str, pl.DataFrame]:
        summary = pl.concat(self.summary) if self.summary else pl.DataFrame()
        return {
            "episodes": pl.concat(self.episodes) if self.episodes else pl.DataFrame(),
            "daily": pl.concat(self.daily) if self.daily else pl.DataFrame(),
            "patient_summary": summary,
            "concordance": course.concordance(summary.filter(pl.col("system").is_in(CRS_SYSTEMS)), REFERENCE_SYSTEM)
            if summary.height
            else pl.DataFrame(),
            "alerts": pl.concat(self.alerts) if self.alerts else pl.DataFrame(schema=ALERT_SCHEMA),
            "quarantine": pl.concat(self.quarantine, how="diagonal_relaxed") if self.quarantine else empty_quarantine(),
        }


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns joined with ';' (CSV has no lists)."""
    return frame.with_columns(pl.col(c).list.join(";") for c, t in frame.schema.items() if isinstance(t, pl.List))


def _patient_count(input_dir: Path) -> int:
    return int(scan_raw(input_dir, "patients").select(pl.len()).collect().item())


def regrade_dir(
    input_dir: Path,
    out_dir: Path | None,
    config: TimelineConfig,
    systems: Sequence[str] | str,
    file_format: FileFormat = "parquet",
    detail: bool = False,
    overwrite: bool = False,
    batch_patients: int = DEFAULT_BATCH_PATIENTS,
    show_progress: bool = True,
    options: ReadOptions | None = None,
) -> tuple[RunSummary, dict[str, pl.DataFrame]]:
    """Run the whole path and write the output tables (all-or-nothing); returns the summary and small tables."""
    total = _patient_count(input_dir)
    progress = Progress(
        TextColumn("regrading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not show_progress,
    )
    with progress:
        task = progress.add_task("regrade", total=total)
        if out_dir is None:
            collector = _Collector(None, detail, progress, task)
            summary = run(
                input_dir, config, systems, collector, batch_patients=batch_patients, detail=detail, options=options
            )
            return summary, collector.tables()
        with DatasetWriter(out_dir, file_format, overwrite=overwrite) as writer:
            clashes = writer.existing_targets(OUTPUT_TABLES)
            if clashes and not overwrite:
                raise LongFormatError(f"output files already exist: {', '.join(map(str, clashes))}; use --overwrite")
            collector = _Collector(writer, detail, progress, task)
            summary = run(
                input_dir, config, systems, collector, batch_patients=batch_patients, detail=detail, options=options
            )
            tables = collector.tables()
            for name, frame in tables.items():
                writer.write(name, _flat(frame) if file_format == "csv" else frame)
            if "grades" not in writer.row_counts:
                writer.write("grades", pl.DataFrame())
    return summary, tables


# ------------------------------------------------------------------------------------------------------ printing
def distribution_table(summary: pl.DataFrame, title: str) -> Table:
    """Max grade per patient, per system: counts by grade, any grade and grade ≥ 3 (%)."""
    table = Table(title=title)
    for column in ("system", *(f"G{g}" for g in GRADES), "any %", "≥3 %", "lower bound*"):
        table.add_column(column, justify="right" if column != "system" else "left")
    for system in summary["system"].unique(maintain_order=True).to_list():
        rows = summary.filter(pl.col("system") == system)
        counts = [rows.filter(pl.col("max_grade") == g).height for g in GRADES]
        n = rows.height
        table.add_row(
            system,
            *map(str, counts),
            f"{100 * (n - counts[0]) / n:.1f}",
            f"{100 * sum(counts[3:]) / n:.1f}",
            str(rows["max_is_lower_bound"].sum()),
        )
    table.caption = "* patients whose maximum is a lower bound: an input that could raise it is missing (A24)"
    return table


def concordance_table(concordance: pl.DataFrame) -> Table:
    """% same maximum grade and linear-weighted kappa of each system against astct2019."""
    table = Table(
        title=f"Concordance of maximum grades with {REFERENCE_SYSTEM}",
        caption="higher / lower: patients graded above / below astct2019; κ with linear weights",
    )
    for column in ("system", "n", "% same", "weighted κ", "higher", "lower"):
        table.add_column(column, justify="right" if column != "system" else "left")
    for system in concordance["system"].unique(maintain_order=True).to_list():
        rows = concordance.filter(pl.col("system") == system)
        higher = rows.filter(pl.col("system_grade") > pl.col("reference_grade"))["patients"].sum()
        lower = rows.filter(pl.col("system_grade") < pl.col("reference_grade"))["patients"].sum()
        kappa = rows["weighted_kappa"][0]
        table.add_row(
            system,
            str(rows["patients_compared"][0]),
            f"{rows['percent_same_grade'][0]:.1f}",
            "—" if kappa is None else f"{kappa:.2f}",
            str(higher),
            str(lower),
        )
    return table


def _print_summary(summary: RunSummary, tables: dict[str, pl.DataFrame], seconds: float) -> None:
    out_console.print(
        f"[bold]{summary.patients}[/] patients, {summary.observations:,} observations graded under "
        f"{len(summary.systems)} systems in {seconds:.1f} s; {summary.quarantined} rows quarantined"
    )
    if tables["patient_summary"].height:
        out_console.print(distribution_table(tables["patient_summary"], "Maximum grade per patient"))
    if tables["concordance"].height:
        out_console.print(concordance_table(tables["concordance"]))
    if summary.quarantined:
        reasons = tables["quarantine"].group_by("table", "reason").len().sort("len", descending=True)
        out_console.print("quarantined: " + ", ".join(f"{t}/{r} {n}" for t, r, n in reasons.iter_rows()))
    dropped = {name: count for name, count in summary.dropped.items() if count}
    if dropped:
        out_console.print("dropped (not graded, counted): " + ", ".join(f"{k} {v}" for k, v in dropped.items()))


def _config(grid: str, window_hours: float, episode_gap_hours: float, no_masking: bool) -> TimelineConfig:
    try:
        return TimelineConfig(
            grid=grid, window_hours=window_hours, episode_gap_hours=episode_gap_hours, fever_masking=not no_masking
        ).validated()
    except InputError as error:
        fail(error.problems)


def _systems(value: str) -> list[str] | str:
    return "all" if value.strip() == "all" else [s.strip() for s in value.split(",") if s.strip()]


def _input_dir(path: Path) -> Path:
    if not path.is_dir():
        fail(f"INPUT_DIR {path}: not a directory holding patients/observations/interventions/events files")
    return path


# ------------------------------------------------------------------------------------------------------ commands
def regrade(
    input_dir: Annotated[Path, typer.Argument(help="Directory with patients/observations/interventions/events.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    systems: Annotated[str, typer.Option(help="'all' or comma-separated system ids (astct2019,lee2014,…).")] = "all",
    grid: Annotated[str, typer.Option(help="Assessment grid: 1h (default), 30m, 1d, … or 'observation'.")] = "1h",
    window_hours: Annotated[float, typer.Option(help="Look-back window, h (crs-grading.md §1.1).")] = 24.0,
    episode_gap_hours: Annotated[float, typer.Option(help="Grade-0 time that ends an episode, h (A18).")] = 24.0,
    no_masking: Annotated[bool, typer.Option("--no-masking", help="Do not derive fever_masked (A2).")] = False,
    file_format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    detail: Annotated[bool, typer.Option(help="Drivers, missing inputs and warnings in grades.drivers.")] = False,
    source_time_zone: Annotated[str | None, typer.Option(help="Zone for times without offset (§0.3).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace existing output files.")] = False,
) -> None:
    """Regrade a cohort from charted data: grades, episodes, daily maxima, summaries, concordance, quarantine."""
    if file_format not in FORMATS:
        fail(f"--format {file_format!r} not allowed; allowed: {', '.join(FORMATS)}")
    config = _config(grid, window_hours, episode_gap_hours, no_masking)
    started = time.perf_counter()
    try:
        summary, tables = regrade_dir(
            _input_dir(input_dir),
            out,
            config,
            _systems(systems),
            file_format,
            detail=detail,
            overwrite=overwrite,
            options=ReadOptions(source_time_zone=source_time_zone),
        )
    except (InputError, LongFormatError, VocabularyError) as error:
        fail(getattr(error, "problems", None) or str(error))
    _print_summary(summary, tables, time.perf_counter() - started)
    out_console.print(f"wrote {', '.join(f'{t}.{file_format}' for t in OUTPUT_TABLES)} to {out}")


def timeline(
    patient_id: Annotated[str, typer.Argument(help="Patient to show.")],
    input_dir: Annotated[Path, typer.Argument(help="Dataset directory.")],
    systems: Annotated[str, typer.Option(help="'all' or comma-separated system ids.")] = "astct2019,lee2014,ctcae_v5",
    grid: Annotated[str, typer.Option(help="Assessment grid.")] = "1h",
    every_row: Annotated[bool, typer.Option("--all-rows", help="Every evaluation, not only grade changes.")] = False,
) -> None:
    """One patient's graded course: time, key values, grade per system and what drove the first system's grade."""
    config = _config(grid, 24.0, 24.0, False)
    directory = _input_dir(input_dir)
    try:
        raw = {
            t: scan_raw(directory, t).filter(pl.col("patient_id") == patient_id).collect()
            for t in ("patients", "observations", "interventions", "events")
        }
        if raw["patients"].is_empty():
            fail(f"patient {patient_id!r} has no row in {directory}/patients")
        dataset = validate_tables(raw)
        if dataset.patients.is_empty():
            fail([f"patient {patient_id!r}: patients row rejected: {d}" for d in dataset.quarantine["detail"]])
        result, chosen = run_batch(dataset, config, _systems(systems), detail=True)
    except (InputError, LongFormatError, VocabularyError) as error:
        fail(getattr(error, "problems", None) or str(error))
    out_console.print(_course_table(patient_id, dataset, result, chosen, every_row))
    if dataset.quarantine.height:
        out_console.print(
            f"{dataset.quarantine.height} rows of this patient quarantined: "
            + "; ".join(dataset.quarantine["detail"].head(5).to_list())
        )


def _course_table(patient_id: str, dataset: Dataset, result: BatchResult, systems: list[str], every_row: bool) -> Table:
    frame = result.graded
    t0 = dataset.patients["t0"][0]
    grades = pl.concat_str([pl.col(f"{s}_grade").cast(pl.String) for s in systems], separator="|")
    shown = (
        frame
        if every_row
        else frame.filter((grades != grades.shift(1)).fill_null(True) | (pl.int_range(pl.len()) == pl.len() - 1))
    )
    product = dataset.patients["product"][0]
    table = Table(title=f"{patient_id} ({product}); t0 {t0:%Y-%m-%d %H:%M} UTC; 24-h window values")
    for column in (
        "time (UTC)",
        "day",
        "Tmax °C",
        "SBPmin",
        "pressors (h)",
        "O₂",
        "masked",
        *systems,
        f"{systems[0]} drivers",
    ):
        table.add_column(column, overflow="fold")
    pressors = [
        c
        for c in frame.columns
        if c.endswith("_hours") and c != "vasopressor_total_hours" and not c.startswith("temperature")
    ]
    for row in shown.iter_rows(named=True):
        running = ", ".join(f"{c.removesuffix('_hours')} {row[c]:.0f}" for c in pressors if (row[c] or 0) > 0)
        device = row.get("o2_device") or "—"
        if row.get("o2_flow_l_min") is not None and device != "none":
            device += f" {row['o2_flow_l_min']:g} L/min"
        table.add_row(
            f"{row['time']:%Y-%m-%d %H:%M}",
            str(row["study_day"]),
            "—" if row["temperature_c"] is None else f"{row['temperature_c']:.1f}",
            "—" if row["sbp_mmhg"] is None else f"{row['sbp_mmhg']:.0f}",
            running or "—",
            device,
            "yes" if row.get("fever_masked") else "",
            *(("≥" if row[f"{s}_lower_bound"] else "") + str(row[f"{s}_grade"]) for s in systems),
            "; ".join(row[f"{systems[0]}_drivers"] or []),
        )
    return table


def demo(
    patients: Annotated[int, typer.Option(help="Simulated patients (mix of products).")] = DEMO_PATIENTS,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    out: Annotated[Path | None, typer.Option(help="Keep the simulated data and the results here.")] = None,
) -> None:
    """Simulate a cohort across products, regrade it from the charted data and compare with published figures."""
    from crsguard.simulate.cohort import SimulationSettings, run_simulation

    if patients < 1:
        fail(f"--patients {patients}: must be at least 1")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crsguard-demo-") as scratch:
        base = out or Path(scratch)
        data_dir, results_dir = base / "data", base / "results"
        with Progress(
            TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console
        ) as progress:
            task = progress.add_task("simulate", total=patients)
            run_simulation(
                SimulationSettings("mix", patients, DEMO_DAYS, seed),
                data_dir,
                overwrite=True,
                on_progress=lambda done: progress.update(task, completed=done),
            )
        summary, tables = regrade_dir(data_dir, results_dir if out else None, TimelineConfig(), "all", overwrite=True)
        truth = (
            pl.read_parquet(data_dir / "truth.parquet")
            .group_by("patient_id")
            .agg(pl.col("crs_grade").max().cast(pl.Int32).alias("truth"))
        )
    elapsed = time.perf_counter() - started
    patient_summary = tables["patient_summary"]
    out_console.print(
        f"[bold]crsguard demo[/]: {summary.patients} simulated patients ({DEMO_DAYS} days, seed {seed}), "
        f"{summary.observations:,} charted observations regraded from raw data in {elapsed:.0f} s"
    )
    out_console.print(product_table(patient_summary))
    crs = patient_summary.filter(pl.col("system").is_in(CRS_SYSTEMS))
    out_console.print(distribution_table(crs, "Maximum CRS grade per patient under every CRS grading system"))
    neuro = patient_summary.filter(~pl.col("system").is_in(CRS_SYSTEMS))
    if neuro.height:
        out_console.print(
            distribution_table(
                neuro, "Maximum grade per patient, other toxicities (IEC-HS needs clinician confirmation)"
            )
        )
    out_console.print(concordance_table(tables["concordance"]))
    astct = patient_summary.filter(pl.col("system") == REFERENCE_SYSTEM).join(truth, on="patient_id")
    agree = astct.filter(pl.col("max_grade") == pl.col("truth")).height
    kappa = course.weighted_kappa(astct["max_grade"], astct["truth"])
    out_console.print(
        f"astct2019 derived from charted data vs the simulator's latent truth: "
        f"{100 * agree / max(astct.height, 1):.1f}% same maximum grade, weighted κ "
        f"{'—' if kappa is None else f'{kappa:.3f}'}"
    )


def product_table(summary: pl.DataFrame) -> Table:
    """Per product: simulated-and-regraded ASTCT incidence next to the published figures (simulator's data)."""
    from crsguard.simulate.parameters import product_models

    models = product_models()
    table = Table(title="CRS per product: regraded from charted data (astct2019) vs the published trial figures")
    for column in (
        "product",
        "n",
        "any %",
        "trial any %",
        "≥3 %",
        "trial ≥3 %",
        "trial scale",
        "G1",
        "G2",
        "G3",
        "G4",
        "G5",
    ):
        table.add_column(column, justify="left" if column in ("product", "trial scale") else "right")
    astct = summary.filter(pl.col("system") == REFERENCE_SYSTEM)
    for product in sorted(astct["product"].unique().to_list()):
        rows = astct.filter(pl.col("product") == product)
        n = rows.height
        model = models.get(product)
        counts = [rows.filter(pl.col("max_grade") == g).height for g in GRADES]
        table.add_row(
            PRODUCTS[product].brand if product in PRODUCTS else product,
            str(n),
            f"{100 * (n - counts[0]) / n:.0f}",
            "—" if model is None else f"{100 * model.crs_any.value:.0f}",
            f"{100 * sum(counts[3:]) / n:.0f}",
            "—" if model is None else f"{100 * model.crs_grade3plus.value:.0f}",
            "—" if model is None else model.grading,
            *map(str, counts[1:]),
        )
    return table


def register(app: typer.Typer) -> None:
    app.command("regrade")(regrade)
    app.command("timeline")(timeline)
    app.command("demo")(demo)
