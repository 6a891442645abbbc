"""NHS England's national monthly time series workbook (England level, from August 2010).

Sheets "Activity" (attendances by type, emergency admissions, >4 and >12 hour decision-to-
admit waits), "Performance" (within and over four hours by type) and, from August 2020,
"Booking" (booked appointment attendances). Headers around row 14; sections are told apart by
the title row above. Everything is stored as published totals (area ENGLAND), never as
provider returns.

- Attendances come from "Activity"; within and over four hours from "Performance". Both are
  kept: from May 2019 to May 2023 the performance figures leave out the trusts field-testing
  new standards while the activity figures include them, so the four-hour base is within +
  over, not attendances.
- The workbook's notes say which months were estimated by apportioning weekly data into
  calendar months ("Figures from Nov 2010 to May 2015 have been estimated ..."); those months
  are marked `apportioned`. Without such a note, months with fractional counts are.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import MONTHS, Header, find_header
from fourhour.ingest.layouts.nhse_provider_sheet import _map_columns
from fourhour.ingest.model import ReadResult, totals_frame
from fourhour.ingest.source import Sheet, is_blank
from fourhour.ingest.values import parse_count
from fourhour.periods import month

ACTIVITY = (
    "period",
    "type 1 departments - major a&e",
    "total attendances",
    "emergency admissions via type 1 a&e",
)
PERFORMANCE = ("period", "type 1 departments - major a&e", "total attendances > 4 hours")
_APPORTIONED = re.compile(
    r"from\s+([a-z]+)\.?\s+(\d{4})\s+to\s+([a-z]+)\.?\s+(\d{4})[^.]*apportion", re.I
)


def apportioned_months(sheets: list[Sheet]) -> tuple[dt.date, dt.date] | None:
    """The first and last month the workbook's notes say were apportioned from weekly data."""
    for sheet in sheets:
        for row in sheet.rows:
            for cell in row:
                if isinstance(cell, str) and (m := _APPORTIONED.search(cell)):
                    first, last = MONTHS.get(m[1].lower()), MONTHS.get(m[3].lower())
                    if first and last:
                        return dt.date(int(m[2]), first, 1), dt.date(int(m[4]), last, 1)
    return None


def _sheet_header(sheets: list[Sheet], required: tuple[str, ...]) -> Header | None:
    for sheet in sheets:
        header = find_header(sheet, required)
        if header is not None and header.find("code", "org code") is None:
            return header
    return None


def detect(sheets: list[Sheet]) -> bool:
    return (
        _sheet_header(sheets, ACTIVITY) is not None
        and _sheet_header(sheets, PERFORMANCE) is not None
    )


def _rows(header: Header) -> dict[dt.date, tuple[int, list]]:
    col = header.require("period")
    out = {}
    for index, row in header.data_rows():
        cell = row[col]
        if is_blank(cell):
            continue
        if not isinstance(cell, dt.datetime | dt.date):
            raise ReaderError(
                header.sheet.location(index, "Period"),
                "not a month",
                value=cell,
                expected="a date such as 2010-08-01",
            )
        day = cell.date() if isinstance(cell, dt.datetime) else cell
        out[day.replace(day=1)] = (index, row)
    return out


def read(sheets: list[Sheet], path: Path) -> ReadResult:
    activity = _sheet_header(sheets, ACTIVITY)
    performance = _sheet_header(sheets, PERFORMANCE)
    assert activity is not None and performance is not None
    by_month: dict[dt.date, dict] = {}

    def take(header: Header, wanted: tuple[str, ...]) -> None:
        mapping, _ = _map_columns(header)
        for day, (index, row) in _rows(header).items():
            rec = by_month.setdefault(day, {"source_row": index + 1})
            for key, col in mapping.items():
                if key in wanted:
                    rec[key] = parse_count(
                        row[col], header.sheet, index, header.label(col), allow_fraction=True
                    )

    take(
        activity,
        (
            "att_type1",
            "att_type2",
            "att_type3",
            "adm_type1",
            "adm_type2",
            "adm_type3",
            "adm_other",
            "dta_over_4h",
            "dta_over_12h",
        ),
    )
    take(
        performance,
        ("br_type1", "br_type2", "br_type3", "within_type1", "within_type2", "within_type3"),
    )
    booking = _sheet_header(
        sheets,
        ("period", "type 1 departments - major a&e", "booked appointment attendances > 4 hours"),
    )
    if booking is not None:
        mapping, _ = _map_columns(booking)
        for day, (index, row) in _rows(booking).items():
            rec = by_month.setdefault(day, {"source_row": index + 1})
            for kind in ("type1", "type2", "type3"):
                col = mapping.get(f"att_{kind}")
                if col is not None:
                    rec[f"booked_{kind}"] = parse_count(
                        row[col], booking.sheet, index, booking.label(col), allow_fraction=True
                    )
    records = []
    noted = apportioned_months(sheets)
    for day, rec in sorted(by_month.items()):
        counts = [v for k, v in rec.items() if k != "source_row" and v is not None]
        if noted:
            rec["apportioned"] = noted[0] <= day <= noted[1]
        else:  # no note: fractional counts are the mark of apportioned weeks
            rec["apportioned"] = any(float(v) != int(v) for v in counts)
        over4 = rec.pop("dta_over_4h", None)
        if over4 is not None:
            rec["dta_4_12h"] = over4 - (rec.get("dta_over_12h") or 0)
        period = month(day.year, day.month)
        records.append(
            {
                "granularity": "month",
                "period_start": period.start,
                "period_end": period.end,
                "area": "ENGLAND",
                **rec,
            }
        )
    if not records:
        raise ReaderError(
            activity.sheet.location(activity.row_index),
            "the time series has no months",
            expected="one row per month",
        )
    return ReadResult(
        layout="nhse-england-timeseries",
        totals=totals_frame(records),
        notes=[
            "England-level totals only"
            + (
                f"; {noted[0]:%b %Y} - {noted[1]:%b %Y} apportioned from weekly data"
                if noted
                else ""
            )
        ],
    )


LAYOUT = Layout(
    "nhse-england-timeseries",
    "NHS England monthly A&E time series, England level (Activity and Performance sheets)",
    detect,
    read,
)
