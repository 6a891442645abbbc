"""The sweep's chart: four-hour performance against mean bed occupancy, with confidence
intervals, the 95% standard and the 85% and 92% occupancy marks. Saved by suffix through
Altair (SVG, PNG and PDF rendered by vl-convert, without a browser)."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd

from fourhour.errors import InvalidInputError

FORMATS = (".svg", ".png", ".pdf", ".html", ".json")
FONT = "Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif"
STANDARD_PCT = 95.0  # the operational standard
OCCUPANCY_MARKS = (85.0, 92.0)  # the classic threshold and NHS guidance's later ceiling
SERIES = (("type1_pct", "Type 1"), ("all_types_pct", "All types"))
COLOURS = ("#005EB8", "#41B6E6", "#ED8B00", "#FFB81C", "#490092", "#AE2573", "#009639", "#78BE20")


def _long(table: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for col, label in SERIES:
        part = table[["scenario", "value", "mean_occupancy_pct"]].copy()
        part["measure"] = label
        part["performance"] = table[col]
        part["low"] = table[f"{col}_low"]
        part["high"] = table[f"{col}_high"]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    several = out["scenario"].nunique() > 1
    out["series"] = out["scenario"] + ": " + out["measure"] if several else out["measure"]
    return out


def sweep_chart(table: pd.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    data = _long(table)
    lo = pd.concat([data["low"], data["performance"]]).min()  # NaN skipped
    y_min = 0.0 if pd.isna(lo) else max(0.0, 5 * (int(lo) // 5) - 5)
    x_lo = float(data["mean_occupancy_pct"].min())
    x_hi = float(data["mean_occupancy_pct"].max())
    x = alt.X(
        "mean_occupancy_pct:Q",
        title="Mean bed occupancy (% of core beds)",
        scale=alt.Scale(domain=[min(x_lo, 80.0) - 1, max(x_hi, 96.0) + 1], nice=False),
    )
    y = alt.Y(
        "performance:Q",
        title="Attendances within four hours (%)",
        scale=alt.Scale(domain=[y_min, 100], zero=False),
    )
    several = data["scenario"].nunique() > 1
    # one scenario: a colour per measure; several: a colour per scenario, a dash per measure
    field = "scenario" if several else "measure"
    names = list(dict.fromkeys(data[field]))
    colour_scale = alt.Scale(
        domain=names, range=list(COLOURS[:: 2 if several else 1][: len(names)])
    )
    colour = alt.Color(
        f"{field}:N",
        title=None,
        scale=colour_scale,
        legend=alt.Legend(direction="vertical", orient="bottom"),
    )
    dash = alt.StrokeDash(
        "measure:N",
        title=None,
        scale=alt.Scale(domain=[m for _, m in SERIES], range=[[1, 0], [5, 3]]),
        legend=alt.Legend(direction="vertical", orient="bottom"),
    )
    tooltip = [
        alt.Tooltip("series:N"),
        alt.Tooltip("value:Q", title="swept value"),
        alt.Tooltip("mean_occupancy_pct:Q", format=".1f", title="occupancy %"),
        alt.Tooltip("performance:Q", format=".1f", title="performance %"),
        alt.Tooltip("low:Q", format=".1f"),
        alt.Tooltip("high:Q", format=".1f"),
    ]
    base = alt.Chart(data)
    band = base.mark_area(opacity=0.18).encode(
        x=x,
        y=alt.Y("low:Q", scale=alt.Scale(domain=[y_min, 100], zero=False)),
        y2="high:Q",
        color=colour,
        detail="series:N",
    )
    line = base.mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, detail="series:N")
    if several:
        line = line.encode(strokeDash=dash)
    points = base.mark_point(filled=True, size=28).encode(
        x=x, y=y, color=colour, detail="series:N", tooltip=tooltip
    )
    rules = pd.DataFrame({"occupancy": list(OCCUPANCY_MARKS)})
    marks = alt.Chart(rules).mark_rule(strokeDash=[4, 3], color="#768692").encode(x="occupancy:Q")
    mark_labels = (
        alt.Chart(rules.assign(label=[f"{v:g}%" for v in OCCUPANCY_MARKS], y=100.0))
        .mark_text(align="left", dx=3, dy=6, fontSize=9, color="#425563")
        .encode(x="occupancy:Q", y="y:Q", text="label:N")
    )
    standard = (
        alt.Chart(pd.DataFrame({"standard": [STANDARD_PCT]}))
        .mark_rule(color="#DA291C", strokeWidth=1)
        .encode(y="standard:Q")
    )
    layers = [band, marks, mark_labels, standard, line, points]
    if "today" in table and table["today"].any():
        now = data[data["value"].isin(table.loc[table["today"], "value"])].copy()
        now = now.merge(table.loc[table["today"], ["scenario", "value"]], on=["scenario", "value"])
        layers.append(_today_marks(now, x, y))
    chart = alt.layer(*layers).properties(
        width=560,
        height=300,
        title=alt.TitleParams(
            title or "Four-hour performance against bed occupancy",
            subtitle=[
                "Simulated (SYNTHETIC); shaded: 95% confidence intervals across replications;",
                f"red line: the {STANDARD_PCT:g}% standard; dashed: 85% and 92% occupancy"
                + ("; diamond: today." if "today" in table and table["today"].any() else "."),
            ],
            anchor="start",
        ),
    )
    return (
        chart.configure(font=FONT, background="white", padding=8)
        .configure_view(stroke=None)
        .configure_legend(
            labelLimit=400,
            symbolType="stroke",
            symbolOpacity=1,
            symbolStrokeWidth=3,
        )
    )


def _today_marks(now: pd.DataFrame, x: alt.X, y: alt.Y) -> alt.LayerChart:
    """A black diamond and the word "today" at the scenario's current position."""
    base = alt.Chart(now)
    diamond = base.mark_point(shape="diamond", size=140, filled=True, color="#231f20").encode(
        x=x, y=y, tooltip=[alt.Tooltip("series:N"), alt.Tooltip("performance:Q", format=".1f")]
    )
    words = base.mark_text(dx=8, dy=-8, align="left", fontSize=10, color="#231f20").encode(
        x=x, y=y, text=alt.value("today")
    )
    return alt.LayerChart(layer=[diamond, words])


