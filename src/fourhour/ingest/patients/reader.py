"""Stream patient-level attendances from CSV or Parquet in batches, validating every row.

Memory stays bounded by the batch size: CSV is read with Arrow's streaming reader, Parquet one
batch at a time. Each batch is checked with vectorised Arrow compute functions; a row fails on
its first problem (unknown type, unparseable time, departure before arrival, ...). Duplicate
ids need the whole file and the store, so the warehouse checks them after the batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fourhour.errors import Location, ReaderError
from fourhour.ingest.patients.schema import (
    ADMITTED,
    COLUMNS,
    NOT_ADMITTED,
    REQUIRED,
    STORED,
    TIME_FORMATS,
)

BATCH_ROWS = 262_144
_CODE = r"^[A-Z0-9][A-Z0-9-]{1,11}$"


@dataclass
class Rejects:
    """Rows that failed, with why: `rows` are 1-based lines of the source file."""

    rows: pa.Array
    columns: list[str]
    reasons: list[str]
    raw: pa.Table  # the rejected rows as read (text), for the quarantine file

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class Batch:
    valid: pa.Table  # in the STORED schema
    rejects: Rejects | None


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PAR1"


def _normalise_names(path: Path, names: list[str]) -> dict[str, str]:
    """Map each schema column to the file's header name (case and spaces ignored)."""
    found = {n.strip().lower().replace(" ", "_"): n for n in names}
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise ReaderError(
            Location(str(path), 1),
            "the header lacks the column(s) " + ", ".join(missing),
            expected="the patient-level columns " + ", ".join(COLUMNS) + " (see docs/patients.md)",
        )
    return {c: found[c] for c in COLUMNS if c in found}


def iter_batches(path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[tuple[pa.Table, int]]:
    """(raw batch with schema column names, the source line of its first row)."""
    if not path.exists():
        raise ReaderError(Location(str(path)), "file not found")
    if path.stat().st_size == 0:
        raise ReaderError(Location(str(path)), "the file is empty", expected="a header and rows")
    if _is_parquet(path):
        pf = pq.ParquetFile(path)
        names = _normalise_names(path, pf.schema_arrow.names)
        first = 1  # Parquet rows are numbered from 1
        for rb in pf.iter_batches(batch_size=batch_rows, columns=list(names.values())):
            table = pa.Table.from_batches([rb]).rename_columns(list(names))
            yield table, first
            first += table.num_rows
        return
    header = path.open("r", encoding="utf-8-sig", errors="replace").readline()
    names = _normalise_names(path, [h.strip().strip('"') for h in header.rstrip("\r\n").split(",")])
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=max(1 << 20, batch_rows * 96)),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names.values()},
                include_columns=list(names.values()),
                strings_can_be_null=False,
            ),
        )
        first = 2  # line 1 is the header
        for rb in reader:
            table = pa.Table.from_batches([rb]).rename_columns(list(names))
            yield table, first
            first += table.num_rows
    except pa.ArrowInvalid as exc:
        raise ReaderError(
            Location(str(path)),
            f"not a readable CSV: {str(exc).splitlines()[0]}",
            expected="comma-separated text with one header row and the same number of cells "
            "on every row",
        ) from None


def _text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return pc.utf8_trim_whitespace(col)
    return pc.cast(col, pa.string())


def _blank(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(col)), 0), True)
    return pc.is_null(col)


def _time(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_timestamp(col.type):
        return pc.cast(col, pa.timestamp("s"))
    if pa.types.is_date(col.type):
        return pc.cast(pc.cast(col, pa.timestamp("s")), pa.timestamp("s"))
    text = _text(col)
    parsed = [pc.strptime(text, format=f, unit="s", error_is_null=True) for f in TIME_FORMATS]
    return pc.coalesce(*parsed)


def _small_int(col: pa.ChunkedArray, low: int, high: int) -> pa.ChunkedArray:
    if pa.types.is_integer(col.type):
        values = pc.cast(col, pa.int64())
    else:
        text = _text(col)
        ok = pc.match_substring_regex(text, r"^\d{1,2}$")
        values = pc.if_else(ok, pc.cast(pc.if_else(ok, text, "0"), pa.int64()), None)
    in_range = pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high))
    return pc.cast(pc.if_else(in_range, values, None), pa.int8())


