"""The two SPC presets side by side: Making Data Count (the default) and NHSRplotthedots 0.2.2.

Expected values come from the package's own tests and vignettes where they exist (the
`set.seed(123); rnorm(20)` series of tests/testthat/test-ptd_spc_standard.R and its snapshots;
the screened-limits example of vignettes/deviations.Rmd) and are otherwise worked out by hand
from the package's R source (R/ptd_spc_standard.R, R/ptd_calculate_point_type.R,
R/ptd_calculate_assurance_type.R, R/geom_ptd_icon.R), with the arithmetic in the comments.

BASE is twelve points alternating 10 and 12 (mean 11, every moving range 2). With the limits
fixed on it, both presets give UCL 16.32 and LCL 5.68 (screening keeps every moving range of 2,
below 3.267 × 2); the two-sigma lines are 11 ± 1.773 × 2 = 14.546 / 7.454 (Making Data Count)
and 11 ± 2 × 2.66 / 3 × 2 = 14.54667 / 7.45333 (NHSRplotthedots).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourhour.errors import InvalidInputError, QueryError
from fourhour.measures.spc import (
    DEFAULT_PRESET,
    PRESET_RULES,
    PRESETS,
    SpcInputError,
    SpcOptions,
    xmr,
)

START = pd.Timestamp("2024-01-07")  # a Sunday
BASE = [10.0, 12.0] * 6
MDC, PTD = "making-data-count", "nhsrplotthedots"
APPROX = {"abs": 1e-4}
ZERO_SCREENED = "no moving range to set limits from: every one is 0 and screened out"
# R: set.seed(123); rnorm(20), as printed to eight decimals (the package's test data).
RNORM = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774,
    1.71506499, 0.46091621, -1.26506123, -0.68685285, -0.44566197,
    1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113,
    1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141,
]  # fmt: skip


def weekly(values: Sequence[float | None], code: str = "A") -> pd.DataFrame:
    """One organisation's weekly series from START; None is a week with no row."""
    weeks = pd.date_range(START, periods=len(values), freq="W-SUN")
    rows = [(code, w, v) for w, v in zip(weeks, values, strict=True) if v is not None]
    return pd.DataFrame(rows, columns=["code", "period_end", "value"])


def chart(values, preset: str, target=None, freq: str | None = "W-SUN", **options):
    return xmr(
        weekly(values), freq=freq, options=SpcOptions(preset=preset, **options), target=target
    )


def rules(result) -> list[str | None]:
    return result.points["rule"].tolist()


# ------------------------------------------------------------------------------ options


def test_presets_and_their_defaults() -> None:
    assert PRESETS == (MDC, PTD) and DEFAULT_PRESET == MDC
    mdc, ptd = SpcOptions(), SpcOptions(preset=PTD)
    assert (mdc.min_points, mdc.screen_moving_ranges, mdc.two_in_three_beyond_3sigma) == (
        13,
        False,
        True,
    )
    assert (ptd.min_points, ptd.screen_moving_ranges, ptd.two_in_three_beyond_3sigma) == (
        1,
        True,
        False,
    )
    assert PRESET_RULES[PTD].near_factor == pytest.approx(1.773333333)
    # An option given explicitly wins over the preset's default, like ptd_spc(screen_outliers=).
    assert SpcOptions(preset=PTD, screen_moving_ranges=False).screen_moving_ranges is False
    assert SpcOptions(preset=PTD) == SpcOptions(preset=PTD, screen_moving_ranges=True)


def test_an_unknown_preset_is_invalid_input_not_a_missing_result() -> None:
    with pytest.raises(SpcInputError, match="preset must be one of making-data-count") as info:
        SpcOptions(preset="excel")
    assert isinstance(info.value, InvalidInputError) and not isinstance(info.value, QueryError)
    assert info.value.exit_code == 2 and info.value.hint
    with pytest.raises(SpcInputError, match="screen_moving_ranges must be True or False"):
        SpcOptions(screen_moving_ranges="yes")  # type: ignore[arg-type]


# ---------------------------------------------------------- the package's own expectations


