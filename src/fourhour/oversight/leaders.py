"""Accountable leaders: who answers for which organisation, over which dates.

`fourhour leaders import FILE.csv` takes one row per appointment:

    role, org_code, name, valid_from, valid_to

Roles: `national_leader` (org_code ENGLAND: the single national leader for urgent and emergency
care), `regional_director` (a region), `system_chair` (a local system: the chair of the A&E
delivery board or its successor), `trust_chief_executive` (a trust). The organisation must be
known to the warehouse (from returns or an organisation mapping); two appointments to the same
role and organisation must not overlap in time. Every escalation and funding decision names
the leaders in post on the date it concerns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from fourhour.errors import Location, ReaderError
from fourhour.ingest.tables import Column, date, nonempty_text, one_of, read_table
from fourhour.oversight.known import known_codes
from fourhour.warehouse import Warehouse
from fourhour.warehouse.reference import (
    ROW,
    ImportOutcome,
    duplicate_keys,
    overlapping_intervals,
    store_reference,
)

ROLES = ("national_leader", "regional_director", "system_chair", "trust_chief_executive")
ROLE_TITLES = {
    "national_leader": "national leader for urgent and emergency care",
    "regional_director": "regional director",
    "system_chair": "system board chair",
    "trust_chief_executive": "trust chief executive",
}
ROLE_KIND = {
    "national_leader": "england",
    "regional_director": "region",
    "system_chair": "system",
    "trust_chief_executive": "provider",
}
WHAT = "accountable leaders"

COLUMNS = (
    Column("role", one_of(*ROLES), "one of " + ", ".join(ROLES)),
    Column("org_code", nonempty_text, "the code of the organisation the leader answers for"),
    Column("name", nonempty_text, "the leader's name", aliases=("leader", "leader_name")),
    Column("valid_from", date, "a date as YYYY-MM-DD"),
    Column("valid_to", date, "a date as YYYY-MM-DD, or blank", True, True),
)


@dataclass(frozen=True)
class Leader:
    role: str
    org_code: str
    name: str

    @property
    def title(self) -> str:
        return ROLE_TITLES[self.role]

    def describe(self) -> str:
        return f"{self.name} ({self.title}, {self.org_code})"

    def as_dict(self) -> dict[str, str]:
        return {
            "role": self.role,
            "title": self.title,
            "org_code": self.org_code,
            "name": self.name,
        }


def import_leaders(wh: Warehouse, path: Path, *, replace: bool = False) -> ImportOutcome:
    table = read_table(path, COLUMNS, WHAT)
    if not table.records:
        raise ReaderError(Location(str(path), 1), "the file has a header but no rows")
    known = {kind: _folded(known_codes(wh.con, kind)) for kind in set(ROLE_KIND.values())}
    rows = []
    for r in table.records:
        kind = ROLE_KIND[r["role"]]
        code = known[kind].get(r["org_code"].upper())
        if code is None:
            raise ReaderError(
                r.location("org_code"),
                f"{r['org_code']} is not a known {kind if kind != 'england' else 'code'} for a "
                f"{ROLE_TITLES[r['role']]}",
                expected=(
                    "ENGLAND"
                    if kind == "england"
                    else f"a {kind} code the warehouse knows (import returns and the "
                    "organisation mapping first)"
                ),
            )
        if r["valid_to"] is not None and r["valid_to"] < r["valid_from"]:
            raise ReaderError(
                r.location("valid_to"),
                f"valid_to {r['valid_to']} is before valid_from {r['valid_from']}",
                expected="valid_to on or after valid_from",
            )
        rows.append({ROW: r.row, **r.values, "org_code": code})
    frame = pd.DataFrame(rows)[[ROW, "role", "org_code", "name", "valid_from", "valid_to"]]
    keys = ["role", "org_code", "valid_from"]
    duplicate_keys(frame, keys, path, WHAT)
    incoming = {(f["role"], f["org_code"], f["valid_from"]): f[ROW] for f in rows}

    def check(con: duckdb.DuckDBPyConnection, ingest_id: int) -> int:
        overlapping_intervals(con, "leaders", ["role", "org_code"], path, WHAT, incoming)
        return 0

    return store_reference(
        wh, path, frame, table="leaders", keys=keys, what=WHAT, replace=replace, check=check
    )


def _folded(codes: set[str]) -> dict[str, str]:
    return {c.upper(): c for c in codes}


def leaders_on(
    wh: Warehouse, on: dt.date, wanted: list[tuple[str, str]]
) -> dict[tuple[str, str], Leader]:
    """Leaders in post on `on` for each (role, org_code) wanted that has one."""
    if not wanted:
        return {}
    frame = pd.DataFrame(wanted, columns=["role", "org_code"]).drop_duplicates()
    wh.con.register("wanted_leaders", frame)
    try:
        rows = wh.con.execute(
            """
            SELECT l.role, l.org_code, l.name FROM leaders l
            JOIN wanted_leaders w ON w.role = l.role AND upper(w.org_code) = upper(l.org_code)
            WHERE l.valid_from <= ? AND coalesce(l.valid_to, DATE '9999-12-31') >= ?
            """,
            [on, on],
        ).fetchall()
    finally:
        wh.con.unregister("wanted_leaders")
    return {(role, code): Leader(role, code, name) for role, code, name in rows}


def accountable(
    wh: Warehouse,
    on: dt.date,
    *,
    trusts: list[str] = (),  # type: ignore[assignment]
    system: str | None = None,
    region: str | None = None,
) -> list[Leader]:
    """The chain of leaders answerable on `on`: trust chief executives, the system chair, the
    regional director and the national leader, in that order, for those in post."""
    wanted = [("trust_chief_executive", t) for t in trusts]
    if system:
        wanted.append(("system_chair", system))
    if region:
        wanted.append(("regional_director", region))
    wanted.append(("national_leader", "ENGLAND"))
    found = leaders_on(wh, on, wanted)
    return [found[w] for w in wanted if w in found]
