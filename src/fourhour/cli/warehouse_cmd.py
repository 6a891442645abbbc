"""`fourhour warehouse`: what the warehouse holds, its schema version and its ingest log."""

from __future__ import annotations

import typer
from rich.table import Table

from fourhour.cli import app, console
from fourhour.cli.options import WarehouseOption

warehouse_app = typer.Typer(help="Inspect the warehouse: tables, schema migrations, ingest log.")
app.add_typer(warehouse_app, name="warehouse")


@warehouse_app.command("info")
def info(warehouse: WarehouseOption = None) -> None:
    """Row counts, applied and pending schema migrations, and the periods held."""
    from fourhour.warehouse import open_warehouse

    with open_warehouse(warehouse, read_only=True) as wh:
        console.print(f"[bold]{wh.path}[/]")
        console.print(f"migrations applied: {', '.join(wh.applied_migrations())}")
        console.print(f"migrations pending: {', '.join(wh.pending_migrations()) or 'none'}")
        table = Table(title="tables")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, n in wh.table_counts().items():
            table.add_row(name, f"{n:,}")
        console.print(table)
        spans = wh.con.execute(
            "SELECT granularity, min(period_end), max(period_end), count(DISTINCT period_end), "
            "count(DISTINCT org_code) FROM provider_returns GROUP BY 1 ORDER BY 1"
        ).fetchall()
        for g, lo, hi, n, orgs in spans:
            console.print(f"{g}ly returns: {n:,} periods ending {lo} to {hi}, {orgs:,} providers")


@warehouse_app.command("log")
def log(
    warehouse: WarehouseOption = None,
    last: int = typer.Option(20, help="How many entries, newest first.", min=1),
) -> None:
    """The ingest log: file, sha256, layout, rows, when, and which ingests it revised."""
    from fourhour.warehouse import open_warehouse

    with open_warehouse(warehouse, read_only=True) as wh:
        rows = wh.con.execute(
            "SELECT ingest_id, ingested_at, file, layout, rows_read, rows_inserted, rows_replaced,"
            " replaced_ingest_ids, left(sha256, 12) FROM ingest_log ORDER BY ingest_id DESC "
            "LIMIT ?",
            [last],
        ).fetchall()
    table = Table(title="ingest log")
    for column in ("id", "when", "file", "layout", "read", "new", "replaced", "revises", "sha256"):
        table.add_column(column)
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r))
    console.print(table)
