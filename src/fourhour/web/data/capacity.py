"""The capacity page: a scenario (beds, length of stay, discharge window, demand, streaming to
the urgent treatment centre) run on the capacity model and set against the shipped baseline
trust, with the time in the department charted for both."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

from fourhour.capacity.results import CapacityResult
from fourhour.capacity.scenario import (
    Scenario,
    default_scenario,
    with_demand,
    with_length_of_stay,
    with_streaming,
    with_total_beds,
)
from fourhour.capacity.simulate import simulate
from fourhour.report import charts
from fourhour.web.data.tables import Column, Table
from fourhour.web.figures import Figure, render

# The engine runs its replications in parallel threads; one scenario at a time.
_ENGINE = threading.Lock()

SHOWN = (
    "type1_pct",
    "all_types_pct",
    "mean_occupancy_pct",
    "waited_for_bed_pct",
    "mean_bed_wait_hours",
    "dta_over_12h",
    "over_12h_from_arrival",
    "type1_median_minutes",
    "type1_p95_minutes",
    "attendances",
)


@dataclass(frozen=True)
class Levers:
    """What the form sets; each validated by the route (fourhour.web.params)."""

    beds: int
    los_days: float
    discharge_from: float
    discharge_to: float
    arrivals_per_day: float
    streaming_pct: float

    @classmethod
    def of(cls, s: Scenario) -> Levers:
        mean_los = sum(p.los_days.mean * p.beds for p in s.pools) / s.beds
        return cls(
            beds=s.beds,
            los_days=round(mean_los, 2),
            discharge_from=s.discharge.window[0],
            discharge_to=s.discharge.window[1],
            arrivals_per_day=s.arrivals.per_day,
            streaming_pct=round(s.utc.streaming_share * 100, 1),
        )

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def baseline() -> tuple[Scenario, Levers]:
    s = default_scenario()
    return s, Levers.of(s)


def apply(base: Scenario, levers: Levers) -> Scenario:
    now = Levers.of(base)
    s = base
    if levers.beds != now.beds:
        s = with_total_beds(s, levers.beds)
    if abs(levers.los_days - now.los_days) > 1e-9:
        s = with_length_of_stay(s, levers.los_days / now.los_days)
    if abs(levers.arrivals_per_day - now.arrivals_per_day) > 1e-9:
        s = with_demand(s, levers.arrivals_per_day / now.arrivals_per_day)
    if abs(levers.streaming_pct - now.streaming_pct) > 1e-9:
        s = with_streaming(s, levers.streaming_pct / 100)
    window = (levers.discharge_from, levers.discharge_to)
    if window != s.discharge.window:
        s = s.replace(discharge=dataclasses.replace(s.discharge, window=window))
    return s


def run(s: Scenario, replications: int) -> CapacityResult:
    with _ENGINE:
        return simulate(s, replications)


def _bands(result: CapacityResult, name: str) -> pd.DataFrame:
    t = result.time_in_department()
    t = t[t["types"] == "type 1"].copy()
    t["scenario"] = name
    return t


def comparison_chart(base: CapacityResult, scen: CapacityResult) -> alt.TopLevelMixin:
    frame = pd.concat([_bands(base, "Baseline"), _bands(scen, "Scenario")], ignore_index=True)
    order = list(dict.fromkeys(frame["band"]))
    b = base.summary().set_index("measure")["mean"]
    s = scen.summary().set_index("measure")["mean"]
    description = (
        "Bar chart of the share of type 1 attendances by hours in the department, baseline "
        f"against scenario ({base.replications} replications each). Type 1 within four hours: "
        f"baseline {charts.pct(b['type1_pct'])}, scenario {charts.pct(s['type1_pct'])}; mean "
        f"bed occupancy {charts.pct(b['mean_occupancy_pct'])} against "
        f"{charts.pct(s['mean_occupancy_pct'])}; over 12 hours from decision to admit "
        f"{b['dta_over_12h']:,.0f} against {s['dta_over_12h']:,.0f} a year."
    )
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("band:N", sort=order, title="Hours in the department (type 1)",
                    axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("scenario:N", sort=["Baseline", "Scenario"]),
            y=alt.Y("pct:Q", title="Share of attendances (%)"),
            color=alt.Color(
                "scenario:N",
                sort=["Baseline", "Scenario"],
                scale=alt.Scale(range=[charts.MID_GREY, charts.NHS_BLUE]),
                title=None,
            ),
        )
        .properties(
            width=charts.WIDTH,
            height=charts.HEIGHT,
            title=alt.TitleParams(
                "Time in the department: scenario against baseline",
                subtitle=f"Type 1, mean of {scen.replications} replications of a year",
            ),
            description=description,
        )
    )  # fmt: skip
    return charts._configure(chart)


def compare(levers: Levers, replications: int) -> dict[str, Any]:
    base_s, base_levers = baseline()
    base = run(base_s, replications)
    scen = run(apply(base_s, levers), replications) if levers != base_levers else base
    bs = base.summary().set_index("measure")
    ss = scen.summary().set_index("measure")
    rows = []
    for m in SHOWN:
        b, sc = bs.loc[m], ss.loc[m]
        rows.append(
            {
                "measure": b["label"],
                "unit": b["unit"],
                "baseline": float(b["mean"]),
                "scenario": float(sc["mean"]),
                "scenario_low": float(sc["low"]),
                "scenario_high": float(sc["high"]),
                "difference": float(sc["mean"] - b["mean"]),
            }
        )
    table = Table(
        "results",
        f"Scenario against baseline: means of {replications} replications of a year, with the "
        "scenario's 95% confidence interval",
        [
            Column("measure", "Measure"),
            Column("unit", "Unit"),
            Column("baseline", "Baseline", "number"),
            Column("scenario", "Scenario", "number"),
            Column("scenario_low", "Scenario, 95% CI low", "number"),
            Column("scenario_high", "Scenario, 95% CI high", "number"),
            Column("difference", "Difference", "number"),
        ],
        rows,
        sortable=False,
    )
    bands = pd.concat([_bands(base, "baseline"), _bands(scen, "scenario")])
    band_table = Table(
        "time-in-department",
        "Share of type 1 attendances by hours in the department (%)",
        [
            Column("scenario", "Run"),
            Column("band", "Hours"),
            Column("pct", "Share (%)", "pct"),
            Column("low", "95% CI low (%)", "pct"),
            Column("high", "95% CI high (%)", "pct"),
        ],
        bands.to_dict("records"),
        sortable=False,
    )
    figure: Figure = render(
        comparison_chart(base, scen),
        "fig-capacity",
        title="Time in the department: scenario against baseline",
    )
    return {
        "levers": levers.as_dict(),
        "baseline_levers": base_levers.as_dict(),
        "scenario_name": base_s.name,
        "replications": replications,
        "days": base_s.period.days,
        "seconds": round(base.seconds + (scen.seconds if scen is not base else 0), 2),
        "figure": figure,
        "tables": {"results": table, "bands": band_table},
    }
