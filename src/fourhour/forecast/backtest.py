"""`fourhour forecast backtest`: rolling-origin evaluation on the warehouse's own returns.

At each origin the forecast is made exactly as `fourhour forecast` makes it, from
`load_history(..., origin)`, which reads only rows with `period_end <= origin`; the outcomes
it is scored against are read afterwards, for the trusts and hierarchy of that origin.

Data sets:
- weekly: weekly type 1 returns (2010-2015), each winter forecast from the last Sunday of
  the preceding September, 26 weeks ahead;
- monthly: monthly provider returns, origins every third month with two years of history
  before them and at least one month of outcomes after, 12 months ahead;
- england: NHS England's published national time series, origins every sixth month.

Scores, by data set, level, measure and horizon:
- MASE: absolute error over the in-sample mean absolute error of the seasonal naive
  forecast of the same series (Hyndman & Koehler), for the model and for the seasonal-naive
  baseline itself; and the relative MAE, the model's total absolute error over the seasonal
  naive forecast's on the same outcomes (below 1: better than seasonal naive);
- MAPE of attendances; MAE of performance in percentage points, beside the baselines "same
  period last year" and "mean of the last three periods";
- coverage of the 80% and 95% intervals and the pinball loss averaged over their four ends
  (percent of the outcome for counts, points for performance).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from fourhour.errors import InvalidInputError
from fourhour.forecast.engine import QUANTILES, run_forecast
from fourhour.forecast.history import (
    ENGLAND,
    FREQ,
    MIN_HISTORY,
    SEASON,
    ForecastError,
    History,
    load_history,
    usable_run,
)

DATASETS = ("weekly", "monthly", "england")


class Setup(TypedDict):
    granularity: str
    source: str  # "providers" or "england"
    horizon: int  # periods ahead
    every: int | None  # months between origins (weekly: one origin a year, in late September)


SETUP: dict[str, Setup] = {
    "weekly": {"granularity": "week", "source": "providers", "horizon": 26, "every": None},
    "monthly": {"granularity": "month", "source": "providers", "horizon": 12, "every": 3},
    "england": {"granularity": "month", "source": "england", "horizon": 12, "every": 6},
}
BUCKETS = {
    "month": ((1, 1), (2, 3), (4, 6), (7, 12)),
    "week": ((1, 4), (5, 13), (14, 26)),
}
SCORED = ("att_type1", "att_all", "perf_type1", "perf_all_types")


@dataclass
class BacktestResult:
    scores: pd.DataFrame  # one row per origin, node, measure, step
    summary: pd.DataFrame  # by dataset, level, measure, horizon bucket
    origins: dict[str, list[dt.date]]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "fourhour.forecast.backtest",
            "origins": {k: [d.isoformat() for d in v] for k, v in self.origins.items()},
            "summary": [
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                for r in self.summary.to_dict("records")
            ],
            "notes": self.notes,
        }


def _periods_available(wh, granularity: str, source: str) -> list[pd.Timestamp]:
    if source == "england":
        sql = (
            "SELECT DISTINCT period_end FROM published_totals WHERE area = 'ENGLAND' "
            "AND granularity = ? AND att_type1 IS NOT NULL ORDER BY 1"
        )
    else:
        sql = (
            "SELECT DISTINCT period_end FROM provider_returns WHERE granularity = ? "
            "AND att_type1 IS NOT NULL ORDER BY 1"
        )
    return [pd.Timestamp(r[0]) for r in wh.con.execute(sql, [granularity]).fetchall()]


def origins_for(wh, dataset: str) -> list[dt.date]:
    """The origins of a data set: enough history before each, some outcomes after."""
    setup = SETUP[dataset]
    g = setup["granularity"]
    periods = _periods_available(wh, g, setup["source"])
    if not periods:
        return []
    have = set(periods)
    out = []
    for p in periods[:-1]:
        # The usable history up to p, as load_history will find it (gaps up to MAX_GAP).
        span = pd.date_range(periods[0], p, freq=FREQ[g])
        present = pd.Series([d in have for d in span], index=span)
        if usable_run(present, g).sum() < MIN_HISTORY[g]:
            continue
        if g == "week":
            # The last Sunday of September: forecast the winter ahead.
            if p.month == 9 and (p + pd.Timedelta(days=7)).month == 10:
                out.append(p.date())
        elif setup["every"] and (p.month - 3) % setup["every"] == 0:
            out.append(p.date())
    return out


def _actuals(wh, history: History, steps: pd.DatetimeIndex, nodes) -> dict[str, pd.DataFrame]:
    """Outcomes per node and step, summed over the origin's trusts (NaN if any is missing)."""
    g = history.granularity
    if history.source == "published national totals":
        rows = wh.con.execute(
            "SELECT period_end, att_type1, br_type1, att_type1 + att_type2 + att_type3 AS att_all,"
            " br_type1 + br_type2 + br_type3 AS br_all FROM published_totals "
            "WHERE area = 'ENGLAND' AND granularity = ? AND period_end > ? AND period_end <= ?",
            [g, history.origin, steps[-1].date()],
        ).df()
        rows["org_code"] = ENGLAND
    else:
        rows = wh.con.execute(
            "SELECT period_end, org_code, att_type1, br_type1, "
            "att_type1 + att_type2 + att_type3 AS att_all, "
            "br_type1 + br_type2 + br_type3 AS br_all FROM provider_returns "
            "WHERE granularity = ? AND period_end > ? AND period_end <= ?",
            [g, history.origin, steps[-1].date()],
        ).df()
    rows["period_end"] = pd.to_datetime(rows["period_end"])
    trusts = history.trusts()
    from fourhour.forecast.reconcile import build_hierarchy

    S = build_hierarchy(history.parents).S
    out = {}
    for col in ("att_type1", "br_type1", "att_all", "br_all"):
        wide = rows.pivot(index="period_end", columns="org_code", values=col)
        wide = wide.reindex(index=steps, columns=trusts).astype(float)
        values = wide.to_numpy()
        summed = np.nan_to_num(values) @ S.T
        missing = np.isnan(values).astype(float) @ S.T > 0
        summed[missing] = np.nan
        out[col] = pd.DataFrame(summed.T, index=[f"{lv}:{c}" for lv, c in nodes], columns=steps)
    return out


