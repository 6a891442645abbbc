"""Four-hour performance, defined once.

Performance = (attendances - breaches) / attendances, where a breach is an attendance over 240
minutes from arrival to admission, transfer or discharge. Whenever departments, providers,
systems or weeks are combined, counts are summed first and divided last; percentages are
never averaged. "All types" needs every department type: where a source publishes type 1 only
(the 2010-2014 weekly tracker), all-types figures are left empty rather than understated.

Months, quarters and financial years are built from monthly returns, or, where no monthly
returns exist (before April 2016), from weekly returns of the weeks ending within the period
(`source_granularity`; e.g. January 2015 is the four weeks ending 4 to 25 January 2015).
England's figure for such a period is, in order of preference: the sum of monthly provider
returns; NHS England's published national totals for the calendar months; the sum of the
weekly provider returns.

The four-hour base leaves out providers field-testing new standards (`left_out_sql`): their
attendances count in activity (`*_attendances`) but not in performance
(`*_performance_attendances`, `*_within_4h`, `*_performance_pct`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from fourhour.errors import InvalidInputError
from fourhour.measures.standard import (  # noqa: F401  (defined there, used here)
    BREACH_MINUTES,
    LEVELS,
    STANDARD_PCT,
    THRESHOLD_PCT,
)
from fourhour.periods import Period
from fourhour.warehouse import Warehouse
from fourhour.warehouse.connection import one_row
from fourhour.warehouse.hierarchy import (
    UNMAPPED,
    hierarchy_notes,
    names_sql,
    parents_sql,
    provider_parents,
)

TYPE_KEYS = ("all_types", "type1", "type2", "type3")

# The field test of proposed new standards (the clinically-led review of standards).
FIELD_TEST_START = dt.date(2019, 5, 1)
FIELD_TEST_END = dt.date(2023, 5, 31)


def left_out_sql(alias: str = "") -> str:
    """SQL predicate: this provider return is left out of four-hour percentages.

    Why: from May 2019 to May 2023, 14 trusts field-testing proposed new standards (the
    clinically-led review of standards) reported attendances but no four-hour breaches. NHS
    England's published four-hour percentages leave them out of numerator and denominator at
    every level above provider, while their attendances still count in activity totals (the
    national time series' notes 2 and 3; DOMAIN.md). Their own four-hour figure is not
    published, so at provider level it is empty, never 100%.

    The rule, as NHS England's figures bear it out: a return for a period within the field
    test with type 1 attendances > 0 and 0 attendances over four hours in every type. With it,
    England's percentages computed from the provider files equal the published national
    series in every month from May 2019 to March 2023 (tests/test_national_figures.py).
    """
    a = f"{alias}." if alias else ""
    return (
        f"({a}period_end BETWEEN DATE '{FIELD_TEST_START}' AND DATE '{FIELD_TEST_END}' "
        f"AND coalesce({a}att_type1, 0) > 0 AND coalesce({a}br_type1, 0) = 0 "
        f"AND coalesce({a}br_type2, 0) = 0 AND coalesce({a}br_type3, 0) = 0)"
    )


def source_granularity(wh: Warehouse, period: Period) -> str:
    """The returns `period` is measured from: a week from weekly returns; a month, quarter or
    year from monthly returns, else from weekly returns of the weeks ending within it."""
    if period.granularity == "week":
        return "week"
    monthly = one_row(
        wh.con.execute(
            "SELECT count(*) FROM provider_returns WHERE granularity = 'month' "
            "AND period_end BETWEEN ? AND ?",
            [period.start, period.end],
        )
    )[0]
    return "month" if monthly else "week"


def weeks_ending_within(wh: Warehouse, period: Period) -> list[dt.date]:
    """The week endings with weekly returns stored that fall within `period`."""
    rows = wh.con.execute(
        "SELECT DISTINCT period_end FROM provider_returns WHERE granularity = 'week' "
        "AND period_end BETWEEN ? AND ? ORDER BY 1",
        [period.start, period.end],
    ).fetchall()
    return [r[0] for r in rows]


def _source_rows_sql(period: Period, granularity: str) -> str:
    return (
        f"SELECT * FROM provider_returns WHERE granularity = '{granularity}' "
        f"AND period_end BETWEEN DATE '{period.start}' AND DATE '{period.end}'"
    )


def _rows_sql(wh: Warehouse, period: Period) -> str:
    """Provider rows that make up `period` (see `source_granularity`)."""
    return _source_rows_sql(period, source_granularity(wh, period))


def _aggregates() -> str:
    """SQL aggregate columns shared by every level: counts summed, then divided.

    `*_attendances` is activity (every provider); `*_performance_attendances` is the base of
    the four-hour percentage, which leaves out the returns `left_out_sql` names.
    """
    counted = f"NOT {left_out_sql()}"
    parts = []
    for t in ("type1", "type2", "type3"):
        parts.append(f"sum(att_{t})::BIGINT AS {t}_attendances")
        parts.append(f"sum(br_{t})::BIGINT AS {t}_breaches")
        parts.append(
            f"sum(att_{t}) FILTER (WHERE {counted})::BIGINT AS {t}_performance_attendances"
        )
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
    parts.append(
        f"CASE WHEN {complete} THEN sum(att_type1 + att_type2 + att_type3) "
        f"FILTER (WHERE {counted}) END::BIGINT AS all_types_performance_attendances"
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
    parts.append(f"count(DISTINCT org_code) FILTER (WHERE {left_out_sql()}) AS providers_left_out")
    return ",\n".join(parts)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Add within-4h and performance columns (percent, full precision) for every type."""
    for t in TYPE_KEYS:
        base = frame[f"{t}_performance_attendances"].astype("Float64")
        br = frame[f"{t}_breaches"].astype("Float64")
        frame[f"{t}_within_4h"] = (base - br).astype("Int64")
        perf = (base - br) / base * 100.0
        frame[f"{t}_performance_pct"] = perf.where(base > 0).astype("Float64")
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
        raise InvalidInputError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
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


PROVIDER_RETURNS = "provider returns"
WEEKLY_RETURNS = "weekly provider returns"
PUBLISHED = "published national totals"


def england(wh: Warehouse, period: Period) -> pd.DataFrame:
    """One row for England: monthly (or, for a week, weekly) provider sums; else NHS England's
    published national totals; else the weekly returns of the weeks ending in the period.

    `source` says which; `apportioned` is true where NHS England estimated the national
    figures by apportioning weekly data into months. Trolley waits the provider returns lack
    (NHS-R's monthly files have none) are taken from the national totals where those hold
    them, and `trolley_waits_source` says so.
    """
    granularity = source_granularity(wh, period)
    rows = _source_rows_sql(period, granularity)
    frame = wh.con.execute(
        f"SELECT 'ENGLAND' AS code, 'England' AS name, {_aggregates()} FROM ({rows}) r"
    ).df()
    return england_from(period, frame, granularity, lambda: _published_england(wh, period))


def england_from(
    period: Period,
    frame: pd.DataFrame,
    granularity: str,
    published_of: Callable[[], pd.DataFrame | None],
) -> pd.DataFrame:
    """`england` from its inputs: the one-row sum of the provider returns of `granularity`
    (`source_granularity`) that make up `period`, and `published_of`, giving the published
    national totals (`_published_england`) when asked. The web's precompute sums every
    period's returns in one query and comes here for each."""
    source = PROVIDER_RETURNS if granularity == period.granularity else WEEKLY_RETURNS
    no_trolley_waits = (
        frame["trolley_waits_over_4h"].isna().all() and frame["trolley_waits_over_12h"].isna().all()
    )
    published = (
        published_of()
        if frame["providers"].iloc[0] == 0 or source == WEEKLY_RETURNS or no_trolley_waits
        else None
    )
    if published is not None and (frame["providers"].iloc[0] == 0 or source == WEEKLY_RETURNS):
        frame, source = published, PUBLISHED
    frame["apportioned"] = bool(frame["apportioned"].iloc[0]) if source == PUBLISHED else False
    frame["trolley_waits_source"] = None
    if (
        frame["trolley_waits_over_4h"].notna().any()
        or frame["trolley_waits_over_12h"].notna().any()
    ):
        frame["trolley_waits_source"] = PUBLISHED if source == PUBLISHED else PROVIDER_RETURNS
    elif published is not None and published["trolley_waits_over_4h"].notna().any():
        for column in ("trolley_waits_over_4h", "trolley_waits_over_12h"):
            frame[column] = published[column].to_numpy()
        frame["trolley_waits_source"] = PUBLISHED
    frame = _finish(frame)
    frame.insert(0, "level", "national")
    frame.insert(1, "period_start", period.start)
    frame.insert(2, "period_end", period.end)
    frame.insert(3, "granularity", period.granularity)
    frame["source"] = source
    return frame


def _published_england(wh: Warehouse, period: Period) -> pd.DataFrame | None:
    """England from NHS England's published monthly national totals, where they cover every
    month of the period. The four-hour base is within + over four hours as published (it
    leaves out the field-test trusts), else attendances."""
    if period.granularity == "week":
        return None
    sql = f"""
        SELECT {published_columns()}
        FROM published_totals WHERE area = 'ENGLAND' AND granularity = 'month'
        AND period_end BETWEEN DATE '{period.start}' AND DATE '{period.end}'
    """
    return published_or_none(wh.con.execute(sql).df(), period)


def published_columns() -> str:
    """SQL: England's figures summed from published monthly national totals (`n`: months)."""
    types = ("type1", "type2", "type3")
    base = {t: f"coalesce(within_{t} + br_{t}, att_{t})" for t in types}
    return f"""'ENGLAND' AS code, 'England' AS name, count(*) AS n,
        {
        ", ".join(
            f"round(sum(att_{t}))::BIGINT AS {t}_attendances, "
            f"round(sum(br_{t}))::BIGINT AS {t}_breaches, "
            f"round(sum({base[t]}))::BIGINT AS {t}_performance_attendances, "
            f"round(sum(adm_{t}))::BIGINT AS {t}_emergency_admissions"
            for t in types
        )
    },
        round(sum(att_type1 + att_type2 + att_type3))::BIGINT AS all_types_attendances,
        round(sum(br_type1 + br_type2 + br_type3))::BIGINT AS all_types_breaches,
        round(sum({" + ".join(base.values())}))::BIGINT AS all_types_performance_attendances,
        round(sum(adm_other))::BIGINT AS other_emergency_admissions,
        round(sum(dta_4_12h + dta_over_12h))::BIGINT AS trolley_waits_over_4h,
        round(sum(dta_over_12h))::BIGINT AS trolley_waits_over_12h,
        false AS breaches_estimated, 0 AS providers, 0 AS providers_left_out,
        coalesce(bool_or(apportioned), false) AS apportioned"""


def published_or_none(frame: pd.DataFrame, period: Period) -> pd.DataFrame | None:
    """The one-row sum of `published_columns` for `period`, or None unless it covers every
    month of the period with figures."""
    n_months = {"month": 1, "quarter": 3, "fy": 12}[period.granularity]
    if frame["n"].iloc[0] != n_months or frame["all_types_attendances"].isna().all():
        return None
    return frame.drop(columns="n")


def _basis(frame: pd.DataFrame) -> str:
    """All types where every provider publishes them; else type 1 (major A&E) only."""
    return "all_types" if frame["all_types_attendances"].notna().all() else "type1"


def providers_below(
    wh: Warehouse,
    period: Period,
    threshold_pct: float = THRESHOLD_PCT,
    table: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, str]:
    """Providers whose performance this period is below the threshold, worst first (`table`:
    the provider-level measure table for `period`, if already computed)."""
    if table is None:
        table = measure_table(wh, period, "provider")
    if not len(table):
        return table, "all_types"
    basis = _basis(table)
    perf = table[f"{basis}_performance_pct"]
    below = table[perf.notna() & (perf < threshold_pct)]
    return below.sort_values([f"{basis}_performance_pct", "code"]), basis


def worst_providers(
    wh: Warehouse, period: Period, n: int = 5, table: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, str]:
    """The n providers with the lowest performance (ties: more attendances first)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidInputError(
            f"the number of worst providers must be a whole number of 1 or more, not {n}"
        )
    if table is None:
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
