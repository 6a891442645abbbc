"""Patient-level measures as roll-ups of cells built at ingest: quantiles from histograms equal
the exact quantiles, the roll-ups equal the measures computed from the records on DuckDB and
on Spark, and each ingested file adds exactly its own cells."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fourhour.cli import app
from fourhour.ingest.patients.synthetic import generate_year
from fourhour.measures import quantiles as dq
from fourhour.measures.patient import (
    COUNT_COLUMNS,
    compute,
    duckdb_engine,
    measure_patients,
    organisation_mapping,
    read_attendances,
)
from fourhour.measures.patient_cells import CELL_KINDS, cell_path, cells_of
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.patients import require_patients

runner = CliRunner()
QS = (0.5, 0.95)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3000)), min_size=1, max_size=300),
    st.integers(2, 2000),
)
def test_quantiles_from_weighted_histograms_equal_exact_quantiles(pairs, cap) -> None:
    """Cells hold counts: the values at or beyond the cap arrive as (group, minute, count)."""
    groups = np.array([g for g, _ in pairs], dtype=np.int64)
    minutes = np.array([m for _, m in pairs], dtype=np.int64)
    dense, og, om = dq.histograms(groups, minutes, 5, cap)
    cells = pd.DataFrame({"g": og, "m": om}).value_counts().reset_index()
    got = dq.quantiles(dense, cells["g"].to_numpy(), cells["m"].to_numpy(), QS,
                       cells["count"].to_numpy())  # fmt: skip
    con = duckdb_engine().backend.con
    for g in range(5):
        values = minutes[groups == g]
        if len(values) == 0:
            assert np.isnan(got[g]).all()
            continue
        exact = con.execute(
            "SELECT quantile_cont(m, [0.5, 0.95]) FROM unnest(?::INT[]) t(m)", [values.tolist()]
        ).fetchone()[0]
        np.testing.assert_allclose(got[g], exact, rtol=1e-12)


def _warehouse(root: Path, days: int = 14) -> Path:
    files = generate_year(root / "data", rows=60_000, start=dt.date(2024, 1, 1), days=days,
                          n_providers=9, seed=11)  # fmt: skip
    path = root / "w.duckdb"
    args = ["patients", "ingest", *map(str, files), "-w", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _warehouse(tmp_path_factory.mktemp("cells"), days=40)


def _from_records(path: Path, engine):
    with open_warehouse(path, read_only=True) as wh:
        files = require_patients(wh)
        mapping = organisation_mapping(wh, files, engine)
    return compute(engine, read_attendances(engine, files), mapping, quantile_method="sql")


def test_cells_roll_up_to_the_measures_from_the_records(weeks: Path) -> None:
    with open_warehouse(weeks, read_only=True) as wh:
        cells = measure_patients(wh, duckdb_engine())
        direct = measure_patients(wh, duckdb_engine(), source="records")
    records = _from_records(weeks, duckdb_engine())
    pd.testing.assert_frame_equal(direct.table, records.table)
    assert set(cells.table["level"]) == {"provider", "system", "region", "national"}
    assert set(cells.table["granularity"]) == {"week", "month", "quarter", "fy"}
    pd.testing.assert_frame_equal(cells.table, records.table)
    pd.testing.assert_frame_equal(cells.near_four_hours, records.near_four_hours)


@pytest.mark.spark
@pytest.mark.slow
def test_duckdb_spark_and_histogram_roll_ups_are_identical(weeks: Path) -> None:
    from fourhour.measures.patient import spark_engine

    spark = spark_engine("local[2]")
    with open_warehouse(weeks, read_only=True) as wh:
        on_duck = measure_patients(wh, duckdb_engine())
        on_spark = measure_patients(wh, spark)
        files = require_patients(wh)
    records = _from_records(weeks, duckdb_engine())
    for other in (on_spark, records):
        pd.testing.assert_frame_equal(on_duck.table, other.table, check_dtype=False)
        pd.testing.assert_frame_equal(
            on_duck.near_four_hours, other.near_four_hours, check_dtype=False
        )
    # Spark builds the same cells as the ones DuckDB stored at ingest.
    table = read_attendances(spark, files[:1])
    for kind, expr in cells_of(table).items():
        stored = pd.read_parquet(cell_path(files[0], kind))
        pd.testing.assert_frame_equal(_sorted(expr.to_pandas()), _sorted(stored), check_dtype=False)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells in one order, dates as dates (engines return dates differently)."""
    frame = frame.copy()
    for c in ("day", "period_start"):
        if c in frame:
            frame[c] = pd.to_datetime(frame[c]).dt.date
    keys = [c for c in frame.columns if c not in ("n", *COUNT_COLUMNS)]
    return frame.sort_values(keys).reset_index(drop=True)


