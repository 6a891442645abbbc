"""`fourhour demo`: generate a synthetic data set, ingest it, print the latest bulletin."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from fourhour.cli import app, console
from fourhour.cli.ingest_cmd import ingest
from fourhour.cli.options import output_option
from fourhour.outputs import atomic_path, write_text_atomic
from fourhour.periods import parse_quarter, week_ending


@app.command()
def demo(
    directory: Annotated[
        Path,
        output_option(
            "--dir",
            metavar="DIR",
            folder=True,
            help="Where to write the synthetic files and the warehouse (DIR/fourhour.duckdb).",
        ),
    ] = Path("demo"),
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic data set.")] = 2014,
) -> None:
    """Run fourhour end to end, offline, on a SYNTHETIC data set it makes itself: about 140
    providers over two years of weekly returns, ingested into DIR/fourhour.duckdb, then the
    latest week's bulletin printed and written to DIR/bulletin.html (DIR is --dir)."""
    from fourhour.ingest.synthetic import generate_weekly_returns
    from fourhour.report.bulletin import build_bulletin, render
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.connection import one_row

    data_dir = directory / "data"
    console.rule("[bold]fourhour demo[/] (synthetic data, not real NHS figures)")
    console.print(f"Generating synthetic weekly returns in {data_dir} ...")
    files = generate_weekly_returns(data_dir, seed=seed)
    warehouse = directory / "fourhour.duckdb"
    # Without the web pages' precompute (seconds a period): the demo stays quick, and
    # `fourhour serve` computes its pages live (`fourhour precompute` stores them).
    ingest(
        sorted(files, key=lambda p: ("Mapping" not in p.name, p.name)), warehouse, precompute=False
    )
    with open_warehouse(warehouse, read_only=True) as wh:
        latest = one_row(
            wh.con.execute(
                "SELECT max(period_end) FROM provider_returns WHERE granularity = 'week'"
            )
        )[0]
        b = build_bulletin(wh, week_ending(latest))
    console.rule(f"Bulletin, week ending {latest}")
    typer.echo(render(b, "text"))
    html = directory / "bulletin.html"
    write_text_atomic(html, render(b, "html"))
    _oversight(directory, data_dir, warehouse, latest, seed)
    _patients(data_dir, warehouse, latest, seed)
    _capacity(data_dir, warehouse)
    console.print(f"Wrote {html}. Try next:")
    console.print(f"  fourhour bulletin --week-ending {latest} --format markdown -w {warehouse}")
    console.print(f"  fourhour measures --level region --week-ending {latest} -w {warehouse}")
    console.print(f"  fourhour escalations list -w {warehouse}")
    console.print(f"  fourhour patients measures --level provider --period week -w {warehouse}")


def _oversight(directory: Path, data_dir: Path, warehouse: Path, latest, seed: int) -> None:
    """Import the synthetic mapping, leaders, trajectories and allocations; print the top of
    the summons list and the funding summary."""
    from fourhour.oversight.config import load_escalation_rules, load_funding_rules
    from fourhour.oversight.escalation import evaluate
    from fourhour.oversight.escalation_store import attach_status, record_run
    from fourhour.oversight.funding import assess_quarter
    from fourhour.oversight.leaders import import_leaders
    from fourhour.oversight.synthetic import generate_oversight_inputs, last_complete_quarter
    from fourhour.oversight.trajectories import import_allocations, import_trajectories
    from fourhour.report.oversight import render_escalation, render_funding
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.hierarchy import import_mapping

    with open_warehouse(warehouse) as wh:
        files = generate_oversight_inputs(wh, data_dir, seed=seed)
        import_mapping(wh, files["hierarchy"])
        import_leaders(wh, files["leaders"])
        import_trajectories(wh, files["trajectories"])
        import_allocations(wh, files["allocations"])
        result = evaluate(wh, latest, load_escalation_rules())
        outcome = record_run(wh, result)
        quarter = last_complete_quarter(latest)
        years, _ = load_funding_rules(files["funding_rules"])
        ledger = assess_quarter(wh, parse_quarter(quarter), years)
        payload = attach_status(wh, result.as_dict())
    console.rule(f"Summons list, {payload['window']['label']} (top 5)")
    for s in payload["summons"][:5]:
        console.print(
            f"{s['rank']:>2}. [bold]{s['name']}[/] ({s['code']}): score {s['score']:.1f}, "
            f"{s['performance_pct']:.1f}% within 4h; rules: "
            + ", ".join(r["rule"] for r in s["rules_fired"]),
            highlight=False,
        )
    console.print(
        f"{len(payload['summons'])} of {payload['systems_scored']} systems summoned; "
        f"{len([e for e in outcome.events if e['event'] == 'opened'])} escalations opened.",
        highlight=False,
    )
    if payload["summons"]:
        console.print(payload["summons"][0]["explanation"], highlight=False)
    e = ledger.totals(None)[0]
    console.rule(f"Funding: {ledger.year.fund}, {quarter}")
    console.print(
        f"{e['earned']} trusts earned and {e['withheld']} lost their A&E element "
        f"({e['not_assessable']} not assessable): £{e['earned_gbp']:,.0f} earned, "
        f"£{e['withheld_gbp']:,.0f} withheld.",
        highlight=False,
    )
    write_text_atomic(
        directory / "summons.html",
        render_escalation(payload, "html", events=outcome.events, synthetic=True),
    )
    write_text_atomic(
        directory / "funding.html", render_funding(ledger.as_dict(), "html", synthetic=True)
    )
    console.print(f"Wrote {directory / 'summons.html'} and {directory / 'funding.html'}.")
    console.print(
        f"  fourhour funding --quarter {quarter} --rules {files['funding_rules']} "
        f"--what-if-standard 90 -w {warehouse}",
        highlight=False,
    )


