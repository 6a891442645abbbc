"""Open the warehouse, apply pending migrations, and run work in one transaction."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from fourhour.errors import WarehouseBusyError, WarehouseError
from fourhour.settings import SETTINGS, lock_wait_s, warehouse_path
from fourhour.warehouse.migrations import MIGRATIONS

SCHEMA_TABLE = "schema_migrations"
LOCK_POLL_S = 0.2
_LOCK_WAIT = next(s for s in SETTINGS if s.name == "lock_wait")


def one_row(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The one row of a query that always returns one (an aggregate such as count(*), or
    nextval); a WarehouseError, not a TypeError on None, if it returned none."""
    row = result.fetchone()
    if row is None:
        raise WarehouseError("the warehouse returned no row where a query always returns one")
    return row


class Warehouse:
    """A DuckDB warehouse file. Use as a context manager, or call close()."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.path = path
        self.con = con
        self.read_only = read_only

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commits when the block ends, rolls back on any exception."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def applied_migrations(self) -> list[str]:
        rows = self.con.execute(f"SELECT name FROM {SCHEMA_TABLE} ORDER BY name").fetchall()
        return [r[0] for r in rows]

    def pending_migrations(self) -> list[str]:
        applied = set(self.applied_migrations())
        return [m.name for m in MIGRATIONS if m.name not in applied]

    def table_counts(self) -> dict[str, int]:
        names = [
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' ORDER BY table_name"
            ).fetchall()
        ]
        return {n: one_row(self.con.execute(f'SELECT count(*) FROM "{n}"'))[0] for n in names}


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} ("
        "name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
    )
    applied = {r[0] for r in con.execute(f"SELECT name FROM {SCHEMA_TABLE}").fetchall()}
    known = {m.name for m in MIGRATIONS}
    unknown = applied - known
    if unknown:
        raise WarehouseError(
            f"the warehouse has schema migrations this fourhour does not know: {sorted(unknown)}",
            hint="it was written by a newer fourhour; upgrade fourhour",
        )
    for migration in MIGRATIONS:
        if migration.name in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute(f"INSERT INTO {SCHEMA_TABLE} (name) VALUES (?)", [migration.name])
        except duckdb.Error:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


WAREHOUSE_SUFFIX = ".duckdb"
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
DUCKDB_MAGIC_OFFSET = 8


def check_warehouse_path(target: Path, *, read_only: bool) -> bool:
    """The one rule for what may be opened as a warehouse; True when `target` is to be created.

    - An existing file must be a DuckDB database (its header says so) holding fourhour's
      schema_migrations table, or (when writing) a DuckDB database with no tables at all;
      anything else (a CSV, a spreadsheet, an empty file, another application's database) is
      refused and left untouched.
    - A path that does not exist is created only when writing and only if its name ends in
      .duckdb, in a folder that exists or can be made; reading one is refused.
    """
    hint = f"pass --warehouse PATH{WAREHOUSE_SUFFIX} (a new name creates a warehouse)"
    if target.is_dir():
        raise WarehouseError(f"{target} is a folder, not a warehouse file", hint=hint)
    if not target.exists():
        if read_only:
            raise WarehouseError(
                f"no warehouse at {target}",
                hint="ingest some files first (fourhour ingest FILE...) or pass --warehouse PATH",
            )
        if target.suffix.lower() != WAREHOUSE_SUFFIX:
            raise WarehouseError(
                f"{target} does not exist and its name does not end in {WAREHOUSE_SUFFIX}; "
                "refusing to create a warehouse there",
                hint=hint,
            )
        return True
    try:
        with target.open("rb") as f:
            head = f.read(DUCKDB_MAGIC_OFFSET + len(DUCKDB_MAGIC))
    except OSError as exc:
        raise WarehouseError(f"cannot read {target}: {exc.strerror}") from None
    if not head:
        raise WarehouseError(f"{target} is an empty file, not a fourhour warehouse", hint=hint)
    if head[DUCKDB_MAGIC_OFFSET:] != DUCKDB_MAGIC:
        raise WarehouseError(
            f"{target} is not a fourhour warehouse (not a DuckDB database file)", hint=hint
        )
    return False


def _check_is_fourhour(con: duckdb.DuckDBPyConnection, target: Path, *, read_only: bool) -> None:
    """An existing DuckDB file must hold fourhour's migrations table (or nothing, to be made)."""
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = "
            "current_database()"
        ).fetchall()
    }
    if SCHEMA_TABLE in tables or (not tables and not read_only):
        return
    raise WarehouseError(
        f"{target} is a DuckDB database but not a fourhour warehouse (no {SCHEMA_TABLE} table)",
        hint=f"pass --warehouse PATH{WAREHOUSE_SUFFIX} (a new name creates a warehouse)",
    )


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def _connect(target: Path, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    """Connect, waiting up to `wait_s` seconds while another process holds the file's lock."""
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        try:
            return duckdb.connect(str(target), read_only=read_only)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise WarehouseError(f"cannot open the warehouse {target}: {exc}") from None
            if time.monotonic() >= deadline:
                raise WarehouseBusyError(
                    f"the warehouse {target} is busy: another process has held it for {wait_s:g} s",
                    hint=f"try again when it has finished, or wait longer with "
                    f"{_LOCK_WAIT.env}=SECONDS",
                ) from None
            if not told:
                sys.stderr.write(f"warehouse is busy, waiting up to {wait_s:g} s\n")
                sys.stderr.flush()
                told = True
            time.sleep(min(LOCK_POLL_S, max(0.0, deadline - time.monotonic())))
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open the warehouse {target}: {exc}") from None


def open_warehouse(
    path: str | Path | None = None, *, read_only: bool = False, wait_s: float | None = None
) -> Warehouse:
    """Open (creating and migrating if needed) the warehouse at `path` or the configured one.

    Refuses anything that is not a fourhour warehouse (`check_warehouse_path`); waits up to
    `wait_s` seconds (default: the lock_wait setting) while another process writes to it.
    """
    target = warehouse_path(path)
    creating = check_warehouse_path(target, read_only=read_only)
    if creating:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(
                f"cannot create the folder {target.parent} for the warehouse: {exc.strerror}"
            ) from None
    wait = lock_wait_s() if wait_s is None else wait_s
    con = _connect(target, read_only, wait)
    try:
        _check_is_fourhour(con, target, read_only=read_only)
        if not read_only:
            _migrate(con)
    except BaseException:
        con.close()
        raise
    return Warehouse(target, con, read_only)
