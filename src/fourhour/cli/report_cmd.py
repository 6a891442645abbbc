"""`fourhour report`: the board report for a week or a month, as HTML or PDF."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from fourhour.cli import app, console, err_console
from fourhour.cli.bulletin_cmd import choose_period
from fourhour.cli.options import WarehouseOption, output_option
from fourhour.measures.spc_names import DEFAULT_PRESET, MAKING_DATA_COUNT_NAME, NHSRPLOTTHEDOTS_NAME
from fourhour.outputs import atomic_path, check_output

STEP_NAMES = {
    "bulletin": "Reading the bulletin figures",
    "summary": "Writing the summary",
    "england": "Charting England",
    "focus": "Charting the chosen provider or system",
    "providers": "Charting every provider",
    "icons": "SPC icons for every provider",
    "escalations": "Summons list",
    "methods": "Notes and methods",
    "html": "Rendering HTML",
    "pdf": "Writing the PDF",
}
SHOW_AFTER_S = 1.0


class _LateProgress:
    """A Rich progress line on stderr that appears only once the work has taken a second."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, step: str) -> None:
        text = STEP_NAMES.get(step, step)
        if self.progress is None and time.perf_counter() - self.started > SHOW_AFTER_S:
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(text)
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=text)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


@app.command()
def report(
    week_ending_: Annotated[
        str | None,
        typer.Option("--week-ending", help="The Sunday that ends the week, YYYY-MM-DD."),
    ] = None,
    month: Annotated[str | None, typer.Option("--month", help="The month, YYYY-MM.")] = None,
    out: Annotated[
        Path | None,
        output_option(
            "--out",
            "-o",
            help="report.html or report.pdf (by suffix). Default: report-PERIOD.html.",
        ),
    ] = None,
    provider: Annotated[
        str | None, typer.Option("--provider", help="Add an SPC chart for this provider (code).")
    ] = None,
    system: Annotated[
        str | None, typer.Option("--system", help="Add an SPC chart for this system (code).")
    ] = None,
    spc_preset: Annotated[
        str,
        typer.Option(
            "--spc-preset",
            help=f"SPC rules: {MAKING_DATA_COUNT_NAME} (NHS England's guidance) or "
            f"{NHSRPLOTTHEDOTS_NAME} (as the R package NHSRplotthedots 0.2.2); docs/spc.md lists "
            "the differences.",
        ),
    ] = DEFAULT_PRESET,
    outlook: Annotated[
        bool, typer.Option("--outlook", help="Add the winter outlook (monthly; a forecast).")
    ] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """The board report for a week or month: the bulletin, England's trend against the 95%
    standard and last year, type 1 against all types, a funnel plot and league table of every
    provider, SPC charts, and Making Data Count icons for every provider; as HTML with a print
    stylesheet, or as a PDF."""
    # Imported here: Altair and vl-convert are only needed by this command.
    from fourhour.report.board import build_report, output_path, write_report
    from fourhour.warehouse import open_warehouse

    period = choose_period(week_ending_, month)
    path = check_output(output_path(out, period), option="--out")
    progress = _LateProgress()
    try:
        with open_warehouse(warehouse, read_only=True) as wh:
            extra = []
            if outlook:
                from fourhour.report.forecast_section import winter_outlook_section

                extra.append(winter_outlook_section)
            board = build_report(
                wh,
                period,
                provider=provider,
                system=system,
                progress=progress,
                spc_preset=spc_preset,
                extra_sections=extra,
            )
        with atomic_path(path) as tmp:
            write_report(board, tmp, progress=progress)
    finally:
        progress.stop()
    size = f"{board.pages} pages" if board.pages else f"{len(board.sections)} sections"
    console.print(f"wrote {path} ({size}, {time.perf_counter() - progress.started:.1f}s)")
