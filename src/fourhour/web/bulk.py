"""What the league tables and England pages of many periods are drawn from, computed for all of
them at once (`fourhour.web.precompute` uses it; a page computed live never does).

The pages are assembled by the same code either way (`organisations.league`,
`england.england_inputs`); only their inputs come from here, each equal to what the live
function gives for one period:

- the measure table of every period and level (`measure_table`): one query per level for all
  periods, over the names each period gives organisations (`names_sql`, run once per period)
  and the parents as at each period's end (`parents_sql`, run once per date and level);
- the organisations' history behind the SPC icons (`level_series`): providers' series summed
  once for every period and cut to each period's window; systems and regions as mapped at the
  end of each period, summed once for every distinct mapping and cut likewise;
- providers' parents (`provider_parents`) from the same parents;
- England for a period (`england`) from one sum of every period's returns and of the
  published national totals; England's series (`england_series`) from one sum, cut.

Anything not prepared here (a period outside those given) is computed live, as before.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable

import pandas as pd

from fourhour.ingest.org_facts import ERAS
from fourhour.measures import measure_table
from fourhour.measures.performance import (
    _aggregates,
    _finish,
    england,
    england_from,
    published_columns,
    published_or_none,
)
from fourhour.measures.spc import DEFAULT_PRESET, POINT_COLUMNS, SpcResult
from fourhour.periods import Period
from fourhour.report.series import (
    HISTORY,
    england_series,
    england_sums,
    performance_spc,
    periods_back,
)
from fourhour.warehouse import Warehouse
from fourhour.warehouse.hierarchy import (
    UNMAPPED,
    names_over_sql,
    parents_sql,
    provider_parents,
)
from fourhour.web.data.organisations import basis_of, level_series, spc_of

SEP = "\x1f"  # joins a period's key and a code into one SPC series name
SPC_BATCH = 40  # periods' histories per pass of the SPC engine
EMPTY_POINTS = pd.DataFrame(columns=POINT_COLUMNS)
NAMES = "fh_bulk_names"  # temporary tables, dropped by `close`
PARENTS = "fh_bulk_parents"
PERIODS = "fh_bulk_periods"
MAPPING = "fh_bulk_mapping"


def _day(value: object) -> dt.date:
    if not isinstance(value, dt.date):
        raise TypeError(value)
    return value


def key_of(period: Period) -> str:
    return f"{period.granularity} {period.end}"


class Bulk:
    """Inputs of the leagues of `league_periods` and the England pages of `england_periods`."""

    def __init__(
        self, wh: Warehouse, league_periods: Iterable[Period], england_periods: Iterable[Period]
    ) -> None:
        self.wh = wh
        leagues = sorted(set(league_periods), key=key_of)
        englands = sorted(set(england_periods), key=key_of)
        held = wh.con.execute(
            "SELECT DISTINCT granularity, period_end FROM provider_returns"
        ).fetchall()
        self.held = {(g, d) for g, d in held}
        self.month_ends = sorted(d for g, d in self.held if g == "month")
        # Measure tables: each league's period and the same period last year; each England
        # page's provider table, its and last year's.
        tabled = {p for q in [*leagues, *englands] for p in (q, q.same_period_last_year())}
        # England: each page's period and last year's, and the months of its window (a month
        # without provider returns is drawn from the national totals).
        national = {p for q in englands for p in (q, q.same_period_last_year())}
        for q in englands:
            if q.granularity == "month":
                national.update(periods_back(q, HISTORY["month"]))
        self.tabled = {key_of(p): p for p in tabled}
        self.national = {key_of(p): p for p in national}
        self.series_periods = {key_of(p): p for p in leagues}
        self._tables: dict[tuple[str, str], pd.DataFrame] = {}
        self._england: dict[str, pd.DataFrame] = {}
        self._england_raw: dict[str, pd.DataFrame] = {}
        self._published: dict[dt.date, pd.DataFrame] = {}
        self._parents: dict[tuple[str, dt.date], pd.DataFrame] = {}
        self._series: dict[tuple[str, str], tuple[pd.DataFrame, dt.date]] = {}
        self._series_done: set[tuple[str, str]] = set()
        self._sums: dict[str, pd.DataFrame] = {}
        self._spc: dict[tuple[str, str], tuple[str, SpcResult]] = {}
        self._prepare()

    # -------------------------------------------------------------------------- preparing

    def source_granularity(self, period: Period) -> str:
        """As `measures.performance.source_granularity`, from the periods held."""
        if period.granularity == "week":
            return "week"
        i = bisect.bisect_left(self.month_ends, period.start)
        return "month" if i < len(self.month_ends) and self.month_ends[i] <= period.end else "week"

    def _prepare(self) -> None:
        con = self.wh.con
        if not self.tabled and not self.national:  # nothing to compute
            return
        every = {**self.tabled, **self.national}
        frame = pd.DataFrame(  # noqa: F841 - read by DuckDB below
            [
                (k, p.granularity, p.start, p.end, self.source_granularity(p), k in self.tabled)
                for k, p in every.items()
            ],
            columns=["q_key", "q_granularity", "q_start", "q_end", "q_source", "q_tabled"],
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {PERIODS} AS SELECT q_key::VARCHAR AS q_key, "
            "q_granularity::VARCHAR AS q_granularity, q_start::DATE AS q_start, "
            "q_end::DATE AS q_end, q_source::VARCHAR AS q_source, q_tabled::BOOLEAN AS q_tabled "
            "FROM frame"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {NAMES} (q_key VARCHAR, code VARCHAR, name VARCHAR)"
        )
        periods = f"SELECT q_key, q_start, q_end FROM {PERIODS} WHERE q_tabled"
        con.execute(f"INSERT INTO {NAMES} SELECT * FROM ({names_over_sql(periods)})")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {PARENTS} AS SELECT DATE '2000-01-01' AS q_end, "
            f"'system' AS q_level, * FROM ({parents_sql('system', dt.date(2000, 1, 1))}) LIMIT 0"
        )
        ends = sorted({p.end for p in self.tabled.values()})
        for level in ("system", "region"):
            # One query per class of dates that parents_sql cannot tell apart, its first date
            # standing for the others (`_classes`).
            for first, days in self._classes(level, ends):
                con.execute(
                    f"INSERT INTO {PARENTS} SELECT d.d, '{level}', p.* "
                    f"FROM ({parents_sql(level, first)}) p, (SELECT unnest(?) AS d) d",
                    [days],
                )
        parents = con.execute(
            f"SELECT q_end, q_level, child_code, parent_code, parent_name FROM {PARENTS}"
        ).df()
        parents["q_end"] = pd.to_datetime(parents["q_end"]).dt.date
        for (on, of), group in parents.groupby(["q_end", "q_level"], sort=False):
            if group["child_code"].is_unique:  # else computed live (as the join would give)
                self._parents[(str(of), _day(on))] = group.set_index("child_code")[
                    ["parent_code", "parent_name"]
                ]
        self._prepare_tables()
        self._prepare_england()

    def _classes(self, level: str, days: list[dt.date]) -> list[tuple[dt.date, list[dt.date]]]:
        """`days` in classes that `parents_sql(level, day)` gives the same rows for: those
        with no date between them that its comparisons with the day turn on (a mapping row's
        validity, a merger, the era's start, a relation's date, the first and last day a name
        of a parent was seen; a comparison `x <= day` changes at x, `day <= x` at x + 1)."""
        relations = "'system', 'area_team'" if level == "system" else "'region'"
        parents = """
            SELECT system_code FROM org_hierarchy UNION SELECT region_code FROM org_hierarchy
            UNION SELECT coalesce(parent_code, parent_name) FROM org_relations
        """
        found = self.wh.con.execute(
            f"""
            SELECT valid_from FROM org_hierarchy
            UNION SELECT valid_to + 1 FROM org_hierarchy WHERE valid_to IS NOT NULL
            UNION SELECT effective_from FROM org_successions
            UNION SELECT as_of FROM org_relations WHERE relation IN ({relations})
            UNION SELECT seen_from FROM org_names WHERE code IN ({parents})
            UNION SELECT seen_to + 1 FROM org_names WHERE code IN ({parents})
            """
        ).fetchall()
        breaks = sorted({d for (d,) in found} | {e.start for e in ERAS if e.level == level})
        classes: dict[int, list[dt.date]] = {}
        for day in days:
            classes.setdefault(bisect.bisect_right(breaks, day), []).append(day)
        return [(members[0], members) for members in classes.values()]

    def _prepare_tables(self) -> None:
        rows = (
            f"{PERIODS} q JOIN provider_returns r ON q.q_tabled AND r.granularity = q.q_source "
            "AND r.period_end BETWEEN q.q_start AND q.q_end"
        )
        sql = {
            "provider": f"""
                SELECT q.q_key, r.org_code AS code,
                       coalesce(any_value(n.name), any_value(o.name)) AS name, {_aggregates()}
                FROM {rows} LEFT JOIN organisations o ON o.code = r.org_code
                LEFT JOIN {NAMES} n ON n.q_key = q.q_key AND n.code = r.org_code
                GROUP BY q.q_key, r.org_code ORDER BY q.q_key, r.org_code
            """
        }
        for level in ("system", "region"):
            sql[level] = f"""
                SELECT q.q_key, coalesce(p.parent_code, '{UNMAPPED}') AS code,
                       coalesce(any_value(p.parent_name), 'Not mapped to a {level}') AS name,
                       {_aggregates()}
                FROM {rows} LEFT JOIN {PARENTS} p ON p.q_end = q.q_end
                     AND p.q_level = '{level}' AND p.child_code = r.org_code
                GROUP BY 1, 2 ORDER BY 1, 2
            """
        for level, query in sql.items():
            frame = _finish(self.wh.con.execute(query).df())
            for k, group in frame.groupby("q_key", sort=False):
                self._tables[(str(k), level)] = group.drop(columns="q_key").reset_index(drop=True)
            empty = frame.iloc[0:0].drop(columns="q_key")
            for k in self.tabled:  # no returns: no rows, as measure_table gives
                self._tables.setdefault((k, level), empty)

    def _prepare_england(self) -> None:
        con = self.wh.con
        raw = con.execute(
            f"""
            SELECT q.q_key, 'ENGLAND' AS code, 'England' AS name, {_aggregates()}
            FROM {PERIODS} q JOIN provider_returns r ON r.granularity = q.q_source
                 AND r.period_end BETWEEN q.q_start AND q.q_end
            GROUP BY q.q_key
            """
        ).df()
        for k, group in raw.groupby("q_key", sort=False):
            self._england_raw[str(k)] = group.drop(columns="q_key").reset_index(drop=True)
        published = con.execute(
            f"""
            SELECT date_trunc('month', period_end)::DATE AS q_month, {published_columns()}
            FROM published_totals WHERE area = 'ENGLAND' AND granularity = 'month'
            GROUP BY 1
            """
        ).df()
        published["q_month"] = pd.to_datetime(published["q_month"]).dt.date
        for start, group in published.groupby("q_month", sort=False):
            self._published[_day(start)] = group.drop(columns="q_month").reset_index(drop=True)

    def close(self) -> None:
        for table in (PERIODS, NAMES, PARENTS, MAPPING):
            self.wh.con.execute(f"DROP TABLE IF EXISTS {table}")

    # ------------------------------------------------------------------- the live functions

    def measure_table(self, wh: Warehouse, period: Period, level: str = "provider") -> pd.DataFrame:
        """As `measures.measure_table` (the columns the pages read; no hierarchy notes)."""
        k = key_of(period)
        if (k, level) not in self._tables:  # not prepared, or no returns: computed live
            self._tables[(k, level)] = measure_table(wh, period, level)
        return self._tables[(k, level)]

    def provider_parents(self, wh: Warehouse, codes: list[str], on: dt.date) -> pd.DataFrame:
        """As `hierarchy.provider_parents`: code, system and region code and name."""
        system, region = self._parents.get(("system", on)), self._parents.get(("region", on))
        if system is None or region is None:
            return provider_parents(wh, codes, on)
        wanted = sorted(dict.fromkeys(codes))
        s, r = system.reindex(wanted), region.reindex(wanted)
        return pd.DataFrame(
            {
                "code": wanted,
                "system_code": s["parent_code"].fillna(UNMAPPED).to_numpy(),
                "system_name": s["parent_name"].fillna("Not mapped to a system").to_numpy(),
                "region_code": r["parent_code"].fillna(UNMAPPED).to_numpy(),
                "region_name": r["parent_name"].fillna("Not mapped to a region").to_numpy(),
            }
        )

    def level_series(self, wh: Warehouse, period: Period, count: int, level: str) -> pd.DataFrame:
        """As `organisations.level_series` for every organisation of `level`."""
        k = key_of(period)
        if k not in self.series_periods or count != HISTORY[period.granularity]:
            return level_series(wh, period, count, level)
        if (period.granularity, level) not in self._series_done:
            self._prepare_series(period.granularity, level)
            self._series_done.add((period.granularity, level))
        found = self._series.get((k, level))
        if found is None:
            return level_series(wh, period, count, level)
        frame, start = found  # cut when asked: the sums are kept once, not once a period
        ends = frame["period_end"]
        cut = (ends >= pd.Timestamp(start)) & (ends <= pd.Timestamp(period.end))
        return frame[cut.to_numpy()].reset_index(drop=True)

    def _prepare_series(self, granularity: str, level: str) -> None:
        """Every league period's history at `level`: summed once per distinct mapping (all
        providers' own for the provider level), then cut to each period's window."""
        anchors = [p for p in self.series_periods.values() if p.granularity == granularity]
        groups: dict[object, list[Period]] = {}
        for p in anchors:
            if level == "provider":
                groups.setdefault("own", []).append(p)
                continue
            mapping = self._parents.get((level, p.end))
            if mapping is None:
                continue  # computed live
            groups.setdefault(tuple(mapping["parent_code"].items()), []).append(p)
        for members in groups.values():
            starts = {p: periods_back(p, HISTORY[granularity])[0].end for p in members}
            first, last = min(starts.values()), max(p.end for p in members)
            frame = self._sums_by_organisation(granularity, level, members[0].end, first, last)
            for p in members:
                self._series[(key_of(p), level)] = (frame, starts[p])

    def _sums_by_organisation(
        self, granularity: str, level: str, on: dt.date, start: dt.date, end: dt.date
    ) -> pd.DataFrame:
        con = self.wh.con
        if level == "provider":
            key, join = "r.org_code", ""
        else:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {MAPPING} AS SELECT child_code, parent_code "
                f"FROM {PARENTS} WHERE q_level = ? AND q_end = ?",
                [level, on],
            )
            if level == "system":  # as org_series: providers without a system left out
                key, join = "p.parent_code", f"JOIN {MAPPING} p ON p.child_code = r.org_code"
            else:  # as level_series: unmapped providers summed as one
                key = f"coalesce(p.parent_code, '{UNMAPPED}')"
                join = f"LEFT JOIN {MAPPING} p ON p.child_code = r.org_code"
        frame = con.execute(
            f"""
            SELECT {key} AS code, r.period_end, {_aggregates()}
            FROM provider_returns r {join}
            WHERE r.granularity = ? AND r.period_end BETWEEN ? AND ?
            GROUP BY ALL ORDER BY 1, 2
            """,
            [granularity, start, end],
        ).df()
        frame["period_end"] = pd.to_datetime(frame["period_end"])
        return _finish(frame)

    def spc_for(self, level: str) -> Callable[[pd.DataFrame, Period, str, str], SpcResult]:
        """As `organisations.spc_of` for `level`: the SPC summary of every league period's
        history, computed for many periods in one pass of the XmR engine (each organisation
        of each period a series of its own, as the engine computes every one apart)."""

        def spc_by(history: pd.DataFrame, period: Period, basis: str, preset: str) -> SpcResult:
            k = key_of(period)
            if preset != DEFAULT_PRESET or k not in self.series_periods:
                return spc_of(history, period, basis, preset)
            if (k, level) not in self._spc:
                self._prepare_spc(period.granularity, level)
            found = self._spc.get((k, level))
            if found is None or found[0] != basis:
                return spc_of(history, period, basis, preset)
            return found[1]

        return spc_by

    def _prepare_spc(self, granularity: str, level: str) -> None:
        todo: dict[str, list[tuple[str, pd.DataFrame]]] = {}
        for k, p in self.series_periods.items():
            if p.granularity != granularity:
                continue
            history = self.level_series(self.wh, p, HISTORY[granularity], level)
            basis = basis_of(self.measure_table(self.wh, p, level))
            column = f"{basis}_performance_pct"
            part = history[["code", "period_end", column]]
            todo.setdefault(basis, []).append((k, part.assign(code=k + SEP + part["code"])))
        for basis, parts in todo.items():
            column = f"{basis}_performance_pct"
            for n in range(0, len(parts), SPC_BATCH):
                batch = parts[n : n + SPC_BATCH]
                frame = pd.concat([f for _, f in batch], ignore_index=True)
                summary = performance_spc(frame, column, granularity).summary
                if len(summary):
                    split = summary["code"].str.split(SEP, n=1, expand=True)
                    for k, rows in summary.assign(code=split[1]).groupby(split[0], sort=False):
                        self._spc[(str(k), level)] = (
                            basis,
                            SpcResult(points=EMPTY_POINTS, summary=rows.reset_index(drop=True)),
                        )
                for k, _ in batch:  # no organisation with a figure: an empty summary
                    self._spc.setdefault(
                        (k, level),
                        (basis, SpcResult(points=EMPTY_POINTS, summary=summary.iloc[0:0])),
                    )

    def england(self, wh: Warehouse, period: Period) -> pd.DataFrame:
        """As `measures.england`."""
        k = key_of(period)
        if k in self._england:
            return self._england[k]
        raw = self._england_raw.get(k)
        if raw is None or period.granularity not in ("week", "month"):
            found = england(wh, period)
        else:

            def published() -> pd.DataFrame | None:
                sums = self._published.get(period.start)
                if period.granularity == "week":  # as _published_england
                    return None
                return None if sums is None else published_or_none(sums.copy(), period)

            found = england_from(period, raw.copy(), self.source_granularity(period), published)
        self._england[k] = found
        return found

    def england_series(self, wh: Warehouse, period: Period, count: int) -> pd.DataFrame:
        """As `report.series.england_series`."""
        g = period.granularity
        if g not in self._sums:
            self._sums[g] = england_sums(wh, g, dt.date.min, dt.date.max)
        sums = self._sums[g]
        start = periods_back(period, count)[0].end
        ends = sums["period_end"]
        cut = (ends >= pd.Timestamp(start)) & (ends <= pd.Timestamp(period.end))
        window = sums[cut.to_numpy()].reset_index(drop=True)
        return england_series(wh, period, count, sums=window, england_of=self.england)
