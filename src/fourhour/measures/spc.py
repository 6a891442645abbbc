"""Statistical process control with NHS England's "Making Data Count" rules.

Two charts, one rule engine: `xmr` (individuals with moving ranges, for any measure) and
`laney_p` (Laney's p′ chart, for proportions with large denominators such as four-hour
performance). Both compute every organisation at once: the frame is sorted by organisation and
period, so each organisation, rebased segment and unbroken stretch of periods is a contiguous
slice, and every step is an array operation over all of them (group sums with `bincount`,
shifted comparisons, cumulative counters for run lengths). Nothing computes per organisation
or per point in Python: the only loops are over the four rules, the caller's rebase dates,
distinct reason texts (one per run or limit line) and the per-organisation gap lists handed back.

The pipeline, one small named function per step:
    _prepare       validate the columns, sort by organisation and period (as arrays)
    _Input.keep    leave out rows without a value (counted, and seen as missing periods)
    _layout        organisations, missing periods (gaps), rebased segments, unbroken blocks
    _xmr_limits / _laney_limits
                   centre line, process limits and two-sigma lines per point
    _special_causes
                   the four rules in priority order, with a reason per flagged point
    _summarise     latest point per organisation: variation and assurance icons, notes

Edge-case decisions (all documented in docs/spc.md):
- A point exactly on a limit (or a two-sigma line, or the mean) is on it, not beyond it;
  "exactly" allows a relative tolerance of 1e-9 to absorb floating-point rounding.
- A gap (a missing period, given `freq`) breaks runs, trends and two-in-three windows, and no
  moving range is taken across it (Making Data Count; NHSRplotthedots has no notion of a gap);
  rebased segments are separate series in every respect.
- With every moving range zero (a series stuck at 100%) the limits collapse onto the mean:
  points on the mean are common cause, and any departure is outside the limits.

Two presets (`SpcOptions(preset=...)`, `PRESETS`): "making-data-count", the default, follows NHS
England's current Making Data Count guidance as above; "nhsrplotthedots" reproduces the R
package NHSRplotthedots 0.2.2 (its moving-range screening, its 2/3 × 2.66 two-sigma lines, its
older two-in-three rule, limits on any number of points, no gaps, its reading of a point between
two trends). Each difference is one field of `Preset`; docs/spc.md tabulates them.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeGuard

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import BaseOffset

from fourhour.errors import InvalidInputError
from fourhour.measures.spc_names import (
    DEFAULT_PRESET,
    MAKING_DATA_COUNT_NAME,
    NHSRPLOTTHEDOTS_NAME,
    PRESETS,
)

# ------------------------------------------------------------------------------- constants

D2 = 1.128  # bias-correction constant for moving ranges of two points: sigma = mean MR / d2
LIMIT_FACTOR = 2.66  # 3 / d2, as NHS England's tools round it: process limits
NEAR_FACTOR = 1.773  # 2 / d2: the "near limit" (two-sigma) lines
PTD_NEAR_FACTOR = 2 * (LIMIT_FACTOR / 3)  # NHSRplotthedots' two-sigma lines: 1.77333…
PTD_SHORT_POINTS = 13  # NHSRplotthedots warns of trial limits below this many points
LIMIT_SIGMAS = 3.0  # Laney p′: process limits at three (adjusted) sigma
NEAR_SIGMAS = 2.0  # Laney p′: two-sigma lines
MR_SCREEN_FACTOR = 3.267  # D4 for n = 2: moving ranges above 3.267 × mean MR are screened out
MIN_BASELINE_POINTS = 12  # the fewest points a fixed baseline may hold
DEFAULT_MIN_POINTS = 13  # limits, flags and icons from this many points in a segment
DEFAULT_TREND_POINTS = 7
DEFAULT_RUN_POINTS = 7
RUN_POINT_CHOICES = (6, 7)
TOLERANCE = 1e-9  # relative: within this of a line counts as on it
NAT = np.datetime64("NaT", "ns")
NONE = np.array(None, dtype=object)  # None for np.where, as an array (numpy's types want one)

IMPROVEMENTS = ("up", "down", "neutral")
RULES = ("astronomical", "trend", "two_in_three", "shift")  # in priority order
COMMON_CAUSE = "common_cause"
VARIATION_ICONS = (
    COMMON_CAUSE,
    *(
        f"special_cause_{kind}_{side}"
        for kind in ("improvement", "concern", "neither")
        for side in ("high", "low")
    ),
)
ASSURANCE_ICONS = ("pass", "fail", "hit_and_miss")

POINT_COLUMNS = [
    "code",
    "period_end",
    "value",
    "segment",
    "n_in_segment",
    "mean",
    "ucl",
    "lcl",
    "upper_2s",
    "lower_2s",
    "moving_range",
    "after_gap",
    "rule",
    "special_cause",
    "side",
    "reason",
]
SUMMARY_COLUMNS = [
    "code",
    "n_points",
    "latest_period",
    "latest_value",
    "mean",
    "ucl",
    "lcl",
    "target",
    "variation_icon",
    "assurance_icon",
    "gaps",
    "note",
]
CONCERN_COLUMNS = ["code", "period_end", "concern", "rule", "reason"]


class SpcInputError(InvalidInputError, ValueError):
    """The SPC engine was given options or a frame it cannot chart."""


# ------------------------------------------------------------------------------- presets


@dataclass(frozen=True)
class Preset:
    """A rule set: the defaults it gives `SpcOptions`, and the fine print it fixes.

    docs/spc.md tabulates how the two presets differ, and why."""

    name: str
    title: str  # for a reader: what the preset follows
    # Defaults of the SpcOptions fields a caller may still override:
    min_points: int  # limits, flags and icons only from this many points in a segment
    screen_moving_ranges: bool
    two_in_three_beyond_3sigma: bool
    # Fixed by the preset:
    near_factor: float  # two-sigma lines at mean ± near_factor × MR̄
    screen_keeps_equal: bool  # a moving range equal to 3.267 × MR̄ survives screening
    two_in_three_same_side: bool  # all three points of the window on one side of the mean
    gaps_break: bool  # a missing period breaks moving ranges, runs, trends and windows
    rebase_on_a_period: bool  # a rebase date counts only if it is one of the periods
    trend_junction: Literal["completed", "following"]  # a point between two trends
    icons_without_limits: bool  # icons (and rules that need no limits) without limits
    trial_below: int | None  # note "trial limits" for segments shorter than this


MAKING_DATA_COUNT = Preset(
    name=MAKING_DATA_COUNT_NAME,
    title="NHS England's Making Data Count guidance",
    min_points=DEFAULT_MIN_POINTS,
    screen_moving_ranges=False,
    two_in_three_beyond_3sigma=True,
    near_factor=NEAR_FACTOR,
    screen_keeps_equal=True,
    two_in_three_same_side=False,
    gaps_break=True,
    rebase_on_a_period=False,
    trend_junction="completed",
    icons_without_limits=False,
    trial_below=None,
)
NHSRPLOTTHEDOTS = Preset(
    name=NHSRPLOTTHEDOTS_NAME,
    title="the R package NHSRplotthedots 0.2.2",
    min_points=1,
    screen_moving_ranges=True,
    two_in_three_beyond_3sigma=False,
    near_factor=PTD_NEAR_FACTOR,
    screen_keeps_equal=False,
    two_in_three_same_side=True,
    gaps_break=False,
    rebase_on_a_period=True,
    trend_junction="following",
    icons_without_limits=True,
    trial_below=PTD_SHORT_POINTS,
)
PRESET_RULES = {p.name: p for p in (MAKING_DATA_COUNT, NHSRPLOTTHEDOTS)}
assert tuple(PRESET_RULES) == PRESETS


# ------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class SpcOptions:
    """How limits are computed and which rules apply. Validated on construction.

    `preset` chooses the rule set (PRESETS); the options left as None take its defaults
    (`Preset.min_points`, `screen_moving_ranges`, `two_in_three_beyond_3sigma`)."""

    improvement: Literal["up", "down", "neutral"] = "up"
    min_points: int | None = None  # preset default: 13 (Making Data Count), 1 (NHSRplotthedots)
    baseline_points: int | None = None  # fix limits after N points (N >= 12)
    trend_points: int = DEFAULT_TREND_POINTS
    run_points: int = DEFAULT_RUN_POINTS  # 6 or 7
    two_in_three_beyond_3sigma: bool | None = None  # preset default; True: the 2023 rule
    screen_moving_ranges: bool | None = None  # preset default
    preset: str = DEFAULT_PRESET

    def __post_init__(self) -> None:
        if self.preset not in PRESET_RULES:
            raise SpcInputError(
                f"preset must be one of {', '.join(PRESETS)}, not {self.preset!r}",
                hint=f"{DEFAULT_PRESET} (the default) follows NHS England's guidance; "
                "nhsrplotthedots reproduces the R package",
            )
        rules = PRESET_RULES[self.preset]
        for name in ("min_points", "two_in_three_beyond_3sigma", "screen_moving_ranges"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, getattr(rules, name))
        for name in ("two_in_three_beyond_3sigma", "screen_moving_ranges"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise SpcInputError(f"{name} must be True or False, not {getattr(self, name)!r}")
        if self.improvement not in IMPROVEMENTS:
            raise SpcInputError(
                f"improvement must be one of {', '.join(IMPROVEMENTS)}, not {self.improvement!r}",
                hint="'up' where higher is better (four-hour performance), 'down' where lower is",
            )
        if not _is_int(self.min_points) or self.min_points < 1:
            raise SpcInputError(
                f"min_points must be a whole number of at least 1, not {self.min_points!r}",
                hint=f"Making Data Count asks for {DEFAULT_MIN_POINTS}",
            )
        if self.baseline_points is not None and (
            not _is_int(self.baseline_points) or self.baseline_points < MIN_BASELINE_POINTS
        ):
            raise SpcInputError(
                f"baseline_points must be at least {MIN_BASELINE_POINTS}, "
                f"not {self.baseline_points!r}",
                hint="leave it as None to compute limits from every point of each segment",
            )
        if not _is_int(self.trend_points) or self.trend_points < 3:
            raise SpcInputError(
                f"trend_points must be a whole number of at least 3, not {self.trend_points!r}"
            )
        if self.run_points not in RUN_POINT_CHOICES:
            raise SpcInputError(
                f"run_points must be 6 or 7, not {self.run_points!r}",
                hint=f"Making Data Count uses {DEFAULT_RUN_POINTS}",
            )

    @property
    def rules(self) -> Preset:
        """The preset's rule set."""
        return PRESET_RULES[self.preset]


