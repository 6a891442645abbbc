"""Confidence intervals across replications and Welch's two-sample test (Student's t without
SciPy: the density integrated by Simpson's rule, inverted by bisection)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95  # the level every interval fourhour prints is at
_SIMPSON_STEPS = 2000


def t_cdf(x: float, df: float) -> float:
    """P(T <= x) for Student's t with df degrees of freedom (df may be fractional)."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if x == 0:
        return 0.5
    a = abs(x)
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    # substitute u = atan(t) so the integral runs over a bounded range whatever x is
    upper = math.atan(a)
    u = np.linspace(0.0, upper, _SIMPSON_STEPS + 1)
    t = np.tan(u)
    f = np.exp(log_c - (df + 1) / 2 * np.log1p(t * t / df)) * (1 + t * t)
    w = np.ones(_SIMPSON_STEPS + 1)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    area = float(np.dot(w, f)) * upper / _SIMPSON_STEPS / 3
    half = min(area, 0.5)
    return 0.5 + half if x > 0 else 0.5 - half


def t_quantile(p: float, df: float) -> float:
    """The x with P(T <= x) = p."""
    if not 0 < p < 1:
        raise ValueError("p must be strictly between 0 and 1")
    if p == 0.5:
        return 0.0
    lo, hi = -1.0, 1.0
    while t_cdf(lo, df) > p:
        lo *= 2
    while t_cdf(hi, df) < p:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int
    level: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


def mean_interval(values: np.ndarray | list[float], level: float = CONFIDENCE) -> Interval:
    """The mean of independent replications and its t-based confidence interval."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, level)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1, level)
    sd = float(x.std(ddof=1))
    half = t_quantile(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, level)


@dataclass(frozen=True)
class Welch:
    difference: float  # mean(a) - mean(b)
    t: float
    df: float
    p_value: float  # two-sided


def welch_test(a: np.ndarray | list[float], b: np.ndarray | list[float]) -> Welch:
    """Welch's two-sample t test of equal means (unequal variances)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    diff = float(x.mean() - y.mean())
    if vx + vy == 0:
        return Welch(diff, 0.0 if diff == 0 else math.inf, math.inf, 1.0 if diff == 0 else 0.0)
    t = diff / math.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    return Welch(diff, t, df, 2 * (1 - t_cdf(abs(t), df)))
