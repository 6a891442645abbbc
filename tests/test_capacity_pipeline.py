"""The capacity model's edges: patient-level records that the pipeline ingests and measures to
the simulator's own counts; the commands in process; calibration to a provider's returns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fourhour.capacity.calibrate import (
    ELECTIVE_BED_SHARE,
    CalibrationError,
    calibrate,
    check_fit,
)
from fourhour.capacity.engine import METRICS
from fourhour.capacity.records import patient_records, write_records
from fourhour.capacity.scenario import (
    HOURS_A_DAY,
    SimulationWindow,
    default_scenario,
    load_scenario,
)
from fourhour.capacity.simulate import simulate
from fourhour.cli import app
from fourhour.errors import ConfigError, InvalidInputError
from fourhour.ingest.model import COUNT_COLUMNS
from fourhour.ingest.patients.schema import COLUMNS
from fourhour.measures.patient import duckdb_engine, measure_patients
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.patients import ingest_patients

runner = CliRunner()
SMALL = """
name = "Small trust (SYNTHETIC)"
[period]
start = 2024-04-01
days = 21
warm_up_days = 7
[arrivals]
per_day = 120.0
[ed]
cubicles = 20
corridor = 4
[utc]
streaming_share = 0.5
[direct_admissions]
per_day = 12.0
[[beds.pools]]
name = "all"
beds = 190
share = 1.0
los_days = { distribution = "lognormal", mean = 4.0, sd = 6.5 }
escalation_beds = 6
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_records_ingest_and_measure_to_the_simulators_counts(
    tmp_path: Path, small: Path, suffix: str
) -> None:
    s = load_scenario(small)
    frame = patient_records(s)
    assert list(frame.columns) == list(COLUMNS)
    assert set(frame["department_type"]) == {1, 3}
    path = write_records(frame, tmp_path / f"SYNTHETIC-small{suffix}")
    counts = dict(zip(METRICS, simulate(s, 1).metrics[0], strict=True))
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        outcome = ingest_patients(wh, path)
        assert outcome.status == "ingested" and outcome.rows_rejected == 0
        table = measure_patients(wh, duckdb_engine(), levels=("national",), periods=("fy",)).table
    row = table.iloc[0]
    assert row["attendances"] == len(frame) == counts["att_type1"] + counts["att_type3"]
    assert row["type1_attendances"] == counts["att_type1"]
    assert row["type1_breaches"] == counts["br_type1"]
    assert row["type3_breaches"] == counts["br_type3"]
    assert row["over_12h_from_arrival"] == counts["over_12h_type1"] + counts["over_12h_type3"]
    assert row["dta_over_12h"] == counts["dta_over_12h"]
    assert row["dta_4_12h"] == counts["dta_4_12h"]
    assert row["type1_admitted"] == counts["dta"]


def test_simulate_command(tmp_path: Path, small: Path) -> None:
    records, csv = tmp_path / "r.parquet", tmp_path / "reps.csv"
    res = runner.invoke(
        app, ["simulate", str(small), "-r", "3", "--records", str(records), "--csv", str(csv)]
    )
    assert res.exit_code == 0, res.output
    assert "four-hour performance, type 1" in res.output and "Small trust" in res.output
    assert "time in department" in res.output
    assert records.exists() and len(pd.read_csv(csv)) == 3


def test_sweep_command_writes_the_chart_and_table(tmp_path: Path, small: Path) -> None:
    out, csv = tmp_path / "sweep.svg", tmp_path / "sweep.csv"
    res = runner.invoke(
        app,
        [
            "sweep",
            str(small),
            "--beds",
            "170:230:30",
            "-r",
            "2",
            "--out",
            str(out),
            "--csv",
            str(csv),
        ],
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(csv)
    # today's 190 beds are always simulated, and marked
    assert list(table["value"]) == [170, 190, 200, 230]
    assert list(table["today"]) == [False, True, False, False]
    assert "(today)" in res.output
    assert table["mean_occupancy_pct"].is_monotonic_decreasing
    svg = out.read_text()
    assert svg.startswith("<svg") and "Mean bed occupancy" in svg and ">today<" in svg
    png = tmp_path / "sweep.png"
    res = runner.invoke(
        app, ["sweep", str(small), "--demand", "0.9,1.1", "-r", "2", "--out", str(png)]
    )
    assert res.exit_code == 0, res.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--beds", "500:abc:20"], "is not a range"),
        (["--beds", "600:500:20"], "STOP at least START"),
        (["--beds", "500:600:50", "--demand", "1:2:1"], "one lever at a time"),
        (["--out", "chart.gif", "--beds", "10,20"], "cannot save a chart"),
    ],
)
def test_sweep_mistakes(args: list[str], message: str, small: Path) -> None:
    res = runner.invoke(app, ["sweep", str(small), "-r", "1", *args])
    assert res.exit_code != 0 and message in str(res.exception)


