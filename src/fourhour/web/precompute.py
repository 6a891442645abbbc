"""Every league table the warehouse can show, computed in bulk after an ingest and stored in
the warehouse (`web_league_rows`, `web_leagues`, migration 0009), so that the first request
for any organisation-period is a keyed lookup plus a template render.

One pass per league (level x period) computes every organisation of it at once (their
figures, the same period last year, SPC icons from the window of history behind them): the
same `fourhour.web.data.organisations.league` the server would run live. An organisation's
page then needs only its own SPC series (one organisation, one query) and its leaders.

Incremental: each league carries the SHA-256 of its inputs (the returns of every period of
its SPC window and of the same period a year before, hashed row by row without the ingest id;
the organisation, relation, hierarchy and name tables; the computation's version). A run
recomputes only the leagues whose fingerprint changed: re-ingesting the same files changes
nothing, a new month computes that month's three leagues (and, for a month filled in behind
later ones, the leagues whose window or last-year comparison it falls in).

The stored leagues are served only while `web_precompute_state` names the warehouse's latest
ingest: after an ingest or import that did not run the precompute, the server computes live.
The CLI runs this after every `fourhour ingest` (and `fourhour precompute` runs it alone);
the ingest and warehouse code never import it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fourhour.errors import FourhourError
from fourhour.ingest.org_facts import era_case_sql, era_of
from fourhour.measures.spc import DEFAULT_PRESET
from fourhour.oversight.config import load_funding_rules
from fourhour.oversight.funding import fy_label
from fourhour.periods import Period, month, week_ending
from fourhour.report.series import HISTORY, periods_back
from fourhour.warehouse import Warehouse
from fourhour.warehouse.connection import one_row
from fourhour.warehouse.hierarchy import names_over_sql
from fourhour.web.bulk import Bulk
from fourhour.web.data import england as england_data
from fourhour.web.data import organisations as orgs
from fourhour.web.data import oversight as oversight_data
from fourhour.web.data.periods import BASIS_LABELS, held

# Bump when what a stored league holds, or how it is computed, changes: every league is then
# recomputed by the next run.
VERSION = "1"
LEVELS = orgs.LEVELS
# Organisation tables read whole (rarely changed): columns that every ingest touches left out.
STATIC_TABLES = {"organisations": "name_as_of, updated_at", "org_successions": "ingest_id"}


@dataclass(frozen=True)
class Outcome:
    computed: int  # leagues (level x period), England periods and ledgers computed, stored
    unchanged: int  # those whose inputs had not changed
    removed: int  # those of periods no longer held
    seconds: float

    def text(self) -> str:
        return (
            f"web pages: {self.computed} computed (league tables, England periods, funding "
            f"ledgers), {self.unchanged} unchanged, {self.removed} removed in "
            f"{self.seconds:.1f} s"
        )


def _period(granularity: str, end: dt.date) -> Period:
    return week_ending(end) if granularity == "week" else month(end.year, end.month)


def period_hashes(wh: Warehouse, table: str = "provider_returns") -> dict[tuple[str, dt.date], str]:
    """(granularity, period_end) -> a hash of that period's provider returns (or published
    totals), row by row, without the ingest that stored them (re-ingesting the same figures
    keeps it)."""
    rows = wh.con.execute(
        "SELECT granularity, period_end, count(*), bit_xor(hash(x)) "
        f"FROM (SELECT * EXCLUDE (ingest_id) FROM {table}) x GROUP BY ALL"
    ).fetchall()
    return {(g, end): f"{n}:{h}" for g, end, n, h in rows}


def organisation_hashes(wh: Warehouse, periods: list[Period]) -> dict[tuple, str]:
    """(period start, period end) -> a hash of what names and maps organisations in that
    period: the names it gives them (`names_sql`: a later month extending a name changes
    nothing), the imported mapping in force, the relations files carried in the period's
    system and region eras up to its end (and, for an organisation with returns by then but
    no relation before it, its earliest relations after: `parents_sql` falls back on those),
    and the organisation and succession tables."""
    if not periods:  # a warehouse with no returns yet
        return {}
    static = []
    for table, skip in STATIC_TABLES.items():
        n, h = one_row(
            wh.con.execute(
                f"SELECT count(*), bit_xor(hash(x)) FROM (SELECT * EXCLUDE ({skip}) FROM {table}) x"
            )
        )
        static.append(f"{table}={n}:{h}")
    days = [p.end for p in periods]
    dates = pd.DataFrame(  # noqa: F841 - read by DuckDB below
        {
            "d": days,
            "system_era": [era_of("system", d).key for d in days],
            "region_era": [era_of("region", d).key for d in days],
        }
    )
    days = sorted(set(days))
    parts: dict[dt.date, list[str]] = {d: list(static) for d in days}
    queries = [
        """SELECT d.d, count(h.provider_code), bit_xor(hash(h.provider_code, h.provider_name,
                  h.system_code, h.system_name, h.system_kind, h.region_code, h.region_name,
                  h.valid_from, h.valid_to))
           FROM dates d LEFT JOIN org_hierarchy h ON h.valid_from <= d.d
                AND coalesce(h.valid_to, DATE '9999-12-31') >= d.d GROUP BY d.d""",
    ]
    for level in ("system", "region"):
        relations = "'system', 'area_team'" if level == "system" else "'region'"
        era = era_case_sql(level, "as_of")
        queries.append(
            f"""
            WITH r AS (
                SELECT *, min(as_of) OVER (PARTITION BY child_code, era) AS first_seen
                FROM (SELECT child_code, relation, parent_code, parent_name, as_of,
                             {era} AS era
                      FROM org_relations WHERE relation IN ({relations}))
            ),
            rf AS (
                SELECT r.*, f.first_return FROM r LEFT JOIN (
                    SELECT org_code, min(period_end) AS first_return
                    FROM provider_returns GROUP BY org_code
                ) f ON f.org_code = r.child_code
            )
            SELECT d.d, count(rf.child_code), bit_xor(hash(rf.child_code, rf.relation,
                   rf.parent_code, rf.parent_name, rf.as_of))
            FROM dates d LEFT JOIN rf ON rf.era = d.{level}_era AND (
                rf.as_of <= d.d
                OR (rf.as_of = rf.first_seen AND rf.first_return <= d.d))
            GROUP BY d.d
            """
        )
    for sql in queries:
        for d, n, h in wh.con.execute(sql).fetchall():
            parts[d].append(f"{n}:{h}")
    spans = sorted({(p.start, p.end) for p in periods})
    spans_frame = pd.DataFrame(  # noqa: F841 - read by DuckDB below
        [(i, start, end) for i, (start, end) in enumerate(spans)],
        columns=["q_key", "q_start", "q_end"],
    )
    names = {  # the names as they were in each period (names_sql), all in one query
        spans[int(i)]: f"{n}:{h}"
        for i, n, h in wh.con.execute(
            "SELECT q_key, count(*), bit_xor(hash(code, name)) FROM ("
            + names_over_sql(
                "SELECT q_key::BIGINT AS q_key, q_start::DATE AS q_start, q_end::DATE AS q_end "
                "FROM spans_frame"
            )
            + ") GROUP BY q_key"
        ).fetchall()
    }
    out = {}
    for p in periods:
        named = names.get((p.start, p.end), "0:None")
        out[(p.start, p.end)] = ";".join([*parts[p.end], f"names={named}"])
    return out


def inputs_sha256(
    level: str,
    period: Period,
    hashes: dict[tuple[str, dt.date], str],
    organisations: dict[tuple, str],
) -> str:
    """The fingerprint of what the league of `level` for `period` is computed from."""
    g = period.granularity
    last_year = period.same_period_last_year()
    window = [p.end for p in periods_back(period, HISTORY[g])] + [last_year.end]
    text = "|".join(
        [VERSION, level, g, period.end.isoformat()]
        + [f"organisations {p}={organisations[(p.start, p.end)]}" for p in (period, last_year)]
        + [f"{d}={hashes.get((g, d), '-')}" for d in window]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def latest_ingest(wh: Warehouse) -> int:
    return int(one_row(wh.con.execute("SELECT coalesce(max(ingest_id), 0) FROM ingest_log"))[0])


def _json(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a league row")


def precompute(
    wh: Warehouse,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 20,
    only: Collection[Period] | None = None,
) -> Outcome:
    """Compute and store every league, England period and funding ledger whose inputs changed
    since the last run; drop those of periods no longer held; record the ingest the stored
    results are now current for. With `only`, just those periods (and nothing dropped): the
    others are computed live on request, as before any precompute."""
    started = time.perf_counter()
    hashes = period_hashes(wh)
    published = period_hashes(wh, "published_totals")
    periods = {key: _period(*key) for key in hashes}
    held_now = held(wh)
    england_periods = {("week", d): _period("week", d) for d in held_now.weeks}
    england_periods.update(
        {("month", p.end): p for p in (month(d.year, d.month) for d in held_now.months)}
    )
    if only is not None:
        keys = {(p.granularity, p.end) for p in only}
        periods = {k: p for k, p in periods.items() if k in keys}
        england_periods = {k: p for k, p in england_periods.items() if k in keys}
    named = {
        (q.start, q.end): q
        for p in [*periods.values(), *england_periods.values()]
        for q in (p, p.same_period_last_year())
    }
    organisations = organisation_hashes(wh, list(named.values()))
    prune = only is None
    england_todo = _england_todo(wh, england_periods, hashes, published, organisations, prune)
    funding_done = _funding(wh, [*periods.values(), *england_periods.values()], hashes, prune)
    stored = dict(
        (((lv, g, end), sha) for lv, g, end, sha in wh.con.execute(
            "SELECT level, granularity, period_end, inputs_sha256 FROM web_leagues"
        ).fetchall())
    )  # fmt: skip
    wanted: dict[tuple[str, str, dt.date], str] = {}
    for (g, end), period in sorted(periods.items()):
        for level in LEVELS:
            wanted[(level, g, end)] = inputs_sha256(level, period, hashes, organisations)
    todo = [key for key, sha in wanted.items() if stored.get(key) != sha]
    gone = [key for key in stored if key not in wanted] if prune else []
    total = len(todo) + len(england_todo.todo)
    bulk = Bulk(
        wh,
        [_period(g, end) for _, g, end in todo],
        [england_periods[key] for key in england_todo.todo],
    )
    try:
        england_done = _england(wh, england_periods, england_todo, bulk, progress, total)
        for n in range(0, len(todo), batch):
            part = todo[n : n + batch]
            computed = [
                (
                    key,
                    orgs.league(
                        wh,
                        _period(key[1], key[2]),
                        key[0],
                        table_of=bulk.measure_table,
                        series_of=bulk.level_series,
                        parents_of=bulk.provider_parents,
                        spc_by=bulk.spc_for(key[0]),
                    ),
                )
                for key in part
            ]
            _store(wh, computed, wanted)
            if progress:
                progress(len(england_todo.todo) + min(n + batch, len(todo)), total)
    finally:
        bulk.close()
    if gone:
        frame = pd.DataFrame(gone, columns=["level", "granularity", "period_end"])  # noqa: F841
        for table in ("web_league_rows", "web_leagues"):
            wh.con.execute(
                f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM frame f WHERE "
                "f.level = t.level AND f.granularity = t.granularity "
                "AND f.period_end = t.period_end)"
            )
    wh.con.execute(
        "INSERT OR REPLACE INTO web_precompute_state (id, ingest_id, version, computed_at) "
        "VALUES (1, ?, ?, current_timestamp)",
        [latest_ingest(wh), VERSION],
    )
    return Outcome(
        len(todo) + england_done[0] + funding_done[0],
        len(wanted) - len(todo) + england_done[1] + funding_done[1],
        len(gone) + england_done[2] + funding_done[2],
        time.perf_counter() - started,
    )


def england_sha256(
    period: Period,
    hashes: dict[tuple[str, dt.date], str],
    published: dict[tuple[str, dt.date], str],
    organisations: dict[tuple, str],
) -> str:
    g = period.granularity
    window = [p.end for p in periods_back(period, HISTORY[g])]
    window.append(period.same_period_last_year().end)
    text = "|".join(
        [inputs_sha256("england", period, hashes, organisations)]
        + [f"published {d}={published.get((g, d), '-')}" for d in window]
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class _Todo:
    wanted: dict[tuple[str, dt.date], str]  # (granularity, period end) -> fingerprint
    todo: list[tuple[str, dt.date]]  # those to compute
    gone: list[tuple[str, dt.date]]  # those stored of periods no longer held


def _england_todo(
    wh: Warehouse,
    periods: dict[tuple[str, dt.date], Period],
    hashes: dict[tuple[str, dt.date], str],
    published: dict[tuple[str, dt.date], str],
    organisations: dict[tuple, str],
    prune: bool = True,
) -> _Todo:
    """The England periods held whose fingerprint changed."""
    stored = dict(
        ((g, end), sha)
        for g, end, sha in wh.con.execute(
            "SELECT granularity, period_end, inputs_sha256 FROM web_england"
        ).fetchall()
    )
    wanted = {
        key: england_sha256(p, hashes, published, organisations) for key, p in periods.items()
    }
    todo = [key for key, sha in sorted(wanted.items()) if stored.get(key) != sha]
    gone = [key for key in stored if key not in wanted] if prune else []
    return _Todo(wanted, todo, gone)


def _england(
    wh: Warehouse,
    periods: dict[tuple[str, dt.date], Period],
    work: _Todo,
    bulk: Bulk,
    progress: Callable[[int, int], None] | None,
    total: int,
    batch: int = 20,
) -> tuple[int, int, int]:
    """Compute and store the England page's inputs of every period `work` names."""
    for n in range(0, len(work.todo), batch):
        part = work.todo[n : n + batch]
        blobs = [
            pickle.dumps(
                england_data.england_inputs(
                    wh,
                    periods[key],
                    england_of=bulk.england,
                    table_of=bulk.measure_table,
                    series_of=bulk.england_series,
                )
            )
            for key in part
        ]
        wh.con.execute("BEGIN TRANSACTION")  # one commit a batch, not one a period
        try:
            wh.con.executemany(
                "INSERT OR REPLACE INTO web_england VALUES (?, ?, ?, ?, current_timestamp)",
                [
                    [g, end, work.wanted[(g, end)], blob]
                    for (g, end), blob in zip(part, blobs, strict=True)
                ],
            )
            wh.con.execute("COMMIT")
        except BaseException:
            wh.con.execute("ROLLBACK")
            raise
        if progress:
            progress(n + len(part), total)
    for g, end in work.gone:
        wh.con.execute("DELETE FROM web_england WHERE granularity = ? AND period_end = ?", [g, end])
    return len(work.todo), len(work.wanted) - len(work.todo), len(work.gone)


