"""Organisation reference files: which trusts belong to which system and region.

- ICB mapping (e.g. System-Mapping-2025.csv): Code, Name, ICB Code, ICB Name, Region Name.
- Trust to area team (2014-15): area_team, org_code, org_name.
- A&E site to trust (2014-15): map_code, map_name, map_trust_code.

The date a mapping describes is taken from a year (and month) in the file name, e.g.
'System-Mapping-2025' -> 2025-04-01 (the financial year the mapping was published for),
'trust_to_area_team_2015-03' -> 2015-03-01.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.layouts.common import Header, check_complete_csv_row, find_header, text
from fourhour.ingest.model import RELATION_COLUMNS, ReadResult
from fourhour.ingest.regions import canonical_region
from fourhour.ingest.source import Sheet

_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(?:[-_](\d{2}))?(?!\d)")


def as_of_from_name(path: Path) -> dt.date | None:
    m = _DATE_IN_NAME.search(path.stem)
    if not m:
        return None
    return dt.date(int(m[1]), int(m[2]) if m[2] else 4, 1)


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


LAYOUTS = (
    _reader("org-icb-mapping", ("code", "name", "icb code", "icb name", "region name"), _icb),
    _reader("org-trust-area-team", ("area_team", "org_code", "org_name"), _area_team),
    _reader("org-site-trust", ("map_code", "map_name", "map_trust_code"), _site),
)
