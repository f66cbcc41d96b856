"""Reading a simulated dataset back for tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crsguard.io.longformat import read_table

TABLES = ("patients", "observations", "interventions", "events")


def load_dataset(folder: Path, suffix: str = "parquet") -> dict[str, pl.DataFrame]:
    data = {t: read_table(folder / f"{t}.{suffix}", t) for t in TABLES}
    data["truth"] = (
        pl.read_parquet(folder / "truth.parquet") if suffix == "parquet" else pl.read_csv(folder / "truth.csv")
    )
    return data
