"""`fourhour simulate`, `fourhour sweep`, `fourhour calibrate`: the capacity model of one trust
(docs/capacity.md)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import JustifyMethod
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fourhour.capacity.defaults import DEFAULT_REPLICATIONS, ELECTIVE_BED_SHARE, TARGET_TYPE1_PCT
from fourhour.cli import app, console
from fourhour.cli.options import WarehouseOption, input_argument, input_option, output_option
from fourhour.errors import InvalidInputError
from fourhour.outputs import atomic_path

if TYPE_CHECKING:
    from fourhour.capacity.results import CapacityResult
    from fourhour.capacity.scenario import Scenario

ScenarioArgument = Annotated[
    Path | None,
    input_argument(
        help="Scenario TOML: only what differs from the default trust (see docs/capacity.md). "
        "Default: the default trust.",
        show_default=False,
    ),
]
ReplicationsOption = Annotated[
    int, typer.Option("--replications", "-r", help="Independent replications (parallel threads).")
]
SWEEP_REPLICATIONS = 20


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done, _total: progress.update(task, completed=done)


def _prepare() -> None:
    from fourhour.capacity.simulate import warm_up_engine

    with console.status("preparing the simulation engine (compiled once, then cached)"):
        warm_up_engine()


def _fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "-"
    if unit == "count":
        return f"{value:,.0f}"
    if unit in ("minutes",):
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) < 100 or unit == "%" else f"{value:,.0f}"


def _describe(s: Scenario) -> str:
    pools = ", ".join(
        f"{p.name} {p.beds}"
        + (f"+{p.escalation_beds}" if p.escalation_beds else "")
        + (" (ring-fenced)" if p.ring_fenced and len(s.pools) > 1 else "")
        for p in s.pools
    )
    return (
        f"{s.arrivals.per_day:,.0f} arrivals a day, beds: {pools}, discharges "
        f"{s.discharge.window[0]:g}-{s.discharge.window[1]:g}h, "
        f"UTC streaming {s.utc.streaming_share:.0%} of minors, {s.period.days} days from "
        f"{s.period.start}"
    )


def _print_result(result: CapacityResult) -> None:
    from fourhour.capacity.confidence import CONFIDENCE

    s = result.scenario
    console.print(f"[bold]{s.name}[/]: {_describe(s)}", highlight=False, soft_wrap=True)
    console.print(
        f"{result.replications} replications in {result.seconds:.1f} s; means with "
        f"{CONFIDENCE:.0%} confidence intervals across replications (SYNTHETIC)",
        highlight=False,
    )
    table = Table()
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("measure", "left"),
        ("mean", "right"),
        ("interval", "right"),
        ("unit", "left"),
    )
    for title, justify in columns:
        table.add_column(title, justify=justify)
    for r in result.summary().to_dict("records"):
        interval = (
            ""
            if r["low"] != r["low"]
            else f"{_fmt(r['low'], r['unit'])} - {_fmt(r['high'], r['unit'])}"
        )
        table.add_row(r["label"], _fmt(r["mean"], r["unit"]), interval, r["unit"])
    console.print(table)
    tid = result.time_in_department()
    bands = Table(title="time in department (% of attendances)")
    bands.add_column("hours")
    for kind in ("type 1", "all types"):
        bands.add_column(kind, justify="right")
    for band in tid["band"].unique():
        row = [band]
        for kind in ("type 1", "all types"):
            r = tid[(tid["band"] == band) & (tid["types"] == kind)].iloc[0]
            row.append(f"{r['pct']:.1f}")
        bands.add_row(*row)
    console.print(bands)


@app.command("simulate")
def simulate_command(
    scenario: ScenarioArgument = None,
    replications: ReplicationsOption = DEFAULT_REPLICATIONS,
    seed: Annotated[
        int | None, typer.Option(help="Override the scenario's seed.", show_default=False)
    ] = None,
    records: Annotated[
        Path | None,
        output_option(
            help="Also write the first replication's attendances as patient-level records "
            "(.parquet or .csv) for `fourhour patients ingest`.",
            show_default=False,
        ),
    ] = None,
    csv: Annotated[
        Path | None,
        output_option(help="Write every replication's measures to this CSV.", show_default=False),
    ] = None,
) -> None:
    """Simulate one trust (SYNTHETIC): A&E arrivals, cubicles, admissions waiting for beds,
    bed pools and discharges; four-hour performance, 12-hour waits, occupancy and time in
    department with confidence intervals across replications."""
    from fourhour.capacity.records import check_records_path, patient_records, write_records
    from fourhour.capacity.scenario import load_scenario
    from fourhour.capacity.simulate import simulate

    if records:
        check_records_path(records)
    s = load_scenario(scenario)
    _prepare()
    with _progress("replications", replications) as progress:
        result = simulate(s, replications, seed=seed, progress=progress)
    _print_result(result)
    if csv:
        with atomic_path(csv) as tmp:
            result.per_replication().to_csv(tmp, index=False)
        console.print(f"wrote {replications} replications' measures to {csv}")
    if records:
        with console.status("writing patient-level records"):
            frame = patient_records(s, seed=seed)
            with atomic_path(records) as tmp:
                write_records(frame, tmp)
        console.print(
            f"wrote {len(frame):,} SYNTHETIC attendances to {records} "
            f"(`fourhour patients ingest {records}` reads them)",
            highlight=False,
            soft_wrap=True,
        )


@app.command("sweep")
def sweep_command(
    scenarios: Annotated[
        list[Path] | None,
        input_argument(
            help="Scenario TOML files, one curve each (default: the default trust).",
            show_default=False,
        ),
    ] = None,
    beds: Annotated[
        str | None,
        typer.Option(
            help="Total core beds START:STOP:STEP (or a list), e.g. 500:700:20. The default "
            "sweeps beds for expected occupancy of about 72% to 97%.",
            show_default=False,
        ),
    ] = None,
    demand: Annotated[
        str | None,
        typer.Option(
            help="A&E arrivals as multiples of the scenario's, e.g. 0.8:1.2:0.05.",
            show_default=False,
        ),
    ] = None,
    los: Annotated[
        str | None,
        typer.Option(
            help="Lengths of stay as multiples of the scenario's, e.g. 0.8:1.2:0.05.",
            show_default=False,
        ),
    ] = None,
    streaming: Annotated[
        str | None,
        typer.Option(
            help="Share of minors streamed to the UTC, e.g. 0:1:0.25.", show_default=False
        ),
    ] = None,
    discharge: Annotated[
        str | None,
        typer.Option(
            help="Hours earlier the discharge window opens and closes, e.g. 0:4:1 "
            "(negative: later).",
            show_default=False,
        ),
    ] = None,
    weekend: Annotated[
        str | None,
        typer.Option(
            help="Share of discharges due at a weekend made that day, e.g. 0.5:1:0.1.",
            show_default=False,
        ),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(
            help="Calibrate this provider (ODS code) from the warehouse and sweep it; without "
            "a lever, print what it takes to reach --target on every lever.",
            show_default=False,
        ),
    ] = None,
    target: Annotated[
        float, typer.Option(help="Type 1 performance (%) for the what-it-takes table.")
    ] = TARGET_TYPE1_PCT,
    winter: Annotated[
        str | None,
        typer.Option(
            help="With --provider: the winter to calibrate to (default: the latest with bed "
            "figures and returns).",
            show_default=False,
        ),
    ] = None,
    warehouse: WarehouseOption = None,
    replications: ReplicationsOption = SWEEP_REPLICATIONS,
    out: Annotated[
        Path,
        output_option(help="The chart: .png, .svg, .pdf, .html or .json by suffix."),
    ] = Path("sweep.png"),
    csv: Annotated[
        Path | None, output_option(help="Also write the table to this CSV.", show_default=False)
    ] = None,
) -> None:
    """Step one lever (beds, demand, length of stay, UTC streaming, discharge time or weekend
    discharges) and draw four-hour performance (type 1 and all types) against mean bed
    occupancy, today's position marked: flat at moderate occupancy, then the knee. With
    --provider and no lever: what it takes on each lever to reach --target."""
    from fourhour.capacity.chart import check_chart_path, save_chart, sweep_chart
    from fourhour.capacity.confidence import CONFIDENCE
    from fourhour.capacity.scenario import load_scenario
    from fourhour.capacity.sweep import (
        LEVERS,
        current_value,
        default_bed_range,
        knee,
        parse_range,
        sweep,
    )

    given = {
        k: v
        for k, v in (
            ("beds", beds),
            ("demand", demand),
            ("los", los),
            ("streaming", streaming),
            ("discharge", discharge),
            ("weekend", weekend),
        )
        if v is not None
    }
    if len(given) > 1:
        raise InvalidInputError(f"sweep one lever at a time (given: --{', --'.join(given)})")
    check_chart_path(out)
    if provider and scenarios:
        raise InvalidInputError("give scenario files or --provider, not both")
    if not provider and (winter or warehouse):
        if warehouse is not None:  # a bad path is named first, as everywhere
            from fourhour.warehouse.connection import check_warehouse_path

            check_warehouse_path(Path(warehouse), read_only=True)
        used = "--winter" if winter else "--warehouse"
        raise InvalidInputError(
            f"{used} goes with --provider CODE (the trust to calibrate and sweep)"
        )
    if provider:
        loaded = [_calibrated(provider, winter, warehouse, replications)]
        if not given:
            _what_it_takes(loaded[0], target, replications, out, csv)
            return
    else:
        loaded = [load_scenario(p) for p in scenarios] if scenarios else [load_scenario(None)]
    if given:
        lever, text = next(iter(given.items()))
        values = parse_range(text, lever)
    else:
        lever, values = "beds", default_bed_range(loaded[0])
    nows = {s.name: current_value(s, lever) for s in loaded}
    values = sorted(set(values) | set(nows.values()) if len(loaded) == 1 else values)
    _prepare()
    with _progress(f"sweeping {LEVERS[lever].label}", len(values) * len(loaded)) as progress:
        table = sweep(loaded, lever, values, replications, progress=progress)
    table["today"] = [
        math.isclose(v, nows[name], abs_tol=1e-9)
        for name, v in zip(table["scenario"], table["value"], strict=True)
    ]
    shown = Table(
        title=f"four-hour performance against occupancy, sweeping {LEVERS[lever].label} "
        f"({replications} replications a point; {CONFIDENCE:.0%} intervals; SYNTHETIC)"
    )
    several = len(loaded) > 1
    heads = (["scenario"] if several else []) + [
        LEVERS[lever].name,
        "occupancy %",
        "midnight %",
        "type 1 %",
        "type 1 interval",
        "all types %",
        "12h DTA waits",
        "12h from arrival",
    ]
    for h in heads:
        shown.add_column(h, justify="left" if h == "scenario" else "right")
    for r in table.to_dict("records"):
        v = r["value"]
        row = ([r["scenario"]] if several else []) + [
            f"{v:g}" + (" (today)" if r["today"] else ""),
            f"{r['mean_occupancy_pct']:.1f}",
            f"{r['midnight_occupancy_pct']:.1f}",
            f"{r['type1_pct']:.1f}",
            f"{r['type1_pct_low']:.1f} - {r['type1_pct_high']:.1f}",
            f"{r['all_types_pct']:.1f}",
            f"{r['dta_over_12h']:,.0f}",
            f"{r['over_12h_from_arrival']:,.0f}",
        ]
        shown.add_row(*row)
    console.print(shown)
    for name in table["scenario"].unique():
        k = knee(table[table["scenario"] == name])
        where = f"from about {k:.0f}% mean occupancy" if k else "nowhere in this range"
        console.print(
            f"{name}: type 1 performance falls more than a point below its best {where}",
            highlight=False,
        )
    chart = sweep_chart(
        table,
        title=f"Four-hour performance against bed occupancy: "
        f"{loaded[0].name if not several else 'scenarios compared'}",
    )
    with atomic_path(out) as tmp:
        save_chart(chart, tmp)
    if csv:
        with atomic_path(csv) as tmp:
            table.to_csv(tmp, index=False)
    console.print(f"wrote the chart to {out}" + (f" and the table to {csv}" if csv else ""))


def _calibrated(provider: str, winter: str | None, warehouse, replications: int) -> Scenario:
    """The provider's calibrated scenario, checked; a fit that fails says so loudly."""
    from fourhour.capacity.calibrate import calibrate as fit_provider
    from fourhour.capacity.calibrate import check_fit
    from fourhour.warehouse import open_warehouse

    with open_warehouse(warehouse, read_only=True) as wh:
        fitted = fit_provider(wh, provider, winter=winter)
    for note in fitted.notes:
        console.print(f"[dim]note:[/] {note}", highlight=False, soft_wrap=True)
    _prepare()
    with _progress("checking the fit", replications) as progress:
        fitted = fitted.checked(check_fit(fitted, replications, progress=progress))
    _print_fit(fitted)
    return fitted.scenario


