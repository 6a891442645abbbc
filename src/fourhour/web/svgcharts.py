"""The league dot plot and the SPC chart of the organisation pages, written as SVG directly.

The report's Altair charts (`fourhour.report.charts`) rendered by vl-convert took about a
second for an SPC chart and several for a league of 200 providers: too slow for a page's first
request. These draw the same marks (the same colours, limits, target, bands and text
alternative, from `fourhour.report.charts`) as plain SVG in a few milliseconds, with no script:
the pages stay usable without JavaScript and every figure has its table beside it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from fourhour.measures.performance import STANDARD_PCT, THRESHOLD_PCT
from fourhour.report import charts
from fourhour.report.icons import COMMON, CONCERN, IMPROVEMENT_DARK
from fourhour.web.figures import Figure

FONT = charts.FONT
KIND_COLOURS = dict(zip(charts.POINT_KINDS, charts.POINT_COLOURS, strict=True))
TITLE_LINE, SUBTITLE_LINE = 16, 14  # the height of a wrapped title's or subtitle's lines


@dataclass(frozen=True)
class Layout:
    """Where a chart's parts go. Each chart is drawn twice: WIDE for a page at least 640 px
    wide (the SVG scales to its container, at most 760 px: app.css), and NARROW for a phone
    (390 px wide: about 360 px of chart, drawn at about its own size, so that its text stays
    10-13 px instead of shrinking). The page shows one of the two (app.css)."""

    name: str
    width: int  # the viewBox's width
    plot_left: int  # time-series plot area (SPC, trend)
    plot_right: int
    plot_height: int
    x_labels: int  # the most dated labels on a time axis
    limits_inside: bool  # SPC limit labels above their lines' right ends, not to the right
    title_chars: int  # titles and subtitles wrap beyond about this many characters
    league_label: int  # room for "rank. name (code)" in a league's one column
    league_name_chars: int

    def top(self, title_lines: int, subtitle_lines: int) -> float:
        """The top of the plot area under a title and subtitle of so many lines."""
        return 46 + (title_lines - 1) * TITLE_LINE + (subtitle_lines - 1) * SUBTITLE_LINE


WIDE = Layout("wide", 640, 52, 540, 230, 6, False, 88, 230, 30)
NARROW = Layout("narrow", 360, 40, 350, 200, 4, True, 46, 168, 20)


def _f(value: float) -> str:
    return f"{value:.1f}"


def _text(x: float, y: float, text: str, *, size: int = 11, fill: str = charts.TEXT,
          anchor: str = "start", weight: str = "normal") -> str:  # fmt: skip
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size}" fill="{fill}" '
        f'text-anchor="{anchor}" font-weight="{weight}">{escape(text)}</text>'
    )


def _svg(
    key: str, title: str, description: str, height: float, body: list[str], layout: Layout
) -> Markup:
    ids = key if layout is WIDE else f"{key}-{layout.name}"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {layout.width} {_f(height)}" '
        f'role="img" aria-labelledby="{ids}-title" aria-describedby="{ids}-desc" '
        f'focusable="false" class="fh-chart__svg fh-chart__svg--{layout.name}" '
        f'font-family="{escape(FONT)}">'
        f'<title id="{ids}-title">{escape(title)}</title>'
        f'<desc id="{ids}-desc">{escape(description)}</desc>'
        f'<g aria-hidden="true">{"".join(body)}</g></svg>'
    )


def _both(
    key: str, title: str, description: str, draw: Callable[[Layout], tuple[float, list[str]]]
) -> Figure:
    """The figure drawn for wide pages and for phones (`draw(layout)` -> height, marks)."""
    wide, narrow = (_svg(key, title, description, *draw(lay), lay) for lay in (WIDE, NARROW))
    return Figure(key, wide, description, title, narrow=narrow)


def _wrapped(text: str, chars: int) -> list[str]:
    return textwrap.wrap(text, chars, break_on_hyphens=False) or [""]


def _title_lines(title: str, subtitle: str, layout: Layout) -> tuple[list[str], float]:
    """The title (bold) and subtitle, wrapped to the layout's width; and the plot's top."""
    heads = _wrapped(title, layout.title_chars)
    subs = _wrapped(subtitle, round(layout.title_chars * 1.15))
    out = [_text(8, 18 + i * TITLE_LINE, line, size=13, weight="bold") for i, line in
           enumerate(heads)]  # fmt: skip
    below = 34 + (len(heads) - 1) * TITLE_LINE
    out += [_text(8, below + i * SUBTITLE_LINE, line, size=11, fill=charts.SECONDARY)
            for i, line in enumerate(subs)]  # fmt: skip
    return out, layout.top(len(heads), len(subs))


def _band(pct: float, standard: float, threshold: float) -> str:
    return CONCERN if pct < threshold else IMPROVEMENT_DARK if pct >= standard else COMMON


# ------------------------------------------------------------------------------ league


def league_figure(
    rows: list[dict[str, Any]],
    *,
    key: str,
    title: str,
    label: str,
    period_label: str,
    standard: float = STANDARD_PCT,
    threshold: float = THRESHOLD_PCT,
    per_column: int = 50,
    name_chars: int = 30,
) -> Figure | None:
    """Every organisation with a figure as a dot on its own line, lowest first, with the
    threshold and the standard marked; more than `per_column` in two columns."""
    frame = pd.DataFrame(
        {
            "code": [r["code"] for r in rows],
            "name": [r["name"] for r in rows],
            "pct": charts.as_float([r["performance_pct"] for r in rows]),
        }
    )
    frame = frame[frame["pct"].notna()].sort_values(["pct", "code"]).reset_index(drop=True)
    if frame.empty:
        return None
    frame["rank"] = np.arange(1, len(frame) + 1)
    description = charts.league_description(
        frame, label=label, period_label=period_label, standard=standard, threshold=threshold
    )
    domain = charts._y_domain(frame["pct"], [threshold, standard])
    subtitle = f"{period_label}{', ' if period_label else ''}{label}; lowest first"

    def draw(layout: Layout) -> tuple[float, list[str]]:
        # Wide: more than `per_column` organisations in two columns; a phone: one column.
        columns = 1 if len(frame) <= per_column or layout is NARROW else 2
        per = math.ceil(len(frame) / columns)
        step = 14 if columns == 1 else 12
        body, top = _title_lines(title, subtitle, layout)
        legend_y = top + 6
        top += 38
        panel = layout.width / columns
        label_w = layout.league_label if columns == 1 else 196
        chars = min(name_chars, layout.league_name_chars if columns == 1 else 22)
        legend_x = 8.0
        for text, colour in (
            (f"Below {threshold:g}%", CONCERN),
            (f"{threshold:g}% to {standard:g}%", COMMON),
            (f"At or above {standard:g}%", IMPROVEMENT_DARK),
        ):
            body.append(
                f'<circle cx="{_f(legend_x + 5)}" cy="{_f(legend_y)}" r="4.5" fill="{colour}"/>'
            )
            body.append(_text(legend_x + 14, legend_y + 4, text, size=11, fill=charts.SECONDARY))
            legend_x += 24 + 6.2 * len(text)
        for c in range(columns):
            part = frame.iloc[c * per : (c + 1) * per]
            x0 = c * panel + label_w
            x1 = (c + 1) * panel - 12

            def sx(v: float, x0: float = x0, x1: float = x1) -> float:
                return x0 + (v - domain[0]) / (domain[1] - domain[0]) * (x1 - x0)

            bottom = top + len(part) * step
            for value, colour in ((threshold, CONCERN), (standard, charts.TARGET)):
                x = sx(value)
                body.append(
                    f'<line x1="{_f(x)}" y1="{_f(top - 4)}" x2="{_f(x)}" y2="{_f(bottom)}" '
                    f'stroke="{colour}" stroke-width="1.1" stroke-dasharray="2 2"/>'
                )
                body.append(_text(x, top - 7, f"{value:g}%", size=10, fill=colour, anchor="middle"))
            for i, r in enumerate(part.itertuples()):
                pct = float(r.pct)  # type: ignore[arg-type]  # itertuples' fields are untyped
                y = top + i * step + step / 2
                name = str(r.name) if isinstance(r.name, str) else str(r.code)
                name = name if len(name) <= chars else name[: chars - 1] + "…"
                size = 10 if columns == 1 else 9
                body.append(
                    _text(
                        x0 - 6,
                        y + 3.5,
                        f"{r.rank}. {name} ({r.code})",
                        size=size,
                        fill=charts.SECONDARY,
                        anchor="end",
                    )
                )
                body.append(
                    f'<line x1="{_f(x0)}" y1="{_f(y)}" x2="{_f(sx(pct))}" y2="{_f(y)}" '
                    f'stroke="{charts.PALE_GREY}"/>'
                    f'<circle cx="{_f(sx(pct))}" cy="{_f(y)}" r="3.3" '
                    f'fill="{_band(pct, standard, threshold)}"/>'
                )
            for tick in _ticks(domain, 4 if layout is WIDE else 3):
                x = sx(tick)
                body.append(
                    f'<line x1="{_f(x)}" y1="{_f(bottom)}" x2="{_f(x)}" y2="{_f(bottom + 4)}" '
                    f'stroke="{charts.SECONDARY}"/>'
                )
                body.append(_text(x, bottom + 15, f"{tick:g}", size=10, anchor="middle"))
            body.append(
                _text((x0 + x1) / 2, bottom + 30, "Within four hours (%)", size=10,
                      anchor="middle")
            )  # fmt: skip
        return top + per * step + 40, body

    return _both(key, title, description, draw)


def _ticks(domain: list[float], count: int) -> list[float]:
    span = domain[1] - domain[0]
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(domain[0] / step) * step
    return [round(first + i * step, 6) for i in range(int((domain[1] - first) / step) + 1)]


# ------------------------------------------------------------------------------ SPC


def spc_figure(
    points: pd.DataFrame,
    summary: Mapping[str, Any],
    *,
    key: str,
    title: str,
    heading: str,
    period_unit: str,
    target: float = STANDARD_PCT,
    measure: str = "four-hour performance",
) -> Figure:
    """An XmR chart in Making Data Count style: the series (broken at gaps), the mean and
    process limits by segment (clipped to 0-100%), the target, special-cause points coloured,
    the latest limits labelled at the right edge; described as `charts.spc_description`."""
    frame = charts._records(points.sort_values("period_end").reset_index(drop=True))
    frame["period_end"] = charts.as_dates(frame["period_end"])
    frame, period_unit = charts.place_periods(frame, period_unit)
    after_gap = frame["after_gap"].fillna(False).astype(bool) if "after_gap" in frame else (
        pd.Series(False, index=frame.index))  # fmt: skip
    frame["run"] = after_gap.cumsum().astype(int)
    frame["segment"] = frame["segment"].astype(int) if "segment" in frame else 0
    frame["kind"] = [charts._point_kind(v) for v in frame.get("special_cause", [None] * len(frame))]
    s = dict(summary)
    last_limits = frame[frame["mean"].notna()].tail(1)
    limits = charts.pct_limits(
        s.get("lcl", last_limits["lcl"].iloc[0] if len(last_limits) else None),
        s.get("ucl", last_limits["ucl"].iloc[0] if len(last_limits) else None),
    )
    for column in ("ucl", "lcl"):
        frame[column] = frame[column].clip(*charts.PCT_RANGE)
    description = charts.spc_description(
        frame, s, title=title, measure=measure, target=target, period_unit=period_unit,
        limits=limits,
    )  # fmt: skip
    values = frame["value"].to_numpy(dtype=float)
    bounds = np.concatenate([frame[c].to_numpy(dtype=float) for c in ("ucl", "lcl")])
    domain = charts._y_domain([*values, *bounds[np.isfinite(bounds)]], [target])
    xs = pd.to_datetime(frame["x"]).astype("int64").to_numpy(dtype=float)
    v_icon = charts.variation_icon(s.get("variation_icon"))
    a_icon = charts.assurance_icon(s.get("assurance_icon"))
    subtitle = f"{v_icon.label} · {a_icon.label}"
    if limits.note:
        subtitle += f"; {limits.note}"
    with_limits = frame[frame["mean"].notna()]
    items = []
    if len(with_limits):
        last = with_limits.iloc[-1]
        clipped = limits.clipped
        items = [
            (float(last["ucl"]), "Upper limit" + (" (clipped)" if "upper" in clipped else ""),
             COMMON),
            (float(last["mean"]), "Mean", COMMON),
            (float(last["lcl"]), "Lower limit" + (" (clipped)" if "lower" in clipped else ""),
             COMMON),
        ]  # fmt: skip
    items.append((float(target), f"Target {target:g}%", charts.TARGET))

    def draw(layout: Layout) -> tuple[float, list[str]]:
        body, top = _title_lines(heading, subtitle, layout)
        plot = _plot_area(layout, top)
        sx, sy = _scales(plot, xs, domain)
        bottom = plot.bottom
        body += _time_axes(
            domain, sy, sx, xs, frame["x"], period_unit, f"{measure[:1].upper()}{measure[1:]} (%)",
            plot,
        )  # fmt: skip
        for _, seg in with_limits.groupby("segment", sort=True):
            seg_x = [sx(xs[i]) for i in seg.index]
            for column, dash, width in (("mean", "", 1.2), ("ucl", "5 3", 1), ("lcl", "5 3", 1)):
                path = " ".join(
                    f"{_f(x)},{_f(sy(float(v)))}" for x, v in zip(seg_x, seg[column], strict=True)
                )
                dashes = f' stroke-dasharray="{dash}"' if dash else ""
                body.append(
                    f'<polyline points="{path}" fill="none" stroke="{COMMON}" '
                    f'stroke-width="{width}"{dashes}/>'
                )
        y_target = sy(target)
        body.append(
            f'<line x1="{plot.left}" y1="{_f(y_target)}" x2="{plot.right}" y2="{_f(y_target)}" '
            f'stroke="{charts.TARGET}" stroke-width="1.2" stroke-dasharray="2 2"/>'
        )
        for _, run in frame.groupby("run", sort=True):
            path = " ".join(f"{_f(sx(xs[i]))},{_f(sy(float(run['value'][i])))}" for i in run.index)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{COMMON}" stroke-width="1.4"/>'
            )
        for j, r in frame.iterrows():
            i = int(j)  # type: ignore[call-overload]  # a RangeIndex label
            body.append(
                f'<circle cx="{_f(sx(xs[i]))}" cy="{_f(sy(float(r["value"])))}" r="2.9" '
                f'fill="{KIND_COLOURS[r["kind"]]}"/>'
            )
        # The latest limits labelled: to the right of the plot, or (a phone) above the lines'
        # right ends, inside it, on a white backing so that the points under them still show.
        placed: list[float] = []
        for value, text, colour in sorted(items, key=lambda t: -t[0]):
            y = sy(value) - (4 if layout.limits_inside else -3.5)
            while any(abs(y - p) < 11 for p in placed):
                y += 11
            placed.append(y)
            if layout.limits_inside:
                body.append(
                    f'<text x="{_f(plot.right - 2)}" y="{_f(y)}" font-size="10" fill="{colour}" '
                    'text-anchor="end" stroke="#fff" stroke-width="3" paint-order="stroke">'
                    f"{escape(text)}</text>"
                )
            else:
                body.append(_text(plot.right + 6, y, text, size=10, fill=colour))
        kinds = [(kind, _dot(KIND_COLOURS[kind]), 12, 26) for kind in charts.POINT_KINDS]
        return bottom + _legend(body, plot, bottom, kinds), body

    return _both(key, heading, description, draw)


def _plot_area(layout: Layout, top: float) -> Plot:
    return Plot(layout, float(layout.plot_left), float(layout.plot_right), top,
                float(layout.plot_height))  # fmt: skip


@dataclass(frozen=True)
class Plot:
    """A time series' plot area in a layout."""

    layout: Layout
    left: float
    right: float
    top: float
    height: float

    @property
    def bottom(self) -> float:
        return self.top + self.height


