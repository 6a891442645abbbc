"""`fourhour bulletin`: the four-hour bulletin for a week or a month."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fourhour.cli import app, console
from fourhour.cli.options import WarehouseOption, output_option
from fourhour.errors import InvalidInputError
from fourhour.measures.standard import THRESHOLD_PCT
from fourhour.outputs import write_text_atomic
from fourhour.periods import Period, parse_date, parse_month, week_ending
from fourhour.report.options import BULLETIN_FORMATS as FORMATS
from fourhour.report.options import WORST_N


def choose_period(week_ending_text: str | None, month_text: str | None) -> Period:
    if bool(week_ending_text) == bool(month_text):
        raise InvalidInputError("give exactly one of --week-ending YYYY-MM-DD or --month YYYY-MM")
    if week_ending_text:
        return week_ending(parse_date(week_ending_text))
    assert month_text is not None
    return parse_month(month_text)


@app.command()
def bulletin(
    week_ending_: Annotated[
        str | None,
        typer.Option("--week-ending", help="The Sunday that ends the week, YYYY-MM-DD."),
    ] = None,
    month: Annotated[str | None, typer.Option("--month", help="The month, YYYY-MM.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")
    ] = "text",
    threshold: Annotated[
        float, typer.Option(help="Count providers below this percentage (all types).")
    ] = THRESHOLD_PCT,
    worst: Annotated[int, typer.Option(help="How many of the worst providers to name.")] = WORST_N,
    out: Annotated[
        Path | None, output_option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """England's four-hour performance for a week or month, against the 95% standard and the
    same period last year, with the providers below the threshold then and now."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not 0 <= threshold <= 100:
        raise InvalidInputError(f"--threshold {threshold} is not a percentage between 0 and 100")
    from fourhour.report.bulletin import build_bulletin, render
    from fourhour.warehouse import open_warehouse

    period = choose_period(week_ending_, month)
    with open_warehouse(warehouse, read_only=True) as wh:
        text = render(build_bulletin(wh, period, threshold_pct=threshold, worst_n=worst), fmt)
    if out:
        write_text_atomic(out, text)
        console.print(f"wrote {out}")
    else:
        typer.echo(text, nl=False)
