"""`fourhour forecast`: attendances, breaches, performance and 12-hour waits, reconciled.

Counts are forecast (attendances and attendances over four hours by department type, 12-hour
decision-to-admit waits) for every trust, system, region and England; performance is derived
from the forecast counts, never forecast on its own, so that every figure agrees with every
other. Intervals (80% and 95%) and the probability of meeting the standard or a trajectory in
each period come from joint normal draws of each organisation's attendances and breaches
(correlated as their in-sample errors are), seeded so that a run is reproducible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fourhour.errors import InvalidInputError
from fourhour.forecast.history import (
    ENGLAND,
    FREQ,
    MEASURE_NAMES,
    MIN_HISTORY,
    TYPES,
    ForecastError,
    History,
    load_history,
)
from fourhour.forecast.models import BASELINE, MODEL_CHOICES, fit
from fourhour.forecast.reconcile import METHODS, Hierarchy, build_hierarchy, reconcile
from fourhour.measures.funnel import Z80, Z95
from fourhour.measures.performance import STANDARD_PCT

SEED = 20141214
N_DRAWS = 1000
QUANTILES = {"lo95": 0.025, "lo80": 0.10, "hi80": 0.90, "hi95": 0.975}
MAX_HORIZON = {"month": 12, "week": 26}
LEVEL_ORDER = {"england": 0, "region": 1, "system": 2, "provider": 3}


@dataclass
class ForecastResult:
    history: History
    horizon: int
    method: str
    models: tuple[str, ...]
    basis: str  # all_types | type1
    table: pd.DataFrame  # long: level, code, name, period_end, step, measure, mean, lo/hi, baseline
    probabilities: pd.DataFrame  # level, code, period_end, step, p_standard, target_pct, p_target
    chosen: pd.DataFrame  # level, code, measure, model, cv_mae per candidate
    draws: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    nodes: list[tuple[str, str]] = field(default_factory=list)
    standard_pct: float = STANDARD_PCT
    notes: list[str] = field(default_factory=list)

    @property
    def origin(self) -> dt.date:
        return self.history.origin

    def select(
        self, level: str | None = None, code: str | None = None, measures: tuple[str, ...] = ()
    ) -> pd.DataFrame:
        t = self.table
        if level:
            t = t[t["level"] == level]
        if code:
            t = t[t["code"] == code]
        if measures:
            t = t[t["measure"].isin(measures)]
        return t

    def as_dict(self, level: str | None = None, code: str | None = None) -> dict[str, Any]:
        """The JSON contract (docs/forecast.md)."""
        rows = self.select(level, code)
        probs = self.probabilities
        if level:
            probs = probs[probs["level"] == level]
        if code:
            probs = probs[probs["code"] == code]
        return {
            "kind": "fourhour.forecast",
            "origin": self.origin.isoformat(),
            "granularity": self.history.granularity,
            "horizon": self.horizon,
            "source": self.history.source,
            "reconciliation": self.method,
            "models": [BASELINE, *self.models],
            "basis": self.basis,
            "standard_pct": self.standard_pct,
            "notes": self.notes + self.history.notes,
            "forecasts": [_record(r) for r in rows.to_dict("records")],
            "probabilities": [_record(r) for r in probs.to_dict("records")],
        }


def _record(r: dict[Hashable, Any]) -> dict[Hashable, Any]:
    out: dict[Hashable, Any] = {}
    for k, v in r.items():
        if isinstance(v, pd.Timestamp | dt.date):
            out[k] = pd.Timestamp(v).date().isoformat()
        elif isinstance(v, float | np.floating):
            out[k] = None if np.isnan(v) else round(float(v), 3)
        elif isinstance(v, np.integer):
            out[k] = int(v)
        else:
            out[k] = v
    return out


def run_forecast(
    wh,
    *,
    granularity: str = "month",
    origin: dt.date | None = None,
    horizon: int = 12,
    models: tuple[str, ...] | None = None,
    method: str = "mint_shrink",
    source: str = "providers",
    trajectory_pct: float | None = None,
    standard_pct: float = STANDARD_PCT,
    seed: int = SEED,
    n_jobs: int = 1,
    history: History | None = None,
    provider: str | None = None,
) -> ForecastResult:
    """Forecast every trust, system, region and England `horizon` periods past `origin`."""
    if not 1 <= horizon <= MAX_HORIZON.get(granularity, 12):
        raise InvalidInputError(
            f"horizon {horizon} is out of range; expected 1-{MAX_HORIZON.get(granularity, 12)} "
            f"{granularity}s"
        )
    if method not in METHODS:
        raise InvalidInputError(f"unknown reconciliation {method!r}; expected {', '.join(METHODS)}")
    if models is not None:
        unknown = [m for m in models if m not in MODEL_CHOICES]
        if unknown:
            raise InvalidInputError(
                f"unknown model(s) {', '.join(unknown)}; expected {', '.join(MODEL_CHOICES)}"
            )
    if history is None:
        history = load_history(wh, granularity, origin, source=source)
    if provider is not None:
        _check_provider(wh, history, provider)
    hier = build_hierarchy(history.parents)
    steps = pd.date_range(pd.Timestamp(history.origin), periods=horizon + 1, freq=FREQ[granularity])
    steps = steps[1:]

    means: dict[str, np.ndarray] = {}
    sds: dict[str, np.ndarray] = {}
    baselines: dict[str, np.ndarray] = {}
    residuals: dict[str, np.ndarray] = {}
    chosen_rows = []
    for measure, wide in history.series.items():
        nodes_values = pd.DataFrame(
            wide.to_numpy() @ hier.S.T,
            index=wide.index,
            columns=[f"{lv}:{c}" for lv, c in hier.nodes],
        )
        fit_cols = list(nodes_values.columns)
        if method == "bottom_up":
            fit_cols = fit_cols[len(hier.nodes) - hier.n_bottom :]
        base = fit(nodes_values[fit_cols], granularity, horizon, models, n_jobs=n_jobs)
        mean, sd, resid, bmean = _full(base, hier, fit_cols, nodes_values)
        rec_mean, rec_sd = reconcile(hier, mean, sd, resid, method)
        means[measure], sds[measure], residuals[measure] = rec_mean, rec_sd, resid
        # The seasonal-naive baseline is coherent by construction: a sum of last year's values.
        baselines[measure] = hier.S @ bmean[len(hier.nodes) - hier.n_bottom :]
        for uid, model in base.chosen.items():
            level, code = uid.split(":", 1)
            row: dict[str, Any] = {"level": level, "code": code, "measure": measure}
            row["model"] = model
            row.update({f"cv_mae_{m}": base.cv_mae.at[uid, m] for m in base.cv_mae.columns})
            chosen_rows.append(row)

    _cap_breaches(hier, means)
    basis = (
        "all_types" if all(f"{k}_{t}" in means for k in ("att", "br") for t in TYPES) else "type1"
    )
    rng = np.random.default_rng(seed)
    draws = _draw_performance(hier, means, sds, residuals, basis, rng)
    table = _table(hier, history, steps, means, sds, baselines, draws, basis)
    targets = _targets(wh, hier, steps, trajectory_pct)
    probs = _probabilities(hier, history, steps, draws, basis, standard_pct, targets)
    notes = []
    filled = {m: n for m, n in history.filled.items() if n}
    if filled:
        notes.append(
            "values filled in gaps of the returns (from a season earlier, else interpolated): "
            + ", ".join(f"{MEASURE_NAMES[m]} {n}" for m, n in filled.items())
        )
    if basis == "type1":
        notes.append("performance is type 1 (major A&E) only: other types are not published")
    return ForecastResult(
        history=history,
        horizon=horizon,
        method=method,
        models=tuple(models) if models is not None else _default_models(granularity),
        basis=basis,
        table=table,
        probabilities=probs,
        chosen=pd.DataFrame(chosen_rows),
        draws=draws,
        nodes=hier.nodes,
        standard_pct=standard_pct,
        notes=notes,
    )


def _default_models(granularity: str) -> tuple[str, ...]:
    from fourhour.forecast.models import DEFAULT_MODELS

    return DEFAULT_MODELS[granularity]


def _check_provider(wh, history: History, provider: str) -> None:
    if provider in set(history.parents["code"]):
        return
    row = wh.con.execute(
        "SELECT count(*) FROM provider_returns WHERE org_code = ? AND granularity = ? "
        "AND period_end <= ? AND att_type1 IS NOT NULL",
        [provider, history.granularity, history.origin],
    ).fetchone()
    if row[0]:
        raise ForecastError(
            f"{provider} type 1 attendances: {row[0]} {history.granularity}s of history up to "
            f"{history.origin}; at least {MIN_HISTORY[history.granularity]} needed",
            hint="forecasts need at least two years of monthly (78 weeks of weekly) returns",
        )
    raise ForecastError(f"{provider} has no {history.granularity}ly returns up to {history.origin}")


def _full(base, hier: Hierarchy, fit_cols: list[str], nodes_values: pd.DataFrame):
    """Base forecasts for every node (aggregates summed from trusts under bottom-up)."""
    n_nodes, n_bottom = hier.S.shape
    h = base.mean.shape[1]
    if len(fit_cols) == n_nodes:
        return base.mean, base.sd, base.residuals, base.baseline_mean
    mean = np.zeros((n_nodes, h))
    sd = np.zeros((n_nodes, h))
    bmean = np.zeros((n_nodes, h))
    mean[n_nodes - n_bottom :], sd[n_nodes - n_bottom :] = base.mean, base.sd
    bmean[n_nodes - n_bottom :] = base.baseline_mean
    resid = np.nan_to_num(base.residuals) @ hier.S.T
    resid[np.isnan(base.residuals).any(axis=1)] = np.nan
    return mean, sd, resid, bmean


def _cap_breaches(hier: Hierarchy, means: dict[str, np.ndarray]) -> None:
    """A trust's forecast breaches never exceed its forecast attendances (then re-summed)."""
    n_nodes, n_bottom = hier.S.shape
    for t in TYPES:
        att, br = means.get(f"att_{t}"), means.get(f"br_{t}")
        if att is None or br is None:
            continue
        bottom = np.minimum(br[n_nodes - n_bottom :], att[n_nodes - n_bottom :])
        means[f"br_{t}"] = hier.S @ bottom


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))  # measures may be published over different spans: align the ends
    a, b = a[len(a) - n :], b[len(b) - n :]
    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return 0.0
    return float(np.clip(np.corrcoef(a[ok], b[ok])[0, 1], -0.99, 0.99))


