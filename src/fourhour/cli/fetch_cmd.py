"""`fourhour fetch`: download NHS England's weekly and monthly A&E files for a range."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from fourhour.cli import app, console
from fourhour.cli.options import output_option
from fourhour.periods import month
from fourhour.settings import SETTINGS, setting

if TYPE_CHECKING:
    from fourhour.ingest.fetch import FetchedFile, FetchReport

_BASE_URL = next(s for s in SETTINGS if s.name == "fetch_base_url")


class Kind(StrEnum):
    monthly = "monthly"
    weekly = "weekly"


def parse_day(text: str, *, end: bool, option: str) -> dt.date:
    """'2014-11' -> its first (or, with end, last) day; '2014-11-09' -> that day."""
    value = text.strip()
    try:
        if len(value) == 7:
            found = month(int(value[:4]), int(value[5:7]))
            if value[4] != "-":
                raise ValueError(value)
            return found.end if end else found.start
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a month or a date; expected YYYY-MM or YYYY-MM-DD",
            param_hint=option,
        ) from None


HELP = (
    "Download NHS England's published A&E files (weekly situation reports 2010-11 to 2015-16, "
    "monthly A&E attendances and emergency admissions from June 2015) for a range.\n\n"
    "Weekly files are taken when their week ends in the range, monthly ones when their month "
    "overlaps it. Files already downloaded and unchanged are left alone; a download is written "
    "whole or not at all."
)


@app.command("fetch", help=HELP)
def fetch_command(
    from_: Annotated[
        str,
        typer.Option(
            "--from",
            help="First month (YYYY-MM) or day (YYYY-MM-DD) wanted.",
            show_default=False,
        ),
    ],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Last month (YYYY-MM) or day (YYYY-MM-DD) wanted. Default: today."
        ),
    ] = None,
    kind: Annotated[
        list[Kind] | None,
        typer.Option("--kind", help="monthly or weekly; repeat for both. Default: both."),
    ] = None,
    dest: Annotated[
        Path, output_option("--dest", help="Folder to download into.", folder=True)
    ] = Path("data/nhse"),
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help=f"{_BASE_URL.help} Default: ${_BASE_URL.env} or {_BASE_URL.default}",
            show_default=False,
        ),
    ] = None,
) -> None:
    from fourhour.ingest.fetch import FetchProgress, fetch

    since = parse_day(from_, end=False, option="--from")
    until = parse_day(to, end=True, option="--to") if to else dt.date.today()
    if since > until:
        raise typer.BadParameter(
            f"--from ({since.isoformat()}) is after --to ({until.isoformat()})",
            param_hint="--from",
        )
    kinds = {k.value for k in kind} if kind else {k.value for k in Kind}
    url = base_url or setting("fetch_base_url")

    columns = (
        SpinnerColumn(),
        TextColumn("[bold]fetch"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[item]}"),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("fetch", total=None, item="reading NHS England's pages")

        def on_progress(event: FetchProgress) -> None:
            if event.stage == "page":
                bar.update(task, item=f"reading {event.name}")
            elif event.stage == "planned":
                bar.update(task, total=event.total, completed=0, item="")
            elif event.stage == "file":
                bar.update(task, completed=event.done, item=event.name)

        report = fetch(url, since=since, until=until, kinds=kinds, dest=dest, progress=on_progress)
    _summarise(report, since, until, dest)


def _summarise(report: FetchReport, since: dt.date, until: dt.date, dest: Path) -> None:
    if report.files:
        table = Table(title=f"NHS England A&E files, {since.isoformat()} to {until.isoformat()}")
        table.add_column("kind")
        table.add_column("period")
        table.add_column("file", overflow="fold")
        table.add_column("bytes", justify="right")
        table.add_column("outcome")
        for f in report.files:
            style = "green" if f.outcome == "downloaded" else "dim"
            table.add_row(
                f.kind, _period(f), escape(f.path.name), f"{f.size:,}", f"[{style}]{f.outcome}[/]"
            )
        console.print(table)
    else:
        console.print(
            f"[yellow]No weekly or monthly A&E files for {since.isoformat()} to "
            f"{until.isoformat()} were found on {len(report.pages)} page(s).[/]"
        )
    unrecognised = [s for s in report.skipped if s.reason.startswith("no ")]
    console.print(
        f"{len(report.downloaded)} downloaded, {len(report.unchanged)} already present and "
        f"unchanged, {len(report.skipped)} skipped (outside the range, not asked for, or not "
        "provider returns)."
    )
    for s in unrecognised[:10]:
        console.print(f"[dim]  not recognised: {escape(s.url)} ({s.reason})[/]", soft_wrap=True)
    if report.files:
        console.print(
            f"Next: fourhour ingest {escape(dest.as_posix())}/*", soft_wrap=True, highlight=False
        )


def _period(f: FetchedFile) -> str:
    if f.kind == "weekly":
        return f"w/e {f.period.end.isoformat()}"
    return f"{f.period.start:%Y-%m}"
