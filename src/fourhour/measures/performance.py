"""Four-hour performance, defined once.

Performance = (attendances - breaches) / attendances, where a breach is an attendance over 240
minutes from arrival to admission, transfer or discharge. Whenever departments, providers,
systems or weeks are combined, counts are summed first and divided last; percentages are
never averaged. "All types" needs every department type: where a source publishes type 1 only
(the 2010-2014 weekly tracker), all-types figures are left empty rather than understated.

Quarters and financial years are built from monthly returns, or from weekly returns (weeks
ending within the period) where no monthly returns exist. England figures come from provider
returns; where none exist for a period, from NHS England's published national totals.
"""

from __future__ import annotations

import pandas as pd

from fourhour.errors import QueryError
from fourhour.periods import Period
from fourhour.warehouse import Warehouse
from fourhour.warehouse.hierarchy import (
    UNMAPPED,
    hierarchy_notes,
    names_sql,
    parents_sql,
    provider_parents,
)

STANDARD_PCT = 95.0  # the operational standard: 95% within four hours
THRESHOLD_PCT = 80.0  # the floor commentators count providers against
BREACH_MINUTES = 240
LEVELS = ("provider", "system", "region", "national")
TYPE_KEYS = ("all_types", "type1", "type2", "type3")


def _source_rows_sql(period: Period, granularity: str) -> str:
    if period.granularity in ("week", "month"):
        return (
            f"SELECT * FROM provider_returns WHERE granularity = '{period.granularity}' "
            f"AND period_end = DATE '{period.end}'"
        )
    return (
        f"SELECT * FROM provider_returns WHERE granularity = '{granularity}' "
        f"AND period_end BETWEEN DATE '{period.start}' AND DATE '{period.end}'"
    )


def _rows_sql(wh: Warehouse, period: Period) -> str:
    """Provider rows that make up `period` (monthly preferred for quarters and years)."""
    if period.granularity in ("week", "month"):
        return _source_rows_sql(period, period.granularity)
    monthly = wh.con.execute(
        f"SELECT count(*) FROM ({_source_rows_sql(period, 'month')})"
    ).fetchone()[0]
    return _source_rows_sql(period, "month" if monthly else "week")


def _aggregates() -> str:
    """SQL aggregate columns shared by every level: counts summed, then divided."""
    parts = []
    for t in ("type1", "type2", "type3"):
        parts.append(f"sum(att_{t})::BIGINT AS {t}_attendances")
        parts.append(f"sum(br_{t})::BIGINT AS {t}_breaches")
        parts.append(f"sum(adm_{t})::BIGINT AS {t}_emergency_admissions")
    complete = "count(*) FILTER (WHERE att_type2 IS NULL OR att_type3 IS NULL OR br_type2 IS NULL "
    complete += "OR br_type3 IS NULL OR att_type1 IS NULL OR br_type1 IS NULL) = 0"
    parts.append(
        f"CASE WHEN {complete} THEN sum(att_type1 + att_type2 + att_type3) END::BIGINT "
        "AS all_types_attendances"
    )
    parts.append(
        f"CASE WHEN {complete} THEN sum(br_type1 + br_type2 + br_type3) END::BIGINT "
        "AS all_types_breaches"
    )
    parts.append("sum(adm_other)::BIGINT AS other_emergency_admissions")
    parts.append(
        # Over 4 hours needs the 4-12 hour waits: where only 12-hour waits were published (the
        # weekly sitreps from January 2015), it is left empty rather than understated.
        "CASE WHEN count(dta_4_12h) > 0 THEN "
        "sum(dta_4_12h) + coalesce(sum(dta_over_12h), 0) END::BIGINT "
        "AS trolley_waits_over_4h"
    )
    parts.append("sum(dta_over_12h)::BIGINT AS trolley_waits_over_12h")
    parts.append("bool_or(breaches_estimated) AS breaches_estimated")
    parts.append("count(DISTINCT org_code) AS providers")
    return ",\n".join(parts)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Add within-4h and performance columns (percent, full precision) for every type."""
    for t in TYPE_KEYS:
        att = frame[f"{t}_attendances"].astype("Float64")
        br = frame[f"{t}_breaches"].astype("Float64")
        frame[f"{t}_within_4h"] = (att - br).astype("Int64")
        perf = (att - br) / att * 100.0
        frame[f"{t}_performance_pct"] = perf.where(att > 0).astype("Float64")
    frame["emergency_admissions_via_ae"] = (
        frame[[f"{t}_emergency_admissions" for t in ("type1", "type2", "type3")]]
        .astype("Float64")
        .sum(axis=1, min_count=1)
        .astype("Int64")
    )
    return frame


def measure_table(wh: Warehouse, period: Period, level: str = "provider") -> pd.DataFrame:
    """One row per organisation at `level` for `period`, with counts and performance by type."""
    if level not in LEVELS:
        raise QueryError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    if level == "national":
        return england(wh, period)
    rows = _rows_sql(wh, period)
    if level == "provider":
        sql = f"""
            SELECT r.org_code AS code, coalesce(any_value(n.name), any_value(o.name)) AS name,
                   {_aggregates()}
            FROM ({rows}) r LEFT JOIN organisations o ON o.code = r.org_code
            LEFT JOIN ({names_sql(period.start, period.end)}) n ON n.code = r.org_code
            GROUP BY r.org_code ORDER BY r.org_code
        """
    else:
        # The system or region each provider belonged to at the end of the period.
        sql = f"""
            SELECT coalesce(p.parent_code, '{UNMAPPED}') AS code,
                   coalesce(any_value(p.parent_name), 'Not mapped to a {level}') AS name,
                   {_aggregates()},
                   list(DISTINCT r.org_code ORDER BY r.org_code)
                       FILTER (WHERE p.parent_code IS NULL) AS unmapped_providers
            FROM ({rows}) r LEFT JOIN ({parents_sql(level, period.end)}) p
                 ON p.child_code = r.org_code
            GROUP BY 1 ORDER BY 1
        """
    frame = _finish(wh.con.execute(sql).df())
    if level != "provider":
        codes = [c for (c,) in wh.con.execute(f"SELECT DISTINCT org_code FROM ({rows})").fetchall()]
        frame.attrs["notes"] = hierarchy_notes(
            provider_parents(wh, codes, period.end), level, period.end
        )
    frame.insert(0, "level", level)
    frame.insert(1, "period_start", period.start)
    frame.insert(2, "period_end", period.end)
    frame.insert(3, "granularity", period.granularity)
    return frame


def england(wh: Warehouse, period: Period) -> pd.DataFrame:
    """One row for England: provider sums, else NHS England's published national totals."""
    rows = _rows_sql(wh, period)
    frame = wh.con.execute(
        f"SELECT 'ENGLAND' AS code, 'England' AS name, {_aggregates()} FROM ({rows}) r"
    ).df()
    source = "provider returns"
    if frame["providers"].iloc[0] == 0:
        published = _published_england(wh, period)
        if published is not None:
            frame, source = published, "published national totals"
    frame = _finish(frame)
    frame.insert(0, "level", "national")
    frame.insert(1, "period_start", period.start)
    frame.insert(2, "period_end", period.end)
    frame.insert(3, "granularity", period.granularity)
    frame["source"] = source
    return frame