def _draw_performance(hier, means, sds, residuals, basis, rng) -> dict[str, np.ndarray]:
    """Draws (nodes x steps x draws) of attendances and breaches on the basis, and of perf.

    Each node's attendance and breach errors of a type are correlated as their in-sample
    errors were; one draw keeps its standard normal across the steps (forecast errors persist
    from month to month), so that sums over several months (a winter) are not too narrow.
    """
    types = TYPES if basis == "all_types" else ("type1",)
    n_nodes, h = means["att_type1"].shape
    att = np.zeros((n_nodes, h, N_DRAWS))
    br = np.zeros((n_nodes, h, N_DRAWS))
    for t in types:
        ma, sa = means[f"att_{t}"], sds[f"att_{t}"]
        mb, sb = means[f"br_{t}"], sds[f"br_{t}"]
        rho = np.array(
            [_corr(residuals[f"att_{t}"][:, i], residuals[f"br_{t}"][:, i]) for i in range(n_nodes)]
        )
        z1 = rng.standard_normal((n_nodes, 1, N_DRAWS))
        z2 = rng.standard_normal((n_nodes, 1, N_DRAWS))
        zb = rho[:, None, None] * z1 + np.sqrt(1 - rho[:, None, None] ** 2) * z2
        a = np.maximum(ma[:, :, None] + sa[:, :, None] * z1, 0.0)
        b = np.clip(mb[:, :, None] + sb[:, :, None] * zb, 0.0, a)
        att += a
        br += b
    with np.errstate(invalid="ignore", divide="ignore"):
        perf = np.where(att > 0, (att - br) / att * 100.0, np.nan)
    return {"att": att, "br": br, "perf": perf}