def _is_int(value: object) -> TypeGuard[int | np.integer]:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


DEFAULT_OPTIONS = SpcOptions()


# -------------------------------------------------------------------------------- result


@dataclass
class SpcResult:
    """Points (one row per organisation and period) and a summary (one row per organisation).

    See POINT_COLUMNS and SUMMARY_COLUMNS for the columns; docs/spc.md describes each.
    """

    points: pd.DataFrame
    summary: pd.DataFrame
    chart: str = "xmr"
    options: SpcOptions = field(default=DEFAULT_OPTIONS)

    def concern(self, *, latest: bool = False) -> pd.DataFrame:
        """The escalation hook: code, period_end, concern (bool), rule, reason.

        One row per point (or, with `latest=True`, per organisation's latest point); `concern`
        is True where the point is a special cause of concern. Rule and reason are given for
        every flagged point, improvement included, so a caller can explain a quiet row too.
        """
        pts = self.points
        if latest and len(pts):
            pts = pts[~pts["code"].duplicated(keep="last")]
        out = pts[["code", "period_end", "rule", "reason"]].copy()
        out.insert(2, "concern", (pts["special_cause"] == "concern").to_numpy(dtype=bool))
        return out[CONCERN_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------- public API

Freq = str | pd.DateOffset | dt.timedelta | None
Target = float | pd.Series | None
Rebase = Mapping[str, Sequence[dt.date]] | None


def xmr(
    frame: pd.DataFrame,
    *,
    value: str = "value",
    org: str = "code",
    period: str = "period_end",
    freq: Freq = None,
    options: SpcOptions = DEFAULT_OPTIONS,
    target: Target = None,
    rebase: Rebase = None,
) -> SpcResult:
    """XmR chart for every organisation in `frame`: limits, special causes and icons.

    `freq` ("W-SUN", "MS", "ME", "7D" or a pandas offset) enables gap detection; without it
    consecutive rows of an organisation are taken as consecutive periods. `target` is a number
    or a Series indexed by organisation code. `rebase` maps a code to dates: a new segment,
    with its own limits, starts at the first period on or after each date.
    """
    inp = _prepare(frame, org, period, {value: "value"})
    inp = inp.keep(np.isfinite(inp.values["value"]))
    lay = _layout(inp, freq, rebase, options.rules)
    x = inp.values["value"]
    lim = _xmr_limits(x, lay, options)
    return _result(inp, lay, x, lim, options, target, "xmr")


def laney_p(
    frame: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    org: str = "code",
    period: str = "period_end",
    freq: Freq = None,
    options: SpcOptions = DEFAULT_OPTIONS,
    target: Target = None,
    rebase: Rebase = None,
    percent: bool = True,
) -> SpcResult:
    """Laney p′ chart of numerator / denominator (e.g. within four hours / attendances).

    Values, limits and `target` are percentages (0-100) with `percent=True`, else proportions.
    A row with a missing count or a denominator of zero has no proportion and is left out like
    a missing value. Points carry `numerator` and `denominator` columns after the usual ones.
    """
    inp = _prepare(frame, org, period, {numerator: "numerator", denominator: "denominator"})
    num, den = inp.values["numerator"], inp.values["denominator"]
    with np.errstate(invalid="ignore"):
        bad = (num < 0) | (den < 0) | (num > den)
    if bad.any():
        i = int(np.argmax(bad))
        raise SpcInputError(
            f"{inp.codes[inp.org[i]]} at {_when(inp.t[i])}: {numerator} {num[i]:g} and "
            f"{denominator} {den[i]:g} are not the counts of a proportion",
            hint="both must be counts, the numerator no larger than the denominator",
        )
    inp = inp.keep(np.isfinite(num) & np.isfinite(den) & (den > 0))
    lay = _layout(inp, freq, rebase, options.rules)
    num, den = inp.values["numerator"], inp.values["denominator"]
    scale = 100.0 if percent else 1.0
    lim = _laney_limits(num, den, lay, options, scale)
    x = num / den * scale
    result = _result(inp, lay, x, lim, options, target, "laney_p")
    result.points["numerator"] = num
    result.points["denominator"] = den
    return result


# ---------------------------------------------------------------------------- preparing


@dataclass(frozen=True)
class _Input:
    """The frame's rows as arrays, sorted by organisation and period."""

    codes: np.ndarray  # every organisation in the frame, sorted
    org: np.ndarray  # per row: index into `codes`
    period_end: np.ndarray  # per row, as given
    t: np.ndarray  # per row, datetime64[ns]
    values: dict[str, np.ndarray]
    dropped: np.ndarray  # per organisation: rows left out for want of a value
    datetime: bool  # the period column was datetime64 (else dates are given back as dates)

    def keep(self, mask: np.ndarray) -> _Input:
        """The rows where `mask`, counting the others as dropped."""
        dropped = self.dropped + np.bincount(self.org[~mask], minlength=len(self.codes))
        return _Input(
            codes=self.codes,
            org=self.org[mask],
            period_end=self.period_end[mask],
            t=self.t[mask],
            values={k: v[mask] for k, v in self.values.items()},
            dropped=dropped,
            datetime=self.datetime,
        )


def _prepare(frame: pd.DataFrame, org: str, period: str, values: Mapping[str, str]) -> _Input:
    """Validate the columns, and sort the rows by organisation and period."""
    absent = [c for c in (org, period, *values) if c not in frame.columns]
    if absent:
        raise SpcInputError(
            f"no column {', '.join(repr(c) for c in absent)} in the frame; "
            f"its columns are {', '.join(repr(str(c)) for c in frame.columns)}",
            hint="name the columns with value=/numerator=/denominator=, org= and period=",
        )
    org_index, codes = pd.factorize(frame[org], sort=True)
    if (org_index < 0).any():
        raise SpcInputError(f"column {org!r} has rows without an organisation code")
    try:
        column = frame[period]
        if not pd.api.types.is_datetime64_dtype(column):
            column = pd.to_datetime(column)
        t = column.to_numpy(dtype="datetime64[ns]")
    except (ValueError, TypeError) as exc:
        raise SpcInputError(f"column {period!r} does not hold dates: {exc}") from exc
    if np.isnat(t).any():
        raise SpcInputError(f"column {period!r} has rows without a date")
    arrays = {}
    for source, name in values.items():
        try:
            numbers = pd.to_numeric(frame[source])
        except (ValueError, TypeError) as exc:
            raise SpcInputError(f"column {source!r} is not numeric: {exc}") from exc
        arrays[name] = numbers.to_numpy(dtype="float64", na_value=np.nan)
    order = np.lexsort((t, org_index))
    org_index, t = org_index[order], t[order]
    period_end = frame[period].to_numpy()[order]
    repeated = np.flatnonzero((org_index[1:] == org_index[:-1]) & (t[1:] == t[:-1]))
    if len(repeated):
        i = repeated[0] + 1
        raise SpcInputError(
            f"{codes[org_index[i]]} has more than one row for {_when(t[i])}",
            hint="aggregate to one value per organisation and period first",
        )
    return _Input(
        codes=np.asarray(codes, dtype=object),
        org=org_index.astype(np.int64),
        period_end=period_end,
        t=t,
        values={name: a[order] for name, a in arrays.items()},
        dropped=np.zeros(len(codes), dtype=np.int64),
        datetime=pd.api.types.is_datetime64_any_dtype(frame[period]),
    )


def _when(t: np.datetime64) -> str:
    """A period for a message: the date, with the time only where there is one."""
    stamp = pd.Timestamp(t)
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()


# ------------------------------------------------------------------------------ layout


@dataclass(frozen=True)
class _Layout:
    """Where each point sits, as arrays aligned with the sorted points."""

    org_start: np.ndarray  # first point of an organisation
    last: np.ndarray  # index of each organisation's latest point (organisations with points)
    after_gap: np.ndarray  # a missing period precedes this point
    segment: np.ndarray  # 1-based segment number within the organisation
    seg_id: np.ndarray  # global segment id
    n_seg: int
    pos_in_seg: np.ndarray  # 0-based position within the segment
    n_in_seg: np.ndarray  # points in this point's segment
    block_start: np.ndarray  # a segment start or a point after a gap
    block_id: np.ndarray  # global id of unbroken stretches
    gaps: np.ndarray  # per organisation in `codes`: a list of missing period dates


def _starts_to_ids(starts: np.ndarray) -> np.ndarray:
    return np.cumsum(starts) - 1


def _position(starts: np.ndarray) -> np.ndarray:
    """0-based position of each element within its contiguous group."""
    idx = np.arange(len(starts))
    return idx - np.maximum.accumulate(np.where(starts, idx, 0))


def _shift(a: np.ndarray, k: int, fill: object) -> np.ndarray:
    """a shifted by k places (k > 0: the previous elements), padded with `fill`."""
    out = np.full_like(a, fill)
    if k > 0:
        out[k:] = a[:-k]
    elif k < 0:
        out[:k] = a[-k:]
    else:
        out[:] = a
    return out


def _layout(inp: _Input, freq: Freq, rebase: Rebase, rules: Preset) -> _Layout:
    n = len(inp.org)
    org_start = np.ones(n, dtype=bool)
    org_start[1:] = inp.org[1:] != inp.org[:-1]
    if freq is None:
        ordinal, anchors = _position(org_start), None
    else:
        ordinal, anchors = _ordinals(inp.t, freq)
    step = ordinal - _shift(ordinal, 1, 0)
    same_period = ~org_start & (step == 0)
    if same_period.any():
        i = int(np.argmax(same_period))
        raise SpcInputError(
            f"{inp.codes[inp.org[i]]} has two rows in the same {freq} period "
            f"({_when(inp.t[i - 1])} and {_when(inp.t[i])})",
            hint="pass the frequency the data is published at, or aggregate first",
        )
    after_gap = ~org_start & (step > 1)

    count = _rebase_counts(inp, rebase, on_a_period=rules.rebase_on_a_period)
    seg_start = org_start | (count != _shift(count, 1, -1))
    seg_id = _starts_to_ids(seg_start)
    org_seq = _starts_to_ids(org_start)
    segment = seg_id - seg_id[org_start][org_seq] + 1
    n_seg = int(seg_start.sum())
    block_start = seg_start | after_gap if rules.gaps_break else seg_start
    return _Layout(
        org_start=org_start,
        last=np.flatnonzero(np.r_[org_start[1:], True]) if n else np.zeros(0, dtype=np.int64),
        after_gap=after_gap,
        segment=segment,
        seg_id=seg_id,
        n_seg=n_seg,
        pos_in_seg=_position(seg_start),
        n_in_seg=np.bincount(seg_id, minlength=n_seg)[seg_id],
        block_start=block_start,
        block_id=_starts_to_ids(block_start),
        gaps=_gap_lists(inp, ordinal, step, after_gap, anchors),
    )


def _offset(freq: str | pd.DateOffset | dt.timedelta) -> BaseOffset:
    with warnings.catch_warnings():  # "M" for month end is deprecated in favour of "ME"
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return to_offset(freq)  # type: ignore[arg-type]  # pandas-stubs omit timedelta
        except (ValueError, TypeError) as exc:
            raise SpcInputError(
                f"{freq!r} is not a frequency pandas knows",
                hint="for example 'W-SUN' (weeks ending Sunday), 'MS' or 'ME' (months), '7D'",
            ) from exc


def _ordinals(
    t: np.ndarray, freq: str | pd.DateOffset | dt.timedelta
) -> tuple[np.ndarray, np.ndarray]:
    """Period number of each date: how many of the frequency's anchor dates fall on or before
    it, counting from the anchor on or before the earliest date. Consecutive periods differ by
    one whatever the frequency (weeks, month ends or starts, fixed spans)."""
    offset = _offset(freq)
    if len(t) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype="datetime64[ns]")
    first, last = pd.Timestamp(offset.rollback(pd.Timestamp(t.min()))), pd.Timestamp(t.max())
    step = _fixed_step(offset)
    if step is not None:  # weeks and fixed spans: no need for pandas' anchor-by-anchor loop
        anchors = np.arange(first.to_datetime64(), last.to_datetime64() + 1, step)
        anchors = anchors.astype("datetime64[ns]")
    else:
        anchors = pd.date_range(first, last, freq=offset).to_numpy("datetime64[ns]")
    return np.searchsorted(anchors, t, side="right").astype(np.int64), anchors


