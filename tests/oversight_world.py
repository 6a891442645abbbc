"""A small, hand-made world for oversight tests: providers, systems, weekly and monthly returns.

Returns are written straight into provider_returns (the readers have their own tests), so that
every figure the escalation engine and the funding ledger see is chosen here and can be checked
by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fourhour.warehouse import Warehouse

WEEK = dt.timedelta(days=7)

MAPPING_HEADER = (
    "provider_code,provider_name,system_code,system_name,system_kind,region_code,region_name,"
    "valid_from,valid_to,merged_into\n"
)


def mapping_row(
    code: str,
    system: str,
    region: str = "Y56",
    start: str = "2016-04-01",
    end: str = "",
    merged_into: str = "",
) -> str:
    region_name = {"Y56": "London", "Y58": "South West"}[region]
    return (
        f"{code},{code} Hospital NHS Trust,{system},{system} delivery board,aedb,{region},"
        f"{region_name},{start},{end},{merged_into}\n"
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def put_return(
    wh: Warehouse,
    code: str,
    period_end: dt.date,
    attendances: int,
    breaches: int,
    *,
    granularity: str = "week",
    dta_12h: int | None = 0,
    type1_only: bool = False,
) -> None:
    """One provider return: all attendances at type 1 (types 2 and 3 zero unless type1_only)."""
    start = (
        period_end - dt.timedelta(days=6) if granularity == "week" else period_end.replace(day=1)
    )
    other = None if type1_only else 0
    wh.con.execute(
        """
        INSERT OR REPLACE INTO provider_returns (granularity, period_start, period_end, org_code,
            att_type1, att_type2, att_type3, br_type1, br_type2, br_type3, dta_over_12h,
            ingest_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
        """,
        [granularity, start, period_end, code, attendances, other, other, breaches, other, other,
         dta_12h],
    )  # fmt: skip


def put_series(
    wh: Warehouse,
    code: str,
    last_week: dt.date,
    percentages: list[float],
    attendances: int = 1000,
    dta_12h: list[int] | None = None,
) -> None:
    """Weekly returns ending at `last_week`, oldest first, with the given performance."""
    n = len(percentages)
    for i, pct in enumerate(percentages):
        week = last_week - WEEK * (n - 1 - i)
        breaches = round(attendances * (100 - pct) / 100)
        put_return(wh, code, week, attendances, breaches, dta_12h=(dta_12h or [0] * n)[i])


def wobble(level: float, n: int, amplitude: float = 0.3) -> list[float]:
    """A stable series with small alternating variation (so SPC limits are not degenerate)."""
    return [level + (amplitude if i % 2 else -amplitude) for i in range(n)]
