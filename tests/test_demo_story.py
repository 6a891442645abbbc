"""One demo story: the demo's patient-level week is the week its returns describe, so the
bulletin and the records agree on every figure (it once said 78.2% against 95.1%)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fourhour.cli.demo_cmd import _patients
from fourhour.ingest.model import COUNT_COLUMNS
from fourhour.ingest.patients.synthetic import records_matching_returns
from fourhour.ingest.synthetic import generate_weekly_returns
from fourhour.measures.patient import duckdb_engine, measure_patients
from fourhour.periods import week_ending
from fourhour.report.bulletin import build_bulletin
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file
from fourhour.warehouse.patients import ingest_patients


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dt.date]:
    root = tmp_path_factory.mktemp("demo")
    files = generate_weekly_returns(root / "data", providers=30, weeks=2)
    warehouse = root / "fourhour.duckdb"
    with open_warehouse(warehouse) as wh:
        for f in sorted(files, key=lambda p: ("Mapping" not in p.name, p.name)):
            ingest_file(wh, f)
        latest = wh.con.execute("SELECT max(period_end) FROM provider_returns").fetchone()[0]
    return root / "data", warehouse, latest


def test_the_demo_week_from_records_agrees_with_the_bulletin(demo_world) -> None:
    data_dir, warehouse, latest = demo_world
    week = _patients(data_dir, warehouse, latest, seed=2014)
    with open_warehouse(warehouse, read_only=True) as wh:
        england = build_bulletin(wh, week_ending(latest))["england"]
    assert week["attendances"] == england["all_types"]["attendances"]
    assert week["performance_pct"] == pytest.approx(england["all_types"]["performance_pct"])
    assert week["type1_performance_pct"] == pytest.approx(england["type1"]["performance_pct"])
    assert f"{week['performance_pct']:.1f}" == f"{england['all_types']['performance_pct']:.1f}"


def _returns(wh, latest: dt.date) -> list[dict]:
    cursor = wh.con.execute(
        f"SELECT org_code, {', '.join(COUNT_COLUMNS)} FROM provider_returns "
        "WHERE granularity = 'week' AND period_end = ? ORDER BY org_code",
        [latest],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def test_records_reproduce_every_providers_return(demo_world, tmp_path: Path) -> None:
    _, source, latest = demo_world
    with open_warehouse(source, read_only=True) as wh:
        returns = _returns(wh, latest)
    start = latest - dt.timedelta(days=6)
    table = records_matching_returns(returns, start, seed=7)
    import pyarrow.parquet as pq

    path = tmp_path / "week.parquet"
    pq.write_table(table, path)
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        ingest_patients(wh, path)
        got = measure_patients(wh, duckdb_engine(), levels=("provider",), periods=("week",))
    by_code = got.table.set_index("code")
    for r in returns:
        m = by_code.loc[r["org_code"]]
        for t in ("1", "2", "3"):
            assert m[f"type{t}_attendances"] == (r[f"att_type{t}"] or 0), r["org_code"]
            assert m[f"type{t}_breaches"] == (r[f"br_type{t}"] or 0), r["org_code"]
            assert m[f"type{t}_admitted"] == (r[f"adm_type{t}"] or 0), r["org_code"]
        assert m["dta_4_12h"] == (r["dta_4_12h"] or 0), r["org_code"]
        assert m["dta_over_12h"] == (r["dta_over_12h"] or 0), r["org_code"]
    total = table.num_rows
    assert total == sum((r[f"att_type{t}"] or 0) for r in returns for t in "123")
    arrivals = table.column("arrival").to_pylist()
    assert min(arrivals).date() >= start and max(arrivals).date() <= latest
