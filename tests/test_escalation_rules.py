"""Known values for each escalation rule (oversight/escalation_rules.py), one table per rule,
on hand-made scoring windows: the boundaries (at the threshold does not fire; beyond it does)
and missing figures (never fire)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fourhour.oversight.config import RULE_NAMES, load_escalation_rules
from fourhour.oversight.escalation import score_period
from fourhour.oversight.escalation_rules import BY_NAME, RULES, ScoringWindow

NAN = math.nan
RULES_MONTH = load_escalation_rules(granularity="month")


def window(
    perf: list[float],
    *,
    perf_ly: list[float] | None = None,
    dta12: list[float] | None = None,
    series: list[list[float]] | None = None,
    concern: list[bool] | None = None,
    miss: list[bool] | None = None,
) -> ScoringWindow:
    codes = [f"S{i}" for i in range(len(perf))]
    ly = perf_ly if perf_ly is not None else [NAN] * len(perf)
    figures = pd.DataFrame(
        {
            "perf": perf,
            "perf_ly": ly,
            "change": np.subtract(perf, ly),
            "dta12": dta12 if dta12 is not None else [NAN] * len(perf),
        },
        index=codes,
    )
    rows = series if series is not None else [[p] for p in perf]
    frame = pd.DataFrame(rows, index=codes)
    return ScoringWindow(
        figures=figures,
        series=frame,
        j=frame.shape[1] - 1,
        rules=RULES_MONTH,
        spc_concern=pd.Series(concern or [False] * len(perf), index=codes),
        forecast_miss=pd.Series(miss or [False] * len(perf), index=codes),
    )


def fires(name: str, w: ScoringWindow) -> list[bool]:
    return BY_NAME[name].evaluate(w, RULES_MONTH.rules[name]).astype(bool).tolist()


def test_every_rule_of_the_rules_file_has_one_definition_in_order() -> None:
    assert tuple(BY_NAME) == RULE_NAMES == tuple(r.name for r in RULES)
    assert all(r.checks and callable(r.evaluate) and callable(r.detail) for r in RULES)


@pytest.mark.parametrize(
    ("perf", "expected"),
    [(94.9, True), (95.0, False), (99.0, False), (NAN, False)],
)
def test_below_standard(perf: float, expected: bool) -> None:
    assert RULES_MONTH.standard_pct == 95.0
    assert fires("below_standard", window([perf])) == [expected]


@pytest.mark.parametrize(
    ("perf", "expected"),
    [(79.99, True), (80.0, False), (90.0, False), (NAN, False)],
)
def test_below_floor(perf: float, expected: bool) -> None:
    assert RULES_MONTH.rules["below_floor"].params["floor_pct"] == 80.0
    assert fires("below_floor", window([perf])) == [expected]


@pytest.mark.parametrize(
    ("perf", "perf_ly", "expected"),
    [
        (85.0, 90.0, True),  # exactly 5 points worse fires
        (85.1, 90.0, False),
        (80.0, 75.0, False),  # better
        (85.0, NAN, False),  # no figure a year earlier
    ],
)
def test_yoy_deterioration(perf: float, perf_ly: float, expected: bool) -> None:
    assert RULES_MONTH.rules["yoy_deterioration"].params["points"] == 5.0
    assert fires("yoy_deterioration", window([perf], perf_ly=[perf_ly])) == [expected]


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([90, 89, 88, 87], True),  # three falls in a row (months: 3)
        ([90, 89, 89, 87], False),  # a flat month breaks the run
        ([89, 90, 88, 87], False),  # only two falls
        ([90, 89, NAN, 87], False),  # a gap breaks the run
        ([89, 88, 87], False),  # too short a history for three falls
    ],
)
def test_sustained_decline(history: list[float], expected: bool) -> None:
    assert RULES_MONTH.decline_periods == 3
    w = window([history[-1]], series=[history])
    assert fires("sustained_decline", w) == [expected]


@pytest.mark.parametrize(
    ("dta12", "expected"), [(0.0, False), (1.0, True), (40.0, True), (NAN, False)]
)
def test_trolley_waits_12h(dta12: float, expected: bool) -> None:
    assert RULES_MONTH.rules["trolley_waits_12h"].params["min_waits"] == 1
    assert fires("trolley_waits_12h", window([90.0], dta12=[dta12])) == [expected]


def test_special_cause_and_forecast_miss_read_their_signals() -> None:
    w = window([90.0, 90.0], concern=[True, False], miss=[False, True])
    assert fires("special_cause", w) == [True, False]
    assert fires("forecast_miss", w) == [False, True]


def test_details_say_what_fired() -> None:
    row = {"perf": 78.25, "perf_ly": 84.0, "change": -5.75, "dta12": 7.0, "spc_reason": None}
    detail = {r.name: r.detail(row, RULES_MONTH) for r in RULES}
    assert detail["below_standard"] == "78.2% within four hours, below the 95% standard"
    assert detail["below_floor"] == "78.2% within four hours, below the 80% floor"
    assert detail["yoy_deterioration"] == (
        "5.8 points worse than the same months a year earlier (84.0%)"
    )
    assert detail["sustained_decline"] == "performance fell in each of the last 3 months"
    assert detail["trolley_waits_12h"] == "7 waits of over 12 hours from decision to admit"
    assert detail["special_cause"].endswith("signal at the latest period")
    assert "50% chance of missing" in detail["forecast_miss"]


def test_score_adds_the_weights_of_the_rules_that_fire_and_the_depth() -> None:
    """Two systems, four months, a window of three: A falls every month (90, 85, 80, 78%) and
    has 12-hour waits; B stays at 96% with none. A's window is (3000 - 570) / 3000 = 81%:
    below the standard (weight 1) but not the 80% floor, three falls in a row (2), waits (2),
    and 14 points below the standard at 0.1 a point: 6.4. Nothing fires for B."""
    columns = pd.date_range("2024-01-31", periods=4, freq="ME")
    att = pd.DataFrame([[1000.0] * 4, [1000.0] * 4], index=["A", "B"], columns=columns)
    br = pd.DataFrame([[100.0, 150.0, 200.0, 220.0], [40.0] * 4], index=att.index, columns=columns)
    dta12 = pd.DataFrame([[0.0, 0.0, 0.0, 3.0], [0.0] * 4], index=att.index, columns=columns)
    scored = score_period({"att": att, "br": br, "dta12": dta12}, 3, RULES_MONTH)
    a, b = (scored.set_index("system_code").loc[c] for c in ("A", "B"))
    assert a["perf"] == pytest.approx(81.0)
    assert a["fired"] == ("below_standard", "sustained_decline", "trolley_waits_12h")
    assert a["score"] == pytest.approx(6.4)
    assert (a["rank"], b["rank"]) == (1, 2)
    assert b["fired"] == () and b["score"] == 0.0
