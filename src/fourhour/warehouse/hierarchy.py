"""Organisations over time: provider -> local system -> region -> England, with validity dates.

Local systems changed form over the years: system resilience groups (2014-15), A&E delivery
boards (2016-17), sustainability and transformation partnerships, integrated care boards (from
July 2022); trusts merged. A mapping file (`fourhour orgs import`) has one row per provider per
period of validity:

    provider_code, provider_name, system_code, system_name, system_kind, region_code,
    region_name, valid_from, valid_to, merged_into

`valid_to` is inclusive and may be blank (still in force). `merged_into` (optional) names the
trust a provider merged into; the merger takes effect the day after its last `valid_to`, and
from then its activity counts as the successor's.

Roll-ups use the mapping in force at the end of the period measured. A provider with no row in
force falls back to its successor's row, then to the parents the returns or reference files
carried (org_relations); a provider with none of these is put in an explicit "UNMAPPED" system,
never dropped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from fourhour.errors import Location, ReaderError
from fourhour.ingest.tables import Column, date, nonempty_text, one_of, org_code, read_table
from fourhour.warehouse.connection import Warehouse
from fourhour.warehouse.reference import (
    ROW,
    ImportOutcome,
    duplicate_keys,
    overlapping_intervals,
    store_reference,
)

SYSTEM_KINDS = ("srg", "aedb", "stp", "icb", "area_team", "other")
SYSTEM_KIND_NAMES = {
    "srg": "system resilience group",
    "aedb": "A&E delivery board",
    "stp": "sustainability and transformation partnership",
    "icb": "integrated care board",
    "area_team": "NHS England area team",
    "other": "local system",
}
UNMAPPED = "UNMAPPED"
WHAT = "organisation mapping"

COLUMNS = (
    Column("provider_code", org_code, "an ODS trust code such as RXQ", aliases=("trust_code",)),
    Column("provider_name", nonempty_text, "the trust's name", False, True, ("trust_name",)),
    Column("system_code", org_code, "the local system's code, e.g. an ICB code such as QHM"),
    Column("system_name", nonempty_text, "the local system's name"),
    Column("system_kind", one_of(*SYSTEM_KINDS), "one of " + ", ".join(SYSTEM_KINDS)),
    Column("region_code", org_code, "the region's code, e.g. Y56"),
    Column("region_name", nonempty_text, "the region's name"),
    Column("valid_from", date, "a date as YYYY-MM-DD"),
    Column("valid_to", date, "a date as YYYY-MM-DD, or blank", True, True),
    Column("merged_into", org_code, "the successor's trust code, or blank", False, True),
)


def is_mapping_file(path: Path) -> bool:
    """True if the file's header has validity dates (this layout), not a published reference."""
    try:
        head = path.read_bytes()[:4096].decode("utf-8-sig", errors="replace").lower()
    except OSError:
        return False
    first = head.splitlines()[0] if head else ""
    return "valid_from" in first.replace(" ", "_") and "system_code" in first.replace(" ", "_")