def _published_england(wh: Warehouse, period: Period) -> pd.DataFrame | None:
    if period.granularity == "week":
        return None
    n_months = {"month": 1, "quarter": 3, "fy": 12}[period.granularity]
    sql = f"""
        SELECT 'ENGLAND' AS code, 'England' AS name, count(*) AS n,
        {
        ", ".join(
            f"round(sum(att_{t}))::BIGINT AS {t}_attendances, "
            f"round(sum(br_{t}))::BIGINT AS {t}_breaches, "
            f"round(sum(adm_{t}))::BIGINT AS {t}_emergency_admissions"
            for t in ("type1", "type2", "type3")
        )
    },
        round(sum(att_type1 + att_type2 + att_type3))::BIGINT AS all_types_attendances,
        round(sum(br_type1 + br_type2 + br_type3))::BIGINT AS all_types_breaches,
        round(sum(adm_other))::BIGINT AS other_emergency_admissions,
        round(sum(dta_4_12h + dta_over_12h))::BIGINT AS trolley_waits_over_4h,
        round(sum(dta_over_12h))::BIGINT AS trolley_waits_over_12h,
        true AS breaches_estimated, 0 AS providers
        FROM published_totals WHERE area = 'ENGLAND' AND granularity = 'month'
        AND period_end BETWEEN DATE '{period.start}' AND DATE '{period.end}'
    """
    frame = wh.con.execute(sql).df()
    if frame["n"].iloc[0] != n_months or frame["all_types_attendances"].isna().all():
        return None
    return frame.drop(columns="n")


def _basis(frame: pd.DataFrame) -> str:
    """All types where every provider publishes them; else type 1 (major A&E) only."""
    return "all_types" if frame["all_types_attendances"].notna().all() else "type1"


def providers_below(
    wh: Warehouse, period: Period, threshold_pct: float = THRESHOLD_PCT
) -> tuple[pd.DataFrame, str]:
    """Providers whose performance this period is below the threshold, worst first."""
    table = measure_table(wh, period, "provider")
    if not len(table):
        return table, "all_types"
    basis = _basis(table)
    perf = table[f"{basis}_performance_pct"]
    below = table[perf.notna() & (perf < threshold_pct)]
    return below.sort_values([f"{basis}_performance_pct", "code"]), basis


def worst_providers(wh: Warehouse, period: Period, n: int = 5) -> tuple[pd.DataFrame, str]:
    """The n providers with the lowest performance (ties: more attendances first)."""
    table = measure_table(wh, period, "provider")
    if not len(table):
        return table, "all_types"
    basis = _basis(table)
    table = table[table[f"{basis}_performance_pct"].notna()]
    ordered = table.sort_values(
        [f"{basis}_performance_pct", f"{basis}_attendances", "code"],
        ascending=[True, False, True],
    )
    return ordered.head(n), basis
