"""`fourhour leaders`: import and list accountable leaders."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from fourhour.cli import app, console
from fourhour.cli.imports import FilesArgument, ReplaceOption, run_imports
from fourhour.cli.options import WarehouseOption
from fourhour.periods import parse_date

leaders_app = typer.Typer(help="Accountable leaders: who answers for which organisation, when.")
app.add_typer(leaders_app, name="leaders")


@leaders_app.command("import")
def import_(
    paths: FilesArgument,
    replace: ReplaceOption = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Import appointments: columns role, org_code, name, valid_from, valid_to (blank: in
    post). Roles: national_leader (ENGLAND), regional_director, system_chair,
    trust_chief_executive."""
    from fourhour.oversight.leaders import import_leaders

    run_imports(paths, warehouse, lambda wh, p: import_leaders(wh, p, replace=replace))


@leaders_app.command("list")
def list_(
    on: Annotated[
        str | None, typer.Option(help="Only those in post on this date, YYYY-MM-DD.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Leaders recorded, optionally only those in post on a date."""
    from fourhour.oversight.leaders import ROLE_TITLES
    from fourhour.warehouse import open_warehouse

    day: dt.date | None = parse_date(on) if on else None
    with open_warehouse(warehouse, read_only=True) as wh:
        rows = wh.con.execute(
            "SELECT role, org_code, name, valid_from, valid_to FROM leaders "
            "WHERE ?::DATE IS NULL OR (valid_from <= ? AND coalesce(valid_to, DATE '9999-12-31') "
            ">= ?) ORDER BY role, org_code, valid_from",
            [day, day, day],
        ).fetchall()
    table = Table(title=f"{len(rows):,} appointments" + (f" in post on {day}" if day else ""))
    for column in ("role", "organisation", "name", "from", "to"):
        table.add_column(column)
    for role, org, name, start, end in rows:
        table.add_row(ROLE_TITLES[role], org, name, str(start), str(end or ""))
    console.print(table)
