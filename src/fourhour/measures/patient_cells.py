"""Patient-level measures as roll-ups of small tables ("cells") built once, at ingest.

Every measure is a sum of counts, or a quantile of whole minutes, which follows exactly from
the counts per minute. So each stored file of attendances gets two small Parquet tables beside
it in the patient store (`cells/`), built once from its own rows:

- **counts**: attendances per provider, day of arrival and combination of the flags every
  count is made of (`count_cube`, with the provider's code);
- **minutes**: attendances per provider, week-in-month (a week cut at month ends, so that it
  belongs to exactly one week and one month), department type group and whole minute in the
  department.

A new file adds only its own cells; a file already stored adds nothing. Measures then read the
cells only: counts roll up in `roll_up`; the minute histograms roll up to every level and
period, and the exact interpolated quantiles (position q x (n - 1) in the sorted minutes, as
DuckDB's quantile_cont and Spark's percentile) are read off cumulative counts, in Ibis, so the
same expressions run on DuckDB and Spark. No engine sorts the attendances, and no attendance
reaches Python.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from fourhour.errors import QueryError
from fourhour.measures.patient_definitions import (
    COUNT_COLUMNS,
    CUBE_FLAGS,
    LEVEL_IDS,
    LEVELS,
    NEAR_FOUR_HOURS,
    PERIODS,
    QUANTILES,
    Organisations,
    count_cube,
    counts_from_cube,
    quantities,
    roll_up,
)
from fourhour.measures.patient_engines import Engine, duckdb_engine

CELL_KINDS = ("counts", "minutes")
SUBSETS = {"all": "", "type1": "type1_"}  # quantile subsets and their column prefixes


def minute_cells(q: ir.Table) -> ir.Table:
    """Attendances per provider, week-in-month, type group and minute in the department."""
    return q.group_by(
        provider_code=q.provider_code,
        week_start=q.day.truncate("W"),
        month_start=q.day.truncate("M"),
        type_group=q.type_group,
        minutes=q.minutes,
    ).aggregate(n=q.count())


def cells_of(attendances: ir.Table) -> dict[str, ir.Table]:
    """Both cell tables of some attendances, as Ibis expressions (any engine)."""
    q = quantities(attendances)
    return {"counts": count_cube(q, by="provider_code"), "minutes": minute_cells(q)}


# ------------------------------------------------------------------------------ the store


def cell_path(attendance_file: Path, kind: str) -> Path:
    """cells/counts-000001.parquet for attendances-000001.parquet."""
    suffix = attendance_file.name.removeprefix("attendances-")
    return attendance_file.parent / "cells" / f"{kind}-{suffix}"


def build_cells(attendance_file: Path, engine: Engine | None = None) -> list[Path]:
    """Write the cells of one stored file (atomically; a file's cells are its own)."""
    engine = engine or duckdb_engine()
    table = engine.backend.read_parquet(str(attendance_file))
    written = []
    for kind, expr in cells_of(table).items():
        out = cell_path(attendance_file, kind)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        engine.backend.to_parquet(expr, str(tmp), compression="zstd")
        os.replace(tmp, out)
        written.append(out)
    return written


def ensure_cells(files: Sequence[Path], engine: Engine | None = None) -> list[Path]:
    """Build the cells of any stored file that lacks them (stores made before cells existed,
    or an interrupted ingest); returns the files whose cells were built."""
    built = []
    for f in files:
        if not all(cell_path(f, k).exists() for k in CELL_KINDS):
            engine = engine or duckdb_engine()
            build_cells(f, engine)
            built.append(f)
    return built


def read_cells(engine: Engine, files: Sequence[Path], kind: str) -> ir.Table:
    """The cells of the given stored files, as one table on the engine."""
    paths = [str(cell_path(Path(f), kind)) for f in files]
    if engine.name == "spark":
        view = f"fourhour_cells_{kind}"
        engine.backend._session.read.parquet(*paths).createOrReplaceTempView(view)
        return engine.backend.table(view)
    return engine.backend.read_parquet(paths)


# ------------------------------------------------------------------------------ roll-ups


def _materialise(engine: Engine, expr: ir.Table, name: str) -> ir.Table:
    if engine.name == "duckdb":
        return engine.backend.create_table(name, expr, temp=True, overwrite=True)
    return expr.cache()


def minute_histograms(
    engine: Engine, minutes: ir.Table, orgs: ir.Table, levels: Sequence[str], periods: Sequence[str]
) -> ir.Table:
    """Counts per level, organisation id, period, subset (all, type1) and minute: every level
    and period requested, in one table (provider histograms first, the rest from them)."""
    m = minutes.join(orgs, minutes.provider_code == orgs.org_code)
    m = m.select(
        "pid", "sid", "rid", "week_start", "month_start", "minutes", "n",
        type1=(m.type_group == 1).cast("int8"),
    )  # fmt: skip
    ids = ["pid", "sid", "rid"]
    by_period: dict[str, ir.Table] = {}
    if "week" in periods:
        week = m.group_by([*ids, m.week_start.name("period_start"), "type1", "minutes"])
        by_period["week"] = _materialise(engine, week.aggregate(n=m.n.sum()), "fourhour_hist_week")
    if any(p != "week" for p in periods):
        month_keys = [*ids, m.month_start.name("period_start"), "type1", "minutes"]
        month = m.group_by(month_keys).aggregate(n=m.n.sum())
        month = _materialise(engine, month, "fourhour_hist_month")
        by_period["month"] = month
        start = month.period_start
        fy_year = (start - ibis.interval(months=3)).year()
        for period, key in (("quarter", start.truncate("Q")), ("fy", ibis.date(fy_year, 4, 1))):
            if period in periods:
                by_period[period] = month.group_by(
                    [*ids, key.name("period_start"), "type1", "minutes"]
                ).aggregate(n=month.n.sum())
    parts = []
    for period in periods:
        h = by_period[period]
        for level in levels:
            id_col = LEVEL_IDS[level]
            owner = h[id_col].cast("int32") if id_col else ibis.literal(0, "int32")
            g = h.group_by(owner=owner, period_start=h.period_start.cast("date"), type1=h.type1,
                           minutes=h.minutes).aggregate(n=h.n.sum())  # fmt: skip
            labels = {"level": ibis.literal(level), "granularity": ibis.literal(period)}
            everyone = g.group_by(["owner", "period_start", "minutes"]).aggregate(n=g.n.sum())
            parts.append(everyone.mutate(subset=ibis.literal("all"), **labels))
            type1 = g.filter(g.type1 == 1).select("owner", "period_start", "minutes", "n")
            parts.append(type1.mutate(subset=ibis.literal("type1"), **labels))
    return ibis.union(*parts, distinct=False)


def quantiles_from_histograms(hist: ir.Table, qs: Sequence[float] = (0.5, 0.95)) -> ir.Table:
    """Per histogram (level, granularity, owner, period_start, subset): its size and, for each
    q, the lower and upper values either side of position q x (n - 1): the first minutes whose
    cumulative count exceeds floor and ceil of that position."""
    keys = ["level", "granularity", "owner", "period_start", "subset"]
    cum = hist.n.sum().over(ibis.window(group_by=keys, order_by="minutes", rows=(None, 0)))
    total = hist.n.sum().over(ibis.window(group_by=keys))
    h = hist.mutate(cum=cum, total=total)
    aggs: dict[str, Any] = {"total": h.total.max()}
    for j, q in enumerate(qs):
        pos = (h.total - 1).cast("float64") * q
        aggs[f"lo{j}"] = h.minutes.min(where=h.cum > pos.floor())
        aggs[f"hi{j}"] = h.minutes.min(where=h.cum > pos.ceil())
    return h.group_by(keys).aggregate(**aggs)


def interpolate(raw: pd.DataFrame, qs: Sequence[float] = (0.5, 0.95)) -> pd.DataFrame:
    """The interpolated quantile from the values either side (as quantiles.py)."""
    n = raw["total"].astype("int64").to_numpy()
    out = {}
    for j, q in enumerate(qs):
        pos = q * (n - 1)
        lo = np.floor(pos)
        v_lo = raw[f"lo{j}"].astype("float64").to_numpy()
        v_hi = raw[f"hi{j}"].astype("float64").to_numpy()
        out[j] = v_lo + (pos - lo) * (v_hi - v_lo)
    return pd.DataFrame(out, index=raw.index)


def _codes(frame: pd.DataFrame, orgs: Organisations) -> pd.Series:
    code = pd.Series("ENGLAND", index=frame.index, dtype=object)
    for level in LEVELS[:-1]:
        mask = frame["level"] == level
        if mask.any():
            code[mask] = frame.loc[mask, "owner"].astype(int).map(orgs.codes(level))
    return code


def times_from_cells(
    engine: Engine,
    minutes: ir.Table,
    orgs: Organisations,
    org_table: ir.Table,
    levels: Sequence[str],
    periods: Sequence[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exact median and 95th percentile (all types and type 1), and departures by minute near
    four hours, for every level and period, from the minute cells."""
    hist = _materialise(
        engine, minute_histograms(engine, minutes, org_table, levels, periods), "fourhour_hist"
    )
    raw = quantiles_from_histograms(hist).to_pandas()
    values = interpolate(raw)
    keys = ["level", "granularity", "code", "period_start"]
    raw["code"] = _codes(raw, orgs)
    raw["period_start"] = pd.to_datetime(raw["period_start"]).dt.date
    parts = []
    for subset, prefix in SUBSETS.items():
        mask = (raw["subset"] == subset).to_numpy()
        part = raw.loc[mask, keys].copy()
        part[prefix + "median_minutes"] = values.loc[mask, 0]
        part[prefix + "p95_minutes"] = values.loc[mask, 1]
        parts.append(part.set_index(keys))
    times = pd.concat(parts, axis=1).reset_index()
    lo, hi = NEAR_FOUR_HOURS
    near = hist.filter((hist.subset == "all") & hist.minutes.between(lo, hi))
    near = near.select("level", "granularity", "owner", "period_start", "minutes",
                       departures=near.n).to_pandas()  # fmt: skip
    near["code"] = _codes(near, orgs)
    near["period_start"] = pd.to_datetime(near["period_start"]).dt.date
    return times[[*keys, *QUANTILES]], near.drop(columns=["owner"])


def counts_from_cells(
    counts: ir.Table, orgs: Organisations, levels: Sequence[str], periods: Sequence[str]
) -> pd.DataFrame:
    """Every count at every level and period: the count cells (small) summed by `roll_up`."""
    cube = counts.group_by(["provider_code", "day", *CUBE_FLAGS]).aggregate(n=counts.n.sum())
    cube = cube.to_pandas()
    pid = dict(zip(orgs.frame["code"], orgs.frame["pid"], strict=True))
    cube["pid"] = cube["provider_code"].map(pid)
    if cube["pid"].isna().any():
        missing = int(cube.loc[cube["pid"].isna(), "n"].sum())
        raise QueryError(f"{missing:,} attendances have a provider missing from the mapping")
    cube["pid"] = cube["pid"].astype("int32")
    cube["day"] = pd.to_datetime(cube["day"]).dt.date
    table = roll_up(counts_from_cube(cube), orgs, COUNT_COLUMNS, levels, periods)
    for c in COUNT_COLUMNS:
        table[c] = table[c].astype("int64")
    return table


def compute_from_cells(
    engine: Engine,
    files: Sequence[Path],
    mapping: pd.DataFrame,
    *,
    levels: Sequence[str] = LEVELS,
    periods: Sequence[str] = PERIODS,
):
    """Every measure at every level and period from the cells of the stored files (exact):
    the same `PatientMeasures` as `compute` over the records."""
    from fourhour.measures.patient import finish, register_orgs, validate_request

    validate_request(levels, periods)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    orgs, org_table = register_orgs(engine, mapping)
    counts = read_cells(engine, files, "counts")
    minutes = read_cells(engine, files, "minutes")
    timings["load"] = time.perf_counter() - start
    start = time.perf_counter()
    table = counts_from_cells(counts, orgs, levels, periods)
    timings["counts"] = time.perf_counter() - start
    start = time.perf_counter()
    times, near = times_from_cells(engine, minutes, orgs, org_table, levels, periods)
    timings["times"] = time.perf_counter() - start
    return finish(engine, table, times, near, timings)
