"""Write NHS England's provider sheet (the layout `fourhour ingest` reads as nhse-provider-sheet).

Used by the synthetic weekly returns and by `fourhour patients to-returns`, which turns
patient-level records into the return a provider would have published for the period.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

_T1 = "Type 1 Departments - Major A&E"
_T2 = "Type 2 Departments - Single Specialty"
_T3 = "Type 3 Departments - Other A&E/Minor Injury Unit"
HEADER: tuple[str, ...] = (
    "Code", "Region", "Name",
    _T1, _T2, _T3, "Total attendances",
    _T1, _T2, _T3, "Total Attendances < 4 hours",
    _T1, _T2, _T3, "Total Attendances > 4 hours",
    "Percentage in 4 hours or less (all)",
    "Percentage in 4 hours or less (type 1)",
    "Percentage in 4 hours or less (type 2)",
    "Percentage in 4 hours or less (type 3)",
    "Emergency Admissions via Type 1 A&E",
    "Emergency Admissions via Type 2 A&E",
    "Emergency Admissions via Type 3 and 4 A&E",
    "Total Emergency Admissions via A&E",
    "Other Emergency admissions (i.e not via A&E)",
    "Total Emergency Admissions",
    "Number of patients spending >4 hours from decision to admit to admission",
    "Number of patients spending >12 hours from decision to admit to admission",
)  # fmt: skip


@dataclass(frozen=True)
class ProviderReturn:
    code: str
    region: str
    name: str
    attendances: tuple[int, int, int]  # types 1, 2, 3 (3 and 4 together)
    breaches: tuple[int, int, int]
    admissions: tuple[int, int, int]
    other_admissions: int | None  # None: not known (patient-level A&E records lack them)
    dta_over_4h: int  # includes those over 12 hours, as NHS England publishes it
    dta_over_12h: int


def _n(value: int | None) -> str:
    return "-" if value is None else f"{int(value):,}"


def _pct(within: int, attendances: int) -> str:
    """As NHS England prints it: one decimal place shown with two ('72.90%'); '-' if none."""
    if attendances == 0:
        return "-"
    return f"{round(100.0 * within / attendances, 1):.2f}%"


def provider_sheet_csv(
    rows: Iterable[ProviderReturn], *, title: str | None = None, period: str | None = None
) -> bytes:
    """The sheet as CSV; with a title and period (e.g. 'WE-2024-01-07' or 'January 2024'), a
    preamble as NHS England's own sheets carry, from which the reader takes the period."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if title:
        writer.writerow(["Title:", title])
    if period:
        writer.writerow(["Period:", period])
    if title or period:
        writer.writerow([])
    writer.writerow(HEADER)
    for r in rows:
        att, over, adm = list(r.attendances), list(r.breaches), list(r.admissions)
        within = [a - b for a, b in zip(att, over, strict=True)]
        writer.writerow(
            [
                r.code, r.region, r.name,
                *map(_n, att), _n(sum(att)),
                *map(_n, within), _n(sum(within)),
                *map(_n, over), _n(sum(over)),
                _pct(sum(within), sum(att)),
                *(_pct(x, a) for x, a in zip(within, att, strict=True)),
                *map(_n, adm), _n(sum(adm)),
                _n(r.other_admissions),
                _n(None if r.other_admissions is None else sum(adm) + r.other_admissions),
                _n(r.dta_over_4h), _n(r.dta_over_12h),
            ]
        )  # fmt: skip
    return buffer.getvalue().encode("utf-8")