def _table(hier, history, steps, means, sds, baselines, draws, basis) -> pd.DataFrame:
    frames = []
    levels = [lv for lv, _ in hier.nodes]
    codes = [c for _, c in hier.nodes]
    names = [history.names.get(c, c) for c in codes]
    n_nodes, h = means["att_type1"].shape

    def add(measure, mean, lo80, hi80, lo95, hi95, base):
        frames.append(
            pd.DataFrame(
                {
                    "level": np.repeat(levels, h),
                    "code": np.repeat(codes, h),
                    "name": np.repeat(names, h),
                    "period_end": np.tile(steps.date, n_nodes),
                    "step": np.tile(np.arange(1, h + 1), n_nodes),
                    "measure": measure,
                    "mean": mean.ravel(),
                    "lo80": lo80.ravel(),
                    "hi80": hi80.ravel(),
                    "lo95": lo95.ravel(),
                    "hi95": hi95.ravel(),
                    "baseline": base.ravel(),
                }
            )
        )

    for measure, m in means.items():
        s = sds[measure]
        add(
            measure,
            m,
            np.maximum(m - Z80 * s, 0),
            m + Z80 * s,
            np.maximum(m - Z95 * s, 0),
            m + Z95 * s,
            baselines[measure],
        )
    types = TYPES if basis == "all_types" else ("type1",)
    att_mean = sum(means[f"att_{t}"] for t in types)
    br_mean = sum(means[f"br_{t}"] for t in types)
    att_base = sum(baselines[f"att_{t}"] for t in types)
    br_base = sum(baselines[f"br_{t}"] for t in types)
    if basis == "all_types":
        q = _quantiles(draws["att"])
        add("att_all", att_mean, q["lo80"], q["hi80"], q["lo95"], q["hi95"], att_base)
        q = _quantiles(draws["br"])
        add("br_all", br_mean, q["lo80"], q["hi80"], q["lo95"], q["hi95"], br_base)
    with np.errstate(invalid="ignore", divide="ignore"):
        perf = np.where(att_mean > 0, (att_mean - br_mean) / att_mean * 100, np.nan)
        perf_base = np.where(att_base > 0, (att_base - br_base) / att_base * 100, np.nan)
    q = _quantiles(draws["perf"])
    # The point forecast comes from the forecast counts; its interval from the draws.
    lo80, hi80 = np.minimum(q["lo80"], perf), np.maximum(q["hi80"], perf)
    lo95, hi95 = np.minimum(q["lo95"], lo80), np.maximum(q["hi95"], hi80)
    add(f"perf_{basis}", perf, lo80, hi80, lo95, hi95, perf_base)
    table = pd.concat(frames, ignore_index=True)
    table["rank"] = table["level"].map(LEVEL_ORDER)
    table = table.sort_values(["rank", "code", "measure", "step"]).drop(columns="rank")
    return table.reset_index(drop=True)


