"""NHS England's national monthly time series workbook (England level, from August 2010).

Sheets "Activity" (attendances by type, emergency admissions, >4 and >12 hour decision-to-
admit waits), "Performance" (within and over four hours by type) and, from August 2020,
"Booking" (booked appointment attendances). Headers around row 14; sections are told apart by
the title row above. Months from November 2010 to May 2015 were estimated by apportioning
weekly data, so counts may be fractional: they are stored as published totals (area
ENGLAND), never as provider returns.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import Header, find_header
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
    take(performance, ("br_type1", "br_type2", "br_type3"))
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
    for day, rec in sorted(by_month.items()):
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
        notes=["England-level totals only; Nov 2010 - May 2015 estimated from weekly data"],
    )


LAYOUT = Layout(
    "nhse-england-timeseries",
    "NHS England monthly A&E time series, England level (Activity and Performance sheets)",
    detect,
    read,
)
