"""Patient-level measures as roll-ups of small tables ("cells") built once, at ingest.

Every measure is a sum of counts, or a quantile of whole minutes in the department, which
follows exactly from how many attendances took each minute. So each stored file of attendances
gets three small Parquet tables beside it in the patient store (`cells/`), built once from its
own rows by the Ibis definitions (so either engine builds the same cells):

- **counts**: every count measure (COUNT_COLUMNS) per provider and day of arrival;
- **weeks**: attendances per provider, week of arrival, type 1 or not, and minute;
- **months**: the same per calendar month of arrival (weeks do not nest in months; quarters
  and financial years are unions of months).

Minutes are kept whole and uncapped. A cap with a tail bucket would be exact only where every
group's 95th percentile fell below it, which the data decides, not the definitions (type 1
departments' 95th percentile runs past 12 hours in winter); and the minutes beyond 12 hours
are few cells (about 3% beyond 24 hours in the synthetic year), so a cap would save little.
A cell table has one row per provider x week (or month) x type 1 or not x minute that occurs:
on the synthetic national year about a fifth of the rows for weeks and a sixteenth for months.

A new file adds only its own cells (a week that straddles two monthly files has cells in both,
summed when measured); a file already stored adds nothing.

Measuring reads only the cells. The engine (DuckDB or Spark, the same Ibis expressions) sums
the daily counts, and sums the minute cells per provider, week or month, type 1 or not, and
minute, a block of periods at a time, so memory stays bounded however many years are stored.
The counts roll up to every level and period in `roll_up`; each block's histograms roll up to
systems, regions and England, and to quarters and years, and the exact interpolated median and
95th percentile (position q x (n - 1) in the sorted minutes, as DuckDB's quantile_cont and
Spark's percentile) are read off their cumulative counts (`histogram_times`, quantiles.py),
with the departures by minute near four hours. No engine sorts the attendances, and no
attendance reaches Python.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from fourhour.errors import QueryError
from fourhour.measures import quantiles as dense_quantiles
from fourhour.measures.patient_definitions import (
    COUNT_COLUMNS,
    LEVELS,
    PERIODS,
    Organisations,
    daily_counts,
    quantities,
    roll_up,
)
from fourhour.measures.patient_engines import Engine, duckdb_engine
from fourhour.measures.patient_times import (
    FIRST_MONDAY,
    histogram_times,
    join_times,
    near_frame,
)

CELL_KINDS = ("counts", "weeks", "months")
WEEKS_PER_BLOCK = 26  # weeks of histograms held in memory at once
EPOCH = dt.date(1970, 1, 1)


def minute_cells(q: ir.Table, base: str) -> ir.Table:
    """Attendances per provider, week (or month) of arrival, type 1 or not, and minute. The
    period is a number, the same on every engine: weeks since Monday 29 December 1969, or
    year x 12 + month - 1."""
    if base == "week":
        period = (q.day.epoch_days() + (EPOCH - FIRST_MONDAY).days) // 7
    else:
        period = q.day.year() * 12 + q.day.month() - 1
    return q.group_by(
        provider_code=q.provider_code,
        period=period.cast("int32"),
        type1=q.type_group == 1,
        minutes=q.minutes,
    ).aggregate(n=q.count().cast("int64"))


def cells_of(attendances: ir.Table) -> dict[str, ir.Table]:
    """The three cell tables of some attendances, as Ibis expressions (any engine)."""
    return _cells(quantities(attendances))


def _cells(q: ir.Table) -> dict[str, ir.Table]:
    return {
        "counts": daily_counts(q, by="provider_code"),
        "weeks": minute_cells(q, "week"),
        "months": minute_cells(q, "month"),
    }


# ------------------------------------------------------------------------------ the store


def cell_path(attendance_file: Path, kind: str) -> Path:
    """cells/weeks-000001.parquet for attendances-000001.parquet."""
    suffix = attendance_file.name.removeprefix("attendances-")
    return attendance_file.parent / "cells" / f"{kind}-{suffix}"


def build_cells(attendance_file: Path, engine: Engine | None = None) -> list[Path]:
    """Write the cells of one stored file (each atomically; a file's cells are its own)."""
    engine = engine or duckdb_engine()
    table = engine.backend.read_parquet(str(attendance_file))
    if engine.name == "duckdb":  # read the records once for the three tables
        q = engine.backend.create_table(
            "fourhour_cell_source", quantities(table), temp=True, overwrite=True
        )
        exprs = _cells(q)
    else:
        exprs = cells_of(table)
    written = []
    for kind, expr in exprs.items():
        out = cell_path(attendance_file, kind)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        ordered = expr.order_by([c for c in expr.columns if c not in (*COUNT_COLUMNS, "n")])
        engine.backend.to_parquet(ordered, str(tmp), compression="zstd")
        os.replace(tmp, out)
        written.append(out)
    if engine.name == "duckdb":
        engine.backend.drop_table("fourhour_cell_source", force=True)
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


def providers_seen(engine: Engine, files: Sequence[Path]) -> tuple[list[str], dt.date]:
    """The providers with attendances and the last day of arrivals, from the daily counts."""
    counts = read_cells(engine, files, "counts")
    seen = engine.arrow(counts.group_by("provider_code").aggregate(last=counts.day.max()))
    return seen["provider_code"].to_pylist(), max(seen["last"].to_pylist())


# ------------------------------------------------------------------------------ roll-ups


def counts_from_cells(
    engine: Engine,
    counts: ir.Table,
    orgs: Organisations,
    levels: Sequence[str],
    periods: Sequence[str],
) -> pd.DataFrame:
    """Every count at every level and period: the daily counts (small) summed by `roll_up`."""
    daily = counts.group_by(["provider_code", "day"]).aggregate(
        **{c: counts[c].sum().cast("int64") for c in COUNT_COLUMNS}
    )
    cube = engine.arrow(daily).to_pandas()
    pid = dict(zip(orgs.frame["code"], orgs.frame["pid"], strict=True))
    cube["pid"] = cube["provider_code"].map(pid)
    if cube["pid"].isna().any():
        missing = int(cube.loc[cube["pid"].isna(), "attendances"].sum())
        raise QueryError(f"{missing:,} attendances have a provider missing from the mapping")
    cube["pid"] = cube["pid"].astype("int32")
    table = roll_up(cube.drop(columns=["provider_code"]), orgs, COUNT_COLUMNS, levels, periods)
    for c in COUNT_COLUMNS:
        table[c] = table[c].astype("int64")
    return table


def provider_histograms(cells: ir.Table, org_table: ir.Table, first: int, end: int) -> ir.Table:
    """The minute cells of the periods numbered [first, end), from every file, with the
    number of their histogram: `cell` = (provider id x (end - first) + period - first) x 2 +
    type 1. A week straddling two files has cells in both; the histograms sum them."""
    c = cells.filter((cells.period >= first) & (cells.period < end))
    j = c.join(org_table, c.provider_code == org_table.org_code)
    cell = (j.pid.cast("int64") * (end - first) + (j.period - first)) * 2 + j.type1.cast("int64")
    return j.select(cell=cell, minutes=j.minutes, n=j.n)


def _slot(base: str, day: dt.date) -> int:
    """The number of the week or month a day lies in (as `minute_cells`)."""
    if base == "week":
        return (day - FIRST_MONDAY).days // 7
    return day.year * 12 + day.month - 1


def _blocks(base: str, first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    """Blocks of period numbers [from, to): WEEKS_PER_BLOCK weeks, or the months of one
    financial year (so that quarters and years lie within a block)."""
    if base == "week":
        lo, hi = _slot("week", first), _slot("week", last)
        return [(s, s + WEEKS_PER_BLOCK) for s in range(lo, hi + 1, WEEKS_PER_BLOCK)]
    fy = first.year - (first.month < 4)
    out = []
    while dt.date(fy, 4, 1) <= last:
        out.append((_slot("month", dt.date(fy, 4, 1)), _slot("month", dt.date(fy + 1, 4, 1))))
        fy += 1
    return out


def times_from_cells(
    engine: Engine,
    files: Sequence[Path],
    orgs: Organisations,
    org_table: ir.Table,
    levels: Sequence[str],
    periods: Sequence[str],
    span: tuple[dt.date, dt.date],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exact median and 95th percentile (all types and type 1), and departures by minute near
    four hours, for every level and period, from the minute cells, a block at a time."""
    cap = dense_quantiles.CAP
    n_p = len(orgs.frame)
    times: list[dict[str, Any]] = []
    near: list[dict[str, Any]] = []
    for base, kind in (("week", "weeks"), ("month", "months")):
        wanted = [p for p in periods if (p == "week") == (base == "week")]
        if not wanted:
            continue
        cells = read_cells(engine, files, kind)
        for first, end in _blocks(base, *span):
            h = engine.arrow(provider_histograms(cells, org_table, first, end))
            cell, minutes, n = (h[c].to_numpy() for c in ("cell", "minutes", "n"))
            del h
            inside = minutes < cap
            dense = np.bincount(
                cell[inside] * cap + minutes[inside],
                weights=n[inside],
                minlength=n_p * (end - first) * 2 * cap,
            )
            spill = ~inside
            histogram_times(
                dense.reshape(n_p, end - first, 2, cap), cell[spill], minutes[spill], n[spill],
                base_first=first, orgs=orgs, levels=levels, periods=wanted, times=times, near=near,
            )  # fmt: skip
            del dense
    return join_times(times), near_frame(near)


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
    from fourhour.measures import patient

    patient.validate_request(levels, periods)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    orgs, org_table = patient.register_orgs(engine, mapping)
    counts = read_cells(engine, files, "counts")
    timings["load"] = time.perf_counter() - start
    start = time.perf_counter()
    table = counts_from_cells(engine, counts, orgs, levels, periods)
    timings["counts"] = time.perf_counter() - start
    start = time.perf_counter()
    days = pd.to_datetime(pd.Series(table["period_start"]))
    span = (days.min().date(), pd.to_datetime(table["period_end"]).max().date())
    times, near = times_from_cells(engine, files, orgs, org_table, levels, periods, span)
    timings["times"] = time.perf_counter() - start
    return patient.finish(engine, table, times, near, timings)
