"""The command line: thin commands over the library; errors become one message and exit code."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from fourhour.errors import FourhourError

app = typer.Typer(
    name="fourhour",
    help=(
        "Oversee A&E performance in the English NHS against the four-hour standard: ingest NHS "
        "England's returns into a DuckDB warehouse, measure performance, publish bulletins."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

console = Console()
err_console = Console(stderr=True)


def _register() -> None:
    # Each module adds its commands to `app`; imported here so that `fourhour --help` lists all.
    from fourhour.cli import (  # noqa: F401
        bulletin_cmd,
        capacity_cmd,
        demo_cmd,
        escalate_cmd,
        evidence_cmd,
        fetch_cmd,
        funding_cmd,
        ingest_cmd,
        leaders_cmd,
        measures_cmd,
        orgs_cmd,
        patients_cmd,
        report_cmd,
        serve_cmd,
        tokens_cmd,
        warehouse_cmd,
    )


_register()


def main() -> None:
    try:
        app()
    except FourhourError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
        if exc.hint:
            err_console.print(f"[dim]hint:[/] {exc.hint}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
