"""Patient-level measures: the definitions (DOMAIN.md, "The four-hour standard").

This module is the one home of what each patient-level measure counts:

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

The per-attendance quantities (`quantities`, `enrich`), the daily counts and the minute
histograms are Ibis expressions that either engine executes; `roll_up` sums the small table of
daily counts to every level and period, the same for both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from fourhour.measures.standard import LEVELS  # noqa: F401  (re-exported: one definition)
from fourhour.periods import GRANULARITIES as PERIODS  # noqa: F401
from fourhour.thresholds import BREACH_MINUTES, TWELVE_HOURS

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


def quantities(t: ir.Table) -> ir.Table:
    """The per-attendance quantities every measure is built from, by provider code."""
    seconds = t.departure.epoch_seconds() - t.arrival.epoch_seconds()
    dta_seconds = t.departure.epoch_seconds() - t.decision_to_admit.epoch_seconds()
    minutes = (seconds // 60).cast("int32")
    dta_wait = (dta_seconds // 60).cast("int32")
    admitted = t.admitted
    return t.select(
        provider_code=t.provider_code,
        day=t.arrival.date(),
        minutes=minutes,
        type_group=ibis.cases(
            (t.department_type == 1, 1), (t.department_type == 2, 2), else_=3
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


def enrich(t: ir.Table, orgs: ir.Table) -> ir.Table:
    """`quantities` with the provider's integer id (null where the mapping lacks it)."""
    q = quantities(t)
    joined = q.left_join(orgs, q.provider_code == orgs.org_code)
    return joined.select(joined.pid.cast("int16").name("pid"), *q.columns[1:])


def daily_counts(t: ir.Table, by: str = "pid") -> ir.Table:
    """Each additive measure per provider and day of arrival: the attendances that meet its
    definition (COUNT_COLUMNS, in that order). Counts add up exactly to every level and period."""
    counts = {
        "attendances": t.count(),
        "breaches": t.count(where=t.breach),
        "over_12h_from_arrival": t.count(where=t.over_12h),
        "admitted": t.count(where=t.admitted),
        "dta_4_12h": t.count(where=t.dta_band == 1),
        "dta_over_12h": t.count(where=t.dta_band == 2),
    }
    for key, group in (("type1", 1), ("type2", 2), ("type3", 3)):
        of_type = t.type_group == group
        counts[f"{key}_attendances"] = t.count(where=of_type)
        counts[f"{key}_breaches"] = t.count(where=of_type & t.breach)
        counts[f"{key}_admitted"] = t.count(where=of_type & t.admitted)
    assert tuple(counts) == COUNT_COLUMNS
    return t.group_by([by, "day"]).aggregate(**{k: v.cast("int64") for k, v in counts.items()})


def near_four_hours(t: ir.Table, period: str) -> ir.Table:
    """Departures per provider, week or month of arrival, and minute in department, around the
    four-hour mark."""
    lo, hi = NEAR_FOUR_HOURS
    near = t.filter((t.minutes >= lo) & (t.minutes <= hi))
    start = near.day.truncate("W" if period == "week" else "M").name("day")
    return near.group_by(["pid", start, "minutes"]).aggregate(departures=near.count())


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
        key = LEVEL_IDS[level]
        if key is None:  # national
            return {}
        col = {"pid": "code", "sid": "system_code", "rid": "region_code"}[key]
        return dict(zip(self.frame[key], self.frame[col], strict=True))


def _period_starts(days: np.ndarray) -> dict[str, np.ndarray]:
    """The first day of each day's week, month, quarter and financial year, as days since
    1 January 1970 (a Thursday), from days given the same way."""
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    m = months.astype(np.int64)  # months since January 1970

    def first_day(x: np.ndarray) -> np.ndarray:
        return x.astype("datetime64[D]").astype(np.int64)

    return {
        "week_start": days - (days + 3) % 7,  # Monday
        "month_start": first_day(months),
        "quarter_start": first_day(months - m % 3),
        "fy_start": first_day(months - (m - 3) % 12),  # 1 April
    }


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
    """Sum a per-provider, per-day cube to every level and period (counts add up exactly).
    Days are grouped as whole numbers (days since 1970), not date objects."""
    cube = cube.assign(
        day=pd.to_datetime(cube["day"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    )
    cube = cube.groupby(["pid", "day", *extra], sort=False)[list(values)].sum().reset_index()
    ids = orgs.frame.set_index("pid")
    cube["sid"] = ids["sid"].reindex(cube["pid"]).to_numpy()
    cube["rid"] = ids["rid"].reindex(cube["pid"]).to_numpy()
    for key, starts in _period_starts(cube["day"].to_numpy()).items():
        cube[key] = starts
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
    starts = out["period_start"].to_numpy()
    firsts = np.unique(starts)
    as_date = dict(zip(firsts, firsts.astype("datetime64[D]").astype(object), strict=True))
    out["period_start"] = [as_date[s] for s in starts]
    out["period_end"] = [
        _period_end(g, s) for g, s in zip(out["granularity"], out["period_start"], strict=True)
    ]
    return out
