"""Nothing lost, nothing hidden: the warehouse rule, a busy warehouse, outputs checked before any
work and written whole, folder ingest that tries every file, exact generated row counts, and
tables that never cut numbers short on a pipe."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from fourhour.cli import main
from fourhour.errors import IngestError, OutputError, WarehouseError
from fourhour.outputs import atomic_path, check_output, write_text_atomic
from fourhour.warehouse import open_warehouse
from tests.conftest import PROVIDER_HEADER, provider_row, write
from tests.test_escalation import E, world  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return (info.value.code or 0), out, err


# --- the warehouse rule ----------------------------------------------------------------------


def test_a_csv_is_never_used_as_a_warehouse(tmp_path: Path, provider_csv: Path, capsys) -> None:
    """`ingest DIR -w existing.csv` used to 'ingest' into an in-memory database, keeping nothing."""
    target = write(tmp_path, "existing.csv", "a,b\n1,2\n")
    before = target.read_bytes()
    for argv in (
        ["ingest", str(provider_csv), "-w", str(target)],
        ["bulletin", "--month", "2025-01", "-w", str(target)],
        ["warehouse", "info", "-w", str(target)],
    ):
        code, _, err = run(argv, capsys)
        assert code == WarehouseError.exit_code
        assert err.startswith(f"error: {target} is not a fourhour warehouse"), err
    assert target.read_bytes() == before


def test_the_warehouse_rule(tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (a INTEGER)")
    con.close()
    with pytest.raises(WarehouseError, match="DuckDB database but not a fourhour warehouse"):
        open_warehouse(other)
    with pytest.raises(WarehouseError, match=r"does not end in \.duckdb"):
        open_warehouse(tmp_path / "new.db")
    with pytest.raises(WarehouseError, match="is a folder"):
        open_warehouse(tmp_path)
    with pytest.raises(WarehouseError, match="no warehouse at"):
        open_warehouse(tmp_path / "absent.duckdb", read_only=True)
    assert not (tmp_path / "new.db").exists() and not (tmp_path / "absent.duckdb").exists()
    empty = tmp_path / "empty.duckdb"
    empty.touch()
    with pytest.raises(WarehouseError, match="is an empty file"):
        open_warehouse(empty)
    blank = tmp_path / "blank.duckdb"
    duckdb.connect(str(blank)).close()  # a DuckDB database with no tables: made a warehouse
    open_warehouse(blank).close()
    created = tmp_path / "sub" / "new.duckdb"
    open_warehouse(created).close()
    with open_warehouse(created, read_only=True) as wh:
        assert wh.pending_migrations() == []


HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "


def _hold(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD + f"time.sleep({seconds})", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_busy_warehouse_waits_then_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    open_warehouse(path).close()
    holder = _hold(path, 30)
    try:
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "fourhour", "warehouse", "info", "-w", str(path)],
            capture_output=True,
            text=True,
            env={**ENV, "FOURHOUR_LOCK_WAIT": "1"},
            check=False,
        )
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == WarehouseError.exit_code
    lines = proc.stderr.splitlines()
    assert lines[0] == "warehouse is busy, waiting up to 1 s"
    assert lines[1].startswith(f"error: the warehouse {path} is busy"), proc.stderr
    assert "FOURHOUR_LOCK_WAIT" in proc.stderr and "Traceback" not in proc.stderr
    assert waited >= 1


def test_a_busy_warehouse_is_used_once_free(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    open_warehouse(path).close()
    holder = _hold(path, 1.5)
    try:
        with open_warehouse(path, read_only=True, wait_s=30) as wh:
            assert wh.pending_migrations() == []
    finally:
        holder.wait()


def test_lock_wait_setting_must_be_seconds(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FOURHOUR_LOCK_WAIT", "soon")
    with pytest.raises(WarehouseError, match="FOURHOUR_LOCK_WAIT='soon'"):
        open_warehouse(tmp_path / "w.duckdb")


# --- outputs -----------------------------------------------------------------------------------


def test_escalate_into_a_missing_folder_records_nothing(world: Path, tmp_path, capsys) -> None:  # noqa: F811
    def runs() -> int:
        with open_warehouse(world, read_only=True) as wh:
            return wh.con.execute("SELECT count(*) FROM escalation_runs").fetchone()[0]

    before = runs()
    out = tmp_path / "missing-folder" / "e.txt"
    code, _, err = run(["escalate", "--week-ending", str(E), "--out", str(out), "-w", str(world)],
                       capsys)  # fmt: skip
    assert code == OutputError.exit_code
    assert err.splitlines()[0] == (
        f"error: cannot write --out {out}: the folder {out.parent} does not exist"
    )
    assert runs() == before
    code, _, _ = run(["escalate", "--week-ending", str(E), "--out", str(tmp_path / "e.txt"),
                      "-w", str(world)], capsys)  # fmt: skip
    assert code == 0 and runs() == before + 1


def test_check_output_rules(tmp_path: Path) -> None:
    assert check_output(tmp_path / "a.csv") == tmp_path / "a.csv"
    assert check_output(tmp_path / "new" / "deeper", folder=True)
    a_file = write(tmp_path, "f.txt", "x")
    for path, folder, message in (
        (tmp_path / "nope" / "a.csv", False, "does not exist"),
        (tmp_path, False, "is a folder"),
        (a_file / "a.csv", False, "is a file, not a folder"),
        (a_file, True, "is a file, not a folder"),
        (a_file / "sub", True, "is a file, not a folder"),
        (Path("/sys/fourhour.csv"), False, "not writable"),
    ):
        with pytest.raises(OutputError, match=message):
            check_output(path, folder=folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]  # probes removed


def test_writes_are_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_text_atomic(target, "first")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.suffix == ".txt" and tmp.parent == tmp_path
        tmp.write_text("half")
        raise RuntimeError("failed mid-write")
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


# --- folder ingest -----------------------------------------------------------------------------


def test_folder_ingest_tries_every_file_and_names_the_refused(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    good = [
        PROVIDER_HEADER,
        provider_row("RAA", "Alpha", (10000, 0, 4000), (2500, 0, 40)),
        provider_row("RCC", "Gamma", (800, 0, 0), (80, 0, 0)),
    ]
    write(folder, "January-2025-AE.csv", "\n".join(good) + "\n")
    bad = provider_row("RCC", "Gamma", (800, 0, 0), (80, 0, 0), other=-5)
    write(folder, "February-2025-AE.csv", "\n".join([*good[:2], bad]) + "\n")
    write(folder, "March-2025-AE.csv", "\n".join(good) + "\n")
    write(folder, "README.txt", "notes")
    w = tmp_path / "w.duckdb"
    code, out, err = run(["ingest", str(folder), "-w", str(w)], capsys)
    assert code == IngestError.exit_code
    assert "skipped" in out and "README.txt" in out
    assert "refused" in err and "February-2025-AE.csv" in err and "negative" in err
    assert err.splitlines()[-2].startswith("error: 1 of 3 files refused"), err
    with open_warehouse(w, read_only=True) as wh:
        months = wh.con.execute("SELECT DISTINCT period_start FROM provider_returns ORDER BY 1")
        assert [str(m[0]) for m in months.fetchall()] == ["2025-01-01", "2025-03-01"]


def test_missing_inputs_are_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for argv in (
        ["ingest", "nope.csv", "-w", "w.duckdb"],
        ["patients", "ingest", "nope.parquet", "-w", "w.duckdb"],
        ["orgs", "import", "nope.csv", "-w", "w.duckdb"],
    ):
        code, _, err = run(argv, capsys)
        assert code == 2 and err.splitlines()[0] == f"error: {argv[-3]}: no such file" + (
            " or folder" if argv[0] == "ingest" else ""
        )
    assert not (tmp_path / "w.duckdb").exists()


# --- generated rows, piped tables ------------------------------------------------------------


def test_daily_volumes_sum_exactly(tmp_path: Path) -> None:
    from fourhour.ingest.patients.synthetic import _daily_volumes

    for total in (0, 1, 999, 200_000, 480_000):
        for n in (1, 7, 31, 365):
            days = np.array([dt.date(2024, 4, 1) + dt.timedelta(days=i) for i in range(n)])
            volumes = _daily_volumes(days, total, np.random.default_rng(n))
            assert volumes.sum() == total and (volumes >= 0).all()


def test_patients_generate_writes_exactly_the_rows_asked(tmp_path: Path, capsys) -> None:
    out = tmp_path / "gen"
    argv = ["patients", "generate", "--out", str(out), "--rows", "20001", "--days", "40",
            "--providers", "5", "--format", "csv", "--start", "2024-04-01"]  # fmt: skip
    code, _, _ = run(argv, capsys)
    assert code == 0
    rows = sum(len(p.read_text().splitlines()) - 1 for p in out.glob("*.csv"))
    assert rows == 20001


def test_piped_tables_never_cut_numbers(tmp_path: Path) -> None:
    name = "The Very Long Named Hospitals University Teaching NHS Foundation Trust Group"
    lines = [
        PROVIDER_HEADER,
        provider_row("RAA", name, (1022345, 0, 400000), (250000, 0, 4000)),
        provider_row("RCC", name + " Two", (812345, 0, 0), (80000, 0, 0)),
    ]
    w = tmp_path / "w.duckdb"
    argv = [sys.executable, "-m", "fourhour"]
    env = {k: v for k, v in ENV.items() if k != "COLUMNS"}
    csv = write(tmp_path, "January-2025-AE.csv", "\n".join(lines) + "\n")
    subprocess.run([*argv, "ingest", str(csv), "-w", str(w)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    shown = subprocess.run(
        [*argv, "measures", "--level", "provider", "--month", "2025-01", "-w", str(w)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "…" not in shown
    for figure in ("1,422,345", "812,345", "254,000", "80,000", name):
        assert figure in shown, figure
