"""Time in department: exact quantiles and the near-four-hours distribution, every level and
period at once. Quantiles cannot roll up from counts: Spark (and DuckDB for smaller volumes)
computes them in SQL with GROUPING SETS compiled from the Ibis definitions; DuckDB reads each
attendance's minutes once above DENSE_FROM_ROWS and computes the identical quantiles from dense
per-minute histograms (quantiles.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp

from fourhour.measures import quantiles as dense_quantiles
from fourhour.measures.patient_definitions import (
    LEVEL_IDS,
    NEAR_FOUR_HOURS,
    PERIOD_KEYS,
    QUANTILES,
    Organisations,
    near_four_hours,
    roll_up,
)
from fourhour.measures.patient_engines import Engine


def _dense_times(
    engine: Engine,
    enriched: ir.Table,
    orgs: Organisations,
    levels: Sequence[str],
    periods: Sequence[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DuckDB: exact quantiles and the near-four-hours distribution from dense per-minute
    histograms (quantiles.py). DuckDB computes each attendance's histogram cell (provider x
    week or month x type 1 or not x minute) in parallel; NumPy counts the cells; minutes at or
    beyond the cap are kept exactly, aside."""
    con = engine.backend.con
    name = "fourhour_enriched"  # materialised by compute()
    cap = dense_quantiles.CAP
    d0, d1 = con.execute(f'SELECT min(day), max(day) FROM "{name}"').fetchone()
    day0 = (d0 - dt.date(1970, 1, 1)).days
    day1 = (d1 - dt.date(1970, 1, 1)).days
    bases = {
        "week": ((day0 + 3) // 7, (day1 + 3) // 7, "((day - DATE '1970-01-01')::INT + 3) // 7"),
        "month": (
            d0.year * 12 + d0.month - 1,
            d1.year * 12 + d1.month - 1,
            "year(day) * 12 + month(day) - 1",
        ),
    }
    n_p = len(orgs.frame)
    owners = {
        "provider": np.arange(n_p),
        "system": orgs.frame["sid"].to_numpy(),
        "region": orgs.frame["rid"].to_numpy(),
        "national": np.zeros(n_p, dtype=np.int64),
    }
    lo, hi = NEAR_FOUR_HOURS
    times, near = [], []
    spans = {b: last - first + 1 for b, (first, last, _) in bases.items()}
    cells = {
        b: f"((pid * {spans[b]} + ({sql} - {first})) * 2 + (type_group = 1)::INT)"
        for b, (first, _, sql) in bases.items()
    }
    inner = name
    wanted_bases = [b for b in bases if any((p == "week") == (b == "week") for p in periods)]
    # One scan: each attendance's cell in the weekly and the monthly histograms.
    index = con.execute(
        "SELECT "
        + ", ".join(f"({cells[b]} * {cap} + minutes)::INT AS {b}" for b in wanted_bases)
        + f" FROM {inner} WHERE minutes < {cap}"
    ).fetchnumpy()
    over = con.execute(
        "SELECT minutes, "
        + ", ".join(f"{cells[b]}::INT AS {b}" for b in wanted_bases)
        + f" FROM {inner} WHERE minutes >= {cap}"
    ).fetchnumpy()
    for base in wanted_bases:
        first, span = bases[base][0], spans[base]
        wanted = [p for p in periods if (p == "week") == (base == "week")]
        dense = np.bincount(index.pop(base), minlength=n_p * span * 2 * cap).reshape(
            n_p, span, 2, cap
        )
        o_cell, o_min = over[base].astype(np.int64), over["minutes"].astype(np.int64)
        o_type1 = o_cell % 2 == 1
        o_pid, o_slot = (o_cell // 2) // span, (o_cell // 2) % span
        for level in levels:
            owner = owners[level]
            n_owner = int(owner.max()) + 1
            by_owner = _sum_groups(dense, owner, n_owner, 0)  # [owner, slot, type1?, minute]
            codes = orgs.codes(level)
            for period in wanted:
                slot_of, labels = _period_slots(period, first, span)
                h2 = _sum_groups(by_owner, slot_of, len(labels), 1)
                names = np.repeat([codes.get(o, "ENGLAND") for o in range(n_owner)], len(labels))
                starts = np.array(labels * n_owner, dtype=object)
                subsets = {"type1": (h2[:, :, 1, :], o_type1)}
                subsets["all"] = (h2[:, :, 0, :] + subsets["type1"][0], np.ones_like(o_type1))
                for subset, (h, o_mask) in subsets.items():
                    og = owner[o_pid[o_mask]] * len(labels) + slot_of[o_slot[o_mask]]
                    q = dense_quantiles.quantiles(
                        h.reshape(-1, cap), og, o_min[o_mask], (0.5, 0.95)
                    )
                    prefix = "" if subset == "all" else "type1_"
                    frame = pd.DataFrame(
                        {
                            "level": level,
                            "granularity": period,
                            "code": names,
                            "period_start": starts,
                            prefix + "median_minutes": q[:, 0],
                            prefix + "p95_minutes": q[:, 1],
                        }
                    ).dropna(subset=[prefix + "median_minutes"])
                    times.append(frame.set_index(["level", "granularity", "code", "period_start"]))
                    if subset == "all":
                        window = h[:, :, lo : hi + 1].reshape(-1, hi - lo + 1)
                        rows, cols = np.nonzero(window)
                        near.append(
                            pd.DataFrame(
                                {
                                    "level": level,
                                    "granularity": period,
                                    "code": names[rows],
                                    "period_start": starts[rows],
                                    "minutes": cols + lo,
                                    "departures": window[rows, cols],
                                }
                            )
                        )
        del dense
    all_times = pd.concat(
        [pd.concat([t for t in times if "median_minutes" in t]),
         pd.concat([t for t in times if "type1_median_minutes" in t])],
        axis=1,
    ).reset_index()  # fmt: skip
    return all_times, pd.concat(near, ignore_index=True)


def _near_four_hours(
    enriched: ir.Table, orgs: Organisations, levels: Sequence[str], periods: Sequence[str]
) -> pd.DataFrame:
    """Spark: the near-four-hours distribution from week and month cubes built by the engine."""
    parts = []
    for base in ("week", "month"):
        wanted = [p for p in periods if (p == "week") == (base == "week")]
        if wanted:
            cube = near_four_hours(enriched, base).to_pandas()
            parts.append(roll_up(cube, orgs, ["departures"], levels, wanted, ["minutes"]))
    near = pd.concat(parts, ignore_index=True)
    return near.drop(columns=["period_end"])


def _sum_groups(arr: np.ndarray, labels: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Sum slices of `arr` along `axis` that share a label (0..n-1); identity when 1:1."""
    if len(labels) == n and np.array_equal(labels, np.arange(n)):
        return arr
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    summed = np.add.reduceat(np.take(arr, order, axis=axis), starts, axis=axis)
    out_shape = list(arr.shape)
    out_shape[axis] = n
    out = np.zeros(out_shape, dtype=arr.dtype)
    index: list[slice | np.ndarray] = [slice(None)] * arr.ndim
    index[axis] = sorted_labels[starts]
    out[tuple(index)] = summed
    return out


def _period_slots(period: str, first: int, span: int) -> tuple[np.ndarray, list[dt.date]]:
    """For each week or month slot, the index of its period, and each period's first day."""
    if period == "week":
        starts = [dt.date(1969, 12, 29) + dt.timedelta(weeks=int(first + i)) for i in range(span)]
        return np.arange(span), starts
    months = [dt.date((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(span)]
    if period == "month":
        return np.arange(span), months
    if period == "quarter":
        key = [dt.date(m.year, (m.month - 1) // 3 * 3 + 1, 1) for m in months]
    else:
        key = [dt.date(m.year - (m.month < 4), 4, 1) for m in months]
    labels = sorted(set(key))
    return np.array([labels.index(k) for k in key]), labels


def _sql_time_quantiles(
    engine: Engine, enriched: ir.Table, orgs: Organisations, levels, periods
) -> pd.DataFrame:
    """Spark: the same exact quantiles in SQL, every level and period in one GROUPING SETS."""
    ids = engine.backend.table("fourhour_orgs")
    joined = enriched.join(ids.select("pid", "sid", "rid"), "pid")
    day = joined.day
    fy_year = (day - ibis.interval(months=3)).year()
    t = joined.mutate(
        week_start=day.truncate("W"),
        month_start=day.truncate("M"),
        quarter_start=day.truncate("Q"),
        fy_start=ibis.date(fy_year, 4, 1),
    )
    type1 = t.type_group == 1
    keys = ["pid", "sid", "rid", *PERIOD_KEYS.values()]
    expr = t.group_by(keys).aggregate(
        median_minutes=t.minutes.quantile(0.5),
        p95_minutes=t.minutes.quantile(0.95),
        type1_median_minutes=t.minutes.quantile(0.5, where=type1),
        type1_p95_minutes=t.minutes.quantile(0.95, where=type1),
    )
    ibis_dialect = "pyspark" if engine.name == "spark" else engine.dialect
    tree = sqlglot.parse_one(str(ibis.to_sql(expr, dialect=ibis_dialect)), read=engine.dialect)
    select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    assert select is not None, "Ibis compiles every query to a SELECT"
    columns = {
        p.alias_or_name: (p.this if isinstance(p, exp.Alias) else p) for p in select.expressions
    }
    sets = []
    for level in levels:
        for period in periods:
            ks = [k for k in (LEVEL_IDS[level], PERIOD_KEYS[period]) if k]
            sets.append(exp.Tuple(expressions=[columns[k].copy() for k in ks]))
    select.set("group", exp.Group(grouping_sets=[exp.GroupingSets(expressions=sets)]))
    used = [
        k
        for k in keys
        if any(k in (LEVEL_IDS[lv], PERIOD_KEYS[p]) for lv in levels for p in periods)
    ]
    select.set(  # keys in no grouping set cannot be selected
        "expressions",
        [e for e in select.expressions if e.alias_or_name not in set(keys) - set(used)],
    )
    for k in used:  # GROUPING(k) is 1 where k was not among the set's keys
        flag = exp.Anonymous(this="GROUPING", expressions=[columns[k].copy()])
        select.expressions.append(exp.alias_(flag, f"g_{k}"))
    raw = engine.sql(tree.sql(dialect=engine.dialect))
    out = []
    for level in levels:
        for period in periods:
            ks = [k for k in (LEVEL_IDS[level], PERIOD_KEYS[period]) if k]
            mask = np.ones(len(raw), dtype=bool)
            for k in used:
                mask &= raw[f"g_{k}"].astype(int).to_numpy() == (0 if k in ks else 1)
            part = raw[mask].copy()
            id_col = LEVEL_IDS[level]
            part["level"], part["granularity"] = level, period
            part["code"] = part[id_col].map(orgs.codes(level)) if id_col else "ENGLAND"
            part["period_start"] = pd.to_datetime(part[PERIOD_KEYS[period]]).dt.date
            out.append(part[["level", "granularity", "code", "period_start", *QUANTILES]])
    return pd.concat(out, ignore_index=True)
