"""The board report's winter outlook section (`fourhour report --outlook`).

A section builder for `build_report(..., extra_sections=...)`: the forecast from the report's
month, England's December-March forecast against the standard, and the trusts most likely to
miss their trajectory (or the interim target). Its HTML is the partial
templates/forecast_outlook.html.j2; its chart is inline SVG.
"""

from __future__ import annotations

import re

import vl_convert as vlc
from markupsafe import Markup

from fourhour.forecast import ForecastError, run_forecast
from fourhour.forecast.chart import forecast_chart
from fourhour.forecast.outlook import INTERIM_TARGET_PCT, winter_outlook
from fourhour.report.board import BoardContext, Section
from fourhour.report.templating import environment

TOP = 10  # trusts listed


def outlook_context(result, top: int = TOP) -> dict:
    view = winter_outlook(result)
    england = view.ranked("england").iloc[0].to_dict()
    svg = vlc.vegalite_to_svg(forecast_chart(result, "england", "ENGLAND").to_dict())
    svg = re.sub(r"^<svg ", '<svg role="img" aria-label="England forecast" ', svg, count=1)
    return {
        "label": view.label,
        "origin": result.origin,
        "basis": "all types" if result.basis == "all_types" else "type 1 (major A&E)",
        "england": england,
        "trusts": view.ranked("provider", top).to_dict("records"),
        "standard": result.standard_pct,
        "interim": INTERIM_TARGET_PCT,
        "svg": Markup(svg),
        "models": ", ".join(result.models),
        "method": result.method,
    }


def winter_outlook_section(ctx: BoardContext) -> Section | None:
    """The outlook from the report's month (monthly reports only)."""
    if ctx.period.granularity != "month":
        return None
    template = environment().get_template("forecast_outlook.html.j2")
    try:
        result = run_forecast(ctx.wh, granularity="month", origin=ctx.period.end, horizon=12)
        html = template.render(d=outlook_context(result), problem=None)
    except ForecastError as exc:
        html = template.render(d=None, problem=exc.message)
    return Section("outlook", "Winter outlook", html)
