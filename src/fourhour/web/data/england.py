"""England: a period against the 95% standard, type 1 and all types, the same period last
year, the providers below 80%, and the national trend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from fourhour.measures import STANDARD_PCT, THRESHOLD_PCT, england, measure_table
from fourhour.periods import Period
from fourhour.report import charts
from fourhour.report.bulletin import build_bulletin
from fourhour.report.series import HISTORY, TREND, england_series, last_year_values, periods_back
from fourhour.warehouse import Warehouse
from fourhour.web import svgcharts
from fourhour.web.data.periods import BASIS_LABELS
from fourhour.web.data.tables import Column, Table
from fourhour.web.figures import Figure

TYPE_LABELS = {
    "all_types": "All types",
    "type1": "Type 1 (major A&E)",
    "type2": "Type 2 (single specialty)",
    "type3": "Types 3 and 4 (minor injury units, urgent treatment centres, walk-in centres)",
}


def basis_of(bulletin: dict) -> str:
    return "all_types" if bulletin["england"]["all_types"]["attendances"] else "type1"


SeriesOf = Callable[[Warehouse, Period, int], pd.DataFrame]


def trend_frame(
    wh: Warehouse, period: Period, basis: str, series_of: SeriesOf = england_series
) -> pd.DataFrame:
    """England's last TREND periods with the same periods a year earlier (NaN where none)."""
    eng = series_of(wh, period, HISTORY[period.granularity])
    ends = [pd.Timestamp(p.end) for p in periods_back(period, TREND[period.granularity])]
    recent = eng.set_index("period_end").reindex(ends).rename_axis("period_end").reset_index()
    column = f"{basis}_performance_pct"
    return pd.DataFrame(
        {
            "period_end": recent["period_end"],
            "value": charts.as_float(recent[column]),
            "last_year_value": charts.as_float(
                last_year_values(recent, eng, column, period.granularity)
            ),
        }
    )


def headline_table(b: dict, key: str) -> Table:
    now, last = b["england"], b["same_period_last_year"]
    rows = []
    for t, label in TYPE_LABELS.items():
        n, ly = now[t], last[t]
        change = (
            None
            if n["performance_pct"] is None or ly["performance_pct"] is None
            else n["performance_pct"] - ly["performance_pct"]
        )
        rows.append(
            {
                "type": label,
                "attendances": n["attendances"],
                "within_4h": n["within_4h"],
                "breaches": n["breaches"],
                "performance_pct": n["performance_pct"],
                "last_year_pct": ly["performance_pct"],
                "change_points": change,
            }
        )
    return Table(
        f"{key}-types",
        f"England by department type, {b['meta']['label']}, against the "
        f"{STANDARD_PCT:g}% standard and {b['meta']['same_period_last_year']['label']}",
        [
            Column("type", "Department type"),
            Column("attendances", "Attendances", "count"),
            Column("within_4h", "Within 4 hours", "count"),
            Column("breaches", "Over 4 hours", "count"),
            Column("performance_pct", "Within 4 hours (%)", "pct"),
            Column("last_year_pct", "Same period last year (%)", "pct"),
            Column("change_points", "Change (points)", "change"),
        ],
        rows,
        sortable=False,
    )


def below_table(b: dict, key: str) -> Table:
    block = b["providers_below_threshold"]
    basis = BASIS_LABELS[b["meta"]["provider_measure"]]
    rows = [
        {**p, "url": f"/providers/{p['code']}"}
        for p in sorted(block["providers"], key=lambda p: (p["performance_pct"], p["code"]))
    ]
    last = block["count_last_year"]
    return Table(
        f"{key}-below",
        f"Providers below {block['threshold_pct']:g}% ({basis}), {b['meta']['label']}: "
        f"{block['count']}" + (f" (same period last year: {last})" if last is not None else ""),
        [
            Column("code", "Code", "code"),
            Column("name", "Provider", link="url"),
            Column("performance_pct", "Within 4 hours (%)", "pct"),
        ],
        rows,
    )


def trend_table(frame: pd.DataFrame, key: str, period: Period, basis: str) -> Table:
    rows = [
        {
            "period_end": r["period_end"].date(),
            "performance_pct": r["value"],
            "last_year_pct": r["last_year_value"],
        }
        for r in frame.to_dict("records")
    ]
    unit = period.granularity
    return Table(
        f"{key}-trend",
        f"England, {unit}ly four-hour performance ({BASIS_LABELS[basis]}), with the same "
        f"{unit} a year earlier",
        [
            Column("period_end", f"{unit.capitalize()} ending", "date"),
            Column("performance_pct", "Within 4 hours (%)", "pct"),
            Column("last_year_pct", "Same period last year (%)", "pct"),
        ],
        rows,
    )


def england_inputs(
    wh: Warehouse,
    period: Period,
    *,
    england_of: Callable[[Warehouse, Period], pd.DataFrame] = england,
    table_of: Callable[[Warehouse, Period, str], pd.DataFrame] = measure_table,
    series_of: SeriesOf = england_series,
) -> tuple[dict, pd.DataFrame]:
    """What the England page is drawn from: the bulletin for `period` (docs/bulletin.md) and
    the national trend (fourhour.web.precompute stores both for every period held, passing
    England, the provider tables and England's series as it computed them in bulk)."""
    b = build_bulletin(wh, period, england_of=england_of, table_of=table_of)
    return b, trend_frame(wh, period, basis_of(b), series_of)


def england_period(
    wh: Warehouse, period: Period, inputs: tuple[dict, pd.DataFrame] | None = None
) -> dict[str, Any]:
    """The bulletin for `period`, its tables and the trend chart (from `inputs`, the stored
    `england_inputs`, when given)."""
    b, frame = inputs if inputs is not None else england_inputs(wh, period)
    basis = basis_of(b)
    key = period.granularity
    figure: Figure | None = None
    if frame["value"].notna().any():
        figure = svgcharts.trend_figure(
            frame,
            key=f"fig-{key}-trend",
            title=f"England: {period.granularity}ly four-hour performance against the standard",
            label=BASIS_LABELS[basis],
            unit_name=period.granularity,
        )
    return {
        "period": period,
        "bulletin": b,
        "basis": basis,
        "basis_label": BASIS_LABELS[basis],
        "standard_pct": STANDARD_PCT,
        "threshold_pct": THRESHOLD_PCT,
        "figure": figure,
        "tables": {
            "types": headline_table(b, key),
            "below": below_table(b, key),
            "trend": trend_table(frame, key, period, basis),
        },
    }
