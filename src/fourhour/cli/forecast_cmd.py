"""`fourhour forecast`, `fourhour forecast outlook` and `fourhour forecast backtest`.

The forecast package (and statsforecast with it) is imported inside the commands so that
`fourhour --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fourhour.cli import app, console, err_console
from fourhour.cli.options import WarehouseOption, output_option
from fourhour.errors import InvalidInputError, QueryError
from fourhour.outputs import atomic_path, write_text_atomic
from fourhour.periods import parse_date, parse_month

forecast_app = typer.Typer(
    help=(
        "Forecast attendances, breaches, four-hour performance and 12-hour waits for every "
        "trust, system, region and England, with 80% and 95% intervals; the winter outlook; "
        "and the rolling-origin backtest."
    ),
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(forecast_app, name="forecast")

LEVEL_CHOICES = ("provider", "system", "region", "england")
FORMATS = ("text", "json", "csv")


def _origin(granularity: str, origin: str | None):
    if origin is None:
        return None
    if granularity == "month":
        return parse_month(origin).end
    return parse_date(origin)


def _emit(text: str, out: Path | None) -> None:
    """The output to --out (written whole, atomically), else to the terminal."""
    if out:
        write_text_atomic(out, text + "\n")
        console.print(f"wrote {out}")
    else:
        typer.echo(text)


def _models(models: str | None) -> tuple[str, ...] | None:
    return tuple(m.strip() for m in models.split(",") if m.strip()) if models else None


@forecast_app.callback()
def forecast(
    ctx: typer.Context,
    horizon: Annotated[
        int, typer.Option(help="Periods ahead: 1-12 months, or 1-26 weeks with --weekly.")
    ] = 12,
    level: Annotated[
        str, typer.Option(help=f"Shown level: {', '.join(LEVEL_CHOICES)}.")
    ] = "england",
    code: Annotated[
        str | None, typer.Option(help="One organisation's code at that level (e.g. RXQ).")
    ] = None,
    origin: Annotated[
        str | None,
        typer.Option(help="Last period of history: YYYY-MM (or a Sunday with --weekly)."),
    ] = None,
    weekly: Annotated[bool, typer.Option(help="Forecast weekly returns, not monthly.")] = False,
    models: Annotated[
        str | None,
        typer.Option(help="Candidate models, comma-separated: ets, theta, arima, mstl."),
    ] = None,
    reconcile: Annotated[
        str, typer.Option(help="mint_shrink (default) or bottom_up.")
    ] = "mint_shrink",
    trajectory: Annotated[
        float | None,
        typer.Option(help="A trajectory (%, e.g. 78) to give the probability of meeting."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json or csv.")] = "text",
    out: Annotated[Path | None, output_option(help="Write the output to this file.")] = None,
    chart: Annotated[
        Path | None,
        output_option(help="Draw the shown organisation's forecast (.png, .svg, .html, .pdf)."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the interval draws.")] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Forecast every trust, system, region and England, reconciled so that trusts add up.

    Performance is derived from the forecast attendances and breaches, with its 80% and 95%
    intervals and the probability of meeting the standard (or --trajectory) in each period.
    """
    ctx.ensure_object(dict)
    ctx.obj["warehouse"] = warehouse
    if ctx.invoked_subcommand is not None:
        return
    from fourhour.forecast import SEED, run_forecast
    from fourhour.warehouse import open_warehouse

    if level not in LEVEL_CHOICES:
        raise InvalidInputError(
            f"unknown level {level!r}; expected one of {', '.join(LEVEL_CHOICES)}"
        )
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    granularity = "week" if weekly else "month"
    with open_warehouse(warehouse, read_only=True) as wh:
        result = run_forecast(
            wh,
            granularity=granularity,
            origin=_origin(granularity, origin),
            horizon=horizon,
            models=_models(models),
            method=reconcile,
            trajectory_pct=trajectory,
            seed=SEED if seed is None else seed,
            provider=code if level == "provider" else None,
        )
    shown_code = code or ("ENGLAND" if level == "england" else None)
    if code and not len(result.select(level, code)):
        raise QueryError(f"no {level} {code!r} in the forecast from {result.origin}")
    if fmt == "json":
        text = json.dumps(result.as_dict(level, code), indent=2)
    elif fmt == "csv":
        text = _csv(result, level, code)
    else:
        text = None
    if text is not None:
        _emit(text, out)
    else:
        _print_text(result, level, code)
    if chart:
        if shown_code is None:
            raise InvalidInputError(
                "--chart draws one organisation: give --code (or --level england)"
            )
        from fourhour.forecast.chart import forecast_chart, save_chart

        with atomic_path(chart) as tmp:
            save_chart(forecast_chart(result, level, shown_code), tmp)
        console.print(f"wrote {chart}")


