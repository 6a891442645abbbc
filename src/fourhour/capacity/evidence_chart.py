"""The evidence chart: four-hour performance against G&A bed occupancy in the real data
(pooled, with 95% intervals), the capacity model's curve on the same axes, and the
within-trust extra share over four hours by occupancy."""

from __future__ import annotations

import altair as alt
import pandas as pd

from fourhour.capacity.chart import COLOURS, FONT, OCCUPANCY_MARKS
from fourhour.capacity.evidence import BIN_FLOOR_PCT, REFERENCE_PCT, Evidence
from fourhour.measures.performance import STANDARD_PCT


def _marks(y_top: float, x_scale: alt.Scale) -> alt.LayerChart:
    rules = pd.DataFrame({"occupancy": list(OCCUPANCY_MARKS)})
    x = alt.X("occupancy:Q", scale=x_scale)
    lines = alt.Chart(rules).mark_rule(strokeDash=[4, 3], color="#768692").encode(x=x)
    labels = (
        alt.Chart(rules.assign(label=[f"{v:g}%" for v in OCCUPANCY_MARKS], y=y_top))
        .mark_text(align="left", dx=3, dy=6, fontSize=9, color="#425563")
        .encode(x=x, y="y:Q", text="label:N")
    )
    return alt.LayerChart(layer=[lines, labels])


def describe_chart(e: Evidence) -> str:
    """A text alternative for the chart."""
    s = e.summary
    at = {r["occupancy_pct"]: r for r in e.extra.to_dict("records")}
    parts = [
        f"Type 1 four-hour performance against G&A bed occupancy for {s['trust_periods']:,} "
        f"trust-periods from {s['trusts']} trusts ({s['first_day']} to {s['last_day']})."
    ]
    if 95.0 in at and at[95.0]["trust_periods"]:
        parts.append(
            f"At 95% occupancy {at[95.0]['pooled_extra_points']:+.1f} points more patients "
            f"waited over four hours than at {REFERENCE_PCT:g}% or less."
        )
    return " ".join(parts)


