"""NHS England's monthly A&E Attendances and Emergency Admissions CSV (the MSitAE flat file).

Columns: Period ('MSitAE-APRIL-2019'), Org Code, Parent Org (the NHS England region), Org name,
attendances by type 1, type 2 and other department, the same for booked appointments (from
August 2020), attendances over 4 hours by the same types (and booked), 4-12 and 12+ hour waits
from decision to admit, emergency admissions via type 1, type 2 and other A&E, and other
emergency admissions.

The wording changed over the years, so columns are matched on header text with the variations
folded away (never by position):
- 2019-20 says "Number of A&E attendances Type 1" and "Number of attendances over 4hrs ... Other
  A&E Department"; from April 2020 "A&E attendances Type 1" and "Attendances over 4hrs Other
  Department". A leading "Number of" is dropped and "Other A&E Department" read as "Other
  Department".
- Columns with a blank or unknown header (e.g. the six empty trailing columns of September
  2024, the last headed "a") are ignored.

Headline figures since August 2020 count booked appointments, so attendances and breaches by
type here are unbooked + booked (NHS England's totals); booked_type* keeps the booked
attendances on their own.

The last row is the file's total: `,,,TOTAL,...` (2019-20), `TOTAL,TOTAL,...` (2020 on) or
`Total ,Total ,...` (mixed case, trailing spaces). Any row whose Period, Org Code, Parent Org or
Org name reads "Total" (or "England") is the total row, never a provider. It must equal the sum
of the provider rows column by column; it is used only for that check and is not stored as a
national total, because NHS England's national time series is the published England figure
for these months (it leaves out the field-test trusts' four-hour figures, which the total row
cannot).

Parent Org is the NHS England region: 2019-20 names carry a sub-region in brackets ("NHS
ENGLAND MIDLANDS (CENTRAL MIDLANDS)"), later files a trailing space. Both are stored as the
provider's region under one spelling ("Midlands").
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import (
    HEADER_SCAN_ROWS,
    MONTHS,
    Header,
    check_complete_csv_row,
    text,
)
from fourhour.ingest.model import ReadResult, returns_frame, totals_frame
from fourhour.ingest.regions import canonical_region
from fourhour.ingest.source import Cell, Sheet
from fourhour.ingest.values import norm_header, parse_count
from fourhour.periods import Period, month

TYPES = {"type1": "type 1", "type2": "type 2", "type3": "other department"}
COLUMNS: dict[str, tuple[str, ...]] = {
    **{f"att_{k}": (f"a&e attendances {v}",) for k, v in TYPES.items()},
    **{f"bookedatt_{k}": (f"a&e attendances booked appointments {v}",) for k, v in TYPES.items()},
    **{f"over_{k}": (f"attendances over 4hrs {v}",) for k, v in TYPES.items()},
    **{
        f"bookedover_{k}": (f"attendances over 4hrs booked appointments {v}",)
        for k, v in TYPES.items()
    },
    "dta_4_12h": (
        "patients who have waited 4-12 hs from dta to admission",
        "patients who have waited 4-12 hrs from dta to admission",
    ),
    "dta_over_12h": ("patients who have waited 12+ hrs from dta to admission",),
    "adm_type1": ("emergency admissions via a&e - type 1",),
    "adm_type2": ("emergency admissions via a&e - type 2",),
    "adm_type3": ("emergency admissions via a&e - other department",),
    "adm_other": ("other emergency admissions",),
}
REQUIRED = ("period", "org code", "a&e attendances type 1", "attendances over 4hrs type 1")
TOTAL_MARKERS = frozenset({"total", "england", "total england"})
_PERIOD = re.compile(r"([a-z]+)[-_ ](\d{4})$", re.I)
_BRACKETS = re.compile(r"\s*\(.*\)\s*$")


def canonical_header(cell: Cell) -> str:
    """Header text with the wording that changed between years folded away."""
    h = norm_header(cell)
    h = re.sub(r"^number of ", "", h)
    return h.replace("other a&e department", "other department")


def _find_header(sheets: list[Sheet]) -> Header | None:
    wanted = set(REQUIRED)
    for sheet in sheets:
        for index, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
            cells = [canonical_header(c) for c in row]
            if wanted <= set(cells):
                return Header(sheet, index, cells)
    return None


def detect(sheets: list[Sheet]) -> bool:
    return _find_header(sheets) is not None


def _columns(header: Header) -> dict[str, int]:
    """Canonical column -> index; a column named twice is an error (the file is ambiguous)."""
    cols: dict[str, int] = {}
    for key, names in COLUMNS.items():
        found = [i for i, cell in enumerate(header.cells) if cell in names]
        if len(found) > 1:
            raise ReaderError(
                header.sheet.location(header.row_index, header.label(found[1])),
                f"two columns are headed {header.label(found[0])!r} (columns {found[0] + 1} "
                f"and {found[1] + 1})",
                expected="each count in one column",
            )
        if found:
            cols[key] = found[0]
    return cols


def _is_total(row: list[Cell], columns: list[int | None]) -> bool:
    return any(i is not None and text(row[i]).lower() in TOTAL_MARKERS for i in columns)


def _period_of(raw: str, sheet: Sheet, index: int) -> Period:
    m = _PERIOD.search(raw)
    if not m or m[1].lower() not in MONTHS:
        raise ReaderError(
            sheet.location(index, "Period"),
            "not a period",
            value=raw,
            expected="a month such as MSitAE-APRIL-2025, or TOTAL on the total row",
        )
    return month(int(m[2]), MONTHS[m[1].lower()])


def read(sheets: list[Sheet], path: Path) -> ReadResult:
    header = _find_header(sheets)
    assert header is not None  # detect() found it
    sheet = header.sheet
    cols = _columns(header)
    code_col = header.require("org code")
    period_col = header.require("period")
    name_col = header.find("org name")
    parent_col = header.find("parent org")
    records, total_rows, orgs, relations = [], [], {}, []
    seen: dict[tuple, int] = {}
    for index, row in header.data_rows():
        check_complete_csv_row(header, index)
        v = {k: parse_count(row[i], sheet, index, header.label(i)) for k, i in cols.items()}
        counts = _counts(v, cols, row, sheet, index, header)
        if _is_total(row, [period_col, code_col, parent_col, name_col]):
            total_rows.append((index, counts))
            continue
        period = _period_of(text(row[period_col]), sheet, index)
        code = text(row[code_col]).upper()
        name = text(row[name_col]) if name_col is not None else ""
        if code in ("", "-"):
            raise ReaderError(
                sheet.location(index, header.label(code_col)),
                "a provider row has no organisation code",
                value=name or None,
                expected="an ODS code such as RXQ, or TOTAL on the total row",
            )
        key = (period.end, code)
        if key in seen:
            raise ReaderError(
                sheet.location(index, header.label(code_col)),
                f"provider {code} appears twice for {period.label} (rows {seen[key] + 1} and "
                f"{index + 1})",
                expected="one row per provider and month",
            )
        seen[key] = index
        orgs[code] = name
        region = canonical_region(_BRACKETS.sub("", text(row[parent_col]))) if parent_col else None
        if region:
            relations.append(
                {"child_code": code, "relation": "region", "parent_code": None,
                 "parent_name": region}
            )  # fmt: skip
        records.append(
            {"granularity": "month", "period_start": period.start, "period_end": period.end,
             "org_code": code, "org_name": name or None, **counts, "source_row": index + 1}
        )  # fmt: skip
    periods = sorted({(r["period_start"], r["period_end"]) for r in records})
    if not records:
        raise ReaderError(
            sheet.location(header.row_index),
            "the file has a header but no provider rows",
            expected="one row per provider",
        )
    checks = []
    for index, counts in total_rows:
        if len(periods) > 1:
            raise ReaderError(
                sheet.location(index),
                f"a total row in a file covering {len(periods)} months",
                expected="one month per file when it has a total row",
            )
        start, end = periods[0]
        checks.append(
            {"granularity": "month", "period_start": start, "period_end": end,
             "area": "ENGLAND", **counts, "source_row": index + 1}
        )  # fmt: skip
    return ReadResult(
        layout="nhse-monthly-csv",
        returns=returns_frame(records),
        check_totals=totals_frame(checks),
        published=_published(cols),
        organisations=pd.DataFrame(
            {"code": list(orgs), "name": list(orgs.values()), "kind": "provider"}
        ),
        relations=pd.DataFrame(
            relations, columns=["child_code", "relation", "parent_code", "parent_name"]
        ),
        column_labels={
            **{k: header.label(i) for k, i in cols.items()},
            **{f"br_{t}": header.label(cols[f"over_{t}"]) for t in TYPES if f"over_{t}" in cols},
        },
    )


def _counts(
    v: dict[str, int | None],
    cols: dict[str, int],
    row: list[Cell],
    sheet: Sheet,
    index: int,
    header: Header,
) -> dict[str, int | None]:
    """Canonical counts of one row: attendances and breaches are unbooked + booked."""
    counts: dict[str, int | None] = {}
    for kind in TYPES:
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
    for key in ("adm_type1", "adm_type2", "adm_type3", "adm_other", "dta_4_12h", "dta_over_12h"):
        counts[key] = v.get(key)
    return counts


def _published(cols: dict[str, int]) -> tuple[str, ...]:
    """The canonical counts this file publishes (a revision replaces only these)."""
    out = [f"att_{t}" for t in TYPES if f"att_{t}" in cols]
    out += [f"br_{t}" for t in TYPES if f"over_{t}" in cols]
    out += [f"booked_{t}" for t in TYPES if f"bookedatt_{t}" in cols]
    keys = ("adm_type1", "adm_type2", "adm_type3", "adm_other", "dta_4_12h", "dta_over_12h")
    return tuple(out + [k for k in keys if k in cols])


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
