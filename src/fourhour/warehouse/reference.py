"""Store hand-written reference tables (mappings, leaders, trajectories, allocations) safely.

Every import is one transaction: rows identical to what is stored change nothing; a row whose
key is stored with different values is an error naming the file, row and stored value, unless
the import says `replace` (a revision, which is logged). Checks that span the whole table (such
as overlapping validity dates) run on the merged table before commit, so a failed check leaves
the warehouse as it was. Each import that changes anything is recorded in ingest_log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from fourhour.errors import Location, ReaderError
from fourhour.warehouse.connection import Warehouse, one_row
from fourhour.warehouse.load import sha256_of

ROW = "_row"  # the incoming frame's 1-based source row, used in messages, never stored


@dataclass
class ImportOutcome:
    file: str
    what: str
    rows_read: int
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    ingest_id: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.ingest_id is None:
            return "unchanged"
        return "revised" if self.replaced else "imported"


def store_reference(
    wh: Warehouse,
    path: Path,
    frame: pd.DataFrame,
    *,
    table: str,
    keys: Sequence[str],
    what: str,
    replace: bool = False,
    check: Callable[[duckdb.DuckDBPyConnection, int], int | None] | None = None,
) -> ImportOutcome:
    """Upsert `frame` (columns of `table` plus ROW) into `table`, all or nothing."""
    columns = [c for c in frame.columns if c != ROW]
    values = [c for c in columns if c not in keys]
    outcome = ImportOutcome(str(path), what, len(frame))
    sha = sha256_of(path)
    with wh.transaction() as con:
        ingest_id = one_row(con.execute("SELECT nextval('ingest_id_seq')"))[0]
        con.register("incoming_ref", frame)
        try:
            on = " AND ".join(f"i.{k} = t.{k}" for k in keys)
            same = " AND ".join(f"i.{v} IS NOT DISTINCT FROM t.{v}" for v in values) or "true"
            stored = con.execute(
                f"SELECT i.{ROW}, {', '.join(f'i.{c}' for c in columns)}, t.ingest_id, "
                f"({same}) AS same, l.file AS stored_file "
                f"FROM incoming_ref i JOIN {table} t ON {on} "
                "LEFT JOIN ingest_log l ON l.ingest_id = t.ingest_id ORDER BY i._row"
            ).df()
            conflicts = stored[~stored["same"].astype(bool)]
            if len(conflicts) and not replace:
                first = conflicts.iloc[0]
                key_text = ", ".join(f"{k} {_show(first[k])}" for k in keys)
                raise ReaderError(
                    Location(str(path), int(first[ROW])),
                    f"{key_text} is already stored with different values (from "
                    f"{first['stored_file'] or 'an earlier import'}); "
                    f"{len(conflicts)} row(s) conflict",
                    expected="the same values, or --replace to revise them",
                )
            outcome.unchanged = int(stored["same"].astype(bool).sum())
            outcome.replaced = len(conflicts)
            if len(conflicts):
                con.execute(
                    f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM incoming_ref i "
                    f"WHERE {on} AND NOT ({same}))"
                )
            new = one_row(
                con.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}, ingest_id) "
                    f"SELECT {', '.join(f'i.{c}' for c in columns)}, {ingest_id} "
                    f"FROM incoming_ref i WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})"
                )
            )[0]
            outcome.inserted = int(new) - outcome.replaced
        finally:
            con.unregister("incoming_ref")
        if check is not None:
            # Whole-table checks, and any dependent rows the import stores (their count).
            outcome.inserted += check(con, ingest_id) or 0
        if outcome.inserted or outcome.replaced:
            outcome.ingest_id = ingest_id
            con.execute(
                "INSERT INTO ingest_log (ingest_id, file, sha256, layout, rows_read, "
                "rows_inserted, rows_replaced, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    ingest_id,
                    str(path),
                    sha,
                    what,
                    outcome.rows_read,
                    outcome.inserted,
                    outcome.replaced,
                    "; ".join(outcome.notes) or None,
                ],
            )
    return outcome


def duplicate_keys(frame: pd.DataFrame, keys: Sequence[str], path: Path, what: str) -> None:
    """Raise naming both rows when the file itself holds the same key twice."""
    dup = frame[frame.duplicated(list(keys), keep=False)].sort_values(ROW)
    if len(dup):
        first = dup.iloc[0]
        match = dup[(dup[list(keys)] == first[list(keys)]).all(axis=1)]
        rows = ", ".join(str(int(r)) for r in match[ROW])
        key_text = ", ".join(f"{k} {_show(first[k])}" for k in keys)
        raise ReaderError(
            Location(str(path), int(match[ROW].iloc[1])),
            f"{key_text} appears more than once (rows {rows})",
            expected=f"one row per {' and '.join(keys)} in {what}",
        )


def overlapping_intervals(
    con: duckdb.DuckDBPyConnection,
    table: str,
    group: Sequence[str],
    path: Path,
    what: str,
    incoming_rows: dict[tuple, int] | None = None,
) -> None:
    """Raise if two rows of `table` for the same `group` have overlapping validity dates."""
    g = ", ".join(group)
    on = " AND ".join(f"a.{c} = b.{c}" for c in group)
    clash = con.execute(
        f"""
        SELECT {", ".join(f"a.{c}" for c in group)}, a.valid_from, a.valid_to,
               b.valid_from AS other_from, b.valid_to AS other_to, a.ingest_id, b.ingest_id
        FROM {table} a JOIN {table} b ON {on} AND a.valid_from < b.valid_from
        WHERE coalesce(a.valid_to, DATE '9999-12-31') >= b.valid_from
        ORDER BY {g}, a.valid_from LIMIT 1
        """
    ).fetchone()
    if clash is None:
        return
    n = len(group)
    who = ", ".join(f"{c} {v}" for c, v in zip(group, clash[:n], strict=True))
    a_from, a_to, b_from, b_to = clash[n : n + 4]
    row = None
    if incoming_rows is not None:
        row = incoming_rows.get((*clash[:n], b_from)) or incoming_rows.get((*clash[:n], a_from))
    raise ReaderError(
        Location(str(path), row, "valid_from"),
        f"validity dates overlap for {who}: {a_from} to {a_to or 'open-ended'} and "
        f"{b_from} to {b_to or 'open-ended'}",
        expected=f"at most one {what} row in force on any date (end the earlier with valid_to)",
    )


def _show(value: object) -> str:
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
