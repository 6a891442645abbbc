"""Oversight on the real data in ../shared/data: the summons list for a winter week (2014-15,
area teams as the local systems) and the funding ledger for a 2016/17 quarter (NHS-R monthly
returns). Expected figures are recomputed here straight from the CSV files with pandas."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from fourhour.oversight.config import load_escalation_rules, load_funding_rules
from fourhour.oversight.escalation import evaluate
from fourhour.oversight.escalation_store import record_run
from fourhour.oversight.funding import assess_quarter
from fourhour.oversight.leaders import import_leaders
from fourhour.oversight.trajectories import import_allocations, import_trajectories
from fourhour.periods import parse_quarter
from fourhour.warehouse import open_warehouse

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
WEEK = dt.date(2015, 1, 4)  # the depth of winter 2014-15


@pytest.fixture
def real_copy(real_warehouse: Path, tmp_path: Path) -> Path:
    target = tmp_path / "real.duckdb"
    shutil.copy(real_warehouse, target)
    return target


def test_winter_summons_list_is_reproducible_and_explained(
    real_copy: Path, shared_data: Path, tmp_path: Path
) -> None:
    weekly = pd.read_csv(
        shared_data / "weekly-type1-2010-2015/weekly_sitrep_2014-11-09_to_2015-03-08.csv"
    )
    teams = pd.read_csv(shared_data / "weekly-type1-2010-2015/trust_to_area_team_2015-03.csv")
    rules = load_escalation_rules()
    with open_warehouse(real_copy) as wh:
        first = evaluate(wh, WEEK, rules)
        top = first.summons[0]
        leaders = tmp_path / "leaders.csv"
        leaders.write_text(
            "role,org_code,name,valid_from,valid_to\n"
            f'system_chair,"{top["code"]}",A Chair (test),2014-04-01,\n'
            "national_leader,ENGLAND,A National Leader (test),2014-04-01,\n",
            encoding="utf-8",
        )
        import_leaders(wh, leaders)
        result = evaluate(wh, WEEK, rules)
        recorded = record_run(wh, result)
        again = record_run(wh, evaluate(wh, WEEK, rules))
    payload = result.as_dict()
    assert payload["basis"] == "type1"  # the weekly sitreps carry major A&E only
    assert 1 <= len(payload["summons"]) <= 12
    assert payload["systems_scored"] >= 20  # the 25 area teams, where their trusts reported
    assert recorded.status == "recorded" and again.status == "unchanged"
    assert {e["event"] for e in recorded.events} == {"opened"}
    # Recompute the top system's four weeks from the raw file and the area-team mapping.
    team_of = dict(zip(teams["org_code"], teams["area_team"], strict=True))
    weekly["week"] = pd.to_datetime(weekly["week_ending"]).dt.date
    window = weekly[(weekly["week"] > WEEK - dt.timedelta(days=28)) & (weekly["week"] <= WEEK)]
    window = window[window["code"].map(team_of).str.lower() == top["name"].lower()]
    att = window["attendances_at_ane"].sum()
    breaches = window["patients_waiting_over_4hrs_tobe_admitted"].sum()
    s = next(x for x in payload["summons"] if x["code"] == top["code"])
    assert s["attendances"] == att and s["breaches"] == breaches, (s["code"], len(window))
    assert s["performance_pct"] == pytest.approx(100 * (att - breaches) / att, abs=0.005)
    # Every summoned system is explained, with its evidence and (for the top one) its leaders.
    for entry in payload["summons"]:
        assert entry["rules_fired"] and entry["explanation"].startswith(entry["name"])
        assert f"{entry['performance_pct']:.1f}%" in entry["explanation"]
    assert [x["name"] for x in s["leaders"]] == ["A Chair (test)", "A National Leader (test)"]
    assert "To summon: " in s["explanation"]
    # The same inputs give byte-identical results.
    assert evaluate_again(real_copy) == payload


def evaluate_again(path: Path) -> dict:
    with open_warehouse(path, read_only=True) as wh:
        return evaluate(wh, WEEK, load_escalation_rules()).as_dict()


def test_funding_ledger_for_a_real_quarter(real_copy: Path, shared_data: Path, tmp_path: Path):
    raw = pd.read_csv(shared_data / "nhsrdatasets/ae_attendances.csv", parse_dates=["period"])
    q2 = raw[(raw["period"] >= "2016-07-01") & (raw["period"] <= "2016-09-01")]
    by_trust = q2.groupby(["org_code", "period"])[["attendances", "breaches"]].sum()
    chosen = ["RGT", "RXQ", "RJ1", "RTH", "R1H"]
    expected = {}
    traj_lines, alloc_lines = (
        ["trust_code,month,trajectory_pct"],
        ["trust_code,financial_year,allocation_gbp"],
    )
    for i, code in enumerate(chosen):
        months = by_trust.loc[code]
        att, br = months["attendances"].sum(), months["breaches"].sum()
        perf = 100 * (att - br) / att
        # Alternate trajectories just above and just below what the trust achieved.
        target = round(perf + (0.5 if i % 2 else -0.5), 1)
        for month in ("2016-04", "2016-05", "2016-06", "2016-07", "2016-08", "2016-09"):
            traj_lines.append(f"{code},{month},{target}")
        alloc_lines.append(f"{code},2016-17,{(i + 1) * 2_000_000}")
        met = perf >= target or perf >= 95
        expected[code] = (perf, "earned" if met else "withheld", (i + 1) * 2_000_000 * 0.125 / 4)
    with open_warehouse(real_copy) as wh:
        (tmp_path / "t.csv").write_text("\n".join(traj_lines) + "\n", encoding="utf-8")
        (tmp_path / "a.csv").write_text("\n".join(alloc_lines) + "\n", encoding="utf-8")
        import_trajectories(wh, tmp_path / "t.csv")
        import_allocations(wh, tmp_path / "a.csv")
    years, _ = load_funding_rules()
    with open_warehouse(real_copy, read_only=True) as wh:
        ledger = assess_quarter(wh, parse_quarter("2016-17Q2"), years)
        again = assess_quarter(wh, parse_quarter("2016-17Q2"), years)
    assert ledger.as_dict() == again.as_dict()
    rows = {r["code"]: r for r in ledger.rows}
    assert sorted(rows) == sorted(chosen)
    for code, (perf, status, element) in expected.items():
        r = rows[code]
        assert r["performance_pct"] == pytest.approx(perf, abs=1e-3), code
        assert r["status"] == status, code
        amount = r["earned_gbp"] if status == "earned" else r["withheld_gbp"]
        assert amount == pytest.approx(element)
        assert f"{perf:.1f}%" in r["explanation"]
    e = ledger.totals(None)[0]
    assert e["earned_gbp"] + e["withheld_gbp"] == pytest.approx(
        sum(x[2] for x in expected.values())
    )
