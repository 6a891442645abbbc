"""Store what the readers found: one transaction per file, all or nothing, idempotent.

A file whose figures are already stored changes nothing and leaves no log entry. A revised
file for the same provider-periods replaces the figures it publishes (and only those), and the
ingest log names the earlier ingests it revised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from fourhour.errors import IngestError, Location, ReaderError
from fourhour.ingest.model import COUNT_COLUMNS, TOTAL_ONLY_COLUMNS, TYPES, ReadResult
from fourhour.ingest.org_facts import code_relations, is_name_code, name_code, ods_title
from fourhour.ingest.read import read_file
from fourhour.warehouse.connection import Warehouse, one_row
from fourhour.warehouse.names import name_key, shipped_aliases, surrogate_code

RETURN_KEYS = ("granularity", "period_end", "org_code")
TOTAL_KEYS = ("granularity", "period_end", "area")
EXTRA_KEYS = {"bed_occupancy": ("date", "org_code"), "daily_site_ae": ("date", "site_code")}
# Published totals may differ from provider sums by rounding in estimated series only.
TOTAL_TOLERANCE = 0


@dataclass
class IngestOutcome:
    file: str
    layout: str
    kind: str
    rows_read: int
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    ingest_id: int | None = None
    replaced_ingest_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.ingest_id is None:
            return "unchanged"
        return "revised" if self.replaced else "ingested"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_paths(
    wh: Warehouse,
    paths: Iterable[str | Path],
    progress: Callable[[Path, IngestOutcome], None] | None = None,
) -> list[IngestOutcome]:
    """Ingest each file in turn, each in its own transaction. Stops at the first bad file."""
    files = [Path(p) for p in paths]
    outcomes = []
    with ReadAhead(files) as ahead:
        for p in files:
            outcome = ingest_file(wh, p, ahead)
            outcomes.append(outcome)
            if progress:
                progress(p, outcome)
    return outcomes


def ingest_file(wh: Warehouse, path: Path, ahead: ReadAhead | None = None) -> IngestOutcome:
    """Read, validate and store one file atomically. Raises ReaderError/IngestError on bad input.

    With `ahead`, the file was already read (in a worker process) while earlier files were
    stored; storing is the same either way, one transaction per file."""
    sha, result = ahead.take(path) if ahead is not None else _read(path)
    with wh.transaction() as con:
        return _store(con, path, sha, result)


def _read(path: Path) -> tuple[str, ReadResult]:
    return sha256_of(path), read_file(path)


class ReadAhead:
    """Reads files in worker processes, in order, while the caller stores earlier ones.

    Reading (parsing spreadsheets in Python) and storing (DuckDB) then overlap on a machine
    with two or more cores. Only reading moves: files are still stored one at a time, in the
    order given, each in its own transaction. A file whose reading failed in a worker is read
    again in this process, so that its error (file, row, column) is raised here as it would be
    without read-ahead."""

    def __init__(self, paths: Iterable[Path], workers: int | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        files = list(paths)
        count = min(workers or os.cpu_count() or 1, len(files))
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload(["fourhour.warehouse.load"])
        self._pool = ProcessPoolExecutor(max_workers=max(count, 1), mp_context=context)
        self._futures = {p: self._pool.submit(_read, p) for p in files}

    def take(self, path: Path) -> tuple[str, ReadResult]:
        future = self._futures.pop(path, None)
        if future is not None:
            try:
                return future.result()
            except Exception:  # read again below, to raise the real error here
                pass
        return _read(path)

    def close(self) -> None:
        for future in self._futures.values():
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _store(
    con: duckdb.DuckDBPyConnection, path: Path, sha: str, result: ReadResult
) -> IngestOutcome:
    outcome = IngestOutcome(
        file=str(path),
        layout=result.layout,
        kind=result.kind,
        rows_read=len(result.returns)
        + len(result.totals)
        + len(result.organisations)
        + sum(len(f) for f in result.extra_tables.values()),
        notes=list(result.notes),
    )
    ingest_id = one_row(con.execute("SELECT nextval('ingest_id_seq')"))[0]
    changed = _store_organisations(con, result, ingest_id)
    returns = _resolve_codes(con, path, result, outcome)
    _validate_returns(path, result, returns)
    changed |= _store_names(con, result, returns)
    ins, rep, same, earlier = _upsert(
        con,
        "provider_returns",
        returns,
        RETURN_KEYS,
        result.published,
        ingest_id,
        extra_columns=("period_start", "breaches_estimated"),
        # Breaches estimated from a rounded percentage never overwrite exact published ones.
        keep_when="i.breaches_estimated AND NOT t.breaches_estimated",
    )
    tot_ins, tot_rep, tot_same, tot_earlier = _upsert(
        con,
        "published_totals",
        result.totals,
        TOTAL_KEYS,
        (
            *(
                c
                for c in (*COUNT_COLUMNS, *TOTAL_ONLY_COLUMNS)
                if c in result.totals.columns and result.totals[c].notna().any()
            ),
            "apportioned",
        ),
        ingest_id,
        extra_columns=("period_start",),
    )
    _cross_check(con, path, result, returns)
    outcome.inserted, outcome.replaced, outcome.unchanged = (
        ins + tot_ins,
        rep + tot_rep,
        (same + tot_same),
    )
    earlier |= tot_earlier
    for table, frame in result.extra_tables.items():
        keys = EXTRA_KEYS[table]
        values = tuple(c for c in frame.columns if c not in keys)
        e_ins, e_rep, e_same, e_earlier = _upsert(con, table, frame, keys, values, ingest_id)
        outcome.inserted += e_ins
        outcome.replaced += e_rep
        outcome.unchanged += e_same
        earlier |= e_earlier
    changed |= _rekey_surrogates(con)
    if outcome.inserted or outcome.replaced or changed:
        outcome.ingest_id = ingest_id
        outcome.replaced_ingest_ids = sorted(earlier - {ingest_id})
        periods = (
            pd.concat([returns["period_end"], result.totals["period_end"]])
            if len(returns) + len(result.totals)
            else pd.Series(dtype="object")
        )
        con.execute(
            "INSERT INTO ingest_log (ingest_id, file, sha256, layout, rows_read, rows_inserted, "
            "rows_replaced, replaced_ingest_ids, period_from, period_to, notes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ingest_id,
                str(path),
                sha,
                result.layout,
                outcome.rows_read,
                outcome.inserted,
                outcome.replaced,
                ",".join(map(str, outcome.replaced_ingest_ids)) or None,
                min(periods) if len(periods) else None,
                max(periods) if len(periods) else None,
                "; ".join(outcome.notes) or None,
            ],
        )
    return outcome


def _store_organisations(
    con: duckdb.DuckDBPyConnection, result: ReadResult, ingest_id: int
) -> bool:
    """Upsert organisations, their names as aliases, and dated relations. True if anything new."""
    changed = False
    as_of = _as_of(result)
    relations, parents = code_relations(result.relations)
    orgs = result.organisations.dropna(subset=["code"])
    if parents:
        extra = pd.DataFrame(parents, columns=["code", "name", "kind"])
        orgs = pd.concat([extra[~extra["code"].isin(orgs["code"])], orgs], ignore_index=True)
    orgs = orgs[orgs["code"].astype(str).str.len() > 0].drop_duplicates("code", keep="last")
    if len(orgs):
        con.register("incoming_orgs", orgs.assign(name_as_of=as_of))
        before = con.execute(
            "SELECT count(*), coalesce(sum(hash(code, name, kind)), 0) FROM organisations"
        ).fetchone()
        # A name is replaced only by one published for the same or a later period, so that
        # ingesting files in any order ends with the latest name; the same name seen for a
        # later period moves its date on, so that an older file never takes it back.
        con.execute(
            "INSERT INTO organisations (code, name, kind, name_as_of) "
            "SELECT code, nullif(name, ''), kind, name_as_of FROM incoming_orgs "
            "ON CONFLICT (code) DO UPDATE SET "
            "name = CASE WHEN excluded.name IS NOT NULL AND excluded.name_as_of >= "
            "coalesce(organisations.name_as_of, DATE '1900-01-01') THEN excluded.name "
            "ELSE organisations.name END, "
            "name_as_of = greatest(excluded.name_as_of, organisations.name_as_of), "
            "kind = excluded.kind, code_source = 'published', updated_at = now() "
            # A name published again for a later period moves name_as_of on, even unchanged,
            # so that an earlier file's spelling never replaces it whatever the order.
            "WHERE (excluded.name IS NOT NULL AND excluded.name_as_of >= "
            "coalesce(organisations.name_as_of, DATE '1900-01-01') AND (excluded.name IS "
            "DISTINCT FROM organisations.name OR excluded.name_as_of > organisations.name_as_of)) "
            "OR organisations.kind IS DISTINCT FROM excluded.kind "
            "OR organisations.code_source <> 'published'"
        )
        after = con.execute(
            "SELECT count(*), coalesce(sum(hash(code, name, kind)), 0) FROM organisations"
        ).fetchone()
        changed |= before != after
        providers = orgs[orgs["kind"] == "provider"]
        aliases = pd.DataFrame(
            {
                "name_key": [name_key(n) for n in providers["name"].fillna("")],
                "code": providers["code"],
                "name": providers["name"].fillna(""),
            }
        )
        aliases = aliases[aliases["name_key"] != ""].drop_duplicates("name_key", keep="last")
        con.register("incoming_aliases", aliases)
        con.execute(
            "INSERT INTO org_aliases SELECT name_key, code, name, 'file' FROM incoming_aliases "
            "ON CONFLICT (name_key) DO NOTHING"
        )
        con.unregister("incoming_orgs")
        con.unregister("incoming_aliases")
    if len(relations):
        coded = relations[relations["relation"].isin(["system", "area_team"])]
        changed |= (
            rekey_named_systems(
                con, coded.rename(columns={"parent_code": "code", "parent_name": "name"})
            )
            > 0
        )
        rel = relations.assign(as_of=as_of).drop_duplicates(
            ["child_code", "relation", "as_of"], keep="last"
        )
        con.register("incoming_rel", rel)
        before = one_row(con.execute("SELECT count(*) FROM org_relations"))[0]
        changed_rows = one_row(
            con.execute(
                "SELECT count(*) FROM incoming_rel i JOIN org_relations r USING "
                "(child_code, relation, as_of) WHERE r.parent_code IS DISTINCT FROM i.parent_code "
                "OR r.parent_name IS DISTINCT FROM i.parent_name"
            )
        )[0]
        con.execute(
            "INSERT INTO org_relations SELECT child_code, relation, parent_code, parent_name, "
            f"as_of, {int(ingest_id)} FROM incoming_rel ON CONFLICT (child_code, relation, as_of) "
            "DO UPDATE SET parent_code = excluded.parent_code, parent_name = excluded.parent_name,"
            " ingest_id = excluded.ingest_id WHERE org_relations.parent_code IS DISTINCT FROM "
            "excluded.parent_code OR org_relations.parent_name IS DISTINCT FROM "
            "excluded.parent_name"
        )
        after = one_row(con.execute("SELECT count(*) FROM org_relations"))[0]
        con.unregister("incoming_rel")
        changed |= after != before or changed_rows > 0
    return changed


def _store_names(con: duckdb.DuckDBPyConnection, result: ReadResult, returns: pd.DataFrame) -> bool:
    """Record each name the file used, with the span of periods it used it for.

    Returns files date a name by the periods of the rows that carry it; reference files by
    their own date (or the dates they give, such as a closed trust's last day).
    """
    parts = []
    named = returns[returns["org_code"].notna() & returns["org_name"].notna()]
    if len(named):
        parts.append(
            pd.DataFrame(
                {
                    "code": named["org_code"].astype(str),
                    "name": named["org_name"].astype(str).str.strip(),
                    "source": "returns",
                    "seen_from": pd.to_datetime(named["period_start"]).dt.date,
                    "seen_to": pd.to_datetime(named["period_end"]).dt.date,
                }
            )
        )
    if len(result.names):
        dated = result.names.dropna(subset=["code", "name"])
        parts.append(
            pd.DataFrame(
                {
                    "code": dated["code"],
                    "name": dated["name"].astype(str).str.strip(),
                    "source": "reference",
                    "seen_from": dated["as_of"],
                    "seen_to": dated["as_of"],
                }
            )
        )
    orgs = result.organisations.dropna(subset=["code", "name"])
    covered = set().union(*(set(p["code"]) for p in parts)) if parts else set()
    orgs = orgs[~orgs["code"].isin(covered) & (orgs["name"].astype(str).str.strip() != "")]
    if len(orgs):
        as_of = _as_of(result)
        parts.append(
            pd.DataFrame(
                {
                    "code": orgs["code"],
                    "name": orgs["name"].astype(str).str.strip(),
                    "source": "returns" if len(result.returns) else "reference",
                    "seen_from": as_of,
                    "seen_to": as_of,
                }
            )
        )
    if not parts:
        return False
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[frame["name"] != ""]
    # Some files write every name in capitals (the 2024-25 monthly CSVs, ODS): kept in the
    # case NHS England's other files use, so that one trust does not shout in one period.
    shouting = frame["name"].str.isupper()
    frame.loc[shouting, "name"] = frame.loc[shouting, "name"].map(ods_title)
    # Dates as datetime64 for the group-by (pandas falls back to a Python loop on date
    # objects), then back to dates for DuckDB's DATE columns.
    spans = frame.assign(
        seen_from=pd.to_datetime(frame["seen_from"]), seen_to=pd.to_datetime(frame["seen_to"])
    )
    frame = spans.groupby(["code", "name", "source"], as_index=False).agg(
        seen_from=("seen_from", "min"), seen_to=("seen_to", "max")
    )
    frame["seen_from"] = frame["seen_from"].dt.date
    frame["seen_to"] = frame["seen_to"].dt.date
    con.register("incoming_names", frame)
    try:
        changed = one_row(
            con.execute(
                """
            SELECT count(*) FROM incoming_names i LEFT JOIN org_names n USING (code, name, source)
            WHERE n.code IS NULL OR i.seen_from < n.seen_from OR i.seen_to > n.seen_to
            """
            )
        )[0]
        con.execute(
            """
            INSERT INTO org_names SELECT code, name, source, seen_from, seen_to
            FROM incoming_names ON CONFLICT (code, name, source) DO UPDATE SET
                seen_from = least(org_names.seen_from, excluded.seen_from),
                seen_to = greatest(org_names.seen_to, excluded.seen_to)
            """
        )
    finally:
        con.unregister("incoming_names")
    return changed > 0


def _as_of(result: ReadResult) -> dt.date:
    """The date a file's organisation details describe: its own, else its latest period."""
    if result.as_of is not None:
        return result.as_of
    ends = pd.concat([result.returns["period_end"], result.totals["period_end"]]).dropna()
    return max(ends) if len(ends) else dt.date.today()


def _resolve_codes(
    con: duckdb.DuckDBPyConnection, path: Path, result: ReadResult, outcome: IngestOutcome
) -> pd.DataFrame:
    returns = result.returns
    missing = returns["org_code"].isna()
    if not missing.any():
        return returns
    known = dict(con.execute("SELECT name_key, code FROM org_aliases").fetchall())
    shipped = shipped_aliases()
    codes: dict[str, str] = {}
    surrogates: dict[str, str] = {}
    for name in returns.loc[missing, "org_name"].unique():
        key = name_key(name)
        if key in known:
            codes[name] = known[key]
        elif key in shipped:
            codes[name] = shipped[key][0]
        else:
            codes[name] = surrogates.setdefault(name, surrogate_code(name))
    returns = returns.copy()
    returns.loc[missing, "org_code"] = returns.loc[missing, "org_name"].map(codes)
    new_orgs = pd.DataFrame(
        [{"code": c, "name": n} for n, c in codes.items()], columns=["code", "name"]
    ).drop_duplicates("code")
    con.register("resolved_orgs", new_orgs)
    con.execute(
        "INSERT INTO organisations (code, name, kind, code_source) "
        "SELECT r.code, r.name, 'provider', CASE WHEN r.code LIKE 'X%' AND length(r.code) = 7 "
        "THEN 'derived-from-name' ELSE 'published' END FROM resolved_orgs r "
        "ON CONFLICT (code) DO NOTHING"
    )
    con.unregister("resolved_orgs")
    if surrogates:
        outcome.notes.append(
            f"{len(surrogates)} trust name(s) matched no known code and were given surrogate "
            f"codes: {', '.join(sorted(surrogates)[:5])}{'...' if len(surrogates) > 5 else ''}"
        )
    return returns


def _validate_returns(path: Path, result: ReadResult, returns: pd.DataFrame) -> None:
    """Checks every layout needs: one row per provider-period, breaches within attendances."""
    if not len(returns):
        return
    dup = returns.duplicated(list(RETURN_KEYS), keep=False)
    if dup.any():
        rows = returns[dup].sort_values(["period_end", "org_code", "source_row"])
        first = rows.iloc[0]
        same = rows[
            (rows["org_code"] == first["org_code"]) & (rows["period_end"] == first["period_end"])
        ]
        names = " and ".join(
            f"row {r.source_row} ({r.org_name or r.org_code})" for r in same.itertuples()
        )
        raise ReaderError(
            Location(str(path), int(same.iloc[-1]["source_row"])),
            f"provider {first['org_code']} appears twice for the period ending "
            f"{first['period_end']}: {names}",
            expected="one row per provider and period",
        )
    for t in TYPES:
        att, br = returns[f"att_{t}"], returns[f"br_{t}"]
        bad = att.notna() & br.notna() & (pd.to_numeric(br) > pd.to_numeric(att))
        if bad.any():
            row = returns[bad].iloc[0]
            raise ReaderError(
                Location(
                    str(path),
                    int(row["source_row"]),
                    result.column_labels.get(f"br_{t}", f"br_{t}"),
                ),
                f"breaches exceed attendances for {row['org_code']} ({row[f'br_{t}']} > "
                f"{row[f'att_{t}']})",
                value=row[f"br_{t}"],
                expected=f"at most {row[f'att_{t}']} ({t.replace('type', 'type ')} attendances)",
            )


def _upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    keys: tuple[str, ...],
    values: tuple[str, ...],
    ingest_id: int,
    extra_columns: tuple[str, ...] = (),
    keep_when: str | None = None,
) -> tuple[int, int, int, set[int]]:
    """Insert new rows; replace `values` in rows that differ. Returns counts and revised ids."""
    if not len(frame):
        return 0, 0, 0, set()
    columns = [*keys, *extra_columns, *values]
    incoming = frame[columns].copy()
    for c in values:
        if c in COUNT_COLUMNS and table in ("provider_returns",):
            incoming[c] = pd.to_numeric(incoming[c], errors="coerce").astype("Int64")
    con.register("incoming", incoming)
    join = " AND ".join(f"t.{k} = i.{k}" for k in keys)
    differs = " OR ".join(f"t.{v} IS DISTINCT FROM i.{v}" for v in values) or "false"
    if keep_when:
        differs = f"({differs}) AND NOT ({keep_when})"
    counts = one_row(
        con.execute(
            f"SELECT count(*) FILTER (WHERE t.{keys[0]} IS NULL), "
            f"count(*) FILTER (WHERE t.{keys[0]} IS NOT NULL AND ({differs})), "
            f"count(*) FILTER (WHERE t.{keys[0]} IS NOT NULL AND NOT ({differs})), "
            f"list(DISTINCT t.ingest_id) FILTER (WHERE t.{keys[0]} IS NOT NULL AND ({differs})) "
            f"FROM incoming i LEFT JOIN {table} t ON {join}"
        )
    )
    inserted, replaced, same, earlier = counts
    if replaced:
        sets = ", ".join(f"{v} = i.{v}" for v in (*extra_columns, *values))
        con.execute(
            f"UPDATE {table} AS t SET {sets}, ingest_id = {int(ingest_id)} FROM incoming i "
            f"WHERE {join} AND ({differs})"
        )
    if inserted:
        cols = ", ".join(columns)
        con.execute(
            f"INSERT INTO {table} ({cols}, ingest_id) SELECT {', '.join('i.' + c for c in columns)}"
            f", {int(ingest_id)} FROM incoming i ANTI JOIN {table} t ON {join}"
        )
    con.unregister("incoming")
    return inserted, replaced, same, set(earlier or [])


