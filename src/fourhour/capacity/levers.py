"""What it takes: for one (calibrated) scenario, how far each lever must move for the model's
type 1 performance to reach a target, e.g. "to reach 78% type 1: about N more beds, or stays
X% shorter (about M fewer occupied beds), or discharges H hours earlier, or K fewer minor cases
a day in type 1". Each lever is stepped from today's value outwards (sweep.sweep) and the value
where type 1 performance first reaches the target is interpolated between the steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fourhour.capacity.defaults import TARGET_TYPE1_PCT
from fourhour.capacity.scenario import Scenario
from fourhour.capacity.sweep import LEVERS, current_value, sweep

BED_STEPS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.15, 0.20)  # more beds, share of today's
LOS_STEPS = (1.0, 0.97, 0.94, 0.91, 0.88, 0.85, 0.80)
DEMAND_STEPS = (1.0, 0.97, 0.94, 0.91, 0.88, 0.85)
DISCHARGE_STEPS_HOURS = (0.0, 1.0, 2.0, 3.0, 4.0)
SHARE_STEPS = 5  # weekend discharge and streaming shares: today to 1 in this many steps


def lever_values(s: Scenario, lever: str) -> list[float]:
    """The values tried for a lever, today's first, each step a bigger move."""
    now = current_value(s, lever)
    if lever == "beds":
        return sorted({float(round(now * (1 + x))) for x in BED_STEPS})
    if lever == "los":
        return list(LOS_STEPS)
    if lever == "demand":
        return list(DEMAND_STEPS)
    if lever == "discharge":
        return [h for h in DISCHARGE_STEPS_HOURS if h <= s.discharge.window[0]]
    return sorted({round(float(v), 4) for v in np.linspace(now, 1.0, SHARE_STEPS)})


@dataclass
class WhatItTakes:
    target: float
    today: dict[str, float]  # the model's type 1, occupancy and occupied beds today
    table: pd.DataFrame  # one row per lever: needed value, change, words
    curves: pd.DataFrame  # every lever's sweep rows, with `today` marking the current value


def _occupied(s: Scenario, lever: str, value: float, occupancy_pct: float) -> float:
    return occupancy_pct * LEVERS[lever].apply(s, value).beds / 100


def _crossing(values: list[float], perf: list[float], target: float) -> float | None:
    """The lever value where performance first reaches the target (linear between steps)."""
    for i, p in enumerate(perf):
        if p >= target:
            if i == 0:
                return values[0]
            v0, v1, p0 = values[i - 1], values[i], perf[i - 1]
            return v0 + (v1 - v0) * (target - p0) / (p - p0)
    return None


def _words(s: Scenario, lever: str, now: float, need: float, occ_now: float, occ_need: float):
    a = s.arrivals
    if lever == "beds":
        return f"about {need - now:,.0f} more beds", need - now, "beds"
    if lever == "los":
        return (
            f"stays {100 * (1 - need):.0f}% shorter: about {occ_now - occ_need:,.0f} fewer "
            "occupied beds",
            occ_now - occ_need,
            "occupied beds",
        )
    if lever == "demand":
        fewer = a.per_day * (1 - need)
        return f"about {fewer:,.0f} fewer A&E arrivals a day ({1 - need:.0%})", fewer, "a day"
    if lever == "discharge":
        return f"discharges {need:.1f} hours earlier in the day", need, "hours"
    if lever == "weekend":
        return (
            f"{need:.0%} of weekend discharges made on the day (today {now:.0%})",
            need - now,
            "share",
        )
    minors = a.per_day * a.minor_share * (need - now)
    return f"about {minors:,.0f} fewer minor cases a day in type 1 (streamed)", minors, "a day"


def what_it_takes(
    s: Scenario,
    replications: int,
    target: float = TARGET_TYPE1_PCT,
    levers: tuple[str, ...] = ("beds", "los", "discharge", "weekend", "streaming", "demand"),
    progress: Callable[[int, int], None] | None = None,
) -> WhatItTakes:
    """Step each lever from today outwards and find where type 1 performance reaches
    `target` (the same seeds at every step, so the steps are paired)."""
    plans = {lv: lever_values(s, lv) for lv in levers}
    total, done = sum(len(v) for v in plans.values()), 0
    curves, rows = [], []
    for lever, values in plans.items():

        def step(d: int, _t: int, base: int = done) -> None:
            if progress:
                progress(base + d, total)

        table = sweep([s], lever, values, replications, progress=step)
        done += len(values)
        now = current_value(s, lever)
        table["today"] = np.isclose(table["value"], now)
        table["step"] = range(len(table))
        table["label"] = LEVERS[lever].label
        table["occupied_beds"] = [
            _occupied(s, lever, v, o)
            for v, o in zip(table["value"], table["mean_occupancy_pct"], strict=True)
        ]
        curves.append(table)
        perf = list(table["type1_pct"])
        need = _crossing(values, perf, target)
        occ_now = float(table["occupied_beds"].iloc[0])
        row: dict[str, object] = {
            "lever": lever,
            "label": LEVERS[lever].label,
            "today": now,
            "type1_at_furthest": perf[-1],
            "furthest": values[-1],
        }
        if need is None:
            row.update(needed=None, change=None, unit=None, words=_not_reached(lever, values))
        else:
            occ_need = float(np.interp(need, *_ascending(values, table["occupied_beds"])))
            words, change, unit = _words(s, lever, now, need, occ_now, occ_need)
            if need == values[0]:
                words = "already there today (in the model)"
            row.update(needed=need, change=change, unit=unit, words=words)
        rows.append(row)
    first = curves[0].iloc[0]
    today = {
        "type1_pct": float(first["type1_pct"]),
        "type1_low": float(first["type1_pct_low"]),
        "type1_high": float(first["type1_pct_high"]),
        "occupancy_pct": float(first["mean_occupancy_pct"]),
        "midnight_occupancy_pct": float(first["midnight_occupancy_pct"]),
        "occupied_beds": float(first["occupied_beds"]),
    }
    return WhatItTakes(target, today, pd.DataFrame(rows), pd.concat(curves, ignore_index=True))


def _ascending(values: list[float], ys: pd.Series) -> tuple[list[float], list[float]]:
    pairs = sorted(zip(values, list(ys), strict=True))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _not_reached(lever: str, values: list[float]) -> str:
    far = values[-1]
    text = {
        "beds": f"not reached with {far:,.0f} beds",
        "los": f"not reached with stays {100 * (1 - far):.0f}% shorter",
        "demand": f"not reached with {1 - far:.0%} fewer arrivals",
        "discharge": f"not reached with discharges {far:g} hours earlier",
        "weekend": "not reached even with every weekend discharge on the day",
        "streaming": "not reached even streaming every minor case",
    }
    return text[lever]
