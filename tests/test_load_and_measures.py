"""Storing is idempotent and revisions are logged; measures sum counts before dividing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fourhour import periods
from fourhour.cli import app
from fourhour.measures import england, measure_table, providers_below
from fourhour.report.bulletin import build_bulletin, render
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file
from tests.conftest import PROVIDER_HEADER, provider_row, write

runner = CliRunner()
JAN = periods.month(2025, 1)


def test_reingest_changes_nothing_and_revision_is_logged(
    tmp_path: Path, provider_csv: Path
) -> None:
    w = tmp_path / "w.duckdb"
    with open_warehouse(w) as wh:
        first = ingest_file(wh, provider_csv)
        again = ingest_file(wh, provider_csv)
        assert (first.status, first.inserted) == ("ingested", 2)
        assert (again.status, again.inserted, again.replaced, again.unchanged) == (
            "unchanged",
            0,
            0,
            2,
        )
        assert wh.con.execute("SELECT count(*) FROM ingest_log").fetchone()[0] == 1
        revised = write(
            tmp_path,
            "revised-January-2025-AE.csv",
            "\n".join(
                [
                    PROVIDER_HEADER,
                    provider_row(
                        "RAA",
                        "Alpha Hospitals NHS Trust",
                        (10000, 0, 4000),
                        (2400, 0, 40),
                        adm=(2800, 0, 10),
                        other=900,
                        dta=(700, 120),
                    ),
                ]
            )
            + "\n",
        )
        outcome = ingest_file(wh, revised)
        assert (outcome.status, outcome.replaced, outcome.replaced_ingest_ids) == (
            "revised",
            1,
            [first.ingest_id],
        )
        log = wh.con.execute(
            "SELECT rows_replaced, replaced_ingest_ids FROM ingest_log ORDER BY ingest_id DESC"
        ).fetchone()
        assert log == (1, str(first.ingest_id))
        assert wh.con.execute(
            "SELECT br_type1 FROM provider_returns WHERE org_code = 'RAA'"
        ).fetchone() == (2400,)


def test_measures_sum_counts_then_divide(tmp_path: Path, provider_csv: Path) -> None:
    w = tmp_path / "w.duckdb"
    with open_warehouse(w) as wh:
        ingest_file(wh, provider_csv)
        e = england(wh, JAN).iloc[0]
        # RAA 14000 att / 2540 over; RBB 5300 / 503: (19300 - 3043) / 19300
        assert e.all_types_attendances == 19300 and e.all_types_breaches == 3043
        assert e.all_types_performance_pct == pytest.approx(100 * 16257 / 19300)
        assert e.type1_performance_pct == pytest.approx(100 * 12000 / 15000)
        assert (e.trolley_waits_over_4h, e.trolley_waits_over_12h) == (790, 125)
        region = measure_table(wh, JAN, "region").set_index("code")
        assert region.loc["Y56", "name"] == "London"  # regions are keyed by their ODS codes
        assert region.loc["Y56", "all_types_performance_pct"] == pytest.approx(
            100 * (14000 - 2540) / 14000
        )
        below, basis = providers_below(wh, JAN, 85.0)
        assert (basis, list(below["code"])) == ("all_types", ["RAA"])


counts = st.tuples(st.integers(1, 50_000), st.integers(0, 100)).map(
    lambda t: (t[0], t[0] * t[1] // 100)
)


@settings(max_examples=25, deadline=None)
@given(st.lists(counts, min_size=1, max_size=6))
def test_aggregate_performance_is_ratio_of_sums(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[int, int]]
) -> None:
    tmp = tmp_path_factory.mktemp("h")
    lines = [PROVIDER_HEADER] + [
        provider_row(f"R{i:02d}", f"P{i}", (att, 0, 0), (br, 0, 0))
        for i, (att, br) in enumerate(rows)
    ]
    path = write(tmp, "June-2024-AE.csv", "\n".join(lines) + "\n")
    with open_warehouse(tmp / "w.duckdb") as wh:
        ingest_file(wh, path)
        e = england(wh, periods.month(2024, 6)).iloc[0]
    att, br = sum(a for a, _ in rows), sum(b for _, b in rows)
    assert e.type1_performance_pct == pytest.approx(100 * (att - br) / att)
    assert e.all_types_within_4h == att - br


def test_periods() -> None:
    w = periods.week_ending(dt.date(2014, 12, 14))
    assert (w.start, w.same_period_last_year().end) == (dt.date(2014, 12, 8), dt.date(2013, 12, 15))
    assert periods.month(2024, 2).end == dt.date(2024, 2, 29)
    q = periods.parse_quarter("2016-17Q4")
    assert (q.start, q.end) == (dt.date(2017, 1, 1), dt.date(2017, 3, 31))
    assert periods.quarter_containing(dt.date(2016, 11, 5)).start == dt.date(2016, 10, 1)
    assert periods.parse_fy("2016-17").end == dt.date(2017, 3, 31)
    with pytest.raises(Exception, match="Sunday"):
        periods.week_ending(dt.date(2014, 12, 13))


BULLETIN_KEYS = {
    "period",
    "england",
    "same_period_last_year",
    "providers_below_threshold",
    "worst_providers",
    "trolley_waits",
}


def test_bulletin_contract_and_formats(tmp_path: Path, provider_csv: Path) -> None:
    w = tmp_path / "w.duckdb"
    with open_warehouse(w) as wh:
        ingest_file(wh, provider_csv)
        b = build_bulletin(wh, JAN, threshold_pct=85.0)
    assert set(b) >= BULLETIN_KEYS
    assert set(b["period"]) == {"start", "end", "granularity"}
    for block in (b["england"], b["same_period_last_year"]):
        assert set(block) == {"all_types", "type1", "type2", "type3"}
        for t in block.values():
            assert set(t) == {"attendances", "within_4h", "breaches", "performance_pct"}
    assert set(b["providers_below_threshold"]) == {
        "threshold_pct",
        "count",
        "count_last_year",
        "providers",
        "providers_last_year",
    }
    assert set(b["worst_providers"][0]) == {"code", "name", "performance_pct", "attendances"}
    assert set(b["trolley_waits"]) == {"over_4h", "over_12h"}
    assert b["england"]["all_types"]["performance_pct"] == pytest.approx(100 * 16257 / 19300)
    text = render(b, "text")
    assert "84.2% of attendances at all A&E types" in text
    assert "type 1) A&E departments" in text and "80.0%" in text
    assert "1 of 2 providers were below 85.0%" in text
    assert json.loads(render(b, "json"))["england"]["type1"]["breaches"] == 3000
    html = render(b, "html")
    assert "<table>" in html and "Alpha Hospitals NHS Trust" in html


def test_cli_bulletin_and_measures(tmp_path: Path, provider_csv: Path) -> None:
    w = str(tmp_path / "w.duckdb")
    assert runner.invoke(app, ["ingest", str(provider_csv), "-w", w]).exit_code == 0
    out = runner.invoke(app, ["bulletin", "--month", "2025-01", "--format", "json", "-w", w])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["period"]["start"] == "2025-01-01"
    csv = tmp_path / "m.csv"
    res = runner.invoke(
        app, ["measures", "--level", "provider", "--month", "2025-01", "--csv", str(csv), "-w", w]
    )
    assert res.exit_code == 0 and csv.read_text().count("\n") == 3
    missing = runner.invoke(app, ["bulletin", "--month", "2019-01", "-w", w])
    assert missing.exit_code != 0 and "no returns" in str(missing.exception)


def test_help_documents_every_command() -> None:
    res = runner.invoke(app, ["--help"])
    for command in ("ingest", "bulletin", "measures", "orgs", "warehouse", "demo", "fetch"):
        assert command in res.output
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for command in (
        "fourhour ingest",
        "fourhour bulletin",
        "fourhour measures",
        "fourhour fetch",
        "make demo",
        "make test",
    ):
        assert command in readme


def test_trolley_waits_when_only_twelve_hour_waits_were_published(tmp_path: Path) -> None:
    """The weekly sitreps from January 2015 publish 12-hour waits only: over 4 hours is not
    published (never understated as the 12-hour count), and the bulletin says so."""
    import datetime as dt

    from fourhour.periods import week_ending
    from fourhour.report.bulletin import build_bulletin, render
    from tests.oversight_world import put_return

    with open_warehouse(tmp_path / "t.duckdb") as wh:
        put_return(wh, "RAA", dt.date(2015, 1, 4), 1000, 200, dta_12h=7, type1_only=True)
        b = build_bulletin(wh, week_ending(dt.date(2015, 1, 4)))
    assert b["trolley_waits"]["over_4h"] is None and b["trolley_waits"]["over_12h"] == 7
    assert "7 patients waited more than twelve hours" in render(b, "text")
    assert "4-12 hours were not published" in render(b, "text")
