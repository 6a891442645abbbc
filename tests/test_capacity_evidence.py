"""`fourhour evidence occupancy`: the join of bed occupancy to four-hour returns, checked by
hand on the real files for two trusts, and the statistics checked on panels with known
effects."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fourhour.capacity.evidence import (
    LEVELS_PCT,
    EvidenceError,
    Panel,
    analyse,
    occupancy_panel,
    winter_of,
)
from fourhour.cli import app
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file

DAILY = "daily-sitrep-winter-2014-15/daily-sitrep-2015-02-09_to_2015-02-15.xlsx"
FILES = (
    "winter-sitrep-beds/sitrep1718.csv",
    DAILY,
    "nhsrdatasets/ae_attendances.csv",
    "weekly-type1-2010-2015/weekly_sitrep_2014-11-09_to_2015-03-08.csv",
)


@pytest.fixture(scope="module")
def beds_warehouse(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evidence") / "wh.duckdb"
    with open_warehouse(path) as wh:
        for name in FILES:
            ingest_file(wh, shared_data / name)
    return path


@pytest.fixture(scope="module")
def panel(beds_warehouse: Path) -> Panel:
    with open_warehouse(beds_warehouse, read_only=True) as wh:
        return occupancy_panel(wh.con)


def _row(panel: Panel, code: str, end: str) -> pd.Series:
    f = panel.frame
    rows = f[(f["org_code"] == code) & (f["period_end"].astype(str) == end)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_a_month_matches_a_hand_computation(panel: Panel, shared_data: Path) -> None:
    """RF4, January 2018: occupancy from the winter sitrep's daily rows, performance from the
    NHS-R monthly file."""
    beds = pd.read_csv(shared_data / "winter-sitrep-beds/sitrep1718.csv")
    jan = beds[(beds["Code"] == "RF4") & beds["Date"].str.startswith("2018-01")]
    assert len(jan) == 31
    occupancy = 100 * jan["G&A beds occ'd"].sum() / jan["G&A Beds Open"].sum()
    ae = pd.read_csv(shared_data / "nhsrdatasets/ae_attendances.csv")
    month = ae[(ae["org_code"] == "RF4") & (ae["period"] == "2018-01-01")]
    t1 = month[month["type"].astype(str) == "1"].iloc[0]
    row = _row(panel, "RF4", "2018-01-31")
    assert row["bed_days"] == 31 and row["winter"] == "2017-18"
    assert row["occupancy_pct"] == pytest.approx(occupancy, abs=1e-9)
    assert row["type1_pct"] == pytest.approx(100 * (1 - t1["breaches"] / t1["attendances"]))
    all_types = 100 * (1 - month["breaches"].sum() / month["attendances"].sum())
    assert row["all_types_pct"] == pytest.approx(all_types)


def test_a_week_matches_a_hand_computation(panel: Panel, shared_data: Path) -> None:
    """RKB, week ending 2015-02-15: occupancy from the daily sitrep workbook's G&A sheet
    (total beds available and occupied: four weekdays and one weekend snapshot, 13-15 Feb),
    performance from the weekly sitrep."""
    sheet = pd.read_excel(shared_data / DAILY, sheet_name="G&A beds", header=None)
    heads = sheet.iloc[14]
    trust = sheet[sheet[3] == "RKB"].iloc[0]
    avail = [trust[c] for c in sheet.columns if heads[c] == "Total beds avail"]
    occ = [trust[c] for c in sheet.columns if heads[c] == "Total beds occ'd"]
    assert len(avail) == len(occ) == 5
    weekly = pd.read_csv(
        shared_data / "weekly-type1-2010-2015/weekly_sitrep_2014-11-09_to_2015-03-08.csv"
    )
    w = weekly[(weekly["code"] == "RKB") & (weekly["week_ending"] == "2015-02-15")].iloc[0]
    row = _row(panel, "RKB", "2015-02-15")
    assert row["granularity"] == "week" and row["bed_days"] == 5
    assert row["occupancy_pct"] == pytest.approx(100 * sum(occ) / sum(avail), abs=1e-9)
    breaches, atts = w["patients_waiting_over_4hrs_tobe_admitted"], w["attendances_at_ane"]
    assert row["type1_pct"] == pytest.approx(100 * (1 - breaches / atts))
    assert np.isnan(row["all_types_pct"])  # the weekly sitrep gives type 1 only


def test_partial_periods_and_unmatched_codes_are_counted(panel: Panel) -> None:
    f = panel.frame
    assert (f.loc[f["granularity"] == "month", "bed_days"] >= 14).all()
    assert (f.loc[f["granularity"] == "week", "bed_days"] >= 5).all()
    assert panel.dropped["too few days with bed figures"] > 0  # November and March edges
    cover = panel.unmatched.set_index("winter")
    assert cover.loc["2017-18", "matched"] == f.loc[f["winter"] == "2017-18", "org_code"].nunique()
    assert set(f["winter"]) == {"2014-15", "2017-18"}


def test_the_real_relationship_is_reported(panel: Panel) -> None:
    e = analyse(panel, draws=200)
    assert list(e.extra["occupancy_pct"]) == list(LEVELS_PCT)
    b = e.binned
    assert (b["type1_low"] <= b["type1_pct"]).all() and (b["type1_pct"] <= b["type1_high"]).all()
    pooled = 100 * (1 - panel.frame["br_type1"].sum() / panel.frame["att_type1"].sum())
    weighted = np.average(b["type1_pct"], weights=_attendances_by_bin(panel, b))
    assert weighted == pytest.approx(pooled)
    text = " ".join(e.text())
    assert "trust-periods" in text and "within trusts" in text
    json.dumps(e.to_json())  # everything serialisable


def _attendances_by_bin(panel: Panel, b: pd.DataFrame) -> list[float]:
    f = panel.frame
    out = []
    for r in b.to_dict("records"):
        lo = (
            -np.inf
            if r["occupancy_from"] is None or np.isnan(r["occupancy_from"])
            else r["occupancy_from"]
        )
        hi = (
            np.inf
            if r["occupancy_to"] is None or np.isnan(r["occupancy_to"])
            else r["occupancy_to"]
        )
        sel = (f["occupancy_pct"] > lo) & (f["occupancy_pct"] <= hi)
        out.append(float(f.loc[sel, "att_type1"].sum()))
    return out


def test_within_trust_estimate_recovers_a_known_effect() -> None:
    """Trusts differ a lot in their own level (size, case mix) and in their occupancy; within
    each, 4 more points over four hours above 92% occupancy. The within-trust estimate finds
    4; the pooled one is confounded by the trusts' levels."""
    rng = np.random.default_rng(7)
    rows = []
    for t in range(60):
        base_occ = rng.uniform(80, 96)
        level = 30 - 0.25 * (base_occ - 80) * 4  # busier trusts breach *less* here
        for m in range(12):
            occ = base_occ + rng.normal(0, 3)
            share = level + (4.0 if occ > 92 else 0.0) + rng.normal(0, 0.5)
            att = 8000
            rows.append(
                {
                    "granularity": "month",
                    "period_start": pd.Timestamp(2018, m + 1, 1).date(),
                    "period_end": (pd.Timestamp(2018, m + 1, 1) + pd.offsets.MonthEnd()).date(),
                    "org_code": f"T{t:02d}",
                    "att_type1": att,
                    "br_type1": att * share / 100,
                    "att_all": att,
                    "br_all": att * share / 100,
                    "has_all_types": True,
                    "open_bed_days": 1000.0,
                    "occupied_bed_days": 10 * occ,
                    "occupancy_pct": occ,
                    "type1_pct": 100 - share,
                    "all_types_pct": 100 - share,
                    "winter": "2017-18",
                }
            )
    e = analyse(Panel(pd.DataFrame(rows)), draws=100)
    at = e.extra.set_index("occupancy_pct")
    assert at.loc[95.0, "within_extra_points"] == pytest.approx(4.0, abs=0.4)
    assert at.loc[98.0, "within_extra_points"] == pytest.approx(4.0, abs=0.6)
    assert at.loc[90.0, "within_extra_points"] == pytest.approx(0.0, abs=0.4)
    assert at.loc[95.0, "within_low"] < 4.0 < at.loc[95.0, "within_high"]
    assert at.loc[95.0, "pooled_extra_points"] < 0  # the confounded comparison