def _cross_check(
    con: duckdb.DuckDBPyConnection, path: Path, result: ReadResult, returns: pd.DataFrame
) -> None:
    """A file's ENGLAND total rows must equal the sum of its provider rows, column by column."""
    frames = [f for f in (result.totals, result.check_totals) if len(f)]
    totals = pd.concat(frames, ignore_index=True) if frames else result.totals
    if not len(totals) or not len(returns):
        return
    england = totals[totals["area"] == "ENGLAND"]
    for row in england.itertuples():
        these = returns[returns["period_end"] == row.period_end]
        if not len(these):
            continue
        for column in result.published:
            published = getattr(row, column)
            if published is None or pd.isna(published):
                continue
            summed = pd.to_numeric(these[column]).sum()
            if abs(float(summed) - float(published)) > TOTAL_TOLERANCE:
                raise IngestError(
                    f"{path}, row {row.source_row}, column "
                    f"{result.column_labels.get(column, column)!r}: the ENGLAND total "
                    f"({published:,.0f}) does not equal the sum of the provider rows "
                    f"({summed:,.0f}); the file may be incomplete or mis-read",
                    hint="check the file against NHS England's published version",
                )


def _rekey_surrogates(con: duckdb.DuckDBPyConnection) -> bool:
    """Move returns filed under surrogate codes to real codes that a later file revealed."""
    rows = con.execute(
        "SELECT o.code, o.name FROM organisations o WHERE o.code_source = 'derived-from-name'"
    ).fetchall()
    if not rows:
        return False
    known = dict(
        con.execute(
            "SELECT a.name_key, a.code FROM org_aliases a JOIN organisations o ON o.code = a.code "
            "WHERE o.code_source = 'published' AND o.kind = 'provider'"
        ).fetchall()
    )
    moved = False
    for code, name in rows:
        real = known.get(name_key(name or ""))
        if not real:
            continue
        con.execute(
            "DELETE FROM provider_returns p WHERE org_code = ? AND EXISTS (SELECT 1 FROM "
            "provider_returns q WHERE q.org_code = ? AND q.granularity = p.granularity "
            "AND q.period_end = p.period_end)",
            [code, real],
        )
        con.execute("UPDATE provider_returns SET org_code = ? WHERE org_code = ?", [real, code])
        con.execute("DELETE FROM organisations WHERE code = ?", [code])
        con.execute(
            "INSERT INTO org_names SELECT ?, name, source, seen_from, seen_to FROM org_names "
            "WHERE code = ? ON CONFLICT (code, name, source) DO UPDATE SET "
            "seen_from = least(org_names.seen_from, excluded.seen_from), "
            "seen_to = greatest(org_names.seen_to, excluded.seen_to)",
            [real, code],
        )
        con.execute("DELETE FROM org_names WHERE code = ?", [code])
        moved = True
    return moved


