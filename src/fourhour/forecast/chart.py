"""The forecast chart: an organisation's history, forecast and its 80% and 95% intervals.

Two panels: attendances and four-hour performance (on the forecast's basis), the standard as
a rule. `save_chart(chart, path)` writes SVG, PNG, PDF, HTML or JSON by the file's suffix.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from fourhour.errors import InvalidInputError
from fourhour.forecast.engine import ForecastResult, node_index
from fourhour.forecast.reconcile import build_hierarchy

FORMATS = (".svg", ".png", ".pdf", ".html", ".json")
HISTORY_SHOWN = 24  # periods of history drawn before the forecast


def history_of(result: ForecastResult, level: str, code: str) -> pd.DataFrame:
    """The node's own history (summed from its trusts): period_end, attendances, performance."""
    i = node_index(result, level, code)
    S = build_hierarchy(result.history.parents).S
    types = ("type1", "type2", "type3") if result.basis == "all_types" else ("type1",)
    series = result.history.series
    att = sum(series[f"att_{t}"].to_numpy() for t in types) @ S[i]
    br = sum(series[f"br_{t}"].to_numpy() for t in types) @ S[i]
    index = series["att_type1"].index
    with np.errstate(invalid="ignore", divide="ignore"):
        perf = np.where(att > 0, (att - br) / att * 100, np.nan)
    frame = pd.DataFrame({"period_end": index, "attendances": att, "performance": perf})
    return frame.tail(HISTORY_SHOWN)


def forecast_chart(result: ForecastResult, level: str, code: str) -> alt.VConcatChart:
    name = result.history.names.get(code, code)
    hist = history_of(result, level, code)
    basis = result.basis
    att_m = "att_all" if basis == "all_types" else "att_type1"
    fc = result.select(level, code)
    panels = []
    for measure, label, past in (
        (att_m, "Attendances", "attendances"),
        (f"perf_{basis}", "Within four hours (%)", "performance"),
    ):
        part = fc[fc["measure"] == measure].copy()
        part["period_end"] = pd.to_datetime(part["period_end"])
        past_frame = hist.rename(columns={past: "value"})[["period_end", "value"]]
        base = alt.Chart(part).encode(x=alt.X("period_end:T", title=None))
        band95 = base.mark_area(opacity=0.18, color="#005eb8").encode(
            y=alt.Y("lo95:Q", title=label, scale=alt.Scale(zero=False)), y2="hi95:Q"
        )
        band80 = base.mark_area(opacity=0.35, color="#005eb8").encode(y="lo80:Q", y2="hi80:Q")
        line = base.mark_line(color="#005eb8", strokeDash=[4, 2]).encode(y="mean:Q")
        actual = (
            alt.Chart(past_frame)
            .mark_line(color="#212b32")
            .encode(x="period_end:T", y=alt.Y("value:Q", title=label))
        )
        layers = [band95, band80, line, actual]
        if past == "performance":
            rule = pd.DataFrame({"y": [result.standard_pct]})
            layers.append(
                alt.Chart(rule).mark_rule(color="#d5281b", strokeDash=[2, 2]).encode(y="y:Q")
            )
        panels.append(alt.layer(*layers).properties(width=560, height=170))
    what = "all types" if basis == "all_types" else "type 1 (major A&E)"
    title = alt.TitleParams(
        f"{name}: forecast from {result.origin:%B %Y}",
        subtitle=[
            f"Attendances and four-hour performance, {what}.",
            f"Shaded: 80% and 95% intervals; dashed: forecast; red: the "
            f"{result.standard_pct:g}% standard.",
        ],
        anchor="start",
    )
    return alt.vconcat(*panels, title=title).configure_view(stroke=None)


def save_chart(chart: alt.TopLevelMixin, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InvalidInputError(
            f"cannot save a chart as {path.name!r}; expected a file ending {', '.join(FORMATS)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        chart.save(path, scale_factor=2)
    else:
        chart.save(path)
    return path
