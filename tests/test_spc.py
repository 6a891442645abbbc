"""The SPC engine against hand-computed series: limits, each rule, gaps, rebasing, icons.

Every expected mean and limit below was worked out by hand (the arithmetic is in the comments)
rather than by re-running the engine's formula. Most series start from BASE, twelve points
alternating 10 and 12: mean 11 and every moving range 2, so with the baseline fixed on them
    UCL = 11 + 2.66 × 2 = 16.32       LCL = 11 − 2.66 × 2 = 5.68
    upper 2σ = 11 + 1.773 × 2 = 14.546   lower 2σ = 11 − 1.773 × 2 = 7.454
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourhour.errors import FourhourError
from fourhour.measures.spc import (
    CONCERN_COLUMNS,
    POINT_COLUMNS,
    PRESETS,
    SUMMARY_COLUMNS,
    VARIATION_ICONS,
    SpcInputError,
    SpcOptions,
    laney_p,
    xmr,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "spc.md"
START = pd.Timestamp("2024-01-07")  # a Sunday
BASE = [10.0, 12.0] * 6
FIXED = {"baseline_points": 12}
APPROX = {"abs": 1e-4}


def weekly(values: Sequence[float | None], code: str = "A") -> pd.DataFrame:
    """One organisation's weekly series from START; a None is a week with no row at all."""
    weeks = pd.date_range(START, periods=len(values), freq="W-SUN")
    rows = [(code, w, v) for w, v in zip(weeks, values, strict=True) if v is not None]
    return pd.DataFrame(rows, columns=["code", "period_end", "value"])


def chart(values: Sequence[float | None], target: float | None = None, **options: object):
    return xmr(weekly(values), freq="W-SUN", options=SpcOptions(**options), target=target)


def rules(result) -> list[str | None]:
    return result.points["rule"].tolist()


def flagged(result, rule: str) -> list[int]:
    """Positions (within the points) flagged with `rule`."""
    return [i for i, r in enumerate(rules(result)) if r == rule]


# ------------------------------------------------------------------------------ limits


def test_limits_by_hand() -> None:
    # 10, 12 eight times: mean 11; fifteen moving ranges of 2, mean MR 2.
    r = chart([10.0, 12.0] * 8)
    p = r.points
    assert p.columns.tolist() == POINT_COLUMNS
    assert p["mean"].iloc[0] == pytest.approx(11.0)
    assert p["ucl"].iloc[0] == pytest.approx(16.32)  # 11 + 2.66 × 2
    assert p["lcl"].iloc[0] == pytest.approx(5.68)  # 11 − 2.66 × 2
    assert p["upper_2s"].iloc[0] == pytest.approx(14.546)  # 11 + 1.773 × 2
    assert p["lower_2s"].iloc[0] == pytest.approx(7.454)  # 11 − 1.773 × 2
    assert p["moving_range"].isna().tolist() == [True] + [False] * 15
    assert (p["moving_range"].iloc[1:] == 2.0).all()
    assert rules(r) == [None] * 16
    assert (p["segment"] == 1).all() and (p["n_in_segment"] == 16).all()
    s = r.summary.iloc[0]
    assert r.summary.columns.tolist() == SUMMARY_COLUMNS
    assert (s["code"], s["n_points"], s["latest_value"]) == ("A", 16, 12.0)
    assert s["latest_period"] == START + pd.Timedelta(weeks=15)
    assert s["variation_icon"] == "common_cause"
    assert s["assurance_icon"] is None and s["note"] is None and s["gaps"] == []


def test_fixed_baseline_extends_limits() -> None:
    # Baseline fixed on BASE: mean 11, UCL 16.32; the eight later points all lie above it.
    values = BASE + [20.0, 22.0] * 4
    fixed = chart(values, **FIXED)
    assert fixed.points["ucl"].tolist() == pytest.approx([16.32] * 20)
    assert flagged(fixed, "astronomical") == list(range(12, 20))
    assert fixed.points["reason"].iloc[12] == "above upper limit 16.32"
    # Not fixed: mean (6 × 22 + 4 × 42) / 20 = 300 / 20 = 15; moving ranges 11 × 2, |20 − 12|
    # = 8 and 7 × 2: 44 over 19 = 2.315789; UCL = 15 + 2.66 × 2.315789 = 21.16, LCL = 8.84.
    free = chart(values)
    assert free.points["mean"].iloc[0] == pytest.approx(15.0)
    assert free.points["ucl"].iloc[0] == pytest.approx(21.16, **APPROX)
    assert free.points["lcl"].iloc[0] == pytest.approx(8.84, **APPROX)