def _scales(history: History, nodes, S) -> dict[str, np.ndarray]:
    """In-sample seasonal-naive MAE per node, for MASE."""
    s = SEASON[history.granularity]
    out = {}
    for measure in ("att_type1",):
        wide = history.series[measure].to_numpy() @ S.T
        diff = np.abs(wide[s:] - wide[:-s])
        out[measure] = diff.mean(axis=0) if len(diff) else np.full(len(nodes), np.nan)
    if all(f"att_type{t}" in history.series for t in (1, 2, 3)):
        wide = sum(history.series[f"att_type{t}"].to_numpy() for t in (1, 2, 3)) @ S.T
        out["att_all"] = np.abs(wide[s:] - wide[:-s]).mean(axis=0)
    return out


def _recent_perf(history: History, S, basis: str, n: int = 3) -> np.ndarray:
    """Performance over the last n periods of history (counts summed), per node."""
    types = ("type1", "type2", "type3") if basis == "all_types" else ("type1",)
    att = sum(history.series[f"att_{t}"].to_numpy()[-n:] for t in types) @ S.T
    br = sum(history.series[f"br_{t}"].to_numpy()[-n:] for t in types) @ S.T
    with np.errstate(invalid="ignore", divide="ignore"):
        return (att.sum(axis=0) - br.sum(axis=0)) / att.sum(axis=0) * 100


def _pinball(actual: np.ndarray, quantiles: dict[str, np.ndarray]) -> np.ndarray:
    losses = []
    for key, q in QUANTILES.items():
        pred = quantiles[key]
        diff = actual - pred
        losses.append(np.maximum(q * diff, (q - 1) * diff))
    return np.mean(losses, axis=0)


