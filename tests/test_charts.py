"""Charts: each builds, its Vega-Lite spec has the marks, encodings and values it should, its
text alternative states the figures, exports write valid files, and the funnel plot's limits
match hand computations."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fourhour.errors import InvalidInputError, QueryError
from fourhour.measures import spc
from fourhour.report import charts

WEEKS = pd.date_range(end="2015-01-04", periods=30, freq="W-SUN")


# ---------------------------------------------------------------------------- spec helpers


def layers(spec: dict, data: dict | None = None) -> list[dict]:
    """Every unit spec (one with a mark) anywhere in a layered or concatenated spec, with the
    data it inherits from its parents."""
    data = spec.get("data", data)
    out = []
    if "mark" in spec:
        out.append({**spec, "data": data})
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for child in spec.get(key, []):
            out.extend(layers(child, data))
    return out


def mark_type(unit: dict) -> str:
    mark = unit["mark"]
    return mark if isinstance(mark, str) else mark["type"]


def data_of(spec: dict, unit: dict) -> list[dict]:
    return spec["datasets"][unit["data"]["name"]]


def units_with(spec: dict, kind: str) -> list[dict]:
    return [u for u in layers(spec) if mark_type(u) == kind]


def rule_values(spec: dict) -> set[float]:
    values = set()
    for u in units_with(spec, "rule"):
        for row in data_of(spec, u):
            values.update(v for k, v in row.items() if k in ("x", "y") and v is not None)
    return values


# ------------------------------------------------------------------------------ SPC chart


def spc_points(concern_from: int = 25) -> pd.DataFrame:
    """A hand-made SPC engine result: 30 weeks, the last five special causes of concern."""
    values = [92.0 + (0.5 if i % 2 else -0.5) for i in range(30)]
    for i in range(concern_from, 30):
        values[i] = 85.0
    n = len(values)
    special = [None] * concern_from + ["concern"] * (n - concern_from)
    return pd.DataFrame(
        {
            "code": "ENGLAND",
            "period_end": WEEKS,
            "value": pd.array(values, dtype="Float64"),
            "segment": 1,
            "n_in_segment": n,
            "mean": 92.0,
            "ucl": 94.66,
            "lcl": 89.34,
            "upper_2s": 93.77,
            "lower_2s": 90.23,
            "moving_range": [np.nan] + [1.0] * (n - 1),
            "after_gap": [False] * 10 + [True] + [False] * (n - 11),
            "rule": [None] * concern_from + ["astronomical"] * (n - concern_from),
            "special_cause": special,
            "side": [None] * concern_from + ["low"] * (n - concern_from),
            "reason": [None] * concern_from + ["below the lower limit"] * (n - concern_from),
        }
    )


SUMMARY = {
    "code": "ENGLAND",
    "n_points": 30,
    "latest_value": 85.0,
    "mean": 92.0,
    "ucl": 94.66,
    "lcl": 89.34,
    "target": 95.0,
    "variation_icon": "special_cause_concern_low",
    "assurance_icon": "fail",
}


def test_spc_chart_has_mean_limits_target_and_coloured_special_causes() -> None:
    chart = charts.spc_chart(spc_points(), SUMMARY, title="England, type 1")
    spec = chart.to_dict()
    lines = units_with(spec, "line")
    fields = {u["encoding"]["y"]["field"] for u in lines}
    assert {"value", "mean", "ucl", "lcl"} <= fields
    dashed = [u for u in lines if u["encoding"]["y"]["field"] in ("ucl", "lcl")]
    assert all(u["mark"].get("strokeDash") for u in dashed)  # process limits dashed
    assert 95.0 in rule_values(spec)  # the target line
    # The value line breaks after a gap: one path per unbroken run.
    value_line = next(u for u in lines if u["encoding"]["y"]["field"] == "value")
    assert value_line["encoding"]["detail"]["field"] == "run"
    assert {r["run"] for r in data_of(spec, value_line)} == {0, 1}
    points = units_with(spec, "circle")[0]
    scale = points["encoding"]["color"]["scale"]
    colours = dict(zip(scale["domain"], scale["range"], strict=True))
    assert colours == {
        "Common cause": charts.COMMON,
        "Improvement": charts.IMPROVEMENT,
        "Concern": charts.CONCERN,
        "Neither": charts.NEITHER,
    }
    kinds = [r["kind"] for r in data_of(spec, points)]
    assert kinds.count("Concern") == 5 and kinds.count("Common cause") == 25
    # Values arrive as plain floats, whatever the nullable dtype they came in.
    assert all(isinstance(r["value"], float) for r in data_of(spec, points))


def test_spc_chart_says_its_icons_and_leaves_drawing_them_to_the_page() -> None:
    spec = charts.spc_chart(spc_points(), SUMMARY, title="England, type 1").to_dict()
    assert "Special cause – concern (low)" in spec["title"]["subtitle"]
    assert "Consistently fail the target" in spec["title"]["subtitle"]
    # No letter circles inside the chart: the Making Data Count icons are drawn beside it.
    assert not [r for u in units_with(spec, "text") for r in data_of(spec, u) if "letter" in r]
    text = spec["description"]
    for fragment in (
        "England, type 1",
        "30 weeks",
        "Latest value 85.0%",
        "Mean 92.0%",
        "process limits 89.3% to 94.7%",
        "Special cause – concern (low)",
        "Target 95%: Consistently fail the target",
        "5 concern",
    ):
        assert fragment in text, fragment


def test_spc_chart_with_too_few_points_draws_no_limits() -> None:
    points = spc_points().head(8)
    for column in ("mean", "ucl", "lcl", "upper_2s", "lower_2s"):
        points[column] = np.nan
    points["special_cause"] = None
    spec = charts.spc_chart(points, {"variation_icon": None}, title="New trust").to_dict()
    mean_line = next(u for u in units_with(spec, "line") if u["encoding"]["y"]["field"] == "mean")
    assert data_of(spec, mean_line) == []
    assert "Too few points for process limits" in spec["description"]
    assert "Too few points for SPC" in spec["title"]["subtitle"]


def test_spc_chart_with_no_points_is_a_clear_error() -> None:
    with pytest.raises(QueryError, match="no points"):
        charts.spc_chart(spc_points().iloc[:0], None, title="Nobody")


@pytest.mark.parametrize(
    ("key", "label", "colour", "letter"),
    [
        ("common_cause", "Common cause variation", charts.COMMON, "~"),
        ("special_cause_concern_low", "Special cause – concern (low)", charts.CONCERN, "L"),
        (
            "special_cause_improvement_high",
            "Special cause – improvement (high)",
            charts.IMPROVEMENT_DARK,
            "H",
        ),
        (
            "special_cause_neither_high",
            "Special cause – neither better nor worse (high)",
            charts.NEITHER,
            "H",
        ),
        (None, "Too few points for SPC", charts.MID_GREY, "–"),
    ],
)
def test_variation_icons(key: str | None, label: str, colour: str, letter: str) -> None:
    icon = charts.variation_icon(key)
    assert (icon.label, icon.colour, icon.letter) == (label, colour, letter)


@pytest.mark.parametrize(
    ("key", "label", "letter"),
    [
        ("pass", "Consistently pass the target", "P"),
        ("fail", "Consistently fail the target", "F"),
        ("hit_and_miss", "Hit and miss the target", "?"),
    ],
)
def test_assurance_icons(key: str, label: str, letter: str) -> None:
    icon = charts.assurance_icon(key)
    assert (icon.label, icon.letter) == (label, letter)
    assert icon.short == label.removesuffix(" the target")


# --------------------------------------------------------------------- trend and types


def test_national_trend_against_standard_and_last_year() -> None:
    series = pd.DataFrame(
        {
            "period_end": WEEKS[-4:],
            "value": pd.array([90.0, 88.5, None, 79.8], dtype="Float64"),
            "last_year_value": [92.0, 91.0, 91.2, 91.5],
        }
    )
    spec = charts.national_trend_chart(series, label="type 1 (major A&E)").to_dict()
    lines = units_with(spec, "line")
    assert len(lines) == 1
    rows = data_of(spec, lines[0])
    this_year = [r["pct"] for r in rows if r["series"] == "This year"]
    last_year = [r["pct"] for r in rows if r["series"] == "Same period last year"]
    assert this_year == [90.0, 88.5, None, 79.8]  # the missing week stays a gap
    assert last_year == [92.0, 91.0, 91.2, 91.5]
    assert 95.0 in rule_values(spec)
    text = spec["description"]
    assert "Latest 79.8%, against 91.5% a year earlier" in text
    assert "met in 0 of 3 weeks" in text
    assert "type 1 (major A&E)" in text


def test_types_chart_with_and_without_all_types() -> None:
    both = pd.DataFrame(
        {
            "period_end": WEEKS[-3:],
            "type1_pct": [85.0, 84.0, 80.0],
            "all_types_pct": [90.0, 89.5, 86.5],
        }
    )
    spec = charts.types_chart(both).to_dict()
    line = units_with(spec, "line")[0]
    assert {r["series"] for r in data_of(spec, line)} == {"Type 1 (major A&E)", "All types"}
    assert "all types 86.5% (6.5 points higher)" in spec["description"]

    type1_only = both.assign(all_types_pct=pd.array([None] * 3, dtype="Float64"))
    spec = charts.types_chart(type1_only).to_dict()
    line = units_with(spec, "line")[0]
    assert {r["series"] for r in data_of(spec, line)} == {"Type 1 (major A&E)"}
    assert line["encoding"]["color"]["scale"]["domain"] == ["Type 1 (major A&E)"]
    assert "type 1 only" in spec["title"]["subtitle"]
    assert "not published" in spec["description"] and "latest 80.0%" in spec["description"]


# ------------------------------------------------------------------------------ funnel


def test_binomial_limit_by_hand() -> None:
    # Binomial(10, 0.5): P(R <= 1) = 11/1024, P(R <= 2) = 56/1024, P(R = 2) = 45/1024, so the
    # 2.5% quantile is r = 2, alpha = (56/1024 - 0.025) / (45/1024) = 30.4 / 45.
    assert charts.binomial_limit(10, 0.5, 0.025) == pytest.approx((2 - 30.4 / 45) / 10)
    # P(R <= 7) = 968/1024, P(R <= 8) = 1013/1024: r = 8, alpha = (1013 - 998.4) / 45.
    assert charts.binomial_limit(10, 0.5, 0.975) == pytest.approx((8 - 14.6 / 45) / 10)
    assert charts.binomial_limit(100, 1.0, 0.001) == 1.0


def test_funnel_limits_approach_the_normal_limits_for_large_n() -> None:
    p0, n = 0.9, 2000
    lower, upper = charts.funnel_limits(p0, [n], charts.Z998)
    se = math.sqrt(p0 * (1 - p0) / n)
    assert lower[0] == pytest.approx(p0 - charts.Z998 * se, abs=0.001)
    assert upper[0] == pytest.approx(p0 + charts.Z998 * se, abs=0.001)
    lo95, hi95 = charts.funnel_limits(p0, [n], charts.Z95)
    assert lower[0] < lo95[0] < p0 < hi95[0] < upper[0]
    # Narrower for bigger providers: a funnel.
    lo, hi = charts.funnel_limits(p0, [500, 5000], charts.Z998)
    assert hi[0] - lo[0] > hi[1] - lo[1]


def test_overdispersion_by_hand() -> None:
    # Ten providers of 900 attendances around p0 = 0.9: standard error 0.01, every z-score
    # +/-3, so winsorising changes nothing and phi = 9. Weights w = 900 / 0.09 = 10,000 each:
    # tau2 = (10 * 9 - 9) / (100,000 - 10^9 / 100,000) = 81 / 90,000 = 0.0009 (3 points).
    y = np.array([0.93, 0.87] * 5)
    od = charts.overdispersion(y, np.full(10, 900), 0.9)
    assert od.phi == pytest.approx(9.0)
    assert od.tau2 == pytest.approx(0.0009)
    assert od.tau_points == pytest.approx(3.0)
    assert od.significant
    _, upper = charts.funnel_limits(0.9, [900], charts.Z998, od.tau2)
    assert upper[0] - 0.9 == pytest.approx(charts.Z998 * math.sqrt(0.0001 + 0.0009))
    calm = charts.overdispersion(np.full(10, 0.9), np.full(10, 900), 0.9)
    assert (calm.phi, calm.tau2, calm.significant) == (0.0, 0.0, False)


def test_chi_squared_approximation() -> None:
    assert charts._chi2_quantile(1.6448536269514722, 9) == pytest.approx(16.919, abs=0.02)
    assert charts._chi2_quantile(1.6448536269514722, 100) == pytest.approx(124.342, abs=0.05)


def providers(n: int = 40, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    att = rng.integers(800, 6000, n)
    perf = np.clip(rng.normal(0.88, 0.05, n), 0.6, 0.995)
    perf[0] = 0.55  # far below everyone
    return pd.DataFrame(
        {
            "code": [f"R{i:02d}" for i in range(n)],
            "name": [f"Trust {i}" for i in range(n)],
            "attendances": pd.array(att, dtype="Int64"),
            "breaches": [Decimal(round(a * (1 - p))) for a, p in zip(att, perf, strict=True)],
            "performance_pct": pd.array(100 * perf, dtype="Float64"),
        }
    )


def test_funnel_centre_is_the_pooled_proportion_not_an_average() -> None:
    two = pd.DataFrame(
        {
            "code": ["A", "B"],
            "name": ["A", "B"],
            "attendances": [9000, 1000],
            "breaches": [900, 500],
        }
    )
    _, _, p0, _ = charts.funnel_data(two)
    assert p0 == pytest.approx((8100 + 500) / 10000)  # 86%, not the mean of 90% and 50%


def test_funnel_chart_spec_and_text() -> None:
    frame = providers()
    chart = charts.funnel_chart(frame, label="type 1", period_label="week ending 4 January 2015")
    spec = chart.to_dict()
    points = units_with(spec, "circle")[0]
    assert points["encoding"]["x"]["field"] == "n" and points["encoding"]["y"]["field"] == "pct"
    rows = data_of(spec, points)
    assert len(rows) == 40
    assert all(isinstance(r["n"], float) for r in rows)  # Int64 and Decimal cast to float
    positions = {r["code"]: r["position"] for r in rows}
    assert positions["R00"] == "Below"
    limit_fields = {u["encoding"]["y"]["field"] for u in units_with(spec, "line")}
    assert {"adj_lower_998", "adj_upper_998", "adj_lower_95", "lower_998"} <= limit_fields
    assert units_with(spec, "area")  # the widened 99.8% band
    _, limits, p0, od = charts.funnel_data(frame)
    assert od.tau2 > 0
    assert (limits["adj_lower_998"] < limits["lower_998"]).all()  # widened
    text = spec["description"]
    assert "40 providers" in text and "week ending 4 January 2015" in text
    assert f"England {100 * p0:.1f}%" in text
    assert "Trust 0 55.0%" in text  # the provider below the limit, named with its figure
    assert "over-dispersion" in text and "Against plain binomial limits" in text


def test_funnel_without_overdispersion_draws_binomial_limits() -> None:
    att = np.array([1000, 2000, 3000, 4000, 5000] * 4)
    frame = pd.DataFrame(
        {
            "code": [f"P{i}" for i in range(20)],
            "name": [f"P{i}" for i in range(20)],
            "attendances": att,
            "breaches": np.round(att * 0.1).astype(int),
        }
    )
    spec = charts.funnel_chart(frame).to_dict()
    fields = {u["encoding"]["y"]["field"] for u in units_with(spec, "line")}
    assert fields == {"lower_998", "upper_998", "lower_95", "upper_95"}
    assert not units_with(spec, "area")


# ------------------------------------------------------------------------------- league


def test_league_chart_orders_providers_and_marks_standard_and_threshold() -> None:
    frame = providers(20)
    spec = charts.league_chart(frame, label="type 1").to_dict()
    dots = units_with(spec, "circle")[0]
    rows = data_of(spec, dots)
    pcts = [r["pct"] for r in rows]
    assert pcts == sorted(pcts) and [r["rank"] for r in rows] == list(range(1, 21))
    assert rows[0]["label"].startswith("1. Trust 0 (R00)")
    assert {80.0, 95.0} <= rule_values(spec)
    assert rows[0]["band"] == "Below 80%"
    assert "20 providers" in spec["description"] and "Lowest: Trust 0 55.0%" in spec["description"]


def test_long_league_tables_split_into_two_columns() -> None:
    spec = charts.league_chart(providers(70), per_column=50).to_dict()
    assert len(spec["hconcat"]) == 2
    counts = [len(data_of(spec, units_with(panel, "circle")[0])) for panel in spec["hconcat"]]
    assert counts == [35, 35]


def test_charts_refuse_empty_input() -> None:
    with pytest.raises(QueryError):
        charts.league_chart(providers().iloc[:0])
    with pytest.raises(QueryError):
        charts.funnel_chart(providers().assign(attendances=0))


# ----------------------------------------------------------------------------- numbers


def test_as_float_reads_duckdb_types() -> None:
    values = pd.Series([Decimal("1.5"), None, 3], dtype=object)
    assert np.isnan(charts.as_float(values)[1]) and charts.as_float(values)[0] == 1.5
    nullable = pd.array([1, None], dtype="Int64")
    assert charts.as_float(nullable)[0] == 1.0 and np.isnan(charts.as_float(nullable)[1])


# ------------------------------------------------------------------------------ export


MAGIC = {
    ".svg": lambda b: b.lstrip().startswith(b"<svg"),
    ".png": lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),
    ".pdf": lambda b: b.startswith(b"%PDF-") and b.rstrip().endswith(b"%%EOF"),
    ".html": lambda b: b"<html" in b[:500].lower() and b"vega" in b.lower(),
    ".json": lambda b: "$schema" in json.loads(b),
}


@pytest.mark.parametrize("suffix", list(MAGIC))
def test_save_writes_each_format(tmp_path: Path, suffix: str) -> None:
    chart = charts.league_chart(providers(12))
    path = charts.save(chart, tmp_path / f"league{suffix}")
    data = path.read_bytes()
    assert len(data) > 500
    assert MAGIC[suffix](data)


def test_save_refuses_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"\.svg"):
        charts.save(charts.league_chart(providers(5)), tmp_path / "chart.docx")


def test_svg_text_holds_the_chart_figures() -> None:
    svg = charts.to_svg(charts.spc_chart(spc_points(), SUMMARY, title="England, type 1"))
    assert svg.startswith("<svg") and "England, type 1" in svg
    assert "Target 95%" in svg and "Upper limit" in svg


# ----------------------------------------------- issue 12: months, clipped limits, captions

MONTH_ENDS = pd.date_range(end="2018-12-31", periods=30, freq="ME")


def monthly_points(values: list[float] | None = None) -> pd.DataFrame:
    points = spc_points()
    points["period_end"] = MONTH_ENDS
    points["after_gap"] = False
    if values is not None:
        points["value"] = values
    return points


def test_monthly_points_sit_on_their_own_month() -> None:
    """RXW's December 2018 (65.5%) was drawn at 31 December, under the 'Jan 2019' tick."""
    spec = charts.spc_chart(monthly_points(), SUMMARY, title="RXW").to_dict()
    points = units_with(spec, "circle")[0]
    x = points["encoding"]["x"]
    assert x["field"] == "x" and x["type"] == "temporal"
    december = next(r for r in data_of(spec, points) if r["period"] == "December 2018")
    assert december["x"].startswith("2018-12-01")  # drawn at its month's first day
    assert x["axis"]["format"] == "%b %Y"  # so its tick reads "Dec 2018"
    # The latest month is always one of the labelled ticks, and every tick is a month start.
    ticks = x["axis"]["values"]
    assert ticks[-1] == {"year": 2018, "month": 12, "date": 1}
    assert all(t["date"] == 1 for t in ticks)
    assert "30 months, July 2016 to December 2018" in spec["description"]
    # The SVG labels the tick at December 2018 as such.
    assert ">Dec 2018<" in charts.to_svg(spec)


