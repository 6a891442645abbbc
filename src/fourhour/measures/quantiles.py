"""Exact quantiles of whole minutes for many groups at once, from dense histograms.

The median and 95th percentile time in department are the interpolated quantiles that DuckDB's
quantile_cont and Spark's percentile compute: with the n values of a group sorted, position
q x (n - 1), interpolating between the two values either side. Times in the department are
whole minutes, so a histogram per group (counts per minute) holds everything needed, and the
quantile is read off the cumulative counts with one vectorised search for all groups. Values
at or beyond `cap` minutes are kept exactly, aside, and used where a quantile falls among them.
"""

from __future__ import annotations

import numpy as np

CAP = 1024  # minutes held in the dense histogram (17 hours); longer stays are kept exactly


def histograms(group: np.ndarray, minutes: np.ndarray, n_groups: int, cap: int = CAP):
    """(dense counts [n_groups, cap], overflow group ids, overflow minutes)."""
    inside = minutes < cap
    dense = np.bincount(
        group[inside].astype(np.int64) * cap + minutes[inside], minlength=n_groups * cap
    ).reshape(n_groups, cap)
    return dense, group[~inside], minutes[~inside]


def quantiles(
    dense: np.ndarray,
    over_g: np.ndarray,
    over_m: np.ndarray,
    qs: tuple[float, ...],
    over_n: np.ndarray | None = None,
) -> np.ndarray:
    """Exact interpolated quantiles per group: an array [n_groups, len(qs)] (NaN if empty).
    `over_g`/`over_m`: the group and minutes of the values at or beyond the cap, any order;
    `over_n`: how many values each of those stands for (one each by default)."""
    n_groups, cap = dense.shape
    over_g = over_g.astype(np.int64)
    over_n = np.ones(len(over_g), np.int64) if over_n is None else over_n.astype(np.int64)
    over_counts = np.bincount(over_g, weights=over_n, minlength=n_groups).astype(np.int64)
    cum = np.cumsum(dense, axis=1)  # integers, or float64 counts (exact below 2**53)
    inside = cum[:, -1].astype(np.int64)
    n = inside + over_counts
    # A strictly increasing flat array: group g's cumulative counts shifted by g x (big).
    big = int(n.max()) + 1 if n_groups else 1
    cum += (np.arange(n_groups, dtype=cum.dtype) * big)[:, None]
    flat = cum.ravel()
    out = np.full((n_groups, len(qs)), np.nan)
    has = n > 0
    spilled: tuple[np.ndarray, ...] | None = None
    for j, q in enumerate(qs):
        pos = q * (n - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)

        def value(k: np.ndarray) -> np.ndarray:
            # the k-th smallest (0-based): first minute whose cumulative count exceeds k
            nonlocal spilled
            k = np.where(has, k, 0)
            in_dense = k < inside
            idx = np.searchsorted(flat, k + np.arange(n_groups) * big, side="right")
            v = (idx % cap).astype(np.float64)
            spill = ~in_dense & has
            if spill.any():  # sort only the long stays, once
                if spilled is None:
                    order = np.lexsort((over_m, over_g))
                    sg, sm, sw = over_g[order], over_m[order], np.cumsum(over_n[order])
                    first = np.searchsorted(sg, np.arange(n_groups))
                    before = np.where(first > 0, sw[np.maximum(first - 1, 0)], 0)
                    spilled = (sm, sw, before)
                sm, sw, before = spilled
                rank = k[spill] - inside[spill] + before[spill]
                v[spill] = sm[np.searchsorted(sw, rank, side="right")]
            return v

        v_lo, v_hi = value(lo), value(hi)
        out[:, j] = np.where(has, v_lo + (pos - lo) * (v_hi - v_lo), np.nan)
    return out