def _disposal(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_boolean(col.type):
        return col
    text = pc.utf8_lower(_text(col))
    keys = pa.array(list(ADMITTED) + list(NOT_ADMITTED))
    values = pa.array(list(ADMITTED.values()) + list(NOT_ADMITTED.values()))
    index = pc.index_in(text, value_set=keys)
    return pc.take(values, index)


def validate(raw: pa.Table, first_row: int) -> Batch:
    """Check and convert one batch: the valid rows in the stored schema, and the rejects."""
    n = raw.num_rows
    rows = pa.array(range(first_row, first_row + n), pa.int64())

    def col(name: str) -> pa.ChunkedArray:
        return raw.column(name) if name in raw.column_names else pa.chunked_array([pa.nulls(n)])

    ident = _text(col("attendance_id"))
    provider = pc.utf8_upper(_text(col("provider_code")))
    site = _text(col("site_code"))
    dept = _small_int(col("department_type"), 1, 4)
    arrival = _time(col("arrival"))
    departure = _time(col("departure"))
    dta_raw = col("decision_to_admit")
    dta_blank = _blank(dta_raw)
    dta = _time(dta_raw)
    admitted = _disposal(col("disposal"))
    acuity_raw = col("acuity")
    acuity_blank = _blank(acuity_raw)
    acuity = _small_int(acuity_raw, 1, 5)
    age = col("age_band")
    age = pc.if_else(_blank(age), None, _text(age))

    # In priority order: (column, failed mask, reason)
    checks = [
        ("attendance_id", _blank(col("attendance_id")), "the attendance id is empty"),
        (
            "provider_code",
            pc.invert(pc.fill_null(pc.match_substring_regex(provider, _CODE), False)),
            "not an ODS organisation code",
        ),
        ("site_code", _blank(col("site_code")), "the site code is empty"),
        ("department_type", pc.is_null(dept), "not a department type 01-04"),
        ("arrival", pc.is_null(arrival), "not a date-time (e.g. 2024-01-31 14:05)"),
        ("departure", pc.is_null(departure), "not a date-time (e.g. 2024-01-31 18:20)"),
        (
            "departure",
            pc.fill_null(pc.less(departure, arrival), False),
            "departure is before arrival",
        ),
        (
            "decision_to_admit",
            pc.and_(pc.invert(dta_blank), pc.is_null(dta)),
            "not a date-time, or blank for none",
        ),
        (
            "decision_to_admit",
            pc.fill_null(pc.or_(pc.less(dta, arrival), pc.greater(dta, departure)), False),
            "the decision to admit is outside the time in the department",
        ),
        ("disposal", pc.is_null(admitted), "not admitted or not_admitted"),
        (
            "acuity",
            pc.and_(pc.invert(acuity_blank), pc.is_null(acuity)),
            "not an acuity 1-5, or blank",
        ),
    ]
    bad = None
    for _, mask, _ in checks:
        mask = pc.fill_null(mask, True)
        bad = mask if bad is None else pc.or_(bad, mask)
    valid_mask = pc.invert(bad)
    table = pa.table(
        {
            "attendance_id": ident,
            "provider_code": provider,
            "site_code": site,
            "department_type": dept,
            "arrival": arrival,
            "decision_to_admit": dta,
            "departure": departure,
            "admitted": admitted,
            "age_band": age,
            "acuity": acuity,
            "source_row": rows,
        },
        schema=STORED,
    )
    n_bad = pc.sum(pc.cast(bad, pa.int64())).as_py() or 0
    if n_bad == 0:
        return Batch(table, None)
    # Name each rejected row's first problem.
    columns: list[str | None] = [None] * n
    reasons: list[str | None] = [None] * n
    bad_idx = pc.indices_nonzero(bad).to_pylist()
    masks = [(c, pc.fill_null(m, True).to_numpy(zero_copy_only=False), r) for c, m, r in checks]
    for i in bad_idx:
        for c, m, r in masks:
            if m[i]:
                columns[i], reasons[i] = c, r
                break
    take = pa.array(bad_idx, pa.int64())
    rejects = Rejects(
        rows=pc.take(rows, take),
        columns=[columns[i] for i in bad_idx],
        reasons=[reasons[i] for i in bad_idx],
        raw=raw.take(take),
    )
    return Batch(table.filter(valid_mask), rejects)