def _fixed_step(offset: BaseOffset) -> np.timedelta64 | None:
    """The constant span between anchors of a weekly or fixed (Tick) offset, else None."""
    if isinstance(offset, pd.offsets.Tick):
        return np.timedelta64(offset.nanos, "ns")
    # pandas-stubs omit Week.weekday (None for a plain 7-day span; anchored weeks have one)
    if isinstance(offset, pd.offsets.Week) and offset.weekday is not None:  # type: ignore[attr-defined]
        return np.timedelta64(7 * offset.n, "D").astype("timedelta64[ns]")
    return None


def _gap_lists(
    inp: _Input,
    ordinal: np.ndarray,
    step: np.ndarray,
    after_gap: np.ndarray,
    anchors: np.ndarray | None,
) -> np.ndarray:
    """Per organisation, the list of its missing periods' dates (the frequency's anchors)."""
    k = len(inp.codes)
    out = np.empty(k, dtype=object)
    if anchors is None or not after_gap.any():
        out[:] = [[] for _ in range(k)]
        return out
    missing = np.where(after_gap, step - 1, 0)
    total = int(missing.sum())
    gap_org = np.repeat(inp.org, missing)  # ascending, as the points are
    offsets = np.arange(total) - np.repeat(np.cumsum(missing) - missing, missing) + 1
    gap_ordinal = np.repeat(ordinal - step, missing) + offsets
    dates = pd.DatetimeIndex(anchors[gap_ordinal - 1])
    objects = dates.astype(object).to_numpy() if inp.datetime else np.asarray(dates.date)
    pieces = np.split(objects, np.searchsorted(gap_org, np.arange(1, k)))
    out[:] = [piece.tolist() for piece in pieces]
    return out