def _quantiles(draws: np.ndarray) -> dict[str, np.ndarray]:
    """Interval ends over the draws (axis 2); NaN where a node has no attendances."""
    empty = np.isnan(draws).any(axis=2)
    q = np.quantile(np.nan_to_num(draws), list(QUANTILES.values()), axis=2)
    return {k: np.where(empty, np.nan, q[i]) for i, k in enumerate(QUANTILES)}


def _targets(wh, hier, steps, trajectory_pct) -> np.ndarray:
    """Target percentage per node and step: --trajectory, else each trust's agreed one."""
    n = len(hier.nodes)
    targets = np.full((n, len(steps)), np.nan)
    if trajectory_pct is not None:
        targets[:] = trajectory_pct
        return targets
    if wh is None:
        return targets
    months = [dt.date(s.year, s.month, 1) for s in steps]
    rows = wh.con.execute(
        "SELECT org_code, month, trajectory_pct FROM trajectories WHERE month BETWEEN ? AND ?",
        [months[0], months[-1]],
    ).fetchall()
    index = {(lv, c): i for i, (lv, c) in enumerate(hier.nodes)}
    col = {m: k for k, m in enumerate(months)}
    for code, month, pct in rows:
        i = index.get(("provider", code))
        k = col.get(month)
        if i is not None and k is not None:
            targets[i, k] = pct
    return targets


def _probabilities(hier, history, steps, draws, basis, standard_pct, targets) -> pd.DataFrame:
    perf = draws["perf"]
    p_std = np.nanmean(perf >= standard_pct, axis=2)
    with np.errstate(invalid="ignore"):
        p_tgt = np.where(np.isnan(targets), np.nan, np.nanmean(perf >= targets[:, :, None], axis=2))
    n, h = p_std.shape
    return pd.DataFrame(
        {
            "level": np.repeat([lv for lv, _ in hier.nodes], h),
            "code": np.repeat([c for _, c in hier.nodes], h),
            "name": np.repeat([history.names.get(c, c) for _, c in hier.nodes], h),
            "period_end": np.tile(steps.date, n),
            "step": np.tile(np.arange(1, h + 1), n),
            "basis": basis,
            "p_standard": p_std.ravel(),
            "target_pct": targets.ravel(),
            "p_target": p_tgt.ravel(),
        }
    )


def node_index(result: ForecastResult, level: str, code: str) -> int:
    for i, node in enumerate(result.nodes):
        if node == (level, code):
            return i
    raise ForecastError(f"no {level} {code} in the forecast")


__all__ = ["ENGLAND", "SEED", "ForecastResult", "node_index", "run_forecast"]
