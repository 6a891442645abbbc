"""Patient-level attendances: validation and all-or-nothing ingest, quarantine, the measures
(checked by hand), exact quantiles, disclosure control, returns made from records, the
synthetic national year, and both engines giving identical results."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fourhour.cli import app
from fourhour.errors import ReaderError
from fourhour.ingest.patients.synthetic import generate_year
from fourhour.measures import measure_table
from fourhour.measures import quantiles as dq
from fourhour.measures.disclosure import protect, protect_count
from fourhour.measures.patient import BASES, COUNT_COLUMNS, duckdb_engine, measure_patients
from fourhour.periods import week_ending
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.patients import ingest_patients, store_dir

runner = CliRunner()
HEADER = (
    "attendance_id,provider_code,site_code,department_type,arrival,decision_to_admit,"
    "departure,disposal,age_band,acuity"
)


def att(i, provider, dept, arrival, minutes, admitted=False, dta_before_departure=None):
    arrive = dt.datetime.fromisoformat(arrival)
    depart = arrive + dt.timedelta(minutes=minutes)
    dta = (
        ""
        if dta_before_departure is None
        else str(depart - dt.timedelta(minutes=dta_before_departure))
    )
    return (
        f"A{i},{provider},{provider}-S1,{dept:02d},{arrive},{dta},{depart},"
        f"{'admitted' if admitted else 'not_admitted'},18-39,3"
    )


# Week ending Sunday 7 January 2024, and the next week.
ROWS = [
    att(1, "RAA", 1, "2024-01-01 10:00", 240),  # exactly four hours: not a breach
    att(2, "RAA", 1, "2024-01-01 11:00", 241),  # a breach
    att(3, "RAA", 1, "2024-01-02 09:00", 721, True, 300),  # 12h from arrival; DTA wait 4-12h
    att(4, "RAA", 1, "2024-01-03 09:00", 720, True, 720),  # not over 12h; DTA wait 12h exactly
    att(5, "RAA", 3, "2024-01-04 12:00", 30),
    att(6, "RAA", 4, "2024-01-05 12:00", 60),  # type 4 counts with type 3
    att(7, "RBB", 1, "2024-01-06 08:00", 900, True, 780),  # DTA wait over 12h
    att(8, "RBB", 2, "2024-01-07 23:50", 120),  # arrives Sunday: week ending 7 January
    att(9, "RBB", 1, "2024-01-08 10:00", 100),  # the next week
]


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "p.duckdb"
    data = tmp_path / "attendances.csv"
    data.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    with open_warehouse(path) as wh:
        assert ingest_patients(wh, data).rows_stored == 9
    return path


def measured(path: Path):
    with open_warehouse(path, read_only=True) as wh:
        return measure_patients(wh, duckdb_engine()).table


def row(table, level, granularity, code, start):
    r = table[
        (table["level"] == level)
        & (table["granularity"] == granularity)
        & (table["code"] == code)
        & (table["period_start"] == start)
    ]
    assert len(r) == 1, (level, granularity, code, start)
    return r.iloc[0]


def test_measures_by_hand(small: Path) -> None:
    table = measured(small)
    raa = row(table, "provider", "week", "RAA", dt.date(2024, 1, 1))
    assert raa["attendances"] == 6
    assert raa["breaches"] == 3  # 241, 721, 720 minutes
    assert raa["over_12h_from_arrival"] == 1  # 721 only
    assert raa["dta_4_12h"] == 2 and raa["dta_over_12h"] == 0  # waits of 300 and 720
    assert raa["admitted"] == 2
    assert (raa["type1_attendances"], raa["type3_attendances"]) == (4, 2)
    assert raa["type1_breaches"] == 3
    assert raa["performance_pct"] == pytest.approx(50.0)
    # Minutes 30, 60, 240, 241, 720, 721: median (240 + 241) / 2; p95 at position 4.75.
    assert raa["median_minutes"] == pytest.approx(240.5)
    assert raa["p95_minutes"] == pytest.approx(720 + 0.75 * 1)
    assert raa["type1_median_minutes"] == pytest.approx((241 + 720) / 2)
    rbb = row(table, "provider", "week", "RBB", dt.date(2024, 1, 1))
    assert rbb["attendances"] == 2 and rbb["dta_over_12h"] == 1  # arrival 23:50 Sunday counts
    assert row(table, "provider", "week", "RBB", dt.date(2024, 1, 8))["attendances"] == 1
    england = row(table, "national", "month", "ENGLAND", dt.date(2024, 1, 1))
    assert england["attendances"] == 9 and england["breaches"] == 4
    fy = row(table, "national", "fy", "ENGLAND", dt.date(2023, 4, 1))
    assert fy["period_end"] == dt.date(2024, 3, 31) and fy["attendances"] == 9
    # No mapping: providers roll up to an explicit UNMAPPED system.
    assert row(table, "system", "week", "UNMAPPED", dt.date(2024, 1, 1))["attendances"] == 8


BAD = [
    (att(2, "RAA", 5, "2024-01-01 11:00", 30), "department_type", "not a department type"),
    ("A2,RAA,RAA-S1,01,2024-01-01 25:00,,2024-01-01 12:00,admitted,,", "arrival", "date-time"),
    (
        "A2,RAA,RAA-S1,01,2024-01-01 12:00,,2024-01-01 11:00,not_admitted,,",
        "departure",
        "departure is before arrival",
    ),
    ("A2,RAA,RAA-S1,01,2024-01-01 10:00,,2024-01-01 11:00,maybe,,", "disposal", "admitted"),
    ("A2,R@A,RAA-S1,01,2024-01-01 10:00,,2024-01-01 11:00,Y,,", "provider_code", "ODS"),
    (
        "A2,RAA,RAA-S1,01,2024-01-01 10:00,2024-01-01 12:00,2024-01-01 11:00,Y,,",
        "decision_to_admit",
        "outside the time in the department",
    ),
    ("A2,RAA,RAA-S1,01,2024-01-01 10:00,,2024-01-01 11:00,Y,,9", "acuity", "acuity 1-5"),
    (att(1, "RAA", 1, "2024-01-01 11:00", 30), "attendance_id", "appears earlier in the file"),
]


@pytest.mark.parametrize(("bad", "column", "reason"), BAD)
def test_bad_row_rejects_the_file_and_changes_nothing(
    small: Path, tmp_path: Path, bad: str, column: str, reason: str
) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("\n".join([HEADER, att(1, "RAA", 1, "2024-02-01 10:00", 30).replace(
        "A1,", "B1,"), bad]) + "\n", encoding="utf-8")  # fmt: skip
    if "earlier" in reason:  # the same new id twice
        first = att(1, "RAA", 1, "2024-02-01 10:00", 30).replace("A1,", "D1,")
        data.write_text("\n".join([HEADER, first, bad.replace("A1,", "D1,")]) + "\n")
    with open_warehouse(small) as wh:
        before = wh.con.execute("SELECT count(*) FROM patient_files").fetchone()[0]
        with pytest.raises(ReaderError) as err:
            ingest_patients(wh, data)
        assert wh.con.execute("SELECT count(*) FROM patient_files").fetchone()[0] == before
        files = sorted(p.name for p in store_dir(wh).iterdir())
    message = str(err.value)
    assert f"{data}, row 3, column '{column}'" in message and reason in message
    assert files == ["attendances-000001.parquet"]  # no half-written file left behind


def test_duplicate_of_a_stored_id_is_rejected(small: Path, tmp_path: Path) -> None:
    data = tmp_path / "again.csv"
    data.write_text("\n".join([HEADER, att(5, "RAA", 3, "2024-03-01 12:00", 30)]) + "\n")
    with open_warehouse(small) as wh, pytest.raises(ReaderError, match="already stored"):
        ingest_patients(wh, data)


def test_missing_column_is_named(tmp_path: Path) -> None:
    data = tmp_path / "cols.csv"
    data.write_text("attendance_id,provider_code\nA1,RAA\n")
    with open_warehouse(tmp_path / "w.duckdb") as wh, pytest.raises(ReaderError) as err:
        ingest_patients(wh, data)
    assert "lacks the column(s) site_code, department_type, arrival" in str(err.value)


def test_quarantine_stores_the_good_rows(small: Path, tmp_path: Path) -> None:
    lines = [HEADER] + [
        att(100 + i, "RCC", 1, "2024-02-01 10:00", 30 + i).replace("A1", "Q1") for i in range(5)
    ]
    lines.insert(3, BAD[0][0].replace("A2,", "QX,"))
    lines.append(att(100, "RCC", 1, "2024-02-02 10:00", 30).replace("A1", "Q1"))  # duplicate id
    data = tmp_path / "mixed.csv"
    data.write_text("\n".join(lines) + "\n")
    quarantine = tmp_path / "rejected.csv"
    with open_warehouse(small) as wh:
        outcome = ingest_patients(wh, data, quarantine=quarantine)
        stored = wh.con.execute(
            "SELECT rows_stored, rows_rejected FROM patient_files WHERE file = ?", [str(data)]
        ).fetchone()
    assert (outcome.rows_stored, outcome.rows_rejected) == (5, 2) == stored
    rejected = pd.read_csv(quarantine)
    assert list(rejected["source_row"]) == [4, 8]
    assert list(rejected["column"]) == ["department_type", "attendance_id"]
    assert "appears earlier in the file (row 2)" in rejected["reason"].iloc[1]


def test_reingest_changes_nothing(small: Path, tmp_path: Path) -> None:
    data = tmp_path / "attendances.csv"
    with open_warehouse(small) as wh:
        assert ingest_patients(wh, data).status == "unchanged"
        assert wh.con.execute("SELECT count(*) FROM patient_files").fetchone()[0] == 1


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3000)), min_size=1, max_size=300),
    st.integers(4, 64),
)
@settings(max_examples=150, deadline=None)
def test_dense_quantiles_equal_interpolated_quantiles(pairs, cap) -> None:
    groups = np.array([g for g, _ in pairs], dtype=np.int64)
    minutes = np.array([m for _, m in pairs], dtype=np.int64)
    dense, og, om = dq.histograms(groups, minutes, 6, cap)
    got = dq.quantiles(dense, og, om, (0.5, 0.95, 0.0, 1.0))
    for g in range(6):
        values = minutes[groups == g]
        if len(values) == 0:
            assert np.isnan(got[g]).all()
        else:
            want = np.quantile(values, [0.5, 0.95, 0.0, 1.0], method="linear")
            np.testing.assert_allclose(got[g], want)


def test_disclosure_rules() -> None:
    assert [protect_count(n) for n in (0, 1, 7, 8, 10, 12, 13, 1002, 1003)] == [
        0, "*", "*", 10, 10, 10, 15, 1000, 1005,
    ]  # fmt: skip


def test_disclosure_applies_below_national_only(small: Path) -> None:
    table = measured(small)
    safe = protect(table, COUNT_COLUMNS, BASES)
    raa = safe[(safe["level"] == "provider") & (safe["code"] == "RAA")].iloc[0]
    assert raa["attendances"] == "*" and raa["breaches"] == "*" and raa["median_minutes"] == "*"
    national = safe[safe["level"] == "national"].iloc[0]
    assert national["attendances"] == table[table["level"] == "national"].iloc[0]["attendances"]
    exact = protect(table, COUNT_COLUMNS, BASES, exact=True)
    assert (exact["disclosure"] == "exact (authorised)").all()
    assert exact[exact["code"] == "RAA"].iloc[0]["attendances"] == 6


@pytest.fixture(scope="module")
def synthetic_weeks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("year")
    files = generate_year(root / "data", rows=120_000, start=dt.date(2024, 1, 1), days=14,
                          n_providers=12, seed=7)  # fmt: skip
    path = root / "w.duckdb"
    with open_warehouse(path) as wh:
        for f in files:
            ingest_patients(wh, f)
    return path


def test_synthetic_year_is_realistic_and_seeded(tmp_path: Path) -> None:
    a = generate_year(tmp_path / "a", rows=60_000, days=28, n_providers=10, seed=3)
    b = generate_year(tmp_path / "b", rows=60_000, days=28, n_providers=10, seed=3)
    ta, tb = pd.read_parquet(a[0]), pd.read_parquet(b[0])
    pd.testing.assert_frame_equal(ta, tb)
    hours = ta["arrival"].dt.hour.value_counts()
    assert hours[11] > 3 * hours[4]  # late morning is busier than the small hours
    minutes = (ta["departure"] - ta["arrival"]).dt.total_seconds() // 60
    type1 = ta["department_type"] == "01"
    assert ((minutes >= 230) & (minutes < 240) & type1).sum() > 3 * (
        (minutes > 240) & (minutes <= 250) & type1
    ).sum()  # the spike before four hours
    admitted = ta.loc[type1, "disposal"].eq("admitted").mean()
    assert 0.2 < admitted < 0.45
    assert ta["decision_to_admit"].notna().sum() == ta["disposal"].eq("admitted").sum()


def test_returns_made_from_records_equal_the_patient_level_measures(
    synthetic_weeks: Path, tmp_path: Path
) -> None:
    week = week_ending(dt.date(2024, 1, 7))
    out = tmp_path / "returns.csv"
    result = runner.invoke(
        app,
        ["patients", "to-returns", "--week-ending", "2024-01-07", "--out", str(out),
         "-w", str(synthetic_weeks)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    patient = measured(synthetic_weeks)
    assert runner.invoke(app, ["ingest", str(out), "-w", str(synthetic_weeks)]).exit_code == 0
    with open_warehouse(synthetic_weeks, read_only=True) as wh:
        returns = measure_table(wh, week, "provider").set_index("code")
    mine = patient[
        (patient["level"] == "provider")
        & (patient["granularity"] == "week")
        & (patient["period_start"] == week.start)
    ].set_index("code")
    assert sorted(returns.index) == sorted(mine.index)
    for t in ("type1", "type2", "type3"):
        assert (returns[f"{t}_attendances"] == mine[f"{t}_attendances"]).all()
        assert (returns[f"{t}_breaches"] == mine[f"{t}_breaches"]).all()
    assert (returns["all_types_attendances"] == mine["attendances"]).all()
    assert (returns["trolley_waits_over_12h"] == mine["dta_over_12h"]).all()
    assert (returns["trolley_waits_over_4h"] == mine["dta_4_12h"] + mine["dta_over_12h"]).all()
    np.testing.assert_allclose(
        returns["all_types_performance_pct"].astype(float), mine["performance_pct"]
    )


def test_cli_measures_protects_by_default(synthetic_weeks: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    args = ["patients", "measures", "--level", "provider", "--period", "week",
            "-w", str(synthetic_weeks), "--csv", str(out)]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    table = pd.read_csv(out)
    assert (table["attendances"].astype(int) % 5 == 0).all()
    assert "protected" in table["disclosure"].iloc[0]
    assert runner.invoke(app, [*args, "--exact"]).exit_code == 0
    assert (pd.read_csv(out)["disclosure"] == "exact (authorised)").all()
    text = runner.invoke(app, ["patients", "measures", "-w", str(synthetic_weeks),
                               "--near-four-hours"])  # fmt: skip
    assert text.exit_code == 0 and "240 min" in text.output


@pytest.mark.spark
@pytest.mark.slow
def test_spark_and_duckdb_give_identical_results(synthetic_weeks: Path) -> None:
    from fourhour.measures.patient import spark_engine

    with open_warehouse(synthetic_weeks, read_only=True) as wh:
        duck = measure_patients(wh, duckdb_engine())
        spark = measure_patients(wh, spark_engine("local[2]"))
    pd.testing.assert_frame_equal(duck.table, spark.table, check_dtype=False)
    pd.testing.assert_frame_equal(duck.near_four_hours, spark.near_four_hours, check_dtype=False)
    assert json.dumps(duck.table["attendances"].tolist()) == json.dumps(
        spark.table["attendances"].tolist()
    )


def test_dense_histograms_and_sql_quantiles_agree(synthetic_weeks: Path) -> None:
    from fourhour.measures.patient import compute, organisation_mapping, read_attendances
    from fourhour.warehouse.patients import require_patients

    with open_warehouse(synthetic_weeks, read_only=True) as wh:
        files = require_patients(wh)
        engine = duckdb_engine()
        mapping = organisation_mapping(wh, files, engine)
    results = {
        method: compute(engine, read_attendances(engine, files), mapping, quantile_method=method)
        for method in ("dense", "sql")
    }
    pd.testing.assert_frame_equal(results["dense"].table, results["sql"].table)
    pd.testing.assert_frame_equal(
        results["dense"].near_four_hours, results["sql"].near_four_hours, check_dtype=False
    )
