"""Measures from patient-level timestamps, defined once, run on DuckDB or Spark.

The definitions live in `patient_definitions.py`, the engines in `patient_engines.py`, the
time-in-department quantiles in `patient_times.py`; this module runs them: `compute` (any
engine, any Ibis table of attendances) and `measure_patients` (the warehouse's patient store).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from fourhour.errors import InvalidInputError, QueryError
from fourhour.measures.patient_definitions import (  # noqa: F401 - the public names
    BASES,
    BREACH_MINUTES,
    COUNT_COLUMNS,
    DENSE_FROM_ROWS,
    LEVEL_IDS,
    LEVELS,
    NEAR_FOUR_HOURS,
    PERIOD_KEYS,
    PERIODS,
    QUANTILES,
    TWELVE_HOURS,
    TYPES,
    Organisations,
    _period_end,
    daily_counts,
    enrich,
    near_four_hours,
    roll_up,
)
from fourhour.measures.patient_engines import (  # noqa: F401 - the public names
    Engine,
    duckdb_engine,
    read_attendances,
    spark_engine,
)
from fourhour.measures.patient_times import (
    _dense_times,
    _near_four_hours,
    _sql_time_quantiles,
)


@dataclass
class PatientMeasures:
    table: pd.DataFrame  # one row per level x organisation x period, exact
    near_four_hours: pd.DataFrame  # level, code, granularity, period_start, minutes, departures
    engine: str
    timings: dict[str, float] = field(default_factory=dict)


def compute(
    engine: Engine,
    attendances: ir.Table,
    mapping: pd.DataFrame,
    *,
    levels: Sequence[str] = LEVELS,
    periods: Sequence[str] = PERIODS,
    materialise: bool = True,
    quantile_method: str = "auto",
) -> PatientMeasures:
    """Every measure at every requested level and period, exact (disclosure comes later).

    `mapping` has one row per provider: code, system_code, region_code (UNMAPPED where none).
    """
    validate_request(levels, periods)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    orgs, org_table = register_orgs(engine, mapping)
    enriched = enrich(attendances, org_table)
    unknown = enriched.filter(enriched.pid.isnull()).count().to_pyarrow().as_py()
    if unknown:
        raise QueryError(f"{unknown:,} attendances have a provider missing from the mapping")
    if materialise and engine.name == "duckdb":
        enriched = engine.backend.create_table(
            "fourhour_enriched", enriched, temp=True, overwrite=True
        )
    elif materialise:
        enriched = enriched.cache()
    timings["load"] = time.perf_counter() - start
    start = time.perf_counter()
    cube = daily_counts(enriched).to_pandas()
    table = roll_up(cube, orgs, COUNT_COLUMNS, levels, periods)
    for c in COUNT_COLUMNS:
        table[c] = table[c].astype("int64")
    timings["counts"] = time.perf_counter() - start
    start = time.perf_counter()
    if quantile_method == "auto":  # dense histograms pay off for large volumes only
        rows = int(cube["attendances"].sum())
        dense = engine.name == "duckdb" and materialise and rows >= DENSE_FROM_ROWS
        quantile_method = "dense" if dense else "sql"
    if quantile_method == "dense":
        times, near = _dense_times(engine, enriched, orgs, levels, periods)
    else:
        times = _sql_time_quantiles(engine, enriched, orgs, levels, periods)
        near = _near_four_hours(enriched, orgs, levels, periods)
    timings["times"] = time.perf_counter() - start
    return finish(engine, table, times, near, timings)


def validate_request(levels: Sequence[str], periods: Sequence[str]) -> None:
    for level in levels:
        if level not in LEVELS:
            raise InvalidInputError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    for period in periods:
        if period not in PERIODS:
            raise InvalidInputError(
                f"unknown period {period!r}; expected one of {', '.join(PERIODS)}"
            )


def register_orgs(engine: Engine, mapping: pd.DataFrame) -> tuple[Organisations, ir.Table]:
    """Integer ids for the mapping's organisations, and the table of them on the engine."""
    orgs = Organisations.from_mapping(mapping)
    org_table = engine.register(
        "fourhour_orgs",
        orgs.frame.rename(columns={"code": "org_code"})[["org_code", "pid", "sid", "rid"]].astype(
            {"pid": "int16", "sid": "int16", "rid": "int16"}
        ),
    )
    return orgs, org_table


