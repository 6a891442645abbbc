"""Charts for the board report, as Vega-Lite (Altair) specifications.

Each chart is a function that takes a pandas DataFrame and returns an `alt.Chart` (or a layered
or concatenated chart) with a plain-English text alternative in its `description`, stated from
the figures drawn. `save(chart, path)` writes SVG, PNG, PDF, HTML or JSON by the file's suffix;
SVG, PNG and PDF are rendered by vl-convert, without a browser. `to_svg(chart)` gives the SVG
text for embedding in HTML (and so in a vector PDF).

Colours follow NHS England's "Making Data Count": grey for common cause, orange for concern,
blue for improvement, purple where a special cause has no better or worse direction.

The funnel plot's limits are exact binomial limits around the national proportion, interpolated
as in Spiegelhalter (2005), with a second set widened for over-dispersion by his additive
random-effects method on winsorised z-scores; `funnel_limits` and `overdispersion` compute them
(docs/report.md works an example).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc

from fourhour.errors import InvalidInputError, QueryError
from fourhour.measures.funnel import FunnelData, Overdispersion, funnel_data
from fourhour.measures.performance import STANDARD_PCT, THRESHOLD_PCT
from fourhour.report.icons import (
    COMMON,
    CONCERN,
    IMPROVEMENT,
    IMPROVEMENT_DARK,
    MID_GREY,
    NEITHER,
    assurance_colour,
    icon_svg,
    variation_colour,
)

# ------------------------------------------------------------------------------ look and feel

FONT = "Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif"
WIDTH = 560  # plot area in pixels; with axes and labels a chart fits A4 portrait
HEIGHT = 230
TEXT = "#212B32"
SECONDARY = "#425563"
NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_LIGHT_BLUE = "#41B6E6"
NHS_RED = "#DA291C"
PALE_GREY = "#E8EDEE"

# Making Data Count colours, named once in fourhour.report.icons
TARGET = NHS_RED

POINT_KINDS = ("Common cause", "Improvement", "Concern", "Neither")
POINT_COLOURS = (COMMON, IMPROVEMENT, CONCERN, NEITHER)

VL_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
LOCALE: Final = "en-GB"
FORMATS = (".svg", ".png", ".pdf", ".html", ".json")


def _configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    # One `configure` call: each `configure_*` method copies the chart again.
    return chart.configure(
        font=FONT,
        background="white",
        padding=8,
        view=alt.ViewConfig(stroke=None),
        axis=alt.AxisConfig(
            labelFontSize=10,
            titleFontSize=10,
            labelColor=SECONDARY,
            titleColor=SECONDARY,
            gridColor=PALE_GREY,
            domainColor=MID_GREY,
            tickColor=MID_GREY,
            titleFontWeight="normal",
        ),
        title=alt.TitleConfig(
            fontSize=13,
            subtitleFontSize=10,
            anchor="start",
            color=TEXT,
            subtitleColor=SECONDARY,
            offset=10,
        ),
        legend=alt.LegendConfig(
            labelFontSize=10,
            titleFontSize=10,
            labelColor=TEXT,
            orient="bottom",
            direction="horizontal",
            symbolStrokeWidth=2,
            columnPadding=16,
            labelLimit=260,
        ),
    )


def _time_axis(dates: pd.Series, unit: str = "week") -> alt.Axis:
    """Month-and-year labels that never crowd: every N months, about seven labels in all.

    For monthly series (drawn at each month's first day) the labels are placed on the months
    drawn, counting back from the latest, so that the latest month is always labelled."""
    first, last = pd.Timestamp(dates.min()), pd.Timestamp(dates.max())
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = next(s for s in (1, 2, 3, 4, 6, 12, 24) if months / s <= 7 or s == 24)
    if unit == "month":
        ticks = pd.date_range(end=last, periods=months, freq="MS")[::-1][::step][::-1]
        return alt.Axis(
            format="%b %Y",
            labelAngle=0,
            values=[alt.DateTime(year=int(t.year), month=int(t.month), date=1) for t in ticks],
            labelOverlap="greedy",
        )
    return alt.Axis(
        format="%b %Y",
        labelAngle=0,
        tickCount=alt.TimeIntervalStep(interval="month", step=step),
        labelOverlap="greedy",
    )


UNITS = ("week", "month")


def infer_unit(dates: Iterable[Any]) -> str:
    """'month' where every date is a month's last day and no two are under 28 days apart (a
    monthly series keyed by period end), else 'week'."""
    d = pd.Series(pd.to_datetime(pd.Series(list(dates)))).dropna().sort_values()
    if d.empty or not d.dt.is_month_end.all():
        return "week"
    gaps = d.diff().dropna().dt.days
    return "month" if gaps.empty or gaps.min() >= 28 else "week"


def place_periods(frame: pd.DataFrame, unit: str | None = None) -> tuple[pd.DataFrame, str]:
    """Where each period is drawn on a time axis, and its name.

    A month is drawn at its first day, so that it sits on its own month's tick and label (drawn
    at its last day, December would sit against January's tick); a week at its week ending.
    Adds `x` (the position) and `period` ("December 2018", "week ending 4 Jan 2015")."""
    unit = unit or infer_unit(frame["period_end"])
    if unit not in UNITS:
        raise InvalidInputError(f"charts are weekly or monthly, not by {unit}")
    out = frame.copy()
    ends = as_dates(out["period_end"])
    if unit == "month":
        out["x"] = ends.dt.to_period("M").dt.start_time
        out["period"] = [f"{e:%B %Y}" if pd.notna(e) else "" for e in ends]
    else:
        out["x"] = ends
        out["period"] = [f"week ending {e:%-d %b %Y}" if pd.notna(e) else "" for e in ends]
    return out, unit


def span_text(first: Any, last: Any, unit: str) -> str:
    """'April 2025 to January 2026', or 'the weeks ending 9 November 2014 to 4 January 2015'."""
    if unit == "month":
        a, b = f"{pd.Timestamp(first):%B %Y}", f"{pd.Timestamp(last):%B %Y}"
        return a if a == b else f"{a} to {b}"
    a, b = day(first), day(last)
    return f"the week ending {a}" if a == b else f"the weeks ending {a} to {b}"


def trim_empty(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Drop leading and trailing rows where every one of `columns` is missing, so that axes and
    captions cover the periods that have data (gaps inside are kept, to break lines)."""
    held = frame[columns].notna().any(axis=1).to_numpy()
    if not held.any():
        return frame.iloc[:0]
    first, last = int(np.argmax(held)), len(held) - int(np.argmax(held[::-1]))
    return frame.iloc[first:last]


