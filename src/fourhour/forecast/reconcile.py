"""Reconcile forecasts so that trusts add up to systems, regions and England.

The hierarchy is a summing matrix S (every node x every trust). A reconciled forecast is
S @ P @ base for a matrix P that maps all base forecasts to trust forecasts:

- bottom_up: P takes the trusts' own forecasts (aggregates ignored);
- mint_shrink: minimum trace reconciliation (Wickramasuriya, Athanasopoulos & Hyndman, 2019)
  with W the in-sample one-step error covariance shrunk towards its diagonal
  (Schäfer & Strimmer, 2005), as in hierarchicalforecast's MinTrace(method="mint_shrink").

Reconciled variances follow the same linear map: S P W_h P' S', where W_h keeps the error
correlations of W and each series' own forecast variance at step h (the normal approximation
hierarchicalforecast calls "normality"); an aggregate's is never below its own model's.
Forecast counts are not negative: trusts' reconciled
forecasts are floored at zero before they are summed, so the floor never breaks coherence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fourhour.forecast.history import ENGLAND

METHODS = ("mint_shrink", "bottom_up")


@dataclass(frozen=True)
class Hierarchy:
    nodes: list[tuple[str, str]]  # (level, code), aggregates first, trusts last
    S: np.ndarray  # nodes x trusts

    @property
    def n_bottom(self) -> int:
        return self.S.shape[1]


def build_hierarchy(parents: pd.DataFrame) -> Hierarchy:
    """England, regions, systems, then trusts (in the order of `parents`)."""
    trusts = list(parents["code"])
    if trusts == [ENGLAND]:
        return Hierarchy([("england", ENGLAND)], np.ones((1, 1)))
    rows: list[np.ndarray] = [np.ones(len(trusts))]
    nodes = [("england", ENGLAND)]
    for level in ("region", "system"):
        codes = parents[f"{level}_code"].to_numpy()
        for code in sorted(set(codes)):
            nodes.append((level, code))
            rows.append((codes == code).astype(float))
    for i, code in enumerate(trusts):
        nodes.append(("provider", code))
        row = np.zeros(len(trusts))
        row[i] = 1.0
        rows.append(row)
    return Hierarchy(nodes, np.vstack(rows))


def shrunk_covariance(residuals: np.ndarray) -> np.ndarray:
    """Schäfer-Strimmer shrinkage of the residual covariance towards its diagonal."""
    e = residuals[~np.isnan(residuals).any(axis=1)]
    n, p = e.shape
    if n < 3:
        var = np.nanvar(residuals, axis=0)
        return np.diag(np.where(np.isfinite(var) & (var > 0), var, 1.0))
    e = e - e.mean(axis=0)
    cov = e.T @ e / n
    sd = np.sqrt(np.diag(cov))
    sd_safe = np.where(sd > 0, sd, 1.0)
    x = e / sd_safe
    corr = x.T @ x / n
    # Variance of each sample correlation: sum_t (x_ti x_tj - r_ij)^2, expanded.
    x2 = x**2
    sq = x2.T @ x2 - 2 * corr * (x.T @ x) + n * corr**2
    var_corr = n / (n - 1) ** 3 * sq
    off = ~np.eye(p, dtype=bool)
    denom = (corr[off] ** 2).sum()
    lam = float(np.clip(var_corr[off].sum() / denom, 0.0, 1.0)) if denom > 0 else 1.0
    shrunk = (1 - lam) * corr
    np.fill_diagonal(shrunk, 1.0)
    cov = shrunk * np.outer(sd, sd)
    # Series with no in-sample error (flat zero series) get a tiny variance to stay invertible.
    floor = max(float(np.max(np.diag(cov))) * 1e-9, 1e-9)
    cov[np.diag_indices(p)] = np.maximum(np.diag(cov), floor)
    return cov


def projection(h: Hierarchy, W: np.ndarray, method: str) -> np.ndarray:
    """P (trusts x nodes) of the chosen method; W: the shrunk error covariance."""
    n_nodes, n_bottom = h.S.shape
    if method == "bottom_up" or n_nodes == n_bottom:
        P = np.zeros((n_bottom, n_nodes))
        P[:, n_nodes - n_bottom :] = np.eye(n_bottom)
        return P
    if method != "mint_shrink":
        raise ValueError(method)
    Winv_S = np.linalg.solve(W, h.S)
    return np.linalg.solve(h.S.T @ Winv_S, Winv_S.T)


def correlation(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def reconcile(*args, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Coherent means (nodes x steps, trusts floored at 0) and standard deviations.

    Run on one BLAS thread: the matrices are a few hundred square, and on a shared machine a
    pool of BLAS threads spends far longer waiting for cores than computing.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _reconcile(*args, **kwargs)


def _reconcile(
    h: Hierarchy,
    mean: np.ndarray,
    sd: np.ndarray,
    residuals: np.ndarray,
    method: str,
) -> tuple[np.ndarray, np.ndarray]:
    W = shrunk_covariance(residuals)
    P = projection(h, W, method)
    bottom = np.maximum(P @ mean, 0.0)
    rec_mean = h.S @ bottom
    R = correlation(W)
    SP = h.S @ P
    rec_sd = np.empty_like(mean)
    for k in range(mean.shape[1]):
        Wk = R * np.outer(sd[:, k], sd[:, k])
        rec_sd[:, k] = np.sqrt(np.maximum(((SP @ Wk) * SP).sum(axis=1), 0.0))
    # Shrinking W towards its diagonal understates how trusts' errors move together, so an
    # aggregate's reconciled interval is never made narrower than its own model's.
    n_agg = h.S.shape[0] - h.n_bottom
    rec_sd[:n_agg] = np.maximum(rec_sd[:n_agg], sd[:n_agg])
    return rec_mean, rec_sd
