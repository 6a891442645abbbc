"""The winter outlook: each trust's December-March forecast against its trajectory and the
standard, and the trusts (or systems) most likely to miss.

A trust's winter performance is its forecast winter breaches over its forecast winter
attendances (counts summed over the months, never percentages averaged). Its target is the
mean of its agreed monthly trajectories for those months (`fourhour trajectories import`),
else the interim target (INTERIM_TARGET_PCT, 78%: no more than 22% of patients over four hours
in 2025/26). The probability of missing is the share of the forecast's draws below the target.

`forecast_miss_systems` is the forward-looking escalation rule `forecast_miss`: systems whose
probability of missing their winter target is at least `min_probability`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fourhour.forecast.engine import ForecastResult, run_forecast
from fourhour.forecast.history import ForecastError
from fourhour.measures.performance import STANDARD_PCT

INTERIM_TARGET_PCT = 78.0  # 2025/26: no more than 22% of attendances over four hours
WINTER_MONTHS = (12, 1, 2, 3)
MIN_PROBABILITY = 0.5  # forecast_miss fires at this probability of missing, or more


@dataclass
class WinterOutlook:
    result: ForecastResult
    winter: list[dt.date]  # the forecast periods in the winter
    table: pd.DataFrame  # one row per organisation, ranked (most likely to miss first)
    interim_pct: float

    @property
    def label(self) -> str:
        first, last = self.winter[0], self.winter[-1]
        return f"{first:%B %Y} to {last:%B %Y}"

    def ranked(self, level: str = "provider", n: int | None = None) -> pd.DataFrame:
        t = self.table[self.table["level"] == level]
        return t if n is None else t.head(n)

    def as_dict(self, level: str = "provider", n: int | None = None) -> dict[str, Any]:
        rows = self.ranked(level, n)
        return {
            "kind": "fourhour.winter_outlook",
            "origin": self.result.origin.isoformat(),
            "winter": [d.isoformat() for d in self.winter],
            "basis": self.result.basis,
            "standard_pct": self.result.standard_pct,
            "interim_target_pct": self.interim_pct,
            "level": level,
            "organisations": [
                {
                    k: (None if isinstance(v, float) and np.isnan(v) else v)
                    for k, v in r.items()
                    if k != "level"
                }
                for r in rows.to_dict("records")
            ],
        }


def winter_steps(result: ForecastResult) -> list[int]:
    """Indices of the forecast periods in the first winter (December-March) ahead."""
    periods = sorted(set(result.table["period_end"]))
    winter = [i for i, p in enumerate(periods) if p.month in WINTER_MONTHS]
    if not winter:
        raise ForecastError(
            f"the forecast from {result.origin} does not reach a winter month",
            hint="forecast further ahead (--horizon up to 12 months)",
        )
    # The first run of winter periods only.
    run = [winter[0]]
    for i in winter[1:]:
        if i != run[-1] + 1:
            break
        run.append(i)
    return run


def winter_outlook(
    result: ForecastResult, interim_pct: float = INTERIM_TARGET_PCT
) -> WinterOutlook:
    steps = winter_steps(result)
    periods = sorted(set(result.table["period_end"]))
    winter = [periods[i] for i in steps]
    att = result.draws["att"][:, steps, :].sum(axis=1)
    br = result.draws["br"][:, steps, :].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        perf = np.where(att > 0, (att - br) / att * 100, np.nan)
    means = result.table[result.table["period_end"].isin(winter)]
    basis = result.basis
    att_m = f"att_{'all' if basis == 'all_types' else 'type1'}"
    br_m = f"br_{'all' if basis == 'all_types' else 'type1'}"
    sums = (
        means[means["measure"].isin([att_m, br_m])]
        .groupby(["level", "code", "measure"])["mean"]
        .sum()
        .unstack()
    )
    probs = result.probabilities[result.probabilities["period_end"].isin(winter)]
    traj = probs.groupby(["level", "code"])["target_pct"].mean()
    rows = []
    for i, (level, code) in enumerate(result.nodes):
        a, b = sums[att_m].loc[(level, code)], sums[br_m].loc[(level, code)]
        if a <= 0:
            continue
        point = (a - b) / a * 100
        trajectory = traj.get((level, code), np.nan)
        target = trajectory if not np.isnan(trajectory) else interim_pct
        draws = perf[i]
        rows.append(
            {
                "level": level,
                "code": code,
                "name": result.history.names.get(code, code),
                "forecast_pct": point,
                "lo80": float(np.quantile(draws, 0.10)),
                "hi80": float(np.quantile(draws, 0.90)),
                "attendances": a,
                "trajectory_pct": trajectory,
                "target_pct": target,
                "target_kind": "trajectory" if not np.isnan(trajectory) else "interim",
                "p_meet_standard": float(np.mean(draws >= result.standard_pct)),
                "p_miss_target": float(np.mean(draws < target)),
            }
        )
    table = pd.DataFrame(rows).sort_values(
        ["p_miss_target", "forecast_pct", "code"], ascending=[False, True, True]
    )
    table["rank"] = table.groupby("level").cumcount() + 1
    return WinterOutlook(result, winter, table.reset_index(drop=True), interim_pct)


def forecast_miss_systems(
    wh,
    period_end: dt.date,
    *,
    min_probability: float = MIN_PROBABILITY,
    interim_pct: float = INTERIM_TARGET_PCT,
    **kwargs,
) -> pd.DataFrame:
    """The escalation rule `forecast_miss`: systems likely to miss their winter target.

    The forecast is made from the latest monthly returns at or before `period_end` (weekly
    returns where there are no monthly ones), so the rule never looks past the period it is
    evaluated for. Returns one row per system: system_code, system_name, forecast_pct,
    target_pct, p_miss_target, fired.
    """
    origin, granularity = None, "month"
    for g in ("month", "week"):
        row = wh.con.execute(
            "SELECT max(period_end) FROM provider_returns WHERE granularity = ? "
            "AND period_end <= ?",
            [g, period_end],
        ).fetchone()
        if row[0] is not None:
            origin, granularity = row[0], g
            break
    if origin is None:
        raise ForecastError(f"no provider returns at or before {period_end} to forecast from")
    horizon = 12 if granularity == "month" else 26
    result = run_forecast(wh, granularity=granularity, origin=origin, horizon=horizon, **kwargs)
    outlook = winter_outlook(result, interim_pct)
    systems = outlook.ranked("system")[
        ["code", "name", "forecast_pct", "target_pct", "p_miss_target"]
    ].rename(columns={"code": "system_code", "name": "system_name"})
    systems["fired"] = systems["p_miss_target"] >= min_probability
    return systems.reset_index(drop=True)


__all__ = [
    "INTERIM_TARGET_PCT",
    "MIN_PROBABILITY",
    "STANDARD_PCT",
    "WinterOutlook",
    "forecast_miss_systems",
    "winter_outlook",
]
