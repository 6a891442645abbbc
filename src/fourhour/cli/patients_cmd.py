"""`fourhour patients`: patient-level attendances: ingest, measure, export returns, generate."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fourhour.cli import app, console
from fourhour.cli.options import WarehouseOption, input_argument, output_option
from fourhour.errors import InvalidInputError
from fourhour.ingest.patients.volume import NATIONAL_YEAR
from fourhour.measures.standard import LEVELS
from fourhour.outputs import atomic_path, write_bytes_atomic
from fourhour.periods import GRANULARITIES as PERIODS
from fourhour.periods import parse_date, parse_month, week_ending
from fourhour.settings import setting

patients_app = typer.Typer(
    help="Patient-level A&E attendances (ECDS-like): ingest, measure on DuckDB or Spark, "
    "export returns, generate a synthetic national year."
)
app.add_typer(patients_app, name="patients")
ENGINES = ("duckdb", "spark")

EngineOption = Annotated[
    str,
    typer.Option(
        help="duckdb (embedded, the default) or spark (local mode, or $FOURHOUR_SPARK_MASTER)."
    ),
]


def _engine(name: str):  # returns an Engine
    if name not in ENGINES:
        raise InvalidInputError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")
    from fourhour.measures.patient import duckdb_engine, spark_engine

    return duckdb_engine() if name == "duckdb" else spark_engine(setting("spark_master"))


@patients_app.command("ingest")
def ingest(
    paths: Annotated[list[Path], input_argument(help="CSV or Parquet files of attendances.")],
    quarantine: Annotated[
        Path | None,
        output_option(
            help="Write rejected rows and their reasons to this CSV and store the rest "
            "(default: any bad row rejects the whole file)."
        ),
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Validate and store attendances (see docs/patients.md for the columns), and count each
    file's cells (per provider, day, week, month and minute) that every measure rolls up. Each
    file is all or nothing unless --quarantine is given; re-ingesting a stored file changes
    nothing."""
    from fourhour.measures.patient_cells import build_cells
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.patients import ingest_patients, stored_files

    if quarantine is not None and len(paths) > 1:
        raise InvalidInputError("--quarantine takes one input file at a time")
    with open_warehouse(warehouse) as wh, Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as progress:  # fmt: skip
        for path in paths:
            task = progress.add_task(path.name, total=None)
            outcome = ingest_patients(
                wh, path, quarantine=quarantine, progress=partial(progress.advance, task)
            )
            if outcome.status == "ingested":  # the file's own cells, summed by every measure
                progress.update(task, description=f"{path.name}: cells")
                name = f"attendances-{outcome.ingest_id:06d}.parquet"
                build_cells(next(f for f in stored_files(wh) if f.name == name))
            progress.remove_task(task)
            line = f"{path}: [bold]{outcome.status}[/]"
            if outcome.status == "ingested":
                line += f", {outcome.rows_stored:,} attendances stored"
            if outcome.rows_rejected:
                line += f", {outcome.rows_rejected:,} rejected to {outcome.quarantine}"
            console.print(line, highlight=False, soft_wrap=True)