def test_bad_scenario_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[arrivals]\nper_dya = 3\n")
    res = runner.invoke(app, ["simulate", str(bad)])
    assert res.exit_code != 0
    assert "unknown setting 'arrivals.per_dya'" in str(res.exception)
    assert res.exception.exit_code == ConfigError.exit_code == 8


def _warehouse_with_a_provider(path: Path, beds: bool = True) -> None:
    """RAA: 12 months of returns (type 1 300 a day, type 3 60 a day, 30% of type 1
    admitted, 40 other emergency admissions a day) and a year of bed sitreps (640 open, 544
    occupied: 85%)."""
    cols = ", ".join(COUNT_COLUMNS)
    with open_warehouse(path) as wh:
        for m in range(12):
            start = dt.date(2024 + (3 + m) // 12, (3 + m) % 12 + 1, 1)
            end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            n = (end - start).days + 1
            counts = dict.fromkeys(COUNT_COLUMNS, 0)
            counts.update(
                att_type1=300 * n,
                att_type3=60 * n,
                br_type1=60 * n,
                adm_type1=90 * n,
                adm_other=40 * n,
                dta_over_12h=2 * n,
            )
            values = ", ".join(str(counts[c]) for c in COUNT_COLUMNS)
            wh.con.execute(
                f"INSERT INTO provider_returns (granularity, period_start, period_end, org_code, "
                f"{cols}, ingest_id) VALUES ('month', ?, ?, 'RAA', {values}, 1)",
                [start, end],
            )
        if beds:
            for d in range(365):
                wh.con.execute(
                    "INSERT INTO bed_occupancy (date, org_code, ga_beds_open, ga_beds_occupied, "
                    "ingest_id) VALUES (?, 'RAA', 640, 544, 2)",
                    [dt.date(2024, 4, 1) + dt.timedelta(days=d)],
                )


def test_calibrate_fits_arrivals_admissions_and_beds(tmp_path: Path) -> None:
    w = tmp_path / "w.duckdb"
    _warehouse_with_a_provider(w)
    with open_warehouse(w, read_only=True) as wh:
        fit = calibrate(wh, "raa", latest=True)
    s = fit.scenario
    assert s.trust.provider_code == "RAA" and s.period.start == dt.date(2024, 4, 1)
    # the model's emergency patients get the beds electives do not fill
    assert s.period.days == 365 and s.beds == round(640 * (1 - ELECTIVE_BED_SHARE))
    assert s.arrivals.per_day == pytest.approx(360)
    assert s.arrivals.minor_share * s.utc.streaming_share == pytest.approx(60 / 360, abs=1e-4)
    assert s.direct_admissions.per_day == pytest.approx(40)
    # the model's type 1 admission rate equals the observed 30%
    m = s.arrivals.minor_share
    t1_majors, t1_minors = 1 - m, m * (1 - s.utc.streaming_share)
    rate = (t1_majors * s.ed.majors_admitted + t1_minors * s.ed.minors_admitted) / (
        t1_majors + t1_minors
    )
    assert rate == pytest.approx(0.30, abs=1e-4)
    assert fit.observed["type1_pct"] == pytest.approx(80.0)
    assert fit.observed["occupancy_pct"] == pytest.approx(85.0)
    # the fitted stay reproduces the observed once-a-day occupancy (85%, below the knee)
    check = simulate(s, 8)
    assert check.interval("midnight_occupancy_pct").mean == pytest.approx(85.0, abs=1.0)
    assert check.interval("attendances").mean == pytest.approx(360 * 365, rel=0.01)
    # the TOML it writes loads back as the same scenario
    out = tmp_path / "RAA.toml"
    out.write_text(fit.toml())
    assert load_scenario(out) == s


def test_calibrate_prefers_the_same_period_and_states_gaps(tmp_path: Path) -> None:
    """By default the returns are those of the latest winter with bed figures for the same
    days; --latest joins the latest returns to the nearest beds and says how far apart."""
    w = tmp_path / "w.duckdb"
    _warehouse_with_a_provider(w)
    with open_warehouse(w) as wh:  # bed figures end in June 2024; returns go on to March 2025
        wh.con.execute("DELETE FROM bed_occupancy WHERE date > '2024-06-30'")
    with open_warehouse(w, read_only=True) as wh:
        fit = calibrate(wh, "RAA")
        assert fit.observed["period_from"] == "2024-04-01"
        assert fit.observed["period_to"] == "2024-06-30"
        assert any("same days: winter 2023-24" in n for n in fit.notes)
        late = calibrate(wh, "RAA", latest=True)
        assert late.observed["period_to"] == "2025-03-31"
        with pytest.raises(CalibrationError, match="winters with both: 2023-24"):
            calibrate(wh, "RAA", winter="2019-20")


def test_the_fit_check_reports_tolerance_and_suggestions(tmp_path: Path) -> None:
    w = tmp_path / "w.duckdb"
    _warehouse_with_a_provider(w)
    with open_warehouse(w, read_only=True) as wh:
        fit = calibrate(wh, "RAA", latest=True)
    check = check_fit(fit, 4)
    rows = {r["key"]: r for r in check.rows}
    assert rows["occupancy_pct"]["within"] is True  # the stay was fitted to it
    assert rows["type1_admissions_per_day"]["within"] is True
    t1 = rows["type1_pct"]
    assert t1["within"] == (abs(t1["simulated"] - 80.0) <= 3.0)
    checked = fit.checked(check)
    assert checked.validated == check.validated
    if not check.validated:
        assert "NOT VALIDATED" in checked.scenario.name and check.suggestions
        assert "NOT VALIDATED" in checked.toml()
    assert "NOT VALIDATED" in fit.toml()  # unchecked: never presented as validated


def test_calibrate_command_and_its_errors(tmp_path: Path) -> None:
    w = tmp_path / "w.duckdb"
    _warehouse_with_a_provider(w, beds=False)
    out = tmp_path / "raa.toml"
    res = runner.invoke(
        app, ["calibrate", "--provider", "RAA", "-w", str(w), "--out", str(out), "--check", "2"]
    )
    assert res.exit_code == 0, res.output
    assert "No bed figures for RAA" in res.output and "observed against simulated" in res.output
    assert "No bed figures" in out.read_text()
    with open_warehouse(w, read_only=True) as wh, pytest.raises(CalibrationError, match="RZZ"):
        calibrate(wh, "RZZ")


def test_default_trust_simulates_in_the_expected_range() -> None:
    """The default trust runs near its knee: mid-90s occupancy, type 1 in the 80s."""
    s = default_scenario()
    s = s.replace(period=SimulationWindow(s.period.start, 182, 28, 3))
    r = simulate(s, 6)
    assert 90 < r.interval("mean_occupancy_pct").mean < 97
    assert 80 < r.interval("type1_pct").mean < 92
    assert r.interval("all_types_pct").mean > r.interval("type1_pct").mean


def test_discharge_and_weekend_levers(small: Path) -> None:
    from fourhour.capacity.scenario import with_discharge_earlier, with_weekend_discharge
    from fourhour.capacity.sweep import current_value, parse_range

    s = load_scenario(small)
    assert with_discharge_earlier(s, 2).discharge.window == (
        s.discharge.window[0] - 2,
        s.discharge.window[1] - 2,
    )
    assert with_weekend_discharge(s, 1.0).discharge.weekend_factor == 1.0
    assert current_value(s, "discharge") == 0.0
    assert current_value(s, "weekend") == s.discharge.weekend_factor
    assert parse_range("-1:2:1", "discharge") == [-1.0, 0.0, 1.0, 2.0]
    with pytest.raises(InvalidInputError, match="leave the day"):
        with_discharge_earlier(s, s.discharge.window[0] + 1)
    with pytest.raises(InvalidInputError, match="leave the day"):  # later, past midnight
        with_discharge_earlier(s, s.discharge.window[1] - HOURS_A_DAY - 1)
    with pytest.raises(InvalidInputError):
        parse_range("-1:2:1", "weekend")


def test_what_it_takes_finds_the_crossing(small: Path) -> None:
    """Type 1 performance rises with beds; the beds needed for a target between today's and
    the furthest step's performance lie between those steps, and words say so."""
    from fourhour.capacity.levers import _crossing, what_it_takes

    assert _crossing([0, 1, 2], [70.0, 76.0, 82.0], 78.0) == pytest.approx(1 + 2 / 6)
    assert _crossing([0, 1], [80.0, 85.0], 78.0) == 0  # already there
    assert _crossing([0, 1], [70.0, 72.0], 78.0) is None
    s = load_scenario(small)
    plan = what_it_takes(s, 2, target=200.0, levers=("beds",))  # never reachable
    row = plan.table.iloc[0]
    assert row["needed"] is None and "not reached" in row["words"]
    assert plan.curves["today"].sum() == 1 and plan.curves.loc[plan.curves["today"], "value"].iloc[
        0
    ] == float(s.beds)
    mid = (plan.today["type1_pct"] + plan.table.iloc[0]["type1_at_furthest"]) / 2
    again = what_it_takes(s, 2, target=mid, levers=("beds",)).table.iloc[0]
    if plan.table.iloc[0]["type1_at_furthest"] > plan.today["type1_pct"]:
        assert s.beds < again["needed"] <= again["furthest"]
        assert "more beds" in again["words"]
