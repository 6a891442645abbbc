"""Which organisation codes the warehouse knows, by kind, for validating oversight imports."""

from __future__ import annotations

import duckdb

KNOWN_SQL = {
    "provider": """
        SELECT code FROM organisations WHERE kind = 'provider'
        UNION SELECT org_code FROM provider_returns
        UNION SELECT provider_code FROM org_hierarchy
        UNION SELECT predecessor_code FROM org_successions
        UNION SELECT successor_code FROM org_successions
    """,
    "system": """
        SELECT system_code FROM org_hierarchy
        UNION SELECT coalesce(parent_code, parent_name) FROM org_relations
            WHERE relation IN ('system', 'area_team')
        UNION SELECT code FROM organisations WHERE kind IN ('system', 'area_team')
    """,
    "region": """
        SELECT region_code FROM org_hierarchy
        UNION SELECT coalesce(parent_code, parent_name) FROM org_relations WHERE relation = 'region'
        UNION SELECT code FROM organisations WHERE kind = 'region'
    """,
    "england": "SELECT 'ENGLAND'",
}


def known_codes(con: duckdb.DuckDBPyConnection, kind: str) -> set[str]:
    return {r[0] for r in con.execute(KNOWN_SQL[kind]).fetchall() if r[0] is not None}
