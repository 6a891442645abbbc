"""Funding conditionality: trajectory-or-standard, quarter one, amounts, merged trusts, the
what-if, and the ledger's outputs. Figures are chosen so that each can be checked by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from fourhour.cli import app
from fourhour.errors import InvalidInputError, QueryError
from fourhour.oversight.config import RulesError, load_funding_rules
from fourhour.oversight.funding import assess_quarter, is_trust_code, quarter_label, what_if
from fourhour.oversight.leaders import import_leaders
from fourhour.oversight.trajectories import import_allocations, import_trajectories
from fourhour.periods import parse_quarter
from fourhour.report.oversight import render_funding
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.hierarchy import import_mapping
from tests.oversight_world import MAPPING_HEADER, mapping_row, put_return, write

runner = CliRunner()
JUL, AUG, SEP = dt.date(2016, 7, 31), dt.date(2016, 8, 31), dt.date(2016, 9, 30)
Q2 = parse_quarter("2016-17Q2")

# trust: ((attendances, breaches) for Jul, Aug, Sep; monthly trajectories)
TRUSTS = {
    "T1": ([(1000, 90), (2000, 140), (1000, 50)], (90, 92, 94)),  # 93.0% vs 92.0%: trajectory
    "T2": ([(1000, 40)] * 3, (97, 97, 97)),  # 96% vs 97%: the standard
    "T3": ([(1000, 150)] * 3, (90, 90, 90)),  # 85% vs 90%: neither
    "T4": ([(1000, 40)] * 3, (90, 90, 90)),  # 96% vs 90%: both
    "T5": ([(1000, 60)] * 3, None),  # 94%, no trajectory: neither
    "T6": ([(1000, 40)] * 2, (90, 90, 90)),  # September missing: not assessable
}


@pytest.fixture
def ledger_world(tmp_path: Path) -> Path:
    path = tmp_path / "f.duckdb"
    traj = ["trust_code,month,trajectory_pct"]
    alloc = ["trust_code,financial_year,allocation_gbp"]
    with open_warehouse(path) as wh:
        for code, (months, trajectory) in TRUSTS.items():
            for end, (att, br) in zip((JUL, AUG, SEP), months, strict=False):
                put_return(wh, code, end, att, br, granularity="month")
            alloc.append(f"{code},2016-17,1000000")
            if trajectory:
                for month, pct in zip(("2016-07", "2016-08", "2016-09"), trajectory, strict=True):
                    traj.append(f"{code},{month},{pct}")
                traj.append(f"{code},2016-04,85")
        mapping = MAPPING_HEADER + "".join(
            mapping_row(c, "SA" if c in ("T1", "T2", "T3") else "SB") for c in TRUSTS
        )
        import_mapping(wh, write(tmp_path, "m.csv", mapping))
        import_trajectories(wh, write(tmp_path, "t.csv", "\n".join(traj) + "\n"))
        import_allocations(wh, write(tmp_path, "a.csv", "\n".join(alloc) + "\n"))
        import_leaders(
            wh,
            write(
                tmp_path,
                "l.csv",
                "role,org_code,name,valid_from,valid_to\n"
                "trust_chief_executive,T1,Fay Boss,2015-01-01,\n"
                "system_chair,SA,Gil Chair,2015-01-01,\n",
            ),
        )
    return path


def ledger(path: Path, quarter: str = "2016-17Q2", **kw):  # type: ignore[no-untyped-def]
    years, _ = load_funding_rules()
    with open_warehouse(path, read_only=True) as wh:
        return assess_quarter(wh, parse_quarter(quarter), years, **kw)


def test_trajectory_or_standard(ledger_world: Path) -> None:
    rows = {r["code"]: r for r in ledger(ledger_world).rows}
    got = {c: (r["status"], r["route"]) for c, r in rows.items()}
    assert got == {
        "T1": ("earned", "trajectory"),
        "T2": ("earned", "standard"),
        "T3": ("withheld", None),
        "T4": ("earned", "both"),
        "T5": ("withheld", None),
        "T6": ("not_assessable", None),
    }
    t1 = rows["T1"]
    assert t1["performance_pct"] == pytest.approx(93.0)
    # Attendance-weighted: (90 x 1000 + 92 x 2000 + 94 x 1000) / 4000 = 92.0
    assert t1["trajectory_pct"] == pytest.approx(92.0)
    # A&E element: 12.5% of £1m a year, a quarter at a time.
    assert t1["element_gbp"] == pytest.approx(31_250) and t1["earned_gbp"] == pytest.approx(31_250)
    assert rows["T3"]["withheld_gbp"] == pytest.approx(31_250)
    assert rows["T6"]["reason"] == "no returns for September 2016"
    assert rows["T6"]["earned_gbp"] == 0 and rows["T6"]["withheld_gbp"] == 0
    assert rows["T1"]["assessed"] == "2016-17Q3"  # quarterly in arrears


def test_totals_by_system_region_and_england(ledger_world: Path) -> None:
    led = ledger(ledger_world)
    england = led.totals(None)[0]
    assert (england["earned"], england["withheld"], england["not_assessable"]) == (3, 2, 1)
    assert england["earned_gbp"] == pytest.approx(3 * 31_250)
    assert england["withheld_gbp"] == pytest.approx(2 * 31_250)
    systems = {g["code"]: g for g in led.totals("system_code")}
    assert systems["SA"]["earned"] == 2 and systems["SA"]["withheld"] == 1
    assert systems["SB"]["earned"] == 1 and systems["SB"]["withheld"] == 1
    assert [g["code"] for g in led.totals("region_code")] == ["Y56"]


def test_quarter_one_is_paid_for_agreeing_a_trajectory(ledger_world: Path) -> None:
    rows = {r["code"]: r for r in ledger(ledger_world, "2016-17Q1").rows}
    assert {c: r["status"] for c, r in rows.items()} == {
        "T1": "earned", "T2": "earned", "T3": "earned", "T4": "earned", "T5": "withheld",
        "T6": "earned",
    }  # fmt: skip
    assert rows["T5"]["reason"] == "no agreed trajectory"
    assert "agreeing an A&E trajectory" in rows["T1"]["explanation"]


def test_2017_18_whole_thirty_percent_and_no_q1_concession(ledger_world: Path, tmp_path) -> None:
    with open_warehouse(ledger_world) as wh:
        for end in (dt.date(2017, 4, 30), dt.date(2017, 5, 31), dt.date(2017, 6, 30)):
            put_return(wh, "T1", end, 1000, 30, granularity="month")  # 97%
        import_allocations(
            wh,
            write(
                tmp_path, "a2.csv", "trust_code,financial_year,allocation_gbp\nT1,2017-18,1000000\n"
            ),
        )
    rows = {r["code"]: r for r in ledger(ledger_world, "2017-18Q1").rows}
    assert rows["T1"]["element_gbp"] == pytest.approx(75_000)  # 30% / 4
    assert (rows["T1"]["status"], rows["T1"]["route"]) == ("earned", "standard")


def test_explanations_and_leaders(ledger_world: Path) -> None:
    rows = {r["code"]: r for r in ledger(ledger_world).rows}
    text = rows["T1"]["explanation"]
    assert "93.0% of 4,000 attendances" in text and "trajectory of 92.0%" in text
    assert "earned £31,250 because it met its trajectory" in text
    assert "did not earn £31,250: it met neither" in rows["T3"]["explanation"]
    assert [x["name"] for x in rows["T1"]["leaders"]] == ["Fay Boss", "Gil Chair"]


def test_what_if_standard_and_tolerance(ledger_world: Path) -> None:
    years, _ = load_funding_rules()
    with open_warehouse(ledger_world, read_only=True) as wh:
        base = assess_quarter(wh, Q2, years)
        lower = what_if(wh, Q2, years, base, standard_pct=93.0, tolerance_points=None)
        tolerant = what_if(wh, Q2, years, base, standard_pct=None, tolerance_points=5.0)
    assert lower["actual"]["trusts_earning"] == 3
    assert lower["alternative"]["trusts_earning"] == 4  # T5 at 94% now meets a 93% standard
    assert [(c["code"], c["from"], c["to"]) for c in lower["trusts_changing"]] == [
        ("T5", "withheld", "earned")
    ]
    assert lower["alternative"]["earned_gbp"] == pytest.approx(4 * 31_250)
    # 85% against a 90% trajectory with 5 points' tolerance: met (>=).
    assert [c["code"] for c in tolerant["trusts_changing"]] == ["T3"]


def test_merged_trust_is_assessed_as_its_successor(ledger_world: Path, tmp_path: Path) -> None:
    with open_warehouse(ledger_world) as wh:
        put_return(wh, "T7", JUL, 1000, 200, granularity="month")  # 80%, July only
        mapping = MAPPING_HEADER + mapping_row("T7", "SA", end="2016-07-31", merged_into="T1")
        import_mapping(wh, write(tmp_path, "merge.csv", mapping))
    rows = {r["code"]: r for r in ledger(ledger_world).rows}
    assert "T7" not in rows
    t1 = rows["T1"]
    assert t1["filed_as"] == ["T1", "T7"]
    assert t1["attendances"] == 5000 and t1["breaches"] == 480
    assert t1["performance_pct"] == pytest.approx(90.4)
    # July now weighs 2,000 attendances: (90 x 2000 + 92 x 2000 + 94 x 1000) / 5000 = 91.6
    assert t1["trajectory_pct"] == pytest.approx(91.6)
    assert t1["status"] == "withheld"
    # Before the merger took effect (Q1 ends 30 June), T7 is its own trust.
    with open_warehouse(ledger_world) as wh:
        put_return(wh, "T7", dt.date(2016, 6, 30), 1000, 200, granularity="month")
    q1 = {r["code"] for r in ledger(ledger_world, "2016-17Q1").rows}
    assert "T7" not in q1  # in no scheme (no allocation or trajectory) either way


def test_no_rules_for_the_year_is_a_clear_error(ledger_world: Path) -> None:
    with pytest.raises(QueryError, match="no funding rules for the financial year 2019-20"):
        ledger(ledger_world, "2019-20Q2")


def test_funding_rules_file(tmp_path: Path) -> None:
    good = write(
        tmp_path,
        "f.toml",
        '[years."2018-19"]\nfund = "X"\nfinancial_control_share = 0.7\n'
        "performance_share = 0.3\nae_share = 0.3\nstandard_pct = 95.0\n"
        "trajectory_tolerance_points = 0.0\nq1_paid_for_agreeing_trajectory = false\n",
    )
    years, _ = load_funding_rules(good)
    assert list(years) == ["2018-19"] and years["2018-19"].ae_share == 0.3
    bad = write(tmp_path, "b.toml", '[years."2018-19"]\nae_share = 0.5\nperformance_share = 0.3\n')
    with pytest.raises(RulesError, match="lacks"):
        load_funding_rules(bad)
    worse = write(tmp_path, "c.toml", '[years."2018-19"]\nae_shares = 0.5\n')
    with pytest.raises(RulesError, match=r"unknown setting 'years\.2018-19\.ae_shares'"):
        load_funding_rules(worse)


def test_funding_cli_formats(ledger_world: Path) -> None:
    base = ["funding", "--quarter", "2016-17Q2", "-w", str(ledger_world)]
    text = runner.invoke(app, base)
    assert text.exit_code == 0, text.output
    assert "England: 3 earned, 2 withheld, 1 not assessable, of 6 trusts" in text.output
    as_json = json.loads(runner.invoke(app, [*base, "--format", "json"]).output)
    assert as_json["totals"]["england"]["earned_gbp"] == pytest.approx(93_750)
    as_csv = list(csv.DictReader(io.StringIO(runner.invoke(app, [*base, "-f", "csv"]).output)))
    assert {r["code"]: r["status"] for r in as_csv}["T3"] == "withheld"
    html = runner.invoke(app, [*base, "-f", "html", "--what-if-standard", "93"])
    assert html.exit_code == 0 and "<strong>What if</strong>" in html.output
    bad = runner.invoke(app, ["funding", "--quarter", "2016-17Q5", "-w", str(ledger_world)])
    assert bad.exit_code != 0
    out_of_range = runner.invoke(app, [*base, "--what-if-standard", "120"])
    assert out_of_range.exit_code != 0


# --------------------------------------------------------------------- issue 12: funding


def test_a_bare_year_quarter_is_refused_with_the_right_form() -> None:
    """`--quarter 2016Q2` was read silently as 2016-17Q2."""
    with pytest.raises(InvalidInputError) as caught:
        parse_quarter("2016Q2")
    assert "2016-17Q2" in caught.value.message and "2015-16Q2" in caught.value.message
    assert "\n" not in caught.value.message
    with pytest.raises(InvalidInputError, match="does not run April to March"):
        parse_quarter("2016-18Q2")
    assert parse_quarter("2016-17 Q2") == parse_quarter("2016/17q2") == Q2
    assert parse_quarter("2016-2017Q2") == Q2


@given(st.integers(2000, 2090), st.integers(1, 4))
def test_quarter_labels_round_trip(year: int, n: int) -> None:
    label = f"{year}-{(year + 1) % 100:02d}Q{n}"
    assert quarter_label(parse_quarter(label)) == label


def test_funding_cli_refuses_a_bare_year_quarter(ledger_world: Path, capsys) -> None:
    code = run_main(["funding", "--quarter", "2016Q2", "-w", str(ledger_world)])
    err = capsys.readouterr().err
    assert code == InvalidInputError.exit_code
    assert "2016-17Q2" in err and "Traceback" not in err


def test_funding_hint_keeps_its_brackets(ledger_world: Path, capsys) -> None:
    """The hint for a year without rules lost `[years."2018-19"]` to console markup."""
    code = run_main(["funding", "--quarter", "2018-19Q2", "-w", str(ledger_world)])
    err = capsys.readouterr().err
    assert code == QueryError.exit_code
    assert '[years."2018-19"]' in " ".join(err.split())


def run_main(args: list[str]) -> int:
    import sys

    from fourhour.cli import main

    argv = sys.argv
    sys.argv = ["fourhour", *args]
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = argv
    return 0


def test_without_allocations_only_trusts_are_assessed(tmp_path: Path) -> None:
    """With no allocations or trajectories, AC008 (an independent provider) was listed as
    'earned n/a'; the ledger now holds NHS trusts alone, and says how many others were left."""
    path = tmp_path / "n.duckdb"
    with open_warehouse(path) as wh:
        for code in ("RXW", "AC008", "NLO10"):
            for end in (JUL, AUG, SEP):
                put_return(wh, code, end, 1000, 30, granularity="month")
    result = ledger(path)
    assert [r["code"] for r in result.rows] == ["RXW"]
    note = " ".join(result.notes)
    assert "(1 trust)" in note and "2 other providers with returns" in note
    text = render_funding(result.as_dict(), "text")
    assert "of 1 trust; no allocations recorded, so no amounts." in text
    assert "1 trusts" not in text and "AC008" not in text and text.endswith("\n")


def test_trust_codes() -> None:
    assert [
        c
        for c in ("RXW", "R0A", "TAD", "AC008", "NLO10", "Y02147", "RX", "C82009")
        if is_trust_code(c)
    ] == ["RXW", "R0A", "TAD"]