def levers_chart(curves: pd.DataFrame, target: float, *, title: str) -> alt.TopLevelMixin:
    """Type 1 performance against mean occupancy as each lever moves from today: one line a
    lever, today marked, the target as a line."""
    data = curves.copy()
    y_lo = float(min(data["type1_pct_low"].min(), target))
    y_min = max(0.0, 5 * (int(y_lo) // 5) - 5)
    x = alt.X(
        "mean_occupancy_pct:Q",
        title="Mean bed occupancy (% of core beds)",
        scale=alt.Scale(zero=False, nice=False, padding=12),
    )
    y = alt.Y(
        "type1_pct:Q",
        title="Type 1 attendances within four hours (%)",
        scale=alt.Scale(domain=[y_min, 100], zero=False),
    )
    names = list(dict.fromkeys(data["label"]))
    colour = alt.Color(
        "label:N",
        title=None,
        scale=alt.Scale(domain=names, range=list(COLOURS[: len(names)])),
        legend=alt.Legend(direction="vertical", orient="bottom"),
    )
    base = alt.Chart(data)
    line = base.mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, order="step:Q")
    points = base.mark_point(filled=True, size=28).encode(
        x=x,
        y=y,
        color=colour,
        tooltip=[
            alt.Tooltip("label:N", title="lever"),
            alt.Tooltip("value:Q", title="value"),
            alt.Tooltip("mean_occupancy_pct:Q", format=".1f", title="occupancy %"),
            alt.Tooltip("type1_pct:Q", format=".1f", title="type 1 %"),
        ],
    )
    now = data[data["today"]].head(1)
    diamond = (
        alt.Chart(now)
        .mark_point(shape="diamond", size=160, filled=True, color="#231f20")
        .encode(x=x, y=y)
    )
    words = (
        alt.Chart(now)
        .mark_text(dx=8, dy=-8, align="left", fontSize=10, color="#231f20")
        .encode(x=x, y=y, text=alt.value("today"))
    )
    goal = (
        alt.Chart(pd.DataFrame({"target": [target]}))
        .mark_rule(color="#DA291C", strokeDash=[5, 3])
        .encode(y="target:Q")
    )
    chart = alt.layer(goal, line, points, diamond, words).properties(
        width=560,
        height=300,
        title=alt.TitleParams(
            title,
            subtitle=[
                "Each line moves one lever from today (diamond); simulated (SYNTHETIC).",
                f"Red dashed line: the {target:g}% target.",
            ],
            anchor="start",
        ),
    )
    return (
        chart.configure(font=FONT, background="white", padding=8)
        .configure_view(stroke=None)
        .configure_legend(labelLimit=400)
    )


def check_chart_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InvalidInputError(
            f"cannot save a chart as {path.name!r}; expected a file ending {', '.join(FORMATS)}"
        )
    return path


def save_chart(chart: alt.TopLevelMixin, path: str | Path) -> Path:
    """Write the chart in the format its suffix names (.svg, .png, .pdf, .html, .json)."""
    path = check_chart_path(path)
    if path.suffix.lower() == ".png":
        chart.save(path, scale_factor=2)
    elif path.suffix.lower() == ".html":
        chart.save(path, inline=True)
    else:
        chart.save(path)
    return path
