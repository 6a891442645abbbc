"""`fourhour evidence occupancy`: four-hour performance against bed occupancy in the real data
(docs/capacity.md, "Evidence from the real data")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fourhour.cli import app, console
from fourhour.cli.options import WarehouseOption, input_option, output_option
from fourhour.errors import InvalidInputError
from fourhour.outputs import atomic_path, write_text_atomic

evidence_app = typer.Typer(
    help="What the real data show about the causes of four-hour performance.",
    no_args_is_help=True,
)
app.add_typer(evidence_app, name="evidence")


@evidence_app.command("occupancy")
def occupancy_command(
    warehouse: WarehouseOption = None,
    out: Annotated[
        Path,
        output_option(help="The chart: .png, .svg, .pdf, .html or .json by suffix."),
    ] = Path("occupancy-evidence.png"),
    json_out: Annotated[
        Path | None,
        output_option("--json", help="Also write every figure as JSON.", show_default=False),
    ] = None,
    csv: Annotated[
        Path | None,
        output_option(
            help="Also write the matched trust-periods (one row each) to this CSV.",
            show_default=False,
        ),
    ] = None,
    provider: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these providers (ODS codes; repeat the option).", show_default=False
        ),
    ] = None,
    model_replications: Annotated[
        int,
        typer.Option(
            help="Replications a point for the capacity model's curve beside the data "
            "(0: no model curve)."
        ),
    ] = 8,
    scenario: Annotated[
        Path | None,
        input_option(
            help="Scenario TOML for the model's curve (default: the default trust).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Join each trust's G&A bed occupancy (winter sitreps) to its four-hour performance in
    the same weeks or months; show performance by occupancy with 95% intervals, the
    within-trust relationship, and the extra share over four hours at 88-98% occupancy
    against 85% or less, beside the capacity model's curve."""
    from rich.table import Table

    from fourhour.capacity.chart import check_chart_path, save_chart
    from fourhour.capacity.evidence import REFERENCE_PCT, analyse, model_curve, occupancy_panel
    from fourhour.capacity.evidence_chart import evidence_chart
    from fourhour.capacity.scenario import load_scenario
    from fourhour.warehouse import open_warehouse

    check_chart_path(out)
    if model_replications < 0:
        raise InvalidInputError("--model-replications should be 0 or more")
    base = load_scenario(scenario) if model_replications else None
    with open_warehouse(warehouse, read_only=True) as wh:
        panel = occupancy_panel(wh.con, provider)
    with console.status("bootstrapping intervals (trusts resampled)"):
        evidence = analyse(panel)
    if base is not None:
        from fourhour.capacity.simulate import warm_up_engine

        with console.status("simulating the capacity model's curve (SYNTHETIC)"):
            warm_up_engine()
            evidence.model = model_curve(base, model_replications)

    cover = Table(title="matched trust-periods by winter")
    for h in ("winter", "returns", "trusts", "periods", "G&A occupancy %", "type 1 %"):
        cover.add_column(h, justify="left" if h in ("winter", "returns") else "right")
    for w in evidence.summary["winters"]:
        cover.add_row(
            w["winter"],
            f"{w['granularity']}ly",
            str(w["trusts"]),
            str(w["periods"]),
            f"{w['occupancy_pct']:.1f}",
            f"{w['type1_pct']:.1f}",
        )
    console.print(cover)
    binned = Table(title="four-hour performance by occupancy (pooled counts, 95% intervals)")
    for h in ("occupancy %", "trust-periods", "trusts", "type 1 %", "interval", "all types %"):
        binned.add_column(h, justify="right")
    for r in evidence.binned.to_dict("records"):
        binned.add_row(
            r["occupancy_bin"],
            str(r["trust_periods"]),
            str(r["trusts"]),
            f"{r['type1_pct']:.1f}",
            f"{r['type1_low']:.1f} - {r['type1_high']:.1f}",
            "-" if r["all_types_pct"] != r["all_types_pct"] else f"{r['all_types_pct']:.1f}",
        )
    console.print(binned)
    extra = Table(
        title=f"extra type 1 patients over four hours (points) against {REFERENCE_PCT:g}% or less"
    )
    for h in ("occupancy", "trust-periods", "all trusts", "interval", "within trusts", "interval"):
        extra.add_column(h, justify="right")
    for r in evidence.extra.to_dict("records"):
        within = r["within_extra_points"]
        extra.add_row(
            f"{r['occupancy_pct']:g}%",
            str(r["trust_periods"]),
            f"{r['pooled_extra_points']:+.1f}",
            f"{r['pooled_low']:+.1f} to {r['pooled_high']:+.1f}",
            "-" if within is None else f"{within:+.1f}",
            "" if within is None else f"{r['within_low']:+.1f} to {r['within_high']:+.1f}",
        )
    console.print(extra)
    curve = Table(
        title=f"within the same trust, by occupancy: extra type 1 patients over four hours "
        f"(points) against {REFERENCE_PCT:g}% or less"
    )
    for h in ("occupancy %", "trust-periods", "extra points", "interval"):
        curve.add_column(h, justify="right")
    for r in evidence.within_curve.to_dict("records"):
        curve.add_row(
            r["occupancy_bin"],
            str(r["trust_periods"]),
            f"{r['within_extra_points']:+.1f}",
            f"{r['within_low']:+.1f} to {r['within_high']:+.1f}",
        )
    console.print(curve)
    if evidence.model is not None:
        model = Table(
            title=f"the capacity model beside the data ({evidence.model['scenario'].iloc[0]}, "
            f"{model_replications} replications a point)"
        )
        for h in ("model beds", "midnight occupancy %", "model type 1 %", "real type 1 % there"):
            model.add_column(h, justify="right")
        real = evidence.binned.dropna(subset=["occupancy_from"])
        for r in evidence.model.to_dict("records"):
            near = real[(real["occupancy_from"] < r["occupancy_pct"])]
            near = near[near["occupancy_to"] >= r["occupancy_pct"]]
            model.add_row(
                f"{r['beds']:,.0f}",
                f"{r['occupancy_pct']:.1f}",
                f"{r['type1_pct']:.1f}",
                "-" if near.empty else f"{near['type1_pct'].iloc[0]:.1f}",
            )
        console.print(model)
    for line in evidence.text():
        console.print(line, highlight=False, soft_wrap=True)
    dropped = ", ".join(f"{n} ({why})" for why, n in panel.dropped.items() if n)
    if dropped:
        console.print(f"[dim]left out: {dropped}[/]", highlight=False, soft_wrap=True)
    with atomic_path(out) as tmp:
        save_chart(evidence_chart(evidence), tmp)
    wrote = [str(out)]
    if json_out:
        write_text_atomic(json_out, json.dumps(evidence.to_json(), indent=2))
        wrote.append(str(json_out))
    if csv:
        with atomic_path(csv) as tmp:
            panel.frame.to_csv(tmp, index=False)
        wrote.append(str(csv))
    console.print(f"wrote {', '.join(wrote)}", highlight=False)


