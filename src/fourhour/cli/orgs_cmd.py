"""`fourhour orgs`: import organisation reference files and list what the warehouse knows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fourhour.cli import app, console
from fourhour.cli.imports import ReplaceOption, run_imports
from fourhour.cli.ingest_cmd import ingest
from fourhour.cli.options import WarehouseOption, input_argument
from fourhour.errors import InvalidInputError, QueryError
from fourhour.periods import parse_date

orgs_app = typer.Typer(help="Organisations: trusts, systems, regions and their names.")
app.add_typer(orgs_app, name="orgs")


@orgs_app.command("import")
def import_(
    paths: Annotated[list[Path], input_argument(help="Organisation reference files.")],
    replace: ReplaceOption = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Import organisation mappings. A file with validity dates (columns provider_code,
    provider_name, system_code, system_name, system_kind, region_code, region_name, valid_from,
    valid_to, merged_into) sets which system and region each provider belonged to when; NHS
    England's published reference files (ICB mapping, trust to area team, site to trust) are
    read as by `fourhour ingest`."""
    from fourhour.warehouse.hierarchy import import_mapping, is_mapping_file

    mappings = [p for p in paths if is_mapping_file(p)]
    published = [p for p in paths if p not in mappings]
    if mappings:
        run_imports(mappings, warehouse, lambda wh, p: import_mapping(wh, p, replace=replace))
    if published:
        ingest(published, warehouse)


@orgs_app.command("list")
def list_(
    kind: Annotated[
        str | None, typer.Option(help="provider, site, system, area_team or region.")
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(help="Name providers and give their system and region as on this date."),
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Organisations with their latest system and region, or, with --on DATE, providers as
    they were then: the name of the time and the hierarchy in force (notes say where a
    provider has none of that era)."""
    if on is not None:
        _list_on(parse_date(on), warehouse)
        return
    from fourhour.warehouse import open_warehouse

    with open_warehouse(warehouse, read_only=True) as wh:
        kinds = [
            r[0]
            for r in wh.con.execute("SELECT DISTINCT kind FROM organisations ORDER BY 1").fetchall()
        ]
        if kind is not None and kind not in kinds:
            held = ", ".join(kinds) or "no organisations"
            raise InvalidInputError(f"unknown kind {kind!r}; the warehouse holds {held}")
        rows = wh.con.execute(
            """
            SELECT o.code, o.name, o.kind, o.code_source,
              (SELECT coalesce(parent_name, parent_code) FROM org_relations r
               WHERE r.child_code = o.code AND r.relation IN ('system', 'area_team')
               ORDER BY as_of DESC LIMIT 1) AS system,
              (SELECT parent_name FROM org_relations r
               WHERE r.child_code = o.code AND r.relation = 'region'
               ORDER BY as_of DESC LIMIT 1) AS region
            FROM organisations o WHERE ? IS NULL OR o.kind = ? ORDER BY o.code
            """,
            [kind, kind],
        ).fetchall()
    table = Table(title=f"{len(rows):,} organisations")
    for column in ("code", "name", "kind", "system", "region"):
        table.add_column(column)
    for code, name, k, source, system, region in rows:
        table.add_row(
            code,
            (name or "") + (" [dim](code derived)[/]" if source != "published" else ""),
            k,
            system or "",
            region or "",
        )
    console.print(table)


def _list_on(day: dt.date, warehouse: Path | None) -> None:
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.hierarchy import hierarchy_notes, names_for, provider_parents

    with open_warehouse(warehouse, read_only=True) as wh:
        codes = [
            c
            for (c,) in wh.con.execute(
                "SELECT DISTINCT org_code FROM provider_returns WHERE period_start <= ? "
                "AND period_end >= ? - INTERVAL 31 DAY ORDER BY 1",
                [day, day],
            ).fetchall()
        ]
        if not codes:
            raise QueryError(
                f"no provider has returns around {day}",
                hint="fourhour warehouse info shows the periods held",
            )
        names = names_for(wh, codes, day)
        parents = provider_parents(wh, codes, day)
    table = Table(title=f"{len(codes):,} providers with returns around {day}, as they were then")
    for column in ("code", "name", "system", "region"):
        table.add_column(column, overflow="fold")
    for r in parents.itertuples(index=False):
        table.add_row(
            str(r.code),
            names.get(str(r.code), ""),
            f"{r.system_name} ({r.system_code})",
            f"{r.region_name} ({r.region_code})",
        )
    console.print(table)
    for level in ("system", "region"):
        for note in hierarchy_notes(parents, level, day):
            console.print(f"[dim]note:[/] {note}", highlight=False)
