"""Read small reference tables that people write by hand (mappings, leaders, trajectories).

Unlike NHS England's returns, these files have one documented layout each: a header row naming
the columns (any order, any case, spaces or underscores) and one record per row. Every cell is
parsed by its column's parser; a bad cell is a ReaderError naming the file, row and column and
saying what was expected. Blank rows are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fourhour.errors import Location, ReaderError
from fourhour.ingest.source import Cell, is_blank, open_sheets
from fourhour.ingest.values import norm_header


def _key(text: Cell) -> str:
    return re.sub(r"[\s_]+", " ", norm_header(text)).strip()


@dataclass(frozen=True)
class Column:
    """One column of a reference table: its name, how to parse a cell, and what is expected."""

    name: str
    parse: Callable[[str], Any]
    expected: str
    required: bool = True  # the column must be present
    optional_value: bool = False  # a cell may be blank (parsed as None)
    aliases: tuple[str, ...] = ()


@dataclass
class Record:
    """One parsed row: values by column name, and where it came from."""

    values: dict[str, Any]
    row: int  # 1-based, as a spreadsheet shows it
    file: str
    sheet: str | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def location(self, column: str | None = None) -> Location:
        return Location(self.file, self.row, column, self.sheet)


@dataclass
class Table:
    path: Path
    records: list[Record] = field(default_factory=list)


def _cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def read_table(path: Path, columns: Sequence[Column], what: str) -> Table:
    """Parse `path` (CSV, XLS or XLSX; first sheet with the header) into records."""
    sheets = open_sheets(path)
    wanted = {_key(c.name): c for c in columns}
    for c in columns:
        for alias in c.aliases:
            wanted[_key(alias)] = c
    for sheet in sheets:
        for index, row in sheet.nonblank_rows():
            found = {_key(_cell_text(cell)): i for i, cell in enumerate(row)}
            positions = {wanted[k].name: i for k, i in found.items() if k in wanted}
            missing = [c.name for c in columns if c.required and c.name not in positions]
            if not positions:
                break  # the first non-blank row is not this table's header: next sheet
            if missing:
                raise ReaderError(
                    sheet.location(index),
                    f"the header lacks the column(s) {', '.join(missing)} of {what}",
                    expected="columns " + ", ".join(c.name for c in columns if c.required),
                )
            return Table(path, list(_records(sheet, index, row, positions, columns)))
    raise ReaderError(
        Location(str(path), 1),
        f"no header row of {what} found",
        expected="a first row naming the columns " + ", ".join(c.name for c in columns),
    )


def _records(sheet, header_index, header, positions, columns):
    by_name = {c.name: c for c in columns}
    width = len(header)
    for index, row in sheet.nonblank_rows():
        if index <= header_index:
            continue
        extra = [c for c in row[width:] if not is_blank(c)]
        if extra:
            raise ReaderError(
                sheet.location(index),
                f"the row has {len(row)} cells but the header names {width} columns",
                expected="one value per header column (quote cells that contain commas)",
            )
        values: dict[str, Any] = {}
        for name, column in by_name.items():
            if name not in positions:
                values[name] = None
                continue
            position = positions[name]
            text = _cell_text(row[position]) if position < len(row) else ""
            label = _cell_text(header[position])
            if text == "":
                if column.optional_value:
                    values[name] = None
                    continue
                raise ReaderError(
                    sheet.location(index, label), "the cell is empty", expected=column.expected
                )
            try:
                values[name] = column.parse(text)
            except (ValueError, TypeError) as exc:
                detail = f": {exc}" if str(exc) else ""
                raise ReaderError(
                    sheet.location(index, label),
                    f"cannot read the {name}{detail}",
                    value=text,
                    expected=column.expected,
                ) from None
        yield Record(values, index + 1, str(sheet.path), sheet.name)


# ---------------------------------------------------------------------------- cell parsers

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,11}$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-01)?$")


def org_code(text: str) -> str:
    """An ODS-style organisation code: letters and digits, upper-cased."""
    code = text.strip().upper()
    if not _CODE.match(code):
        raise ValueError("not an organisation code")
    return code


def date(text: str) -> dt.date:
    """YYYY-MM-DD or DD/MM/YYYY."""
    t = text.strip()
    m = _ISO_DATE.match(t)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    m = _UK_DATE.match(t)
    if m:
        return dt.date(int(m[3]), int(m[2]), int(m[1]))
    raise ValueError("not a date")


def month(text: str) -> dt.date:
    """YYYY-MM (or the first of the month as YYYY-MM-01): the first day of that month."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise ValueError("not a month")
    return dt.date(int(m[1]), int(m[2]), 1)


def percentage(text: str) -> float:
    """A percentage from 0 to 100; a trailing % is allowed."""
    value = float(text.strip().rstrip("%").strip())
    if not 0.0 <= value <= 100.0:
        raise ValueError("out of range")
    return value


def money(text: str) -> float:
    """An amount in pounds, e.g. 1234567, 1,234,567 or £1,234,567.50; not negative."""
    value = float(text.strip().lstrip("£").replace(",", ""))
    if value < 0 or value != value:
        raise ValueError("negative or not a number")
    return value


def nonempty_text(text: str) -> str:
    return " ".join(text.split())


def one_of(*choices: str) -> Callable[[str], str]:
    normalised = {_key(c): c for c in choices}

    def parse(text: str) -> str:
        key = _key(text)
        if key not in normalised:
            raise ValueError("not a known value")
        return normalised[key]

    return parse