def test_baseline_longer_than_the_series_uses_every_point() -> None:
    r = chart([10.0, 12.0] * 8, baseline_points=30)
    assert r.points["ucl"].iloc[0] == pytest.approx(16.32)


@pytest.mark.parametrize("n", [0, 11, -1])
def test_baseline_needs_twelve_points(n: int) -> None:
    with pytest.raises(ValueError, match="baseline_points must be at least 12"):
        SpcOptions(baseline_points=n)


def test_too_few_points_give_no_limits_flags_or_icons() -> None:
    # Twelve points, with a seven-point trend and a point far out: nothing is flagged.
    values = [10.0, 12.0, 10.0, 12.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 90.0]
    r = chart(values, target=5.0)
    p = r.points
    assert p[["mean", "ucl", "lcl", "upper_2s", "lower_2s"]].isna().all().all()
    assert rules(r) == [None] * 12
    assert p["moving_range"].notna().sum() == 11  # moving ranges are still reported
    s = r.summary.iloc[0]
    assert s["variation_icon"] is None and s["assurance_icon"] is None
    assert s["note"] == (
        "12 point(s) in the current segment, fewer than the 13 needed: "
        "no limits, special-cause flags or icons"
    )
    assert chart(values, min_points=12).points["ucl"].notna().all()


def test_moving_range_screening() -> None:
    # 10, 12 seven times then 30: mean 184 / 15 = 12.2667; moving ranges 13 × 2 and 18,
    # mean 44 / 14 = 3.142857. Unscreened UCL = 12.2667 + 2.66 × 3.142857 = 20.6267.
    # Screening drops 18 > 3.267 × 3.142857 = 10.268; mean MR 26 / 13 = 2, UCL 17.5867.
    values = [10.0, 12.0] * 7 + [30.0]
    plain, screened = chart(values), chart(values, screen_moving_ranges=True)
    assert plain.points["ucl"].iloc[0] == pytest.approx(20.6267, **APPROX)
    assert screened.points["ucl"].iloc[0] == pytest.approx(17.5867, **APPROX)
    assert screened.points["lcl"].iloc[0] == pytest.approx(12.2667 - 5.32, **APPROX)
    assert screened.points["moving_range"].iloc[-1] == 18.0  # reported, just not averaged
    assert flagged(plain, "astronomical") == flagged(screened, "astronomical") == [14]


# --------------------------------------------------------------------------- the rules


def test_a_point_on_a_limit_is_not_outside_it() -> None:
    on = chart([*BASE, 16.32, 11.0, 5.68], **FIXED)
    assert rules(on) == [None] * 15
    out = chart([*BASE, 16.33, 11.0, 5.67], **FIXED)
    assert flagged(out, "astronomical") == [12, 14]
    assert out.points["reason"].iloc[12] == "above upper limit 16.32"
    assert out.points["reason"].iloc[14] == "below lower limit 5.68"
    assert out.points["side"].iloc[[12, 14]].tolist() == ["high", "low"]
    assert out.points["special_cause"].iloc[[12, 14]].tolist() == ["improvement", "concern"]


def test_a_point_on_the_mean_breaks_a_run() -> None:
    # The last baseline point (12) starts a run above the mean of 11: 12, 12, 12, 12 is four,
    # 11 sits on the mean, then six more 12s.
    values = BASE + [12.0, 12.0, 12.0, 11.0] + [12.0] * 6
    assert rules(chart(values, **FIXED)) == [None] * 22
    six = chart(values, run_points=6, **FIXED)
    assert flagged(six, "shift") == list(range(16, 22))
    assert six.points["reason"].iloc[16] == "1st point of a run of 6 above the mean 11"
    assert six.points["reason"].iloc[21] == "6th point of a run of 6 above the mean 11"
    # With 12 instead of 11 the run is 11 long (positions 11 to 21), all flagged.
    unbroken = chart(BASE + [12.0] * 10, **FIXED)
    assert flagged(unbroken, "shift") == list(range(11, 22))
    assert unbroken.points["reason"].iloc[11] == "1st point of a run of 11 above the mean 11"