def evidence_chart(
    e: Evidence, *, title: str | None = None, within: bool = True
) -> alt.TopLevelMixin:
    b = e.binned[e.binned["occupancy_from"].notna()].copy()  # the open lowest bin has no x
    b["x"] = b["mean_occupancy_pct"]
    parts = []
    for col, label in (("type1", "Type 1, real trusts"), ("all_types", "All types, real trusts")):
        part = b[["x", "trust_periods"]].copy()
        part["series"] = label
        part["performance"] = b[f"{col}_pct"]
        part["low"], part["high"] = b[f"{col}_low"], b[f"{col}_high"]
        parts.append(part)
    data = pd.concat(parts, ignore_index=True)
    model = e.model
    names = ["Type 1, real trusts", "All types, real trusts"]
    if model is not None and not model.empty:
        names.append(f"Type 1, capacity model ({model['scenario'].iloc[0]})")
    lo = min(data["low"].min(), 100.0 if model is None else model["type1_pct"].min())
    y_min = max(0.0, 5 * (int(lo) // 5) - 5)
    x_scale = alt.Scale(domain=[BIN_FLOOR_PCT - 1, 101], nice=False, zero=False)
    x = alt.X("x:Q", title="G&A bed occupancy (%)", scale=x_scale)
    y_scale = alt.Scale(domain=[y_min, 100], zero=False)
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=names, range=[COLOURS[0], COLOURS[1], COLOURS[2]][: len(names)]),
        legend=alt.Legend(direction="vertical", orient="bottom"),
    )
    base = alt.Chart(data)
    bars = base.mark_rule(opacity=0.6).encode(
        x=x, y=alt.Y("low:Q", scale=y_scale), y2="high:Q", color=colour
    )
    dots = base.mark_point(filled=True, size=36).encode(
        x=x,
        y=alt.Y("performance:Q", title="Attendances within four hours (%)", scale=y_scale),
        color=colour,
        tooltip=[
            alt.Tooltip("series:N"),
            alt.Tooltip("x:Q", format=".1f", title="occupancy %"),
            alt.Tooltip("performance:Q", format=".1f", title="within 4h %"),
            alt.Tooltip("low:Q", format=".1f"),
            alt.Tooltip("high:Q", format=".1f"),
            alt.Tooltip("trust_periods:Q", title="trust-periods"),
        ],
    )
    layers = [_marks(100.0, x_scale), bars, dots]
    if model is not None and not model.empty:
        m = model.rename(columns={"occupancy_pct": "x", "type1_pct": "performance"}).assign(
            series=names[-1]
        )
        m = m[(m["x"] >= BIN_FLOOR_PCT - 1)]
        band = (
            alt.Chart(m)
            .mark_area(opacity=0.15)
            .encode(
                x=x,
                y=alt.Y("type1_pct_low:Q", scale=y_scale),
                y2="type1_pct_high:Q",
                color=colour,
            )
        )
        line = alt.Chart(m).mark_line(strokeWidth=2).encode(x=x, y="performance:Q", color=colour)
        layers += [band, line]
    standard = (
        alt.Chart(pd.DataFrame({"standard": [STANDARD_PCT]}))
        .mark_rule(color="#DA291C", strokeWidth=1)
        .encode(y="standard:Q")
    )
    left = alt.layer(*layers, standard).properties(
        width=430,
        height=300,
        title=alt.TitleParams(
            "Performance by occupancy, all matched trust-periods",
            subtitle=[
                "Dots: pooled counts in one-point bins; bars: 95% intervals (trusts resampled).",
                *(
                    ["Line: the capacity model (SYNTHETIC; x: its midnight occupancy)."]
                    if model is not None and not model.empty
                    else []
                ),
            ],
            anchor="start",
            fontSize=12,
        ),
    )
    c = e.within_curve.copy()
    c["x"] = c["mean_occupancy_pct"]
    wx = alt.X("x:Q", title="G&A bed occupancy (%)", scale=alt.Scale(domain=[REFERENCE_PCT, 101]))
    wy = alt.Y("within_extra_points:Q", title="Extra type 1 patients over 4 hours (points)")
    wbase = alt.Chart(c)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#425563").encode(y="y:Q")
    right = alt.layer(
        zero,
        wbase.mark_rule(color=COLOURS[4], opacity=0.6).encode(
            x=wx, y="within_low:Q", y2="within_high:Q"
        ),
        wbase.mark_point(filled=True, size=36, color=COLOURS[4]).encode(
            x=wx,
            y=wy,
            tooltip=[
                alt.Tooltip("occupancy_bin:N", title="occupancy %"),
                alt.Tooltip("within_extra_points:Q", format="+.1f", title="extra points"),
                alt.Tooltip("within_low:Q", format="+.1f"),
                alt.Tooltip("within_high:Q", format="+.1f"),
                alt.Tooltip("trust_periods:Q", title="trust-periods"),
            ],
        ),
    ).properties(
        width=300,
        height=300,
        title=alt.TitleParams(
            "Within trusts",
            subtitle=[
                f"Against the same trust at {REFERENCE_PCT:g}% or less,",
                "the month's national level removed; 95% intervals.",
            ],
            anchor="start",
            fontSize=12,
        ),
    )
    s = e.summary
    if not within:
        left = left.properties(width=560)
    chart = (alt.hconcat(left, right) if within else alt.vconcat(left)).properties(
        description=describe_chart(e),
        title=alt.TitleParams(
            title or "Four-hour performance against bed occupancy: England's trusts",
            subtitle=f"{s['trust_periods']:,} trust-periods from {s['trusts']} trusts, "
            f"{s['first_day']} to {s['last_day']} (winter sitreps and A&E returns)",
            anchor="start",
        ),
    )
    return (
        chart.configure(font=FONT, background="white", padding=8)
        .configure_view(stroke=None)
        .configure_legend(labelLimit=400)
    )