def stored_england(wh: Warehouse, period: Period) -> tuple | None:
    """The England page's stored inputs (bulletin, trend) for `period`, or None when not
    stored or not current."""
    if not current(wh):
        return None
    found = wh.con.execute(
        "SELECT inputs FROM web_england WHERE granularity = ? AND period_end = ?",
        [period.granularity, period.end],
    ).fetchone()
    return None if found is None else pickle.loads(found[0])


def _store(
    wh: Warehouse,
    computed: list[tuple[tuple[str, str, dt.date], dict[str, Any]]],
    wanted: dict[tuple[str, str, dt.date], str],
) -> None:
    rows = [
        (level, g, end, r["code"], i, json.dumps(r, default=_json))
        for (level, g, end), data in computed
        for i, r in enumerate(data["rows"])
    ]
    leagues = pd.DataFrame(  # noqa: F841 - read by DuckDB below
        [(lv, g, end, data["basis"], wanted[(lv, g, end)]) for (lv, g, end), data in computed],
        columns=["level", "granularity", "period_end", "basis", "inputs_sha256"],
    )
    frame = pd.DataFrame(  # noqa: F841
        rows, columns=["level", "granularity", "period_end", "code", "position", "row"]
    )
    wh.con.execute("BEGIN TRANSACTION")
    try:
        for table in ("web_league_rows", "web_leagues"):
            wh.con.execute(
                f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM leagues f WHERE "
                "f.level = t.level AND f.granularity = t.granularity "
                "AND f.period_end = t.period_end)"
            )
        wh.con.execute(
            "INSERT INTO web_leagues SELECT level, granularity, period_end, basis, "
            "inputs_sha256, current_timestamp FROM leagues"
        )
        if rows:
            wh.con.execute(
                "INSERT INTO web_league_rows SELECT level, granularity, period_end, code, "
                "position, row FROM frame"
            )
        wh.con.execute("COMMIT")
    except BaseException:
        wh.con.execute("ROLLBACK")
        raise


