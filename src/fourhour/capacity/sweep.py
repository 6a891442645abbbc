"""Sweeps: one scenario setting stepped over a range, each step simulated with replications;
the table of four-hour performance against mean occupancy that shows the knee."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fourhour.capacity.confidence import CONFIDENCE
from fourhour.capacity.scenario import (
    Scenario,
    with_demand,
    with_discharge_earlier,
    with_length_of_stay,
    with_streaming,
    with_total_beds,
    with_weekend_discharge,
)
from fourhour.capacity.simulate import simulate
from fourhour.errors import InvalidInputError


@dataclass(frozen=True)
class Lever:
    name: str
    label: str
    apply: Callable[[Scenario, float], Scenario]
    whole: bool  # values are whole numbers


LEVERS: dict[str, Lever] = {
    "beds": Lever("beds", "core beds", lambda s, v: with_total_beds(s, int(v)), True),
    "demand": Lever("demand", "A&E arrivals (x scenario)", with_demand, False),
    "los": Lever("los", "length of stay (x scenario)", with_length_of_stay, False),
    "streaming": Lever("streaming", "share of minors streamed to the UTC", with_streaming, False),
    "discharge": Lever(
        "discharge", "hours earlier the discharge window opens", with_discharge_earlier, False
    ),
    "weekend": Lever(
        "weekend", "share of weekend discharges made that day", with_weekend_discharge, False
    ),
}


def current_value(s: Scenario, lever: str) -> float:
    """Where the scenario stands today on a lever: the value that leaves it unchanged."""
    return {
        "beds": float(s.beds),
        "demand": 1.0,
        "los": 1.0,
        "streaming": s.utc.streaming_share,
        "discharge": 0.0,
        "weekend": s.discharge.weekend_factor,
    }[lever]


# The measures a sweep tabulates: mean with its interval for each.
SWEEP_MEASURES = (
    "mean_occupancy_pct",
    "midnight_occupancy_pct",
    "type1_pct",
    "all_types_pct",
    "dta_over_12h",
    "over_12h_from_arrival",
    "mean_bed_wait_hours",
)
MAX_STEPS = 200


def parse_range(text: str, lever: str) -> list[float]:
    """START:STOP:STEP (STOP included when the steps reach it) or a comma-separated list."""
    spec = LEVERS[lever]
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if step <= 0 or stop < start:
                raise InvalidInputError(
                    f"--{lever} {text}: the step should be positive and STOP at least START"
                )
            count = math.floor((stop - start) / step + 1e-9) + 1
            values = [start + i * step for i in range(count)]
        else:
            values = [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise InvalidInputError(
            f"--{lever} {text!r} is not a range",
            hint=f"give START:STOP:STEP (e.g. {'500:700:20' if spec.whole else '0.8:1.2:0.05'}) "
            "or a comma-separated list",
        ) from None
    if not values or len(values) > MAX_STEPS:
        raise InvalidInputError(f"--{lever} {text}: between 1 and {MAX_STEPS} values, please")
    if spec.whole:
        if any(v != int(v) or v < 1 for v in values):
            raise InvalidInputError(f"--{lever} {text}: whole numbers of at least 1, please")
    elif lever != "discharge" and any(v < 0 for v in values):
        raise InvalidInputError(f"--{lever} {text}: values should not be negative")
    return [round(v, 10) for v in values]


def sweep(
    scenarios: Sequence[Scenario],
    lever: str,
    values: Sequence[float],
    replications: int,
    *,
    progress: Callable[[int, int], None] | None = None,
    level: float = CONFIDENCE,
) -> pd.DataFrame:
    """One row per scenario and value: the measures' means and interval ends (`_low`,
    `_high`)."""
    spec = LEVERS[lever]
    rows = []
    total, done = len(scenarios) * len(values), 0
    for base in scenarios:
        for v in values:
            result = simulate(spec.apply(base, v), replications)
            per = result.per_replication()
            row: dict[str, object] = {"scenario": base.name, "lever": lever, "value": v}
            for m in SWEEP_MEASURES:
                ci = result.interval(m, level) if m in per else None
                row[m], row[f"{m}_low"], row[f"{m}_high"] = (
                    (ci.mean, ci.low, ci.high) if ci else (np.nan,) * 3
                )
            rows.append(row)
            done += 1
            if progress:
                progress(done, total)
    return pd.DataFrame(rows)


def knee(table: pd.DataFrame, drop_points: float = 1.0) -> float | None:
    """The lowest mean occupancy at which type 1 performance is `drop_points` below its
    value at the lowest occupancy swept (one scenario's rows), or None if it never is."""
    t = table.sort_values("mean_occupancy_pct")
    if t.empty:
        return None
    top = float(t["type1_pct"].iloc[0])
    below = t[t["type1_pct"] < top - drop_points]
    return None if below.empty else float(below["mean_occupancy_pct"].iloc[0])


def default_bed_range(s: Scenario, points: int = 12, pilot_replications: int = 4) -> list[float]:
    """Total beds for mean occupancy from about 97.5% down to 70%: the load (mean occupied
    beds with beds to spare, from a short pilot run) over each occupancy."""
    ample = with_total_beds(s, max(len(s.pools), 3 * s.beds))
    load = simulate(ample, pilot_replications).interval("beds_l").mean
    beds = sorted({max(len(s.pools), round(load / o)) for o in np.linspace(0.975, 0.70, points)})
    return [float(b) for b in beds]
