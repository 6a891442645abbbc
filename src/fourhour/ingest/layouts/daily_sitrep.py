"""NHS England's weekly "Daily Hospital Situation Report" workbooks (winter 2014-15).

Each workbook covers Monday to Sunday in many sheets. A sheet's header row holds `Area Team,
Code, Name` (A&E Performance: `Area Team, Org Code, Org Name, Site Code, Site Name`) and then
either one column per day (dates in the header row itself) or groups of columns per day (the
date over the group's first column, in the row above). The first row after the header is the
ENGLAND total; a row of column numbers follows; then one row per trust (or A&E site). Sheets
are found by name; columns by header text, never by position.

Read into `bed_occupancy` (per trust and day): "G&A beds" (core, escalation and total beds
available, total occupied), "Adult critical care" (available, occupied), "D&V, Norovirus"
(beds closed), "Delayed transfers of care", "A&E closures" and "A&E diverts". Into
`daily_site_ae` (per site and day): "A&E Performance" (attendances, over 4 hours, 4-12 hour
and over 12 hour decision-to-admit waits). Other sheets (ambulances queuing over 30 minutes,
cancelled operations, critical care transfers, paediatric and neonatal intensive care, trusts
with operational problems) have no warehouse home and are not read; nor are unoccupied beds
closed for norovirus.

The weekend: Friday to Sunday come as one group labelled with a range ('06-08-Feb-15',
'27-Feb-01-Mar-15'). Daily values are never invented:
- A sheet whose notes say "weekend & bank holiday figures reflect the position on the last
  day of the stated period" (G&A beds, critical care, norovirus, delayed transfers) holds a
  snapshot: it is stored for the last day (the Sunday) only; Friday and Saturday have none.
- Any other sheet (A&E closures, diverts, A&E Performance) holds a count over the whole range,
  which cannot be split into days: it is checked but not stored. A note says so.
The ENGLAND row equals the sum of trusts (or sites) for every column of the real workbooks,
so a mismatch is a ReaderError. A trust or site twice in one sheet is a ReaderError naming
both rows. Rows that publish no figure at all are not stored.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fourhour.errors import Location, ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import MONTHS
from fourhour.ingest.layouts.winter_sitrep_beds import BED_COLUMNS, key
from fourhour.ingest.model import RELATION_COLUMNS, ReadResult
from fourhour.ingest.source import Cell, Sheet, is_blank
from fourhour.ingest.values import parse_count

HEADER_SCAN_ROWS = 40
SITE_COLUMNS: tuple[str, ...] = (
    "date",
    "site_code",
    "org_code",
    "attendances",
    "over_4h",
    "dta_4_12h",
    "dta_over_12h",
)
SNAPSHOT_NOTE = "reflect the position on the last day"
_CODE = re.compile(r"^[A-Z0-9]{3,6}$")
_RANGE = re.compile(
    r"^(\d{1,2})(?:-([a-z]{3}))?-(\d{1,2})-([a-z]{3})-(\d{2}|\d{4})$", re.IGNORECASE
)
_DAY_FORMATS = ("%d-%b-%y", "%d-%b-%Y", "%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Part:
    sheet: str  # normalised sheet name
    measures: dict[str, str]  # normalised header -> warehouse column ("" where one per day)
    site_level: bool = False


PARTS: tuple[Part, ...] = (
    Part(
        "g&a beds",
        {
            "core beds avail": "ga_core_beds_open",
            "escalation beds avail": "ga_escalation_beds_open",
            "total beds avail": "ga_beds_open",
            "total beds occ'd": "ga_beds_occupied",
        },
    ),
    Part(
        "adult critical care",
        {"cc adult avail": "cc_adult_open", "cc adult occ": "cc_adult_occupied"},
    ),
    Part("d&v, norovirus", {"beds closed norovirus": "beds_closed_norovirus"}),
    Part("delayed transfers of care", {"": "delayed_transfers"}),
    Part("a&e closures", {"": "closures"}),
    Part("a&e diverts", {"": "diverts"}),
    Part(
        "a&e performance",
        {
            "number of a&e attendances": "attendances",
            "number of patients who have a total time in a&e over 4 hours from arrival to "
            "discharge, transfer or admission": "over_4h",
            "number of patients who have waited 4-12 hours in a&e from decision to admit to "
            "admission": "dta_4_12h",
            "number of patients who have waited over 12 hours in a&e from decision to admit to "
            "admission": "dta_over_12h",
        },
        site_level=True,
    ),
)
DETECT = {"area team", "code", "name"}


def detect(sheets: list[Sheet]) -> bool:
    """A sheet headed Area Team, Code, Name and at least one G&A beds column."""
    ga_beds = set(PARTS[0].measures)
    for sheet in sheets:
        for row in sheet.rows[:HEADER_SCAN_ROWS]:
            cells = {key(c) for c in row}
            if cells >= DETECT and cells & ga_beds:
                return True
    return False


@dataclass(frozen=True)
class Column:
    index: int
    field: str
    label: str  # as shown in messages: header and date
    start: dt.date
    end: dt.date


def _span(cell: Cell) -> tuple[dt.date, dt.date] | None:
    """The day or range of days a header cell names, else None."""
    if isinstance(cell, dt.datetime):
        return cell.date(), cell.date()
    if isinstance(cell, dt.date):
        return cell, cell
    if not isinstance(cell, str):
        return None
    text = cell.strip()
    for fmt in _DAY_FORMATS:
        try:
            day = dt.datetime.strptime(text, fmt).date()
            return day, day
        except ValueError:
            continue
    m = _RANGE.match(text)
    if not m:
        return None
    end_month = MONTHS.get(m[4].lower())
    start_month = MONTHS.get((m[2] or m[4]).lower())
    if end_month is None or start_month is None:
        return None
    year = int(m[5]) + (2000 if len(m[5]) == 2 else 0)
    try:
        end = dt.date(year, end_month, int(m[3]))
        start = dt.date(year - (start_month > end_month), start_month, int(m[1]))
    except ValueError:
        return None
    return (start, end) if start < end <= start + dt.timedelta(days=6) else None


def _header(sheet: Sheet, required: set[str]) -> tuple[int, list[str]]:
    for index, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        cells = [key(c) for c in row]
        if required <= set(cells):
            return index, cells
    raise ReaderError(
        sheet.location(None),
        "no header row found",
        expected=f"a header row with the columns {', '.join(sorted(required))}",
    )


def _columns(sheet: Sheet, index: int, first: int, part: Part) -> list[Column]:
    """The wanted value columns, each with the day or days it covers."""
    raw = sheet.rows[index]
    above = sheet.rows[index - 1] if index > 0 else []
    current: tuple[dt.date, dt.date] | None = None
    current_label = ""
    found: dict[tuple[dt.date, str], int] = {}
    columns: list[Column] = []
    for c in range(first, len(raw)):
        if is_blank(raw[c]):
            continue
        own = _span(raw[c])
        if own is not None:
            span, measure, label = own, "", str(raw[c]).strip()[:10]
        else:
            if c < len(above) and not is_blank(above[c]):
                current = _span(above[c])
                current_label = str(above[c]).strip()[:10]
                if current is None:
                    raise ReaderError(
                        sheet.location(index - 1, f"column {c + 1}"),
                        "not a date or range of dates",
                        value=above[c],
                        expected="a date such as 2015-02-02 or a range such as 06-08-Feb-15",
                    )
            if current is None:
                raise ReaderError(
                    sheet.location(index, str(raw[c]).strip()),
                    "no date for this column",
                    expected="a date in the header row or above the column's group",
                )
            span, measure, label = current, key(raw[c]), current_label
        if measure not in part.measures:
            continue
        if (span[0], measure) in found:
            raise ReaderError(
                sheet.location(index, f"column {c + 1}"),
                f"{label} has the column {raw[c]!s} twice (columns {found[(span[0], measure)] + 1} "
                f"and {c + 1})",
                expected="each column once per day",
            )
        found[(span[0], measure)] = c
        name = "" if measure == "" else f"{str(raw[c]).strip()} "
        columns.append(Column(c, part.measures[measure], f"{name}({label})", span[0], span[1]))
    spans = sorted({(col.start, col.end) for col in columns})
    if not spans:
        raise ReaderError(
            sheet.location(index),
            "no columns of figures found",
            expected=f"columns headed {', '.join(repr(m) for m in part.measures if m)} per day"
            if "" not in part.measures
            else "one column per day, headed with its date",
        )
    for start, end in spans:
        have = {m for (s, m) in found if s == start}
        missing = [m for m in part.measures if m not in have]
        if missing:
            raise ReaderError(
                sheet.location(index, missing[0]),
                f"required column is missing for {start}" + (f" to {end}" if end != start else ""),
                expected=f"a column headed {missing[0]!r} in every day's group",
            )
    return columns


def _is_column_numbers(values: list[Cell]) -> bool:
    cells = [v for v in values if not is_blank(v)]
    numbers = [v for v in cells if isinstance(v, int)]
    return (
        len(numbers) >= 2
        and len(numbers) == len(cells)
        and all(a < b for a, b in itertools.pairwise(numbers))
    )


def _read_part(
    sheet: Sheet, part: Part, records: dict, orgs: dict, relations: dict, notes: list[str]
) -> None:
    if part.site_level:
        index, cells = _header(sheet, {"org code", "site code"})
        ident = {"code": cells.index("site code"), "org": cells.index("org code")}
        name_col = cells.index("site name") if "site name" in cells else None
        org_name_col = cells.index("org name") if "org name" in cells else None
    else:
        index, cells = _header(sheet, {"code", "name"})
        ident = {"code": cells.index("code")}
        name_col = cells.index("name")
        org_name_col = None
    team_col = cells.index("area team") if "area team" in cells else None
    named = [i for i in (*ident.values(), name_col, org_name_col, team_col) if i is not None]
    columns = _columns(sheet, index, max(named) + 1, part)
    snapshot = any(
        isinstance(c, str) and SNAPSHOT_NOTE in key(c) for row in sheet.rows for c in row
    )
    code_label = str(sheet.rows[index][ident["code"]]).strip()
    header_end = max(i for i, c in enumerate(sheet.rows[index]) if not is_blank(c)) + 1
    england: tuple[int, list[Cell]] | None = None
    sums = [0] * len(columns)
    seen: dict[str, int] = {}
    for r in range(index + 1, len(sheet.rows)):
        row = list(sheet.rows[r]) + [None] * (len(sheet.rows[index]) - len(sheet.rows[r]))
        values = [row[col.index] for col in columns]
        name = "" if name_col is None or is_blank(row[name_col]) else str(row[name_col]).strip()
        org_name = "" if org_name_col is None else str(row[org_name_col] or "").strip()
        code = "" if is_blank(row[ident["code"]]) else str(row[ident["code"]]).strip().upper()
        if code in ("", "-") and "england" in (name.lower(), org_name.lower()):
            england = (r, values)
            continue
        if (
            code == ""
            and all(is_blank(row[i]) for i in named if i != team_col)
            and (
                all(is_blank(v) for v in values)
                or _is_column_numbers(row[max(named) + 1 : header_end])
            )
        ):
            continue  # notes, blank lines, the row of column numbers
        if not _CODE.match(code):
            raise ReaderError(
                sheet.location(r, code_label),
                "empty code" if code == "" else "not an ODS code",
                value=row[ident["code"]],
                expected="an ODS code such as RJC (a site code such as RJC02)",
            )
        if code in seen:
            raise ReaderError(
                sheet.location(r, code_label),
                f"{code} appears twice (rows {seen[code] + 1} and {r + 1})",
                expected="one row per organisation",
            )
        seen[code] = r
        org = code
        if part.site_level:
            org = str(row[ident["org"]] or "").strip().upper()
            if not _CODE.match(org):
                raise ReaderError(
                    sheet.location(r, str(sheet.rows[index][ident["org"]]).strip()),
                    "not an ODS code",
                    value=row[ident["org"]],
                    expected="the trust's ODS code",
                )
            orgs.setdefault(org, (org_name or None, "provider"))
            orgs.setdefault(code, (name or None, "site"))
            relations[(code, "trust")] = org
        else:
            orgs.setdefault(code, (name or None, "provider"))
        if team_col is not None and not is_blank(row[team_col]):
            relations[(org, "area_team")] = str(row[team_col]).strip()
        for i, (col, cell) in enumerate(zip(columns, values, strict=True)):
            value = parse_count(cell, sheet, r, col.label)
            if value is None:
                continue
            sums[i] += value
            if col.start != col.end and not snapshot:
                continue
            target = records.setdefault((col.end, code), {"org_code": org})
            target[col.field] = value
    if england is None:
        notes.append(f"sheet {sheet.name!r} has no ENGLAND row; its sum was not checked")
    else:
        r, values = england
        for col, cell, total in zip(columns, values, sums, strict=True):
            published = parse_count(cell, sheet, r, col.label)
            if published is not None and published != total:
                raise ReaderError(
                    sheet.location(r, col.label),
                    "the ENGLAND row differs from the sum of the rows below it",
                    value=published,
                    expected=f"{total}, the sum of the {'sites' if part.site_level else 'trusts'}",
                )
    ranges = sorted({(c.start, c.end) for c in columns if c.start != c.end})
    for start, end in ranges:
        if snapshot:
            notes.append(
                f"sheet {sheet.name!r}: {start:%d %b}-{end:%d %b %Y} is the position on {end} "
                "(as the sheet's notes say), stored for that day only"
            )
        else:
            notes.append(
                f"sheet {sheet.name!r}: {start:%d %b}-{end:%d %b %Y} is one total over "
                f"{(end - start).days + 1} days; it cannot be split into days and is not stored"
            )


def _frame(records: dict, columns: tuple[str, ...], code_column: str) -> pd.DataFrame:
    rows = [{"date": d, code_column: c, **values} for (d, c), values in records.items()]
    frame = pd.DataFrame(rows, columns=list(columns))
    measures = [c for c in columns if c not in ("date", "org_code", "site_code")]
    for m in measures:
        frame[m] = frame[m].astype("Int64")
    frame = frame[frame[measures].notna().any(axis=1)]
    return frame.sort_values(["date", code_column]).reset_index(drop=True)


def read(sheets: list[Sheet], path: Path) -> ReadResult:
    by_name = {key(s.name): s for s in sheets}
    beds: dict = {}
    sites: dict = {}
    orgs: dict[str, tuple[str | None, str]] = {}
    relations: dict[tuple[str, str], str] = {}
    notes: list[str] = []
    for part in PARTS:
        sheet = by_name.get(part.sheet)
        if sheet is None:
            raise ReaderError(
                Location(str(path)),
                f"the workbook has no sheet named {part.sheet!r}",
                value=", ".join(str(s.name) for s in sheets),
                expected="the daily situation report's sheets (G&A beds, Adult critical care, "
                "D&V, Norovirus, Delayed transfers of care, A&E closures, A&E diverts, "
                "A&E Performance)",
            )
        _read_part(sheet, part, sites if part.site_level else beds, orgs, relations, notes)
    bed_frame = _frame(beds, BED_COLUMNS, "org_code")
    site_frame = _frame(sites, SITE_COLUMNS, "site_code")
    relation_rows = [
        {
            "child_code": child,
            "relation": relation,
            "parent_code": parent if relation == "trust" else None,
            "parent_name": parent if relation == "area_team" else None,
        }
        for (child, relation), parent in relations.items()
    ]
    days = list(bed_frame["date"]) + list(site_frame["date"])
    return ReadResult(
        layout=LAYOUT.name,
        organisations=pd.DataFrame(
            [(c, n, k) for c, (n, k) in orgs.items()], columns=["code", "name", "kind"]
        ),
        relations=pd.DataFrame(relation_rows, columns=list(RELATION_COLUMNS)),
        notes=notes,
        extra_tables={"bed_occupancy": bed_frame, "daily_site_ae": site_frame},
        as_of=max(days) if days else None,
    )


LAYOUT = Layout(
    "daily-sitrep-2014-15",
    "NHS England's daily hospital situation report workbooks: beds per trust and A&E per site "
    "per day (winter 2014-15)",
    detect,
    read,
)
