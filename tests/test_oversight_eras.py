"""Oversight across eras on the real data in ../shared/data: summons lists for a week of 2014-15
(area teams), a month of 2017-18 (trusts directly, from the NHS-R file) and a month of 2025-26
(integrated care boards), each organisation named and grouped as it was in the period shown.
Expected figures are recomputed here straight from the CSV files with pandas."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fourhour.cli import app
from fourhour.errors import QueryError
from fourhour.measures import measure_table
from fourhour.oversight.config import load_escalation_rules
from fourhour.oversight.escalation import evaluate
from fourhour.oversight.escalation_store import list_escalations, record_run
from fourhour.periods import parse_month, parse_quarter, week_ending
from fourhour.report.bulletin import build_bulletin
from fourhour.warehouse import open_warehouse

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
runner = CliRunner()
MONTHLY = "monthly-by-provider-2025-26"


@pytest.fixture
def real_copy(real_warehouse: Path, tmp_path: Path) -> Path:
    target = tmp_path / "real.duckdb"
    shutil.copy(real_warehouse, target)
    return target


def _read_month(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, thousands=",", na_values=["-"])
    frame = frame[frame["Code"].notna() & (frame["Code"] != "-")]
    return frame.rename(columns={"Total attendances": "att", "Total Attendances > 4 hours": "br"})[
        ["Code", "Name", "att", "br"]
    ]


def test_january_2026_summons_list_of_integrated_care_boards(
    real_warehouse: Path, shared_data: Path
) -> None:
    months = ["November-2025", "December-2025", "January-2026"]
    raw = pd.concat([_read_month(shared_data / MONTHLY / f"{m}-AE.csv") for m in months])
    mapping = pd.read_csv(shared_data / MONTHLY / "System-Mapping-2025.csv")
    # The file writes two codes as 'NTV0b' and 'AQM01 ': ODS codes are upper case, unpadded.
    mapping["Code"] = mapping["Code"].str.strip().str.upper()
    icb_of = dict(zip(mapping["Code"], mapping["ICB Code"], strict=True))
    raw["icb"] = raw["Code"].map(icb_of)
    assert raw["icb"].notna().all(), "every 2025-26 provider is in the 2025 mapping"
    by_icb = raw.groupby("icb")[["att", "br"]].sum()
    with open_warehouse(real_warehouse, read_only=True) as wh:
        result = evaluate(wh, parse_month("2026-01"), load_escalation_rules(None, "month"))
    payload = result.as_dict()
    assert payload["granularity"] == "month" and payload["window"]["periods"] == 3
    assert payload["window"]["label"] == "the 3 months November 2025 to January 2026"
    assert payload["basis"] == "all_types"
    assert payload["systems_scored"] == mapping["ICB Code"].nunique() == 42
    assert not payload["unmapped_providers"] and not payload["notes"]
    assert 1 <= len(payload["summons"]) <= 12
    for s in payload["summons"]:
        assert s["kind"] == "icb" and s["code"].startswith("Q")
        att, br = by_icb.loc[s["code"]]
        assert (s["attendances"], s["breaches"]) == (att, br), s["code"]
        assert s["performance_pct"] == pytest.approx(100 * (att - br) / att, abs=0.005)
        assert s["name"] == mapping.loc[mapping["ICB Code"] == s["code"], "ICB Name"].iloc[0]
        assert s["explanation"].startswith(f"{s['name']} ({s['code']})")
        assert "the 3 months November 2025 to January 2026" in s["explanation"]
        assert [t["label"] for t in s["trend"]][-1] == "January 2026"
        # The providers driving it belong to it, named as the January file names them.
        january = _read_month(shared_data / MONTHLY / "January-2026-AE.csv").set_index("Code")
        for d in s["providers_driving"]:
            assert icb_of[d["code"]] == s["code"] and d["name"] == january.loc[d["code"], "Name"]


def test_provider_level_summons_for_january_2018_from_the_nhsr_file(
    real_warehouse: Path, shared_data: Path
) -> None:
    raw = pd.read_csv(shared_data / "nhsrdatasets/ae_attendances.csv", parse_dates=["period"])
    window = raw[(raw["period"] >= "2017-11-01") & (raw["period"] <= "2018-01-01")]
    by_trust = window.groupby("org_code")[["attendances", "breaches"]].sum()
    with open_warehouse(real_warehouse, read_only=True) as wh:
        payload = evaluate(
            wh, parse_month("2018-01"), load_escalation_rules(None, "month"), "provider"
        ).as_dict()
    assert payload["level"] == "provider" and payload["basis"] == "all_types"
    assert payload["systems_scored"] == window["org_code"].nunique()
    assert len(payload["summons"]) == 12
    for s in payload["summons"]:
        att, br = by_trust.loc[s["code"]]
        assert (s["attendances"], s["breaches"]) == (att, br), s["code"]
        assert s["kind_name"] == "trust" and s["providers_driving"] == []
    # The regions of the time (NHS England's four regions until March 2018), not today's seven.
    regions = {s["region"] for s in payload["summons"]}
    assert regions <= {
        "North of England",
        "Midlands and East of England",
        "London",
        "South of England",
    }
    # Names of the period: Heart of England (RR1) merged into University Hospitals Birmingham
    # in April 2018; in January 2018 it still had its own name.
    names = {s["code"]: s["name"] for s in payload["systems"]}
    if "RR1" in names:
        assert "Heart Of England" in names["RR1"] or "Heart of England" in names["RR1"]


def test_week_ending_26_october_2014_names_everything_as_the_2014_file_did(
    real_copy: Path, shared_data: Path
) -> None:
    tracker = pd.read_csv(shared_data / "weekly-type1-2010-2015/performance_list.csv")
    week = tracker[tracker["analysisdate"] == "2014.10.26"]
    names_2014 = set(week["name"])
    with open_warehouse(real_copy) as wh:
        period = week_ending(dt.date(2014, 10, 26))
        table = measure_table(wh, period, "provider")
        result = evaluate(wh, period.end, load_escalation_rules())
        record_run(wh, result)
        bulletin = build_bulletin(wh, period)
    assert set(table["name"]) <= names_2014 and len(table) == len(week)
    rgn = table.set_index("code").loc["RGN", "name"]
    assert rgn.startswith("Peterborough") and "North West Anglia" not in rgn
    assert table.set_index("code").loc["RHU", "name"] == "Portsmouth Hospitals NHS Trust"
    payload = result.as_dict()
    assert payload["summons"][0]["code"] == "Q70"
    assert payload["summons"][0]["name"] == "Wessex Area Team"
    assert payload["summons"][0]["region"] == "South of England"
    for s in payload["summons"]:
        assert s["kind"] == "area_team"
        for d in s["providers_driving"]:
            assert d["name"] in names_2014, d
    text = json.dumps(bulletin)
    assert "North West Anglia" not in text and "University NHS Trust" not in text
    listed = bulletin["worst_providers"] + bulletin["providers_below_threshold"]["providers"]
    assert listed
    for entry in listed:
        assert entry["name"] in names_2014, entry


def test_week_ending_4_january_2015_regions_are_those_of_2015(real_warehouse: Path) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        regions = measure_table(wh, week_ending(dt.date(2015, 1, 4)), "region")
        systems = measure_table(wh, week_ending(dt.date(2015, 1, 4)), "system")
    assert "UNMAPPED" not in set(regions["code"])
    assert dict(zip(regions["code"], regions["name"], strict=True)) == {
        "Y54": "North of England",
        "Y55": "Midlands and East of England",
        "Y56": "London",
        "Y57": "South of England",
    }
    assert not regions.attrs.get("notes")
    # Area teams are coded: never "Essex Area Team (Essex Area Team)".
    assert systems.set_index("code").loc["Q57", "name"] == "Essex Area Team"
    assert "Essex Area Team" not in set(systems["code"])


def test_january_2018_systems_are_stps_not_2014_area_teams(real_warehouse: Path) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        systems = measure_table(wh, parse_month("2018-01"), "system")
    codes = set(systems["code"]) - {"UNMAPPED"}
    assert not any(c.startswith("Q") and c[1:].isdigit() and 44 <= int(c[1:]) <= 71 for c in codes)
    assert sum(c.startswith("E54") for c in codes) >= 40  # the 2018-19 STP footprints
    # Providers the 2018-19 lookup does not cover are grouped by a later hierarchy, and the
    # output says so.
    notes = " ".join(systems.attrs.get("notes", []))
    assert "sustainability and transformation partnerships" in notes


def test_monthly_escalation_is_recorded_continues_and_is_reported(
    real_copy: Path, tmp_path: Path
) -> None:
    with open_warehouse(real_copy) as wh:
        rules = load_escalation_rules(None, "month")
        first = record_run(wh, evaluate(wh, parse_month("2025-12"), rules))
        second = record_run(wh, evaluate(wh, parse_month("2026-01"), rules))
        again = record_run(wh, evaluate(wh, parse_month("2026-01"), rules))
        listed = list_escalations(wh, level="system")
    assert first.status == "recorded" and {e["event"] for e in first.events} == {"opened"}
    assert second.status == "recorded" and again.status == "unchanged"
    assert "summoned_again" in {e["event"] for e in second.events}
    assert all(e["opened_granularity"] == "month" for e in listed)
    # The CLI, the board report and the funding ledger for a monthly period.
    out = tmp_path / "summons.json"
    cli = runner.invoke(
        app, ["escalate", "--month", "2026-01", "-f", "json", "-o", str(out), "-w", str(real_copy)]
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(out.read_text())["period"]["label"] == "January 2026"
    quarter = runner.invoke(
        app, ["escalate", "--quarter", "2025-26Q3", "--no-record", "-w", str(real_copy)]
    )
    assert quarter.exit_code == 0, quarter.output
    assert "Q3 2025/26" in quarter.output
    report = tmp_path / "board.html"
    made = runner.invoke(
        app, ["report", "--month", "2026-01", "--out", str(report), "-w", str(real_copy)]
    )
    assert made.exit_code == 0, made.output
    html = report.read_text()
    assert "summons list for the 3 months November 2025 to January 2026" in html
    with open_warehouse(real_copy, read_only=True) as wh:
        q = parse_quarter("2025-26Q3")
        assert q.end == dt.date(2025, 12, 31)


def test_no_mapping_at_system_level_is_an_error_naming_the_import(
    tmp_path: Path, shared_data: Path
) -> None:
    w = tmp_path / "w.duckdb"
    ingest = runner.invoke(
        app, ["ingest", str(shared_data / "nhsrdatasets/ae_attendances.csv"), "-w", str(w)]
    )
    assert ingest.exit_code == 0, ingest.output
    # As a user runs it: the real entry point, which turns errors into one message.
    result = subprocess.run(
        [sys.executable, "-m", "fourhour", "escalate", "--month", "2018-01", "-w", str(w)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == QueryError.exit_code
    assert "no local system is known for any provider with returns in January" in result.stderr
    assert "fourhour orgs import" in result.stderr and "--level provider" in result.stderr
    assert "Traceback" not in result.stderr
    with open_warehouse(w, read_only=True) as wh:  # nothing was recorded
        assert not wh.con.execute("SELECT count(*) FROM escalation_runs").fetchone()[0]
    direct = runner.invoke(
        app, ["escalate", "--month", "2018-01", "--level", "provider", "--no-record", "-w", str(w)]
    )
    assert direct.exit_code == 0, direct.output
    assert "Summons list of trusts" in direct.output


def test_web_oversight_page_and_api_for_a_month(real_copy: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from fourhour.web.app import create_app
    from tests.web_world import config

    with TestClient(create_app(config(real_copy, None))) as client:  # type: ignore[arg-type]
        page = client.get("/oversight", params={"month": "2026-01"})
        assert page.status_code == 200, page.text[:500]
        assert "the 3 months November 2025 to January 2026" in page.text
        assert "Integrated Care Board" in page.text
        trusts = client.get("/oversight", params={"month": "2018-01", "level": "provider"})
        assert trusts.status_code == 200, trusts.text[:500]
        assert "Trusts escalated directly" in trusts.text
        api = client.get("/api/v1/oversight/summons", params={"month": "2026-01"})
        assert api.status_code == 200, api.text[:500]
        body = api.json()
        assert body["granularity"] == "month" and body["summons"][0]["kind"] == "icb"
        weekly = client.get("/api/v1/oversight/summons", params={"week": "2015-01-04"})
        assert weekly.status_code == 200 and weekly.json()["summons"][0]["kind"] == "area_team"
        bad = client.get("/api/v1/oversight/summons", params={"level": "region"})
        assert bad.status_code == 400