def score_origin(wh, dataset: str, origin: dt.date, **kwargs) -> pd.DataFrame:
    """Forecast from `origin` and score every node, measure and step with an outcome."""
    setup = SETUP[dataset]
    g, horizon = setup["granularity"], setup["horizon"]
    history = load_history(wh, g, origin, source=setup["source"])
    result = run_forecast(wh, granularity=g, horizon=horizon, history=history, **kwargs)
    steps = pd.date_range(pd.Timestamp(origin), periods=horizon + 1, freq=FREQ[g])[1:]
    from fourhour.forecast.reconcile import build_hierarchy

    S = build_hierarchy(history.parents).S
    nodes = result.nodes
    keys = [f"{lv}:{c}" for lv, c in nodes]
    actual = _actuals(wh, history, steps, nodes)
    scales = _scales(history, nodes, S)
    recent = _recent_perf(history, S, result.basis)
    basis = result.basis
    with np.errstate(invalid="ignore", divide="ignore"):
        perf_actual = {
            "perf_type1": (actual["att_type1"] - actual["br_type1"]) / actual["att_type1"] * 100,
            "perf_all_types": (actual["att_all"] - actual["br_all"]) / actual["att_all"] * 100,
        }
    truth = {
        "att_type1": actual["att_type1"],
        "att_all": actual["att_all"],
        **perf_actual,
    }
    frames = []
    table = result.table.copy()
    table["key"] = table["level"] + ":" + table["code"]
    # Type 1 performance under the all-types basis: from the type 1 counts themselves.
    wanted = [m for m in SCORED if m in set(table["measure"])]
    for measure in wanted:
        part = table[table["measure"] == measure]
        t = truth[measure].reindex(index=keys)
        pairs = zip(part["key"], part["period_end"], strict=True)
        y = np.array([t.at[k, pd.Timestamp(p)] for k, p in pairs])
        frame = part[["level", "code", "period_end", "step", "measure", "mean", "baseline"]].copy()
        frame["actual"] = y
        q = {k: part[k].to_numpy() for k in QUANTILES}
        frame["in80"] = (y >= q["lo80"]) & (y <= q["hi80"])
        frame["in95"] = (y >= q["lo95"]) & (y <= q["hi95"])
        frame["pinball"] = _pinball(y, q)
        idx = [keys.index(k) for k in part["key"]]
        if measure in scales:
            frame["scale"] = scales[measure][idx]
        else:
            frame["scale"] = np.nan
        frame["recent3"] = recent[idx] if measure == f"perf_{basis}" else np.nan
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out = out[out["actual"].notna()]
    out.insert(0, "dataset", dataset)
    out.insert(1, "origin", origin)
    return out


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (dataset, level, measure), part in scores.groupby(["dataset", "level", "measure"]):
        g = "week" if dataset == "weekly" else "month"
        for lo, hi in BUCKETS[g]:
            p = part[(part["step"] >= lo) & (part["step"] <= hi)]
            if p.empty:
                continue
            ae = (p["actual"] - p["mean"]).abs()
            be = (p["actual"] - p["baseline"]).abs()
            row = {
                "dataset": dataset,
                "level": level,
                "measure": measure,
                "horizon": f"{lo}" if lo == hi else f"{lo}-{hi}",
                "n": len(p),
                "origins": p["origin"].nunique(),
            }
            if str(measure).startswith("att"):
                ok = p["scale"] > 0
                row["mase"] = float((ae[ok] / p["scale"][ok]).mean())
                row["mase_snaive"] = float((be[ok] / p["scale"][ok]).mean())
                # The model's error relative to the seasonal-naive forecast of the same targets.
                row["relative_mae"] = float(ae.sum() / be.sum()) if be.sum() > 0 else np.nan
                nz = p["actual"] > 0
                row["mape"] = float((ae[nz] / p["actual"][nz]).mean() * 100)
                row["mape_snaive"] = float((be[nz] / p["actual"][nz]).mean() * 100)
                row["pinball_pct"] = float((p["pinball"][nz] / p["actual"][nz]).mean() * 100)
            else:
                row["mae_points"] = float(ae.mean())
                row["mae_last_year"] = float(be.mean())
                r3 = (p["actual"] - p["recent3"]).abs()
                row["mae_last3"] = float(r3.mean()) if r3.notna().any() else np.nan
                row["pinball_points"] = float(p["pinball"].mean())
            row["coverage80"] = float(p["in80"].mean() * 100)
            row["coverage95"] = float(p["in95"].mean() * 100)
            rows.append(row)
    return pd.DataFrame(rows)


def backtest(
    wh,
    datasets: tuple[str, ...] = DATASETS,
    *,
    max_origins: int | None = None,
    progress=None,
    **kwargs,
) -> BacktestResult:
    """Rolling-origin evaluation of every data set the warehouse holds."""
    frames, origins, notes = [], {}, []
    for dataset in datasets:
        if dataset not in SETUP:
            raise InvalidInputError(f"unknown backtest data set {dataset!r}; expected {DATASETS}")
        found = origins_for(wh, dataset)
        if max_origins is not None and len(found) > max_origins:
            # Keep the latest origins (an even spread would favour no season).
            found = found[-max_origins:]
        if not found:
            notes.append(f"{dataset}: no origin with enough history and outcomes in the warehouse")
            continue
        origins[dataset] = found
        for origin in found:
            if progress:
                progress(dataset, origin)
            try:
                frames.append(score_origin(wh, dataset, origin, **kwargs))
            except ForecastError as exc:
                notes.append(f"{dataset} {origin}: skipped: {exc.message}")
    if not frames:
        raise ForecastError(
            "no backtest origin could be scored",
            hint="ingest at least two years of returns and some months after them",
        )
    scores = pd.concat(frames, ignore_index=True)
    return BacktestResult(scores, summarise(scores), origins, notes)
