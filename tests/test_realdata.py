"""Conformance on NHS England's real published files (../shared/data): every file ingests,
national figures equal the published totals, provider figures equal the files themselves."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from fourhour import periods
from fourhour.ingest.read import read_file
from fourhour.measures import england, measure_table
from fourhour.report.bulletin import build_bulletin
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file, sha256_of
from tests.conftest import return_files

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in (".csv", ".xls", ".xlsx"))


BED_DIRS = ("winter-sitrep-beds", "daily-sitrep-winter-2014-15")


def _read(warehouse: Path) -> Callable[[Path], tuple[str, int]]:
    """(layout, rows read) of a file, from the log of the session's folder ingest; a file that
    added nothing new (e.g. a mapping another file already gave) is not logged: read it."""
    with open_warehouse(warehouse, read_only=True) as wh:
        rows = wh.con.execute("SELECT sha256, layout, rows_read FROM ingest_log").fetchall()
    logged = {sha: (layout, n) for sha, layout, n in rows}

    def read(path: Path) -> tuple[str, int]:
        if sha256_of(path) in logged:
            return logged[sha256_of(path)]
        r = read_file(path)
        n = len(r.returns) + len(r.totals) + len(r.organisations)
        return r.layout, n + sum(len(f) for f in r.extra_tables.values())

    return read


# Every file is read (and stored) once per run by the session's `fourhour ingest FOLDER`
# (tests/conftest.py, real_warehouse_all): these check what it recorded for each file.


def test_every_returns_and_organisation_file_is_read(
    shared_data: Path, real_warehouse_all: Path
) -> None:
    read = _read(real_warehouse_all)
    for path in all_files(shared_data):
        if path.parent.name not in BED_DIRS:
            layout, rows = read(path)
            assert layout and rows > 0, path


def test_every_bed_occupancy_file_is_read(shared_data: Path, real_warehouse_all: Path) -> None:
    read = _read(real_warehouse_all)
    for path in all_files(shared_data):
        if path.parent.name in BED_DIRS:
            layout, rows = read(path)
            assert layout in ("winter-sitrep-beds", "daily-sitrep-2014-15") and rows > 0, path


def test_every_returns_file_ingests_and_twice_changes_nothing(
    real_warehouse: Path, shared_data: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "again.duckdb"  # the session's warehouse is shared: never written to
    shutil.copy(real_warehouse, copy)
    with open_warehouse(copy) as wh:
        before = wh.table_counts()
        for f in return_files(shared_data):
            assert ingest_file(wh, f).status == "unchanged", f
        assert wh.table_counts() == before


def test_england_from_providers_equals_nhs_england_time_series(real_warehouse: Path) -> None:
    """April 2016 - March 2019: NHS-R provider rows summed = NHS England's national series."""
    with open_warehouse(real_warehouse, read_only=True) as wh:
        rows = wh.con.execute(
            """
            WITH p AS (
              SELECT period_end, sum(att_type1) a1, sum(att_type2) a2, sum(att_type3) a3,
                     sum(br_type1) b1, sum(br_type2) b2, sum(br_type3) b3
              FROM provider_returns WHERE granularity = 'month'
                AND period_end BETWEEN DATE '2016-04-01' AND DATE '2019-03-31' GROUP BY 1)
            SELECT p.*, t.att_type1, t.att_type2, t.att_type3, t.br_type1, t.br_type2, t.br_type3
            FROM p JOIN published_totals t USING (period_end) WHERE t.area = 'ENGLAND'
            """
        ).fetchall()
    assert len(rows) == 36
    exact = 0
    for r in rows:
        ours, published = [float(x) for x in r[1:7]], list(r[7:13])
        # Exact in all but a couple of months, where NHS England's later series carries
        # small revisions (August 2017, March 2019): within 0.1% there.
        assert all(
            abs(a - b) <= max(1.0, 0.001 * b) for a, b in zip(ours, published, strict=True)
        ), r[0]
        exact += ours == published
    assert exact >= 33


def test_provider_month_equals_hand_computation(real_warehouse: Path, shared_data: Path) -> None:
    path = shared_data / "monthly-by-provider-2025-26" / "April-2025-AE.csv"
    with path.open(newline="") as fh:
        row = next(r for r in csv.reader(fh) if r[0] == "RGT")
    num = [int(x.replace(",", "")) if x.replace(",", "").isdigit() else None for x in row]
    att, over = num[3] + num[4] + num[5], num[11] + num[12] + num[13]
    assert (att, over) == (num[6], num[14])
    with open_warehouse(real_warehouse, read_only=True) as wh:
        t = measure_table(wh, periods.month(2025, 4), "provider").set_index("code").loc["RGT"]
    assert (t.all_types_attendances, t.all_types_breaches) == (att, over)
    assert t.all_types_performance_pct == pytest.approx(100 * (att - over) / att)
    assert round(t.all_types_performance_pct, 1) == float(row[15])
    assert round(t.type1_performance_pct, 1) == float(row[16])
    assert t.trolley_waits_over_4h == num[25] and t.trolley_waits_over_12h == num[26]


def test_weekly_type1_matches_tracker_and_bulletin(real_warehouse: Path) -> None:
    week = periods.week_ending(dt.date(2014, 12, 14))
    with open_warehouse(real_warehouse, read_only=True) as wh:
        e = england(wh, week).iloc[0]
        b = build_bulletin(wh, week)
        exact = wh.con.execute(
            "SELECT count(*) FILTER (WHERE breaches_estimated), count(*) FROM provider_returns "
            "WHERE granularity = 'week' AND period_end = DATE '2014-12-14'"
        ).fetchone()
    # Exact breaches from the coded sitrep win over the ones estimated from percentages.
    assert exact == (0, 140)
    assert e.type1_attendances == 288_710 and e.type1_breaches == 44_153
    assert b["providers_below_threshold"]["count"] == 30
    assert b["same_period_last_year"]["type1"]["attendances"] is not None
    assert b["england"]["all_types"]["performance_pct"] is None


def test_months_without_providers_fall_back_to_published_totals(real_warehouse: Path) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        e = england(wh, periods.month(2013, 1)).iloc[0]
    assert e.source == "published national totals"
    assert e.all_types_performance_pct == pytest.approx(94.54, abs=0.01)


def test_months_before_april_2016_trend_from_national_totals_alone(
    real_warehouse_all: Path,
) -> None:
    """Before April 2016 a month's England series comes from the published national totals
    alone (no provider returns): its trend has figures, and pandas is not asked to concatenate
    an empty frame (a FutureWarning on every such page before)."""
    import warnings

    from fourhour.report.series import england_series

    with open_warehouse(real_warehouse_all, read_only=True) as wh, warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        series = england_series(wh, periods.month(2015, 12), 12)
    assert len(series) == 12 and set(series["source"]) == {"published national totals"}
    assert series["all_types_performance_pct"].notna().all()