@evidence_app.command("validation")
def validation_command(
    warehouse: WarehouseOption = None,
    provider: Annotated[
        list[str] | None,
        typer.Option(help="Only these providers (repeat the option).", show_default=False),
    ] = None,
    winter: Annotated[
        list[str] | None,
        typer.Option(help="Only these winters, e.g. 2017-18 (repeat).", show_default=False),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            help="At most this many trust-winters, evenly spread (default: all).",
            show_default=False,
        ),
    ] = None,
    replications: Annotated[
        int, typer.Option("--replications", "-r", help="Replications a trust-winter.")
    ] = 4,
    csv: Annotated[
        Path | None, output_option(help="Also write the table to this CSV.", show_default=False)
    ] = None,
    json_out: Annotated[
        Path | None,
        output_option("--json", help="Also write the summary as JSON.", show_default=False),
    ] = None,
) -> None:
    """Calibrate and simulate every trust-winter with both bed figures and returns of the same
    days; count how many the capacity model reproduces within 3 points of observed type 1
    performance and 2 points of observed occupancy, and where it misses."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from fourhour.capacity.simulate import warm_up_engine
    from fourhour.capacity.validation import summarise, validate, validation_pairs
    from fourhour.errors import FourhourError
    from fourhour.warehouse import open_warehouse

    if replications < 2:
        raise FourhourError("--replications should be at least 2 (for intervals)")
    if limit is not None and limit < 1:
        raise FourhourError("--limit should be at least 1")
    # The warehouse and the trust-winters are checked before the engine is compiled: a wrong
    # path or provider is refused at once, not after the compile.
    with open_warehouse(warehouse, read_only=True) as wh:
        pairs = validation_pairs(wh.con, provider, winter, limit)
        with console.status("preparing the simulation engine"):
            warm_up_engine()
        with Progress(
            TextColumn("trust-winters"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=None)
            table = validate(
                wh,
                pairs=pairs,
                replications=replications,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    summary = summarise(table)
    shown = Table(
        title=f"the capacity model against real trust-winters ({replications} "
        "replications each; SYNTHETIC simulations of real returns)"
    )
    for h in (
        "provider",
        "winter",
        "beds",
        "stay d",
        "occ. obs",
        "occ. sim",
        "type 1 obs",
        "type 1 sim",
        "fit",
    ):
        shown.add_column(
            h, justify="left" if h in ("provider", "winter", "fit") else "right", no_wrap=True
        )
    for r in table.to_dict("records"):
        if r.get("error"):
            shown.add_row(r["provider"], r["winter"], "", "", "", "", "", "", r["error"][:60])
            continue
        shown.add_row(
            r["provider"],
            r["winter"],
            f"{r['beds']:,}",
            f"{r['stay_days']:.1f}",
            f"{r['occupancy_observed']:.1f}",
            f"{r['occupancy_simulated']:.1f}",
            f"{r['type1_observed']:.1f}",
            f"{r['type1_simulated']:.1f}",
            "yes" if r["validated"] else "no",
        )
    console.print(shown)
    bands = Table(title="type 1 error (simulated - observed) by observed occupancy")
    for h in ("occupancy", "trust-winters", "within", "mean error", "mean |error|"):
        bands.add_column(h, justify="right")
    for b in summary["by_occupancy"]:
        bands.add_row(
            b["occupancy"],
            str(b["trust_winters"]),
            str(b["type1_within"]),
            f"{b['mean_type1_error']:+.1f}",
            f"{b['mean_abs_type1_error']:.1f}",
        )
    console.print(bands)
    s = summary
    console.print(
        f"{s['fitted']} of {s['trust_winters']} trust-winters fitted; type 1 within "
        f"{s['type1_points']:g} points: {s['type1_within']}; occupancy within "
        f"{s['occupancy_points']:g} points: {s['occupancy_within']}; both: {s['both_within']}.",
        highlight=False,
        soft_wrap=True,
    )
    if csv:
        with atomic_path(csv) as tmp:
            table.to_csv(tmp, index=False)
    if json_out:
        write_text_atomic(json_out, json.dumps(summary, indent=2))