def test_weekly_points_sit_on_their_week_ending() -> None:
    spec = charts.spc_chart(spc_points(), SUMMARY, title="England").to_dict()
    points = units_with(spec, "circle")[0]
    last = data_of(spec, points)[-1]
    assert last["x"].startswith("2015-01-04") and last["period"] == "week ending 4 Jan 2015"
    assert "the weeks ending 15 June 2014 to 4 January 2015" in spec["description"]


def test_national_trend_and_types_charts_place_months_on_their_month() -> None:
    months = pd.date_range(end="2018-12-31", periods=12, freq="ME")
    series = pd.DataFrame(
        {"period_end": months, "value": np.linspace(85, 88, 12), "last_year_value": np.nan}
    )
    spec = charts.national_trend_chart(series, unit_name="month").to_dict()
    line = units_with(spec, "line")[0]
    rows = data_of(spec, line)
    assert {r["period"]: r["x"][:10] for r in rows}["December 2018"] == "2018-12-01"
    assert "January 2018 to December 2018" in spec["description"]


def test_percentage_limits_are_clipped_to_100_and_the_chart_says_so() -> None:
    points = monthly_points([99.0 + (1.0 if i % 2 else -1.0) for i in range(30)])
    points["special_cause"] = None
    points["mean"], points["ucl"], points["lcl"] = 99.0, 101.0, 97.0
    summary = {**SUMMARY, "mean": 99.0, "ucl": 101.0, "lcl": 97.0, "variation_icon": "common_cause"}
    spec = charts.spc_chart(points, summary, title="Walk-in centre").to_dict()
    ucl_line = next(u for u in units_with(spec, "line") if u["encoding"]["y"]["field"] == "ucl")
    assert max(r["ucl"] for r in data_of(spec, ucl_line)) == 100.0
    assert "101.0" not in json.dumps(spec["datasets"])
    assert "The upper limit, 101.0%, is clipped to 100%" in spec["title"]["subtitle"]
    assert (
        "process limits 97.0% to 100.0% (the upper limit, 101.0%, is clipped"
        in (spec["description"])
    )
    assert "79.0-101.0" not in spec["description"]


