"""Funnel plot statistics: exact binomial control limits around a national proportion, and
Spiegelhalter's over-dispersion estimate that widens them (docs/report.md, "The funnel plot's
limits"). The report draws them (`fourhour.report.charts.funnel_chart`); the numbers live here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fourhour.errors import QueryError

# Standard normal quantiles, each written once: NormalDist().inv_cdf(q) for q = 0.975 (two-sided
# 95% limits), 0.999 (two-sided 99.8%), 0.95 (the one-sided 95% test of over-dispersion) and
# 0.90 (two-sided 80% intervals, as the forecasts give).
Z80 = 1.2815515655446004
Z95 = 1.959963984540054
Z998 = 3.090232306167813
Z_ONE_SIDED_95 = 1.6448536269514722
WINSOR = 0.10  # Spiegelhalter: winsorise z-scores at the 10th and 90th percentiles


def _floats(values: Iterable[Any]) -> np.ndarray:
    """Floats from DuckDB's Decimal, nullable Int64/Float64 or plain columns; NaN for missing."""
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if s.dtype == object:
        s = s.map(lambda v: np.nan if v is None or v is pd.NA else float(v))
    return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _log_choose_pmf(n: int, p: float, k: np.ndarray) -> np.ndarray:
    lg = np.vectorize(math.lgamma, otypes=[float])
    log_pmf = (
        math.lgamma(n + 1) - lg(k + 1) - lg(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)
    )
    return np.exp(log_pmf)


def binomial_limit(n: int, p0: float, q: float) -> float:
    """The q-quantile of Binomial(n, p0)/n, interpolated as Spiegelhalter (2005), appendix:
    r is the smallest count with P(R <= r) >= q, alpha = (P(R <= r) - q) / P(R = r), and the
    limit is (r - alpha) / n."""
    if n <= 0:
        return math.nan
    if p0 <= 0.0 or p0 >= 1.0:
        return float(p0)
    sd = math.sqrt(n * p0 * (1 - p0))
    lo = max(0, int(n * p0 - 12 * sd - 10))
    hi = min(n, int(n * p0 + 12 * sd + 10))
    k = np.arange(lo, hi + 1, dtype=float)
    pmf = _log_choose_pmf(n, p0, k)
    cdf = np.cumsum(pmf)
    i = int(np.searchsorted(cdf, q, side="left"))
    i = min(i, len(k) - 1)
    alpha = (cdf[i] - q) / pmf[i] if pmf[i] > 0 else 0.0
    return float((k[i] - alpha) / n)