@pytest.mark.parametrize(
    ("change", "screen", "mean", "lcl", "ucl"),
    [
        # tests/testthat/_snaps/ptd_spc_standard.md, r1, r2 and r3.
        (None, True, 0.1416238, -3.01138, 3.294627),
        (10.0, True, 0.6694159, -2.383666, 3.722497),
        (10.0, False, 0.6694159, -4.596625, 5.935457),
    ],
)
def test_limits_match_the_package_snapshots(change, screen, mean, lcl, ucl) -> None:
    values = list(RNORM)
    if change is not None:
        values[14] = change  # data$y[15] <- 10
    r = chart(values, PTD, freq=None, screen_moving_ranges=screen)
    first = r.points.iloc[0]
    assert first["mean"] == pytest.approx(mean, rel=1e-6)
    assert first["lcl"] == pytest.approx(lcl, rel=1e-6)
    assert first["ucl"] == pytest.approx(ucl, rel=1e-6)
    assert rules(r) == [None] * 20 if change is None else rules(r).count(None) == 19


def test_facets_match_the_package_summary_snapshot() -> None:
    # tests/testthat/_snaps/ptd_spc.md: facet 0 = the first ten points, facet 1 the rest.
    frame = pd.concat([weekly(RNORM[:10], "0"), weekly(RNORM[10:], "1")])
    s = xmr(frame, options=SpcOptions(preset=PTD)).summary
    assert s["mean"].round(4).tolist() == [0.0746, 0.2086]
    assert s["lcl"].round(2).tolist() == [-2.60, -3.28]
    assert s["ucl"].round(2).tolist() == [2.75, 3.70]
    assert s["variation_icon"].tolist() == ["common_cause", "common_cause"]
    assert (
        s["note"].tolist()
        == ["10 point(s) in the current segment, fewer than 13: trial limits"] * 2
    )


@pytest.mark.parametrize(
    ("screen", "ucl", "lcl"), [(True, 4.6044, -0.7156), (False, 6.9515, -3.0626)]
)
def test_the_deviations_vignette_example(screen: bool, ucl: float, lcl: float) -> None:
    # 1, 2, 1, 2, 10, then 1, 2 alternating: 18 points, sum 35, mean 1.9444. Moving ranges
    # 1, 1, 1, 8, 9 and twelve 1s: 32 / 17 = 1.88235. Screening drops 8 and 9 (above
    # 3.267 × 1.88235 = 6.1496): 15 / 15 = 1, limits 1.9444 ± 2.66 (the vignette: 4.6, −0.72);
    # without it 1.9444 ± 5.0071 (the vignette: 6.95, −3.06). Only the 10 is special either way.
    values = [1.0, 2.0, 1.0, 2.0, 10.0] + [1.0, 2.0] * 6 + [1.0]
    r = chart(values, PTD, freq=None, screen_moving_ranges=screen)
    assert r.points["mean"].iloc[0] == pytest.approx(1.9444, **APPROX)
    assert r.points["ucl"].iloc[0] == pytest.approx(ucl, **APPROX)
    assert r.points["lcl"].iloc[0] == pytest.approx(lcl, **APPROX)
    assert rules(r) == [None] * 4 + ["astronomical"] + [None] * 13
    assert r.points["special_cause"].iloc[4] == "improvement"
    # Making Data Count does not screen: its limits are the unscreened ones.
    assert chart(values, MDC, freq=None).points["ucl"].iloc[0] == pytest.approx(6.9515, **APPROX)


def test_two_close_points_on_opposite_sides_are_common_cause() -> None:
    # test-ptd_spc_standard.R: 1, −1 eight times, the last two set to 5.5 and −5.5.
    values = [1.0, -1.0] * 8
    values[14], values[15] = 5.5, -5.5
    for preset in PRESETS:
        assert rules(chart(values, preset, freq=None))[-2:] == [None, None]


# ------------------------------------------------------------- every difference, by rule