def _scales(
    plot: Plot, xs: np.ndarray, domain: list[float]
) -> tuple[Callable[[float], float], Callable[[float], float]]:
    """x (time, a lone point centred) and y (clamped to the domain) in the plot area."""
    lo, hi = float(xs.min()), float(xs.max())

    def sx(v: float) -> float:
        return plot.left + (0.5 if hi == lo else (v - lo) / (hi - lo)) * (plot.right - plot.left)

    def sy(v: float) -> float:
        v = min(max(v, domain[0]), domain[1])
        return plot.bottom - (v - domain[0]) / (domain[1] - domain[0]) * plot.height

    return sx, sy


Mark = Callable[[float, float], str]  # a legend item's mark at its left edge x and line y


def _legend(body: list[str], plot: Plot, bottom: float, items: list[tuple[str, Mark, int, int]]
            ) -> float:  # fmt: skip
    """A legend under the x axis: per item (name, its mark, where the name starts after the
    mark, the item's width before its name), wrapping to a new row at the layout's edge.
    Returns the height below `bottom` the chart needs."""
    x, y = plot.left, bottom + 34
    for name, mark, text_dx, width in items:
        size = width + 6 * len(name)
        if x + size > plot.layout.width and x > plot.left:
            x, y = plot.left, y + 16
        body.append(mark(x, y))
        body.append(_text(x + text_dx, y + 4, name, size=10, fill=charts.SECONDARY))
        x += size
    return y - bottom + 16


