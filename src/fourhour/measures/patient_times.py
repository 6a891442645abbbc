"""Time in department: exact quantiles and the near-four-hours distribution, every level and
period at once. From the cells built at ingest (patient_cells.py), or from the records: Spark
(and DuckDB for smaller volumes) computes them in SQL with GROUPING SETS compiled from the Ibis
definitions; DuckDB above DENSE_FROM_ROWS counts the records per provider, week or month, type
1 or not and minute, as the cells do, and reads the identical quantiles off those counts
(`histogram_times`, quantiles.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

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

FIRST_MONDAY = dt.date(1969, 12, 29)  # week number 0


def _dense_times(
    engine: Engine,
    enriched: ir.Table,
    orgs: Organisations,
    levels: Sequence[str],
    periods: Sequence[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DuckDB, from the records: the same exact quantiles and near-four-hours distribution as
    from the cells built at ingest (patient_cells.py): DuckDB counts the attendances per
    provider, week or month, type 1 or not and minute, and `histogram_times` reads them off."""
    con = engine.backend.con
    name = "fourhour_enriched"  # materialised by compute()
    d0, d1 = con.execute(f'SELECT min(day), max(day) FROM "{name}"').fetchone()
    bases = {
        "week": (
            (d0 - FIRST_MONDAY).days // 7,
            (d1 - FIRST_MONDAY).days // 7,
            f"(day - DATE '{FIRST_MONDAY}')::INT // 7",
        ),
        "month": (
            d0.year * 12 + d0.month - 1,
            d1.year * 12 + d1.month - 1,
            "year(day) * 12 + month(day) - 1",
        ),
    }
    times: list[dict[str, Any]] = []
    near: list[dict[str, Any]] = []
    cap = dense_quantiles.CAP
    for base, (first, last, sql) in bases.items():
        wanted = [p for p in periods if (p == "week") == (base == "week")]
        if not wanted:
            continue
        width = last - first + 1
        cell = f"((pid * {width} + {sql} - {first}) * 2 + (type_group = 1)::INT)::BIGINT"
        inside = con.execute(
            f'SELECT {cell} * {cap} + minutes AS key, count(*) AS n FROM "{name}" '
            f"WHERE minutes < {cap} GROUP BY ALL"
        ).fetchnumpy()
        spill = con.execute(
            f'SELECT {cell} AS cell, minutes, count(*) AS n FROM "{name}" '
            f"WHERE minutes >= {cap} GROUP BY ALL"
        ).fetchnumpy()
        dense = np.bincount(
            inside["key"], weights=inside["n"], minlength=len(orgs.frame) * width * 2 * cap
        )
        histogram_times(
            dense.reshape(-1, width, 2, cap),
            *(np.asarray(spill[c]) for c in ("cell", "minutes", "n")),
            base_first=first, orgs=orgs, levels=levels, periods=wanted, times=times, near=near,
        )  # fmt: skip
    return join_times(times), near_frame(near)


