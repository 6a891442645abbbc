"""`fourhour serve`: the web dashboard and JSON API over the warehouse."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fourhour.cli import app, console, err_console
from fourhour.cli.options import WarehouseOption, input_option
from fourhour.settings import warehouse_path

if TYPE_CHECKING:
    from fourhour.warehouse import Warehouse


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(help="Address to listen on. Loopback by default: only this machine."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    funding_rules: Annotated[
        Path | None,
        input_option(help="Funding rules TOML (default: the shipped 2016/17 and 2017/18 STF)."),
    ] = None,
    escalation_rules: Annotated[
        Path | None, input_option(help="Escalation rules TOML laid over the shipped defaults.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Serve the dashboard (England, providers, systems and regions, oversight, capacity) and
    the JSON API under /api/v1 (OpenAPI description at /api/v1/openapi.json). Aggregate
    published figures are public; exact patient-level figures need an analyst token
    (`fourhour tokens create`)."""
    import uvicorn

    from fourhour.warehouse.connection import check_warehouse_path
    from fourhour.web.app import create_app
    from fourhour.web.config import WebConfig

    path = warehouse_path(warehouse)
    check_warehouse_path(path, read_only=True)
    config = WebConfig(
        warehouse=path,
        funding_rules=funding_rules,
        escalation_rules=escalation_rules,
        freeze_cached=True,
    )
    application = create_app(config)
    if not _is_loopback(host):
        err_console.print(
            f"[bold yellow]warning:[/] listening on {host}: reachable from other machines. "
            "Put it behind TLS before sending tokens over a network.",
            highlight=False,
        )
    console.print(f"fourhour serving {path} on http://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )


def precompute_pages(wh: Warehouse) -> None:
    """Store the league tables of every period whose inputs changed (fourhour.web.precompute),
    with a progress bar; prints what it did."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from fourhour.web.precompute import precompute as run

    progress = Progress(
        TextColumn("[bold]web pages"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task("leagues", total=None)
        outcome = run(wh, lambda done, total: progress.update(task, completed=done, total=total))
    console.print(outcome.text(), highlight=False)


@app.command()
def precompute(warehouse: WarehouseOption = None) -> None:
    """Compute what the web pages of every period held are drawn from (league tables of
    providers, systems and regions, England's bulletin and trend, funding ledgers) and store
    it in the warehouse, so that the first request for any organisation-period is fast. Only
    what changed since the last run is computed (`fourhour ingest` runs this after
    ingesting unless given --no-precompute; run it after `orgs import` and other imports)."""
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.connection import check_warehouse_path

    path = warehouse_path(warehouse)
    check_warehouse_path(path, read_only=True)  # a warehouse to precompute, not a new one
    with open_warehouse(path) as wh:
        precompute_pages(wh)
