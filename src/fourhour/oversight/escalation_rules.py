"""The escalation rules, each a named record: its name (as in the rules file), what it checks
in words, how it is evaluated over a scoring window, and the evidence line a summons shows when
it fires.

A rule's evaluation reads a ScoringWindow (every system's figures over the window, their
performance series by period, and the SPC and forecast signals) and its own settings, and
returns, per system, whether it fires. Scoring (escalation.score_period) adds the weights of
the enabled rules that fire.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fourhour.measures.spc import SpcOptions, xmr
from fourhour.oversight.config import EscalationRules, Rule

UNITS = {"week": "weeks", "month": "months", "quarter": "quarters"}


@dataclass(frozen=True)
class ScoringWindow:
    """What the rules read for the window ending at period index j."""

    figures: pd.DataFrame  # per system: perf, perf_ly, change, dta12 (NaN where none)
    series: pd.DataFrame  # performance (%) by system x period, every period up to the last
    j: int  # the window's last period (a column of series)
    rules: EscalationRules
    spc_concern: pd.Series  # per system: a special cause of concern at period j
    forecast_miss: pd.Series  # per system: the forecast's miss flag (given by the caller)


@dataclass(frozen=True)
class EscalationRule:
    name: str
    checks: str  # what fires it, in words
    evaluate: Callable[[ScoringWindow, Rule], pd.Series]  # per system: fired?
    detail: Callable[[Mapping[Hashable, Any], EscalationRules], str]  # a fired rule's evidence


def _has_figure(w: ScoringWindow) -> pd.Series:
    return w.figures["perf"].notna()


def below_standard(w: ScoringWindow, rule: Rule) -> pd.Series:
    return _has_figure(w) & (w.figures["perf"] < w.rules.standard_pct)


def below_floor(w: ScoringWindow, rule: Rule) -> pd.Series:
    return _has_figure(w) & (w.figures["perf"] < rule.params["floor_pct"])


def yoy_deterioration(w: ScoringWindow, rule: Rule) -> pd.Series:
    change = w.figures["change"]
    return change.notna() & (-change >= rule.params["points"])


def sustained_decline(w: ScoringWindow, rule: Rule) -> pd.Series:
    """Performance fell from each period to the next over the last decline_periods periods
    (a period without a figure breaks the run)."""
    d, j, series = w.rules.decline_periods, w.j, w.series
    falling = pd.Series(j - d >= 0, index=w.figures.index)
    for k in range(d):
        if j - k - 1 < 0:
            falling &= False
            break
        now, before = series.iloc[:, j - k], series.iloc[:, j - k - 1]
        falling &= (now < before).fillna(False)
    return falling.reindex(w.figures.index, fill_value=False)


def trolley_waits_12h(w: ScoringWindow, rule: Rule) -> pd.Series:
    dta12 = w.figures["dta12"]
    return dta12.notna() & (dta12 >= rule.params["min_waits"])


def special_cause(w: ScoringWindow, rule: Rule) -> pd.Series:
    return w.spc_concern


def forecast_miss(w: ScoringWindow, rule: Rule) -> pd.Series:
    """Forward-looking (fourhour.forecast.outlook.forecast_miss_systems): fired per system
    when the caller passes it to evaluate(); never fires otherwise."""
    return w.forecast_miss


def _below_standard_detail(row: Mapping[Hashable, Any], rules: EscalationRules) -> str:
    return f"{row['perf']:.1f}% within four hours, below the {rules.standard_pct:g}% standard"


def _below_floor_detail(row: Mapping[Hashable, Any], rules: EscalationRules) -> str:
    floor = rules.rules["below_floor"].params["floor_pct"]
    return f"{row['perf']:.1f}% within four hours, below the {floor:g}% floor"


def _yoy_detail(row: Mapping[Hashable, Any], rules: EscalationRules) -> str:
    return (
        f"{-row['change']:.1f} points worse than the same {UNITS[rules.granularity]} a year "
        f"earlier ({row['perf_ly']:.1f}%)"
    )


def _decline_detail(row: Mapping[Hashable, Any], rules: EscalationRules) -> str:
    return (
        f"performance fell in each of the last {rules.decline_periods} {UNITS[rules.granularity]}"
    )


def _trolley_detail(row: Mapping[Hashable, Any], rules: EscalationRules) -> str:
    return f"{int(row['dta12'])} waits of over 12 hours from decision to admit"


def _special_cause_detail(row: Mapping[Hashable, Any], rules: EscalationRules) -> str:
    return f"SPC special cause of concern: {row.get('spc_reason') or 'signal at the latest period'}"


def _forecast_detail(row: Mapping[Hashable, Any], rules: EscalationRules) -> str:
    p = rules.rules["forecast_miss"].params
    return (
        f"the forecast gives at least a {p['min_probability']:.0%} chance of missing this "
        f"winter's target (the trajectory, else {p['interim_pct']:g}%)"
    )


RULES: tuple[EscalationRule, ...] = (
    EscalationRule(
        "below_standard",
        "window performance below the standard (standard_pct)",
        below_standard,
        _below_standard_detail,
    ),
    EscalationRule(
        "below_floor", "window performance below floor_pct", below_floor, _below_floor_detail
    ),
    EscalationRule(
        "yoy_deterioration",
        "window performance at least `points` below the same window a year earlier",
        yoy_deterioration,
        _yoy_detail,
    ),
    EscalationRule(
        "sustained_decline",
        "performance fell in each of the last decline periods (weeks, months, quarters)",
        sustained_decline,
        _decline_detail,
    ),
    EscalationRule(
        "trolley_waits_12h",
        "at least min_waits waits of over 12 hours from decision to admit in the window",
        trolley_waits_12h,
        _trolley_detail,
    ),
    EscalationRule(
        "special_cause",
        "an SPC special cause of concern at the latest period (XmR, min_points points)",
        special_cause,
        _special_cause_detail,
    ),
    EscalationRule(
        "forecast_miss",
        "the winter forecast's chance of missing the target at least min_probability",
        forecast_miss,
        _forecast_detail,
    ),
)
BY_NAME = {r.name: r for r in RULES}  # in the order of config.RULE_NAMES (a test checks)


def spc_concern(perf: pd.DataFrame, j: int, min_points: int, freq: str) -> pd.DataFrame:
    """Special cause of concern at period j, from each system's series up to period j."""
    history = perf.iloc[:, : j + 1]
    stacked = history.stack(future_stack=True)
    assert isinstance(stacked, pd.Series)  # one level of columns: stack() gives a Series
    long = stacked.rename("value").reset_index()
    long.columns = ["code", "period_end", "value"]
    long = long[long["value"].notna()]
    if long.empty:
        return pd.DataFrame(columns=["concern", "reason"])
    result = xmr(long, freq=freq, options=SpcOptions(improvement="up", min_points=min_points))
    latest = result.points[result.points["period_end"] == history.columns[-1]]
    return pd.DataFrame(
        {
            "concern": (latest["special_cause"] == "concern").to_numpy(),
            "reason": latest["reason"].to_numpy(),
        },
        index=latest["code"].to_numpy(),
    )
