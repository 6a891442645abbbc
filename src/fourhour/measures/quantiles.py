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
    dense: np.ndarray, over_g: np.ndarray, over_m: np.ndarray, qs: tuple[float, ...]
) -> np.ndarray:
    """Exact interpolated quantiles per group: an array [n_groups, len(qs)] (NaN if empty).
    `over_g`/`over_m`: the group and minutes of every value at or beyond the cap, any order."""
    n_groups, cap = dense.shape
    over_counts = np.bincount(over_g, minlength=n_groups)
    cum = np.cumsum(dense, axis=1)
    inside = cum[:, -1]
    n = inside + over_counts
    # A strictly increasing flat array: group g's cumulative counts shifted by g x (big).
    big = int(n.max()) + 1 if n_groups else 1
    flat = (cum + (np.arange(n_groups, dtype=np.int64) * big)[:, None]).ravel()
    out = np.full((n_groups, len(qs)), np.nan)
    has = n > 0
    for j, q in enumerate(qs):
        pos = q * (n - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)

        def value(k: np.ndarray) -> np.ndarray:
            # the k-th smallest (0-based): first minute whose cumulative count exceeds k
            k = np.where(has, k, 0)
            in_dense = k < inside
            idx = np.searchsorted(flat, k + np.arange(n_groups) * big, side="right")
            v = (idx % cap).astype(np.float64)
            spill = ~in_dense & has
            if spill.any():  # sort only the long stays of the groups that need them
                sel = np.isin(over_g, np.flatnonzero(spill))
                sg, sm = over_g[sel], over_m[sel]
                order = np.lexsort((sm, sg))
                sg, sm = sg[order], sm[order]
                first = np.searchsorted(sg, np.arange(n_groups))
                v[spill] = sm[first[spill] + (k[spill] - inside[spill])]
            return v

        v_lo, v_hi = value(lo), value(hi)
        out[:, j] = np.where(has, v_lo + (pos - lo) * (v_hi - v_lo), np.nan)
    return out
