"""`fourhour demo`: generate a synthetic data set, ingest it, print the latest bulletin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fourhour.cli import app, console
from fourhour.cli.ingest_cmd import ingest
from fourhour.ingest.synthetic import generate_weekly_returns
from fourhour.periods import week_ending
from fourhour.report.bulletin import build_bulletin, render
from fourhour.warehouse import open_warehouse


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to write the synthetic files and warehouse.")
    ] = Path("demo"),
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic data set.")] = 2014,
) -> None:
    """Run fourhour end to end, offline, on a SYNTHETIC data set it makes itself: about 140
    providers over two years of weekly returns, ingested into DIR/fourhour.duckdb, then the
    latest week's bulletin printed and written to DIR/bulletin.html."""
    data_dir = directory / "data"
    console.rule("[bold]fourhour demo[/] (synthetic data, not real NHS figures)")
    console.print(f"Generating synthetic weekly returns in {data_dir} ...")
    files = generate_weekly_returns(data_dir, seed=seed)
    warehouse = directory / "fourhour.duckdb"
    ingest(sorted(files, key=lambda p: ("Mapping" not in p.name, p.name)), warehouse)
    with open_warehouse(warehouse, read_only=True) as wh:
        latest = wh.con.execute(
            "SELECT max(period_end) FROM provider_returns WHERE granularity = 'week'"
        ).fetchone()[0]
        b = build_bulletin(wh, week_ending(latest))
    console.rule(f"Bulletin, week ending {latest}")
    typer.echo(render(b, "text"))
    html = directory / "bulletin.html"
    html.write_text(render(b, "html"), encoding="utf-8")
    console.print(f"Wrote {html}. Try next:")
    console.print(f"  fourhour bulletin --week-ending {latest} --format markdown -w {warehouse}")
    console.print(f"  fourhour measures --level region --week-ending {latest} -w {warehouse}")