def test_winters() -> None:
    assert winter_of(pd.Timestamp("2018-01-31").date()) == "2017-18"
    assert winter_of(pd.Timestamp("2015-11-30").date()) == "2015-16"
    assert winter_of(pd.Timestamp("2000-02-01").date()) == "1999-00"


def test_bad_providers_are_one_line_errors(beds_warehouse: Path) -> None:
    with (
        open_warehouse(beds_warehouse, read_only=True) as wh,
        pytest.raises(EvidenceError, match="neither the bed figures nor the returns"),
    ):
        occupancy_panel(wh.con, ["ZZZ"])
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fourhour",
            "evidence",
            "occupancy",
            "-w",
            str(beds_warehouse),
            "--provider",
            "zzz",
            "--model-replications",
            "0",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == EvidenceError.exit_code
    assert "error: provider 'ZZZ'" in proc.stderr and "Traceback" not in proc.stderr


def test_the_command_writes_chart_table_and_json(beds_warehouse: Path, tmp_path: Path) -> None:
    out, js, csv = tmp_path / "e.svg", tmp_path / "e.json", tmp_path / "e.csv"
    result = CliRunner().invoke(
        app,
        [
            "evidence",
            "occupancy",
            "-w",
            str(beds_warehouse),
            "--out",
            str(out),
            "--json",
            str(js),
            "--csv",
            str(csv),
            "--model-replications",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "extra type 1 patients over four hours" in result.output
    data = json.loads(js.read_text("utf-8"))
    assert {r["occupancy_pct"] for r in data["extra_over_4h"]} == set(LEVELS_PCT)
    assert out.read_text("utf-8").startswith("<svg")
    assert len(pd.read_csv(csv)) == data["summary"]["trust_periods"]


def test_the_board_report_has_an_occupancy_section(beds_warehouse: Path) -> None:
    from fourhour.periods import parse_month
    from fourhour.report import board
    from fourhour.report.occupancy import occupancy_section

    with open_warehouse(beds_warehouse, read_only=True) as wh:
        report = board.build_report(
            wh, parse_month("2018-01"), sections=[board.summary_section, occupancy_section]
        )
    section = next(s for s in report.sections if s.key == "occupancy")
    assert section.title == "Bed occupancy and four-hour performance"
    assert section.html.count('<tr><th scope="row">') == len(LEVELS_PCT)
    assert "<svg" in section.html and "within the same trust" in section.html.lower()


def test_the_web_page_shows_the_evidence(beds_warehouse: Path, tmp_path: Path) -> None:
    import shutil

    from fastapi.testclient import TestClient

    from fourhour.web.app import create_app
    from fourhour.web.config import WebConfig

    copy = tmp_path / "web.duckdb"  # the server opens its warehouse read-write
    shutil.copy(beds_warehouse, copy)
    config = WebConfig(warehouse=copy, prewarm=False, idle_release_s=0.3, version_ttl_s=0.0)
    with TestClient(create_app(config)) as client:
        page = client.get("/capacity/evidence")
        assert page.status_code == 200
        assert 'id="fig-occupancy-evidence"' in page.text
        assert "Extra type 1 patients over four hours" in page.text
        csv = client.get("/capacity/evidence?download=extra-over-4h")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert len(csv.text.strip().splitlines()) == 1 + len(LEVELS_PCT)


def test_the_validation_table_counts_what_it_shows(beds_warehouse: Path) -> None:
    from fourhour.capacity.validation import spread, summarise, trust_winters, validate

    with open_warehouse(beds_warehouse, read_only=True) as wh:
        pairs = trust_winters(wh.con)
        assert {w for _, w in pairs} == {"2014-15", "2017-18"}
        assert spread(pairs, 3) == [pairs[0], pairs[len(pairs) // 2], pairs[-1]]
        table = validate(wh, providers=["RF4", "RKB"], winters=["2017-18"], replications=2)
        with pytest.raises(Exception, match="no bed figures for ZZZ"):
            trust_winters(wh.con, ["ZZZ"])
    assert list(table["provider"]) == ["RF4", "RKB"]
    assert (table["days"] >= 28).all()  # whole months of the same winter
    within = (table["type1_simulated"] - table["type1_observed"]).abs() <= 3.0
    assert list(table["type1_within"]) == list(within)
    s = summarise(table)
    assert s["fitted"] == 2 and s["type1_within"] == int(within.sum())
    assert sum(b["trust_winters"] for b in s["by_occupancy"]) == 2
