"""`fourhour escalate` and `fourhour escalations`: the summons list and its follow-up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fourhour.cli import app, console
from fourhour.cli.options import WarehouseOption, input_option, output_option
from fourhour.errors import InvalidInputError
from fourhour.outputs import write_text_atomic
from fourhour.oversight.statuses import LEVELS, STATUSES
from fourhour.periods import parse_period
from fourhour.report.options import ESCALATION_FORMATS

escalations_app = typer.Typer(help="Escalations: their status and history.")
app.add_typer(escalations_app, name="escalations")


@app.command()
def escalate(
    week_ending_: Annotated[
        str | None,
        typer.Option("--week-ending", help="The Sunday that ends a window of weeks, YYYY-MM-DD."),
    ] = None,
    month: Annotated[
        str | None, typer.Option(help="The month that ends a window of months, YYYY-MM.")
    ] = None,
    quarter: Annotated[
        str | None, typer.Option(help="A financial-year quarter, e.g. 2025-26Q3.")
    ] = None,
    level: Annotated[
        str,
        typer.Option(help="system (local systems, the default) or provider (trusts directly)."),
    ] = "system",
    top: Annotated[
        int | None, typer.Option(help="How many to summon (rules default: 12).", min=1)
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of {', '.join(ESCALATION_FORMATS)}.")
    ] = "text",
    rules: Annotated[
        Path | None, input_option(help="Escalation rules TOML laid over the shipped defaults.")
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record/--no-record",
            help="Record the run and update escalation statuses (default), or only show it.",
        ),
    ] = True,
    out: Annotated[
        Path | None, output_option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Score and rank every local system (or trust, with --level provider) over the window of
    weeks, months or quarters ending with the one given, and write the summons list: those
    facing the biggest challenges, with the rules fired, the figures, the trend, the providers
    driving it and the leaders to summon. Window lengths per granularity are in the rules."""
    from fourhour.oversight.config import load_escalation_rules
    from fourhour.oversight.escalation import evaluate
    from fourhour.oversight.escalation_store import attach_status, record_run
    from fourhour.report.bulletin import is_synthetic
    from fourhour.report.oversight import render_escalation
    from fourhour.warehouse import open_warehouse

    if sum(bool(v) for v in (week_ending_, month, quarter)) != 1:
        raise typer.BadParameter(
            "give exactly one of --week-ending YYYY-MM-DD, --month YYYY-MM or --quarter 2025-26Q3",
            param_hint="the period",
        )
    period = parse_period(week_ending_, month, quarter)
    if level not in LEVELS:
        raise InvalidInputError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    if fmt not in ESCALATION_FORMATS:
        raise InvalidInputError(
            f"unknown format {fmt!r}; expected one of {', '.join(ESCALATION_FORMATS)}"
        )
    loaded = load_escalation_rules(rules, period.granularity)
    if top is not None:
        from dataclasses import replace

        loaded = replace(loaded, top=top)
    with open_warehouse(warehouse, read_only=not record) as wh:
        forward = None
        rule = loaded.rules["forecast_miss"]
        if rule.enabled and level == "system":
            from fourhour.forecast.outlook import forecast_miss_systems

            fired = forecast_miss_systems(
                wh,
                period.end,
                min_probability=float(rule.params["min_probability"]),
                interim_pct=float(rule.params["interim_pct"]),
            )
            forward = fired.set_index("system_code")["fired"]
        result = evaluate(wh, period, loaded, level, forecast_miss=forward)
        events: list[dict] = []
        status = "not recorded"
        if record:
            outcome = record_run(wh, result)
            events, status = outcome.events, outcome.status
        payload = attach_status(wh, result.as_dict())
        text = render_escalation(payload, fmt, events=events, synthetic=is_synthetic(wh))
    if out:
        write_text_atomic(out, text)
        console.print(f"wrote {out} (run {status})")
    else:
        typer.echo(text, nl=False)
        if fmt == "text":
            console.print(f"[dim]run {status}[/]")


@escalations_app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help=f"Only this status: {', '.join(STATUSES)}.")
    ] = None,
    level: Annotated[str | None, typer.Option(help="Only system or provider escalations.")] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Escalations with their status, and the periods they opened and were last seen."""
    if level is not None and level not in LEVELS:
        raise InvalidInputError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    if status is not None and status not in STATUSES:
        raise InvalidInputError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    from fourhour.oversight.escalation_store import list_escalations
    from fourhour.oversight.explain import named
    from fourhour.warehouse import open_warehouse

    with open_warehouse(warehouse, read_only=True) as wh:
        rows = list_escalations(wh, status, level)
    table = Table(title=f"{len(rows):,} escalations (periods by their last day)")
    for column in ("id", "organisation", "level", "status", "opened", "latest"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            named(r["system_name"], r["system_code"]),
            r["level"],
            r["status"],
            str(r["opened"]),
            str(r["last_period"] or ""),
        )
    console.print(table)


@escalations_app.command("show")
def show(
    escalation_id: Annotated[int, typer.Argument(help="The escalation's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """One escalation's history and its latest evidence."""
    from fourhour.oversight.escalation_store import show_escalation
    from fourhour.oversight.explain import named
    from fourhour.warehouse import open_warehouse

    with open_warehouse(warehouse, read_only=True) as wh:
        e = show_escalation(wh, escalation_id)
    if as_json:
        typer.echo(json.dumps(e, indent=2, default=str))
        return
    console.print(
        f"[bold]#{e['id']} {named(e['system_name'], e['system_code'])}[/] ({e['level']}): "
        f"{e['status']}, opened on the {e['opened_granularity']} ending {e['opened']}"
        + (f", closed {e['closed']}" if e["closed"] else ""),
        highlight=False,
    )
    table = Table()
    for column in ("#", "period ending", "event", "status", "note"):
        table.add_column(column)
    for h in e["history"]:
        when = f"{h['period_end']} ({h['granularity']})" if h["period_end"] else ""
        table.add_row(str(h["seq"]), when, h["event"], h["status"], h["note"] or "")
    console.print(table)
    if e.get("latest_evidence"):
        console.print(e["latest_evidence"]["explanation"], highlight=False)


@escalations_app.command("update")
def update(
    escalation_id: Annotated[int, typer.Argument(help="The escalation's id.")],
    status: Annotated[str, typer.Option(help=f"New status: {', '.join(STATUSES)}.")],
    note: Annotated[str | None, typer.Option(help="What happened, e.g. the meeting held.")] = None,
    week: Annotated[
        str | None, typer.Option("--week-ending", help="The week it concerns, YYYY-MM-DD.")
    ] = None,
    month: Annotated[str | None, typer.Option(help="The month it concerns, YYYY-MM.")] = None,
    quarter: Annotated[
        str | None, typer.Option(help="The quarter it concerns, e.g. 2025-26Q3.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Record a status change by hand, e.g. --status meeting_held --note 'met on 12 Jan'."""
    from fourhour.oversight.escalation_store import update_status
    from fourhour.warehouse import open_warehouse

    period = parse_period(week, month, quarter) if (week or month or quarter) else None
    with open_warehouse(warehouse) as wh:
        event = update_status(wh, escalation_id, status, note, period)
    console.print(f"#{escalation_id}: {event['status']}" + (f" ({note})" if note else ""))
