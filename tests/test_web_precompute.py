"""The web's precomputed leagues (fourhour.web.precompute) on real returns of three eras: the
ingest's precompute is incremental (re-ingesting changes nothing, a new month adds only its
own leagues), what it computes in bulk for every period equals the live computation of each,
and a page served from the store is the page computed live."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from starlette.testclient import TestClient

from fourhour.periods import month, week_ending
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file
from fourhour.web import precompute
from fourhour.web.data import england as england_data
from fourhour.web.data import organisations as orgs
from tests.web_world import app_for

pytestmark = pytest.mark.realdata

FILES = (  # a winter of weekly returns (2014-15), two months of 2019, two of 2025
    "weekly-type1-2010-2015/trust_to_area_team_2015-03.csv",
    "weekly-type1-2010-2015/weekly_sitrep_2014-11-09_to_2015-03-08.csv",
    "monthly-by-provider-2019-2023/Monthly-AE-April-2019-revised-220720-ab123.csv",
    "monthly-by-provider-2019-2023/Monthly-AE-May-2019-revised-220720-de345.csv",
    "monthly-by-provider-2025-26/System-Mapping-2025.csv",
    "monthly-by-provider-2025-26/April-2025-AE.csv",
    "monthly-by-provider-2025-26/May-2025-AE.csv",
)
NEW_MONTH = "monthly-by-provider-2025-26/June-2025-AE.csv"


def snapshot(path: Path) -> dict:
    with open_warehouse(path, read_only=True) as wh:
        leagues = wh.con.execute(
            "SELECT level, granularity, period_end, basis, inputs_sha256, computed_at "
            "FROM web_leagues UNION ALL SELECT 'england', granularity, period_end, '', "
            "inputs_sha256, computed_at FROM web_england ORDER BY ALL"
        ).fetchall()
        rows = wh.con.execute(
            "SELECT level, granularity, period_end, code, position, row::VARCHAR "
            "FROM web_league_rows ORDER BY ALL"
        ).fetchall()
    return {"leagues": {tuple(r[:3]): r[3:] for r in leagues}, "rows": rows}


@pytest.fixture(scope="module")
def stored(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("precompute") / "three-eras.duckdb"
    with open_warehouse(path) as wh:
        for name in FILES:
            ingest_file(wh, shared_data / name)
        outcome = precompute.precompute(wh)
    return path, {"outcome": outcome, "before": snapshot(path)}


def test_the_first_run_computes_every_league_of_every_period(stored: tuple[Path, dict]) -> None:
    path, facts = stored
    with open_warehouse(path, read_only=True) as wh:
        periods = wh.con.execute(
            "SELECT count(DISTINCT (granularity, period_end)) FROM provider_returns"
        ).fetchone()[0]
        assert precompute.current(wh)
    assert periods == 18 + 4  # 18 weeks, 4 months
    assert facts["outcome"].computed == 3 * periods + periods  # leagues, England
    assert facts["outcome"].unchanged == 0
    assert {k[0] for k in facts["before"]["leagues"]} == {"provider", "system", "region", "england"}


def test_pages_from_the_store_equal_pages_computed_live(
    stored: tuple[Path, dict], tmp_path: Path
) -> None:
    path, _ = stored
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(path, copy)
    with open_warehouse(copy, read_only=True) as wh:
        samples = []
        for period in (week_ending(dt.date(2015, 1, 4)), month(2019, 5), month(2025, 5)):
            for level in orgs.LEVELS:
                league = precompute.stored_league(wh, period, level)
                assert league is not None and league["rows"], (period, level)
                live = orgs.league(wh, period, level)
                assert league["rows"] == live["rows"]
                assert league["basis"] == live["basis"]
                for r in (league["rows"][0], league["rows"][-1]):
                    samples.append(r["url"])
            query = league["rows"][0]["url"].split("?")[1]
            samples += [f"/providers?{query}", f"/?{query}", f"/api/v1/england?{query}"]
            assert precompute.stored_england(wh, period) is not None
    bodies = {}
    for precomputed in (True, False):
        with TestClient(app_for(copy, None, precomputed=precomputed)) as client:
            for url in samples:
                r = client.get(url)
                assert r.status_code == 200, url
                bodies.setdefault(url, []).append(r.text)
    for url, (from_store, live) in bodies.items():
        assert from_store == live, url
    figures = [f for b, _ in bodies.values() for f in b.split('<figure class="fh-chart"')[1:]]
    assert len(figures) >= len(samples) // 2
    assert all("<svg" in f.split("</figure>")[0] for f in figures)


def copy_of(stored: tuple[Path, dict], tmp_path: Path) -> Path:
    """Each test that ingests works on its own copy (the tests run in any order)."""
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(stored[0], path)
    return path


def test_reingesting_the_same_files_changes_nothing(
    stored: tuple[Path, dict], shared_data: Path, tmp_path: Path
) -> None:
    path, facts = copy_of(stored, tmp_path), stored[1]
    with open_warehouse(path) as wh:
        for name in FILES:
            ingest_file(wh, shared_data / name)
        assert precompute.current(wh)  # the same files are not stored again
        outcome = precompute.precompute(wh)
        assert precompute.current(wh)
    assert (outcome.computed, outcome.removed) == (0, 0)
    assert outcome.unchanged == len(facts["before"]["leagues"])
    assert snapshot(path) == facts["before"]


def test_a_new_month_computes_only_its_own_leagues(
    stored: tuple[Path, dict], shared_data: Path, tmp_path: Path
) -> None:
    path, facts = copy_of(stored, tmp_path), stored[1]
    with open_warehouse(path) as wh:
        ingest_file(wh, shared_data / NEW_MONTH)
        outcome = precompute.precompute(wh)
    after = snapshot(path)
    before = facts["before"]
    added = set(after["leagues"]) - set(before["leagues"])
    assert {(level, g, str(end)) for level, g, end in added} == {
        (level, "month", "2025-06-30") for level in ("provider", "system", "region", "england")
    }
    assert outcome.computed == 4 and outcome.removed == 0
    for key, value in before["leagues"].items():
        assert after["leagues"][key] == value, key  # same fingerprint, not recomputed
    old_rows = [r for r in after["rows"] if str(r[2]) != "2025-06-30"]
    assert old_rows == before["rows"]


def dumps(value: object) -> str:
    """JSON with types kept (an int is not a float), floats to the last digit."""
    return json.dumps(value, default=precompute._json, sort_keys=True)


def test_every_stored_league_and_england_page_equals_the_live_computation(
    stored: tuple[Path, dict],
) -> None:
    """The precompute computes every period at once (fourhour.web.bulk); what it stored for
    each level and period held is what the live, one-period computation gives, field by field
    and type by type."""
    path, _ = stored
    with open_warehouse(path, read_only=True) as wh:
        leagues = wh.con.execute(
            "SELECT level, granularity, period_end FROM web_leagues ORDER BY ALL"
        ).fetchall()
        englands = wh.con.execute(
            "SELECT granularity, period_end FROM web_england ORDER BY ALL"
        ).fetchall()
        assert len(leagues) == 3 * 22 and len(englands) >= 22
        for level, g, end in leagues:
            period = week_ending(end) if g == "week" else month(end.year, end.month)
            found = precompute.stored_league(wh, period, level)
            live = orgs.league(wh, period, level)
            assert found is not None and found["basis"] == live["basis"], (level, period)
            assert dumps(found["rows"]) == dumps(json.loads(dumps(live["rows"]))), (level, period)
        for g, end in englands:
            period = week_ending(end) if g == "week" else month(end.year, end.month)
            found_england = precompute.stored_england(wh, period)
            assert found_england is not None, period
            bulletin, trend = england_data.england_inputs(wh, period)
            assert dumps(found_england[0]) == dumps(bulletin), period
            pd.testing.assert_frame_equal(found_england[1], trend, check_exact=True)


def test_the_ingest_command_precomputes_and_precompute_alone_finds_nothing_new(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fourhour.cli import main

    target = tmp_path / "cli.duckdb"
    month_file = shared_data / "monthly-by-provider-2025-26/April-2025-AE.csv"
    outputs = []
    ingest = ["ingest", str(month_file)]  # precomputes by default
    for argv in (ingest, ["precompute"], ingest):
        with pytest.raises(SystemExit) as info:
            main([*argv, "-w", str(target)])
        assert (info.value.code or 0) == 0
        outputs.append(" ".join(capsys.readouterr().out.split()))  # as one line, unwrapped
    # Three leagues and England for April 2025 (no shipped funding rules cover 2025-26).
    assert "web pages: 4 computed" in outputs[0], outputs[0]
    assert "web pages: 0 computed" in outputs[1] and "4 unchanged" in outputs[1], outputs[1]
    assert "web pages: 0 computed" in outputs[2], outputs[2]
    with pytest.raises(SystemExit):
        main(["ingest", str(month_file), "--no-precompute", "-w", str(tmp_path / "no.duckdb")])
    assert "web pages" not in capsys.readouterr().out
    with open_warehouse(tmp_path / "no.duckdb", read_only=True) as wh:
        assert not precompute.current(wh)
        assert precompute.stored_league(wh, month(2025, 4), "provider") is None
