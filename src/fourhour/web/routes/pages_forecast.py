"""The winter outlook: a page (/forecast) and an API endpoint (/api/v1/forecast/outlook).

The forecast runs once per data version (it takes seconds to a minute on a national
warehouse) and is cached like every other page. forecast imports nothing from web.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from fourhour.web.data.tables import clean_tree
from fourhour.web.errors import BadParameter
from fourhour.web.routes.api_schemas import OutlookOut, ok
from fourhour.web.routes.common import site_of

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["forecast"])
LEVELS = ("provider", "system")
TOP = 20
LevelParam = Annotated[
    str | None,
    Query(description="provider (default) or system: whose winter outlook.", max_length=40),
]


def _level(level: str | None) -> str:
    level = level or "provider"
    if level not in LEVELS:
        raise BadParameter("level", f"{level[:40]!r} is not one of {', '.join(LEVELS)}")
    return level


def outlook(wh) -> dict[str, Any]:
    """The forecast from the latest month and its winter outlook, or why there is none."""
    import vl_convert as vlc

    from fourhour.forecast import ForecastError, run_forecast
    from fourhour.forecast.chart import forecast_chart
    from fourhour.forecast.outlook import winter_outlook

    try:
        result = run_forecast(wh, granularity="month", horizon=12)
        view = winter_outlook(result)
    except ForecastError as exc:
        return {"problem": exc.message}
    svg = vlc.vegalite_to_svg(forecast_chart(result, "england", "ENGLAND").to_dict())
    svg = re.sub(r"^<svg ", '<svg role="img" aria-labelledby="forecast-caption" ', svg, count=1)
    return {
        "problem": None,
        "label": view.label,
        "svg": svg,
        "payload": {level: view.as_dict(level) for level in (*LEVELS, "england")},
    }


def _cached(request: Request) -> dict[str, Any]:
    site = site_of(request)
    return site.compute(("forecast-outlook",), outlook)


@router.get("/forecast")
async def forecast_page(request: Request, level: LevelParam = None) -> Response:
    site = site_of(request)
    chosen = _level(level)

    def build() -> Response:
        data = _cached(request)
        return site.page(
            request,
            "forecast.html.j2",
            held=site.held(),
            title="Winter outlook",
            problem=data["problem"],
            label=data.get("label"),
            svg=Markup(data.get("svg") or ""),
            level=chosen,
            payload=(data.get("payload") or {}).get(chosen),
            england=((data.get("payload") or {}).get("england") or {}).get("organisations"),
            top=TOP,
        )

    return await site.cached_response(request, build)


@api_router.get(
    "/forecast/outlook",
    summary="The winter outlook: who is most likely to miss",
    responses=ok(
        OutlookOut, "Each trust's or system's winter forecast, most likely to miss first."
    ),
)
async def forecast_outlook(request: Request, level: LevelParam = None) -> Response:
    """Each trust's (or system's) December-March forecast from the latest month against its
    trajectory (else the interim target) and the standard, ranked by the chance of missing."""
    import json

    site = site_of(request)
    chosen = _level(level)

    def build() -> Response:
        data = _cached(request)
        if data["problem"]:
            from fourhour.web.errors import NotFound

            raise NotFound(f"no forecast can be made: {data['problem']}")
        body = json.dumps(clean_tree(data["payload"][chosen]), separators=(",", ":"))
        return Response(body.encode("utf-8"), media_type="application/json")

    return await site.cached_response(request, build)