def _dot(colour: str) -> Mark:
    return lambda x, y: f'<circle cx="{_f(x + 4)}" cy="{_f(y)}" r="4" fill="{colour}"/>'


def _dash(colour: str, dash: str) -> Mark:
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return lambda x, y: (
        f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x + 22)}" y2="{_f(y)}" stroke="{colour}" '
        f'stroke-width="2"{dashes}/>'
    )


def _x_label_positions(n: int, most: int) -> list[int]:
    if n <= most:
        return list(range(n))
    step = math.ceil((n - 1) / (most - 1))
    return list(range(0, n, step))


# ------------------------------------------------------------------------------ England trend


def trend_figure(
    series: pd.DataFrame,
    *,
    key: str,
    title: str,
    label: str,
    unit_name: str,
    standard: float = STANDARD_PCT,
) -> Figure | None:
    """This year's series and the same periods a year earlier, against the standard (the
    marks of `charts.national_trend_chart`), described as `charts.trend_description`."""
    frame = charts._records(series[["period_end", "value", "last_year_value"]])
    frame["period_end"] = charts.as_dates(frame["period_end"])
    frame = charts.trim_empty(frame.reset_index(drop=True), ["value", "last_year_value"])
    if frame.empty or frame["value"].isna().all():
        return None
    frame, unit_name = charts.place_periods(frame.reset_index(drop=True), unit_name)
    description = charts.trend_description(
        frame, label=label, standard=standard, unit_name=unit_name
    )
    values = [v for c in ("value", "last_year_value") for v in frame[c] if pd.notna(v)]
    domain = charts._y_domain(values, [standard])
    xs = pd.to_datetime(frame["x"]).astype("int64").to_numpy(dtype=float)
    subtitle = f"{label[:1].upper()}{label[1:]}, by {unit_name}"
    latest = frame[frame["value"].notna()].tail(1)

    def draw(layout: Layout) -> tuple[float, list[str]]:
        body, top = _title_lines(title, subtitle, layout)
        plot = _plot_area(layout, top)
        sx, sy = _scales(plot, xs, domain)
        bottom = plot.bottom
        body += _time_axes(domain, sy, sx, xs, frame["x"], unit_name, "Within four hours (%)",
                           plot)  # fmt: skip
        y_standard = sy(standard)
        body.append(
            f'<line x1="{plot.left}" y1="{_f(y_standard)}" x2="{plot.right}" '
            f'y2="{_f(y_standard)}" stroke="{charts.TARGET}" stroke-width="1.2" '
            'stroke-dasharray="2 2"/>'
        )
        body.append(
            _text(plot.left + 2, y_standard - 5, f"{standard:g}% standard", size=10,
                  fill=charts.TARGET)
        )  # fmt: skip
        legend = []
        for column, name, colour, dash in (
            ("last_year_value", "Same period last year", charts.MID_GREY, "5 3"),
            ("value", "This year", charts.NHS_BLUE, ""),
        ):
            if frame[column].isna().all():
                continue
            legend.append((name, colour, dash))
            run: list[str] = []
            for i, v in enumerate(frame[column]):
                if pd.isna(v):  # a missing period breaks the line
                    if len(run) > 1:
                        body.append(_polyline(run, colour, dash))
                    run = []
                    continue
                run.append(f"{_f(sx(xs[i]))},{_f(sy(float(v)))}")
                body.append(f'<circle cx="{_f(sx(xs[i]))}" cy="{_f(sy(float(v)))}" r="1.8" '
                            f'fill="{colour}"/>')  # fmt: skip
            if len(run) > 1:
                body.append(_polyline(run, colour, dash))
        if len(latest):
            i = int(latest.index[0])
            v = float(latest["value"].iloc[0])
            text, x = charts.pct(v), sx(xs[i]) + 6
            anchor = "start"
            if x + 7 * len(text) > layout.width:  # no room to the right: to the left
                x, anchor = sx(xs[i]) - 6, "end"
            body.append(
                _text(x, sy(v) + 4, text, size=11, fill=charts.NHS_BLUE, anchor=anchor,
                      weight="bold")
            )  # fmt: skip
        marks = [(name, _dash(colour, dash), 28, 40) for name, colour, dash in reversed(legend)]
        return bottom + _legend(body, plot, bottom, marks), body

    return _both(key, title, description, draw)