def _rebase_counts(inp: _Input, rebase: Rebase, *, on_a_period: bool) -> np.ndarray:
    """For each point, how many of its organisation's rebase dates fall on or before it (with
    `on_a_period`, counting only the dates that are one of the organisation's periods)."""
    n = len(inp.org)
    if not rebase or n == 0:
        return np.zeros(n, dtype=np.int64)
    days = inp.t.astype("datetime64[D]").astype(np.int64)
    lo, hi = int(days.min()) - 1, int(days.max()) + 1
    span = hi - lo + 1  # one key space per organisation: org * span + day
    position = {code: i for i, code in enumerate(inp.codes)}
    keys = []
    for code, dates in rebase.items():  # the caller's mapping, not the points
        if code not in position:
            continue
        for day in dates:
            d = int(np.datetime64(pd.Timestamp(day).date(), "D").astype(np.int64))
            keys.append(position[code] * span + (min(max(d, lo), hi) - lo))
    if not keys:
        return np.zeros(n, dtype=np.int64)
    rkeys = np.sort(np.asarray(keys, dtype=np.int64))
    first = inp.org * span
    if on_a_period:
        rkeys = rkeys[np.isin(rkeys, first + days - lo)]
    return np.searchsorted(rkeys, first + days - lo, side="right") - np.searchsorted(
        rkeys, first, side="left"
    )