PCT_RANGE = (0.0, 100.0)


@dataclass(frozen=True)
class Limits:
    """Process limits for a percentage, clipped to 0-100%, remembering what was clipped."""

    lcl: float | None
    ucl: float | None
    raw_lcl: float | None
    raw_ucl: float | None

    @property
    def clipped(self) -> list[str]:
        """'upper' and/or 'lower': the limits that fell outside 0-100% and were clipped."""
        out = []
        if self.raw_ucl is not None and self.ucl is not None and self.raw_ucl > self.ucl:
            out.append("upper")
        if self.raw_lcl is not None and self.lcl is not None and self.raw_lcl < self.lcl:
            out.append("lower")
        return out

    @property
    def note(self) -> str:
        """'the upper limit (101.0%) is clipped to 100%', or ''."""
        parts = []
        if "upper" in self.clipped:
            parts.append(f"the upper limit, {self.raw_ucl:.1f}%, is clipped to {PCT_RANGE[1]:g}%")
        if "lower" in self.clipped:
            parts.append(f"the lower limit, {self.raw_lcl:.1f}%, is clipped to {PCT_RANGE[0]:g}%")
        return " and ".join(parts)

    def text(self) -> str:
        """'79.0–100.0' (en dash), with no note; see `note` and `clipped`."""
        if self.lcl is None or self.ucl is None:
            return "–"
        return f"{self.lcl:.1f}–{self.ucl:.1f}"


