"""Weekly type 1 returns as compiled by the BBC's winter tracker (2010-11 to 2014-15).

Columns: name (no code), patients_seen_in_four_hours (type 1 %, one decimal place),
attendances_at_ane, emergency_admissions_via_type_1_ae, analysisdate (week ending YYYY.MM.DD).
Breaches are not published: attendances x (1 - %/100), rounded to the nearest whole patient,
recovers them to within the rounding of the percentage, and the rows are marked estimated.
Providers are named, not coded: the loader resolves names to ODS codes.
"""

from __future__ import annotations

from pathlib import Path

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import check_complete_csv_row, first_sheet_with, text
from fourhour.ingest.model import ReadResult, returns_frame
from fourhour.ingest.source import Sheet
from fourhour.ingest.values import parse_count, parse_date, parse_percent
from fourhour.periods import week_ending

REQUIRED = (
    "name",
    "patients_seen_in_four_hours",
    "attendances_at_ane",
    "emergency_admissions_via_type_1_ae",
    "analysisdate",
)


def detect(sheets: list[Sheet]) -> bool:
    return first_sheet_with(sheets, REQUIRED) is not None


def estimate_breaches(attendances: int, pct_within: float) -> int:
    """Breaches recovered from a percentage within four hours (half up, never above attendances)."""
    return min(attendances, int(attendances * (100.0 - pct_within) / 100.0 + 0.5))


def read(sheets: list[Sheet], path: Path) -> ReadResult:
    header = first_sheet_with(sheets, REQUIRED)
    assert header is not None  # detect() found it
    sheet = header.sheet
    col = {name: header.require(name) for name in REQUIRED}
    records = []
    seen: dict[tuple, int] = {}
    for index, row in header.data_rows():
        check_complete_csv_row(header, index)
        name = text(row[col["name"]])
        if not name:
            raise ReaderError(
                sheet.location(index, "name"), "empty trust name", expected="a trust's name"
            )
        day = parse_date(row[col["analysisdate"]], sheet, index, "analysisdate")
        if day.weekday() != 6:
            raise ReaderError(
                sheet.location(index, "analysisdate"),
                f"week ending {day} is a {day:%A}",
                value=row[col["analysisdate"]],
                expected="a Sunday (weekly returns end on Sundays)",
            )
        key = (day, name.lower())
        if key in seen:
            raise ReaderError(
                sheet.location(index, "name"),
                f"{name!r} appears twice for the week ending {day} (rows {seen[key] + 1} and "
                f"{index + 1})",
                expected="one row per trust and week",
            )
        seen[key] = index
        att = parse_count(row[col["attendances_at_ane"]], sheet, index, "attendances_at_ane")
        pct = parse_percent(
            row[col["patients_seen_in_four_hours"]], sheet, index, "patients_seen_in_four_hours"
        )
        adm = parse_count(
            row[col["emergency_admissions_via_type_1_ae"]],
            sheet,
            index,
            "emergency_admissions_via_type_1_ae",
        )
        period = week_ending(day)
        records.append(
            {
                "granularity": "week",
                "period_start": period.start,
                "period_end": period.end,
                "org_code": None,
                "org_name": name,
                "att_type1": att,
                "br_type1": None if att is None or pct is None else estimate_breaches(att, pct),
                "adm_type1": adm,
                "breaches_estimated": True,
                "source_row": index + 1,
            }
        )
    return ReadResult(
        layout="bbc-weekly-type1",
        returns=returns_frame(records),
        published=("att_type1", "br_type1", "adm_type1"),
        column_labels={
            "att_type1": "attendances_at_ane",
            "br_type1": "patients_seen_in_four_hours",
            "adm_type1": "emergency_admissions_via_type_1_ae",
        },
        notes=["type 1 breaches estimated from the published percentage within four hours"],
    )


LAYOUT = Layout(
    "bbc-weekly-type1",
    "Weekly type 1 A&E performance by trust name (BBC winter tracker, 2010-2014)",
    detect,
    read,
)