def _patients(data_dir: Path, warehouse: Path, latest, seed: int) -> dict:
    """The latest week's returns as SYNTHETIC patient-level records (every provider's
    attendances, breaches, admissions and long decision-to-admit waits as returned): ingest,
    measure, and print England's week, which agrees with the bulletin's."""
    import pyarrow.parquet as pq

    from fourhour.ingest.model import COUNT_COLUMNS
    from fourhour.ingest.patients.synthetic import records_matching_returns
    from fourhour.measures.patient import duckdb_engine, measure_patients
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.patients import ingest_patients

    start = latest - dt.timedelta(days=6)
    with open_warehouse(warehouse) as wh:
        cursor = wh.con.execute(
            f"SELECT org_code, {', '.join(COUNT_COLUMNS)} FROM provider_returns "
            "WHERE granularity = 'week' AND period_end = ? ORDER BY org_code",
            [latest],
        )
        names = [d[0] for d in cursor.description]
        returns = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        records = data_dir / "patients" / f"SYNTHETIC-attendances-week-ending-{latest}.parquet"
        records.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(records) as tmp:
            pq.write_table(records_matching_returns(returns, start, seed=seed), tmp)
        ingest_patients(wh, records)
        result = measure_patients(wh, duckdb_engine(), levels=("national",), periods=("week",))
    week = result.table[result.table["period_start"] == start].iloc[0]
    near = result.near_four_hours
    near = near[near["period_start"] == start].set_index("minutes")["departures"]
    before = int(near.loc[235:239].sum())
    after = int(near.loc[241:245].sum())
    console.rule(f"From patient-level records (synthetic), week ending {latest}")
    console.print(
        f"The week's returns, made from {int(week['attendances']):,} attendance records: "
        f"{week['performance_pct']:.1f}% within four hours (type 1 "
        f"{week['type1_performance_pct']:.1f}%), as in the bulletin; "
        f"{int(week['over_12h_from_arrival']):,} spent over 12 hours from arrival; median time "
        f"in the department {week['median_minutes']:.0f} minutes, 95th percentile "
        f"{week['p95_minutes']:.0f}. {before:,} patients left in the 5 minutes before four "
        f"hours, {after:,} in the 5 minutes after.",
        highlight=False,
    )
    return week.to_dict()


def _capacity(data_dir: Path, warehouse: Path) -> None:
    """Simulate the default (synthetic) trust, store its patients as patient-level records and
    measure them like any other: the capacity model feeding the rest of the pipeline."""
    from fourhour.cli.capacity_cmd import simulate_command
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.patients import ingest_patients

    console.rule("Capacity model: the default trust, simulated (synthetic)")
    records = data_dir / "SYNTHETIC-simulated-trust.parquet"
    simulate_command(scenario=None, replications=20, seed=None, records=records, csv=None)
    with open_warehouse(warehouse) as wh:
        ingest_patients(wh, records)
    console.print(
        f"Stored the first replication's patients ({records.name}) as patient-level records; "
        f"try: fourhour sweep --out sweep.png, or fourhour patients measures -w {warehouse}",
        highlight=False,
    )
