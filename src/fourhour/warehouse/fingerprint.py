"""A fingerprint of what a warehouse stores: per table, its row count and an order-independent
hash of every row, leaving out the columns that record when something happened (the clock, not
the data). Two ingests of the same files store the same figures exactly when their fingerprints
are equal; the ingest benchmark and its real-data test compare them."""

from __future__ import annotations

import duckdb

from fourhour.warehouse.connection import one_row

# Columns that hold the time a row was written, not a figure: left out of the fingerprint.
CLOCK_COLUMNS = frozenset(
    {
        "updated_at",
        "ingested_at",
        "applied_at",
        "created_at",
        "revoked_at",
        "at",
        "recorded_at",
        "computed_at",
    }
)


def table_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """{table: (rows, sum of row hashes)} for every table of the warehouse."""
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY table_name"
        ).fetchall()
    ]
    out: dict[str, tuple[int, int]] = {}
    for table in tables:
        columns = [r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()]
        kept = ", ".join(f'"{c}"' for c in columns if c not in CLOCK_COLUMNS)
        rows, digest = one_row(
            con.execute(
                f'SELECT count(*), coalesce(sum(hash(s)), 0) FROM (SELECT {kept} FROM "{table}") s'
            )
        )
        out[table] = (int(rows), int(digest))
    return out
