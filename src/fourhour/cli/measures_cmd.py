"""`fourhour measures`: the measures table for a period at any level, on screen or as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from fourhour.cli import app, console
from fourhour.cli.options import WarehouseOption, output_option
from fourhour.errors import InvalidInputError
from fourhour.measures.standard import LEVELS
from fourhour.outputs import atomic_path
from fourhour.periods import (
    Period,
    parse_date,
    parse_fy,
    parse_month,
    parse_quarter,
    week_ending,
)


def _period(week: str | None, month: str | None, quarter: str | None, fy: str | None) -> Period:
    given = [(v, f) for v, f in ((week, "week"), (month, "month"), (quarter, "q"), (fy, "fy")) if v]
    if len(given) != 1:
        raise InvalidInputError("give exactly one of --week-ending, --month, --quarter or --fy")
    value, kind = given[0]
    if kind == "week":
        return week_ending(parse_date(value))
    if kind == "month":
        return parse_month(value)
    if kind == "q":
        return parse_quarter(value)
    return parse_fy(value)


@app.command()
def measures(
    level: Annotated[str, typer.Option(help=f"One of {', '.join(LEVELS)}.")] = "provider",
    week_ending_: Annotated[
        str | None, typer.Option("--week-ending", help="Week ending (a Sunday), YYYY-MM-DD.")
    ] = None,
    month: Annotated[str | None, typer.Option(help="Month, YYYY-MM.")] = None,
    quarter: Annotated[
        str | None, typer.Option(help="Financial-year quarter, e.g. 2016-17Q3.")
    ] = None,
    fy: Annotated[str | None, typer.Option(help="Financial year, e.g. 2016-17.")] = None,
    csv: Annotated[Path | None, output_option(help="Write the full table to this CSV.")] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Attendances, breaches and four-hour performance by type for every organisation at a
    level (provider, system, region or national) for a week, month, quarter or year."""
    from fourhour.measures import measure_table
    from fourhour.measures.performance import source_granularity
    from fourhour.warehouse import open_warehouse

    if level not in LEVELS:
        raise InvalidInputError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    period = _period(week_ending_, month, quarter, fy)
    with open_warehouse(warehouse, read_only=True) as wh:
        frame = measure_table(wh, period, level)
        source = source_granularity(wh, period)
    if csv:
        out = frame.copy()
        if "unmapped_providers" in out:  # a list per row: one cell, codes separated by ';'
            out["unmapped_providers"] = out["unmapped_providers"].map(
                lambda v: ";".join(v) if isinstance(v, list | tuple) or hasattr(v, "tolist") else ""
            )
        with atomic_path(csv) as tmp:
            out.to_csv(tmp, index=False)
        console.print(f"wrote {len(frame):,} rows to {csv}")
        _print_notes(frame, source)
        return
    table = Table(title=f"{level.title()} measures, {period.label}")
    for column in ("code", "name", "all types", "type 1", "attendances", "breaches"):
        table.add_column(column, justify="left" if column in ("code", "name") else "right")
    for r in frame.itertuples(index=False):
        table.add_row(
            str(r.code),
            str(r.name or ""),
            _pct(r.all_types_performance_pct),
            _pct(r.type1_performance_pct),
            _count(
                r.all_types_attendances if _ok(r.all_types_attendances) else r.type1_attendances
            ),
            _count(r.all_types_breaches if _ok(r.all_types_breaches) else r.type1_breaches),
        )
    console.print(table)
    _print_notes(frame, source)


def _print_notes(frame: Any, source: str) -> None:
    for note in frame.attrs.get("notes", []):
        console.print(f"[dim]note:[/] {note}", highlight=False)
    for note in measure_notes(frame, source):
        console.print(note, highlight=False)


def measure_notes(frame: Any, source: str) -> list[str]:
    """What a reader of the table must know: providers left out, weeks standing in a month."""
    from fourhour.measures.performance import PUBLISHED, WEEKLY_RETURNS

    notes = []
    left_out = int(frame["providers_left_out"].sum()) if "providers_left_out" in frame else 0
    if left_out:
        notes.append(
            f"{left_out} provider{'s' if left_out != 1 else ''} field-testing new standards "
            "left out of the four-hour percentages (n/a at provider level), as NHS England's "
            "published figures leave them out; their attendances are counted."
        )
    if "source" in frame and len(frame):  # England: say where its figures come from
        if frame["source"].iloc[0] == PUBLISHED:
            notes.append("England: NHS England's published national totals.")
            return notes
        source = "week" if frame["source"].iloc[0] == WEEKLY_RETURNS else "month"
    if len(frame) and source == "week" and frame["granularity"].iloc[0] != "week":
        notes.append("Measured from the weekly returns of the weeks ending in the period.")
    return notes


def _ok(v: object) -> bool:
    return v is not None and str(v) not in ("<NA>", "nan")


def _pct(v: object) -> str:
    return f"{float(v):.1f}%" if _ok(v) else "n/a"  # type: ignore[arg-type]


def _count(v: object) -> str:
    return f"{int(v):,}" if _ok(v) else "n/a"  # type: ignore[call-overload]
