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
from fourhour.ingest.org_facts import era_case_sql, era_of
from fourhour.ingest.tables import Column, date, nonempty_text, one_of, org_code, read_table
from fourhour.warehouse.connection import Warehouse, one_row
from fourhour.warehouse.load import rekey_named_systems
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
        systems = frame.rename(columns={"system_code": "code", "system_name": "name"})
        rekeyed = rekey_named_systems(con, systems)
        return changed + rekeyed + _store_organisations(con, ingest_id)

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
    before = one_row(con.execute("SELECT count(*) FROM organisations"))[0]
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
    return one_row(con.execute("SELECT count(*) FROM organisations"))[0] - before


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


def names_sql(start: dt.date, end: dt.date | None = None) -> str:
    """SQL: code -> the organisation's name as it was in the period `start`..`end`.

    The name a return for that period used comes first, then a reference file's name dated
    within it; then the name last used before it; then the first used after it (so today's
    name only when nothing older is known).
    """
    end = end or start
    periods = f"SELECT NULL AS q_key, DATE '{start}' AS q_start, DATE '{end}' AS q_end"
    return f"SELECT code, name FROM ({names_over_sql(periods)})"


def names_over_sql(periods: str) -> str:
    """SQL: q_key, code -> the name as it was in each period of `periods` (SQL giving q_key,
    q_start, q_end), as `names_sql` gives it for one (the web's precompute asks for every
    period at once)."""
    return f"""
        SELECT q_key, code, name FROM (
            SELECT q.q_key, n.code, n.name, row_number() OVER (
                PARTITION BY q.q_key, n.code ORDER BY
                    CASE WHEN n.seen_from <= q.q_end AND n.seen_to >= q.q_start
                              AND n.source = 'returns' THEN 0
                         WHEN n.seen_from <= q.q_end AND n.seen_to >= q.q_start THEN 1
                         WHEN n.seen_to < q.q_start THEN 2 ELSE 3 END,
                    CASE WHEN n.seen_to < q.q_start THEN q.q_start - n.seen_to
                         WHEN n.seen_from > q.q_end THEN n.seen_from - q.q_end
                         ELSE 0 END,
                    n.seen_to DESC, n.name
            ) AS rn
            FROM org_names n, ({periods}) q
        ) WHERE rn = 1
    """