def test_pct_limits() -> None:
    lim = charts.pct_limits(79.0, 101.0)
    assert (lim.lcl, lim.ucl, lim.clipped, lim.text()) == (79.0, 100.0, ["upper"], "79.0–100.0")
    low = charts.pct_limits(-3.25, 40.0)
    assert low.clipped == ["lower"] and low.lcl == 0.0 and "-3.2%" in low.note
    assert charts.pct_limits(None, float("nan")).text() == "–"
    assert charts.pct_limits(70.0, 90.0).note == ""


def test_captions_state_the_periods_that_hold_data() -> None:
    """'29 February 2024 to 31 January 2026' appeared with data from April 2025 only."""
    months = pd.date_range(end="2026-01-31", periods=24, freq="ME")
    held = months >= "2025-04-01"
    series = pd.DataFrame(
        {
            "period_end": months,
            "type1_pct": np.where(held, 60.0, np.nan),
            "all_types_pct": np.where(held, 75.0, np.nan),
        }
    )
    spec = charts.types_chart(series, unit_name="month").to_dict()
    assert "April 2025 to January 2026" in spec["description"]
    assert "2024" not in spec["description"]
    rows = data_of(spec, units_with(spec, "line")[0])
    assert min(r["x"] for r in rows).startswith("2025-04-01")  # the axis starts at the data
    trend = pd.DataFrame(
        {"period_end": months, "value": np.where(held, 74.0, np.nan), "last_year_value": np.nan}
    )
    text = charts.national_trend_chart(trend, unit_name="month").to_dict()["description"]
    assert "over 10 months, April 2025 to January 2026" in text