def rekey_named_systems(con: duckdb.DuckDBPyConnection, pairs: pd.DataFrame) -> int:
    """Re-key system escalations recorded under a name (or its derived code) to the real code.

    `pairs` has `code` and `name` columns: a coded source's systems. An escalation recorded
    while a system was known only by name keeps its history under the code. Returns how many
    escalations moved.
    """
    if not one_row(con.execute("SELECT count(*) FROM escalations WHERE level = 'system'"))[0]:
        return 0  # nothing recorded at system level (any fresh warehouse): nothing to move
    moves = []
    for code, name in pairs[["code", "name"]].drop_duplicates().itertuples(index=False):
        if not isinstance(name, str) or not name or not code or is_name_code(code):
            continue
        moves += [(name, code), (name_code(name), code)]
    if not moves:
        return 0
    # The first code given for a name wins, as when the pairs were applied one by one.
    frame = pd.DataFrame(moves, columns=["old", "new"]).drop_duplicates("old")  # noqa: F841
    moved = one_row(
        con.execute(
            "SELECT count(*) FROM escalations e JOIN frame m ON e.system_code = m.old "
            "WHERE e.level = 'system'"
        )
    )[0]
    if moved:
        con.execute(
            "UPDATE escalations e SET system_code = m.new FROM frame m "
            "WHERE e.level = 'system' AND e.system_code = m.old"
        )
    return int(moved)
