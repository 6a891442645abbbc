"""Open a CSV, XLS or XLSX file as sheets of cells, with clear errors for damaged files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from fourhour.errors import Location, ReaderError

Cell = str | int | float | dt.datetime | dt.date | None

# Real NHS England CSVs are UTF-8 (often with a byte-order mark) or Windows-1252.
ENCODINGS: tuple[str, ...] = ("utf-8-sig", "cp1252")


@dataclass
class Sheet:
    """One grid of cells. Row numbers in messages are 1-based, as a spreadsheet shows them."""

    path: Path
    name: str | None
    rows: list[list[Cell]]

    def location(self, row_index: int | None = None, column: str | None = None) -> Location:
        return Location(
            str(self.path),
            None if row_index is None else row_index + 1,
            column,
            self.name,
        )

    def nonblank_rows(self) -> Iterator[tuple[int, list[Cell]]]:
        for index, row in enumerate(self.rows):
            if any(not is_blank(c) for c in row):
                yield index, row


def is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() == "")


def open_sheets(path: Path) -> list[Sheet]:
    """Every sheet in the file (one for CSV). Raises ReaderError for empty or damaged files."""
    if not path.exists():
        raise ReaderError(Location(str(path)), "file not found")
    if path.stat().st_size == 0:
        raise ReaderError(
            Location(str(path)), "the file is empty", expected="a header row and data rows"
        )
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if suffix == ".xlsx" or data[:4] == b"PK\x03\x04":
        return _open_xlsx(path, data)
    if suffix == ".xls" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return _open_xls(path, data)
    return [_open_csv(path, data)]


def decode_text(path: Path, data: bytes) -> str:
    """Decode CSV bytes as UTF-8, else Windows-1252; anything else is a clear error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise ReaderError(
            Location(str(path), 1),
            "the file is not in a text encoding fourhour reads (it looks like UTF-16)",
            expected="UTF-8 or Windows-1252 text, as NHS England publishes; re-save as CSV UTF-8",
        )
    try:
        return data.decode(ENCODINGS[0])
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(ENCODINGS[1])
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReaderError(
            Location(str(path), line),
            f"byte {data[exc.start : exc.end]!r} is valid in neither UTF-8 nor Windows-1252",
            expected="UTF-8 or Windows-1252 text",
        ) from None


def _open_csv(path: Path, data: bytes) -> Sheet:
    text = decode_text(path, data)
    if not text.strip():
        raise ReaderError(
            Location(str(path)),
            "the file holds only blank space",
            expected="a header row and data rows",
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[Cell]] = []
    try:
        for row in reader:
            rows.append(list(row))
    except csv.Error as exc:
        raise ReaderError(
            Location(str(path), reader.line_num),
            f"the CSV is malformed ({exc})",
            expected="well-formed CSV; the file may be truncated",
        ) from None
    if not text.endswith(("\n", "\r")) and rows:
        # A last line with no line ending is normal for hand-made CSVs; a last line that is
        # shorter than the header is the mark of a cut-off download (checked by readers).
        pass
    return Sheet(path, None, rows)


def _xlsx_cell(value: object) -> Cell:
    """openpyxl's value as a Cell: text, numbers, dates and blanks as they are; a Decimal as a
    float; anything else (a time of day, a duration) as its text, which readers then report."""
    if value is None or isinstance(value, str | int | float | dt.date):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _open_xlsx(path: Path, data: bytes) -> list[Sheet]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReaderError(
            Location(str(path)),
            f"the workbook cannot be opened ({type(exc).__name__}: {exc})",
            expected="a complete .xlsx workbook; the file may be truncated",
        ) from None
    sheets: list[Sheet] = []
    try:
        for ws in book.worksheets:
            rows = [[_xlsx_cell(v) for v in r] for r in ws.iter_rows(values_only=True)]
            sheets.append(Sheet(path, ws.title, rows))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReaderError(
            Location(str(path)),
            f"the workbook is damaged ({type(exc).__name__}: {exc})",
            expected="a complete .xlsx workbook; the file may be truncated",
        ) from None
    finally:
        book.close()
    return sheets


def _open_xls(path: Path, data: bytes) -> list[Sheet]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data)
    except (xlrd.biffh.XLRDError, AssertionError, IndexError, ValueError, EOFError) as exc:
        raise ReaderError(
            Location(str(path)),
            f"the workbook cannot be opened ({type(exc).__name__}: {exc})",
            expected="a complete .xls workbook; the file may be truncated",
        ) from None
    sheets = []
    for sh in book.sheets():
        rows: list[list[Cell]] = []
        for r in range(sh.nrows):
            row: list[Cell] = []
            for c in range(sh.ncols):
                cell = sh.cell(r, c)
                if cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(xlrd.xldate.xldate_as_datetime(float(cell.value), book.datemode))
                elif (
                    cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)
                    or cell.ctype == xlrd.XL_CELL_ERROR
                ):
                    row.append(None)
                else:
                    row.append(cell.value)
            rows.append(row)
        sheets.append(Sheet(path, sh.name, rows))
    return sheets