def _polyline(points: list[str], colour: str, dash: str) -> str:
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
        f'stroke-width="2"{dashes}/>'
    )


def _time_axes(
    domain: list[float],
    sy: Callable[[float], float],
    sx: Callable[[float], float],
    xs: np.ndarray,
    stamps: pd.Series,
    unit: str,
    y_title: str,
    plot: Plot,
) -> list[str]:
    """A time-series chart's axes: y ticks and grid lines, the y title, the x axis and a few
    dated x labels (months as 'Jan 2017', weeks by their last day; six wide, four on a
    phone)."""
    out = []
    bottom = plot.bottom
    for tick in _ticks(domain, 5):
        y = sy(tick)
        out.append(
            f'<line x1="{_f(plot.left)}" y1="{_f(y)}" x2="{_f(plot.right)}" y2="{_f(y)}" '
            f'stroke="{charts.PALE_GREY}"/>'
        )
        out.append(_text(plot.left - 6, y + 3.5, f"{tick:g}", size=10, anchor="end"))
    out.append(
        f'<text transform="translate(13 {_f(plot.top + plot.height / 2)}) rotate(-90)" '
        f'font-size="10" fill="{charts.TEXT}" text-anchor="middle">{escape(y_title)}</text>'
    )
    out.append(
        f'<line x1="{_f(plot.left)}" y1="{_f(bottom)}" x2="{_f(plot.right)}" y2="{_f(bottom)}" '
        f'stroke="{charts.SECONDARY}"/>'
    )
    for i in _x_label_positions(len(stamps), plot.layout.x_labels):
        x = sx(xs[i])
        stamp = pd.Timestamp(stamps.iloc[i])
        text = f"{stamp:%b %Y}" if unit == "month" else f"{stamp:%-d %b %Y}"
        out.append(
            f'<line x1="{_f(x)}" y1="{_f(bottom)}" x2="{_f(x)}" y2="{_f(bottom + 4)}" '
            f'stroke="{charts.SECONDARY}"/>'
        )
        out.append(_text(x, bottom + 16, text, size=10, anchor="middle"))
    return out
