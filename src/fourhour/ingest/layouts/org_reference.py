"""Organisation reference files: which trusts belong to which system and region.

- ICB mapping (e.g. System-Mapping-2025.csv): Code, Name, ICB Code, ICB Name, Region Name.
- Trust to area team (2014-15): area_team, org_code, org_name.
- A&E site to trust (2014-15): map_code, map_name, map_trust_code.
- Trust to STP (The Health Foundation's 2018-19 lookup): code, STP, STP_code. Its region
  column is scrambled (MANIFEST) and is not read.
- The ODS trust file `etr.csv` (no header): code, name, region, geography, address lines,
  postcode, open date, close date, ... Names are dated, regions (Y54-Y63) kept, and the
  geography kept as the local system where it is one (STP or ICB codes, from 2018; the NHS
  England local offices of 2015-2018 are kept as such, not as systems).

The date a mapping describes is taken from a year (and month) in the file name, e.g.
'System-Mapping-2025' -> 2025-04-01 (the financial year the mapping was published for),
'trust_to_area_team_2015-03' -> 2015-03-01, 'March-2024-System-Mapping' -> 2024-03-01. An ODS
file is dated by its own contents: the day after its latest closure, or its latest opening if
later (the earliest date the snapshot can describe).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import (
    MONTHS,
    Header,
    check_complete_csv_row,
    find_header,
    text,
)
from fourhour.ingest.model import RELATION_COLUMNS, ReadResult
from fourhour.ingest.org_facts import era_of, ods_title
from fourhour.ingest.regions import canonical_region
from fourhour.ingest.source import Cell, Sheet, is_blank

_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(?:[-_](\d{2}))?(?!\d)")
_MONTH_NAME_YEAR = re.compile(r"(?<![a-z])([a-z]{3,9})[-_ ]*(20\d{2})(?!\d)", re.I)


def as_of_from_name(path: Path) -> dt.date | None:
    for m in _MONTH_NAME_YEAR.finditer(path.stem):
        number = MONTHS.get(m[1].lower())
        if number:
            return dt.date(int(m[2]), number, 1)
    found = _DATE_IN_NAME.search(path.stem)
    if not found:
        return None
    return dt.date(int(found[1]), int(found[2]) if found[2] else 4, 1)


def _reader(
    name: str,
    required: tuple[str, ...],
    build: Callable[[Header, int, list], tuple[list[dict], list[dict]]],
) -> Layout:
    def detect(sheets: list[Sheet]) -> bool:
        return any(find_header(s, required) is not None for s in sheets)

    def read(sheets: list[Sheet], path: Path) -> ReadResult:
        header = next(h for s in sheets if (h := find_header(s, required)) is not None)
        orgs: dict[str, dict] = {}
        relations: list[dict] = []
        seen: dict[str, int] = {}
        notes: list[str] = []
        for index, row in header.data_rows():
            check_complete_csv_row(header, index)
            new_orgs, new_relations = build(header, index, row)
            child = new_orgs[0]["code"]
            if child in seen:
                first = header.sheet.rows[seen[child]]
                if [text(c) for c in first] == [text(c) for c in row]:
                    notes.append(
                        f"row {index + 1} repeats row {seen[child] + 1} exactly; kept once"
                    )
                    continue
                raise ReaderError(
                    header.sheet.location(index, header.label(header.require(required[0]))),
                    f"{child} appears twice with different details (rows {seen[child] + 1} "
                    f"and {index + 1})",
                    expected="one row per organisation",
                )
            seen[child] = index
            for org in new_orgs:
                orgs.setdefault(org["code"], org)
            relations.extend(new_relations)
        if not orgs:
            raise ReaderError(
                header.sheet.location(header.row_index),
                "the file has a header but no rows",
                expected="one row per trust",
            )
        return ReadResult(
            layout=name,
            organisations=pd.DataFrame(list(orgs.values()), columns=["code", "name", "kind"]),
            relations=pd.DataFrame(relations, columns=list(RELATION_COLUMNS)),
            as_of=as_of_from_name(path),
            notes=notes,
        )

    return Layout(name, f"organisation reference: {', '.join(required)}", detect, read)


def _code(header: Header, index: int, row: list, column: str) -> str:
    value = text(row[header.require(column)]).upper()
    if not value:
        raise ReaderError(
            header.sheet.location(index, column), "empty code", expected="an ODS code"
        )
    return value


def _icb(header: Header, index: int, row: list) -> tuple[list[dict], list[dict]]:
    code = _code(header, index, row, "code")
    icb = _code(header, index, row, "icb code")
    icb_name = text(row[header.require("icb name")])
    region = canonical_region(text(row[header.require("region name")]))
    return (
        [
            {"code": code, "name": text(row[header.require("name")]), "kind": "provider"},
            {"code": icb, "name": icb_name, "kind": "system"},
        ],
        [
            {"child_code": code, "relation": "system", "parent_code": icb, "parent_name": icb_name},
            {"child_code": code, "relation": "region", "parent_code": None, "parent_name": region},
        ],
    )


def _area_team(header: Header, index: int, row: list) -> tuple[list[dict], list[dict]]:
    code = _code(header, index, row, "org_code")
    team = text(row[header.require("area_team")])
    return (
        [{"code": code, "name": text(row[header.require("org_name")]), "kind": "provider"}],
        [{"child_code": code, "relation": "area_team", "parent_code": None, "parent_name": team}],
    )


def _site(header: Header, index: int, row: list) -> tuple[list[dict], list[dict]]:
    site = _code(header, index, row, "map_code")
    trust = _code(header, index, row, "map_trust_code")
    return (
        [{"code": site, "name": text(row[header.require("map_name")]), "kind": "site"}],
        [{"child_code": site, "relation": "trust", "parent_code": trust, "parent_name": None}],
    )


# The Health Foundation's lookup describes the 2018-19 footprints; the file carries no date.
TRUST_STP_AS_OF = dt.date(2018, 4, 1)


def _trust_stp(header: Header, index: int, row: list) -> tuple[list[dict], list[dict]]:
    code = _code(header, index, row, "code")
    stp = _code(header, index, row, "stp_code")
    stp_name = text(row[header.require("stp")])
    return (
        [
            {"code": code, "name": text(row[header.require("trust")]), "kind": "provider"},
            {"code": stp, "name": stp_name, "kind": "system"},
        ],
        [{"child_code": code, "relation": "system", "parent_code": stp, "parent_name": stp_name}],
    )


def _trust_stp_layout() -> Layout:
    inner = _reader(
        "org-trust-stp", ("nhs england region", "trust", "code", "stp", "stp_code"), _trust_stp
    )

    def read(sheets: list[Sheet], path: Path) -> ReadResult:
        result = inner.read(sheets, path)
        result.as_of = as_of_from_name(path) or TRUST_STP_AS_OF
        result.notes.append(
            f"dated {result.as_of} (2018-19 footprints); the region column is not read, as it "
            "disagrees with ODS for most rows"
        )
        return result

    return Layout(inner.name, inner.description, inner.detect, read)


# ------------------------------------------------------------------ the ODS trust file (etr)

_ODS_CODE = re.compile(r"^[A-Z0-9]{3,5}$")
_REGION_CODE = re.compile(r"^(Y5[4-9]|Y6[0-3]|W00)$")
_YYYYMMDD = re.compile(r"^\d{8}$")
ETR_NAME, ETR_REGION, ETR_GEOGRAPHY, ETR_OPENED, ETR_CLOSED = 1, 2, 3, 10, 11


def _etr_date(sheet: Sheet, index: int, cell: Cell, column: str) -> dt.date | None:
    value = text(cell)
    if not value:
        return None
    try:
        if not _YYYYMMDD.match(value):
            raise ValueError
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise ReaderError(
            sheet.location(index, column), "not a date", value=value, expected="YYYYMMDD"
        ) from None


def _etr_detect(sheets: list[Sheet]) -> bool:
    if len(sheets) != 1 or sheets[0].name is not None:
        return False
    rows = [r for _, r in sheets[0].nonblank_rows()][:5]
    return bool(rows) and all(
        len(r) > ETR_CLOSED
        and _ODS_CODE.match(text(r[0]))
        and _REGION_CODE.match(text(r[ETR_REGION]))
        and _YYYYMMDD.match(text(r[ETR_OPENED]))
        for r in rows
    )


def _etr_read(sheets: list[Sheet], path: Path) -> ReadResult:
    sheet = sheets[0]
    parsed = []
    for index, row in sheet.nonblank_rows():
        if len(row) <= ETR_CLOSED:
            raise ReaderError(
                sheet.location(index),
                f"the row has {len(row)} fields",
                expected=f"at least {ETR_CLOSED + 1} fields, as in the ODS etr.csv layout",
            )
        code = text(row[0]).upper()
        if not _ODS_CODE.match(code):
            raise ReaderError(
                sheet.location(index, "code"), "not an ODS code", value=code, expected="e.g. RXQ"
            )
        region = text(row[ETR_REGION]).upper()
        if region and not _REGION_CODE.match(region):
            raise ReaderError(
                sheet.location(index, "national grouping"),
                "not a region code",
                value=region,
                expected="an NHS England region code Y54-Y63 (or W00 for Wales)",
            )
        opened = _etr_date(sheet, index, row[ETR_OPENED], "open date")
        closed = _etr_date(sheet, index, row[ETR_CLOSED], "close date")
        parsed.append(
            (index, code, text(row[ETR_NAME]), region, text(row[ETR_GEOGRAPHY]), opened, closed)
        )
    if not parsed:
        raise ReaderError(sheet.location(0), "the file has no rows", expected="one row per trust")
    latest = max(
        [p[5] for p in parsed if p[5]] + [p[6] + dt.timedelta(days=1) for p in parsed if p[6]]
    )
    system_era = era_of("system", latest).key
    orgs, relations, names, seen = [], [], [], set()
    for index, code, name, region, geography, _opened, closed in parsed:
        if code in seen:
            raise ReaderError(
                sheet.location(index, "code"), f"{code} appears twice", expected="one row per trust"
            )
        seen.add(code)
        titled = ods_title(name) if name else None
        orgs.append({"code": code, "name": titled, "kind": "provider"})
        # A closed trust's name is dated by its last day; its parents are not those of the
        # snapshot's date, so none are kept for it.
        names.append({"code": code, "name": titled, "as_of": closed or latest})
        if closed is not None or region == "W00":
            continue
        relations.append(
            {"child_code": code, "relation": "region", "parent_code": region, "parent_name": None}
        )
        if geography and not is_blank(geography):
            relation = "local_office" if system_era == "area_team" else "system"
            relations.append(
                {
                    "child_code": code,
                    "relation": relation,
                    "parent_code": geography.upper(),
                    "parent_name": None,
                }
            )
    closed_count = sum(1 for p in parsed if p[6] is not None)
    return ReadResult(
        layout="ods-etr",
        organisations=pd.DataFrame(orgs, columns=["code", "name", "kind"]),
        relations=pd.DataFrame(relations, columns=list(RELATION_COLUMNS)),
        as_of=latest,
        notes=[
            f"ODS trust file dated {latest} from its contents (the day after its latest closure "
            f"or its latest opening); {len(parsed)} trusts, {closed_count} closed"
        ],
        names=pd.DataFrame(names, columns=["code", "name", "as_of"]),
    )


LAYOUTS = (
    _reader("org-icb-mapping", ("code", "name", "icb code", "icb name", "region name"), _icb),
    _reader("org-trust-area-team", ("area_team", "org_code", "org_name"), _area_team),
    _reader("org-site-trust", ("map_code", "map_name", "map_trust_code"), _site),
    _trust_stp_layout(),
    Layout("ods-etr", "the ODS trust file etr.csv (no header row)", _etr_detect, _etr_read),
)