def import_mapping(wh: Warehouse, path: Path, *, replace: bool = False) -> ImportOutcome:
    """Validate and store a mapping file (all or nothing; re-importing changes nothing)."""
    table = read_table(path, COLUMNS, WHAT)
    if not table.records:
        raise ReaderError(Location(str(path), 1), "the file has a header but no rows")
    rows, successions = [], []
    for r in table.records:
        if r["valid_to"] is not None and r["valid_to"] < r["valid_from"]:
            raise ReaderError(
                r.location("valid_to"),
                f"valid_to {r['valid_to']} is before valid_from {r['valid_from']}",
                expected="valid_to on or after valid_from",
            )
        if r["merged_into"] is not None:
            if r["valid_to"] is None:
                raise ReaderError(
                    r.location("valid_to"),
                    f"{r['provider_code']} merged into {r['merged_into']} but has no valid_to",
                    expected="the last day before the merger in valid_to",
                )
            if r["merged_into"] == r["provider_code"]:
                raise ReaderError(r.location("merged_into"), "a trust cannot merge into itself")
            successions.append(
                {
                    ROW: r.row,
                    "predecessor_code": r["provider_code"],
                    "successor_code": r["merged_into"],
                    "effective_from": r["valid_to"] + dt.timedelta(days=1),
                }
            )
        rows.append({ROW: r.row, **{k: v for k, v in r.values.items() if k != "merged_into"}})
    frame = pd.DataFrame(rows)
    duplicate_keys(frame, ["provider_code", "valid_from"], path, WHAT)
    incoming = {(f["provider_code"], f["valid_from"]): f[ROW] for f in rows}
    succ = pd.DataFrame(
        successions or None,
        columns=[ROW, "predecessor_code", "successor_code", "effective_from"],
    )
    duplicate_keys(succ, ["predecessor_code"], path, "mergers")

    def check(con: duckdb.DuckDBPyConnection, ingest_id: int) -> int:
        overlapping_intervals(con, "org_hierarchy", ["provider_code"], path, WHAT, incoming)
        changed = _store_successions(con, path, succ, replace, ingest_id)
        return changed + _store_organisations(con, ingest_id)

    outcome = store_reference(
        wh,
        path,
        frame,
        table="org_hierarchy",
        keys=["provider_code", "valid_from"],
        what=WHAT,
        replace=replace,
        check=check,
    )
    return outcome


def _store_successions(
    con: duckdb.DuckDBPyConnection, path: Path, succ: pd.DataFrame, replace: bool, ingest_id: int
) -> int:
    """Store mergers in the same transaction; a merger chain must not loop."""
    changed = 0
    for s in succ.to_dict("records"):
        row = s[ROW]
        stored = con.execute(
            "SELECT successor_code, effective_from FROM org_successions WHERE predecessor_code = ?",
            [s["predecessor_code"]],
        ).fetchone()
        if stored == (s["successor_code"], s["effective_from"]):
            continue
        if stored is not None and not replace:
            raise ReaderError(
                Location(str(path), row, "merged_into"),
                f"{s['predecessor_code']} is already recorded as merging into {stored[0]} from "
                f"{stored[1]}",
                expected="the same merger, or --replace to revise it",
            )
        con.execute(
            "INSERT OR REPLACE INTO org_successions VALUES (?, ?, ?, ?)",
            [s["predecessor_code"], s["successor_code"], s["effective_from"], ingest_id],
        )
        changed += 1
        chain, code = [s["predecessor_code"]], s["successor_code"]
        while code is not None:
            if code in chain:
                raise ReaderError(
                    Location(str(path), row, "merged_into"),
                    "the mergers form a loop: " + " -> ".join([*chain, code]),
                    expected="each trust merging into a different, later trust",
                )
            chain.append(code)
            nxt = con.execute(
                "SELECT successor_code FROM org_successions WHERE predecessor_code = ?", [code]
            ).fetchone()
            code = nxt[0] if nxt else None
    return changed


def _store_organisations(con: duckdb.DuckDBPyConnection, ingest_id: int) -> int:
    """Add providers, systems and regions named by the mapping that are not yet known."""
    before = con.execute("SELECT count(*) FROM organisations").fetchone()[0]
    con.execute(
        """
        INSERT INTO organisations (code, name, kind, name_as_of)
        SELECT code, arg_max(name, valid_from), any_value(kind), max(valid_from) FROM (
            SELECT provider_code AS code, provider_name AS name, 'provider' AS kind, valid_from
            FROM org_hierarchy
            UNION ALL SELECT system_code, system_name, 'system', valid_from FROM org_hierarchy
            UNION ALL SELECT region_code, region_name, 'region', valid_from FROM org_hierarchy
        ) WHERE code NOT IN (SELECT code FROM organisations) GROUP BY code
        """
    )
    return con.execute("SELECT count(*) FROM organisations").fetchone()[0] - before