@pytest.mark.parametrize(
    ("case", "values", "options", "expected"),
    [
        # Near-line factor: 14.5464 lies beyond 14.546 but not beyond 14.54667.
        (
            "two-sigma line 1.773 vs 2/3 x 2.66",
            [*BASE, 14.5464, 12.0, 14.5464, 11.0],
            {"baseline_points": 12},
            {
                MDC: [None] * 12 + ["two_in_three", None, "two_in_three", None],
                PTD: [None] * 16,
            },
        ),
        # Points beyond the limit count for two-in-three from November 2023 only.
        (
            "two-in-three with a point beyond the limit",
            [*BASE, 15.0, 17.0, 11.0],
            {"baseline_points": 12},
            {
                MDC: [None] * 12 + ["two_in_three", "astronomical", None],
                PTD: [None] * 12 + [None, "astronomical", None],
            },
        ),
        # The middle point of the window below the mean: MDC allows it, the package does not.
        (
            "two-in-three across the mean",
            [*BASE, 15.0, 10.0, 15.0, 11.0],
            {"baseline_points": 12},
            {
                MDC: [None] * 12 + ["two_in_three", None, "two_in_three", None],
                PTD: [None] * 16,
            },
        ),
        (
            "two-in-three on one side",
            [*BASE, 15.0, 12.0, 15.0, 11.0],
            {"baseline_points": 12},
            {
                MDC: [None] * 12 + ["two_in_three", None, "two_in_three", None],
                PTD: [None] * 12 + ["two_in_three", None, "two_in_three", None],
            },
        ),
        # A missing week: MDC breaks the run (4 + 4 above the mean of 11); the package, which
        # has no notion of a missing period, sees one run of 8.
        (
            "a gap",
            [*BASE, 12.0, 12.0, 12.0, None, 12.0, 12.0, 12.0, 12.0],
            {"baseline_points": 12},
            {MDC: [None] * 19, PTD: [None] * 11 + ["shift"] * 8},
        ),
        # Runs of 7 and trends of 7 are the same in both.
        (
            "run of seven",
            [*BASE, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
            {"baseline_points": 12},
            {MDC: [None] * 12 + ["shift"] * 7, PTD: [None] * 12 + ["shift"] * 7},
        ),
        (
            "trend of seven",
            [*BASE, 12.5, 12.0, 11.5, 11.0, 10.5, 10.0, 9.5],
            {"baseline_points": 12},
            {MDC: [None] * 12 + ["trend"] * 7, PTD: [None] * 12 + ["trend"] * 7},
        ),
        # Twelve points: MDC draws nothing. The package: mean 225 / 12 = 18.75; moving ranges
        # 2, 2, 2, 2, 1 × 6, 74: 88 / 11 = 8; screening drops 74 (> 26.136): 14 / 10 = 1.4;
        # UCL 18.75 + 3.724 = 22.474, LCL 15.026. 10 … 15 are below the LCL, 90 above the
        # UCL; 16 (between the LCL and the lower two-sigma line 16.267) ends the rising trend
        # 10, 11, …, 16, 90.
        (
            "short series",
            [10.0, 12.0, 10.0, 12.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 90.0],
            {},
            {MDC: [None] * 12, PTD: ["astronomical"] * 10 + ["trend", "astronomical"]},
        ),
        # A flat fixed baseline then seven points lower: MDC's limits collapse onto 100, so
        # each 99 is outside them; the package screens out every zero moving range, has no
        # limits, and still sees a run of seven below its mean.
        (
            "flat baseline, then a run",
            [100.0] * 12 + [99.0] * 7,
            {"baseline_points": 12},
            {MDC: [None] * 12 + ["astronomical"] * 7, PTD: [None] * 12 + ["shift"] * 7},
        ),
    ],
)
def test_rules_by_preset(case: str, values, options, expected) -> None:
    for preset, want in expected.items():
        assert rules(chart(values, preset, **options)) == want, (case, preset)


def test_short_series_values() -> None:
    values = [10.0, 12.0, 10.0, 12.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 90.0]
    r = chart(values, PTD, target=95.0)
    p = r.points
    assert p["mean"].iloc[0] == pytest.approx(18.75)
    assert p["ucl"].iloc[0] == pytest.approx(22.474) and p["lcl"].iloc[0] == pytest.approx(15.026)
    assert p["special_cause"].tolist() == ["concern"] * 10 + ["improvement"] * 2
    assert p["reason"].iloc[10] == "7th point of an upward trend of 8 points"
    s = r.summary.iloc[0]
    assert (s["variation_icon"], s["assurance_icon"]) == ("special_cause_improvement_high", "fail")
    assert s["note"] == "12 point(s) in the current segment, fewer than 13: trial limits"


@pytest.mark.parametrize(
    ("preset", "mean", "variation", "assurance", "note"),
    [
        (
            MDC,
            None,
            None,
            None,
            "1 point(s) in the current segment, fewer than the 13 needed: no limits, "
            "special-cause flags or icons",
        ),
        # The package: a mean, no moving range so no limits, a common-cause point, and against
        # a target "inconsistent" (its case_when falls through on the missing limits).
        (
            PTD,
            5.0,
            "common_cause",
            "hit_and_miss",
            "a single point in the current segment: no moving range, so no limits",
        ),
    ],
)
def test_a_single_point(preset, mean, variation, assurance, note) -> None:
    r = chart([5.0], preset, target=3.0)
    p, s = r.points.iloc[0], r.summary.iloc[0]
    assert (np.isnan(p["mean"]) if mean is None else p["mean"] == mean) and np.isnan(p["ucl"])
    assert (s["variation_icon"], s["assurance_icon"], s["note"]) == (variation, assurance, note)


def test_two_points_have_trial_limits_in_the_package() -> None:
    # Mean 6, one moving range of 2 (kept: 2 < 3.267 × 2): limits 6 ± 5.32.
    r = chart([5.0, 7.0], PTD, target=12.0)
    assert r.points["ucl"].tolist() == pytest.approx([11.32] * 2)
    assert r.summary["assurance_icon"].iloc[0] == "fail"  # 12 above the UCL, higher is better


@pytest.mark.parametrize(
    ("preset", "options", "limit", "assurance", "note"),
    [
        (MDC, {}, 100.0, "pass", "no variation in the baseline: the limits collapse onto the mean"),
        (PTD, {}, None, "hit_and_miss", ZERO_SCREENED),
        (
            PTD,
            {"screen_moving_ranges": False},
            100.0,
            "pass",
            "no variation in the baseline: the limits collapse onto the mean",
        ),
    ],
)  # fmt: skip
def test_a_flat_series(preset, options, limit, assurance, note) -> None:
    r = chart([100.0] * 20, preset, target=95.0, **options)
    p, s = r.points, r.summary.iloc[0]
    assert (p["mean"] == 100.0).all()
    assert (p["lcl"] == limit).all() if limit is not None else p["lcl"].isna().all()
    assert rules(r) == [None] * 20
    assert (s["variation_icon"], s["assurance_icon"], s["note"]) == (
        "common_cause",
        assurance,
        note,
    )


@pytest.mark.parametrize(
    ("preset", "peak", "peak_reason"),
    [
        (MDC, "improvement", "7th point of an upward trend of 7 points"),
        (PTD, "concern", "1st point of a downward trend of 7 points"),
    ],
)
def test_a_peak_between_two_trends(preset: str, peak: str, peak_reason: str) -> None:
    # 5 … 11 … 5 after BASE: the package reads a trend point followed by another by its next
    # step, so the peak belongs to the fall; Making Data Count gives it to the rise it ends.
    up = [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    r = chart(BASE + up + up[-2::-1], preset, baseline_points=12)
    assert r.points["special_cause"].iloc[18] == peak
    assert r.points["reason"].iloc[18] == peak_reason
    assert r.points["rule"].iloc[[12, 24]].tolist() == ["astronomical"] * 2  # 5 < LCL 5.68


def test_a_tie_between_two_trends() -> None:
    # 5 … 11, 11, 10 … 5: the rise ends at the first 11, the fall starts at the second. The
    # package reads the first 11 by its next step, a tie, and calls anything not rising
    # "Decreasing": a concern in the middle of a rise.
    values = [*BASE, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 11.0, 10.0, 9.0, 8.0, 7.0, 6.0, 5.0]
    mdc = chart(values, MDC, baseline_points=12).points
    ptd = chart(values, PTD, baseline_points=12).points
    assert mdc["special_cause"].iloc[18] == "improvement"
    assert ptd["special_cause"].iloc[18] == "concern"
    assert ptd["reason"].iloc[18] == (
        "7th point of an upward trend of 7 points, read as falling by its next step"
    )
    assert mdc["special_cause"].iloc[19:25].tolist() == ptd["special_cause"].iloc[19:25].tolist()


def test_moving_ranges_across_a_gap_and_rebasing_on_a_period() -> None:
    values = [*BASE, 12.0, None, 16.0]
    mdc, ptd = chart(values, MDC).points, chart(values, PTD).points
    assert np.isnan(mdc["moving_range"].iloc[13]) and ptd["moving_range"].iloc[13] == 4.0
    assert mdc["after_gap"].tolist() == ptd["after_gap"].tolist()  # both still report it
    # A rebase date that is not one of the periods: MDC starts the segment at the next period,
    # the package (which matches dates exactly) ignores it.
    values = [9.0, 11.0] * 7 + [19.0, 21.0] * 7
    sunday = (START + pd.Timedelta(weeks=14)).date()
    for day, segments in (
        (sunday - dt.timedelta(days=4), {MDC: 2, PTD: 1}),
        (sunday, {MDC: 2, PTD: 2}),
    ):
        for preset, n in segments.items():
            r = xmr(
                weekly(values), freq="W-SUN", options=SpcOptions(preset=preset), rebase={"A": [day]}
            )
            assert r.points["segment"].max() == n, (day, preset)
            if n == 2:
                assert r.points["ucl"].iloc[14] == pytest.approx(25.32)  # 20 + 2.66 × 2


def test_assurance_where_an_organisation_has_no_target() -> None:
    frame = pd.concat([weekly([10.0, 12.0] * 8, "A"), weekly([10.0, 12.0] * 8, "B")])
    targets = pd.Series({"A": 17.0})
    icons = {
        preset: xmr(frame, options=SpcOptions(preset=preset), target=targets)
        .summary["assurance_icon"]
        .tolist()
        for preset in PRESETS
    }
    # 17 is above the UCL of 16.32: fail. B has no target: no icon for MDC; the package's
    # left join gives B an NA target and its case_when falls through to "inconsistent".
    assert icons == {MDC: ["fail", None], PTD: ["fail", "hit_and_miss"]}


@pytest.mark.parametrize("preset", PRESETS)
def test_neutral_and_lower_is_better(preset: str) -> None:
    values = [*BASE, 11.0, 17.0]
    neutral = chart(values, preset, target=20.0, improvement="neutral", baseline_points=12)
    assert neutral.summary["variation_icon"].iloc[0] == "special_cause_neither_high"
    assert neutral.summary["assurance_icon"].iloc[0] is None
    down = chart(values, preset, target=20.0, improvement="down", baseline_points=12)
    assert down.summary["variation_icon"].iloc[0] == "special_cause_concern_high"
    assert down.summary["assurance_icon"].iloc[0] == "pass"  # 20 above the UCL, lower is better


# --------------------------------------------------------------------------- properties

SERIES = st.lists(st.integers(0, 6).map(float), min_size=1, max_size=40)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=SERIES,
    screen=st.booleans(),
    baseline=st.none() | st.integers(12, 20),
    min_points=st.integers(1, 15),
)
def test_presets_agree_on_mean_and_limits_where_both_have_them(
    values: list[float], screen: bool, baseline: int | None, min_points: int
) -> None:
    """With the same screening and baseline and no gaps, the presets differ in rules and
    icons only: the mean and the process limits are equal wherever both compute them."""
    common = {"screen_moving_ranges": screen, "baseline_points": baseline, "min_points": min_points}
    mdc = chart(values, MDC, **common).points
    ptd = chart(values, PTD, **common).points
    both = mdc["mean"].notna() & ptd["mean"].notna()
    assert (mdc["mean"].notna() == ptd["mean"].notna()).all()
    pd.testing.assert_series_equal(mdc.loc[both, "mean"], ptd.loc[both, "mean"])
    limits = mdc["ucl"].notna() & ptd["ucl"].notna()
    for column in ("ucl", "lcl"):
        pd.testing.assert_series_equal(mdc.loc[limits, column], ptd.loc[limits, column])
    # Where only one has limits it is MDC keeping collapsed limits on a flat baseline.
    only = mdc["ucl"].notna() != ptd["ucl"].notna()
    if only.any():
        assert screen and mdc.loc[only, "ucl"].notna().all()
        assert (mdc.loc[only, "ucl"] == mdc.loc[only, "mean"]).all()


# ----------------------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.slow
def test_both_presets_on_the_real_weekly_and_monthly_returns(real_warehouse) -> None:
    """As the board report computes them (104 weeks to 8 March 2015, type 1; 36 months to
    March 2019, all types): the same mean everywhere; the same limits wherever the package's
    screening leaves every moving range in; icons for every organisation under the package."""
    from fourhour.periods import month, week_ending
    from fourhour.report.series import HISTORY, org_series, performance_spc
    from fourhour.warehouse import open_warehouse

    with open_warehouse(real_warehouse, read_only=True) as wh:
        for period, basis in (
            (week_ending(dt.date(2015, 3, 8)), "type1"),
            (month(2019, 3), "all_types"),
        ):
            history = org_series(wh, period, HISTORY[period.granularity])
            column = f"{basis}_performance_pct"
            mdc, ptd = (performance_spc(history, column, period.granularity, p) for p in PRESETS)
            a, b = mdc.points, ptd.points
            assert len(a) == len(b) > 1000
            both = a["mean"].notna() & b["mean"].notna()
            assert (a.loc[both, "mean"] - b.loc[both, "mean"]).abs().max() < 1e-9
            screened = xmr(
                history[["code", "period_end", column]]
                .rename(columns={column: "value"})
                .assign(value=lambda f: pd.to_numeric(f["value"], errors="coerce").astype(float))
                .dropna(),
                options=SpcOptions(screen_moving_ranges=True),  # no freq: gaps ignored too
            ).points
            limits = screened["ucl"].notna() & b["ucl"].notna()
            assert limits.sum() > 1000
            assert (screened.loc[limits, "ucl"] - b.loc[limits, "ucl"]).abs().max() < 1e-9
            assert ptd.summary.loc[ptd.summary["n_points"] > 0, "variation_icon"].notna().all()
            assert (a["rule"].fillna("") != b["rule"].fillna("")).any()  # they do differ


# ------------------------------------------------- a plain reading of the package's rules


def package_reading(y: list[float], screen: bool, fix: int | None) -> list[tuple[str, str]]:
    """NHSRplotthedots 0.2.2's point types for one series, read point by point from its R
    source (a second, deliberately plain implementation: loops, no shared code), as (rule,
    side) pairs in fourhour's words."""
    n = len(y)
    base = y[: fix or n]
    mean = sum(base) / len(base)
    mrs = [abs(base[i] - base[i - 1]) for i in range(1, len(base))]
    amr = sum(mrs) / len(mrs) if mrs else float("nan")
    if screen:
        mrs = [m for m in mrs if m < 3.267 * amr]
        amr = sum(mrs) / len(mrs) if mrs else float("nan")
    upl, lpl = mean + 2.66 * amr, mean - 2.66 * amr
    nupl, nlpl = mean + 2 * (2.66 / 3) * amr, mean - 2 * (2.66 / 3) * amr
    outside = [v > upl or v < lpl for v in y]  # False against NaN limits, as NA is in R
    close = [not o and (v < nlpl or v > nupl) for v, o in zip(y, outside, strict=True)]
    rtm = [(v > mean) - (v < mean) for v in y]

    def trend_end(i: int) -> int:
        if i < 6:
            return 0
        steps = [(y[k] > y[k - 1]) - (y[k] < y[k - 1]) for k in range(i - 5, i + 1)]
        return 1 if all(s == 1 for s in steps) else -1 if all(s == -1 for s in steps) else 0

    def run_end(i: int) -> bool:
        return i >= 6 and rtm[i] != 0 and all(rtm[k] == rtm[i] for k in range(i - 6, i))

    def window(a: int) -> bool:
        if a < 0 or a + 2 >= n:
            return False
        return sum(close[a : a + 3]) >= 2 and abs(sum(rtm[a : a + 3])) == 3

    in_trend = [any(trend_end(j) for j in range(i, min(i + 7, n))) for i in range(n)]
    in_run = [any(run_end(j) for j in range(i, min(i + 7, n))) for i in range(n)]
    out = []
    for i in range(n):
        side = "high" if rtm[i] > 0 else "low"
        if outside[i]:
            out.append(("astronomical", "high" if rtm[i] == 1 else "low"))
        elif in_trend[i]:
            if i + 1 < n and in_trend[i + 1]:
                step = y[i + 1] - y[i]
            else:
                step = y[i] - y[i - 1] if i > 0 else 0.0
            out.append(("trend", "high" if step > 0 else "low"))
        elif close[i] and any(window(a) for a in (i - 2, i - 1, i)):
            out.append(("two_in_three", side))
        elif in_run[i]:
            out.append(("shift", side))
        else:
            out.append(("-", "-"))
    return out


def _walk(pieces: list[tuple[float, int]]) -> list[float]:
    """A series from (step, repeats) pieces: long trends, plateaus, runs and jumps."""
    values, level = [], 10.0
    for step, repeats in pieces:
        for _ in range(repeats):
            level += step
            values.append(level)
    return values


STEPS = st.sampled_from([-1.0, 0.0, 1.0, 0.5, -0.5, 4.0, -4.0, 9.0, -9.0])
WALKS = st.lists(st.tuples(STEPS, st.integers(1, 8)), min_size=1, max_size=12).map(_walk)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.integers(0, 8).map(float), min_size=1, max_size=45) | WALKS,
    screen=st.booleans(),
    fix=st.none() | st.integers(12, 20),
)
def test_the_preset_equals_a_plain_reading_of_the_package(
    values: list[float], screen: bool, fix: int | None
) -> None:
    r = chart(values, PTD, screen_moving_ranges=screen, baseline_points=fix)
    p = r.points
    ours = list(zip(p["rule"].fillna("-"), p["side"].fillna("-"), strict=True))
    assert ours == package_reading(values, screen, fix)
