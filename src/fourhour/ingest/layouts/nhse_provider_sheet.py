"""NHS England's "A&E by provider" sheet: the weekly situation report (2010-11 to 2015-16) and
monthly A&E Attendances and Emergency Admissions spreadsheets, as XLS, XLSX or CSV.

The header row has Code and Name (optionally Region, SHA, Area Team or Parent Org) and then
sections that repeat the department type names: attendances by type, attendances within four
hours by type, attendances over four hours by type, each closed by a "Total ..." column, then
percentages (ignored: derived), emergency admissions via type 1/2/3-and-4 A&E, other emergency
admissions, and decision-to-admit waits. Sections are told apart by the text of their total
column, or of the section title above them; never by position.

The period comes from the sheet's "Period:" preamble cell, else from the file name (e.g.
"April-2025-AE.csv", "...W/E 07/11/2010", "...WE-2025-01-05"). Rows without a provider code
(ENGLAND, regional totals) are totals: kept apart and used to cross-check provider sums.

"patients spending >4 hours from decision to admit to admission" includes those over 12 hours
(>12 never exceeds >4 in any published file), so 4-12 hour waits = (>4) - (>12).

NHS England's monthly workbooks (.xls, 2023-24) hold this layout in several sheets; the one
named "Provider Level Data" is read (the others split booked and non-booked attendances or
map activity to acute trust footprints). Their "System Mapping" sheet (headers Org code,
Region, Name, STP, and beside them a lookup of STP/ICB names to Code) gives each provider's
integrated care board for the month, stored as a dated 'system' relation like the ICB mapping
files give.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import (
    Header,
    check_complete_csv_row,
    find_header,
    period_from_sheet_or_name,
    text,
)
from fourhour.ingest.model import COUNT_COLUMNS, ReadResult, returns_frame, totals_frame
from fourhour.ingest.regions import canonical_region
from fourhour.ingest.source import Cell, Sheet, is_blank
from fourhour.ingest.values import norm_header, parse_count

TYPE_HEADERS = {
    "type1": re.compile(r"^type 1 departments?\b"),
    "type2": re.compile(r"^type 2 departments?\b"),
    "type3": re.compile(r"^type 3 departments?\b|^type 3 and 4\b|^other a&e"),
}
CODE_HEADERS = ("code", "org code", "organisation code", "provider code")
NAME_HEADERS = ("name", "org name", "organisation name", "provider name")
PARENT_HEADERS = {
    "region": "region",
    "nhs england region": "region",
    "sha": "region",
    "area team": "area_team",
    "parent org": "system",
}
TOTAL_NAMES = ("england", "total")
PREFERRED_SHEETS = ("provider level data",)


def _type_of(cell: str) -> str | None:
    for kind, pattern in TYPE_HEADERS.items():
        if pattern.search(cell):
            return kind
    return None


def _find_header(sheets: list[Sheet]) -> Header | None:
    """The provider sheet's header row. NHS England's workbooks hold several sheets in this
    layout (non-booked, booked, acute trust footprint): the one named "Provider Level Data"
    is the published figure, else the first."""
    candidates = []
    for sheet in sheets:
        for names in ((c, n) for c in CODE_HEADERS for n in NAME_HEADERS):
            header = find_header(sheet, names)
            if header is not None and any(_type_of(c) == "type1" for c in header.cells):
                candidates.append(header)
                break
    for header in candidates:
        if norm_header(header.sheet.name) in PREFERRED_SHEETS:
            return header
    return candidates[0] if candidates else None


def detect(sheets: list[Sheet]) -> bool:
    return _find_header(sheets) is not None


def _section_of(total_text: str) -> str | None:
    if re.search(r"<\s*=?\s*4|less than|within|in 4 hours or less", total_text):
        return "within"
    if re.search(r">\s*4|greater than|over 4|more than 4", total_text):
        return "over"
    if "attendance" in total_text:
        return "att"
    return None


def _super_title(header: Header, column: int) -> str:
    """Text of the nearest section title above and left of `column` (multi-row headers)."""
    if header.row_index == 0:
        return ""
    above = header.sheet.rows[header.row_index - 1]
    for i in range(min(column, len(above) - 1), -1, -1):
        if not is_blank(above[i]):
            return norm_header(above[i])
    return ""


def _map_columns(header: Header) -> tuple[dict[str, int], dict[str, int]]:
    """canonical count column -> index; plus 'total_*' cross-check columns -> index."""
    mapping: dict[str, int] = {}
    totals: dict[str, int] = {}
    group: list[tuple[str, int]] = []
    seen_sections: list[str] = []

    def close(section: str | None) -> None:
        if not group:
            return
        if section is None:
            section = _section_of(_super_title(header, group[0][1]))
        if section is None:
            section = "att" if "att" not in seen_sections else "over"
        prefix = {"att": "att", "within": "within", "over": "br"}[section]
        for kind, index in group:
            mapping.setdefault(f"{prefix}_{kind}", index)
        seen_sections.append(section)
        group.clear()

    for index, cell in enumerate(header.cells):
        kind = _type_of(cell)
        if kind is not None:
            group.append((kind, index))
            continue
        if cell.startswith("total") and "emergency" not in cell:
            section = _section_of(cell)
            close(section)
            if section:
                totals.setdefault(f"total_{section}", index)
            continue
        close(None)
        if "booked" in cell:
            continue
        if cell.startswith("emergency admissions via type 1"):
            mapping.setdefault("adm_type1", index)
        elif cell.startswith("emergency admissions via type 2"):
            mapping.setdefault("adm_type2", index)
        elif re.match(r"emergency admissions via type 3", cell):
            mapping.setdefault("adm_type3", index)
        elif cell.startswith("other emergency admissions"):
            mapping.setdefault("adm_other", index)
        elif "decision to admit" in cell:
            if re.search(r"4\s*-\s*12 hours", cell):
                mapping.setdefault("dta_4_12h", index)
            elif re.search(r"(>|over|more than)\s*12 hours", cell):
                mapping.setdefault("dta_over_12h", index)
            elif re.search(r"(>|over|more than)\s*4 hours", cell):
                mapping.setdefault("dta_over_4h", index)
    close(None)
    return mapping, totals


def read(sheets: list[Sheet], path: Path) -> ReadResult:
    header = _find_header(sheets)
    assert header is not None
    sheet = header.sheet
    code_col = header.require(*CODE_HEADERS)
    name_col = header.require(*NAME_HEADERS)
    parent_cols = {
        relation: i for h, relation in PARENT_HEADERS.items() if (i := header.find(h)) is not None
    }
    mapping, total_cols = _map_columns(header)
    if "att_type1" not in mapping:
        raise ReaderError(
            sheet.location(header.row_index),
            "cannot find the attendances section",
            expected="type 1/2/3 attendance columns closed by a 'Total attendances' column",
        )
    if not any(k.startswith("br_") for k in mapping) and not any(
        k.startswith("within_") for k in mapping
    ):
        raise ReaderError(
            sheet.location(header.row_index),
            "cannot find attendances over (or within) four hours",
            expected="a section of type columns closed by 'Total Attendances > 4 hours'",
        )
    period = period_from_sheet_or_name([sheet, *sheets], path)
    if period is None:
        raise ReaderError(
            sheet.location(),
            "cannot tell which week or month the file covers",
            expected="a 'Period:' cell above the header, or a file name such as "
            "'April-2025-AE.csv' or 'Weekly-AE-WE-2025-01-05.csv'",
        )

    labels = {k: header.label(i) for k, i in mapping.items()}
    records: list[dict] = []
    total_records: list[dict] = []
    orgs: dict[str, str] = {}
    relations: list[dict] = []
    seen: dict[str, int] = {}
    for index, row in header.data_rows():
        check_complete_csv_row(header, index)
        code = text(row[code_col]).upper()
        name = text(row[name_col])
        values: dict[str, int | None] = {}
        for key, col in mapping.items():
            values[key] = parse_count(row[col], sheet, index, labels[key])
        checks = {
            key: parse_count(row[col], sheet, index, header.label(col))
            for key, col in total_cols.items()
        }
        counts = _derive(values, sheet, index, labels)
        _check_totals(counts, values, checks, sheet, index, header, total_cols)
        is_total = code in ("", "-") or name.lower() in TOTAL_NAMES
        if is_total:
            if not name:
                continue
            total_records.append(
                {
                    "granularity": period.granularity,
                    "period_start": period.start,
                    "period_end": period.end,
                    "area": "ENGLAND" if name.lower() in TOTAL_NAMES else name,
                    **counts,
                    "source_row": index + 1,
                }
            )
            continue
        if code in seen:
            raise ReaderError(
                sheet.location(index, header.label(code_col)),
                f"provider {code} appears twice in one period (rows {seen[code] + 1} and "
                f"{index + 1})",
                expected="one row per provider",
            )
        seen[code] = index
        orgs[code] = name
        for relation, col in parent_cols.items():
            parent = text(row[col])
            if parent and parent != "-":
                parent_name = canonical_region(parent) if relation == "region" else parent
                relations.append(
                    {
                        "child_code": code,
                        "relation": relation,
                        "parent_code": parent if relation == "system" else None,
                        "parent_name": parent_name,
                    }
                )
        records.append(
            {
                "granularity": period.granularity,
                "period_start": period.start,
                "period_end": period.end,
                "org_code": code,
                "org_name": name,
                **counts,
                "source_row": index + 1,
            }
        )
    if not records:
        raise ReaderError(
            sheet.location(header.row_index),
            "the file has a header but no provider rows",
            expected="one row per provider",
        )
    systems, icbs = _system_mapping(sheets, set(orgs))
    relations.extend(systems)
    published = tuple(c for c in COUNT_COLUMNS if _publishes(c, mapping))
    return ReadResult(
        layout="nhse-provider-sheet",
        returns=returns_frame(records),
        totals=totals_frame(total_records),
        published=published,
        organisations=pd.DataFrame(
            {
                "code": [*orgs, *icbs],
                "name": [*orgs.values(), *icbs.values()],
                "kind": ["provider"] * len(orgs) + ["system"] * len(icbs),
            }
        ),
        relations=pd.DataFrame(
            relations, columns=["child_code", "relation", "parent_code", "parent_name"]
        ),
        column_labels=labels,
        as_of=period.end,
    )


MAPPING_HEADERS = ("org code", "name", "stp", "code")


def _system_mapping(sheets: list[Sheet], providers: set[str]) -> tuple[list[dict], dict[str, str]]:
    """'system' relations of the providers from a workbook's System Mapping sheet, and the
    ICBs named (code -> name). The provider's ICB name is in the first STP column; the ICB
    codes are in a lookup beside it: a Code column whose row also holds the ICB's name."""
    header = next((h for s in sheets if (h := find_header(s, MAPPING_HEADERS)) is not None), None)
    if header is None:
        return [], {}
    code_col, icb_col = header.require("org code"), header.require("stp")
    lookup_col = next(i for i, c in enumerate(header.cells) if c == "code")
    codes: dict[str, str] = {}
    for _, row in header.data_rows():
        icb = text(row[lookup_col]).upper()
        if icb:
            for cell in row[lookup_col + 1 :]:
                if text(cell):
                    codes.setdefault(_icb_key(cell), icb)
    relations: list[dict] = []
    icbs: dict[str, str] = {}
    seen: dict[str, str] = {}
    for index, row in header.data_rows():
        code, icb_name = text(row[code_col]).upper(), text(row[icb_col])
        if code not in providers or not icb_name:
            continue
        if _icb_key(icb_name) not in codes:
            raise ReaderError(
                header.sheet.location(index, header.label(icb_col)),
                f"the system {icb_name!r} of {code} is not in the sheet's list of codes",
                value=icb_name,
                expected="a name listed beside a code in the same sheet",
            )
        icb = codes[_icb_key(icb_name)]
        if code in seen:
            if seen[code] == icb:
                continue  # listed twice with the same system
            raise ReaderError(
                header.sheet.location(index, header.label(icb_col)),
                f"{code} is mapped to two systems ({seen[code]} and {icb})",
                expected="one system per provider",
            )
        seen[code] = icb
        icbs[icb] = icb_name
        relations.append(
            {"child_code": code, "relation": "system", "parent_code": icb, "parent_name": icb_name}
        )
    return relations, icbs


