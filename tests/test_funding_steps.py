"""Known values for the named steps of a trust's funding decision (oversight/funding.py):
met the standard or the trajectory (with the tolerance), the first quarter paid for agreeing
a trajectory, a quarter not assessable without its returns, and the money."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from fourhour.oversight.config import load_funding_rules
from fourhour.oversight.funding import (
    _decision,
    _met_standard_or_trajectory,
    _money,
    _Quarter,
    _quarter_element,
    quarter_number,
)
from fourhour.periods import quarter_containing

YEARS, _ = load_funding_rules()
Y2016 = YEARS["2016-17"]  # first quarter paid for agreeing a trajectory; ae_share 0.125


@pytest.mark.parametrize(
    ("perf", "trajectory", "tolerance", "route", "status"),
    [
        (95.0, None, 0.0, "standard", "earned"),  # at the standard meets it
        (94.99, None, 0.0, None, "withheld"),
        (90.0, 90.0, 0.0, "trajectory", "earned"),  # at the trajectory meets it
        (89.9, 90.0, 0.0, None, "withheld"),
        (89.9, 90.0, 0.5, "trajectory", "earned"),  # within the tolerance
        (96.0, 92.0, 0.0, "both", "earned"),
        (96.0, 97.0, 0.0, "standard", "earned"),
    ],
)
def test_met_standard_or_trajectory(
    perf: float, trajectory: float | None, tolerance: float, route: str | None, status: str
) -> None:
    year = dataclasses.replace(Y2016, trajectory_tolerance_points=tolerance)
    got = _met_standard_or_trajectory(perf, trajectory, year)
    assert (got["route"], got["status"]) == (route, status)
    assert got["met_trajectory"] is (
        None if trajectory is None else route in ("both", "trajectory")
    )


def _quarter(month: str) -> _Quarter:
    q = quarter_containing(pd.Timestamp(month).date())
    first = pd.Timestamp(q.start)
    months = [first + pd.DateOffset(months=i) for i in range(3)]
    return _Quarter(q, quarter_number(q), months, Y2016)


def test_first_quarter_is_paid_for_agreeing_a_trajectory() -> None:
    q1 = _quarter("2016-05-01")
    agreed = pd.Series([90.0], index=[pd.Timestamp("2016-04-01")])
    row = {"performance_pct": 70.0, "trajectory_pct": None}
    assert _decision(row, agreed, q1.months, q1)["route"] == "agreed_trajectory"
    none = _decision(row, agreed.iloc[:0], q1.months, q1)
    assert (none["status"], none["reason"]) == ("withheld", "no agreed trajectory")


def test_a_quarter_without_all_its_returns_is_not_assessable() -> None:
    q2 = _quarter("2016-08-01")
    row = {"performance_pct": 97.0, "trajectory_pct": None}
    got = _decision(row, pd.Series(dtype=float), q2.months[:2], q2)
    assert got == {"status": "not_assessable", "reason": "no returns for September 2016"}


def test_money() -> None:
    element = _quarter_element(4_000_000.0, Y2016)
    assert element == 4_000_000.0 * 0.125 / 4
    assert _money("earned", element) == {"earned_gbp": element, "withheld_gbp": 0.0}
    assert _money("withheld", element) == {"earned_gbp": 0.0, "withheld_gbp": element}
    assert _money("not_assessable", element) == {"earned_gbp": 0.0, "withheld_gbp": 0.0}
    assert _money("earned", None) == {"earned_gbp": None, "withheld_gbp": None}
    assert _quarter_element(None, Y2016) is None
