"""Agreed improvement trajectories and fund allocations: the inputs to funding conditionality.

`fourhour trajectories import FILE.csv`: one row per trust per month,

    trust_code, month (YYYY-MM), trajectory_pct (0-100: percent within four hours, all types)

`fourhour allocations import FILE.csv`: one row per trust per financial year,

    trust_code, financial_year (2016-17), allocation_gbp

Trusts must be known to the warehouse; a trust-month (or trust-year) may appear once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fourhour.errors import Location, ReaderError
from fourhour.ingest.tables import Column, money, month, org_code, percentage, read_table
from fourhour.oversight.known import known_codes
from fourhour.warehouse import Warehouse
from fourhour.warehouse.reference import ROW, ImportOutcome, duplicate_keys, store_reference

TRUST = Column(
    "trust_code", org_code, "an ODS trust code such as RXQ", aliases=("provider_code", "org_code")
)
TRAJECTORY_COLUMNS = (
    TRUST,
    Column("month", month, "a month as YYYY-MM"),
    Column(
        "trajectory_pct",
        percentage,
        "a percentage from 0 to 100",
        aliases=("trajectory", "trajectory_percent"),
    ),
)
_FY = re.compile(r"^(\d{4})[-/](\d{2})$")


def financial_year_label(text: str) -> str:
    """'2016-17' or '2016/17' -> '2016-17'; the second year must follow the first."""
    m = _FY.match(text.strip())
    if not m or (int(m[1]) + 1) % 100 != int(m[2]):
        raise ValueError("not a financial year")
    return f"{m[1]}-{m[2]}"


ALLOCATION_COLUMNS = (
    TRUST,
    Column("financial_year", financial_year_label, "a financial year such as 2016-17"),
    Column("allocation_gbp", money, "an amount in pounds, not negative", aliases=("allocation",)),
)


def _known_trusts(wh: Warehouse, records, path: Path) -> None:
    known = known_codes(wh.con, "provider")
    for r in records:
        if r["trust_code"] not in known:
            raise ReaderError(
                r.location("trust_code"),
                f"{r['trust_code']} is not a trust the warehouse knows",
                expected="a trust with returns or in the organisation mapping "
                "(ingest those first, or correct the code)",
            )


def _import_per_trust(
    wh: Warehouse,
    path: Path,
    columns: tuple,
    *,
    what: str,
    table: str,
    key: str,
    value: str,
    replace: bool,
) -> ImportOutcome:
    """Read, validate (trusts known, one row per trust and `key`) and store a per-trust table."""
    parsed = read_table(path, columns, what)
    if not parsed.records:
        raise ReaderError(Location(str(path), 1), "the file has a header but no rows")
    _known_trusts(wh, parsed.records, path)
    frame = pd.DataFrame(
        [
            {ROW: r.row, "org_code": r["trust_code"], key: r[key], value: r[value]}
            for r in parsed.records
        ]
    )
    keys = ["org_code", key]
    duplicate_keys(frame, keys, path, what)
    return store_reference(wh, path, frame, table=table, keys=keys, what=what, replace=replace)


def import_trajectories(wh: Warehouse, path: Path, *, replace: bool = False) -> ImportOutcome:
    return _import_per_trust(
        wh, path, TRAJECTORY_COLUMNS, what="trajectories", table="trajectories", key="month",
        value="trajectory_pct", replace=replace,
    )  # fmt: skip


def import_allocations(wh: Warehouse, path: Path, *, replace: bool = False) -> ImportOutcome:
    return _import_per_trust(
        wh, path, ALLOCATION_COLUMNS, what="fund allocations", table="fund_allocations",
        key="financial_year", value="allocation_gbp", replace=replace,
    )  # fmt: skip