def _csv(result, level: str, code: str | None) -> str:
    table = result.select(level, code).merge(
        result.probabilities[
            ["level", "code", "period_end", "p_standard", "target_pct", "p_target"]
        ],
        on=["level", "code", "period_end"],
        how="left",
    )
    return table.to_csv(index=False, float_format="%.3f").rstrip("\n")


def _fmt_count(v: float) -> str:
    return f"{v:,.0f}"


def _print_text(result, level: str, code: str | None) -> None:
    basis = result.basis
    att_m = "att_all" if basis == "all_types" else "att_type1"
    perf_m = f"perf_{basis}"
    what = "all types" if basis == "all_types" else "type 1"
    rows = result.select(level, code, (att_m, perf_m, "dta_over_12h"))
    probs = result.probabilities.set_index(["level", "code", "period_end"]).sort_index()
    console.print(
        f"[bold]Forecast from {result.origin:%B %Y}[/] ({result.history.granularity}ly "
        f"{result.history.source}; {result.horizon} {result.history.granularity}s ahead; "
        f"reconciliation {result.method}; models {', '.join(result.models)} beside the "
        "seasonal-naive baseline)",
        highlight=False,
    )
    orgs = rows[["level", "code", "name"]].drop_duplicates()
    if len(orgs) > 12 and code is None:
        console.print(
            f"{len(orgs)} organisations at {level} level: showing the first 12; use --code, or "
            "--format csv / json for all",
            highlight=False,
        )
        orgs = orgs.head(12)
    for org in orgs.itertuples(index=False):
        part = rows[(rows["level"] == org.level) & (rows["code"] == org.code)]
        t = Table(title=f"{org.name} ({org.code})", title_justify="left")
        probs_here = probs.loc[(org.level, org.code)]
        has_target = bool(probs_here["target_pct"].notna().any())
        has_dta = bool((part["measure"] == "dta_over_12h").any())
        columns = ["period", f"attend. ({what})", "80%", "4h %", "80%", "95%"]
        columns.append(f"P≥{result.standard_pct:g}%")
        columns += ["P≥target"] * has_target + ["12h DTA"] * has_dta
        for col in columns:
            t.add_column(col, justify="left" if col == "period" else "right")
        for period in sorted(set(part["period_end"])):
            a = part[(part["period_end"] == period) & (part["measure"] == att_m)].iloc[0]
            p = part[(part["period_end"] == period) & (part["measure"] == perf_m)].iloc[0]
            d = part[(part["period_end"] == period) & (part["measure"] == "dta_over_12h")]
            pr = probs_here.loc[period]
            cells = [
                f"{period:%b %Y}" if result.history.granularity == "month" else f"{period}",
                _fmt_count(a["mean"]),
                f"{_fmt_count(a['lo80'])}-{_fmt_count(a['hi80'])}",
                f"{p['mean']:.1f}",
                f"{p['lo80']:.1f}-{p['hi80']:.1f}",
                f"{p['lo95']:.1f}-{p['hi95']:.1f}",
                f"{pr['p_standard']:.0%}",
            ]
            if has_target:
                cells.append(f"{pr['p_target']:.0%} of {pr['target_pct']:g}%")
            if has_dta:
                cells.append(_fmt_count(d.iloc[0]["mean"]))
            t.add_row(*cells)
        console.print(t)
    for note in result.notes + result.history.notes:
        console.print(f"[dim]note:[/] {note}", highlight=False)


@forecast_app.command()
def outlook(
    ctx: typer.Context,
    origin: Annotated[
        str | None, typer.Option(help="Last month of history, YYYY-MM (default: the latest).")
    ] = None,
    level: Annotated[str, typer.Option(help="provider or system.")] = "provider",
    top: Annotated[int, typer.Option(help="How many organisations to list.")] = 20,
    interim: Annotated[
        float | None, typer.Option(help="Target where a trust has no trajectory (default 78).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json or csv.")] = "text",
    out: Annotated[Path | None, output_option(help="Write the output to this file.")] = None,
) -> None:
    """The winter outlook: each trust's December-March forecast against its trajectory and
    the standard, ranked by the probability of missing."""
    from fourhour.forecast import run_forecast
    from fourhour.forecast.outlook import INTERIM_TARGET_PCT, winter_outlook
    from fourhour.warehouse import open_warehouse

    with open_warehouse(ctx.obj.get("warehouse"), read_only=True) as wh:
        result = run_forecast(wh, granularity="month", origin=_origin("month", origin))
    view = winter_outlook(result, INTERIM_TARGET_PCT if interim is None else interim)
    ranked = view.ranked(level, top)
    if fmt == "json":
        text = json.dumps(view.as_dict(level, top), indent=2)
    elif fmt == "csv":
        text = ranked.to_csv(index=False, float_format="%.3f").rstrip("\n")
    else:
        text = None
    if text is not None:
        _emit(text, out)
        return
    t = Table(
        title=f"Winter outlook, {view.label} (forecast from {result.origin:%B %Y}): "
        f"the {level}s most likely to miss",
        title_justify="left",
    )
    for col in (
        "rank",
        "code",
        "name",
        "forecast %",
        "80% interval",
        "target %",
        "P(miss)",
        f"P(≥{result.standard_pct:g}%)",
    ):
        t.add_column(col, justify="left" if col in ("code", "name") else "right")
    for r in ranked.itertuples(index=False):
        t.add_row(
            str(r.rank),
            str(r.code),
            str(r.name),
            f"{r.forecast_pct:.1f}",
            f"{r.lo80:.1f}-{r.hi80:.1f}",
            f"{r.target_pct:.1f} ({r.target_kind})",
            f"{r.p_miss_target:.0%}",
            f"{r.p_meet_standard:.0%}",
        )
    console.print(t)


