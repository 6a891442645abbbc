"""Parse the cells of published returns: counts with commas, blanks and dashes, percentages."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from typing import Literal, overload

from fourhour.errors import ReaderError
from fourhour.ingest.source import Cell, Sheet

# Cells that mean "nothing published" in NHS England's files.
BLANK_MARKERS = frozenset({"", "-", "–", "n/a", "na", "..", ".", "*"})
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def _clean(cell: Cell) -> str | float | int | None:
    if cell is None:
        return None
    if isinstance(cell, str):
        text = cell.strip().replace("\u00a0", "").replace(" ", "")
        if text.lower() in BLANK_MARKERS:
            return None
        return text
    if isinstance(cell, bool):
        return int(cell)
    if isinstance(cell, (dt.date, dt.datetime)):
        return str(cell)
    return cell


@overload
def parse_count(
    cell: Cell, sheet: Sheet, row_index: int, column: str, *, allow_fraction: Literal[False] = ...
) -> int | None: ...
@overload
def parse_count(
    cell: Cell, sheet: Sheet, row_index: int, column: str, *, allow_fraction: Literal[True]
) -> float | None: ...
def parse_count(
    cell: Cell,
    sheet: Sheet,
    row_index: int,
    column: str,
    *,
    allow_fraction: bool = False,
) -> float | int | None:
    """A count: None when not published; an error naming the cell for text or negatives."""
    value = _clean(cell)
    if value is None:
        return None
    if isinstance(value, str):
        if not _NUMBER.match(value):
            raise ReaderError(
                sheet.location(row_index, column),
                "not a count",
                value=cell,
                expected="a whole number of patients (commas allowed), or blank or '-'",
            )
        number = float(value.replace(",", ""))
    else:
        number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ReaderError(
            sheet.location(row_index, column), "not a count", value=cell, expected="a number"
        )
    if number < 0:
        raise ReaderError(
            sheet.location(row_index, column),
            "negative count",
            value=cell,
            expected="a count of zero or more",
        )
    if allow_fraction:
        return number
    if number != int(number):
        raise ReaderError(
            sheet.location(row_index, column),
            "count is not a whole number",
            value=cell,
            expected="a whole number of patients",
        )
    return int(number)


def parse_percent(cell: Cell, sheet: Sheet, row_index: int, column: str) -> float | None:
    """A percentage such as 92.4, '92.4%' or a 0-1 fraction marked by a % sign-less float."""
    value = _clean(cell)
    if value is None:
        return None
    text = str(value).rstrip("%")
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        raise ReaderError(
            sheet.location(row_index, column),
            "not a percentage",
            value=cell,
            expected="a number between 0 and 100",
        ) from None
    if not 0 <= number <= 100:
        raise ReaderError(
            sheet.location(row_index, column),
            "percentage out of range",
            value=cell,
            expected="a number between 0 and 100",
        )
    return number


def parse_date(cell: Cell, sheet: Sheet, row_index: int, column: str) -> dt.date:
    """A date as published: ISO, 'YYYY.MM.DD', 'DD/MM/YYYY' or a spreadsheet date."""
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    text = "" if cell is None else str(cell).strip()
    for fmt in ("%Y-%m-%d", "%Y.%m.%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%d-%b-%Y", "%d-%b-%y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ReaderError(
        sheet.location(row_index, column),
        "not a date",
        value=cell,
        expected="a date such as 2014-12-14, 2014.12.14 or 14/12/2014",
    )


_ZERO_DASH = re.compile(r"\s+0\s+")
_SPACES = re.compile(r"\s+")


def norm_header(cell: Cell) -> str:
    """Header text normalised for matching: lower case, single spaces, '0' dash artefacts fixed."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell == 0.0:  # 0.0 and -0.0: one cache key, two texts
        return _norm_header.__wrapped__(cell)
    try:
        return _norm_header(cell)
    except TypeError:  # an unhashable cell: normalised without the cache
        return _norm_header.__wrapped__(cell)


@functools.lru_cache(maxsize=1 << 16, typed=True)
def _norm_header(cell: Cell) -> str:
    # Cached: readers scan the first rows of every sheet for headers, meeting the same cells
    # again and again. typed=True keeps 1, 1.0 and True apart (their text differs).
    text = str(cell).replace("\u00a0", " ").replace("–", "-").strip().lower()
    # Some exports turn ' - ' into ' 0 ' (e.g. 'Type 1 Departments 0 Major A&E').
    text = _ZERO_DASH.sub(" - ", text)
    return _SPACES.sub(" ", text)
