"""The England page: the latest (or chosen) week and month against the 95% standard."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from fourhour.errors import QueryError
from fourhour.web import views
from fourhour.web.params import choose_period
from fourhour.web.routes.common import DownloadParam, MonthParam, WeekParam, site_of

router = APIRouter(include_in_schema=False)


@router.get("/")
async def england_page(
    request: Request,
    week: WeekParam = None,
    month: MonthParam = None,
    download: DownloadParam = None,
) -> Response:
    site = site_of(request)

    def build() -> Response:
        held = site.held()
        blocks = []
        tables = {}
        week_period = (
            choose_period(held, week, None, weekly_only=True) if held.weeks or week else None
        )
        month_period = None
        if month or (held.months and not week):
            month_period = choose_period(held, None, month) if month else held.latest_month
        if week_period is None and month_period is None:
            choose_period(held, None, None)  # raises: nothing held
        latest_first = sorted(
            (p for p in (week_period, month_period) if p is not None),
            key=lambda p: -p.end.toordinal(),
        )
        for period in latest_first:
            if period is None:
                continue
            try:
                block = views.england(site, period)
            except QueryError as exc:  # no returns for it; other errors are errors
                blocks.append({"period": period, "missing": exc.message})
                continue
            blocks.append(block)
            for name, table in block["tables"].items():
                table.meta["period"] = period  # downloads keyed by the block's period
                tables[f"{period.granularity}-{name}"] = table
        return site.page(
            request,
            "england.html.j2",
            tables=tables,
            held=held,
            blocks=blocks,
            title="England",
            # the period asked for travels with the links (none asked: the default)
            period=week_period if week else month_period if month else None,
        )

    return await site.cached_response(request, build)
