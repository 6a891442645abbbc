"""Open the warehouse, apply pending migrations, and run work in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from fourhour.errors import WarehouseError
from fourhour.settings import warehouse_path
from fourhour.warehouse.migrations import MIGRATIONS

SCHEMA_TABLE = "schema_migrations"


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
        return {n: self.con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


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


def open_warehouse(path: str | Path | None = None, *, read_only: bool = False) -> Warehouse:
    """Open (creating and migrating if needed) the warehouse at `path` or the configured one."""
    target = warehouse_path(path)
    if read_only and not target.exists():
        raise WarehouseError(
            f"no warehouse at {target}",
            hint="ingest some files first (fourhour ingest FILE...) or pass --warehouse PATH",
        )
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(target), read_only=read_only)
    except duckdb.IOException as exc:
        raise WarehouseError(f"cannot open the warehouse {target}: {exc}") from None
    try:
        if read_only:
            sql = "SELECT table_name FROM information_schema.tables"
            tables = {r[0] for r in con.execute(sql).fetchall()}
            if SCHEMA_TABLE not in tables:
                raise WarehouseError(f"{target} is not a fourhour warehouse")
        else:
            _migrate(con)
    except BaseException:
        con.close()
        raise
    return Warehouse(target, con, read_only)
