"""`fourhour ingest PATH...`: read published files into the warehouse, each all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fourhour.cli import app, console
from fourhour.cli.options import WarehouseOption
from fourhour.errors import FourhourError
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import IngestOutcome, ingest_file

SUFFIXES = (".csv", ".xls", ".xlsx")


def expand(paths: list[Path]) -> list[Path]:
    """Files as given, and the supported files inside any directory given, in a stable order."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in SUFFIXES))
        else:
            files.append(p)
    return files


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files (CSV, XLS, XLSX) or folders of them.")],
    warehouse: WarehouseOption = None,
) -> None:
    """Ingest NHS England A&E returns, organisation and bed files; the layout is detected.

    Each file is stored in one transaction: a bad file is rejected whole, with the file, row,
    column and value at fault, and nothing of it is stored. Re-ingesting a file changes
    nothing; a revised file replaces the figures it publishes, and the log says so.
    """
    files = expand(paths)
    if not files:
        raise typer.BadParameter("no CSV, XLS or XLSX files found", param_hint="PATHS")
    outcomes: list[IngestOutcome] = []
    with open_warehouse(warehouse) as wh:
        progress = Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[file]}"),
            console=console,
            transient=True,
        )
        with progress:
            task = progress.add_task("ingest", total=len(files), file="")
            for f in files:
                progress.update(task, file=f.name)
                try:
                    outcomes.append(ingest_file(wh, f))
                except FourhourError:
                    progress.stop()
                    _summary(outcomes)
                    raise
                progress.advance(task)
    _summary(outcomes)


PER_FILE_UP_TO = 12  # beyond this many files, one row per layout and status


def _rows(outcomes: list[IngestOutcome]) -> list[tuple[str, ...]]:
    out = []
    for o in outcomes:
        status = o.status
        if o.replaced_ingest_ids:
            status += f" (revises ingest {', '.join(map(str, o.replaced_ingest_ids))})"
        out.append(
            (Path(o.file).name, o.layout, status, f"{o.rows_read:,}", f"{o.inserted:,}",
             f"{o.replaced:,}", f"{o.unchanged:,}")
        )  # fmt: skip
    return out


def _grouped(outcomes: list[IngestOutcome]) -> list[tuple[str, ...]]:
    """Many files: one row per layout and status ('fourhour warehouse log' has every file)."""
    groups: dict[tuple[str, str], list[IngestOutcome]] = {}
    for o in outcomes:
        groups.setdefault((o.layout, o.status), []).append(o)
    out = []
    for (layout, status), members in groups.items():
        names = sorted(Path(o.file).name for o in members)
        label = names[0] if len(names) == 1 else f"{len(names)} files"
        out.append(
            (label, layout, status, f"{sum(o.rows_read for o in members):,}",
             f"{sum(o.inserted for o in members):,}", f"{sum(o.replaced for o in members):,}",
             f"{sum(o.unchanged for o in members):,}")
        )  # fmt: skip
    return out


def _summary(outcomes: list[IngestOutcome]) -> None:
    if not outcomes:
        return
    table = Table(title="Ingest summary", show_lines=False)
    for column, justify in (
        ("file", "left"),
        ("layout", "left"),
        ("status", "left"),
        ("rows read", "right"),
        ("new", "right"),
        ("replaced", "right"),
        ("unchanged", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    rows = _rows(outcomes) if len(outcomes) <= PER_FILE_UP_TO else _grouped(outcomes)
    for r in rows:
        table.add_row(*r)
    console.print(table)
    for o in outcomes:
        for note in o.notes:
            console.print(f"[dim]{Path(o.file).name}: {note}[/]", highlight=False)