# ------------------------------------------------------------------------------ limits


@dataclass(frozen=True)
class _Limits:
    mean: np.ndarray
    ucl: np.ndarray
    lcl: np.ndarray
    upper_2s: np.ndarray
    lower_2s: np.ndarray
    moving_range: np.ndarray
    centred: np.ndarray  # the segment has enough points for a mean (and rules that need no limits)
    has: np.ndarray  # limits exist for this point
    zero_mr: np.ndarray  # the baseline's mean moving range is zero


def _moving_range(x: np.ndarray, lay: _Layout) -> np.ndarray:
    """|x_i − x_{i−1}| within an unbroken stretch; NaN at a segment start or after a gap."""
    mr = np.abs(x - _shift(x, 1, np.nan))
    mr[lay.block_start] = np.nan
    return mr


def _in_baseline(lay: _Layout, options: SpcOptions) -> np.ndarray:
    """Points the limits are computed from: the first N of each segment, else all."""
    if options.baseline_points is None:
        return np.ones(len(lay.seg_id), dtype=bool)
    return lay.pos_in_seg < options.baseline_points


def _segment_mean(values: np.ndarray, use: np.ndarray, lay: _Layout) -> np.ndarray:
    """Per segment, the mean of `values` where `use` (NaN where none)."""
    ok = use & ~np.isnan(values)
    total = np.bincount(lay.seg_id, weights=np.where(ok, values, 0.0), minlength=lay.n_seg)
    count = np.bincount(lay.seg_id, weights=ok.astype(float), minlength=lay.n_seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _mean_moving_range(
    mr: np.ndarray, base: np.ndarray, lay: _Layout, options: SpcOptions
) -> np.ndarray:
    """Per segment, the mean moving range of the baseline; with screening, recomputed once
    without the moving ranges above 3.267 × that mean (and, for NHSRplotthedots, without those
    equal to it: so a flat baseline, every moving range 0, keeps none and has no limits)."""
    mrbar = _segment_mean(mr, base, lay)
    if options.screen_moving_ranges:
        limit = MR_SCREEN_FACTOR * mrbar[lay.seg_id]
        margin = TOLERANCE * np.maximum(1.0, np.abs(limit))
        with np.errstate(invalid="ignore"):
            if options.rules.screen_keeps_equal:
                keep = ~(mr - limit > margin)
            else:
                keep = limit - mr > margin
        mrbar = _segment_mean(mr, base & keep, lay)
    return mrbar


def _centred(lay: _Layout, options: SpcOptions) -> np.ndarray:
    """The segment has the points that a centre line (and limits, flags, icons) need."""
    return lay.n_in_seg >= options.min_points


def _xmr_limits(x: np.ndarray, lay: _Layout, options: SpcOptions) -> _Limits:
    mr = _moving_range(x, lay)
    base = _in_baseline(lay, options)
    mean = _segment_mean(x, base, lay)[lay.seg_id]
    mrbar = _mean_moving_range(mr, base, lay, options)[lay.seg_id]
    centred = _centred(lay, options)
    has = centred & np.isfinite(mrbar)
    near = options.rules.near_factor
    nan = np.full(len(x), np.nan)
    return _Limits(
        mean=np.where(centred, mean, nan),
        ucl=np.where(has, mean + LIMIT_FACTOR * mrbar, nan),
        lcl=np.where(has, mean - LIMIT_FACTOR * mrbar, nan),
        upper_2s=np.where(has, mean + near * mrbar, nan),
        lower_2s=np.where(has, mean - near * mrbar, nan),
        moving_range=mr,
        centred=centred,
        has=has,
        zero_mr=has & (mrbar == 0),
    )


def _laney_limits(
    num: np.ndarray, den: np.ndarray, lay: _Layout, options: SpcOptions, scale: float
) -> _Limits:
    """Laney p′: p̄ = Σnum/Σden over the baseline; z_i = (p_i − p̄)/σ_pi with
    σ_pi = sqrt(p̄(1 − p̄)/n_i); σ_z = mean |z_i − z_{i−1}| / d2; limits p̄ ± 3 σ_pi σ_z,
    two-sigma lines p̄ ± 2 σ_pi σ_z, all clipped to [0, 1] and then scaled."""
    base = _in_baseline(lay, options)
    num_sum = np.bincount(lay.seg_id, weights=np.where(base, num, 0.0), minlength=lay.n_seg)
    den_sum = np.bincount(lay.seg_id, weights=np.where(base, den, 0.0), minlength=lay.n_seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        pbar = np.where(den_sum > 0, num_sum / den_sum, np.nan)[lay.seg_id]
        p = num / den
        sigma_p = np.sqrt(pbar * (1.0 - pbar) / den)
        z = np.where(sigma_p > 0, (p - pbar) / sigma_p, 0.0)  # p̄ of 0 or 1: no spread
    mr = _moving_range(z, lay)
    mrbar = _mean_moving_range(mr, base, lay, options)[lay.seg_id]
    sigma_z = mrbar / D2
    centred = _centred(lay, options) & np.isfinite(pbar)
    has = centred & np.isfinite(sigma_z)
    spread = sigma_p * sigma_z
    nan = np.full(len(num), np.nan)

    def line(sigmas: float) -> np.ndarray:
        return np.where(has, np.clip(pbar + sigmas * spread, 0.0, 1.0) * scale, nan)

    return _Limits(
        mean=np.where(centred, pbar * scale, nan),
        ucl=line(LIMIT_SIGMAS),
        lcl=line(-LIMIT_SIGMAS),
        upper_2s=line(NEAR_SIGMAS),
        lower_2s=line(-NEAR_SIGMAS),
        moving_range=mr,
        centred=centred,
        has=has,
        zero_mr=has & (spread == 0),
    )


# ------------------------------------------------------------------------------- rules


def _beyond(x: np.ndarray, line: np.ndarray) -> np.ndarray:
    """x strictly above `line` (a point on the line, within the tolerance, is not)."""
    with np.errstate(invalid="ignore"):
        return (x - line) > TOLERANCE * np.maximum(1.0, np.abs(line))


def _runs(cond: np.ndarray, breaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximal runs of True in `cond` that do not continue across a True in `breaks`.

    Returns, per element, the length of its run and its 0-based position in it (0 and -1
    outside a run)."""
    n = len(cond)
    start = cond & (breaks | ~_shift(cond, 1, False))
    if not start.any():
        return np.zeros(n, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    run_id = _starts_to_ids(start)
    lengths = np.bincount(run_id[cond], minlength=int(start.sum()))
    length = np.where(cond, lengths[np.maximum(run_id, 0)], 0)
    position = np.where(cond, _position(start), -1)
    return length, position


@dataclass(frozen=True)
class _Flag:
    """One rule's verdict: which points it flags, on which side, and why."""

    hit: np.ndarray  # per point
    high: np.ndarray  # per point: the signal is on the high side (else low)
    reason: np.ndarray  # per flagged point, in order: the reason text

    @classmethod
    def of(cls, hit: np.ndarray, high: np.ndarray, reason: np.ndarray) -> _Flag:
        return cls(hit, high, np.asarray(reason, dtype=object))


def _astronomical(x: np.ndarray, lim: _Limits, lay: _Layout, options: SpcOptions) -> _Flag:
    high = lim.has & _beyond(x, lim.ucl)
    low = lim.has & _beyond(-x, -lim.lcl)
    hit = high | low
    idx = np.flatnonzero(hit)
    text = _distinct(
        lambda h, ucl, lcl: (
            f"above upper limit {_num(ucl)}" if h else f"below lower limit {_num(lcl)}"
        ),
        high[idx],
        lim.ucl[idx],
        lim.lcl[idx],
    )
    return _Flag.of(hit, high, text)


def _trend(x: np.ndarray, lim: _Limits, lay: _Layout, options: SpcOptions) -> _Flag:
    """`trend_points` or more points each strictly above (or below) the one before; a tie
    breaks a trend, as do a segment start and (Making Data Count) a gap. A trend needs no
    limits, only a segment long enough to be charted."""
    diff = x - _shift(x, 1, np.nan)
    within = lim.centred & ~lay.block_start
    need = options.trend_points - 1  # steps in a qualifying trend
    out = {}
    for name, step in (("up", within & (diff > 0)), ("down", within & (diff < 0))):
        length, position = _runs(step, lay.block_start)
        by_step = step & (length >= need)  # the point completes a qualifying step
        first = _shift(by_step & (position == 0), -1, False)  # the point the trend starts from
        number = np.where(by_step, position + 2, 1)  # 1-based place in the trend
        points = np.where(by_step, length, _shift(length, -1, 0)) + 1
        out[name] = (by_step, first, number, points)
    up_step, up_first, up_no, up_len = out["up"]
    down_step, down_first, down_no, down_len = out["down"]
    rising, falling = up_step | up_first, down_step | down_first
    hit = rising | falling
    # A peak both completes an upward trend and starts a downward one: the trend it completes
    # by its own step wins ...
    high = up_step | (up_first & ~down_step)
    if options.rules.trend_junction == "following":
        # ... or, as NHSRplotthedots reads it, a trend point followed by another trend point
        # takes the direction of its step to that point (rising only if strictly rising), any
        # other its step from the point before.
        after = _shift(diff, -1, np.nan)
        followed = hit & _shift(hit, -1, False) & ~_shift(lay.block_start, -1, True)
        high = hit & np.where(followed, after > 0, ~lay.block_start & (diff > 0))
    idx = np.flatnonzero(hit)
    h = high[idx]
    own = np.where(h, rising[idx], falling[idx])  # the point is in a trend of its direction
    tail = _distinct(
        lambda up, n, own: (
            f" point of {'an upward' if up else 'a downward'} trend of {n:.0f} points"
            if own
            else f" point of {'a downward' if up else 'an upward'} trend of {n:.0f} points, "
            f"read as {'rising' if up else 'falling'} by its next step"
        ),
        h,
        np.where(rising[idx] & (h | ~falling[idx]), up_len[idx], down_len[idx]),
        own,
    )
    number = np.where(rising[idx] & (h | ~falling[idx]), up_no[idx], down_no[idx])
    return _Flag.of(hit, high, _ordinal(number) + tail)


def _two_in_three(x: np.ndarray, lim: _Limits, lay: _Layout, options: SpcOptions) -> _Flag:
    """Two of three consecutive points beyond the same two-sigma line. From November 2023 a
    point beyond the process limit counts too; before, only points between the two-sigma line
    and the limit did. Only the points beyond the line are flagged; the window never spans a
    segment start (nor, for Making Data Count, a gap). NHSRplotthedots also asks all three
    points of the window to lie on the same side of the mean."""
    hi = lim.has & _beyond(x, lim.upper_2s)
    lo = lim.has & _beyond(-x, -lim.lower_2s)
    if not options.two_in_three_beyond_3sigma:
        hi &= ~_beyond(x, lim.ucl)
        lo &= ~_beyond(-x, -lim.lcl)
    same = _shift(lay.block_id, 2, -1) == lay.block_id  # a window of three ends here
    flags = []
    for beyond, side in ((hi, _beyond(x, lim.mean)), (lo, _beyond(-x, -lim.mean))):
        if options.rules.two_in_three_same_side:
            count = beyond.astype(int) + _shift(beyond, 1, False) + _shift(beyond, 2, False)
            window = same & (count >= 2) & side & _shift(side, 1, False) & _shift(side, 2, False)
            flags.append(beyond & (window | _shift(window, -1, False) | _shift(window, -2, False)))
            continue
        partner = np.zeros(len(x), dtype=bool)
        for k in (-2, -1, 1, 2):
            partner |= _shift(beyond, k, False) & (_shift(lay.block_id, k, -1) == lay.block_id)
        flags.append(beyond & partner)
    high, low = flags
    hit = high | low
    idx = np.flatnonzero(hit)
    text = _distinct(
        lambda h, upper, lower: (
            f"two of three points above the upper two-sigma line {_num(upper)}"
            if h
            else f"two of three points below the lower two-sigma line {_num(lower)}"
        ),
        high[idx],
        lim.upper_2s[idx],
        lim.lower_2s[idx],
    )
    return _Flag.of(hit, high, text)


def _shift_rule(x: np.ndarray, lim: _Limits, lay: _Layout, options: SpcOptions) -> _Flag:
    """`run_points` or more consecutive points on one side of the mean; a point on the mean,
    a segment start or (Making Data Count) a gap breaks the run."""
    above = lim.centred & _beyond(x, lim.mean)
    below = lim.centred & _beyond(-x, -lim.mean)
    a_len, a_pos = _runs(above, lay.block_start)
    b_len, b_pos = _runs(below, lay.block_start)
    high = a_len >= options.run_points
    low = b_len >= options.run_points
    hit = high | low
    idx = np.flatnonzero(hit)
    h = high[idx]
    tail = _distinct(
        lambda up, n, mean: (
            f" point of a run of {n:.0f} {'above' if up else 'below'} the mean {_num(mean)}"
        ),
        h,
        np.where(h, a_len[idx], b_len[idx]),
        lim.mean[idx],
    )
    return _Flag.of(hit, high, _ordinal(np.where(h, a_pos[idx], b_pos[idx]) + 1) + tail)


RULE_FUNCTIONS = {
    "astronomical": _astronomical,
    "trend": _trend,
    "two_in_three": _two_in_three,
    "shift": _shift_rule,
}


def _special_causes(
    x: np.ndarray, lim: _Limits, lay: _Layout, options: SpcOptions
) -> dict[str, np.ndarray]:
    """rule, special_cause, side and reason per point: the highest-priority rule wins."""
    n = len(x)
    rule = np.full(n, None, dtype=object)
    high = np.zeros(n, dtype=bool)
    reason = np.full(n, None, dtype=object)
    free = np.ones(n, dtype=bool)
    for name in RULES:  # priority order
        flag = RULE_FUNCTIONS[name](x, lim, lay, options)
        take = flag.hit & free
        rule[take] = name
        high[take] = flag.high[take]
        reason[take] = flag.reason[free[flag.hit]]  # flag.reason is per hit, in order
        free &= ~take
    flagged = ~free
    side = np.where(flagged, np.where(high, "high", "low"), NONE).astype(object)
    if options.improvement == "neutral":
        kind = np.where(flagged, "neither", NONE)
    else:
        good = high if options.improvement == "up" else ~high
        kind = np.where(flagged, np.where(good, "improvement", "concern"), NONE)
    return {"rule": rule, "special_cause": kind.astype(object), "side": side, "reason": reason}


def _distinct(text: Callable[..., str], *columns: np.ndarray) -> np.ndarray:
    """text(*row) for each row of `columns`, called once per stretch of equal consecutive rows:
    the points of one run, or one segment's points beyond one line, share a text."""
    if len(columns[0]) == 0:
        return np.zeros(0, dtype=object)
    rows = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    texts = np.array([text(*row) for row in rows[new].tolist()], dtype=object)
    return texts[_starts_to_ids(new)]


def _num(value: float) -> str:
    """A number for a reason text: four significant figures (93.2, 16.32, 0.8512), whole
    numbers from 10,000."""
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"


def _ordinal(numbers: np.ndarray) -> np.ndarray:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st: looked up, not formatted per point."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) == 0:
        return np.zeros(0, dtype=object)
    table = np.array([f"{i}{_suffix(i)}" for i in range(int(numbers.max()) + 1)], dtype=object)
    return table[numbers]


def _suffix(i: int) -> str:
    if 11 <= i % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(i % 10, "th")


# ------------------------------------------------------------------------------ output


def _result(
    inp: _Input,
    lay: _Layout,
    x: np.ndarray,
    lim: _Limits,
    options: SpcOptions,
    target: Target,
    chart: str,
) -> SpcResult:
    causes = _special_causes(x, lim, lay, options)
    points = pd.DataFrame(
        {
            "code": inp.codes[inp.org],
            "period_end": inp.period_end,
            "value": x,
            "segment": lay.segment.astype(np.int64),
            "n_in_segment": lay.n_in_seg.astype(np.int64),
            "mean": lim.mean,
            "ucl": lim.ucl,
            "lcl": lim.lcl,
            "upper_2s": lim.upper_2s,
            "lower_2s": lim.lower_2s,
            "moving_range": lim.moving_range,
            "after_gap": lay.after_gap.astype(bool),
            **causes,
        },
        columns=POINT_COLUMNS,
    )
    summary = _summarise(inp, lay, x, lim, causes, options, target)
    return SpcResult(points=points, summary=summary, chart=chart, options=options)


def _per_org(k: int, at: np.ndarray, values: np.ndarray, fill: object) -> np.ndarray:
    """An array over all k organisations: `values` at positions `at`, `fill` elsewhere."""
    out = np.full(k, fill, dtype=object if fill is None else values.dtype)
    out[at] = values
    return out


def _variation_icon(
    causes: dict[str, np.ndarray], last: np.ndarray, shown: np.ndarray
) -> np.ndarray:
    kind, side = causes["special_cause"][last], causes["side"][last]
    flagged = pd.notna(causes["rule"][last])
    named = "special_cause_" + kind.astype(str).astype(object) + "_" + side.astype(str)
    return np.where(shown, np.where(flagged, named, COMMON_CAUSE), NONE).astype(object)


def _assurance_icon(
    target: np.ndarray,
    ucl: np.ndarray,
    lcl: np.ndarray,
    shown: np.ndarray,
    options: SpcOptions,
) -> np.ndarray:
    """Target beyond the limits on the bad side: fail; on the good side: pass; on or within
    the limits: hit and miss. None for neutral measures and where `shown` is False; otherwise
    a missing target or missing limits read as hit and miss (NHSRplotthedots' reading)."""
    above = _beyond(target, ucl)
    below = _beyond(-target, -lcl)
    if options.improvement == "up":
        icon = np.select([above, below], ["fail", "pass"], "hit_and_miss")
    else:
        icon = np.select([above, below], ["pass", "fail"], "hit_and_miss")
    usable = shown & (options.improvement != "neutral")
    return np.where(usable, icon.astype(object), NONE)


def _targets(target: Target, codes: np.ndarray) -> np.ndarray:
    if target is None:
        return np.full(len(codes), np.nan)
    if isinstance(target, pd.Series):
        return pd.to_numeric(target.reindex(codes)).to_numpy(dtype=float, na_value=np.nan)
    try:
        return np.full(len(codes), float(target))
    except (TypeError, ValueError) as exc:
        raise SpcInputError(f"target must be a number or a Series by code, not {target!r}") from exc


def _summarise(
    inp: _Input,
    lay: _Layout,
    x: np.ndarray,
    lim: _Limits,
    causes: dict[str, np.ndarray],
    options: SpcOptions,
    target: Target,
) -> pd.DataFrame:
    """One row per organisation, from its latest point (organisations without values too)."""
    k, last = len(inp.codes), lay.last
    at = inp.org[last]  # the organisations that have points

    def column(values: np.ndarray, fill: object = np.nan) -> np.ndarray:
        return _per_org(k, at, values, fill)

    has = column(lim.has[last], False)
    centred = column(lim.centred[last], False)
    ucl, lcl = column(lim.ucl[last]), column(lim.lcl[last])
    tgt = _targets(target, inp.codes)
    if options.rules.icons_without_limits:  # as NHSRplotthedots: any target given, any limits
        variation_shown, assurance_shown = centred, centred & (target is not None)
    else:
        variation_shown, assurance_shown = has, has & np.isfinite(tgt)
    facts = {
        "n_points": np.bincount(inp.org, minlength=k),
        "n_in_segment": column(lay.n_in_seg[last], 0),
        "has": has,
        "centred": centred,
        "zero_mr": column(lim.zero_mr[last], False),
        "segment": column(lay.segment[last], 1),
        "gaps": lay.gaps,
        "dropped": inp.dropped,
        "target": tgt,
    }
    return pd.DataFrame(
        {
            "code": inp.codes,
            "n_points": facts["n_points"],
            "latest_period": column(inp.period_end[last], NAT if inp.datetime else None),
            "latest_value": column(x[last]),
            "mean": column(lim.mean[last]),
            "ucl": ucl,
            "lcl": lcl,
            "target": tgt,
            "variation_icon": column(_variation_icon(causes, last, variation_shown[at]), None),
            "assurance_icon": _assurance_icon(tgt, ucl, lcl, assurance_shown, options),
            "gaps": lay.gaps,
            "note": _notes(facts, options),
        },
        columns=SUMMARY_COLUMNS,
    )


def _notes(facts: dict[str, np.ndarray], options: SpcOptions) -> np.ndarray:
    """Why an organisation has no limits or icons, and what else a reader should know."""
    k = len(facts["n_points"])
    notes = np.full(k, "", dtype=object)

    def add(mask: np.ndarray, text: np.ndarray | str) -> None:
        nonlocal notes
        joined = np.where(notes == "", text, notes + "; " + text)
        notes = np.where(mask, joined, notes).astype(object)

    def count(a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=np.int64).astype(str).astype(object)

    empty = facts["n_points"] == 0
    add(empty, "no values")
    rebased = facts["segment"] > 1
    which = np.where(rebased, " (segment " + count(facts["segment"]) + ", rebased)", "")
    points = count(facts["n_in_segment"]) + " point(s) in the current segment" + which
    add(
        ~empty & ~facts["centred"],
        points
        + f", fewer than the {options.min_points} needed: no limits, special-cause flags or icons",
    )
    single = facts["n_in_segment"] == 1
    add(
        facts["centred"] & ~facts["has"],
        np.where(
            single,
            "a single point in the current segment: no moving range, so no limits",
            "no moving range to set limits from"
            + (": every one is 0 and screened out" if options.screen_moving_ranges else ""),
        ),
    )
    trial = options.rules.trial_below
    if trial is not None:
        add(
            facts["has"] & (facts["n_in_segment"] < trial),
            points + f", fewer than {trial}: trial limits",
        )
    add(facts["zero_mr"], "no variation in the baseline: the limits collapse onto the mean")
    add(rebased & facts["has"], "limits from segment " + count(facts["segment"]) + " (rebased)")
    n_gaps = np.fromiter((len(g) for g in facts["gaps"]), dtype=np.int64, count=k)
    add(n_gaps > 0, count(n_gaps) + " missing period(s)")
    add(facts["dropped"] > 0, count(facts["dropped"]) + " row(s) without a value left out")
    add(
        np.isfinite(facts["target"]) & (options.improvement == "neutral"),
        "no assurance icon for a neutral measure",
    )
    return np.where(notes == "", NONE, notes).astype(object)
