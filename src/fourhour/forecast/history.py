"""The history a forecast may use: provider series up to the origin, never a row after it.

Every series is read with one filter, `period_end <= origin`, so a forecast (and each origin
of a backtest) sees only what was published for periods up to its origin. Trusts are grouped
into systems and regions with the organisation mapping in force at the origin: a forecast
assumes the hierarchy of its origin, and the history of each system is the sum of the
histories of the trusts it holds at the origin, so that trusts add up at every period.

Returns have gaps (months no file covers). Each measure uses the latest run of periods whose
gaps are at most MAX_GAP periods long; inside that run a missing value is filled with the
value one season earlier (else by linear interpolation), and the fills are counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fourhour.errors import InvalidInputError, QueryError
from fourhour.warehouse import Warehouse
from fourhour.warehouse.connection import one_row
from fourhour.warehouse.hierarchy import provider_parents

SEASON = {"month": 12, "week": 52}
FREQ = {"month": "ME", "week": "W-SUN"}
# Shortest history a series may have: two years of months; a year and a half of weeks.
MIN_HISTORY = {"month": 24, "week": 78}
MAX_GAP = {"month": 12, "week": 8}  # longer gaps end the usable history
TYPES = ("type1", "type2", "type3")
COUNT_MEASURES = tuple(f"att_{t}" for t in TYPES) + tuple(f"br_{t}" for t in TYPES)
MEASURES = (*COUNT_MEASURES, "dta_over_12h")
MEASURE_NAMES = {
    "att_type1": "type 1 attendances",
    "att_type2": "type 2 attendances",
    "att_type3": "type 3/4 attendances",
    "br_type1": "type 1 attendances over four hours",
    "br_type2": "type 2 attendances over four hours",
    "br_type3": "type 3/4 attendances over four hours",
    "dta_over_12h": "12-hour waits from decision to admit",
}
ENGLAND = "ENGLAND"


class ForecastError(QueryError):
    """A forecast cannot be made: too short a history, no data at the origin, bad options."""


@dataclass
class History:
    """Trust-level series (bottom of the hierarchy) and how trusts roll up at the origin."""

    granularity: str
    origin: dt.date
    source: str  # "provider returns" | "published national totals"
    # measure -> wide frame (index: period_end Timestamps, columns: trust codes), no NaN
    series: dict[str, pd.DataFrame]
    parents: pd.DataFrame  # code, system_code, system_name, region_code, region_name
    names: dict[str, str]
    filled: dict[str, int] = field(default_factory=dict)  # measure -> values filled in gaps
    notes: list[str] = field(default_factory=list)

    @property
    def season(self) -> int:
        return SEASON[self.granularity]

    def trusts(self) -> list[str]:
        return list(self.parents["code"])


def latest_origin(wh: Warehouse, granularity: str, source: str = "providers") -> dt.date:
    table, extra = (
        ("provider_returns", "")
        if source == "providers"
        else ("published_totals", f" AND area = '{ENGLAND}'")
    )
    row = one_row(
        wh.con.execute(
            f"SELECT max(period_end) FROM {table} WHERE granularity = ?{extra}", [granularity]
        )
    )
    if row[0] is None:
        what = "provider returns" if source == "providers" else "national totals"
        raise ForecastError(
            f"no {granularity}ly {what} in the warehouse",
            hint="ingest some returns first (fourhour ingest FILE...)",
        )
    return row[0]


def _periods(granularity: str, end: dt.date, n: int) -> pd.DatetimeIndex:
    return pd.date_range(end=pd.Timestamp(end), periods=n, freq=FREQ[granularity])


def usable_run(present: pd.Series, granularity: str) -> pd.Series:
    """The latest run of periods (ending at the last) whose gaps are at most MAX_GAP long."""
    flags = present.to_numpy()
    if not flags.any():
        return present & False
    last = int(np.flatnonzero(flags)[-1])
    start, gap = last, 0
    for i in range(last, -1, -1):
        if flags[i]:
            start, gap = i, 0
        else:
            gap += 1
            if gap > MAX_GAP[granularity]:
                break
    keep = np.zeros(len(flags), dtype=bool)
    keep[start : last + 1] = True
    return pd.Series(keep, index=present.index)


def fill_gaps(wide: pd.DataFrame, season: int) -> tuple[pd.DataFrame, int]:
    """Fill NaN with the value a season earlier, else by linear interpolation (then edges)."""
    missing = int(wide.isna().sum().sum())
    if not missing:
        return wide, 0
    out = wide.copy()
    for i in range(season, len(out)):
        row = out.iloc[i]
        if row.isna().any():
            out.iloc[i] = row.fillna(out.iloc[i - season])
    out = out.interpolate(limit_direction="both")
    return out.fillna(0.0), missing


def load_history(
    wh: Warehouse,
    granularity: str,
    origin: dt.date | None = None,
    *,
    source: str = "providers",
) -> History:
    """Series up to and including `origin` (default: the latest period in the warehouse)."""
    if granularity not in SEASON:
        raise InvalidInputError(f"unknown granularity {granularity!r}; expected month or week")
    if origin is None:
        origin = latest_origin(wh, granularity, source)
    if source == "england":
        return _england_history(wh, granularity, origin)
    cols = ", ".join(MEASURES)
    rows = wh.con.execute(
        f"""
        SELECT period_end, org_code, {cols} FROM provider_returns
        WHERE granularity = ? AND period_end <= ?
        """,
        [granularity, origin],
    ).df()
    if rows.empty or pd.Timestamp(origin) not in set(pd.to_datetime(rows["period_end"])):
        raise ForecastError(
            f"no {granularity}ly provider returns for the period ending {origin}",
            hint="fourhour warehouse info shows which periods are loaded; choose --origin there",
        )
    rows["period_end"] = pd.to_datetime(rows["period_end"])
    # The trusts of the forecast: those with returns at the origin.
    trusts = sorted(rows.loc[rows["period_end"] == pd.Timestamp(origin), "org_code"].unique())
    rows = rows[rows["org_code"].isin(trusts)]
    first = rows["period_end"].min()
    span = len(pd.date_range(first, pd.Timestamp(origin), freq=FREQ[granularity]))
    index = _periods(granularity, origin, span)
    history = History(granularity, origin, "provider returns", {}, pd.DataFrame(), {}, notes=[])
    for measure in MEASURES:
        wide = rows.pivot(index="period_end", columns="org_code", values=measure)
        wide = wide.reindex(index=index, columns=trusts).astype(float)
        published = wide.notna().any(axis=1)
        run = usable_run(published, granularity)
        wide = wide[run.to_numpy()]
        if len(wide) < MIN_HISTORY[granularity]:
            if measure.startswith("att_type1") or measure.startswith("br_type1"):
                raise ForecastError(
                    f"England {MEASURE_NAMES[measure]}: {len(wide)} {granularity}s of usable "
                    f"history up to {origin}; at least {MIN_HISTORY[granularity]} needed",
                    hint="ingest the returns before it, or choose an --origin with two years of "
                    "returns before it",
                )
            if published.iloc[-1]:
                history.notes.append(
                    f"{MEASURE_NAMES[measure]} not forecast: published for only {len(wide)} "
                    f"{granularity}s up to {origin}"
                )
            continue
        wide, filled = fill_gaps(wide, SEASON[granularity])
        history.series[measure] = wide
        history.filled[measure] = filled
    short = _short_trusts(rows, history, granularity)
    if short:
        history.notes.append(
            f"{len(short)} trust(s) left out, with under {MIN_HISTORY[granularity]} "
            f"{granularity}s of returns: {', '.join(short)}"
        )
        keep = [t for t in trusts if t not in short]
        for measure, wide in history.series.items():
            history.series[measure] = wide[keep]
        trusts = keep
    history.parents = provider_parents(wh, trusts, origin)
    history.names = _names(wh, history.parents)
    return history


def _short_trusts(rows: pd.DataFrame, history: History, granularity: str) -> list[str]:
    """Trusts observed in fewer than MIN_HISTORY periods of the type 1 attendance window."""
    if "att_type1" not in history.series:
        return []
    window = history.series["att_type1"].index
    seen = rows[rows["period_end"].isin(window) & rows["att_type1"].notna()]
    counts = seen.groupby("org_code")["period_end"].nunique()
    counts = counts.reindex(history.series["att_type1"].columns, fill_value=0)
    return sorted(counts[counts < MIN_HISTORY[granularity]].index)


def _names(wh: Warehouse, parents: pd.DataFrame) -> dict[str, str]:
    codes = list(parents["code"])
    known = dict(
        wh.con.execute(
            "SELECT code, name FROM organisations WHERE code IN (SELECT unnest(?))", [codes]
        ).fetchall()
    )
    names = {c: known.get(c) or c for c in codes}
    for level in ("system", "region"):
        for code, name in zip(parents[f"{level}_code"], parents[f"{level}_name"], strict=True):
            names[code] = name
    names[ENGLAND] = "England"
    return names


def _england_history(wh: Warehouse, granularity: str, origin: dt.date) -> History:
    """England only, from NHS England's published national totals (2010 onwards)."""
    rows = wh.con.execute(
        f"""
        SELECT period_end, {", ".join(MEASURES)} FROM published_totals
        WHERE area = '{ENGLAND}' AND granularity = ? AND period_end <= ?
        ORDER BY period_end
        """,
        [granularity, origin],
    ).df()
    if rows.empty or pd.Timestamp(origin) != pd.Timestamp(rows["period_end"].iloc[-1]):
        raise ForecastError(f"no published national totals for the period ending {origin}")
    rows["period_end"] = pd.to_datetime(rows["period_end"])
    index = pd.date_range(rows["period_end"].min(), pd.Timestamp(origin), freq=FREQ[granularity])
    rows = rows.set_index("period_end").reindex(index)
    history = History(
        granularity,
        origin,
        "published national totals",
        {},
        pd.DataFrame(
            {
                "code": [ENGLAND],
                "system_code": [ENGLAND],
                "system_name": ["England"],
                "region_code": [ENGLAND],
                "region_name": ["England"],
            }
        ),
        {ENGLAND: "England"},
    )
    for measure in MEASURES:
        wide = rows[[measure]].rename(columns={measure: ENGLAND}).astype(float)
        run = usable_run(wide[ENGLAND].notna(), granularity)
        wide = wide[run.to_numpy()]
        if len(wide) < MIN_HISTORY[granularity]:
            if measure in ("att_type1", "br_type1"):
                raise ForecastError(
                    f"England {MEASURE_NAMES[measure]}: {len(wide)} {granularity}s of "
                    f"published totals up to {origin}; at least {MIN_HISTORY[granularity]} needed"
                )
            continue
        wide, filled = fill_gaps(wide, SEASON[granularity])
        history.series[measure] = wide
        history.filled[measure] = filled
    return history
