"""The patient store: validated attendances as Parquet files beside the warehouse.

`fourhour.duckdb` keeps its patient-level records in `fourhour.patients/`, one Parquet file per
ingested source file, listed in the warehouse's `patient_files` table. Parquet is what both
engines read: DuckDB in place, Spark locally or on a cluster (copy the folder to shared
storage). Patient-level rows never leave this folder through fourhour: only aggregates do.

Ingest is all or nothing per file: rows are validated in batches and streamed to a temporary
Parquet file; then, in one warehouse transaction, duplicate ids (within the file and against
everything stored) are checked, the file is moved into place and recorded. Re-ingesting a file
already stored (same SHA-256) changes nothing. With a quarantine file, rejected rows are written
there with their line and reason, and the rest are stored.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pyarrow.parquet as pq

from fourhour.errors import IngestError, Location, ReaderError
from fourhour.ingest.patients.reader import BATCH_ROWS, Rejects, iter_batches, validate
from fourhour.ingest.patients.schema import STORED
from fourhour.warehouse.connection import Warehouse, one_row
from fourhour.warehouse.load import sha256_of

if TYPE_CHECKING:
    from _csv import Writer  # csv.writer's class, named only in the type stubs


@dataclass
class PatientIngest:
    file: str
    status: str  # ingested | unchanged
    rows_stored: int = 0
    rows_rejected: int = 0
    quarantine: str | None = None
    ingest_id: int | None = None


def store_dir(wh: Warehouse) -> Path:
    return wh.path.with_suffix(".patients")


def stored_files(wh: Warehouse) -> list[Path]:
    names = [r[0] for r in wh.con.execute("SELECT stored_as FROM patient_files").fetchall()]
    return [store_dir(wh) / n for n in sorted(names)]


def parquet_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


class _Quarantine:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self._fh: TextIO | None = None
        self._writer: Writer | None = None

    def add(self, rejects: Rejects) -> None:
        if self.path is None:
            return
        if self._writer is None:
            self._fh = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._fh)
            self._writer.writerow(["source_row", "column", "reason", *rejects.raw.column_names])
        raw = rejects.raw.to_pylist()
        for row, column, reason, values in zip(
            rejects.rows.to_pylist(), rejects.columns, rejects.reasons, raw, strict=True
        ):
            self._writer.writerow([row, column, reason, *values.values()])
        self.count += len(rejects)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def ingest_patients(
    wh: Warehouse,
    path: Path,
    *,
    quarantine: Path | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[int], None] | None = None,
) -> PatientIngest:
    """Validate and store one file of attendances (see the module docstring)."""
    sha = sha256_of(path)
    known = wh.con.execute("SELECT ingest_id FROM patient_files WHERE sha256 = ?", [sha]).fetchone()
    if known is not None:
        return PatientIngest(str(path), "unchanged", ingest_id=known[0])
    folder = store_dir(wh)
    folder.mkdir(parents=True, exist_ok=True)
    ingest_id = one_row(wh.con.execute("SELECT nextval('ingest_id_seq')"))[0]
    name = f"attendances-{ingest_id:06d}.parquet"
    tmp = folder / f".{name}.tmp"
    quarantined = _Quarantine(quarantine)
    stored = 0
    try:
        with pq.ParquetWriter(tmp, STORED, compression="zstd") as writer:
            for raw, first in iter_batches(path, batch_rows):
                batch = validate(raw, first)
                if batch.rejects is not None:
                    if quarantine is None:
                        r = batch.rejects
                        column = r.columns[0]
                        value = (
                            r.raw.column(column)[0].as_py()
                            if column in r.raw.column_names
                            else None
                        )
                        raise ReaderError(
                            Location(str(path), int(r.rows[0].as_py()), column),
                            r.reasons[0],
                            value=value,
                            expected=f"valid rows only ({len(r)} bad row(s) in this batch); "
                            "or --quarantine FILE to store the good rows and set the bad aside",
                        )
                    quarantined.add(batch.rejects)
                if batch.valid.num_rows:
                    writer.write_table(batch.valid)
                    stored += batch.valid.num_rows
                if progress:
                    progress(raw.num_rows)
        quarantined.close()
        stored -= _duplicates(wh, path, tmp, quarantined)
        if stored == 0:
            raise ReaderError(
                Location(str(path)), "no valid attendances to store", expected="at least one row"
            )
        with wh.transaction() as con:
            summary = one_row(
                con.execute(
                    f"SELECT min(arrival), max(arrival), count(DISTINCT provider_code) "
                    f"FROM read_parquet({parquet_list([tmp])})"
                )
            )
            con.execute(
                "INSERT INTO patient_files (ingest_id, file, sha256, stored_as, rows_stored, "
                "rows_rejected, quarantine, arrival_from, arrival_to, providers) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [ingest_id, str(path), sha, name, stored, quarantined.count,
                 str(quarantine) if quarantined.count else None, *summary],
            )  # fmt: skip
            con.execute(
                "INSERT INTO ingest_log (ingest_id, file, sha256, layout, rows_read, "
                "rows_inserted, rows_replaced, notes, period_from, period_to) "
                "VALUES (?, ?, ?, 'patient-level', ?, ?, 0, ?, ?, ?)",
                [
                    ingest_id,
                    str(path),
                    sha,
                    stored + quarantined.count,
                    stored,
                    f"{quarantined.count} row(s) quarantined to {quarantine}"
                    if quarantined.count
                    else None,
                    summary[0].date(),
                    summary[1].date(),
                ],
            )
            os.replace(tmp, folder / name)  # inside the transaction: a failure rolls back
    except BaseException:
        quarantined.close()
        tmp.unlink(missing_ok=True)
        raise
    return PatientIngest(
        str(path),
        "ingested",
        stored,
        quarantined.count,
        str(quarantine) if quarantined.count else None,
        ingest_id,
    )


def _duplicates(wh: Warehouse, path: Path, tmp: Path, quarantined: _Quarantine) -> int:
    """Ids repeated within the file or already stored: an error, or quarantined (returns how
    many rows were removed from the temporary file)."""
    existing = stored_files(wh)
    new = f"read_parquet({parquet_list([tmp])})"
    old = f"read_parquet({parquet_list(existing)})" if existing else None
    dup_sql = f"""
        SELECT source_row, attendance_id, reason FROM (
            SELECT source_row, attendance_id,
                   'the attendance id appears earlier in the file (row ' ||
                   first_value(source_row) OVER w || ')' AS reason,
                   row_number() OVER w AS n
            FROM {new} WINDOW w AS (PARTITION BY attendance_id ORDER BY source_row)
        ) WHERE n > 1
    """
    if old:
        dup_sql += f"""
        UNION ALL
        SELECT n.source_row, n.attendance_id, 'the attendance id is already stored' AS reason
        FROM {new} n SEMI JOIN {old} o ON o.attendance_id = n.attendance_id
        """
    dups = wh.con.execute(f"SELECT * FROM ({dup_sql}) ORDER BY source_row").fetchall()
    if not dups:
        return 0
    if quarantined.path is None:
        row, ident, reason = dups[0]
        raise ReaderError(
            Location(str(path), int(row), "attendance_id"),
            reason,
            value=ident,
            expected=f"a unique id on every attendance ({len(dups)} duplicate(s) in all)",
        )
    con = wh.con
    con.execute("CREATE OR REPLACE TEMP TABLE patient_dups (source_row BIGINT, reason VARCHAR)")
    con.executemany("INSERT INTO patient_dups VALUES (?, ?)", [(d[0], d[2]) for d in dups])
    rejected = con.execute(
        f"SELECT d.source_row, 'attendance_id', d.reason, n.* EXCLUDE (source_row) "
        f"FROM {new} n JOIN patient_dups d USING (source_row) ORDER BY d.source_row"
    )
    header = ["source_row", "column", "reason"] + [c[0] for c in rejected.description[3:]]
    fresh = quarantined.count == 0
    with quarantined.path.open("a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if fresh:
            w.writerow(header)
        while chunk := rejected.fetchmany(10_000):
            w.writerows(chunk)
    kept = tmp.with_suffix(".kept")
    con.execute(
        f"COPY (SELECT n.* FROM {new} n ANTI JOIN patient_dups d USING (source_row) "
        f"ORDER BY n.source_row) TO '{kept}' (FORMAT parquet, COMPRESSION zstd)"
    )
    con.execute("DROP TABLE patient_dups")
    os.replace(kept, tmp)
    quarantined.count += len(dups)
    return len(dups)


def require_patients(wh: Warehouse) -> list[Path]:
    files = stored_files(wh)
    if not files:
        raise IngestError(
            "the warehouse holds no patient-level attendances",
            hint="fourhour patients ingest FILE.csv|FILE.parquet (or fourhour patients generate)",
        )
    missing = [f for f in files if not f.exists()]
    if missing:
        raise IngestError(
            f"the patient store is missing {len(missing)} file(s), e.g. {missing[0]}",
            hint=f"restore {store_dir(wh)} from backup",
        )
    return files