def funnel_limits(
    p0: float, n: Iterable[int], z: float, tau2: float = 0.0, exact: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits (proportions) around p0 for each denominator n.

    Without over-dispersion (tau2 = 0) these are exact binomial limits for the two-sided
    probability matching z (interpolated, Spiegelhalter 2005). With tau2 > 0, the additive
    random-effects limits p0 +/- z * sqrt(p0 (1 - p0) / n + tau2). Limits are clipped to [0, 1].
    """
    ns = np.asarray(list(n), dtype=float)
    if tau2 > 0 or exact is False:
        se = np.sqrt(p0 * (1 - p0) / ns + tau2)
        return np.clip(p0 - z * se, 0, 1), np.clip(p0 + z * se, 0, 1)
    tail = 0.5 * math.erfc(z / math.sqrt(2))
    lower = np.array([binomial_limit(round(m), p0, tail) for m in ns])
    upper = np.array([binomial_limit(round(m), p0, 1 - tail) for m in ns])
    return lower, upper


@dataclass(frozen=True)
class Overdispersion:
    """Spiegelhalter's over-dispersion estimate for k units around p0."""

    k: int
    phi: float  # mean of the squared winsorised z-scores; 1 with no over-dispersion
    tau2: float  # additive between-unit variance on the proportion scale (0 if none)
    significant: bool  # k * phi above the 95th percentile of chi-squared on k - 1 df

    @property
    def tau_points(self) -> float:
        """The between-provider standard deviation in percentage points."""
        return 100 * math.sqrt(self.tau2)


def chi2_quantile(q_z: float, df: int) -> float:
    """Wilson-Hilferty approximation of a chi-squared quantile (z: the normal quantile)."""
    h = 2.0 / (9.0 * df)
    return df * (1 - h + q_z * math.sqrt(h)) ** 3


def overdispersion(y: np.ndarray, n: np.ndarray, p0: float) -> Overdispersion:
    """Spiegelhalter (2005), "Handling over-dispersion of performance indicators": z-scores
    z_i = (y_i - p0) / sqrt(p0 (1 - p0) / n_i), winsorised at the 10th and 90th percentiles;
    phi = mean(z^2); if k phi > k - 1, tau2 = (k phi - (k - 1)) / (sum w - sum w^2 / sum w)
    with w_i = n_i / (p0 (1 - p0))."""
    y = np.asarray(y, dtype=float)
    n = np.asarray(n, dtype=float)
    keep = np.isfinite(y) & np.isfinite(n) & (n > 0)
    y, n = y[keep], n[keep]
    k = len(y)
    if k < 3 or not 0 < p0 < 1:
        return Overdispersion(k, 1.0, 0.0, False)
    var = p0 * (1 - p0)
    z = (y - p0) / np.sqrt(var / n)
    lo, hi = np.quantile(z, [WINSOR, 1 - WINSOR])
    zw = np.clip(z, lo, hi)
    phi = float(np.mean(zw**2))
    w = n / var
    denominator = w.sum() - (w**2).sum() / w.sum()
    tau2 = max(0.0, (k * phi - (k - 1)) / denominator) if denominator > 0 else 0.0
    significant = k * phi > chi2_quantile(Z_ONE_SIDED_95, k - 1)
    return Overdispersion(k, phi, tau2 if significant else 0.0, significant)


@dataclass(frozen=True)
class FunnelData:
    """What a funnel plot draws: the providers placed against the limits, the limit curves, the
    centre line p0 (a proportion) and the over-dispersion estimate."""

    providers: pd.DataFrame  # code, name, attendances, breaches, p, pct, position, ...
    limits: pd.DataFrame  # n, lower_95, upper_95, lower_998, upper_998 (+ adj_* if widened)
    p0: float
    overdispersion: Overdispersion


def funnel_data(
    providers: pd.DataFrame, *, national_pct: float | None = None, points: int = 120
) -> FunnelData:
    """Providers with their position against the limits, the limit curves, p0 and the
    over-dispersion estimate. `providers`: code, name, attendances, breaches."""
    frame = providers[["code", "name", "attendances", "breaches"]].copy()
    frame["attendances"] = _floats(frame["attendances"])
    frame["breaches"] = _floats(frame["breaches"])
    frame = frame[(frame["attendances"] > 0) & frame["breaches"].notna()].reset_index(drop=True)
    if frame.empty:
        raise QueryError("no providers with attendances to place on the funnel plot")
    frame["name"] = frame["name"].fillna(frame["code"]).astype(str)
    frame["p"] = (frame["attendances"] - frame["breaches"]) / frame["attendances"]
    frame["pct"] = 100 * frame["p"]
    p0 = (
        national_pct / 100.0
        if national_pct is not None
        else float((frame["attendances"] - frame["breaches"]).sum() / frame["attendances"].sum())
    )
    od = overdispersion(frame["p"].to_numpy(), frame["attendances"].to_numpy(), p0)
    n_max = float(frame["attendances"].max()) * 1.05
    n_min = max(10.0, float(frame["attendances"].min()) * 0.8)
    grid = np.unique(np.round(np.geomspace(n_min, n_max, points)))
    curves = {"n": grid}
    for name, z in (("95", Z95), ("998", Z998)):
        lo, hi = funnel_limits(p0, grid, z)
        curves[f"lower_{name}"], curves[f"upper_{name}"] = 100 * lo, 100 * hi
        if od.tau2 > 0:
            lo, hi = funnel_limits(p0, grid, z, od.tau2)
            curves[f"adj_lower_{name}"], curves[f"adj_upper_{name}"] = 100 * lo, 100 * hi
    limits = pd.DataFrame(curves)
    lo998, hi998 = funnel_limits(p0, frame["attendances"], Z998, od.tau2)
    frame["position"] = np.select(
        [frame["p"] < lo998, frame["p"] > hi998], ["Below", "Above"], "Within"
    )
    if od.tau2 > 0:
        lo998, hi998 = funnel_limits(p0, frame["attendances"], Z998)
    frame["binomial_position"] = np.select(
        [frame["p"] < lo998, frame["p"] > hi998], ["Below", "Above"], "Within"
    )
    return FunnelData(frame, limits, p0, od)