def current(wh: Warehouse) -> bool:
    """Whether the stored leagues are those of the warehouse's latest ingest."""
    state = wh.con.execute(
        "SELECT ingest_id, version FROM web_precompute_state WHERE id = 1"
    ).fetchone()
    return state is not None and state[1] == VERSION and state[0] == latest_ingest(wh)


def stored_league(
    wh: Warehouse, period: Period, level: str, preset: str = DEFAULT_PRESET
) -> dict[str, Any] | None:
    """The league as `organisations.league` computes it, read from the store; None when it
    is not stored or not current (or for another SPC preset). It carries no history or SPC
    result: an organisation's page computes its own (`organisations.detail`)."""
    if preset != DEFAULT_PRESET or period.granularity not in HISTORY or not current(wh):
        return None
    basis = wh.con.execute(
        "SELECT basis FROM web_leagues WHERE level = ? AND granularity = ? AND period_end = ?",
        [level, period.granularity, period.end],
    ).fetchone()
    if basis is None:
        return None
    rows = [
        json.loads(r)
        for (r,) in wh.con.execute(
            "SELECT row FROM web_league_rows WHERE level = ? AND granularity = ? "
            "AND period_end = ? ORDER BY position",
            [level, period.granularity, period.end],
        ).fetchall()
    ]
    return {
        "period": period,
        "level": level,
        "basis": basis[0],
        "basis_label": BASIS_LABELS[basis[0]],
        "rows": rows,
        "spc_preset": preset,
        "count_below_threshold": sum(
            1 for r in rows if r["performance_pct"] is not None and r["performance_pct"] < 80
        ),
        "stored": True,
    }