def histogram_times(
    dense: np.ndarray,
    s_cell: np.ndarray,
    s_min: np.ndarray,
    s_n: np.ndarray,
    *,
    base_first: int,
    orgs: Organisations,
    levels: Sequence[str],
    periods: Sequence[str],
    times: list[dict[str, Any]],
    near: list[dict[str, Any]],
) -> None:
    """Exact quantiles and departures near four hours, every level and period, from counts.

    `dense[pid, slot, type1, minute]` counts the attendances of provider id `pid`, in week (or
    month) `base_first + slot` (weeks since Monday 29 December 1969, or year x 12 + month - 1),
    type 1 or not, who spent `minute` (below quantiles.CAP) in the department; the others are
    `s_n` attendances of `s_min` minutes in cell `(pid x width + slot) x 2 + type1`. Each
    level, period and subset (all types, type 1) is one histogram per group, read off by
    quantiles.py. Appends to `times` and `near` pieces of columns (`join_times` and
    `near_frame` make each one frame)."""
    n_p, width, _, cap = dense.shape
    owners = {
        "provider": np.arange(n_p),
        "system": orgs.frame["sid"].to_numpy(),
        "region": orgs.frame["rid"].to_numpy(),
        "national": np.zeros(n_p, dtype=np.int64),
    }
    lo, hi = NEAR_FOUR_HOURS
    s_cell = s_cell.astype(np.int64)
    s_type1 = s_cell % 2 == 1
    s_pid, s_slot = (s_cell // 2) // width, (s_cell // 2) % width
    subsets = {  # (provider x slot x minute, which spilled cells)
        "": (dense[:, :, 0, :] + dense[:, :, 1, :], np.ones(len(s_cell), dtype=bool)),
        "type1_": (dense[:, :, 1, :], s_type1),
    }
    for level in levels:
        owner = owners[level].astype(np.int64)
        n_owner = int(owner.max()) + 1
        codes = orgs.codes(level)
        for prefix, (by_provider, spilled) in subsets.items():
            by_owner = _sum_rows(by_provider, owner, n_owner)  # [owner, slot, minute]
            for period in periods:
                slot_of, labels = _period_slots(period, base_first, width)
                h = _sum_rows(by_owner, slot_of, len(labels), axis=1).reshape(-1, cap)
                names = np.repeat([codes.get(o, "ENGLAND") for o in range(n_owner)], len(labels))
                starts = np.array(labels * n_owner, dtype=object)
                group = owner[s_pid[spilled]] * len(labels) + slot_of[s_slot[spilled]]
                q = dense_quantiles.quantiles(h, group, s_min[spilled], (0.5, 0.95), s_n[spilled])
                keep = ~np.isnan(q[:, 0])
                times.append(
                    {
                        "prefix": prefix,
                        "level": level,
                        "granularity": period,
                        "code": names[keep],
                        "period_start": starts[keep],
                        "median_minutes": q[keep, 0],
                        "p95_minutes": q[keep, 1],
                    }
                )
                if prefix == "":
                    window = h[:, lo : hi + 1]
                    rows, cols = np.nonzero(window)
                    near.append(
                        {
                            "level": level,
                            "granularity": period,
                            "code": names[rows],
                            "period_start": starts[rows],
                            "minutes": cols + lo,
                            "departures": window[rows, cols],
                        }
                    )


def _sum_rows(arr: np.ndarray, labels: np.ndarray, n: int, axis: int = 0) -> np.ndarray:
    """Sum the slices of `arr` along `axis` (0 or 1) that share a label (0..n-1)."""
    if len(labels) == n and np.array_equal(labels, np.arange(n)):
        return arr
    shape = list(arr.shape)
    shape[axis] = n
    out = np.zeros(shape, dtype=arr.dtype)
    for i, label in enumerate(labels):
        if axis == 0:
            out[label] += arr[i]
        else:
            out[:, label] += arr[:, i]
    return out


def _columns(pieces: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """One frame from pieces of columns: a piece's `level` and `granularity` are one value
    for all its rows, its other columns arrays of equal length."""
    sizes = [len(p["code"]) for p in pieces]
    data: dict[str, Any] = {}
    for c in columns:
        if c in ("level", "granularity"):
            data[c] = np.repeat(np.array([p[c] for p in pieces], dtype=object), sizes)
        else:
            data[c] = np.concatenate([p[c] for p in pieces]) if pieces else np.array([])
    return pd.DataFrame(data)


KEYS = ["level", "granularity", "code", "period_start"]


def join_times(times: list[dict[str, Any]]) -> pd.DataFrame:
    """The all-types and type 1 quantiles (`histogram_times`' pieces) side by side, one row
    per group."""
    parts = []
    for prefix in ("", "type1_"):
        frame = _columns(
            [t for t in times if t["prefix"] == prefix], [*KEYS, "median_minutes", "p95_minutes"]
        )
        names = {c: prefix + c for c in ("median_minutes", "p95_minutes")}
        parts.append(frame.rename(columns=names).set_index(KEYS))
    return pd.concat(parts, axis=1).reset_index()


def near_frame(near: list[dict[str, Any]]) -> pd.DataFrame:
    """Departures by minute near four hours (`histogram_times`' pieces), one frame."""
    return _columns(near, [*KEYS, "minutes", "departures"])


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


def _period_slots(period: str, first: int, span: int) -> tuple[np.ndarray, list[dt.date]]:
    """For each week or month slot, the index of its period, and each period's first day."""
    if period == "week":
        starts = [FIRST_MONDAY + dt.timedelta(weeks=int(first + i)) for i in range(span)]
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