def names_for(
    wh: Warehouse, codes: list[str], start: dt.date, end: dt.date | None = None
) -> dict[str, str]:
    """code -> the name as it was in the period (names_sql), else the latest name known."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return {}
    latest = dict(
        wh.con.execute(
            "SELECT code, name FROM organisations "
            "WHERE list_contains(?, code) AND name IS NOT NULL",
            [wanted],
        ).fetchall()
    )
    dated = dict(
        wh.con.execute(
            f"SELECT code, name FROM ({names_sql(start, end)}) WHERE list_contains(?, code)",
            [wanted],
        ).fetchall()
    )
    return {c: dated.get(c) or latest[c] for c in wanted if c in dated or c in latest}


def parents_sql(level: str, on: dt.date) -> str:
    """SQL: child_code -> parent_code, parent_name, parent_kind for 'system' or 'region' on `on`.

    Order of preference: the mapping row in force for the provider; the row in force for its
    successor; what files carried (org_relations), from the hierarchy of the era `on` falls in
    (ingest/org_facts.py ERAS) where one exists: the latest dated at or before `on`, else the
    earliest after. Only where the era has none is another era's used, and then the columns
    `parent_as_of` and `in_era` let callers say so (`hierarchy_notes`).
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
    era = era_of(level, on).key
    return f"""
        WITH in_force AS (
            SELECT provider_code, {code} AS parent_code, {name} AS parent_name,
                   {kind} AS parent_kind, valid_from AS parent_as_of
            FROM org_hierarchy
            WHERE valid_from <= DATE '{on}' AND coalesce(valid_to, DATE '9999-12-31') >= DATE '{on}'
        ),
        successors AS ({successor_sql(on)}),
        dated AS (
            SELECT *, ({era_case_sql(level, "as_of")}) = '{era}' AS in_era
            FROM org_relations WHERE relation IN ({relations})
        ),
        carried AS (
            SELECT child_code, coalesce(parent_code, parent_name) AS parent_code,
                   coalesce(parent_name, parent_code) AS parent_name,
                   CASE WHEN relation = 'area_team' THEN 'area_team'
                        WHEN relation = 'system' THEN {era_case_sql("system", "as_of")}
                        ELSE relation END AS parent_kind,
                   as_of AS parent_as_of, in_era
            FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY child_code
                    ORDER BY in_era DESC, (as_of <= DATE '{on}') DESC,
                             CASE WHEN as_of <= DATE '{on}' THEN as_of END DESC, as_of ASC,
                             (relation = '{level}') DESC
                ) AS rn
                FROM dated
            ) WHERE rn = 1
        ),
        children AS (
            SELECT provider_code AS code FROM org_hierarchy
            UNION SELECT child_code FROM org_relations
            UNION SELECT predecessor_code FROM org_successions
        ),
        chosen AS (
            SELECT c.code AS child_code,
                   coalesce(own.parent_code, succ.parent_code, carried.parent_code) AS parent_code,
                   coalesce(own.parent_name, succ.parent_name, carried.parent_name)
                       AS file_parent_name,
                   coalesce(own.parent_kind, succ.parent_kind, carried.parent_kind) AS parent_kind,
                   coalesce(own.parent_as_of, succ.parent_as_of, carried.parent_as_of)
                       AS parent_as_of,
                   CASE WHEN own.parent_code IS NOT NULL OR succ.parent_code IS NOT NULL
                        THEN true ELSE carried.in_era END AS in_era,
                   CASE WHEN own.parent_code IS NOT NULL THEN 'mapping'
                        WHEN succ.parent_code IS NOT NULL THEN 'successor mapping'
                        ELSE 'files' END AS parent_source
            FROM children c
            LEFT JOIN in_force own ON own.provider_code = c.code
            LEFT JOIN successors s ON s.code = c.code
            LEFT JOIN in_force succ ON succ.provider_code = s.current_code
            LEFT JOIN carried ON carried.child_code = c.code
            WHERE coalesce(own.parent_code, succ.parent_code, carried.parent_code) IS NOT NULL
        )
        SELECT ch.child_code, ch.parent_code,
               CASE WHEN ch.file_parent_name IS NULL OR ch.file_parent_name = ch.parent_code
                    THEN coalesce(nm.name, ch.parent_code) ELSE ch.file_parent_name END
                   AS parent_name,
               ch.parent_kind, ch.parent_as_of, ch.in_era, ch.parent_source
        FROM chosen ch LEFT JOIN ({names_sql(on)}) nm ON nm.code = ch.parent_code
    """


def hierarchy_notes(parents: pd.DataFrame, level: str, on: dt.date) -> list[str]:
    """Say which hierarchy grouped a period where it is not one of the period's own era.

    `parents` has a row per provider with `{level}_in_era` and `{level}_as_of` columns (as
    `provider_parents` gives them); providers with no parent at all are reported elsewhere.
    """
    in_era, as_of = f"{level}_in_era", f"{level}_as_of"
    frame = parents[parents[as_of].notna()] if as_of in parents else parents.iloc[0:0]
    if frame.empty:
        return []
    era = era_of(level, on)
    other = frame[frame[in_era].eq(False)]
    if other.empty:
        return []
    dates = sorted({pd.Timestamp(d).date() for d in other[as_of].dropna()})
    used = ", ".join(str(d) for d in dates[:3]) + (" ..." if len(dates) > 3 else "")
    eras = sorted({era_of(level, d).description for d in dates})
    return [
        f"{len(other)} of {len(frame)} providers have no {level} of the period's own era "
        f"({era.description}) in the warehouse; they are grouped by the hierarchy dated {used} "
        f"({'; '.join(eras)})"
    ]


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
                   coalesce(r.parent_name, 'Not mapped to a region') AS region_name,
                   s.parent_as_of AS system_as_of, s.in_era AS system_in_era,
                   s.parent_source AS system_source,
                   r.parent_as_of AS region_as_of, r.in_era AS region_in_era
            FROM wanted_codes w
            LEFT JOIN ({parents_sql("system", on)}) s ON s.child_code = w.code
            LEFT JOIN ({parents_sql("region", on)}) r ON r.child_code = w.code
            ORDER BY w.code
            """
        ).df()
    finally:
        wh.con.unregister("wanted_codes")
    return out