def _what_it_takes(s: Scenario, target: float, replications: int, out: Path, csv) -> None:
    from fourhour.capacity.chart import levers_chart, save_chart
    from fourhour.capacity.levers import lever_values, what_it_takes

    plans = sum(
        len(lever_values(s, lv))
        for lv in ("beds", "los", "discharge", "weekend", "streaming", "demand")
    )
    with _progress("what it takes, lever by lever", plans) as progress:
        plan = what_it_takes(s, replications, target, progress=progress)
    t = plan.today
    console.print(
        f"today in the model: type 1 {t['type1_pct']:.1f}% ({t['type1_low']:.1f}-"
        f"{t['type1_high']:.1f}), mean occupancy {t['occupancy_pct']:.1f}% "
        f"({t['occupied_beds']:,.0f} occupied beds)",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(
        title=f"what it takes to reach {target:g}% type 1 within four hours, one lever at a "
        f"time ({s.name})"
    )
    for h in ("lever", "today", "what it takes", "type 1 at the furthest step"):
        table.add_column(h, justify="left" if h != "today" else "right")
    for r in plan.table.to_dict("records"):
        table.add_row(
            r["label"],
            f"{r['today']:g}",
            r["words"],
            f"{r['type1_at_furthest']:.1f}% at {r['furthest']:g}",
        )
    console.print(table)
    if "NOT VALIDATED" in s.name:
        console.print(
            "[bold red]NOT VALIDATED[/]: the calibrated model does not reproduce this trust; "
            "read these as what the model needs, not what the trust needs.",
            highlight=False,
        )
    chart = levers_chart(plan.curves, target, title=f"What each lever does: {s.name}")
    with atomic_path(out) as tmp:
        save_chart(chart, tmp)
    if csv:
        with atomic_path(csv) as tmp:
            plan.table.to_csv(tmp, index=False)
    console.print(f"wrote the chart to {out}" + (f" and the table to {csv}" if csv else ""))


@app.command("calibrate")
def calibrate_command(
    provider: Annotated[str, typer.Option(help="The provider's ODS code, e.g. RXQ.")],
    out: Annotated[
        Path | None,
        output_option(
            help="Where to write the scenario (default: PROVIDER.toml).", show_default=False
        ),
    ] = None,
    template: Annotated[
        Path | None,
        input_option(
            help="Scenario whose settings are kept where the returns say nothing "
            "(default: the default trust).",
            show_default=False,
        ),
    ] = None,
    winter: Annotated[
        str | None,
        typer.Option(
            help="Fit to this winter's returns and bed figures, e.g. 2017-18 (default: the "
            "latest winter with both).",
            show_default=False,
        ),
    ] = None,
    latest: Annotated[
        bool,
        typer.Option(
            "--latest",
            help="Fit to the latest 12 months of returns and the nearest bed figures, even "
            "when they are years apart (the notes say how far).",
        ),
    ] = False,
    elective_share: Annotated[
        float,
        typer.Option(
            help="Assumed share of G&A beds filled by planned (elective) patients, whom the "
            "model does not simulate."
        ),
    ] = ELECTIVE_BED_SHARE,
    check: Annotated[
        int,
        typer.Option(
            help="Simulate the fitted scenario with this many replications and show "
            "it beside the observed figures (0: don't; the fit is then NOT VALIDATED)."
        ),
    ] = 10,
    warehouse: WarehouseOption = None,
) -> None:
    """Fit arrivals, admission rates, beds and length of stay to a provider's returns and bed
    sitreps of the same period in the warehouse; simulate it and compare type 1 performance,
    occupancy and admissions with the observed figures; write the scenario TOML."""
    from fourhour.capacity.calibrate import calibrate as fit_provider
    from fourhour.capacity.calibrate import check_fit
    from fourhour.capacity.scenario import load_scenario
    from fourhour.outputs import check_output, write_text_atomic
    from fourhour.warehouse import open_warehouse

    check_output(out or Path(f"{provider.strip().upper()}.toml"), option="--out")
    base = load_scenario(template) if template else None
    with open_warehouse(warehouse, read_only=True) as wh:
        fitted = fit_provider(
            wh, provider, base, winter=winter, latest=latest, elective_share=elective_share
        )
    path = out or Path(f"{fitted.provider}.toml")
    o = fitted.observed
    console.print(
        f"fitted {fitted.provider} to its {o['granularity']}ly returns {o['period_from']} to "
        f"{o['period_to']}: {o['attendances_per_day']:,.0f} arrivals a day, "
        f"{fitted.scenario.beds} beds for emergency patients",
        highlight=False,
        soft_wrap=True,
    )
    for note in fitted.notes:
        console.print(f"[dim]note:[/] {note}", highlight=False, soft_wrap=True)
    if check > 0:
        _prepare()
        with _progress("checking the fit", check) as progress:
            fitted = fitted.checked(check_fit(fitted, check, progress=progress))
        _print_fit(fitted)
    else:
        console.print("[bold]NOT VALIDATED[/]: not simulated against the observed figures.")
    write_text_atomic(path, fitted.toml())
    console.print(f"wrote {path}", highlight=False)


def _print_fit(fitted) -> None:
    c = fitted.check
    table = Table(
        title=f"observed against simulated ({c.replications} replications; SYNTHETIC), "
        "means and 95% intervals"
    )
    for h in ("measure", "observed", "simulated", "interval", "tolerance", "fit"):
        table.add_column(h, justify="left" if h in ("measure", "fit") else "right")
    for r in c.rows:
        seen, tol = r["observed"], r["tolerance"]
        tol_text = "" if tol is None else (f"±{tol:.0%}" if tol < 1 else f"±{tol:g} points")
        fit = {True: "yes", False: "[bold red]NO[/]", None: ""}[r["within"]]
        table.add_row(
            r["measure"],
            "-" if seen is None else f"{seen:,.1f}",
            f"{r['simulated']:,.1f}",
            "" if math.isnan(r["low"]) else f"{r['low']:,.1f} - {r['high']:,.1f}",
            tol_text,
            fit,
        )
    console.print(table)
    if c.validated:
        console.print(
            "[bold green]validated[/]: the model reproduces type 1 performance, occupancy and "
            "admissions within tolerance.",
            highlight=False,
        )
    else:
        console.print(
            "[bold red]NOT VALIDATED[/]: the model does not reproduce this trust; do not "
            "present its results as the trust's.",
            highlight=False,
        )
        for tip in c.suggestions:
            console.print(f"[dim]suggestion:[/] {tip}", highlight=False, soft_wrap=True)
