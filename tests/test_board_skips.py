"""No silent fallbacks in the board report: a section left out says why, under "Notes and
methods"; a bad escalation rules file is the user's error (a one-line message and exit code 2),
never a section quietly dropped."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from fourhour.cli import main
from fourhour.ingest.synthetic import generate_weekly_returns
from fourhour.oversight.config import RulesError
from fourhour.periods import week_ending
from fourhour.report import board
from fourhour.report.board import build_report, render_html
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file

LAST = dt.date(2025, 3, 30)  # the synthetic data set's last week
WEEK = week_ending(LAST)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twenty synthetic providers over 20 weeks (and their systems), no bed figures."""
    root = tmp_path_factory.mktemp("skips")
    files = generate_weekly_returns(root / "data", providers=20, weeks=20, seed=11)
    path = root / "w.duckdb"
    with open_warehouse(path) as wh:
        for f in files:
            ingest_file(wh, f)
    return path


def run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """The command line as a user runs it: FourhourError becomes a message and exit code."""
    monkeypatch.setattr(sys, "argv", ["fourhour", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_a_skipped_section_says_why_in_the_report(world: Path) -> None:
    with open_warehouse(world, read_only=True) as wh:
        report = build_report(wh, WEEK, sections=[board.summary_section, *_rest()])
    keys = [s.key for s in report.sections]
    assert "occupancy" not in keys and keys[-1] == "methods"
    (skipped,) = [s for s in report.skipped if s.key == "occupancy"]
    assert "no bed figures" in skipped.reason
    html = render_html(report)
    notes = html[html.index('id="methods"') :]
    assert "Not in this report" in notes
    assert "Bed occupancy and four-hour performance</strong>: the warehouse has no bed" in notes


def _rest() -> list[board.SectionBuilder]:
    from fourhour.report.occupancy import occupancy_section

    return [board.escalations_section, occupancy_section, board.methods_section]


def test_extra_sections_that_skip_are_listed_too(world: Path) -> None:
    def chair(ctx: board.BoardContext) -> board.Skipped:
        return board.Skipped("chair", "Chair's notes", "the chair sent none this week")

    with open_warehouse(world, read_only=True) as wh:
        report = build_report(
            wh,
            WEEK,
            sections=[board.summary_section, board.methods_section],
            extra_sections=[chair],
        )
    assert [s.key for s in report.sections] == ["summary", "methods"]
    assert "the chair sent none this week" in report.sections[-1].html


def test_nothing_is_skipped_silently_where_the_engine_scores(world: Path) -> None:
    with open_warehouse(world, read_only=True) as wh:
        report = build_report(wh, WEEK, sections=[board.escalations_section])
    assert [s.key for s in report.sections] == ["escalations"] and report.skipped == []


def bad_rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text("[window]\ntop = 'twelve'\n", encoding="utf-8")
    return path


def test_a_bad_rules_file_is_an_error_before_any_reading(world: Path, tmp_path: Path) -> None:
    with open_warehouse(world, read_only=True) as wh, pytest.raises(RulesError, match="top"):
        build_report(wh, WEEK, rules=bad_rules(tmp_path))


def test_cli_bad_rules_file_exits_8_with_one_line_and_writes_nothing(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "board.html"
    args = ["report", "--week-ending", LAST.isoformat(), "-w", str(world), "-o", str(out)]
    code = run([*args, "--rules", str(bad_rules(tmp_path))], monkeypatch)
    err = capsys.readouterr().err
    assert code == 8 and not out.exists()  # a configuration error (errors.ConfigError)
    assert "rules.toml" in err and "'window.top'" in err and "Traceback" not in err
    assert run([*args, "--rules", str(tmp_path / "missing.toml")], monkeypatch) == 2  # a bad path
    assert "missing.toml" in capsys.readouterr().err and not out.exists()


def test_cli_good_rules_file_is_used(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "top3.toml"
    rules.write_text("[window]\ntop = 3\n", encoding="utf-8")
    out = tmp_path / "board.html"
    args = ["report", "--week-ending", LAST.isoformat(), "-w", str(world), "-o", str(out)]
    assert run([*args, "--rules", str(rules)], monkeypatch) == 0
    assert "Escalations" in out.read_text(encoding="utf-8")