@patients_app.command("measures")
def measures(
    level: Annotated[str, typer.Option(help=f"One of {', '.join(LEVELS)}.")] = "national",
    period: Annotated[str, typer.Option(help=f"One of {', '.join(PERIODS)}.")] = "month",
    engine: EngineOption = "duckdb",
    exact: Annotated[
        bool,
        typer.Option(
            "--exact",
            help="Authorised analysts only: exact figures below national level (by default "
            "small numbers are protected: 1-7 shown as *, others rounded to 5).",
        ),
    ] = False,
    csv: Annotated[Path | None, output_option(help="Write the table to this CSV.")] = None,
    near_four_hours: Annotated[
        bool, typer.Option(help="Also show departures by minute from 3.5 to 4.5 hours.")
    ] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Attendances, breaches, 12 hours from arrival, 12-hour decision-to-admit waits, median
    and 95th percentile time in department, computed from the records."""
    from fourhour.measures.disclosure import protect
    from fourhour.measures.patient import BASES, COUNT_COLUMNS, measure_patients
    from fourhour.warehouse import open_warehouse

    if level not in LEVELS or period not in PERIODS:
        raise InvalidInputError(
            f"--level is one of {', '.join(LEVELS)}; --period one of {', '.join(PERIODS)}"
        )
    eng = _engine(engine)
    with open_warehouse(warehouse, read_only=True) as wh, console.status(f"measuring on {engine}"):
        result = measure_patients(wh, eng, levels=(level,), periods=(period,))
    table = protect(result.table, COUNT_COLUMNS, BASES, exact=exact)
    if csv:
        with atomic_path(csv) as tmp:
            table.to_csv(tmp, index=False)
        console.print(f"wrote {len(table):,} rows to {csv} ({table['disclosure'].iloc[0]})")
        return
    shown = Table(
        title=f"{level} by {period}, from patient-level records ({engine}; "
        f"{table['disclosure'].iloc[0]})"
    )
    columns = [
        ("code", "code"), ("period_start", "from"), ("attendances", "attendances"),
        ("performance_pct", "% in 4h"), ("type1_performance_pct", "type 1 %"),
        ("over_12h_from_arrival", "12h from arrival"), ("dta_over_12h", "12h DTA waits"),
        ("median_minutes", "median min"), ("p95_minutes", "95th pct min"),
    ]  # fmt: skip
    for _, title in columns:
        shown.add_column(title, justify="right")
    for r in table.to_dict("records"):
        shown.add_row(*[_cell(r[c]) for c, _ in columns])
    console.print(shown)
    if near_four_hours:
        near = result.near_four_hours
        national = near[near["level"] == level].groupby("minutes")["departures"].sum()
        peak = int(national.max()) or 1
        for minute, n in national.items():
            bar = "#" * max(1, round(40 * n / peak))
            console.print(f"{minute:>4} min {bar} {n:,}", highlight=False)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@patients_app.command("to-returns")
def to_returns(
    out: Annotated[Path, output_option(help="The provider sheet CSV to write.")],
    week_ending_: Annotated[
        str | None, typer.Option("--week-ending", help="The Sunday ending the week.")
    ] = None,
    month: Annotated[str | None, typer.Option(help="The month, YYYY-MM.")] = None,
    engine: EngineOption = "duckdb",
    warehouse: WarehouseOption = None,
) -> None:
    """Write the provider returns for a week or month made from the records, in NHS England's
    provider sheet layout (then `fourhour ingest` it to use it like any published return)."""
    from fourhour.measures.patient import measure_patients
    from fourhour.report.patient_returns import returns_csv
    from fourhour.warehouse import open_warehouse

    if bool(week_ending_) == bool(month):
        raise InvalidInputError("give exactly one of --week-ending YYYY-MM-DD or --month YYYY-MM")
    period = week_ending(parse_date(week_ending_)) if week_ending_ else parse_month(month or "")
    eng = _engine(engine)
    with open_warehouse(warehouse, read_only=True) as wh:
        result = measure_patients(wh, eng, levels=("provider",), periods=(period.granularity,))
        names = dict(wh.con.execute("SELECT code, name FROM organisations").fetchall())
    data = returns_csv(result.table, period, names)
    write_bytes_atomic(out, data)
    console.print(f"wrote {out}: provider returns for the {period.label}")


@patients_app.command("generate")
def generate(
    out: Annotated[Path, output_option(help="Folder to write the files into.", folder=True)],
    rows: Annotated[int, typer.Option(help="How many attendances.", min=1)] = NATIONAL_YEAR,
    start: Annotated[str, typer.Option(help="First day of arrivals.")] = "2024-04-01",
    days: Annotated[int, typer.Option(help="How many days.", min=1)] = 365,
    providers: Annotated[int, typer.Option(help="How many providers.", min=1)] = 180,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2014,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
) -> None:
    """Write a SYNTHETIC year of patient-level attendances (25 million by default), one file
    per month, with realistic arrival patterns, type mix, admissions and times."""
    from fourhour.ingest.patients.synthetic import generate_year

    if fmt not in ("parquet", "csv"):
        raise InvalidInputError("--format is parquet or csv")
    first = parse_date(start)
    with console.status(f"generating {rows:,} synthetic attendances..."):
        files = generate_year(
            out, rows=rows, start=first, days=days, n_providers=providers, seed=seed, fmt=fmt
        )
    last = first + dt.timedelta(days=days - 1)
    console.print(f"wrote {len(files)} files of SYNTHETIC attendances ({first} to {last}) in {out}")
