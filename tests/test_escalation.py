"""The escalation engine: each rule, scores and ranking ties, unmapped providers, leaders,
de-escalation, and reproducible, forward-only history. Every expected figure is worked by hand
from the series written in the tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fourhour.cli import app
from fourhour.errors import QueryError
from fourhour.oversight.config import RulesError, load_escalation_rules
from fourhour.oversight.escalation import evaluate
from fourhour.oversight.escalation_store import (
    list_escalations,
    record_run,
    show_escalation,
    update_status,
)
from fourhour.oversight.leaders import import_leaders
from fourhour.periods import week_ending
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.hierarchy import import_mapping
from tests.oversight_world import MAPPING_HEADER, WEEK, mapping_row, put_series, wobble, write

E = dt.date(2025, 1, 5)  # a Sunday
runner = CliRunner()


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """Six systems with chosen histories, and one provider that is in no system."""
    path = tmp_path / "w.duckdb"
    mapping = MAPPING_HEADER + "".join(
        [
            mapping_row("P1", "S1"),
            mapping_row("P2", "S1"),
            mapping_row("P3", "S2"),
            mapping_row("P4", "S3"),
            mapping_row("P5", "S4", region="Y58"),
            mapping_row("P6", "S5"),
            mapping_row("P7", "S6"),
        ]
    )
    leaders = (
        "role,org_code,name,valid_from,valid_to\n"
        "national_leader,ENGLAND,Di Nation,2014-01-01,\n"
        "regional_director,Y56,Cy Region,2014-01-01,\n"
        "system_chair,S3,Ada Chair,2014-01-01,\n"
        "trust_chief_executive,P4,Bo Chief,2014-01-01,2024-06-30\n"
        "trust_chief_executive,P4,Eve Later,2024-07-01,\n"
    )
    with open_warehouse(path) as wh:
        put_series(wh, "P1", E, wobble(96, 70))
        put_series(wh, "P2", E, wobble(96, 70))
        put_series(wh, "P3", E, wobble(90, 70))  # below the standard, steady
        put_series(wh, "P4", E, [*wobble(96, 66), 75, 75, 75, 75])  # collapse
        put_series(
            wh,
            "P5",
            E,
            [*wobble(96, 66), 95, 94, 93, 92],  # decline, with 12-hour waits
            dta_12h=[0] * 67 + [1, 1, 1],
        )
        put_series(wh, "P6", E, wobble(93, 70))  # S5 and S6 are identical: a tie
        put_series(wh, "P7", E, wobble(93, 70))
        put_series(wh, "P8", E, wobble(70, 70))  # no mapping
        import_mapping(wh, write(tmp_path, "map.csv", mapping))
        import_leaders(wh, write(tmp_path, "leaders.csv", leaders))
    return path


def rules_file(tmp_path: Path, text: str) -> Path:
    return write(tmp_path, "rules.toml", text)


def test_each_rule_score_and_rank(world: Path) -> None:
    with open_warehouse(world, read_only=True) as wh:
        result = evaluate(wh, E, load_escalation_rules())
    ranked = result.ranked.set_index("system_code")
    fired = {code: set(ranked.at[code, "fired"]) for code in ranked.index}
    assert fired == {
        "S1": set(),
        "S2": {"below_standard"},
        "S3": {"below_standard", "below_floor", "yoy_deterioration", "special_cause"},
        "S4": {"below_standard", "sustained_decline", "trolley_waits_12h", "special_cause"},
        "S5": {"below_standard"},
        "S6": {"below_standard"},
    }
    # Scores: rule weights + 0.1 per point below 95 (window performance by hand).
    assert ranked.at["S3", "perf"] == pytest.approx(75.0)
    assert ranked.at["S3", "score"] == pytest.approx(1 + 3 + 2 + 2 + 0.1 * 20)
    assert ranked.at["S4", "perf"] == pytest.approx(93.5)
    assert ranked.at["S4", "score"] == pytest.approx(1 + 2 + 2 + 2 + 0.1 * 1.5)
    assert ranked.at["S4", "dta12"] == 3
    assert ranked.at["S2", "score"] == pytest.approx(1 + 0.1 * 5)
    assert ranked.at["S5", "score"] == pytest.approx(1 + 0.1 * 2)
    assert ranked.at["S1", "score"] == 0
    # A tie in every figure is broken by code; S1 fires no rule and is not summoned.
    assert list(result.ranked["system_code"]) == ["S3", "S4", "S2", "S5", "S6", "S1"]
    assert [s["code"] for s in result.summons] == ["S3", "S4", "S2", "S5", "S6"]
    # Year on year: the same four weeks a year earlier were 96% (S3 fell 21 points).
    assert ranked.at["S3", "perf_ly"] == pytest.approx(96.0)
    assert ranked.at["S3", "change"] == pytest.approx(-21.0)


def test_unmapped_provider_is_named_not_dropped(world: Path) -> None:
    with open_warehouse(world, read_only=True) as wh:
        result = evaluate(wh, E, load_escalation_rules())
    assert result.unmapped_providers == ["P8"]
    assert any("P8" in n and "no system mapping" in n for n in result.notes)
    assert "UNMAPPED" not in set(result.ranked["system_code"])
    assert result.as_dict()["unmapped_providers"] == ["P8"]


def test_summons_evidence_leaders_and_explanation(world: Path) -> None:
    with open_warehouse(world, read_only=True) as wh:
        s3 = evaluate(wh, E, load_escalation_rules()).summons[0]
    assert s3["code"] == "S3" and s3["rank"] == 1
    assert s3["attendances"] == 4000 and s3["breaches"] == 1000
    assert [d["code"] for d in s3["providers_driving"]] == ["P4"]
    # 1,000 breaches against the 5% (200) the standard allows.
    assert s3["providers_driving"][0]["breaches_beyond_standard"] == 800
    # The chief executive in post on the week (the later appointment), then up the chain.
    assert [x["name"] for x in s3["leaders"]] == [
        "Eve Later",
        "Ada Chair",
        "Cy Region",
        "Di Nation",
    ]
    assert [w["performance_pct"] for w in s3["trend"]][-4:] == [75.0, 75.0, 75.0, 75.0]
    text = s3["explanation"]
    for fragment in ("ranks 1st of 6", "75.0% of 4,000", "21.0 points worse", "Eve Later"):
        assert fragment in text
    detail = {r["rule"]: r["detail"] for r in s3["rules_fired"]}
    assert "below the 80% floor" in detail["below_floor"]


def test_rules_file_overrides_and_disables(world: Path, tmp_path: Path) -> None:
    rules = load_escalation_rules(
        rules_file(
            tmp_path,
            "[window]\ndepth_weight = 0.0\ntop = 2\n[rules.special_cause]\nenabled = false\n",
        )
    )
    with open_warehouse(world, read_only=True) as wh:
        result = evaluate(wh, E, rules)
    ranked = result.ranked.set_index("system_code")
    assert "special_cause" not in ranked.at["S3", "fired"]
    assert ranked.at["S3", "score"] == pytest.approx(1 + 3 + 2)
    # Equal scores (1.0): lower performance first (S2 at 90% before S5 and S6 at 93%).
    assert list(result.ranked["system_code"])[2:5] == ["S2", "S5", "S6"]
    assert [s["code"] for s in result.summons] == ["S3", "S4"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[window]\nweks = 4\n", "unknown setting 'window.weks'"),
        ("[rules.below_floor]\nfloor_pct = 'eighty'\n", "should be a number"),
        ("[rules.nonsense]\nweight = 1\n", "unknown setting 'rules.nonsense'"),
        ("[window\n", "not valid TOML"),
        ("[deescalation]\nblocking_rules = ['x']\n", "unknown rules"),
    ],
)
def test_bad_rules_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        load_escalation_rules(rules_file(tmp_path, text))


def test_rerun_changes_nothing_and_history_moves_forward(world: Path) -> None:
    rules = load_escalation_rules()
    with open_warehouse(world) as wh:
        first = record_run(wh, evaluate(wh, E, rules))
        assert first.status == "recorded"
        assert sorted(e["system_code"] for e in first.events if e["event"] == "opened") == [
            "S2", "S3", "S4", "S5", "S6",
        ]  # fmt: skip
        snapshot = [
            wh.con.execute(f"SELECT * EXCLUDE ({stamp}) FROM {t} ORDER BY ALL").fetchall()
            for t, stamp in (
                ("escalations", "updated_at"),
                ("escalation_runs", "computed_at"),
                ("escalation_history", "recorded_at"),
            )
        ]
        again = record_run(wh, evaluate(wh, E, rules))
        assert again.status == "unchanged" and again.events == []
        after = [
            wh.con.execute(f"SELECT * EXCLUDE ({stamp}) FROM {t} ORDER BY ALL").fetchall()
            for t, stamp in (
                ("escalations", "updated_at"),
                ("escalation_runs", "computed_at"),
                ("escalation_history", "recorded_at"),
            )
        ]
        assert after == snapshot
        with pytest.raises(QueryError, match=r"recorded up to"):
            record_run(wh, evaluate(wh, E - WEEK, rules))


def test_revised_figures_for_the_latest_week_replace_its_run(world: Path) -> None:
    rules = load_escalation_rules()
    with open_warehouse(world) as wh:
        record_run(wh, evaluate(wh, E, rules))
        # A revision makes S2 meet the standard in the last week: its score changes.
        put_series(wh, "P3", E, [99.0])
        outcome = record_run(wh, evaluate(wh, E, rules))
        assert outcome.status == "revised"
        history = wh.con.execute(
            "SELECT count(*) FROM escalation_history h JOIN escalations e USING (escalation_id) "
            "WHERE e.system_code = 'S3'"
        ).fetchone()[0]
        assert history == 1  # the revised week's events were re-derived, not duplicated
        assert wh.con.execute("SELECT count(*) FROM escalation_runs").fetchone()[0] == 1


def test_deescalation_after_consecutive_recovered_weeks(tmp_path: Path) -> None:
    path = tmp_path / "d.duckdb"
    rules = load_escalation_rules(
        rules_file(
            tmp_path,
            "[window]\nweeks = 1\n[deescalation]\nweeks = 2\n"
            "[rules.special_cause]\nenabled = false\n[rules.yoy_deterioration]\nenabled = false\n",
        )
    )
    # Weeks E-1 and E at 70% (below the floor); recovered from E+1; relapses at E+4.
    series = [*wobble(96, 60), 70, 70, 96, 96.2, 96, 70]
    last = E + 4 * WEEK
    with open_warehouse(path) as wh:
        put_series(wh, "PX", last, series)
        import_mapping(wh, write(tmp_path, "m.csv", MAPPING_HEADER + mapping_row("PX", "SX")))
        statuses = []
        for k in range(5):
            week = E + k * WEEK
            outcome = record_run(wh, evaluate(wh, week, rules))
            statuses.append(
                (k, [(e["event"], e["status"]) for e in outcome.events if e["system_code"] == "SX"])
            )
        rows = list_escalations(wh)
    assert statuses == [
        (0, [("opened", "open")]),
        (1, [("recovering", "improving")]),
        (2, [("de-escalated", "closed")]),  # two consecutive recovered weeks
        (3, []),
        (4, [("opened", "open")]),  # a new escalation after a relapse
    ]
    assert [(r["status"], r["opened"], r["closed"]) for r in rows] == [
        ("open", E + 4 * WEEK, None),
        ("closed", E, E + 2 * WEEK),
    ]


def test_improving_system_that_fails_again_relapses(tmp_path: Path) -> None:
    path = tmp_path / "r.duckdb"
    rules = load_escalation_rules(
        rules_file(
            tmp_path,
            "[window]\nweeks = 1\n[deescalation]\nweeks = 3\n"
            "[rules.special_cause]\nenabled = false\n[rules.yoy_deterioration]\nenabled = false\n",
        )
    )
    series = [*wobble(96, 60), 70, 96, 75]
    with open_warehouse(path) as wh:
        put_series(wh, "PX", E + 2 * WEEK, series)
        import_mapping(wh, write(tmp_path, "m.csv", MAPPING_HEADER + mapping_row("PX", "SX")))
        events = []
        for k in range(3):
            events += record_run(wh, evaluate(wh, E + k * WEEK, rules)).events
        assert [(e["event"], e["status"]) for e in events] == [
            ("opened", "open"),
            ("recovering", "improving"),
            ("relapsed", "open"),
        ]
        update_status(
            wh, 1, "meeting_held", "met the board on 20 January", week_ending(E + 2 * WEEK)
        )
        shown = show_escalation(wh, 1)
    assert shown["status"] == "meeting_held"
    assert shown["history"][-1]["note"] == "met the board on 20 January"
    assert shown["latest_evidence"]["code"] == "SX"


def test_week_without_returns_is_a_clear_error(world: Path) -> None:
    with open_warehouse(world, read_only=True) as wh, pytest.raises(QueryError, match="no weekly"):
        evaluate(wh, E + 52 * WEEK, load_escalation_rules())


def test_escalate_cli(world: Path) -> None:
    args = ["escalate", "--week-ending", str(E), "-w", str(world)]
    result = runner.invoke(app, [*args, "--format", "json", "--top", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["code"] for s in data["summons"]] == ["S3", "S4", "S2"]
    assert data["summons"][0]["status"] == "open"
    assert {e["event"] for e in data["events"]} == {"opened"}
    text = runner.invoke(app, [*args, "--top", "3"])
    assert text.exit_code == 0
    assert "1. S3 delivery board (S3)" in text.output and "run unchanged" in text.output
    html = runner.invoke(app, [*args, "--top", "3", "--format", "html", "--no-record"])
    assert html.exit_code == 0 and "<h1>Summons list" in html.output
    listed = runner.invoke(app, ["escalations", "list", "-w", str(world)])
    assert listed.exit_code == 0 and "S3 delivery board" in listed.output
    upd = runner.invoke(
        app, ["escalations", "update", "1", "--status", "meeting_held", "-w", str(world)]
    )
    assert upd.exit_code == 0
    shown = runner.invoke(app, ["escalations", "show", "1", "--json", "-w", str(world)])
    assert json.loads(shown.output)["status"] == "meeting_held"
    bad = runner.invoke(app, ["escalations", "update", "1", "--status", "done", "-w", str(world)])
    assert bad.exit_code != 0
    saturday = runner.invoke(app, ["escalate", "--week-ending", "2025-01-04", "-w", str(world)])
    assert saturday.exit_code != 0