def _funding(
    wh: Warehouse,
    periods: list[Period],
    hashes: dict[tuple[str, dt.date], str],
    prune: bool = True,
) -> tuple[int, int, int]:
    """The funding ledger (shipped rules) of every quarter a page of a held period shows
    (its last complete quarter) that the rules cover, where its inputs changed: the returns
    of the quarter and the quarters either side, the trajectories, allocations and
    successions, and the rules."""
    years, source = load_funding_rules(None)
    quarters = {oversight_data.default_quarter(p) for p in periods}
    quarters = {q for q in quarters if fy_label(q) in years}
    tables = []
    for table in ("trajectories", "fund_allocations", "org_successions", "org_hierarchy"):
        n, h = one_row(wh.con.execute(f"SELECT count(*), bit_xor(hash(x)) FROM {table} x"))
        tables.append(f"{table}={n}:{h}")
    rules = repr(sorted(years.items())) + source
    stored = dict(wh.con.execute("SELECT quarter_start, inputs_sha256 FROM web_funding").fetchall())
    wanted = {}
    for q in quarters:
        near = sorted(
            f"{g} {d}={h}"
            for (g, d), h in hashes.items()
            if q.start - dt.timedelta(days=100) <= d <= q.end + dt.timedelta(days=100)
        )
        text = "|".join([VERSION, "funding", str(q.start), str(q.end), rules, *tables, *near])
        wanted[q] = hashlib.sha256(text.encode()).hexdigest()
    todo = [q for q, sha in sorted(wanted.items(), key=lambda x: x[0].start)
            if stored.get(q.start) != sha]  # fmt: skip
    for q in todo:
        try:
            ledger = oversight_data.funding(wh, q, None)
        except FourhourError:  # not assessable (the page says why, computing it live)
            continue
        wh.con.execute(
            "INSERT OR REPLACE INTO web_funding VALUES (?, ?, ?, current_timestamp)",
            [q.start, wanted[q], pickle.dumps(ledger)],
        )
    starts = {q.start for q in wanted}
    gone = [d for d in stored if d not in starts] if prune else []
    for d in gone:
        wh.con.execute("DELETE FROM web_funding WHERE quarter_start = ?", [d])
    return len(todo), len(wanted) - len(todo), len(gone)


def stored_funding(wh: Warehouse, quarter: Period) -> dict[str, Any] | None:
    """The stored ledger of `quarter` (shipped rules), or None when not stored or current."""
    if not current(wh):
        return None
    found = wh.con.execute(
        "SELECT ledger FROM web_funding WHERE quarter_start = ?", [quarter.start]
    ).fetchone()
    return None if found is None else pickle.loads(found[0])