def successor_sql(on: dt.date) -> str:
    """SQL: code -> the code its activity counts as on `on` (itself, or its latest successor)."""
    return f"""
        WITH RECURSIVE chain(code, current_code, depth) AS (
            SELECT predecessor_code, successor_code, 1 FROM org_successions
            WHERE effective_from <= DATE '{on}'
            UNION ALL
            SELECT c.code, s.successor_code, c.depth + 1
            FROM chain c JOIN org_successions s ON s.predecessor_code = c.current_code
            WHERE s.effective_from <= DATE '{on}' AND c.depth < 50
        )
        SELECT code, arg_max(current_code, depth) AS current_code FROM chain GROUP BY code
    """


def parents_sql(level: str, on: dt.date) -> str:
    """SQL: child_code -> parent_code, parent_name, parent_kind for 'system' or 'region' on `on`.

    Order of preference: the mapping row in force for the provider; the row in force for its
    successor; what files carried (org_relations: the latest dated at or before `on`, else the
    earliest after, so that a 2025 ICB mapping never regroups 2015 returns when the 2015 area
    team mapping is known).
    """
    if level not in ("system", "region"):
        raise ValueError(level)
    code, name = (
        ("system_code", "system_name")
        if level == "system"
        else (
            "region_code",
            "region_name",
        )
    )
    kind = "system_kind" if level == "system" else "'region'"
    relations = "'system', 'area_team'" if level == "system" else "'region'"
    return f"""
        WITH in_force AS (
            SELECT provider_code, {code} AS parent_code, {name} AS parent_name,
                   {kind} AS parent_kind
            FROM org_hierarchy
            WHERE valid_from <= DATE '{on}' AND coalesce(valid_to, DATE '9999-12-31') >= DATE '{on}'
        ),
        successors AS ({successor_sql(on)}),
        carried AS (
            SELECT child_code, coalesce(parent_code, parent_name) AS parent_code,
                   coalesce(parent_name, parent_code) AS parent_name,
                   CASE WHEN relation = 'area_team' THEN 'area_team' ELSE relation END
                       AS parent_kind
            FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY child_code
                    ORDER BY (as_of <= DATE '{on}') DESC,
                             CASE WHEN as_of <= DATE '{on}' THEN as_of END DESC, as_of ASC,
                             (relation = '{level}') DESC
                ) AS rn
                FROM org_relations WHERE relation IN ({relations})
            ) WHERE rn = 1
        ),
        children AS (
            SELECT provider_code AS code FROM org_hierarchy
            UNION SELECT child_code FROM org_relations
            UNION SELECT predecessor_code FROM org_successions
        )
        SELECT c.code AS child_code,
               coalesce(own.parent_code, succ.parent_code, carried.parent_code) AS parent_code,
               coalesce(own.parent_name, succ.parent_name, carried.parent_name) AS parent_name,
               coalesce(own.parent_kind, succ.parent_kind, carried.parent_kind) AS parent_kind
        FROM children c
        LEFT JOIN in_force own ON own.provider_code = c.code
        LEFT JOIN successors s ON s.code = c.code
        LEFT JOIN in_force succ ON succ.provider_code = s.current_code
        LEFT JOIN carried ON carried.child_code = c.code
        WHERE coalesce(own.parent_code, succ.parent_code, carried.parent_code) IS NOT NULL
    """


def provider_parents(wh: Warehouse, codes: list[str], on: dt.date) -> pd.DataFrame:
    """For each provider code: its system and region on `on` (UNMAPPED where none is known)."""
    frame = pd.DataFrame({"code": list(dict.fromkeys(codes))})
    wh.con.register("wanted_codes", frame)
    try:
        out = wh.con.execute(
            f"""
            SELECT w.code,
                   coalesce(s.parent_code, '{UNMAPPED}') AS system_code,
                   coalesce(s.parent_name, 'Not mapped to a system') AS system_name,
                   s.parent_kind AS system_kind,
                   coalesce(r.parent_code, '{UNMAPPED}') AS region_code,
                   coalesce(r.parent_name, 'Not mapped to a region') AS region_name
            FROM wanted_codes w
            LEFT JOIN ({parents_sql("system", on)}) s ON s.child_code = w.code
            LEFT JOIN ({parents_sql("region", on)}) r ON r.child_code = w.code
            ORDER BY w.code
            """
        ).df()
    finally:
        wh.con.unregister("wanted_codes")
    return out