def _finite(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    v = float(value)
    return v if np.isfinite(v) else None


def pct_limits(lcl: Any, ucl: Any) -> Limits:
    """A percentage's process limits clipped to 0-100%: a proportion cannot leave that range,
    though mean ± 2.66 mR can."""
    lo, hi = _finite(lcl), _finite(ucl)
    return Limits(
        None if lo is None else min(max(lo, PCT_RANGE[0]), PCT_RANGE[1]),
        None if hi is None else min(max(hi, PCT_RANGE[0]), PCT_RANGE[1]),
        lo,
        hi,
    )


def _title(text: str, subtitle: str | list[str] | None = None) -> alt.TitleParams:
    if subtitle:
        return alt.TitleParams(text, subtitle=subtitle)
    return alt.TitleParams(text)


# ----------------------------------------------------------------------------- numbers, text


def as_float(values: Iterable[Any]) -> np.ndarray:
    """Floats from DuckDB's Decimal, nullable Int64/Float64 or plain columns; NaN for missing."""
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if s.dtype == object:
        s = s.map(lambda v: np.nan if v is None or v is pd.NA else float(v))
    return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def as_dates(values: Iterable[Any]) -> pd.Series:
    """Naive timestamps (Vega-Lite reads them as local dates, so no day shifts by zone)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.Series(pd.to_datetime(s).to_numpy(dtype="datetime64[ns]"), index=s.index)


def pct(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.1f}%"


def the(label: str) -> str:
    """'week ending 4 January 2015' -> 'the week ending 4 January 2015'; months stay bare."""
    return f"the {label}" if label.startswith(("week", "Q")) else label


def day(value: Any) -> str:
    return f"{pd.Timestamp(value):%-d %B %Y}"


def names_list(names: list[str], limit: int = 5) -> str:
    """'A, B and C'; past `limit` names, 'A, B, C, D, E and 3 more'."""
    if not names:
        return ""
    shown, more = names[:limit], len(names) - limit
    if more > 0:
        return ", ".join(shown) + f" and {more} more"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _y_domain(values: Iterable[float], include: Iterable[float] = ()) -> list[float]:
    """A percentage axis that shows every value and reference line, ending at 100."""
    finite = [v for v in [*values, *include] if v is not None and np.isfinite(v)]
    if not finite:
        return [0.0, 100.0]
    low = min(finite)
    span = max(100.0 - low, 5.0)
    low = max(0.0, math.floor((low - span * 0.08) / 5.0) * 5.0)
    return [low, 100.0]


def _records(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame Altair serialises cleanly: plain floats and naive timestamps, NaN as null."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            continue
        if pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(
            out[column]
        ):
            out[column] = as_float(out[column])
    return out


# -------------------------------------------------------------------------- SPC icon labels

VARIATION_LABELS = {
    "common_cause": "Common cause variation",
    "improvement": "Special cause – improvement",
    "concern": "Special cause – concern",
    "neither": "Special cause – neither better nor worse",
}
ASSURANCE_LABELS = {
    "pass": "Consistently pass the target",
    "fail": "Consistently fail the target",
    "hit_and_miss": "Hit and miss the target",
}


@dataclass(frozen=True)
class Icon:
    """A Making Data Count icon: its key, words, colour, a letter (kept for plain-text
    outputs) and short words for tables; `svg()` draws it (fourhour.report.icons)."""

    key: str | None
    label: str
    colour: str
    letter: str
    short: str = ""  # a few words for tables
    kind: str = "variation"  # variation | assurance

    def svg(self, size: int = 28) -> str:
        """The icon as inline SVG with its words as the text alternative."""
        return icon_svg(self.kind, self.key, self.label, size)


def variation_icon(key: str | None) -> Icon:
    """'special_cause_concern_low' -> orange 'L', "Special cause – concern (low)"."""
    if not key:
        return Icon(None, "Too few points for SPC", MID_GREY, "–", "Too few points")
    if key == "common_cause":
        return Icon(key, VARIATION_LABELS["common_cause"], COMMON, "~", "Common cause")
    parts = key.removeprefix("special_cause_").split("_")
    kind, side = parts[0], (parts[1] if len(parts) > 1 else "")
    label = VARIATION_LABELS.get(kind, key.replace("_", " "))
    short = kind.capitalize()
    if side:
        label += f" ({side})"
        short += f" ({side})"
    letter = {"high": "H", "low": "L"}.get(side, "!")
    return Icon(key, label, variation_colour(key), letter, short)


def assurance_icon(key: str | None) -> Icon:
    if not key:
        return Icon(
            None,
            "No assurance (no target or too few points)",
            MID_GREY,
            "–",
            "No assurance",
            "assurance",
        )
    letter = {"pass": "P", "fail": "F", "hit_and_miss": "?"}.get(key, "?")
    label = ASSURANCE_LABELS.get(key, key.replace("_", " "))
    return Icon(
        key, label, assurance_colour(key), letter, label.removesuffix(" the target"), "assurance"
    )


# ----------------------------------------------------------------------------------- SPC chart


def _point_kind(special_cause: Any) -> str:
    return {"improvement": "Improvement", "concern": "Concern", "neither": "Neither"}.get(
        special_cause if isinstance(special_cause, str) else "", "Common cause"
    )


def _edge_labels(
    items: list[tuple[float, str, str]], domain: list[float], height: int, gap: float = 11.0
) -> pd.DataFrame:
    """Labels for horizontal lines at the right edge of a plot, in pixels from the top, pushed
    apart so that none overlaps (lines often lie within a few pixels of each other)."""
    span = domain[1] - domain[0]
    rows = sorted(
        (height * (domain[1] - min(max(v, domain[0]), domain[1])) / span, text, colour)
        for v, text, colour in items
        if np.isfinite(v)
    )
    placed: list[list] = []
    for y, text, colour in rows:
        if placed and y - placed[-1][0] < gap:
            y = placed[-1][0] + gap
        placed.append([y, text, colour])
    overflow = placed[-1][0] - height if placed else 0.0
    if overflow > 0:  # pushed below the plot: shift the crowded labels back up
        for row in placed:
            row[0] -= overflow
    return pd.DataFrame(placed, columns=["py", "text", "colour"])


def spc_chart(
    points: pd.DataFrame,
    summary: Mapping[str, Any] | pd.Series | None = None,
    *,
    title: str,
    measure: str = "four-hour performance",
    target: float | None = STANDARD_PCT,
    unit: str = "%",
    period_unit: str | None = None,
    width: int = WIDTH - 50,
    height: int = HEIGHT,
) -> alt.TopLevelMixin:
    """An XmR chart of one organisation's series in Making Data Count style.

    `points` has the SPC engine's columns (period_end, value, segment, mean, ucl, lcl,
    after_gap, special_cause, ...); `summary` is that organisation's summary row
    (variation_icon, assurance_icon, mean, ucl, lcl). `period_unit` is 'week' or 'month'
    (inferred from the dates when None): months are drawn on their own month. For a percentage
    (`unit` '%') the process limits are clipped to 0-100% and the chart says so. The latest
    limits, the icons (drawn beside the chart by the report and the web pages, with
    `Icon.svg`) and the special-cause points are stated in the chart's description.
    """
    if points.empty:
        raise QueryError(f"no points to chart for {title}")
    frame = _records(points.sort_values("period_end").reset_index(drop=True))
    frame["period_end"] = as_dates(frame["period_end"])
    frame, period_unit = place_periods(frame, period_unit)
    after_gap = (
        frame["after_gap"].fillna(False).astype(bool)
        if "after_gap" in frame
        else pd.Series(False, index=frame.index)
    )
    frame["run"] = after_gap.cumsum().astype(int)
    frame["segment"] = frame["segment"].astype(int) if "segment" in frame else 0
    frame["kind"] = [_point_kind(v) for v in frame.get("special_cause", [None] * len(frame))]
    s = dict(summary) if summary is not None else {}
    v_icon = variation_icon(s.get("variation_icon"))
    a_icon = assurance_icon(s.get("assurance_icon") if target is not None else None)
    limits = None
    if unit == "%":
        last_limits = frame[frame["mean"].notna()].tail(1) if "mean" in frame else frame.iloc[:0]
        limits = pct_limits(
            s.get("lcl", last_limits["lcl"].iloc[0] if len(last_limits) else None),
            s.get("ucl", last_limits["ucl"].iloc[0] if len(last_limits) else None),
        )
        for column in ("ucl", "lcl", "upper_2s", "lower_2s"):
            if column in frame:
                frame[column] = frame[column].clip(*PCT_RANGE)

    values = frame["value"].to_numpy(dtype=float)
    bounds = np.concatenate(
        [frame[c].to_numpy(dtype=float) for c in ("ucl", "lcl") if c in frame] or [np.empty(0)]
    )
    domain = _y_domain(
        [*values, *bounds[np.isfinite(bounds)]], [target] if target is not None else []
    )
    x = alt.X("x:T", title=None, axis=_time_axis(frame["x"], period_unit))
    yscale = alt.Scale(domain=domain, clamp=True)
    y = alt.Y("value:Q", title=f"{measure[:1].upper()}{measure[1:]} ({unit})", scale=yscale)
    base = alt.Chart(frame).encode(x=x)
    limit_frame = frame[frame["mean"].notna()] if "mean" in frame else frame.iloc[:0]
    lines = alt.Chart(limit_frame).encode(x=x, detail="segment:N")
    layers = [
        lines.mark_line(color=COMMON, strokeWidth=1.2).encode(y=alt.Y("mean:Q", scale=yscale)),
        lines.mark_line(color=COMMON, strokeWidth=1, strokeDash=[5, 3]).encode(
            y=alt.Y("ucl:Q", scale=yscale)
        ),
        lines.mark_line(color=COMMON, strokeWidth=1, strokeDash=[5, 3]).encode(
            y=alt.Y("lcl:Q", scale=yscale)
        ),
        base.mark_line(color=COMMON, strokeWidth=1.4).encode(y=y, detail="run:N"),
        base.mark_circle(size=30, opacity=1).encode(
            y=y,
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=list(POINT_KINDS), range=list(POINT_COLOURS)),
                legend=alt.Legend(orient="bottom", values=list(POINT_KINDS)),
            ),
            tooltip=[
                alt.Tooltip("period:N", title="Period"),
                alt.Tooltip("value:Q", title=measure, format=".1f"),
                *([alt.Tooltip("reason:N", title="Why")] if "reason" in frame else []),
            ],
        ),
    ]
    if target is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"y": [target]}))
            .mark_rule(color=TARGET, strokeWidth=1.2, strokeDash=[2, 2])
            .encode(y=alt.Y("y:Q", scale=yscale))
        )
    last = limit_frame.tail(1)
    clipped = limits.clipped if limits is not None else []
    items = [
        (float(last[c].iloc[0]), text + (" (clipped)" if side in clipped else ""), COMMON)
        for c, text, side in (
            ("ucl", "Upper limit", "upper"),
            ("mean", "Mean", ""),
            ("lcl", "Lower limit", "lower"),
        )
        if len(last)
    ]
    if target is not None:
        items.append((float(target), f"Target {target:g}{unit}", TARGET))
    labels = _edge_labels(items, domain, height)
    if len(labels):
        layers.append(
            alt.Chart(labels)
            .mark_text(align="left", baseline="middle", fontSize=9)
            .encode(
                x=alt.value(width + 5),
                y=alt.Y("py:Q", scale=None),
                text="text:N",
                color=alt.Color("colour:N", scale=None),
            )
        )
    subtitle = [f"{v_icon.label}" + (f" · {a_icon.label}" if target is not None else "")]
    if limits is not None and limits.note:
        subtitle.append(limits.note[:1].upper() + limits.note[1:])
    chart = alt.layer(*layers).properties(
        width=width,
        height=height,
        title=_title(title, subtitle if len(subtitle) > 1 else subtitle[0]),
        description=spc_description(
            frame,
            s,
            title=title,
            measure=measure,
            target=target,
            period_unit=period_unit,
            limits=limits,
        ),
    )
    return _configure(chart)


def gap_spans(frame: pd.DataFrame, unit: str) -> list[str]:
    """The runs of missing periods inside a series, as text: 'October 2023 to March 2025'."""
    if "after_gap" not in frame:
        return []
    ends = as_dates(frame["period_end"]).reset_index(drop=True)
    flags = frame["after_gap"].fillna(False).astype(bool).reset_index(drop=True)
    out = []
    for i in np.flatnonzero(flags.to_numpy()):
        if i == 0:
            continue
        if unit == "month":
            first = ends[i - 1] + pd.offsets.MonthEnd(1)
            last = ends[i] - pd.offsets.MonthEnd(1)
        else:
            first, last = ends[i - 1] + pd.Timedelta(weeks=1), ends[i] - pd.Timedelta(weeks=1)
        if first <= last:
            out.append(span_text(first, last, unit))
    return out


def spc_description(
    frame: pd.DataFrame,
    summary: Mapping[str, Any],
    *,
    title: str,
    measure: str,
    target: float | None,
    period_unit: str = "week",
    limits: Limits | None = None,
) -> str:
    n = len(frame)
    first, latest = frame["period_end"].iloc[0], frame["period_end"].iloc[-1]
    last = frame.iloc[-1]
    text = (
        f"Statistical process control (XmR) chart, {title}: {measure} for {n} "
        f"{period_unit}{'s' if n != 1 else ''}, {span_text(first, latest, period_unit)}. "
        f"Latest value {pct(float(last['value']))}."
    )
    gaps = gap_spans(frame, period_unit)
    if gaps:
        text += f" No figures for {names_list(gaps, 3)}; the line breaks there."
    mean = summary.get("mean", last.get("mean"))
    ucl = summary.get("ucl", last.get("ucl"))
    lcl = summary.get("lcl", last.get("lcl"))
    if mean is not None and np.isfinite(float(mean)):
        shown = limits or Limits(_finite(lcl), _finite(ucl), _finite(lcl), _finite(ucl))
        text += (
            f" Mean {pct(float(mean))}; process limits {pct(shown.lcl)} to {pct(shown.ucl)}"
            + (f" ({shown.note})" if shown.note else "")
            + "."
        )
    else:
        text += " Too few points for process limits."
    text += f" Variation: {variation_icon(summary.get('variation_icon')).label}."
    if target is not None:
        text += f" Target {target:g}%: {assurance_icon(summary.get('assurance_icon')).label}."
    special = frame[frame["kind"] != "Common cause"]
    if len(special):
        counts = special["kind"].value_counts()
        text += " Special-cause points: " + ", ".join(
            f"{counts[k]} {k.lower()}" for k in POINT_KINDS if k in counts
        )
        text += "."
    return text


# ------------------------------------------------------------------------ national trend


def national_trend_chart(
    series: pd.DataFrame,
    *,
    title: str = "England: four-hour performance against the standard",
    label: str = "all types",
    standard: float = STANDARD_PCT,
    unit_name: str = "week",
) -> alt.TopLevelMixin:
    """This year's series and the same period a year earlier, against the standard.

    `series` has period_end, value (percent) and last_year_value (the same period a year
    earlier, aligned to period_end; NaN where not held).
    """
    frame = _records(series[["period_end", "value", "last_year_value"]])
    frame["period_end"] = as_dates(frame["period_end"])
    frame = trim_empty(frame.reset_index(drop=True), ["value", "last_year_value"])
    if frame["value"].isna().all():
        raise QueryError(f"no national figures to chart ({label})")
    frame, unit_name = place_periods(frame, unit_name)
    this_name, last_name = "This year", "Same period last year"
    # Missing periods stay as nulls, so that the lines break there rather than bridge a gap.
    long = frame[["x", "period", "value", "last_year_value"]].melt(
        ["x", "period"], var_name="series", value_name="pct"
    )
    long["series"] = long["series"].map({"value": this_name, "last_year_value": last_name})
    shown = [
        n for n in (this_name, last_name) if long.loc[long["series"] == n, "pct"].notna().any()
    ]
    long = long[long["series"].isin(shown)]
    domain = _y_domain(long["pct"], [standard])
    x = alt.X("x:T", title=None, axis=_time_axis(long["x"], unit_name))
    y = alt.Y("pct:Q", title="Within four hours (%)", scale=alt.Scale(domain=domain))
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=shown, range=[NHS_BLUE, MID_GREY][: len(shown)]),
        legend=alt.Legend(symbolType="stroke", symbolSize=300),
    )
    dash = alt.StrokeDash(
        "series:N",
        title=None,
        scale=alt.Scale(domain=shown, range=[[1, 0], [5, 3]][: len(shown)]),
    )
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=12, filled=True))
        .encode(
            x=x,
            y=y,
            color=colour,
            strokeDash=dash,
            tooltip=[
                alt.Tooltip("period:N", title="Period"),
                "series:N",
                alt.Tooltip("pct:Q", format=".1f"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"y": [standard]}))
        .mark_rule(color=TARGET, strokeDash=[2, 2], strokeWidth=1.2)
        .encode(y=alt.Y("y:Q", scale=alt.Scale(domain=domain)))
    )
    rule_label = (
        alt.Chart(pd.DataFrame({"y": [standard], "t": [f"{standard:g}% standard"]}))
        .mark_text(align="left", dx=2, dy=-6, fontSize=9, color=TARGET)
        .encode(x=alt.value(2), y=alt.Y("y:Q", scale=alt.Scale(domain=domain)), text="t:N")
    )
    latest = frame[frame["value"].notna()].tail(1)
    layers = [rule, rule_label, lines]
    if len(latest):
        end_label = pd.DataFrame(
            {
                "x": latest["x"],
                "pct": latest["value"],
                "t": [pct(float(latest["value"].iloc[0]))],
            }
        )
        layers.append(
            alt.Chart(end_label)
            .mark_text(align="left", dx=6, fontSize=10, fontWeight="bold", color=NHS_BLUE)
            .encode(x=x, y=y, text="t:N")
        )
    chart = alt.layer(*layers).properties(
        width=WIDTH,
        height=HEIGHT,
        title=_title(title, f"{label[:1].upper()}{label[1:]}, by {unit_name}"),
        description=trend_description(frame, label=label, standard=standard, unit_name=unit_name),
    )
    return _configure(chart)


def trend_description(frame: pd.DataFrame, *, label: str, standard: float, unit_name: str) -> str:
    now = frame[frame["value"].notna()]
    if now.empty:
        return f"Line chart of four-hour performance ({label}): no figures for this year."
    last = now.iloc[-1]
    text = (
        f"Line chart of England's four-hour performance ({label}) over {len(now)} "
        f"{unit_name}{'s' if len(now) != 1 else ''}, "
        f"{span_text(now['period_end'].iloc[0], last['period_end'], unit_name)}, against the "
        f"{standard:g}% standard. Latest {pct(float(last['value']))}"
    )
    if np.isfinite(float(last["last_year_value"])):
        text += f", against {pct(float(last['last_year_value']))} a year earlier"
    text += (
        f". Range this year {pct(float(now['value'].min()))} to {pct(float(now['value'].max()))}; "
    )
    met = int((now["value"] >= standard).sum())
    text += f"the standard was met in {met} of {len(now)} {unit_name}s."
    return text


# ------------------------------------------------------------------- type 1 vs all types


def types_chart(
    series: pd.DataFrame,
    *,
    title: str = "England: major A&E (type 1) and all A&E types",
    standard: float = STANDARD_PCT,
    unit_name: str = "week",
) -> alt.TopLevelMixin:
    """Type 1 against all types over time. `series`: period_end, type1_pct, all_types_pct.

    Where all-types figures are not held (the weekly type 1 returns of 2010-2015) the chart
    shows type 1 alone and says so.
    """
    frame = _records(series[["period_end", "type1_pct", "all_types_pct"]])
    frame["period_end"] = as_dates(frame["period_end"])
    frame = trim_empty(frame.reset_index(drop=True), ["type1_pct", "all_types_pct"])
    has_all = bool(frame["all_types_pct"].notna().any())
    names = {"type1_pct": "Type 1 (major A&E)", "all_types_pct": "All types"}
    if frame["type1_pct"].isna().all() and not has_all:
        raise QueryError("no type 1 or all-types figures to chart")
    frame, unit_name = place_periods(frame, unit_name)
    long = frame[["x", "period", "type1_pct", "all_types_pct"]].melt(
        ["x", "period"], var_name="series", value_name="pct"
    )
    long["series"] = long["series"].map(names)
    if not has_all:
        long = long[long["series"] == names["type1_pct"]]
    domain = _y_domain(long["pct"], [standard])
    order = [names["all_types_pct"], names["type1_pct"]] if has_all else [names["type1_pct"]]
    x = alt.X("x:T", title=None, axis=_time_axis(long["x"], unit_name))
    y = alt.Y("pct:Q", title="Within four hours (%)", scale=alt.Scale(domain=domain))
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=order, range=[NHS_LIGHT_BLUE, NHS_DARK_BLUE][-len(order) :]),
                legend=alt.Legend(symbolType="stroke", symbolSize=300),
            ),
            tooltip=[
                alt.Tooltip("period:N", title="Period"),
                "series:N",
                alt.Tooltip("pct:Q", format=".1f"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"y": [standard]}))
        .mark_rule(color=TARGET, strokeDash=[2, 2], strokeWidth=1.2)
        .encode(y=alt.Y("y:Q", scale=alt.Scale(domain=domain)))
    )
    subtitle = (
        "The gap is minor units (types 2-4), which rarely breach"
        if has_all
        else "All-types figures are not published for these periods: type 1 only"
    )
    chart = alt.layer(rule, lines).properties(
        width=WIDTH,
        height=HEIGHT - 30,
        title=_title(title, subtitle),
        description=types_description(frame, has_all=has_all, unit_name=unit_name),
    )
    return _configure(chart)


def types_description(frame: pd.DataFrame, *, has_all: bool, unit_name: str) -> str:
    t1 = frame[frame["type1_pct"].notna()]
    if t1.empty:
        return "Line chart of all-types four-hour performance; no type 1 figures."
    last = t1.iloc[-1]
    held = frame[frame[["type1_pct", "all_types_pct"]].notna().any(axis=1)]
    span = span_text(held["period_end"].iloc[0], held["period_end"].iloc[-1], unit_name)
    text = (
        f"Line chart of England's four-hour performance by {unit_name}, {span}: "
        f"type 1 (major A&E) latest {pct(float(last['type1_pct']))}"
    )
    if has_all and np.isfinite(float(last["all_types_pct"])):
        gap = float(last["all_types_pct"]) - float(last["type1_pct"])
        text += f", all types {pct(float(last['all_types_pct']))} ({gap:.1f} points higher)."
    else:
        text += ". All-types figures are not published for these periods, so type 1 alone."
    return text


# ---------------------------------------------------------------------------- funnel plot


def funnel_chart(
    providers: pd.DataFrame | FunnelData,
    *,
    national_pct: float | None = None,
    title: str = "Providers: four-hour performance against attendances",
    label: str = "all types",
    period_label: str = "",
    standard: float = STANDARD_PCT,
    highlight: str | None = None,
    centre: str = "England",
) -> alt.TopLevelMixin:
    """Every provider's performance against its attendances, with control limits around the
    national proportion: exact binomial 95% and 99.8% limits, and, where the providers vary
    more than chance allows (they always do for four-hour performance), the same limits widened
    for over-dispersion. Providers outside the widened 99.8% limits are coloured and named.
    `highlight`: a provider's code, ringed and named in bold (the report's chosen provider).
    `providers` is a frame (code, name, attendances, breaches) or its `funnel_data`, computed
    once by a caller that also reports the over-dispersion."""
    funnel = (
        providers
        if isinstance(providers, FunnelData)
        else funnel_data(providers, national_pct=national_pct)
    )
    frame, limits, p0, od = funnel.providers, funnel.limits, funnel.p0, funnel.overdispersion
    adjusted = od.tau2 > 0
    lim_cols = [c for c in limits.columns if c != "n"]
    domain = _y_domain(
        [*frame["pct"], *limits[[c for c in lim_cols if "998" in c]].to_numpy().ravel()],
        [standard],
    )
    x = alt.X(
        "n:Q",
        title=f"Attendances ({label})",
        scale=alt.Scale(zero=True, nice=True),
        axis=alt.Axis(tickCount=8, format=",.0f"),
    )
    yscale = alt.Scale(domain=domain, clamp=True)

    def curve(column: str, colour: str, dash: list[int], width: float = 1.2) -> alt.Chart:
        return (
            alt.Chart(limits)
            .mark_line(color=colour, strokeDash=dash, strokeWidth=width, clip=True)
            .encode(x=x, y=alt.Y(f"{column}:Q", scale=yscale, title=None))
        )

    layers: list[alt.Chart] = []
    if adjusted:
        layers.append(
            alt.Chart(limits)
            .mark_area(color=PALE_GREY, opacity=0.8, clip=True)
            .encode(x=x, y=alt.Y("adj_lower_998:Q", scale=yscale), y2="adj_upper_998:Q")
        )
        for side in ("lower", "upper"):
            layers.append(curve(f"adj_{side}_998", COMMON, [1, 0], 1.1))
            layers.append(curve(f"adj_{side}_95", COMMON, [5, 3], 1.0))
            layers.append(curve(f"{side}_998", SECONDARY, [1, 3], 1.0))
    else:
        for side in ("lower", "upper"):
            layers.append(curve(f"{side}_998", COMMON, [1, 0], 1.1))
            layers.append(curve(f"{side}_95", COMMON, [5, 3], 1.0))
    layers.append(
        alt.Chart(pd.DataFrame({"y": [100 * p0]}))
        .mark_rule(color=TEXT, strokeWidth=1)
        .encode(y=alt.Y("y:Q", scale=yscale))
    )
    layers.append(
        alt.Chart(pd.DataFrame({"y": [standard]}))
        .mark_rule(color=TARGET, strokeDash=[2, 2], strokeWidth=1.2)
        .encode(y=alt.Y("y:Q", scale=yscale))
    )
    # The standard labelled at the left, England at the right: they are often close.
    labels: list[tuple[float, str, str, Literal["left", "right"], float]] = [
        (standard, f"{standard:g}% standard", TARGET, "left", 4),
        (100 * p0, f"{centre} {pct(100 * p0)}", TEXT, "right", WIDTH - 4),
    ]
    for value, text, colour, align, xpos in labels:
        layers.append(
            alt.Chart(pd.DataFrame({"y": [value], "t": [text]}))
            .mark_text(align=align, dy=-6, fontSize=9, fontWeight="bold", color=colour)
            .encode(x=alt.value(xpos), y=alt.Y("y:Q", scale=yscale), text="t:N")
        )
    plotted = frame.rename(columns={"attendances": "n"})
    layers.append(
        alt.Chart(plotted)
        .mark_circle(size=28, opacity=0.9, stroke="white", strokeWidth=0.4)
        .encode(
            x=x,
            y=alt.Y("pct:Q", scale=yscale, title="Within four hours (%)"),
            color=alt.Color(
                "position:N",
                title=None,
                scale=alt.Scale(
                    domain=["Below", "Within", "Above"], range=[CONCERN, COMMON, IMPROVEMENT]
                ),
                legend=alt.Legend(
                    values=["Below", "Within", "Above"],
                    labelExpr=(
                        "{'Below': 'Below the lower 99.8% limit', 'Within': 'Within the limits',"
                        " 'Above': 'Above the upper 99.8% limit'}[datum.label]"
                    ),
                ),
            ),
            tooltip=[
                "name:N",
                "code:N",
                alt.Tooltip("n:Q", title="Attendances", format=","),
                alt.Tooltip("pct:Q", title="Performance", format=".1f"),
            ],
        )
    )
    outliers = plotted[plotted["position"] == "Below"].nsmallest(8, "pct")
    chosen = plotted[plotted["code"] == highlight] if highlight else plotted.iloc[:0]
    outliers = outliers[~outliers["code"].isin(chosen["code"])]
    if len(chosen):
        layers.append(
            alt.Chart(chosen)
            .mark_point(shape="circle", size=220, filled=False, color=TEXT, strokeWidth=2.2)
            .encode(x=x, y=alt.Y("pct:Q", scale=yscale))
        )
        layers.append(
            alt.Chart(chosen.assign(tag=chosen["code"] + " (chosen)"))
            .mark_text(align="left", dx=10, dy=-8, fontSize=10, fontWeight="bold", color=TEXT)
            .encode(x=x, y=alt.Y("pct:Q", scale=yscale), text="tag:N")
        )
    if len(outliers):
        layers.append(
            alt.Chart(outliers)
            .mark_text(align="left", dx=5, dy=-3, fontSize=8, color=CONCERN)
            .encode(x=x, y=alt.Y("pct:Q", scale=yscale), text="code:N")
        )
    limits_note = (
        "Shaded: 99.8% limits widened for over-dispersion; dashed: 95%; dotted: plain binomial"
        " 99.8%"
        if adjusted
        else "Solid: binomial 99.8% limits; dashed: 95%"
    )
    chart = alt.layer(*layers).properties(
        width=WIDTH,
        height=HEIGHT + 60,
        title=_title(title, [f"{period_label}{', ' if period_label else ''}{label}", limits_note]),
        description=funnel_description(
            frame,
            p0,
            od,
            label=label,
            period_label=period_label,
            highlight=highlight,
            centre=centre,
        ),
    )
    return _configure(chart)


def funnel_description(
    frame: pd.DataFrame,
    p0: float,
    od: Overdispersion,
    *,
    label: str,
    period_label: str,
    highlight: str | None = None,
    centre: str = "England",
) -> str:
    below = frame[frame["position"] == "Below"].sort_values("pct")
    above = frame[frame["position"] == "Above"].sort_values("pct", ascending=False)
    where = f" for {the(period_label)}" if period_label else ""
    text = (
        f"Funnel plot of {len(frame)} providers' four-hour performance ({label}){where} "
        f"against their attendances ({frame['attendances'].min():,.0f} to "
        f"{frame['attendances'].max():,.0f}). {centre} {pct(100 * p0)}."
    )
    if od.tau2 > 0:
        text += (
            f" Providers vary far more than chance alone would make them (over-dispersion "
            f"factor {od.phi:,.1f}), so the limits are widened by a between-provider standard "
            f"deviation of {od.tau_points:.1f} points."
        )
    named = names_list([f"{r.name} {r.pct:.1f}%" for r in below.itertuples()])
    text += f" {len(below)} below the lower 99.8% limit" + (f" ({named})" if named else "")
    text += f", {len(above)} above the upper 99.8% limit."
    if od.tau2 > 0:
        plain = frame["binomial_position"].value_counts()
        text += (
            f" Against plain binomial limits, {plain.get('Below', 0)} would be below and "
            f"{plain.get('Above', 0)} above."
        )
    chosen = frame[frame["code"] == highlight] if highlight else frame.iloc[:0]
    if len(chosen):
        c = chosen.iloc[0]
        side = {"Below": "below the lower", "Above": "above the upper", "Within": "within the"}
        text += (
            f" Ringed: {c['name']} ({c['code']}), {pct(float(c['pct']))} of "
            f"{c['attendances']:,.0f} attendances, {side[c['position']]} 99.8% limits."
        )
    return text


# ---------------------------------------------------------------------------- league table


def league_chart(
    providers: pd.DataFrame,
    *,
    title: str = "Providers ranked by four-hour performance",
    label: str = "all types",
    period_label: str = "",
    standard: float = STANDARD_PCT,
    threshold: float = THRESHOLD_PCT,
    per_column: int = 50,
    name_chars: int = 30,
    highlight: str | None = None,
    ranks: tuple[int, int] | None = None,
) -> alt.TopLevelMixin:
    """A dot plot of every provider, ordered from lowest to highest performance, with the
    standard and the threshold marked. `providers`: code, name, performance_pct. Long lists
    are split into two side-by-side columns (more than `per_column` providers).

    `ranks` (first, last), counted from 1 for the lowest, draws only those providers in one
    column at a readable size (a printed report splits a long table over pages with
    `league_pages`); `highlight`, a provider's code, is ringed and its name set in bold."""
    frame = providers[["code", "name", "performance_pct"]].copy()
    frame["pct"] = as_float(frame["performance_pct"])
    frame = frame[frame["pct"].notna()].sort_values(["pct", "code"]).reset_index(drop=True)
    if frame.empty:
        raise QueryError("no provider performance to rank")
    frame["rank"] = np.arange(1, len(frame) + 1)
    names = frame["name"].fillna(frame["code"]).astype(str)
    short = names.where(names.str.len() <= name_chars, names.str.slice(0, name_chars - 1) + "…")
    frame["label"] = [
        f"{r}. {s} ({c})" for r, s, c in zip(frame["rank"], short, frame["code"], strict=True)
    ]
    frame["band"] = np.select(
        [frame["pct"] < threshold, frame["pct"] >= standard],
        [f"Below {threshold:g}%", f"At or above {standard:g}%"],
        f"{threshold:g}% to {standard:g}%",
    )
    bands = [
        f"Below {threshold:g}%",
        f"{threshold:g}% to {standard:g}%",
        f"At or above {standard:g}%",
    ]
    domain = _y_domain(frame["pct"], [threshold, standard])
    shown = frame
    if ranks is not None:
        shown = frame[(frame["rank"] >= ranks[0]) & (frame["rank"] <= ranks[1])]
        if shown.empty:
            raise QueryError(f"no providers ranked {ranks[0]} to {ranks[1]}")
    columns = 1 if ranks is not None or len(shown) <= per_column else 2
    rows = math.ceil(len(shown) / columns)
    xscale = alt.Scale(domain=domain)
    step = 14 if ranks is not None else min(14, max(7, 720 // rows))
    font = 10 if ranks is not None else min(10, step - 1)
    # One column (a printed page) has room for every label, already cut to `name_chars`: no
    # pixel limit, which would have vl-convert measure each label once more (a third of the
    # time it takes to draw the page).
    label_limit = 0 if ranks is not None else 200
    panel_width = WIDTH - 200 if columns == 1 else 150
    chosen_label = (
        frame.loc[frame["code"] == highlight, "label"].iloc[0]
        if highlight and (frame["code"] == highlight).any()
        else None
    )
    bold: dict[str, Any] = (
        {
            "labelFontWeight": alt.ExprRef(
                f"datum.value === {json.dumps(chosen_label)} ? 'bold' : 'normal'"
            ),
            "labelColor": alt.ExprRef(
                f"datum.value === {json.dumps(chosen_label)} ? '{TEXT}' : '{SECONDARY}'"
            ),
        }
        if chosen_label
        else {}
    )
    panels = []
    for c in range(columns):
        part = shown.iloc[c * rows : (c + 1) * rows]
        y = alt.Y(
            "label:N",
            sort=alt.EncodingSortField("rank", order="ascending"),
            title=None,
            axis=alt.Axis(
                labelFontSize=font, labelLimit=label_limit, ticks=False, labelPadding=6, **bold
            ),
        )
        base = alt.Chart(part).encode(y=y)
        stems = (
            base.mark_rule(color=PALE_GREY, strokeWidth=1)
            .encode(x=alt.X("lo:Q", scale=xscale), x2="pct:Q")
            .transform_calculate(lo=str(domain[0]))
        )
        dots = base.mark_circle(size=34, opacity=1).encode(
            x=alt.X("pct:Q", scale=xscale, title="Within four hours (%)"),
            color=alt.Color(
                "band:N",
                title=None,
                scale=alt.Scale(domain=bands, range=[CONCERN, COMMON, IMPROVEMENT_DARK]),
                legend=alt.Legend(values=bands) if c == 0 else None,
            ),
            tooltip=["name:N", "code:N", alt.Tooltip("pct:Q", format=".1f")],
        )
        refs = pd.DataFrame(
            {
                "x": [threshold, standard],
                "c": [CONCERN, TARGET],
                "t": [f"{threshold:g}%", f"{standard:g}%"],
            }
        )
        rules = (
            alt.Chart(refs)
            .mark_rule(strokeDash=[2, 2], strokeWidth=1.1)
            .encode(x=alt.X("x:Q", scale=xscale), color=alt.Color("c:N", scale=None))
        )
        rule_labels = (
            alt.Chart(refs)
            .mark_text(dy=-6, fontSize=9, baseline="bottom")
            .encode(
                x=alt.X("x:Q", scale=xscale),
                y=alt.value(0),
                text="t:N",
                color=alt.Color("c:N", scale=None),
            )
        )
        marks = [stems, rules, dots, rule_labels]
        ringed = part[part["code"] == highlight] if highlight else part.iloc[:0]
        if len(ringed):
            marks.append(
                alt.Chart(ringed)
                .mark_point(shape="circle", size=150, filled=False, color=TEXT, strokeWidth=2)
                .encode(x=alt.X("pct:Q", scale=xscale), y=y)
            )
            marks.append(
                alt.Chart(ringed.assign(t=[pct(v) for v in ringed["pct"]]))
                .mark_text(align="left", dx=10, fontSize=font, fontWeight="bold", color=TEXT)
                .encode(x=alt.X("pct:Q", scale=xscale), y=y, text="t:N")
            )
        panels.append(alt.layer(*marks).properties(width=panel_width, height=alt.Step(step)))
    which = (
        f"; ranks {int(shown['rank'].iloc[0])}-{int(shown['rank'].iloc[-1])} of {len(frame)}"
        if ranks is not None
        else ""
    )
    chart = alt.hconcat(*panels, spacing=12).properties(
        title=_title(
            title,
            f"{period_label}{', ' if period_label else ''}{label}; lowest first{which}",
        ),
        description=league_description(
            frame,
            label=label,
            period_label=period_label,
            standard=standard,
            threshold=threshold,
            shown=shown if ranks is not None else None,
            highlight=highlight,
        ),
    )
    return _configure(chart)


def league_pages(
    providers: pd.DataFrame, *, per_page: int = 50, **options: Any
) -> list[alt.TopLevelMixin]:
    """The league table as one chart per printed page, each of at most `per_page` providers
    in a single readable column (about equal parts), lowest first."""
    n = int(np.isfinite(as_float(providers["performance_pct"])).sum())
    if n == 0:
        raise QueryError("no provider performance to rank")
    pages = math.ceil(n / per_page)
    size = math.ceil(n / pages)
    return [
        league_chart(providers, ranks=(1 + k * size, min(n, (k + 1) * size)), **options)
        for k in range(pages)
    ]


def league_description(
    frame: pd.DataFrame,
    *,
    label: str,
    period_label: str,
    standard: float,
    threshold: float,
    shown: pd.DataFrame | None = None,
    highlight: str | None = None,
) -> str:
    worst, best = frame.iloc[0], frame.iloc[-1]
    n_below = int((frame["pct"] < threshold).sum())
    n_met = int((frame["pct"] >= standard).sum())
    median = float(frame["pct"].median())
    where = f" in {the(period_label)}" if period_label else ""
    text = f"Dot plot of {len(frame)} providers ranked by four-hour performance ({label}){where}. "
    if shown is not None and len(shown) < len(frame):
        first, last = shown.iloc[0], shown.iloc[-1]
        text = (
            f"Dot plot of providers ranked {int(first['rank'])} to {int(last['rank'])} of "
            f"{len(frame)} by four-hour performance ({label}){where}: "
            f"{pct(float(first['pct']))} to {pct(float(last['pct']))}. "
        )
    text += (
        f"Lowest: {worst['name'] if isinstance(worst['name'], str) else worst['code']} "
        f"{pct(float(worst['pct']))}; highest: "
        f"{best['name'] if isinstance(best['name'], str) else best['code']} "
        f"{pct(float(best['pct']))}; median {pct(median)}. {n_met} met the {standard:g}% "
        f"standard; {n_below} were below {threshold:g}%."
    )
    chosen = frame[frame["code"] == highlight] if highlight else frame.iloc[:0]
    if len(chosen) and (shown is None or highlight in set(shown["code"])):
        c = chosen.iloc[0]
        name = c["name"] if isinstance(c["name"], str) else c["code"]
        text += (
            f" Highlighted: {name} ({c['code']}), {pct(float(c['pct']))}, ranked "
            f"{int(c['rank'])} of {len(frame)} from the lowest."
        )
    return text


# ------------------------------------------------------------------------------- exporting


def _spec(chart: alt.TopLevelMixin | dict) -> dict:
    return chart if isinstance(chart, dict) else chart.to_dict()


def to_svg(chart: alt.TopLevelMixin | dict) -> str:
    """The chart (or its Vega-Lite spec) as SVG text, rendered by vl-convert (no browser)."""
    return vlc.vegalite_to_svg(
        _spec(chart), vl_version=VL_VERSION, format_locale=LOCALE, time_format_locale=LOCALE
    )


def save(chart: alt.TopLevelMixin, path: str | Path, *, scale: float = 2.0) -> Path:
    """Write the chart to `path` in the format its suffix names: .svg, .png (at `scale`), .pdf,
    .html (self-contained, no network needed to view it) or .json (the Vega-Lite spec)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInputError(
            f"cannot save a chart as {path.name!r}; expected a file ending {', '.join(FORMATS)}"
        )
    spec = _spec(chart)
    options: dict[str, Any] = {
        "vl_version": VL_VERSION,
        "format_locale": LOCALE,
        "time_format_locale": LOCALE,
    }
    if suffix == ".svg":
        path.write_text(vlc.vegalite_to_svg(spec, **options), encoding="utf-8")
    elif suffix == ".png":
        path.write_bytes(vlc.vegalite_to_png(spec, scale=scale, **options))
    elif suffix == ".pdf":
        path.write_bytes(vlc.vegalite_to_pdf(spec, **options))
    elif suffix == ".html":
        path.write_text(vlc.vegalite_to_html(spec, bundle=True, **options), encoding="utf-8")
    else:
        path.write_text(chart.to_json(indent=2) + "\n", encoding="utf-8")
    return path
