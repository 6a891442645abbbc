"""The NHS-R community's tidy monthly layout (NHSRdatasets `ae_attendances`).

Columns: period (first day of the month), org_code, type ('1', '2' or 'other' = types 3 and 4;
'3' and '4' are accepted and summed), attendances, breaches, admissions. One row per
provider, month and type.
"""

from __future__ import annotations

from pathlib import Path

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import check_complete_csv_row, first_sheet_with, text
from fourhour.ingest.model import ReadResult, returns_frame
from fourhour.ingest.source import Sheet
from fourhour.ingest.values import parse_count, parse_date
from fourhour.periods import month

REQUIRED = ("period", "org_code", "type", "attendances", "breaches", "admissions")
TYPE_MAP = {"1": "type1", "2": "type2", "other": "type3", "3": "type3", "4": "type3"}


def detect(sheets: list[Sheet]) -> bool:
    return first_sheet_with(sheets, REQUIRED) is not None


def read(sheets: list[Sheet], path: Path) -> ReadResult:
    header = first_sheet_with(sheets, REQUIRED)
    assert header is not None  # detect() found it
    sheet = header.sheet
    col = {name: header.require(name) for name in REQUIRED}
    records: dict[tuple, dict] = {}
    seen: dict[tuple, int] = {}
    for index, row in header.data_rows():
        check_complete_csv_row(header, index)
        day = parse_date(row[col["period"]], sheet, index, "period")
        if day.day != 1:
            raise ReaderError(
                sheet.location(index, "period"),
                "period is not the first day of a month",
                value=row[col["period"]],
                expected="the first day of the month the row describes, e.g. 2017-03-01",
            )
        code = text(row[col["org_code"]]).upper()
        if not code:
            raise ReaderError(
                sheet.location(index, "org_code"),
                "empty organisation code",
                expected="an ODS code such as RXQ",
            )
        raw_type = text(row[col["type"]]).lower()
        kind = TYPE_MAP.get(raw_type)
        if kind is None:
            raise ReaderError(
                sheet.location(index, "type"),
                "unknown department type",
                value=row[col["type"]],
                expected="1, 2, 3, 4 or other",
            )
        key3 = (day, code, raw_type)
        if key3 in seen:
            raise ReaderError(
                sheet.location(index, "org_code"),
                f"{code} appears twice for {day:%B %Y} type {raw_type} (rows {seen[key3] + 1} "
                f"and {index + 1})",
                expected="one row per provider, month and type",
            )
        seen[key3] = index
        att = parse_count(row[col["attendances"]], sheet, index, "attendances")
        br = parse_count(row[col["breaches"]], sheet, index, "breaches")
        adm = parse_count(row[col["admissions"]], sheet, index, "admissions")
        if att is not None and br is not None and br > att:
            raise ReaderError(
                sheet.location(index, "breaches"),
                f"breaches exceed attendances ({br} > {att})",
                value=row[col["breaches"]],
                expected=f"at most {att}",
            )
        period = month(day.year, day.month)
        rec = records.setdefault(
            (day, code),
            {
                "granularity": "month",
                "period_start": period.start,
                "period_end": period.end,
                "org_code": code,
                "org_name": None,
                "source_row": index + 1,
            },
        )
        for prefix, value in (("att", att), ("br", br), ("adm", adm)):
            column = f"{prefix}_{kind}"
            if value is not None:
                rec[column] = (rec.get(column) or 0) + value
    published = tuple(
        f"{prefix}_{t}" for prefix in ("att", "br", "adm") for t in ("type1", "type2", "type3")
    )
    # The tidy layout lists only the department types a provider has: an absent type is zero.
    for rec in records.values():
        for column in published:
            rec.setdefault(column, 0)
    return ReadResult(
        layout="nhsr-tidy-monthly",
        returns=returns_frame(list(records.values())),
        published=published,
        column_labels={
            **{f"att_{t}": "attendances" for t in ("type1", "type2", "type3")},
            **{f"br_{t}": "breaches" for t in ("type1", "type2", "type3")},
            **{f"adm_{t}": "admissions" for t in ("type1", "type2", "type3")},
        },
    )


LAYOUT = Layout(
    "nhsr-tidy-monthly",
    "NHS-R community tidy monthly returns: period, org_code, type, attendances, breaches, "
    "admissions",
    detect,
    read,
)
