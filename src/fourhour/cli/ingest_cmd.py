"""`fourhour ingest PATH...`: read published files into the warehouse, each all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from fourhour.cli import app, console, err_console
from fourhour.cli.options import WarehouseOption, input_argument
from fourhour.errors import FourhourError, IngestError, ReaderError

if TYPE_CHECKING:
    from fourhour.warehouse.load import IngestOutcome

SUFFIXES = (".csv", ".xls", ".xlsx")


@dataclass(frozen=True)
class Refused:
    file: Path
    error: FourhourError


def expand(paths: list[Path]) -> list[Path]:
    """Files as given, and the supported files inside any directory given, in a stable order."""
    return expand_with_skipped(paths)[0]


def expand_with_skipped(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """The files to ingest and, inside folders given, the files skipped as not CSV/XLS/XLSX."""
    files: list[Path] = []
    skipped: list[Path] = []
    for p in paths:
        if p.is_dir():
            inside = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
            files.extend(f for f in inside if f.suffix.lower() in SUFFIXES)
            skipped.extend(f for f in inside if f.suffix.lower() not in SUFFIXES)
        else:
            files.append(p)
    return files, skipped


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        input_argument(folders=True, help="Files (CSV, XLS, XLSX) or folders of them."),
    ],
    warehouse: WarehouseOption = None,
    precompute: Annotated[
        bool,
        typer.Option(
            help="Then compute what the web pages of the periods the files changed are drawn "
            "from (`fourhour precompute`: only what changed; --no-precompute leaves it to a "
            "later `fourhour precompute`, and the server computes pages live meanwhile)."
        ),
    ] = True,
) -> None:
    """Ingest NHS England A&E returns, organisation and bed files; the layout is detected.

    Each file is stored in its own transaction: a bad file is refused whole, with the file, row,
    column and value at fault, and nothing of it is stored; the other files are still tried.
    Every refused file and every file skipped in a folder (not CSV, XLS or XLSX) is named, and
    the exit status is not 0 if any file was refused. Re-ingesting a file changes nothing; a
    revised file replaces the figures it publishes, and the log says so.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.load import ReadAhead, ingest_file

    files, skipped = expand_with_skipped(paths)
    if not files:
        raise typer.BadParameter("no CSV, XLS or XLSX files found", param_hint="PATHS")
    outcomes: list[IngestOutcome] = []
    refused: list[Refused] = []
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
        # Files are read ahead in worker processes while earlier ones are stored, in order.
        with progress, ReadAhead(files if len(files) > 1 else []) as ahead:
            task = progress.add_task("ingest", total=len(files), file="")
            for f in files:
                progress.update(task, file=f.name)
                try:
                    outcomes.append(ingest_file(wh, f, ahead))
                except (ReaderError, IngestError) as exc:
                    refused.append(Refused(f, exc))
                progress.advance(task)
        if precompute and outcomes:
            from fourhour.cli.serve_cmd import precompute_pages

            precompute_pages(wh)
    _summary(outcomes)
    _report_skipped_and_refused(skipped, refused, stored=len(outcomes))


def _report_skipped_and_refused(skipped: list[Path], refused: list[Refused], stored: int) -> None:
    for f in skipped:
        console.print(
            f"[dim]skipped {escape(str(f))}: not a CSV, XLS or XLSX file[/]",
            highlight=False,
            soft_wrap=True,
        )
    if not refused:
        return
    if len(refused) == 1 and stored == 0:
        raise refused[0].error  # one file, refused: its own message and exit status
    for r in refused:
        err_console.print(
            f"[bold red]refused[/] {escape(r.error.message)}", highlight=False, soft_wrap=True
        )
    raise IngestError(
        f"{len(refused)} of {len(refused) + stored} files refused (named above, nothing of them "
        f"stored); {stored} stored",
        hint="fix or remove the refused files and ingest them again; stored files are kept",
    )


PER_FILE_UP_TO = 12  # beyond this many files, one row per layout and status


def _rows(outcomes: list[IngestOutcome]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
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
    out: list[tuple[str, ...]] = []
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
        # Numbers are never shrunk (no_wrap); long names fold onto a second line instead.
        numeric = justify == "right"
        table.add_column(column, justify=justify, no_wrap=numeric, overflow="fold")  # type: ignore[arg-type]
    rows = _rows(outcomes) if len(outcomes) <= PER_FILE_UP_TO else _grouped(outcomes)
    for r in rows:
        table.add_row(*r)
    console.print(table)
    for o in outcomes:
        for note in o.notes:
            console.print(f"[dim]{Path(o.file).name}: {note}[/]", highlight=False)