def _cells(path: Path) -> dict[Path, bytes]:
    folder = path.with_suffix(".patients") / "cells"
    return {f: f.read_bytes() for f in sorted(folder.glob("*.parquet"))}


def test_an_incremental_month_adds_exactly_its_own_cells(tmp_path: Path) -> None:
    files = generate_year(tmp_path / "data", rows=40_000, start=dt.date(2024, 1, 1), days=45,
                          n_providers=6, seed=5)  # fmt: skip
    assert len(files) == 2  # January and half of February
    path = tmp_path / "w.duckdb"
    assert runner.invoke(app, ["patients", "ingest", str(files[0]), "-w", str(path)]).exit_code == 0
    first = _cells(path)
    assert len(first) == len(CELL_KINDS)
    assert runner.invoke(app, ["patients", "ingest", str(files[1]), "-w", str(path)]).exit_code == 0
    both = _cells(path)
    assert {f: both[f] for f in first} == first  # January's cells untouched
    new = sorted(set(both) - set(first))
    assert len(new) == len(CELL_KINDS)
    # February's cells are the cells of February's rows alone.
    engine = duckdb_engine()
    with open_warehouse(path, read_only=True) as wh:
        february = require_patients(wh)[-1]
    for kind, expr in cells_of(engine.backend.read_parquet(str(february))).items():
        alone = _sorted(expr.to_pandas())
        got = _sorted(pd.read_parquet(next(f for f in new if f.name.startswith(kind))))
        pd.testing.assert_frame_equal(got, alone, check_dtype=False)
        stored = len(pd.read_parquet(february))
        assert got["attendances" if kind == "counts" else "n"].sum() == stored
    # Re-ingesting changes nothing; the measures still equal those from the records.
    again = runner.invoke(app, ["patients", "ingest", str(files[1]), "-w", str(path)])
    assert again.exit_code == 0 and "unchanged" in again.output
    assert _cells(path) == both
    with open_warehouse(path, read_only=True) as wh:
        cells = measure_patients(wh, duckdb_engine())
    pd.testing.assert_frame_equal(cells.table, _from_records(path, duckdb_engine()).table)


def test_stores_without_cells_get_them_once(weeks: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "w.duckdb"
    shutil.copy(weeks, copy)
    shutil.copytree(weeks.with_suffix(".patients"), copy.with_suffix(".patients"))
    shutil.rmtree(copy.with_suffix(".patients") / "cells")
    with open_warehouse(copy, read_only=True) as wh:
        rebuilt = measure_patients(wh, duckdb_engine(), levels=("national",), periods=("month",))
        stored = wh.con.execute("SELECT sum(rows_stored) FROM patient_files").fetchone()[0]
    for f in _cells(weeks):
        again = pd.read_parquet(copy.with_suffix(".patients") / "cells" / f.name)
        pd.testing.assert_frame_equal(_sorted(again), _sorted(pd.read_parquet(f)))
    assert rebuilt.table["attendances"].sum() == stored


def test_measures_read_the_cells_only(weeks: Path, tmp_path: Path) -> None:
    """With cells stored, measuring never opens the records: with every record file made
    unreadable, the measures are unchanged."""
    import shutil

    copy = tmp_path / "w.duckdb"
    shutil.copy(weeks, copy)
    shutil.copytree(weeks.with_suffix(".patients"), copy.with_suffix(".patients"))
    for f in copy.with_suffix(".patients").glob("attendances-*.parquet"):
        f.write_bytes(b"not parquet")
    with open_warehouse(copy, read_only=True) as wh:
        blind = measure_patients(wh, duckdb_engine())
    with open_warehouse(weeks, read_only=True) as wh:
        seen = measure_patients(wh, duckdb_engine())
    pd.testing.assert_frame_equal(blind.table, seen.table)
    pd.testing.assert_frame_equal(blind.near_four_hours, seen.near_four_hours)
