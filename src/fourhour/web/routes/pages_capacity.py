"""Capacity: a scenario form (beds, length of stay, discharge window, demand, streaming to the
urgent treatment centre) that runs the capacity model and charts it against the baseline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from fourhour.web.data import capacity
from fourhour.web.errors import BadParameter
from fourhour.web.params import parse_float, parse_int
from fourhour.web.routes.common import DownloadParam, site_of
from fourhour.web.site import Site

router = APIRouter(include_in_schema=False)

# name: (label, hint, low, high, whole number)
LIMITS: dict[str, tuple[str, str, float, float, bool]] = {
    "beds": ("Core beds", "general and acute beds open", 10, 5000, True),
    "los_days": ("Mean length of stay (days)", "of admitted patients", 0.5, 30, False),
    "discharge_from": ("Discharges start (hour)", "0-23, e.g. 10 for 10am", 0, 23, False),
    "discharge_to": ("Discharges end (hour)", "1-24, after the start", 1, 24, False),
    "arrivals_per_day": ("A&E arrivals a day", "all types, on average", 10, 2000, False),
    "streaming_pct": ("Minor cases streamed to the UTC (%)", "0-100", 0, 100, False),
}
Lever = Annotated[str | None, Query(max_length=40)]


def levers_from(params: dict[str, str | None]) -> tuple[capacity.Levers, bool]:
    """The levers asked for (defaults: the baseline) and whether any was given."""
    _, base = capacity.baseline()
    defaults = base.as_dict()
    values: dict[str, Any] = {}
    for name, (_, _, low, high, whole) in LIMITS.items():
        if whole:
            values[name] = parse_int(
                name, params.get(name), int(low), int(high), int(defaults[name])
            )
        else:
            values[name] = parse_float(name, params.get(name), low, high, defaults[name])
    if values["discharge_from"] >= values["discharge_to"]:
        raise BadParameter(
            "discharge_to",
            f"discharges should end after they start (from {values['discharge_from']:g} "
            f"to {values['discharge_to']:g})",
        )
    return capacity.Levers(**values), any(params.get(n) not in (None, "") for n in LIMITS)


def compared(site: Site, levers: capacity.Levers) -> dict[str, Any]:
    n = site.config.capacity_replications
    return site.compute_free(("capacity", levers, n), lambda: capacity.compare(levers, n))


@router.get("/capacity")
async def capacity_page(
    request: Request,
    beds: Lever = None,
    los_days: Lever = None,
    discharge_from: Lever = None,
    discharge_to: Lever = None,
    arrivals_per_day: Lever = None,
    streaming_pct: Lever = None,
    download: DownloadParam = None,
) -> Response:
    site = site_of(request)
    params = {
        "beds": beds, "los_days": los_days, "discharge_from": discharge_from,
        "discharge_to": discharge_to, "arrivals_per_day": arrivals_per_day,
        "streaming_pct": streaming_pct,
    }  # fmt: skip

    def build() -> Response:
        _, base = capacity.baseline()
        try:
            levers, asked = levers_from(params)
        except BadParameter as exc:
            if request.query_params.get("download") is not None:
                raise
            shown = {
                k: (v if v not in (None, "") else base.as_dict()[k]) for k, v in params.items()
            }
            return site.page(
                request,
                "capacity.html.j2",
                status=400,
                held=site.held(),
                result=None,
                error={"parameter": exc.parameter, "message": exc.message, "hint": exc.hint},
                levers=shown,
                baseline=base.as_dict(),
                limits=LIMITS,
                title="Capacity",
            )
        result = compared(site, levers) if asked else None
        return site.page(
            request,
            "capacity.html.j2",
            tables=result["tables"] if result else {},
            held=site.held(),
            result=result,
            error=None,
            levers=levers.as_dict(),
            baseline=base.as_dict(),
            limits=LIMITS,
            title="Capacity",
        )

    return await site.cached_response(request, build)