@pytest.mark.parametrize(("run_points", "expected"), [(6, list(range(12, 18))), (7, [])])
def test_six_and_seven_point_runs(run_points: int, expected: list[int]) -> None:
    # Six points below the mean of 11 (the baseline ends on 12, above it).
    values = BASE + [10.0] * 6 + [12.0]
    assert flagged(chart(values, run_points=run_points, **FIXED), "shift") == expected


def test_run_points_must_be_six_or_seven() -> None:
    with pytest.raises(SpcInputError, match="run_points must be 6 or 7"):
        SpcOptions(run_points=8)


def test_trend_of_seven_and_a_tie_breaking_it() -> None:
    # 10, 12 four times, then 9 to 15: fifteen points, sum 172, mean 11.4667; moving ranges
    # 7 × 2 + 3 + 6 × 1 = 23 over 14, 1.642857; UCL = 11.4667 + 2.66 × 1.642857 = 15.8367,
    # upper 2σ = 11.4667 + 1.773 × 1.642857 = 14.3795 (only 15 beyond it: no two-in-three).
    values = [10.0, 12.0] * 4 + [9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
    r = chart(values)
    assert r.points["ucl"].iloc[0] == pytest.approx(15.8367, **APPROX)
    assert r.points["upper_2s"].iloc[0] == pytest.approx(14.3795, **APPROX)
    assert rules(r) == [None] * 8 + ["trend"] * 7
    assert r.points["reason"].iloc[8] == "1st point of an upward trend of 7 points"
    assert r.points["reason"].iloc[14] == "7th point of an upward trend of 7 points"
    assert r.summary["variation_icon"].iloc[0] == "special_cause_improvement_high"
    tie = [10.0, 12.0] * 4 + [9.0, 10.0, 11.0, 11.0, 12.0, 13.0, 14.0]
    assert rules(chart(tie)) == [None] * 15


def test_downward_trend_is_concern_for_higher_is_better() -> None:
    values = [*BASE, 12.5, 12.0, 11.5, 11.0, 10.5, 10.0, 9.5]
    # 12 (the last baseline point) → 12.5 rises, so the fall starts at 12.5: 7 points.
    r = chart(values, **FIXED)
    assert flagged(r, "trend") == list(range(12, 19))
    assert set(r.points["special_cause"].iloc[12:]) == {"concern"}
    assert r.points["reason"].iloc[15] == "4th point of a downward trend of 7 points"
    assert r.summary["variation_icon"].iloc[0] == "special_cause_concern_low"


def test_trend_length_is_configurable() -> None:
    # 10, 12 (the end of the baseline), 12.5, 13, 13.5, 14: six points rising.
    values = [*BASE, 12.5, 13.0, 13.5, 14.0, 11.0]
    assert flagged(chart(values, **FIXED), "trend") == []
    assert flagged(chart(values, trend_points=6, **FIXED), "trend") == list(range(10, 16))


def test_two_in_three_after_and_before_november_2023() -> None:
    # 15 lies between 2σ (14.546) and 3σ (16.32); 17 lies beyond 3σ.
    values = [*BASE, 15.0, 11.0, 17.0, 11.0]
    post = chart(values, **FIXED)
    assert rules(post)[12:] == ["two_in_three", None, "astronomical", None]
    assert post.points["reason"].iloc[12] == (
        "two of three points above the upper two-sigma line 14.55"
    )
    pre = chart(values, two_in_three_beyond_3sigma=False, **FIXED)
    assert rules(pre)[12:] == [None, None, "astronomical", None]
    # Both between 2σ and 3σ: flagged under either rule; the point between them is not.
    both = [*BASE, 15.0, 11.0, 15.0, 11.0]
    for post_2023 in (True, False):
        r = chart(both, two_in_three_beyond_3sigma=post_2023, **FIXED)
        assert rules(r)[12:] == ["two_in_three", None, "two_in_three", None]


def test_two_in_three_needs_the_same_side_and_three_consecutive_points() -> None:
    opposite = [*BASE, 15.0, 7.0, 11.0]  # 7 < lower 2σ 7.454, but on the other side
    assert rules(chart(opposite, **FIXED))[12:] == [None, None, None]
    apart = [*BASE, 15.0, 11.0, 11.0, 15.0]  # four points apart: not within three
    assert rules(chart(apart, **FIXED))[12:] == [None] * 4
    low = [*BASE, 7.0, 7.2, 11.0]
    r = chart(low, **FIXED)
    assert rules(r)[12:] == ["two_in_three", "two_in_three", None]
    assert r.points["reason"].iloc[12] == "two of three points below the lower two-sigma line 7.454"


def test_priority_when_rules_overlap() -> None:
    # Seven points above the mean, the last also above the UCL: it is astronomical, the
    # other six (with the 12 that ends the baseline, a run of 8) are a shift.
    r = chart(BASE + [12.0] * 6 + [17.0], **FIXED)
    assert rules(r)[11:] == ["shift"] * 7 + ["astronomical"]
    assert r.points["reason"].iloc[11] == "1st point of a run of 8 above the mean 11"
    # A rising trend that is also a run above the mean: the trend wins where both apply; the
    # baseline's last 12 is only in the run (it starts the run of 8, not the trend).
    r = chart([*BASE, 11.5, 12.0, 12.5, 13.0, 13.5, 14.0, 14.5], **FIXED)
    assert rules(r)[11:] == ["shift"] + ["trend"] * 7


def test_peak_point_belongs_to_the_trend_it_completes() -> None:
    up = [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    r = chart(BASE + up + up[-2::-1], **FIXED)  # 5 … 11 … 5: the peak ends the rise
    peak = 12 + 6
    assert r.points["reason"].iloc[peak] == "7th point of an upward trend of 7 points"
    assert r.points["reason"].iloc[peak + 1] == "2nd point of a downward trend of 7 points"


def test_series_stuck_at_one_hundred_percent() -> None:
    # Every moving range 0: the limits collapse onto the mean; nothing is flagged.
    r = chart([100.0] * 20, target=95.0)
    p = r.points
    assert (p[["mean", "ucl", "lcl", "upper_2s", "lower_2s"]] == 100.0).all().all()
    assert rules(r) == [None] * 20
    s = r.summary.iloc[0]
    assert (s["variation_icon"], s["assurance_icon"]) == ("common_cause", "pass")
    assert s["note"] == "no variation in the baseline: the limits collapse onto the mean"
    # After a fixed flat baseline any departure is outside the collapsed limits.
    dip = chart([100.0] * 12 + [100.0, 99.5, 100.0], **FIXED)
    assert rules(dip)[12:] == [None, "astronomical", None]
    assert dip.points["reason"].iloc[13] == "below lower limit 100"


# ------------------------------------------------------------------------ gaps, segments


def test_a_gap_breaks_runs_and_is_reported() -> None:
    # Runs of 12 above the mean of 11: the baseline's last 12 and three more, a missing week,
    # then four: 4 + 4, neither reaching 7 (with the week present it would be one run of 9).
    values = BASE + [12.0] * 3 + [None] + [12.0] * 4
    r = chart(values, **FIXED)
    assert rules(r) == [None] * 19
    p = r.points
    assert p["after_gap"].tolist() == [False] * 15 + [True] + [False] * 3
    assert np.isnan(p["moving_range"].iloc[15])
    missing = START + pd.Timedelta(weeks=15)
    assert r.summary["gaps"].iloc[0] == [missing]
    assert r.summary["note"].iloc[0] == "1 missing period(s)"
    # Without a frequency the engine cannot see the gap and the run continues.
    blind = xmr(weekly(values), options=SpcOptions(**FIXED))
    assert flagged(blind, "shift") == list(range(11, 19))
    assert not blind.points["after_gap"].any() and blind.summary["gaps"].iloc[0] == []


def test_no_moving_range_across_a_gap() -> None:
    # 10, 12, 10, 12, 10, 12, (gap), 16, 12, 10, 12, 10, 12, 10: 13 points, sum 148, mean
    # 11.3846. Moving ranges: five 2s, then (none across the gap) |12 − 16| = 4 and five 2s:
    # 24 over 11 = 2.1818. UCL = 11.3846 + 2.66 × 2.1818 = 17.1883, LCL = 5.5810.
    # (Across the gap, |16 − 12| = 4 more would give 28 / 12 = 2.3333.)
    values = [10.0, 12.0, 10.0, 12.0, 10.0, 12.0, None, 16.0, 12.0, 10.0, 12.0, 10.0, 12.0, 10.0]
    p = chart(values).points
    assert p["mean"].iloc[0] == pytest.approx(11.3846, **APPROX)
    assert p["ucl"].iloc[0] == pytest.approx(17.1883, **APPROX)
    assert p["lcl"].iloc[0] == pytest.approx(5.5810, **APPROX)


def test_a_gap_breaks_trends_and_two_in_three() -> None:
    rising = [*BASE, 9.0, 10.0, 11.0, None, 12.0, 13.0, 14.0, 15.5]
    assert flagged(chart(rising, **FIXED), "trend") == []
    near = [*BASE, 15.0, None, None, 15.0]  # two periods apart in the data, four in time
    assert flagged(chart(near, **FIXED), "two_in_three") == []


def test_rows_without_a_value_count_as_missing() -> None:
    frame = weekly([*BASE, 12.0, 12.0])
    frame.loc[5, "value"] = np.nan
    r = xmr(frame, freq="W-SUN")
    assert len(r.points) == 13
    assert r.summary["gaps"].iloc[0] == [START + pd.Timedelta(weeks=5)]
    assert r.summary["note"].iloc[0] == "1 missing period(s); 1 row(s) without a value left out"


def test_monthly_gaps_with_month_end_dates() -> None:
    ends = pd.to_datetime(["2024-01-31", "2024-02-29", "2024-04-30", "2024-05-31"]).date
    frame = pd.DataFrame({"code": "A", "period_end": ends, "value": [1.0, 2.0, 3.0, 4.0]})
    for freq in ("ME", "M"):
        r = xmr(frame, freq=freq)
        assert r.summary["gaps"].iloc[0] == [dt.date(2024, 3, 31)]  # dates in, dates out
        assert r.points["after_gap"].tolist() == [False, False, True, False]
        assert r.points["period_end"].tolist() == list(ends)
    starts = pd.DataFrame(
        {"code": "A", "period_end": pd.to_datetime(["2024-01-01", "2024-03-01"]), "value": 1.0}
    )
    assert xmr(starts, freq="MS").summary["gaps"].iloc[0] == [pd.Timestamp("2024-02-01")]


def test_two_rows_in_one_period_are_refused() -> None:
    frame = pd.DataFrame(
        {"code": "A", "period_end": pd.to_datetime(["2024-01-07", "2024-01-10"]), "value": 1.0}
    )
    with pytest.raises(SpcInputError, match="two rows in the same W-SUN period"):
        xmr(frame, freq="W-SUN")


def test_rebase_starts_new_limits() -> None:
    # Fourteen weeks of 9, 11 then fourteen of 19, 21, rebased from a Wednesday before week 15:
    # segment 1 mean 10, MRs 2, UCL 15.32; segment 2 mean 20, UCL 25.32, LCL 14.68.
    values = [9.0, 11.0] * 7 + [19.0, 21.0] * 7
    wednesday = (START + pd.Timedelta(weeks=14) - pd.Timedelta(days=4)).date()
    r = xmr(weekly(values), freq="W-SUN", rebase={"A": [wednesday], "ZZZ": [wednesday]})
    p = r.points
    assert p["segment"].tolist() == [1] * 14 + [2] * 14
    assert p["n_in_segment"].tolist() == [14] * 28
    assert p["ucl"].iloc[0] == pytest.approx(15.32) and p["ucl"].iloc[14] == pytest.approx(25.32)
    assert p["lcl"].iloc[14] == pytest.approx(14.68)
    assert np.isnan(p["moving_range"].iloc[14])
    assert rules(r) == [None] * 28
    assert r.summary["note"].iloc[0] == "limits from segment 2 (rebased)"
    assert r.summary["mean"].iloc[0] == pytest.approx(20.0)
    # Not rebased: mean 15, moving ranges 26 × 2 and 8: 60 / 27 = 2.2222; limits
    # 15 ± 5.9111 and two-sigma lines 15 ± 3.94: every 9 and 21 is outside the limits and every
    # 11 and 19 beyond a two-sigma line next to one of them.
    unrebased = xmr(weekly(values), freq="W-SUN")
    assert unrebased.points["ucl"].iloc[0] == pytest.approx(20.9111, **APPROX)
    assert unrebased.points["rule"].notna().all()
    # A rebase date on or before the first period changes nothing.
    early = xmr(weekly(values), freq="W-SUN", rebase={"A": [dt.date(2020, 1, 1)]})
    assert early.points.equals(unrebased.points)


def test_a_short_new_segment_has_no_limits() -> None:
    values = [9.0, 11.0] * 7 + [19.0, 21.0] * 3
    r = xmr(weekly(values), rebase={"A": [START + pd.Timedelta(weeks=14)]})
    assert r.points["ucl"].iloc[:14].notna().all() and r.points["ucl"].iloc[14:].isna().all()
    assert r.summary["variation_icon"].iloc[0] is None
    assert r.summary["note"].iloc[0] == (
        "6 point(s) in the current segment (segment 2, rebased), fewer than the 13 needed: "
        "no limits, special-cause flags or icons"
    )


# ----------------------------------------------------------------- directions and icons


def test_lower_is_better_and_neutral_measures() -> None:
    values = [*BASE, 11.0, 17.0]
    down = chart(values, improvement="down", **FIXED)
    assert down.points["special_cause"].iloc[13] == "concern"
    assert down.summary["variation_icon"].iloc[0] == "special_cause_concern_high"
    neutral = chart(values, improvement="neutral", target=20.0, **FIXED)
    assert neutral.points["special_cause"].iloc[13] == "neither"
    assert neutral.summary["variation_icon"].iloc[0] == "special_cause_neither_high"
    assert neutral.summary["assurance_icon"].iloc[0] is None
    assert neutral.summary["note"].iloc[0] == "no assurance icon for a neutral measure"
    up = chart(values, **FIXED)
    assert up.summary["variation_icon"].iloc[0] == "special_cause_improvement_high"
    low = chart([*BASE, 5.0], improvement="down", **FIXED)
    assert low.summary["variation_icon"].iloc[0] == "special_cause_improvement_low"


@pytest.mark.parametrize(
    ("improvement", "target", "icon"),
    [
        ("up", 17.0, "fail"),  # the target is above the UCL of 16.32: never reached
        ("up", 5.0, "pass"),  # below the LCL of 5.68: always met
        ("up", 11.0, "hit_and_miss"),
        ("up", 16.32, "hit_and_miss"),  # on the limit is inside
        ("up", 5.68, "hit_and_miss"),
        ("down", 17.0, "pass"),
        ("down", 5.0, "fail"),
        ("down", 11.0, "hit_and_miss"),
        ("neutral", 17.0, None),
        ("up", None, None),
    ],
)
def test_assurance_icons(improvement: str, target: float | None, icon: str | None) -> None:
    r = chart([10.0, 12.0] * 8, target=target, improvement=improvement)
    assert r.summary["assurance_icon"].iloc[0] == icon


def test_target_by_organisation() -> None:
    frame = pd.concat([weekly([10.0, 12.0] * 8, "A"), weekly([10.0, 12.0] * 8, "B")])
    r = xmr(frame, target=pd.Series({"A": 17.0, "C": 1.0}))
    assert r.summary["target"].tolist()[0] == 17.0 and np.isnan(r.summary["target"].iloc[1])
    assert r.summary["assurance_icon"].tolist() == ["fail", None]


# ------------------------------------------------------------------------------ Laney p′


def test_laney_p_prime_by_hand() -> None:
    # within / attendances: 900/1000, 1640/2000, 870/1000, 1750/2000 (p = .90 .82 .87 .875).
    # p̄ = 5160 / 6000 = 0.86; p̄(1 − p̄) = 0.1204.
    # σ_p = sqrt(0.1204 / 1000) = 0.0109727 and sqrt(0.1204 / 2000) = 0.0077589.
    # z = 0.04 / 0.0109727 = 3.64541, −0.04 / 0.0077589 = −5.15539,
    #     0.01 / 0.0109727 = 0.91135, 0.015 / 0.0077589 = 1.93327.
    # |Δz| = 8.80081, 6.06675, 1.02192: mean 5.29649; σ_z = 5.29649 / 1.128 = 4.69547.
    # n = 1000: 3 σ_p σ_z = 0.154566: UCL 1.014566 → clipped to 1 (100%), LCL 0.705434;
    #           2 σ_p σ_z = 0.103044: 0.963044 and 0.756956.
    # n = 2000: 3 σ_p σ_z = 0.109295: UCL 0.969295, LCL 0.750705; 2σ 0.932863, 0.787137.
    frame = pd.DataFrame(
        {
            "code": "A",
            "period_end": pd.date_range(START, periods=4, freq="W-SUN"),
            "within": [900, 1640, 870, 1750],
            "attendances": [1000, 2000, 1000, 2000],
        }
    )
    options = SpcOptions(min_points=4)
    r = laney_p(frame, numerator="within", denominator="attendances", options=options)
    p = r.points
    assert p.columns.tolist() == [*POINT_COLUMNS, "numerator", "denominator"]
    assert p["value"].tolist() == pytest.approx([90.0, 82.0, 87.0, 87.5])
    assert p["mean"].tolist() == pytest.approx([86.0] * 4)
    assert p["ucl"].tolist() == pytest.approx([100.0, 96.9295, 100.0, 96.9295], **APPROX)
    assert p["lcl"].tolist() == pytest.approx([70.5434, 75.0705, 70.5434, 75.0705], **APPROX)
    assert p["upper_2s"].tolist() == pytest.approx([96.3044, 93.2863, 96.3044, 93.2863], **APPROX)
    assert p["lower_2s"].tolist() == pytest.approx([75.6956, 78.7137, 75.6956, 78.7137], **APPROX)
    assert p["moving_range"].iloc[1:].tolist() == pytest.approx(
        [8.80081, 6.06675, 1.02192], **APPROX
    )
    assert rules(r) == [None] * 4
    as_proportion = laney_p(
        frame, numerator="within", denominator="attendances", options=options, percent=False
    )
    assert as_proportion.points["lcl"].iloc[1] == pytest.approx(0.750705, **APPROX)
    assert as_proportion.points["ucl"].iloc[0] == 1.0


def test_laney_stuck_at_one_hundred_percent_and_bad_counts() -> None:
    weeks = pd.date_range(START, periods=15, freq="W-SUN")
    frame = pd.DataFrame({"code": "A", "period_end": weeks, "num": 500, "den": 500})
    r = laney_p(frame, numerator="num", denominator="den", target=95.0)
    assert (r.points[["mean", "ucl", "lcl"]] == 100.0).all().all()
    assert rules(r) == [None] * 15 and r.summary["assurance_icon"].iloc[0] == "pass"
    frame.loc[3, ["num", "den"]] = 0  # no attendances, no proportion: left out as missing
    assert len(laney_p(frame, numerator="num", denominator="den").points) == 14
    frame.loc[4, "num"] = 600
    with pytest.raises(SpcInputError, match="not the counts of a proportion"):
        laney_p(frame, numerator="num", denominator="den")


# ---------------------------------------------------------------- several organisations


def test_columns_are_renamed_and_the_escalation_hook() -> None:
    frame = pd.concat([weekly([*BASE, 17.0], "RX1"), weekly([*BASE, 5.0], "RX2")])
    frame = frame.rename(columns={"code": "org_code", "period_end": "week", "value": "pct"})
    r = xmr(frame, value="pct", org="org_code", period="week", options=SpcOptions(**FIXED))
    assert r.points["code"].unique().tolist() == ["RX1", "RX2"]
    hook = r.concern()
    assert hook.columns.tolist() == CONCERN_COLUMNS and len(hook) == 26
    latest = r.concern(latest=True)
    assert latest["code"].tolist() == ["RX1", "RX2"]
    assert latest["concern"].tolist() == [False, True]
    assert latest["reason"].tolist() == ["above upper limit 16.32", "below lower limit 5.68"]


def test_input_errors() -> None:
    frame = weekly(BASE)
    with pytest.raises(SpcInputError, match="no column 'pct'") as info:
        xmr(frame, value="pct")
    assert isinstance(info.value, FourhourError) and info.value.hint
    with pytest.raises(SpcInputError, match="more than one row"):
        xmr(pd.concat([frame, frame]))
    with pytest.raises(SpcInputError, match="not a frequency"):
        xmr(frame, freq="fortnightly-ish")
    with pytest.raises(SpcInputError, match="improvement must be one of"):
        SpcOptions(improvement="sideways")  # type: ignore[arg-type]


def test_empty_frame() -> None:
    r = xmr(pd.DataFrame({"code": [], "period_end": pd.to_datetime([]), "value": []}))
    assert r.points.columns.tolist() == POINT_COLUMNS and r.points.empty
    assert r.summary.columns.tolist() == SUMMARY_COLUMNS and r.summary.empty


OPTIONS = st.builds(
    SpcOptions,
    improvement=st.sampled_from(["up", "down", "neutral"]),
    min_points=st.none() | st.integers(1, 15),
    baseline_points=st.none() | st.integers(12, 20),
    trend_points=st.integers(3, 8),
    run_points=st.sampled_from([6, 7]),
    two_in_three_beyond_3sigma=st.booleans(),
    screen_moving_ranges=st.booleans(),
    preset=st.sampled_from(PRESETS),
)
SERIES = st.lists(st.none() | st.integers(0, 6).map(float), min_size=0, max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    series=st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), SERIES, min_size=1),
    options=OPTIONS,
    rebase_week=st.none() | st.integers(0, 40),
    seed=st.integers(0, 2**16),
)
def test_several_organisations_at_once_match_each_alone(
    series: dict[str, list[float | None]],
    options: SpcOptions,
    rebase_week: int | None,
    seed: int,
) -> None:
    frames = [weekly(v, code) for code, v in series.items()]
    frame = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    frame = frame.sample(frac=1.0, random_state=seed)  # row order must not matter
    rebase = None
    if rebase_week is not None:
        rebase = {"B": [(START + pd.Timedelta(weeks=rebase_week)).date()]}
    together = xmr(frame, freq="W-SUN", options=options, target=3.0, rebase=rebase)
    assert together.points["code"].is_monotonic_increasing
    for code in series:
        alone = xmr(
            frame[frame["code"] == code], freq="W-SUN", options=options, target=3.0, rebase=rebase
        )
        mine = together.points[together.points["code"] == code].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone.points)
        row = together.summary[together.summary["code"] == code].reset_index(drop=True)
        pd.testing.assert_frame_equal(row, alone.summary)
        p = alone.points.dropna(subset=["ucl"])
        assert (p["lcl"] <= p["lower_2s"]).all() and (p["upper_2s"] <= p["ucl"]).all()
        assert (p["lower_2s"] <= p["mean"]).all() and (p["mean"] <= p["upper_2s"]).all()


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(0, 100, allow_nan=False), min_size=13, max_size=60))
def test_laney_agrees_on_the_centre_line_and_orders_its_lines(values: list[float]) -> None:
    den = np.full(len(values), 1000.0)
    num = np.round(np.asarray(values) * 10)
    weeks = pd.date_range(START, periods=len(values), freq="W-SUN")
    frame = pd.DataFrame({"code": "A", "period_end": weeks, "n": num, "d": den})
    p = laney_p(frame, numerator="n", denominator="d").points
    assert p["mean"].iloc[0] == pytest.approx(num.sum() / den.sum() * 100)
    assert ((p["lcl"] >= 0) & (p["ucl"] <= 100)).all()
    assert (p["lcl"] <= p["lower_2s"]).all() and (p["upper_2s"] <= p["ucl"]).all()


