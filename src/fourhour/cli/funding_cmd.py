"""`fourhour trajectories`, `fourhour allocations` and `fourhour funding`: conditional funding."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fourhour.cli import app, console
from fourhour.cli.imports import FilesArgument, ReplaceOption, run_imports
from fourhour.cli.options import WarehouseOption, input_option, output_option
from fourhour.errors import InvalidInputError
from fourhour.outputs import write_text_atomic
from fourhour.periods import parse_quarter
from fourhour.report.options import FUNDING_FORMATS

trajectories_app = typer.Typer(help="Agreed monthly four-hour trajectories per trust.")
app.add_typer(trajectories_app, name="trajectories")
allocations_app = typer.Typer(help="Each trust's allocation of a conditional fund per year.")
app.add_typer(allocations_app, name="allocations")


@trajectories_app.command("import")
def import_trajectories_(
    paths: FilesArgument,
    replace: ReplaceOption = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Import trajectories: columns trust_code, month (YYYY-MM), trajectory_pct (0-100); one
    row per trust-month; trusts must be known."""
    from fourhour.oversight.trajectories import import_trajectories

    run_imports(paths, warehouse, lambda wh, p: import_trajectories(wh, p, replace=replace))


@trajectories_app.command("list")
def list_trajectories(
    trust: Annotated[str | None, typer.Option(help="Only this trust code.")] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Trajectories recorded, by trust and month."""
    from fourhour.warehouse import open_warehouse

    with open_warehouse(warehouse, read_only=True) as wh:
        rows = wh.con.execute(
            "SELECT org_code, strftime(month, '%Y-%m'), trajectory_pct FROM trajectories "
            "WHERE ?::VARCHAR IS NULL OR org_code = upper(?) ORDER BY org_code, month",
            [trust, trust],
        ).fetchall()
    table = Table(title=f"{len(rows):,} trust-months")
    for column in ("trust", "month", "trajectory"):
        table.add_column(column)
    for code, month, pct in rows:
        table.add_row(code, month, f"{pct:.1f}%")
    console.print(table)


@allocations_app.command("import")
def import_allocations_(
    paths: FilesArgument,
    replace: ReplaceOption = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Import allocations: columns trust_code, financial_year (2016-17), allocation_gbp."""
    from fourhour.oversight.trajectories import import_allocations

    run_imports(paths, warehouse, lambda wh, p: import_allocations(wh, p, replace=replace))


@app.command()
def funding(
    quarter: Annotated[str, typer.Option(help="The quarter, e.g. 2016-17Q2.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of {', '.join(FUNDING_FORMATS)}.")
    ] = "text",
    rules: Annotated[
        Path | None,
        input_option(help="Funding rules TOML (default: the shipped 2016/17 and 2017/18 STF)."),
    ] = None,
    what_if_standard: Annotated[
        float | None, typer.Option(help="What if the standard were this percentage?")
    ] = None,
    what_if_tolerance: Annotated[
        float | None,
        typer.Option(help="What if a trust within this many points of its trajectory qualified?"),
    ] = None,
    out: Annotated[
        Path | None, output_option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """The A&E funding ledger for a quarter: per trust earned or withheld, the amount, the
    figures and the reason, with totals by system, region and England."""
    from fourhour.oversight.config import load_funding_rules
    from fourhour.oversight.funding import assess_quarter, what_if
    from fourhour.report.bulletin import is_synthetic
    from fourhour.report.oversight import render_funding
    from fourhour.warehouse import open_warehouse

    for name, value in (("--what-if-standard", what_if_standard),):
        if value is not None and not 0 <= value <= 100:
            raise InvalidInputError(f"{name} {value} is not a percentage between 0 and 100")
    if what_if_tolerance is not None and what_if_tolerance < 0:
        raise InvalidInputError(f"--what-if-tolerance {what_if_tolerance} should not be negative")
    q = parse_quarter(quarter)
    years, _ = load_funding_rules(rules)
    with open_warehouse(warehouse, read_only=True) as wh:
        ledger = assess_quarter(wh, q, years)
        if what_if_standard is not None or what_if_tolerance is not None:
            ledger.what_if = what_if(
                wh,
                q,
                years,
                ledger,
                standard_pct=what_if_standard,
                tolerance_points=what_if_tolerance,
            )
        text = render_funding(ledger.as_dict(), fmt, synthetic=is_synthetic(wh))
    if out:
        write_text_atomic(out, text)
        console.print(f"wrote {out}")
    else:
        typer.echo(text, nl=False)