def test_infer_unit() -> None:
    assert charts.infer_unit(MONTH_ENDS) == "month"
    assert charts.infer_unit(WEEKS) == "week"
    assert charts.infer_unit(pd.to_datetime(["2016-01-31", "2016-02-29"])) == "month"


@pytest.mark.parametrize("key", [None, *spc.VARIATION_ICONS])
def test_variation_icon_svg_has_a_text_alternative(key: str | None) -> None:
    icon = charts.variation_icon(key)
    root = ET.fromstring(icon.svg())
    assert root.get("role") == "img"
    assert root.get("aria-label") == f"Variation: {icon.label}"
    assert root.find("{http://www.w3.org/2000/svg}title").text == f"Variation: {icon.label}"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    if key and key != "common_cause":
        assert texts == [icon.letter]  # H or L, in the special cause's colour
        coloured = [
            c
            for c in root.iter("{http://www.w3.org/2000/svg}circle")
            if c.get("fill") == icon.colour
        ]
        assert len(coloured) == 3  # the last three points of the little run chart
    assert root.find("{http://www.w3.org/2000/svg}circle").get("stroke") == icon.colour


@pytest.mark.parametrize("key", [None, *spc.ASSURANCE_ICONS])
def test_assurance_icon_svg_has_a_dotted_target_and_a_text_alternative(key: str | None) -> None:
    icon = charts.assurance_icon(key)
    root = ET.fromstring(icon.svg(40))
    assert root.get("width") == "40" and root.get("aria-label") == f"Assurance: {icon.label}"
    lines = list(root.iter("{http://www.w3.org/2000/svg}line"))
    if key:
        assert [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")] == [icon.letter]
        assert len(lines) == 1 and lines[0].get("stroke-dasharray")  # the dotted target
        process = root.find("{http://www.w3.org/2000/svg}polyline")
        ys = [float(p.split(",")[1]) for p in process.get("points").split()]
        target = float(lines[0].get("y1"))  # SVG y grows downwards: above means smaller y
        if key == "pass":
            assert max(ys) < target
        elif key == "fail":
            assert min(ys) > target
        else:
            assert min(ys) < target < max(ys)
    else:
        assert not lines


def test_spc_caption_names_the_gaps_in_the_series() -> None:
    points = monthly_points().iloc[list(range(0, 8)) + list(range(20, 30))].copy()
    points["after_gap"] = [False] * 8 + [True] + [False] * 9
    text = charts.spc_chart(points, SUMMARY, title="England").to_dict()["description"]
    # 30 months to December 2018 begin in July 2016: July 2016 to February 2017 are held, then
    # March 2018 onwards.
    assert "18 months, July 2016 to December 2018" in text
    assert "No figures for March 2017 to February 2018; the line breaks there." in text
