"""Weekly type 1 situation reports with ODS codes (BBC winter tracker, winter 2014-15).

Columns: week_ending, code, name, attendances_at_ane (type 1), patients_waiting_over_4hrs_
tobe_admitted (in fact type 1 attendances over four hours), emergency_admissions (via type 1
A&E), trolley_wait_4_to_12hrs: 4-12 hour decision-to-admit waits up to the week ending
2014-12-28, and 12+ hour waits from the week ending 2015-01-04 (the tracker changed what it
showed). Ambulance, cancelled operation, delayed transfer and norovirus columns are not A&E
returns and are not stored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import check_complete_csv_row, first_sheet_with, text
from fourhour.ingest.model import ReadResult, returns_frame
from fourhour.ingest.source import Sheet
from fourhour.ingest.values import parse_count, parse_date
from fourhour.periods import week_ending

REQUIRED = (
    "week_ending",
    "code",
    "name",
    "attendances_at_ane",
    "patients_waiting_over_4hrs_tobe_admitted",
    "emergency_admissions",
    "trolley_wait_4_to_12hrs",
)
TROLLEY_SWITCH = dt.date(2015, 1, 4)  # from this week ending the column holds 12+ hour waits


def detect(sheets: list[Sheet]) -> bool:
    return first_sheet_with(sheets, REQUIRED) is not None


def read(sheets: list[Sheet], path: Path) -> ReadResult:
    header = first_sheet_with(sheets, REQUIRED)
    assert header is not None  # detect() found it
    sheet = header.sheet
    col = {name: header.require(name) for name in REQUIRED}
    records = []
    orgs = {}
    seen: dict[tuple, int] = {}
    for index, row in header.data_rows():
        check_complete_csv_row(header, index)
        day = parse_date(row[col["week_ending"]], sheet, index, "week_ending")
        if day.weekday() != 6:
            raise ReaderError(
                sheet.location(index, "week_ending"),
                f"week ending {day} is a {day:%A}",
                value=row[col["week_ending"]],
                expected="a Sunday",
            )
        code = text(row[col["code"]]).upper()
        if not code:
            raise ReaderError(sheet.location(index, "code"), "empty code", expected="an ODS code")
        key = (day, code)
        if key in seen:
            raise ReaderError(
                sheet.location(index, "code"),
                f"{code} appears twice for the week ending {day} (rows {seen[key] + 1} and "
                f"{index + 1})",
                expected="one row per trust and week",
            )
        seen[key] = index
        name = text(row[col["name"]])
        orgs[code] = name
        trolley = parse_count(
            row[col["trolley_wait_4_to_12hrs"]], sheet, index, "trolley_wait_4_to_12hrs"
        )
        period = week_ending(day)
        records.append(
            {
                "granularity": "week",
                "period_start": period.start,
                "period_end": period.end,
                "org_code": code,
                "org_name": name,
                "att_type1": parse_count(
                    row[col["attendances_at_ane"]], sheet, index, "attendances_at_ane"
                ),
                "br_type1": parse_count(
                    row[col["patients_waiting_over_4hrs_tobe_admitted"]],
                    sheet,
                    index,
                    "patients_waiting_over_4hrs_tobe_admitted",
                ),
                "adm_type1": parse_count(
                    row[col["emergency_admissions"]], sheet, index, "emergency_admissions"
                ),
                "dta_4_12h": trolley if day < TROLLEY_SWITCH else None,
                "dta_over_12h": trolley if day >= TROLLEY_SWITCH else None,
                "source_row": index + 1,
            }
        )
    import pandas as pd

    return ReadResult(
        layout="bbc-weekly-sitrep",
        returns=returns_frame(records),
        published=("att_type1", "br_type1", "adm_type1", "dta_4_12h", "dta_over_12h"),
        organisations=pd.DataFrame(
            {"code": list(orgs), "name": list(orgs.values()), "kind": "provider"}
        ),
        column_labels={
            "att_type1": "attendances_at_ane",
            "br_type1": "patients_waiting_over_4hrs_tobe_admitted",
            "adm_type1": "emergency_admissions",
            "dta_4_12h": "trolley_wait_4_to_12hrs",
            "dta_over_12h": "trolley_wait_4_to_12hrs",
        },
    )


LAYOUT = Layout(
    "bbc-weekly-sitrep",
    "Weekly type 1 situation reports with ODS codes and trolley waits (BBC tracker, 2014-15)",
    detect,
    read,
)
