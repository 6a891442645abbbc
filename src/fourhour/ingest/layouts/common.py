"""Helpers shared by the layouts: find a header row by its text, map and check columns."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fourhour.errors import ReaderError
from fourhour.ingest.source import Cell, Sheet, is_blank
from fourhour.ingest.values import norm_header
from fourhour.periods import Period, month, week_ending

HEADER_SCAN_ROWS = 40


@dataclass
class Header:
    sheet: Sheet
    row_index: int
    cells: list[str]  # normalised header text by column index

    def find(self, *names: str) -> int | None:
        """Index of the first column whose header equals one of `names` (normalised)."""
        wanted = {norm_header(n) for n in names}
        for i, text in enumerate(self.cells):
            if text in wanted:
                return i
        return None

    def require(self, *names: str) -> int:
        index = self.find(*names)
        if index is None:
            raise ReaderError(
                self.sheet.location(self.row_index, names[0]),
                "required column is missing from the header row",
                expected=f"a column headed {names[0]!r}",
            )
        return index

    def label(self, index: int) -> str:
        raw = self.sheet.rows[self.row_index][index]
        return str(raw).strip() if raw is not None else f"column {index + 1}"

    def data_rows(self) -> Iterable[tuple[int, list[Cell]]]:
        """Non-blank rows after the header, each padded to the header's width."""
        width = len(self.cells)
        for index in range(self.row_index + 1, len(self.sheet.rows)):
            row = self.sheet.rows[index]
            if all(is_blank(c) for c in row):
                continue
            yield index, list(row) + [None] * (width - len(row))


def find_header(sheet: Sheet, required: Iterable[str]) -> Header | None:
    """The first row (within the first rows) whose cells include every required header."""
    wanted = {norm_header(r) for r in required}
    for index, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        cells = [norm_header(c) for c in row]
        if wanted <= set(cells):
            return Header(sheet, index, cells)
    return None


def first_sheet_with(sheets: list[Sheet], required: Iterable[str]) -> Header | None:
    req = list(required)
    for sheet in sheets:
        header = find_header(sheet, req)
        if header is not None:
            return header
    return None


def check_complete_csv_row(header: Header, index: int) -> None:
    """A CSV data row shorter than its header is the mark of a truncated file."""
    raw = header.sheet.rows[index]
    if header.sheet.name is None and len(raw) < len(header.cells):
        raise ReaderError(
            header.sheet.location(index, header.label(len(raw)) if raw else None),
            f"the row has {len(raw)} fields but the header has {len(header.cells)}",
            expected="complete rows; the file looks truncated",
        )


def text(cell: Cell) -> str:
    return "" if cell is None else str(cell).strip()


MONTHS = {
    m.lower(): i
    for i, m in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        start=1,
    )
}
MONTHS.update({k[:3]: v for k, v in list(MONTHS.items())})
MONTHS["sept"] = 9

_WE_ISO = re.compile(r"(?:w/?e|week[-_ ]?ending)[-_ ]*(\d{4})-(\d{2})-(\d{2})", re.I)
_WE_UK = re.compile(r"(?:w/?e|week[-_ ]?ending)[-_ :]*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})", re.I)
_MONTH_YEAR = re.compile(r"(?<![a-z])([a-z]{3,9})[-_ ]*(\d{4})(?!\d)", re.I)


def period_from_text(value: str) -> Period | None:
    """A week ending (W/E dd/mm/yyyy, WE-yyyy-mm-dd) or a month (November 2015) named in text."""
    m = _WE_ISO.search(value)
    if m:
        return _week(dt.date(int(m[1]), int(m[2]), int(m[3])))
    m = _WE_UK.search(value)
    if m:
        year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return _week(dt.date(year, int(m[2]), int(m[1])))
    for m in _MONTH_YEAR.finditer(value):
        number = MONTHS.get(m[1].lower())
        if number:
            return month(int(m[2]), number)
    return None


def _week(day: dt.date) -> Period | None:
    return week_ending(day) if day.weekday() == 6 else None


def period_from_sheet_or_name(sheets: list[Sheet], path: Path) -> Period | None:
    """The period a provider sheet covers: a 'Period:' cell in its preamble, else its file name."""
    for sheet in sheets:
        for row in sheet.rows[:HEADER_SCAN_ROWS]:
            for i, cell in enumerate(row):
                if norm_header(cell) in ("period:", "period") and i + 1 < len(row):
                    following = [c for c in row[i + 1 :] if not is_blank(c)]
                    if following:
                        value = following[0]
                        if isinstance(value, dt.datetime | dt.date):
                            d = value if isinstance(value, dt.date) else value.date()
                            return month(d.year, d.month)
                        found = period_from_text(str(value))
                        if found:
                            return found
    return period_from_text(path.stem)
