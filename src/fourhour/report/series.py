"""Time series for the board report: England, providers or systems, week by week or month by
month up to a period.

Counts are summed per organisation and period first, then divided, with the same aggregate
definitions as `fourhour.measures.performance` (all types only where every department type is
published). England months without provider returns fall back to NHS England's published
national totals, as the bulletin does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from fourhour.errors import InvalidInputError
from fourhour.measures.performance import STANDARD_PCT, _aggregates, _finish, england
from fourhour.measures.spc import DEFAULT_PRESET, SpcOptions, SpcResult, xmr
from fourhour.periods import PERIOD_END_FREQ, Period, month, week_ending
from fourhour.report.charts import as_float
from fourhour.warehouse import Warehouse
from fourhour.warehouse.hierarchy import parents_sql

HISTORY = {"week": 104, "month": 36}  # periods of history behind SPC charts and icons
TREND = {"week": 52, "month": 12}  # periods on the national trend chart
SPC_FREQ = PERIOD_END_FREQ  # pandas frequencies of the period ends (one definition)
LEVELS = ("provider", "system")


def performance_spc(
    frame: pd.DataFrame, column: str, granularity: str, preset: str = DEFAULT_PRESET
) -> SpcResult:
    """XmR charts of four-hour performance (`column`, percent) for every organisation in
    `frame` (code, period_end): the one definition of the SPC settings that the board report
    and the web share. Higher is better, the target is the 95% standard, the frequency is the
    period's, and `preset` chooses the rules (`fourhour.measures.spc.PRESETS`; an unknown one
    is an `SpcInputError`). Periods without a figure are left out."""
    options = SpcOptions(improvement="up", preset=preset)
    series = frame[["code", "period_end", column]].rename(columns={column: "value"})
    series = series.assign(value=as_float(series["value"]))
    series = series[np.isfinite(series["value"].to_numpy())]
    return xmr(series, freq=SPC_FREQ[granularity], options=options, target=STANDARD_PCT)


def periods_back(period: Period, count: int) -> list[Period]:
    """`count` periods of the same granularity ending with `period`, oldest first."""
    if period.granularity == "week":
        return [week_ending(period.end - dt.timedelta(weeks=k)) for k in range(count)][::-1]
    if period.granularity == "month":
        out, year, m = [], period.start.year, period.start.month
        for _ in range(count):
            out.append(month(year, m))
            year, m = (year, m - 1) if m > 1 else (year - 1, 12)
        return out[::-1]
    raise InvalidInputError(f"board reports are weekly or monthly, not by {period.granularity}")


def _window(period: Period, count: int) -> tuple[dt.date, dt.date]:
    first = periods_back(period, count)[0]
    return first.end, period.end


def england_series(
    wh: Warehouse,
    period: Period,
    count: int,
    *,
    sums: pd.DataFrame | None = None,
    england_of: Callable[[Warehouse, Period], pd.DataFrame] = england,
) -> pd.DataFrame:
    """England, one row per period (oldest first) of the `count` ending with `period`: counts
    and performance by type, as `fourhour.measures.england` gives for a single period.

    `sums` and `england_of` let the web's precompute pass what it computed in bulk: the
    finished sums of the window's provider returns by period end (`england_sums`), and
    England for one period."""
    start, end = _window(period, count)
    frame = england_sums(wh, period.granularity, start, end) if sums is None else sums
    frame["source"] = "provider returns"
    if period.granularity == "month":
        held = set(frame["period_end"].dt.date)
        extra = [
            england_of(wh, p).assign(period_end=pd.Timestamp(p.end))
            for p in periods_back(period, count)
            if p.end not in held
        ]
        extra = [e for e in extra if e["source"].iloc[0] == "published national totals"]
        if extra:
            published = pd.concat(extra, ignore_index=True)[frame.columns]
            # No provider returns in the window (months before April 2016): the totals alone.
            frame = published if frame.empty else pd.concat([frame, published], ignore_index=True)
    return frame.sort_values("period_end").reset_index(drop=True)


def england_sums(wh: Warehouse, granularity: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """England's provider returns of `granularity` summed by period end, `start` to `end`."""
    frame = wh.con.execute(
        f"""
        SELECT period_end, {_aggregates()} FROM provider_returns
        WHERE granularity = ? AND period_end BETWEEN ? AND ?
        GROUP BY period_end ORDER BY period_end
        """,
        [granularity, start, end],
    ).df()
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    return _finish(frame)


def org_series(
    wh: Warehouse,
    period: Period,
    count: int,
    *,
    level: str = "provider",
    codes: list[str] | None = None,
) -> pd.DataFrame:
    """Providers (or systems, with the mapping in force at the end of `period`), one row per
    organisation and period: code, period_end, counts and performance by type."""
    if level not in LEVELS:
        raise InvalidInputError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    start, end = _window(period, count)
    where = "r.granularity = ? AND r.period_end BETWEEN ? AND ?"
    params: list = [period.granularity, start, end]
    if level == "provider":
        key, join = "r.org_code", ""
    else:
        key = "p.parent_code"
        join = f"JOIN ({parents_sql('system', period.end)}) p ON p.child_code = r.org_code"
    if codes is not None:
        where += f" AND {key} IN (SELECT unnest(?))"
        params.append(list(codes))
    frame = wh.con.execute(
        f"""
        SELECT {key} AS code, r.period_end, {_aggregates()}
        FROM provider_returns r {join}
        WHERE {where}
        GROUP BY ALL ORDER BY 1, 2
        """,
        params,
    ).df()
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    return _finish(frame)


def last_year_values(
    series: pd.DataFrame, older: pd.DataFrame, column: str, granularity: str
) -> pd.Series:
    """For each row of `series`, `column` of `older` at the same period a year earlier: the
    week ending 364 days before, or the same month a year before (NaN where not held)."""
    ends = pd.to_datetime(series["period_end"])
    if granularity == "week":
        earlier = ends - pd.Timedelta(days=364)
    else:
        earlier = ends - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)
    lookup = older.set_index(pd.to_datetime(older["period_end"]))[column]
    lookup = lookup[~lookup.index.duplicated()]
    return pd.Series(lookup.reindex(earlier).to_numpy(), index=series.index)
