"""The forecast: coherence, interval ordering, no look-ahead, bad input, a seeded golden value,
the winter outlook and its escalation rule, the CLI, and the backtest on the real returns."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fourhour.cli import app
from fourhour.errors import FourhourError
from fourhour.forecast import ForecastError, load_history, run_forecast
from fourhour.forecast.backtest import backtest, origins_for, score_origin
from fourhour.forecast.history import MIN_HISTORY, fill_gaps, usable_run
from fourhour.forecast.outlook import forecast_miss_systems, winter_outlook
from fourhour.forecast.reconcile import Hierarchy, build_hierarchy, reconcile
from fourhour.warehouse import open_warehouse
from tests import forecast_world

runner = CliRunner()
ORIGIN = dt.date(2019, 7, 31)  # the 40th month of the synthetic world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return forecast_world.build(tmp_path_factory.mktemp("forecast"))


@pytest.fixture(scope="module")
def result(world: Path):
    with open_warehouse(world, read_only=True) as wh:
        return run_forecast(wh, horizon=12)


# ------------------------------------------------------------------------------ coherence


def _sums(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    part = table[table["measure"] == measure]
    return part.pivot_table(index=["level", "code"], columns="step", values="mean")


@pytest.mark.parametrize("method", ["mint_shrink", "bottom_up"])
def test_trusts_add_up_to_systems_regions_and_england(world: Path, method: str) -> None:
    with open_warehouse(world, read_only=True) as wh:
        r = run_forecast(wh, horizon=6, method=method)
    parents = r.history.parents.set_index("code")
    for measure in ("att_type1", "br_type1", "att_type3", "br_type3", "att_all", "br_all"):
        wide = _sums(r.table, measure)
        trusts = wide.loc["provider"]
        for system, members in parents.groupby("system_code").groups.items():
            np.testing.assert_allclose(
                wide.loc[("system", system)], trusts.loc[list(members)].sum(), rtol=1e-9
            )
        for region, members in parents.groupby("region_code").groups.items():
            np.testing.assert_allclose(
                wide.loc[("region", region)], trusts.loc[list(members)].sum(), rtol=1e-9
            )
        np.testing.assert_allclose(wide.loc[("england", "ENGLAND")], trusts.sum(), rtol=1e-9)
    # Performance is derived from the counts: (attendances - breaches) / attendances.
    att, br = _sums(r.table, "att_all"), _sums(r.table, "br_all")
    perf = _sums(r.table, "perf_all_types")
    np.testing.assert_allclose(perf, (att - br) / att * 100, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=2, max_size=9),
    st.integers(0, 2**31 - 1),
)
def test_reconciled_forecasts_are_coherent_for_any_hierarchy(systems, seed) -> None:
    rng = np.random.default_rng(seed)
    codes = [f"T{i}" for i in range(len(systems))]
    parents = pd.DataFrame(
        {
            "code": codes,
            "system_code": [f"S{s}" for s in systems],
            "system_name": [f"S{s}" for s in systems],
            "region_code": [f"R{s % 2}" for s in systems],
            "region_name": [f"R{s % 2}" for s in systems],
        }
    )
    h = build_hierarchy(parents)
    n = len(h.nodes)
    mean = rng.uniform(0, 1000, (n, 4))
    sd = rng.uniform(1, 50, (n, 4))
    resid = rng.standard_normal((30, n)) * 10
    for method in ("mint_shrink", "bottom_up"):
        rec, rec_sd = reconcile(h, mean, sd, resid, method)
        bottom = rec[n - h.n_bottom :]
        np.testing.assert_allclose(rec, h.S @ bottom, rtol=1e-9, atol=1e-9)
        assert (rec >= -1e-9).all() and (rec_sd >= 0).all()
    rec, _ = reconcile(h, mean, sd, resid, "bottom_up")
    np.testing.assert_allclose(rec[n - h.n_bottom :], mean[n - h.n_bottom :])


def test_coherent_base_forecasts_are_left_alone() -> None:
    h = Hierarchy(
        [("england", "E"), ("provider", "A"), ("provider", "B")],
        np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]),
    )
    mean = np.array([[30.0], [10.0], [20.0]])
    rng = np.random.default_rng(1)
    rec, _ = reconcile(h, mean, np.ones((3, 1)), rng.standard_normal((20, 3)), "mint_shrink")
    np.testing.assert_allclose(rec, mean)


# ------------------------------------------------------------------------------ intervals


def test_intervals_are_ordered(result) -> None:
    t = result.table.dropna(subset=["mean"])
    assert (t["lo95"] <= t["lo80"] + 1e-9).all()
    assert (t["lo80"] <= t["mean"] + 1e-6).all()
    assert (t["mean"] <= t["hi80"] + 1e-6).all()
    assert (t["hi80"] <= t["hi95"] + 1e-9).all()
    counts = t[~t["measure"].str.startswith("perf")]
    assert (counts["lo95"] >= 0).all()
    perf = t[t["measure"].str.startswith("perf")]
    assert perf["lo95"].between(0, 100).all() and perf["hi95"].between(0, 100).all()
    p = result.probabilities
    assert p["p_standard"].between(0, 1).all()


def test_seasonal_naive_baseline_is_last_years_value(world: Path, result) -> None:
    with open_warehouse(world, read_only=True) as wh:
        history = load_history(wh, "month", ORIGIN)
    raa = history.series["att_type1"]["RAA"]
    base = result.select("provider", "RAA", ("att_type1",)).sort_values("step")["baseline"]
    np.testing.assert_allclose(base.to_numpy(), raa.iloc[-12:].to_numpy())


# ------------------------------------------------------------------------- no look-ahead


def test_no_origin_sees_a_later_row(world: Path, tmp_path: Path) -> None:
    """By construction: wreck every row after the origin; the forecast must not change."""
    origin = dt.date(2018, 12, 31)
    with open_warehouse(world, read_only=True) as wh:
        before = run_forecast(wh, horizon=6, origin=origin)
    copy = tmp_path / "wrecked.duckdb"
    copy.write_bytes(world.read_bytes())
    con = duckdb.connect(str(copy))
    changed = con.execute(
        "UPDATE provider_returns SET att_type1 = att_type1 * 50, br_type1 = 0 WHERE period_end > ?",
        [origin],
    ).fetchall()
    con.execute(
        "INSERT INTO provider_returns (granularity, period_start, period_end, org_code, "
        "att_type1, br_type1, ingest_id) VALUES ('month', DATE '2030-01-01', "
        "DATE '2030-01-31', 'RZZ', 1, 0, 0)"
    )
    con.close()
    assert changed
    with open_warehouse(copy, read_only=True) as wh:
        after = run_forecast(wh, horizon=6, origin=origin)
        history = load_history(wh, "month", origin)
    assert max(w.index.max() for w in history.series.values()) == pd.Timestamp(origin)
    pd.testing.assert_frame_equal(before.table, after.table)
    pd.testing.assert_frame_equal(before.probabilities, after.probabilities)


def test_backtest_origins_read_only_their_past(world: Path) -> None:
    with open_warehouse(world, read_only=True) as wh:
        found = origins_for(wh, "monthly")
        assert found and all(o.month in (3, 6, 9, 12) for o in found)
        for origin in found:
            history = load_history(wh, "month", origin)
            latest = max(w.index.max() for w in history.series.values())
            assert latest == pd.Timestamp(origin)
        scores = score_origin(wh, "monthly", found[0])
    assert (pd.to_datetime(scores["period_end"]) > pd.Timestamp(found[0])).all()
    assert scores["actual"].notna().all()


# ------------------------------------------------------------------------------ bad input


def test_too_short_a_history_names_the_series(tmp_path: Path) -> None:
    db = forecast_world.build(tmp_path / "short", n_months=MIN_HISTORY["month"] - 4)
    with open_warehouse(db, read_only=True) as wh, pytest.raises(ForecastError) as err:
        run_forecast(wh, horizon=3)
    message = str(err.value)
    assert "type 1 attendances" in message and "20 months" in message
    assert "at least 24 needed" in message and "\n" not in message


def test_a_trust_with_too_short_a_history_is_named(tmp_path: Path) -> None:
    db = forecast_world.build(tmp_path / "new", short={"RAE": 10})
    with open_warehouse(db, read_only=True) as wh:
        r = run_forecast(wh, horizon=3)
        assert "RAE" not in set(r.history.parents["code"])
        assert any("RAE" in n for n in r.history.notes)
        with pytest.raises(ForecastError, match=r"^RAE type 1 attendances: 10 months"):
            run_forecast(wh, horizon=3, provider="RAE")
    args = ["forecast", "-w", str(db), "--level", "provider", "--code", "RAE", "--horizon", "3"]
    proc = subprocess.run(
        [sys.executable, "-m", "fourhour", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == ForecastError.exit_code
    assert "error: RAE type 1 attendances: 10 months" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--horizon", "13"], "horizon 13 is out of range"),
        (["--models", "prophet"], "unknown model(s) prophet"),
        (["--reconcile", "topdown"], "unknown reconciliation"),
        (["--origin", "2030-01"], "no monthly provider returns"),
    ],
)
def test_bad_options_are_one_line_errors(world: Path, args, expected) -> None:
    cli = runner.invoke(app, ["forecast", "-w", str(world), *args])
    assert cli.exit_code != 0
    assert isinstance(cli.exception, FourhourError) and expected in str(cli.exception)
    assert "\n" not in str(cli.exception)


def test_gaps_are_bounded_and_filled() -> None:
    present = pd.Series([True] * 5 + [False] * 13 + [True] * 30 + [False] * 2 + [True] * 4)
    run = usable_run(present, "month")
    assert run.sum() == 36 and not run.iloc[:18].any()
    wide = pd.DataFrame({"a": [float(i % 12) for i in range(30)]})
    wide.iloc[20] = np.nan
    filled, n = fill_gaps(wide, 12)
    assert n == 1 and filled.iloc[20, 0] == wide.iloc[8, 0]


# ------------------------------------------------------------------------- golden value


def test_seeded_golden_value(world: Path) -> None:
    with open_warehouse(world, read_only=True) as wh:
        r = run_forecast(wh, horizon=3, seed=42)
    eng = r.select("england", "ENGLAND")
    att = eng[(eng["measure"] == "att_type1") & (eng["step"] == 1)].iloc[0]
    perf = eng[(eng["measure"] == "perf_all_types") & (eng["step"] == 1)].iloc[0]
    assert round(att["mean"], 1) == GOLDEN_ATT
    assert round(perf["lo80"], 3) == GOLDEN_PERF_LO80
    with open_warehouse(world, read_only=True) as wh:
        again = run_forecast(wh, horizon=3, seed=42)
    pd.testing.assert_frame_equal(r.table, again.table)


GOLDEN_ATT = 52602.9  # England type 1 attendances, August 2019 (seed 42)
GOLDEN_PERF_LO80 = 90.219  # the lower end of its 80% performance interval


# ---------------------------------------------------------------------- winter outlook


def test_winter_outlook_ranks_the_trusts_most_likely_to_miss(result) -> None:
    view = winter_outlook(result, interim_pct=90.0)
    assert [d.month for d in view.winter] == [12, 1, 2, 3]
    trusts = view.ranked("provider")
    assert len(trusts) == 6 and list(trusts["rank"]) == list(range(1, 7))
    assert trusts["p_miss_target"].is_monotonic_decreasing
    assert (trusts["target_pct"] == 90.0).all() and (trusts["target_kind"] == "interim").all()
    # Winter performance from the winter's summed counts.
    eng = result.select("england", "ENGLAND", ("att_all", "br_all"))
    winter = eng[eng["period_end"].isin(view.winter)].groupby("measure")["mean"].sum()
    england = view.ranked("england").iloc[0]
    expected = (winter["att_all"] - winter["br_all"]) / winter["att_all"] * 100
    assert england["forecast_pct"] == pytest.approx(expected)
    assert json.dumps(view.as_dict("provider", 3))


def test_forecast_miss_rule_fires_for_systems_likely_to_miss(world: Path) -> None:
    with open_warehouse(world, read_only=True) as wh:
        lax = forecast_miss_systems(wh, dt.date(2019, 8, 4), interim_pct=50.0)
        strict = forecast_miss_systems(wh, dt.date(2019, 8, 4), interim_pct=99.0)
    assert set(lax["system_code"]) == {"QAA", "QAB", "QAC"}
    assert not lax["fired"].any() and strict["fired"].all()


# ----------------------------------------------------------------------------------- CLI


def test_cli_json_csv_text_and_chart(world: Path, tmp_path: Path) -> None:
    base = ["forecast", "-w", str(world), "--horizon", "3"]
    out = runner.invoke(app, [*base, "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["kind"] == "fourhour.forecast" and data["origin"] == "2019-07-31"
    assert {r["measure"] for r in data["forecasts"]} >= {"att_type1", "perf_all_types"}
    csv = tmp_path / "f.csv"
    out = runner.invoke(app, [*base, "--level", "system", "--format", "csv", "--out", str(csv)])
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(csv)
    assert set(frame["code"]) == {"QAA", "QAB", "QAC"} and "p_standard" in frame
    chart = tmp_path / "c.svg"
    out = runner.invoke(app, [*base, "--trajectory", "78", "--chart", str(chart)])
    assert out.exit_code == 0, out.output
    assert "England (ENGLAND)" in out.output and "78%" in out.output
    assert chart.read_text().startswith("<svg")


def test_cli_outlook(world: Path) -> None:
    out = runner.invoke(
        app, ["forecast", "-w", str(world), "outlook", "--format", "json", "--top", "2"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["kind"] == "fourhour.winter_outlook" and len(data["organisations"]) == 2


# ------------------------------------------------------------------------------ backtest


def test_backtest_scores_every_level(world: Path) -> None:
    with open_warehouse(world, read_only=True) as wh:
        result = backtest(wh, ("monthly",), max_origins=1)
    s = result.summary
    assert set(s["level"]) == {"provider", "system", "region", "england"}
    att = s[s["measure"] == "att_type1"]
    assert (att["mase"] > 0).all() and att["coverage80"].between(0, 100).all()
    assert json.dumps(result.as_dict())


@pytest.mark.realdata
@pytest.mark.slow
def test_backtest_on_the_real_england_series(real_warehouse: Path) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        result = backtest(wh, ("england",), max_origins=2)
    s = result.summary.set_index(["measure", "horizon"])
    assert s.loc[("att_type1", "1"), "mape"] < 10
    assert s.loc[("perf_all_types", "1"), "mae_points"] < 5


# ----------------------------------------------------------------------------------- web


def test_web_page_and_api(world: Path, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from tests.web_world import app_for

    copy = tmp_path / "web.duckdb"  # the server opens its own read-write configuration
    copy.write_bytes(world.read_bytes())
    with TestClient(app_for(copy, None)) as client:
        page = client.get("/forecast")
        assert page.status_code == 200, page.text
        assert "<h1>Winter outlook</h1>" in page.text and "<svg" in page.text
        assert page.text.count('<tr class="nhsuk-table__row"><td') == 6
        api = client.get("/api/v1/forecast/outlook", params={"level": "system"})
        assert api.status_code == 200
        data = api.json()
        assert data["kind"] == "fourhour.winter_outlook" and data["level"] == "system"
        assert [o["rank"] for o in data["organisations"]] == [1, 2, 3]
        bad = client.get("/api/v1/forecast/outlook", params={"level": "ward"})
        assert bad.status_code == 400


def test_docs_name_every_forecast_command_and_the_rule() -> None:
    root = Path(__file__).resolve().parents[1]
    docs = (root / "docs" / "forecast.md").read_text()
    for command in ("fourhour forecast outlook", "fourhour forecast backtest", "--outlook"):
        assert command in docs
    assert "fourhour forecast" in (root / "README.md").read_text()
    assert "`forecast_miss`" in (root / "docs" / "oversight.md").read_text()
    out = runner.invoke(app, ["forecast", "--help"])
    assert "backtest" in out.output and "outlook" in out.output


def test_the_rules_toml_switches_forecast_miss_on(tmp_path: Path) -> None:
    from fourhour.oversight.config import load_escalation_rules

    assert not load_escalation_rules().rule("forecast_miss").enabled
    path = tmp_path / "rules.toml"
    path.write_text("[rules.forecast_miss]\nenabled = true\nmin_probability = 0.7\n")
    rule = load_escalation_rules(path).rule("forecast_miss")
    assert rule.enabled and rule.params == {"min_probability": 0.7, "interim_pct": 78.0}


def test_forecast_miss_switched_on_feeds_the_summons_list(world: Path, tmp_path: Path) -> None:
    """Switched on in the rules TOML, the rule fires through `fourhour escalate` for the
    systems the forecast expects to miss, and adds its weight to their scores."""
    rules = tmp_path / "rules.toml"
    rules.write_text("[rules.forecast_miss]\nenabled = true\ninterim_pct = 99.0\n")
    base = ["escalate", "--month", "2019-07", "--no-record", "-f", "json", "-w", str(world)]
    off = json.loads(runner.invoke(app, base).output)
    on_run = runner.invoke(app, [*base, "--rules", str(rules)])
    assert on_run.exit_code == 0, on_run.output
    on = json.loads(on_run.output)
    fired = {s["code"] for s in on["systems"] if "forecast_miss" in s["rules_fired"]}
    assert fired == {"QAA", "QAB", "QAC"}  # a 99% target: every system is likely to miss
    scores_off = {s["code"]: s["score"] for s in off["systems"]}
    for s in on["systems"]:
        assert s["score"] == pytest.approx(scores_off[s["code"]] + 2.0)
    assert not any("forecast_miss" in s["rules_fired"] for s in off["systems"])
