"""Shared handling of reference-table imports (mappings, leaders, trajectories, allocations)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fourhour.cli import console
from fourhour.cli.options import input_argument

if TYPE_CHECKING:
    from fourhour.warehouse import Warehouse
    from fourhour.warehouse.reference import ImportOutcome

ReplaceOption = Annotated[
    bool,
    typer.Option(
        "--replace",
        help="Revise rows already stored with different values (logged); without it they are an "
        "error and nothing changes.",
    ),
]


def run_imports(
    paths: list[Path],
    warehouse: Path | None,
    importer: Callable[[Warehouse, Path], ImportOutcome],
) -> list[ImportOutcome]:
    """Import each file in its own transaction, printing one line per file."""
    from fourhour.warehouse import open_warehouse

    outcomes = []
    with open_warehouse(warehouse) as wh:
        for path in paths:
            outcome = importer(wh, path)
            outcomes.append(outcome)
            console.print(
                f"{path}: [bold]{outcome.status}[/] {outcome.what}: {outcome.rows_read:,} rows "
                f"read, {outcome.inserted:,} new, {outcome.replaced:,} revised, "
                f"{outcome.unchanged:,} unchanged",
                highlight=False,
                soft_wrap=True,
            )
            for note in outcome.notes:
                console.print(f"  note: {note}", highlight=False, soft_wrap=True)
    return outcomes


FilesArgument = Annotated[
    list[Path], input_argument(help="Files to import (CSV or XLSX).", show_default=False)
]