def _icb_key(name: Cell) -> str:
    return re.sub(r"[^a-z0-9]", "", text(name).lower())


def _publishes(column: str, mapping: dict[str, int]) -> bool:
    if column in mapping:
        return True
    if column.startswith("br_"):
        return f"within_{column[3:]}" in mapping and f"att_{column[3:]}" in mapping
    if column == "dta_4_12h":
        return "dta_over_4h" in mapping and "dta_over_12h" in mapping
    return False


def _derive(values: dict, sheet: Sheet, index: int, labels: dict) -> dict:
    """Canonical counts from the columns found: breaches from within where needed, 4-12 h waits."""
    counts = {c: values.get(c) for c in COUNT_COLUMNS}
    for kind in ("type1", "type2", "type3"):
        att, within, over = (
            values.get(f"att_{kind}"),
            values.get(f"within_{kind}"),
            values.get(f"br_{kind}"),
        )
        if att is not None and within is not None:
            if within > att:
                raise ReaderError(
                    sheet.location(index, labels[f"within_{kind}"]),
                    f"attendances within four hours exceed attendances ({within} > {att})",
                    value=within,
                    expected=f"at most {att}",
                )
            if over is None:
                counts[f"br_{kind}"] = att - within
            elif att - within != over:
                raise ReaderError(
                    sheet.location(index, labels[f"br_{kind}"]),
                    f"over four hours ({over}) is not attendances ({att}) minus within four "
                    f"hours ({within})",
                    value=over,
                    expected=str(att - within),
                )
    over4, over12 = values.get("dta_over_4h"), values.get("dta_over_12h")
    if over4 is not None and counts["dta_4_12h"] is None:
        if over12 is not None and over12 > over4:
            raise ReaderError(
                sheet.location(index, labels["dta_over_12h"]),
                f"more patients waited over 12 hours ({over12}) than over 4 hours ({over4})",
                value=over12,
                expected=f"at most {over4}",
            )
        counts["dta_4_12h"] = over4 - (over12 or 0)
    return counts


def _check_totals(
    counts: dict,
    values: dict,
    checks: dict,
    sheet: Sheet,
    index: int,
    header: Header,
    total_cols: dict[str, int],
) -> None:
    """Each row's published 'Total' columns must equal the sum of its type columns."""
    sums = {
        "total_att": [counts.get(f"att_{k}") for k in ("type1", "type2", "type3")],
        "total_over": [counts.get(f"br_{k}") for k in ("type1", "type2", "type3")],
        "total_within": [values.get(f"within_{k}") for k in ("type1", "type2", "type3")],
    }
    for key, published in checks.items():
        parts = [p for p in sums.get(key, []) if p is not None]
        if published is None or not parts:
            continue
        if sum(parts) != published:
            raise ReaderError(
                sheet.location(index, header.label(total_cols[key])),
                f"the total ({published}) is not the sum of the type columns ({sum(parts)})",
                value=published,
                expected=str(sum(parts)),
            )


LAYOUT = Layout(
    "nhse-provider-sheet",
    "NHS England 'A&E by provider' weekly situation report or monthly sheet (CSV, XLS, XLSX)",
    detect,
    read,
)
