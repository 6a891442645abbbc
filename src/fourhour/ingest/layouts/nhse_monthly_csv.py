"""NHS England's monthly A&E Attendances and Emergency Admissions CSV (today's layout).

Columns: Period ('MSitAE-APRIL-2025'), Org Code, Parent Org, Org name, "A&E attendances Type 1",
"... Type 2", "... Other A&E Department", the same for Booked Appointments, "Attendances over
4hrs Type 1" ... "Other Department" and their Booked Appointments, "Patients who have waited
4-12 hs from DTA to admission", "... 12+ hrs ...", "Emergency admissions via A&E - Type 1",
"- Type 2", "- Other A&E department", "Other emergency admissions".

Headline figures since August 2020 count booked appointments, so attendances and breaches by
type here are unbooked + booked; booked_type* keeps the booked attendances on their own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import (
    MONTHS,
    check_complete_csv_row,
    first_sheet_with,
    text,
)
from fourhour.ingest.model import ReadResult, returns_frame, totals_frame
from fourhour.ingest.source import Sheet
from fourhour.ingest.values import parse_count
from fourhour.periods import month

TYPES = {"type1": "type 1", "type2": "type 2", "type3": "other a&e department"}
TYPES_OVER = {"type1": "type 1", "type2": "type 2", "type3": "other department"}
COLUMNS: dict[str, tuple[str, ...]] = {
    **{f"att_{k}": (f"a&e attendances {v}",) for k, v in TYPES.items()},
    **{
        f"bookedatt_{k}": (f"a&e attendances booked appointments {v}",)
        for k, v in TYPES_OVER.items()
    },
    **{f"over_{k}": (f"attendances over 4hrs {v}",) for k, v in TYPES_OVER.items()},
    **{
        f"bookedover_{k}": (f"attendances over 4hrs booked appointments {v}",)
        for k, v in TYPES_OVER.items()
    },
    "dta_4_12h": (
        "patients who have waited 4-12 hs from dta to admission",
        "patients who have waited 4-12 hrs from dta to admission",
    ),
    "dta_over_12h": ("patients who have waited 12+ hrs from dta to admission",),
    "adm_type1": ("emergency admissions via a&e - type 1",),
    "adm_type2": ("emergency admissions via a&e - type 2",),
    "adm_type3": ("emergency admissions via a&e - other a&e department",),
    "adm_other": ("other emergency admissions",),
}
REQUIRED = ("period", "org code", "a&e attendances type 1", "attendances over 4hrs type 1")
_PERIOD = re.compile(r"([a-z]+)[-_ ](\d{4})$", re.I)


def detect(sheets: list[Sheet]) -> bool:
    return first_sheet_with(sheets, REQUIRED) is not None


def read(sheets: list[Sheet], path: Path) -> ReadResult:
    header = first_sheet_with(sheets, REQUIRED)
    assert header is not None  # detect() found it
    sheet = header.sheet
    cols = {key: i for key, names in COLUMNS.items() if (i := header.find(*names)) is not None}
    code_col = header.require("org code")
    period_col = header.require("period")
    name_col = header.find("org name")
    parent_col = header.find("parent org")
    records, totals, orgs, relations = [], [], {}, []
    seen: dict[tuple, int] = {}
    for index, row in header.data_rows():
        check_complete_csv_row(header, index)
        raw_period = text(row[period_col])
        m = _PERIOD.search(raw_period)
        if not m or m[1].lower() not in MONTHS:
            raise ReaderError(
                sheet.location(index, "Period"),
                "not a period",
                value=raw_period,
                expected="a month such as MSitAE-APRIL-2025",
            )
        period = month(int(m[2]), MONTHS[m[1].lower()])
        v = {k: parse_count(row[i], sheet, index, header.label(i)) for k, i in cols.items()}
        counts: dict[str, int | None] = {}
        for kind in ("type1", "type2", "type3"):
            att = _add(v.get(f"att_{kind}"), v.get(f"bookedatt_{kind}"))
            over = _add(v.get(f"over_{kind}"), v.get(f"bookedover_{kind}"))
            if att is not None and over is not None and over > att:
                col = cols[f"over_{kind}"]
                raise ReaderError(
                    sheet.location(index, header.label(col)),
                    f"attendances over four hours exceed attendances ({over} > {att})",
                    value=row[col],
                    expected=f"at most {att}",
                )
            counts[f"att_{kind}"] = att
            counts[f"br_{kind}"] = over
            counts[f"booked_{kind}"] = v.get(f"bookedatt_{kind}")
        for key in (
            "adm_type1",
            "adm_type2",
            "adm_type3",
            "adm_other",
            "dta_4_12h",
            "dta_over_12h",
        ):
            counts[key] = v.get(key)
        code = text(row[code_col]).upper()
        name = text(row[name_col]) if name_col is not None else ""
        base = {"granularity": "month", "period_start": period.start, "period_end": period.end}
        if code in ("", "-", "TOTAL", "ENGLAND") or name.upper() in ("TOTAL", "ENGLAND"):
            totals.append({**base, "area": "ENGLAND", **counts, "source_row": index + 1})
            continue
        key = (period.end, code)
        if key in seen:
            raise ReaderError(
                sheet.location(index, "Org Code"),
                f"provider {code} appears twice for {period.label} (rows {seen[key] + 1} and "
                f"{index + 1})",
                expected="one row per provider and month",
            )
        seen[key] = index
        orgs[code] = name
        if parent_col is not None and text(row[parent_col]):
            relations.append(
                {
                    "child_code": code,
                    "relation": "system",
                    "parent_code": text(row[parent_col]).upper(),
                    "parent_name": text(row[parent_col]),
                }
            )
        records.append(
            {**base, "org_code": code, "org_name": name or None, **counts, "source_row": index + 1}
        )
    published = tuple(
        k
        for k in (
            *(f"{p}_{t}" for p in ("att", "br") for t in TYPES),
            *(f"booked_{t}" for t in TYPES if f"bookedatt_{t}" in cols),
            "adm_type1",
            "adm_type2",
            "adm_type3",
            "adm_other",
            "dta_4_12h",
            "dta_over_12h",
        )
        if k in cols or k.startswith(("att_", "br_", "booked_"))
    )
    return ReadResult(
        layout="nhse-monthly-csv",
        returns=returns_frame(records),
        totals=totals_frame(totals),
        published=published,
        organisations=pd.DataFrame(
            {"code": list(orgs), "name": list(orgs.values()), "kind": "provider"}
        ),
        relations=pd.DataFrame(
            relations, columns=["child_code", "relation", "parent_code", "parent_name"]
        ),
        column_labels={k: header.label(i) for k, i in cols.items()},
    )


def _add(a: int | None, b: int | None) -> int | None:
    if a is None and b is None:
        return None
    return (a or 0) + (b or 0)


LAYOUT = Layout(
    "nhse-monthly-csv",
    "NHS England monthly A&E Attendances and Emergency Admissions CSV (Period, Org Code, ...)",
    detect,
    read,
)