def test_the_example_in_the_docs_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "docs/spc.md should show how to call the engine"
    namespace: dict[str, object] = {}
    exec(blocks[0], namespace)
    # Values 88 … 91.5 then 80, 79: sum 1766 over 20, mean 88.3; moving ranges sum 57 over
    # 19, mean 3; LCL = 88.3 − 2.66 × 3 = 80.32, and 79 lies below it.
    latest = namespace["result"].concern(latest=True)
    assert latest["concern"].tolist() == [True]
    assert latest["reason"].tolist() == ["below lower limit 80.32"]


# ----------------------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.slow
def test_weekly_provider_performance_from_real_data(real_warehouse) -> None:
    con = duckdb.connect(str(real_warehouse), read_only=True)
    try:
        frame = con.execute(
            """SELECT org_code AS code, period_end,
                      100.0 * (att_type1 - br_type1) / att_type1 AS value
               FROM provider_returns
               WHERE granularity = 'week' AND att_type1 > 0"""
        ).df()
    finally:
        con.close()
    assert frame["code"].nunique() > 100
    start = time.perf_counter()
    r = xmr(frame, freq="W-SUN", target=95.0)
    assert time.perf_counter() - start < 1.0
    assert len(r.points) == len(frame) and len(r.summary) == frame["code"].nunique()
    enough = r.points["n_in_segment"] >= 13
    assert r.points.loc[enough, "ucl"].notna().all()
    assert r.points.loc[~enough, "ucl"].isna().all()
    assert set(r.points["rule"].dropna()) <= {"astronomical", "trend", "two_in_three", "shift"}
    assert set(r.summary["assurance_icon"].dropna()) <= {"pass", "fail", "hit_and_miss"}
    assert set(r.summary["variation_icon"].dropna()) <= set(VARIATION_ICONS)