@forecast_app.command()
def backtest(
    ctx: typer.Context,
    dataset: Annotated[
        list[str] | None,
        typer.Option(help="weekly, monthly, england (repeat; default: all three)."),
    ] = None,
    max_origins: Annotated[
        int | None, typer.Option(help="Use only the latest N origins of each data set.")
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(help="Candidate models, comma-separated: ets, theta, arima, mstl."),
    ] = None,
    reconcile: Annotated[str, typer.Option(help="mint_shrink or bottom_up.")] = "mint_shrink",
    fmt: Annotated[str, typer.Option("--format", help="text, json or csv.")] = "text",
    out: Annotated[Path | None, output_option(help="Write the output to this file.")] = None,
) -> None:
    """Rolling-origin backtest on the warehouse's own returns, each origin seeing only the
    rows published up to it: MASE against seasonal naive, MAPE of attendances, MAE of
    performance in points, interval coverage and pinball loss by horizon and level."""
    import time

    from fourhour.forecast.backtest import DATASETS
    from fourhour.forecast.backtest import backtest as run_backtest
    from fourhour.warehouse import open_warehouse

    started = time.perf_counter()

    def progress(name, origin):
        err_console.print(
            f"[dim]{time.perf_counter() - started:6.0f}s {name}: origin {origin}[/]",
            highlight=False,
        )

    with open_warehouse(ctx.obj.get("warehouse"), read_only=True) as wh:
        result = run_backtest(
            wh,
            tuple(dataset) if dataset else DATASETS,
            max_origins=max_origins,
            progress=progress,
            models=_models(models),
            method=reconcile,
        )
    if fmt == "json":
        text = json.dumps(result.as_dict(), indent=2)
    elif fmt == "csv":
        text = result.summary.to_csv(index=False, float_format="%.3f").rstrip("\n")
    else:
        text = _backtest_text(result)
    _emit(text, out)


def _backtest_text(result) -> str:
    lines = []
    for name, found in result.origins.items():
        lines.append(
            f"{name}: {len(found)} origin(s), {found[0].isoformat()} to {found[-1].isoformat()}"
        )
    s = result.summary
    att = s[s["measure"].str.startswith("att")]
    perf = s[s["measure"].str.startswith("perf")]
    lines.append("")
    lines.append(
        "Attendances (MASE: model and seasonal naive; MAPE %; coverage %; pinball % of outcome)"
    )
    lines.append(
        f"{'dataset':8} {'level':8} {'measure':9} {'h':>5} {'n':>6} {'MASE':>6} {'snaive':>6} "
        f"{'relMAE':>6} {'MAPE':>6} {'snaive':>6} {'cov80':>6} {'cov95':>6} {'pinball':>7}"
    )
    for r in att.itertuples(index=False):
        lines.append(
            f"{r.dataset:8} {r.level:8} {r.measure:9} {r.horizon:>5} {r.n:>6} {r.mase:6.2f} "
            f"{r.mase_snaive:6.2f} {r.relative_mae:6.2f} {r.mape:6.2f} {r.mape_snaive:6.2f} "
            f"{r.coverage80:6.1f} "
            f"{r.coverage95:6.1f} {r.pinball_pct:7.2f}"
        )
    lines.append("")
    lines.append(
        "Four-hour performance (MAE in points: model, same period last year, mean of last 3; "
        "coverage %; pinball in points)"
    )
    lines.append(
        f"{'dataset':8} {'level':8} {'measure':14} {'h':>5} {'n':>6} {'MAE':>6} {'lastyr':>6} "
        f"{'last3':>6} {'cov80':>6} {'cov95':>6} {'pinball':>7}"
    )
    for r in perf.itertuples(index=False):
        lines.append(
            f"{r.dataset:8} {r.level:8} {r.measure:14} {r.horizon:>5} {r.n:>6} "
            f"{r.mae_points:6.2f} {r.mae_last_year:6.2f} {r.mae_last3:6.2f} "
            f"{r.coverage80:6.1f} {r.coverage95:6.1f} {r.pinball_points:7.2f}"
        )
    for note in result.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)