def finish(
    engine: Engine,
    table: pd.DataFrame,
    times: pd.DataFrame,
    near: pd.DataFrame,
    timings: dict[str, float],
) -> PatientMeasures:
    """The counts with their times and percentages, in the one order every engine gives."""
    table = table.merge(times, on=["level", "granularity", "code", "period_start"], how="left")
    for c in QUANTILES:
        table[c] = table[c].astype("float64")
    for prefix in ("", "type1_", "type2_", "type3_"):
        att, br = table[f"{prefix}attendances"], table[f"{prefix}breaches"]
        table[f"{prefix}performance_pct"] = ((att - br) / att * 100).where(att > 0)
    order = ["level", "granularity", "code", "period_start", "period_end"]
    table = table[order + [c for c in table.columns if c not in order]]
    table = _sorted(table, order[:4])
    near = _near_in_order(near)
    return PatientMeasures(table, near, engine.name, timings)


def _near_in_order(near: pd.DataFrame) -> pd.DataFrame:
    """The departures by minute with their period ends, in the order of `_sorted`, built a
    column at a time (the table is long: keep one copy of it at most)."""
    keys = ["level", "granularity", "code", "period_start", "minutes"]
    codes = [_codes(near[k]) for k in keys]
    order = np.lexsort(codes[::-1])
    g_codes, g_names = pd.factorize(near["granularity"])
    s_codes, s_values = pd.factorize(near["period_start"])
    pair = g_codes.astype(np.int64) * len(s_values) + s_codes
    uniq, inverse = np.unique(pair, return_inverse=True)
    ends = np.array(
        [_period_end(g_names[u // len(s_values)], s_values[u % len(s_values)]) for u in uniq],
        dtype=object,
    )
    columns = {}
    for k in ["level", "granularity", "code", "period_start"]:
        columns[k] = near[k].to_numpy()[order]
    columns["period_end"] = ends[inverse][order]
    columns["minutes"] = near["minutes"].to_numpy().astype("int64")[order]
    columns["departures"] = near["departures"].to_numpy().astype("int64")[order]
    return pd.DataFrame(columns)


def _codes(col: pd.Series) -> np.ndarray:
    col = _level_order(col)
    return pd.factorize(col, sort=True)[0] if col.dtype == object else col.to_numpy()


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows by level and period in the order of LEVELS and PERIODS, then the other keys (one
    stable sort on integer codes: quick for the long departures-by-minute table)."""
    codes = [_codes(frame[k]) for k in keys]
    return frame.iloc[np.lexsort(codes[::-1])].reset_index(drop=True)


def _level_order(col: pd.Series) -> pd.Series:
    if col.name == "level":
        return col.map({lv: i for i, lv in enumerate(LEVELS)})
    if col.name == "granularity":
        return col.map({p: i for i, p in enumerate(PERIODS)})
    return col


def organisation_mapping(
    wh: Any, files: Sequence[Any], engine: Engine, seen: tuple[list[str], Any] | None = None
) -> pd.DataFrame:
    """Each provider in the records with its system and region, as in force on the last day of
    arrivals (UNMAPPED where the warehouse knows none). `seen`: the providers and the last day
    of arrivals where already known (from the cells), else read from the records."""
    from fourhour.warehouse.hierarchy import provider_parents

    if seen is not None:
        codes, last = seen
        return provider_parents(wh, sorted(codes), last)[["code", "system_code", "region_code"]]
    con = engine.backend.con if engine.name == "duckdb" else None
    paths = [str(f) for f in files]
    if con is not None:
        codes, last = con.execute(
            "SELECT list(DISTINCT provider_code), max(arrival)::DATE FROM read_parquet(?)",
            [paths],
        ).fetchone()
    else:
        frame = engine.backend._session.read.parquet(*paths)
        codes = [r[0] for r in frame.select("provider_code").distinct().collect()]
        last = frame.agg({"arrival": "max"}).collect()[0][0].date()
    return provider_parents(wh, sorted(codes), last)[["code", "system_code", "region_code"]]


def measure_patients(
    wh: Any,
    engine: Engine,
    *,
    levels: Sequence[str] = LEVELS,
    periods: Sequence[str] = PERIODS,
    source: str = "cells",
) -> PatientMeasures:
    """Every measure from the warehouse's patient store, on the given engine (exact): a
    roll-up of the cells built at ingest (patient_cells.py), never re-reading the records;
    `source="records"` computes the identical table from the records instead."""
    from fourhour.measures.patient_cells import compute_from_cells, ensure_cells, providers_seen
    from fourhour.warehouse.patients import require_patients

    files = require_patients(wh)
    if source not in ("cells", "records"):
        raise QueryError(f"unknown source {source!r}; expected cells or records")
    if source == "cells":
        try:
            ensure_cells(files)  # stores made before cells existed: built once, then kept
        except OSError:  # a read-only store without cells: measured from the records
            source = "records"
    if source == "records":
        mapping = organisation_mapping(wh, files, engine)
        attendances = read_attendances(engine, files)
        return compute(engine, attendances, mapping, levels=levels, periods=periods)
    mapping = organisation_mapping(wh, files, engine, seen=providers_seen(engine, files))
    return compute_from_cells(engine, files, mapping, levels=levels, periods=periods)
