"""Measures from patient-level timestamps, defined once with Ibis, run on DuckDB or Spark.

Definitions (DOMAIN.md, "The four-hour standard"; this module is their only home for
patient-level data):

- time in department = departure - arrival, in whole minutes (rounded down);
- a **breach**: time in department over 240 minutes;
- **12 hours from arrival**: time in department over 720 minutes;
- a **12-hour decision-to-admit wait** ("trolley wait"): an admitted patient who left the
  department more than 720 minutes after the decision to admit; **4-12 hours**: over 240 and at
  most 720;
- department types as the returns publish them: type 1, type 2, and types 3 and 4 together;
- **median and 95th percentile** time in department: exact, interpolated (position q x (n-1)
  in the sorted minutes, as DuckDB's quantile_cont and Spark's percentile);
- every attendance counts in the period of its **arrival** (weeks end on Sunday, financial
  years start on 1 April); providers roll up to systems and regions with the mapping in force at
  the end of the latest day measured; England is every attendance.

How it runs: the per-attendance quantities (`enrich`) and the counts per provider per day
(`count_cube`) are Ibis expressions, executed by the engine over all the records; the small
daily cube (providers x days) then rolls up to every level and period here, the same for both
engines. Quantiles cannot roll up: Spark computes them in SQL (GROUPING SETS over every level
and period, compiled from the same Ibis definitions); DuckDB, the default, reads the
per-attendance minutes once and computes the identical exact quantiles from dense histograms
(`quantiles.py`), which is what makes a national year fast on one machine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp

from fourhour.errors import QueryError
from fourhour.measures import quantiles as dense_quantiles

BREACH_MINUTES = 240
TWELVE_HOURS = 720
LEVELS = ("provider", "system", "region", "national")
PERIODS = ("week", "month", "quarter", "fy")
LEVEL_IDS = {"provider": "pid", "system": "sid", "region": "rid", "national": None}
PERIOD_KEYS = {
    "week": "week_start",
    "month": "month_start",
    "quarter": "quarter_start",
    "fy": "fy_start",
}
DENSE_FROM_ROWS = 8_000_000  # below this, SQL quantiles are quicker than dense histograms
NEAR_FOUR_HOURS = (210, 270)  # minutes in the departures-by-minute distribution
TYPES = {"type1": (1,), "type2": (2,), "type3": (3, 4)}
COUNT_COLUMNS = (
    "attendances", "breaches", "over_12h_from_arrival", "admitted", "dta_4_12h", "dta_over_12h",
    "type1_attendances", "type1_breaches", "type1_admitted",
    "type2_attendances", "type2_breaches", "type2_admitted",
    "type3_attendances", "type3_breaches", "type3_admitted",
)  # fmt: skip
QUANTILES = {
    "median_minutes": ("all", 0.5),
    "p95_minutes": ("all", 0.95),
    "type1_median_minutes": ("type1", 0.5),
    "type1_p95_minutes": ("type1", 0.95),
}
# Each percentage or time and the count it rests on (for disclosure control).
BASES = {
    "performance_pct": "attendances",
    "type1_performance_pct": "type1_attendances",
    "type2_performance_pct": "type2_attendances",
    "type3_performance_pct": "type3_attendances",
    "median_minutes": "attendances",
    "p95_minutes": "attendances",
    "type1_median_minutes": "type1_attendances",
    "type1_p95_minutes": "type1_attendances",
}


# ------------------------------------------------------------------------------ definitions


def enrich(t: ir.Table, orgs: ir.Table) -> ir.Table:
    """The per-attendance quantities every measure is built from, with the provider's id."""
    seconds = t.departure.epoch_seconds() - t.arrival.epoch_seconds()
    dta_seconds = t.departure.epoch_seconds() - t.decision_to_admit.epoch_seconds()
    minutes = (seconds // 60).cast("int32")
    dta_wait = (dta_seconds // 60).cast("int32")
    joined = t.left_join(orgs, t.provider_code == orgs.org_code)
    admitted = joined.admitted
    return joined.select(
        pid=joined.pid.cast("int16"),
        day=joined.arrival.date(),
        minutes=minutes,
        type_group=ibis.cases(
            (joined.department_type == 1, 1), (joined.department_type == 2, 2), else_=3
        ).cast("int8"),
        admitted=admitted,
        breach=minutes > BREACH_MINUTES,
        over_12h=minutes > TWELVE_HOURS,
        dta_band=ibis.cases(
            (admitted & (dta_wait > TWELVE_HOURS), 2),
            (admitted & (dta_wait > BREACH_MINUTES), 1),
            else_=0,
        ).cast("int8"),
    )


def count_cube(t: ir.Table) -> ir.Table:
    """Attendances per provider, day and combination of the flags every count is made of."""
    keys = ["pid", "day", "type_group", "admitted", "breach", "over_12h", "dta_band"]
    return t.group_by(keys).aggregate(n=t.count())


def counts_from_cube(cube: pd.DataFrame) -> pd.DataFrame:
    """Each additive measure per cube row: the attendances that meet its definition."""
    n = cube["n"].astype("int64")
    out = pd.DataFrame({"pid": cube["pid"], "day": cube["day"]})
    out["attendances"] = n
    out["breaches"] = n * cube["breach"]
    out["over_12h_from_arrival"] = n * cube["over_12h"]
    out["admitted"] = n * cube["admitted"]
    out["dta_4_12h"] = n * (cube["dta_band"] == 1)
    out["dta_over_12h"] = n * (cube["dta_band"] == 2)
    for key, group in (("type1", 1), ("type2", 2), ("type3", 3)):
        of_type = cube["type_group"] == group
        out[f"{key}_attendances"] = n * of_type
        out[f"{key}_breaches"] = n * (of_type & cube["breach"])
        out[f"{key}_admitted"] = n * (of_type & cube["admitted"])
    return out


def near_four_hours(t: ir.Table, period: str) -> ir.Table:
    """Departures per provider, week or month of arrival, and minute in department, around the
    four-hour mark."""
    lo, hi = NEAR_FOUR_HOURS
    near = t.filter((t.minutes >= lo) & (t.minutes <= hi))
    start = near.day.truncate("W" if period == "week" else "M").name("day")
    return near.group_by(["pid", start, "minutes"]).aggregate(departures=near.count())


# ------------------------------------------------------------------------------- engines


@dataclass
class Engine:
    """Where the definitions run: 'duckdb' (Ibis's DuckDB backend) or 'spark'."""

    name: str
    backend: Any
    dialect: str

    def register(self, name: str, frame: pd.DataFrame) -> ir.Table:
        """A small pandas table (organisation ids) as a table the engine can join."""
        if self.name == "duckdb":
            self.backend.con.register(name, frame)
        else:
            self.backend._session.createDataFrame(frame).createOrReplaceTempView(name)
        return self.backend.table(name)

    def sql(self, query: str) -> pd.DataFrame:
        if self.name == "duckdb":
            return self.backend.con.sql(query).df()
        return self.backend._session.sql(query).toPandas()


def duckdb_engine(threads: int | None = None, memory_limit: str | None = None) -> Engine:
    """An in-process DuckDB, separate from the warehouse connection."""
    backend = ibis.duckdb.connect()
    if threads:
        backend.con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        backend.con.execute(f"SET memory_limit = '{memory_limit}'")
    return Engine("duckdb", backend, "duckdb")


def spark_engine(master: str) -> Engine:
    """Spark through Ibis: local mode by default, or any master (spark://, yarn, k8s://)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("fourhour")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.warehouse.dir", "/tmp/fourhour-spark-warehouse")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return Engine("spark", ibis.pyspark.connect(session), "spark")


# ------------------------------------------------------------------------------- compute


@dataclass
class Organisations:
    """Integer ids for providers, systems and regions (joins and groups stay cheap)."""

    frame: pd.DataFrame  # code, system_code, region_code, pid, sid, rid

    @classmethod
    def from_mapping(cls, mapping: pd.DataFrame) -> Organisations:
        f = mapping[["code", "system_code", "region_code"]].astype(str).copy()
        f = f.drop_duplicates("code").sort_values("code").reset_index(drop=True)
        f["pid"] = np.arange(len(f), dtype=np.int32)
        f["sid"] = pd.factorize(f["system_code"], sort=True)[0].astype(np.int32)
        f["rid"] = pd.factorize(f["region_code"], sort=True)[0].astype(np.int32)
        return cls(f)

    def codes(self, level: str) -> dict[int, str]:
        if level == "national":
            return {}
        key = LEVEL_IDS[level]
        col = {"pid": "code", "sid": "system_code", "rid": "region_code"}[key]
        return dict(zip(self.frame[key], self.frame[col], strict=True))


@dataclass
class PatientMeasures:
    table: pd.DataFrame  # one row per level x organisation x period, exact
    near_four_hours: pd.DataFrame  # level, code, granularity, period_start, minutes, departures
    engine: str
    timings: dict[str, float] = field(default_factory=dict)


def _period_starts(days: pd.Series) -> dict[str, pd.Series]:
    """The first day of each day's week, month, quarter and financial year (via its distinct
    days, so that a long cube costs no more than the calendar)."""
    distinct = pd.Series(pd.unique(days))
    d = pd.to_datetime(distinct)
    fy_year = d.dt.year - (d.dt.month < 4)
    table = {
        "week_start": (d - pd.to_timedelta(d.dt.weekday, unit="D")).dt.date,
        "month_start": d.dt.to_period("M").dt.start_time.dt.date,
        "quarter_start": d.dt.to_period("Q").dt.start_time.dt.date,
        "fy_start": pd.to_datetime(fy_year.astype(str) + "-04-01").dt.date,
    }
    return {k: days.map(dict(zip(distinct, v, strict=True))) for k, v in table.items()}


def _period_end(granularity: str, start: dt.date) -> dt.date:
    if granularity == "week":
        return start + dt.timedelta(days=6)
    months = {"month": 1, "quarter": 3, "fy": 12}[granularity]
    first = start.year * 12 + start.month - 1 + months
    return dt.date(first // 12, first % 12 + 1, 1) - dt.timedelta(days=1)


def roll_up(
    cube: pd.DataFrame,
    orgs: Organisations,
    values: Sequence[str],
    levels: Sequence[str],
    periods: Sequence[str],
    extra: Sequence[str] = (),
) -> pd.DataFrame:
    """Sum a per-provider, per-day cube to every level and period (counts add up exactly)."""
    cube = cube.groupby(["pid", "day", *extra], sort=False)[list(values)].sum().reset_index()
    ids = orgs.frame.set_index("pid")
    cube["sid"] = ids["sid"].reindex(cube["pid"]).to_numpy()
    cube["rid"] = ids["rid"].reindex(cube["pid"]).to_numpy()
    for key, starts in _period_starts(cube["day"]).items():
        cube[key] = starts.to_numpy()
    parts = []
    for level in levels:
        id_col = LEVEL_IDS[level]
        codes = orgs.codes(level)
        for period in periods:
            keys = [k for k in (id_col, PERIOD_KEYS[period], *extra) if k]
            g = cube.groupby(keys, sort=True)[list(values)].sum().reset_index()
            g.insert(0, "level", level)
            g.insert(1, "granularity", period)
            g.insert(2, "code", g[id_col].map(codes) if id_col else "ENGLAND")
            g = g.rename(columns={PERIOD_KEYS[period]: "period_start"})
            parts.append(g.drop(columns=[id_col] if id_col else []))
    out = pd.concat(parts, ignore_index=True)
    out["period_end"] = [
        _period_end(g, s) for g, s in zip(out["granularity"], out["period_start"], strict=True)
    ]
    return out


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
    index = [slice(None)] * arr.ndim
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
    import time

    for level in levels:
        if level not in LEVELS:
            raise QueryError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    for period in periods:
        if period not in PERIODS:
            raise QueryError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    orgs = Organisations.from_mapping(mapping)
    org_table = engine.register(
        "fourhour_orgs",
        orgs.frame.rename(columns={"code": "org_code"})[["org_code", "pid", "sid", "rid"]].astype(
            {"pid": "int16", "sid": "int16", "rid": "int16"}
        ),
    )
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
    cube = counts_from_cube(count_cube(enriched).to_pandas())
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
    table = table.merge(times, on=["level", "granularity", "code", "period_start"], how="left")
    for c in QUANTILES:
        table[c] = table[c].astype("float64")
    for prefix in ("", "type1_", "type2_", "type3_"):
        att, br = table[f"{prefix}attendances"], table[f"{prefix}breaches"]
        table[f"{prefix}performance_pct"] = ((att - br) / att * 100).where(att > 0)
    order = ["level", "granularity", "code", "period_start", "period_end"]
    table = table[order + [c for c in table.columns if c not in order]]
    table = table.sort_values(order[:4], key=_level_order).reset_index(drop=True)
    near["departures"] = near["departures"].astype("int64")
    near["minutes"] = near["minutes"].astype("int64")
    near["period_end"] = [
        _period_end(g, s) for g, s in zip(near["granularity"], near["period_start"], strict=True)
    ]
    near = near[["level", "granularity", "code", "period_start", "period_end", "minutes",
                 "departures"]]  # fmt: skip
    near = near.sort_values(
        ["level", "granularity", "code", "period_start", "minutes"], key=_level_order
    ).reset_index(drop=True)
    return PatientMeasures(table, near, engine.name, timings)


def _level_order(col: pd.Series) -> pd.Series:
    if col.name == "level":
        return col.map({lv: i for i, lv in enumerate(LEVELS)})
    if col.name == "granularity":
        return col.map({p: i for i, p in enumerate(PERIODS)})
    return col


def read_attendances(engine: Engine, files: Sequence[Any]) -> ir.Table:
    """The stored Parquet files as one Ibis table."""
    paths = [str(f) for f in files]
    if engine.name == "spark":
        engine.backend._session.read.parquet(*paths).createOrReplaceTempView("fourhour_attendances")
        return engine.backend.table("fourhour_attendances")
    return engine.backend.read_parquet(paths)


def organisation_mapping(wh: Any, files: Sequence[Any], engine: Engine) -> pd.DataFrame:
    """Each provider in the records with its system and region, as in force on the last day of
    arrivals (UNMAPPED where the warehouse knows none)."""
    from fourhour.warehouse.hierarchy import provider_parents

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
) -> PatientMeasures:
    """Every measure from the warehouse's patient store, on the given engine (exact)."""
    from fourhour.warehouse.patients import require_patients

    files = require_patients(wh)
    mapping = organisation_mapping(wh, files, engine)
    return compute(engine, read_attendances(engine, files), mapping, levels=levels, periods=periods)
