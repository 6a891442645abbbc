"""Oversight: the summons list with its evidence (read-only), escalations and their history,
and the funding ledger by quarter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.requests import Request
from starlette.responses import Response

from fourhour.errors import FourhourError
from fourhour.web import views
from fourhour.web.data import oversight as oversight_data
from fourhour.web.params import choose_period, parse_choice, parse_id, parse_quarter_param
from fourhour.web.routes.common import DownloadParam, MonthParam, WeekParam, site_of

router = APIRouter(include_in_schema=False)


@router.get("/oversight")
async def oversight_page(
    request: Request,
    week: WeekParam = None,
    month: MonthParam = None,
    level: Annotated[str | None, Query(max_length=20)] = None,
    download: DownloadParam = None,
) -> Response:
    site = site_of(request)

    def build() -> Response:
        held = site.held()
        period = choose_period(held, week, month)
        chosen = parse_choice("level", level, ("system", "provider"), "system")
        tables = {"escalations": views.escalations(site)}
        payload, missing = None, None
        try:
            payload = views.summons(site, period, chosen)
        except FourhourError as exc:
            missing = exc.message
        if payload is not None:
            tables["summons"] = oversight_data.summons_table(payload)
            tables["systems"] = oversight_data.systems_table(payload)
        quarter = oversight_data.default_quarter(period)
        return site.page(
            request,
            "oversight.html.j2",
            tables=tables,
            held=held,
            period=period,
            payload=payload,
            missing=missing,
            level=chosen,
            rule_labels=oversight_data.RULE_LABELS,
            quarter=oversight_data.quarter_text(quarter),
            title="Oversight",
            wide=True,
        )

    return await site.cached_response(request, build)


@router.get("/oversight/escalations/{escalation_id}")
async def escalation_page(
    request: Request,
    escalation_id: Annotated[str, Path(max_length=20)],
    download: DownloadParam = None,
) -> Response:
    site = site_of(request)

    def build() -> Response:
        held = site.held()
        e = views.escalation(site, parse_id("escalation_id", escalation_id))
        return site.page(
            request,
            "escalation.html.j2",
            tables={"history": e["history"]},
            held=held,
            e=e["escalation"],
            title=f"Escalation {e['escalation']['id']}",
        )

    return await site.cached_response(request, build)


@router.get("/oversight/funding")
async def funding_page(
    request: Request,
    quarter: Annotated[str | None, Query(max_length=40)] = None,
    download: DownloadParam = None,
) -> Response:
    site = site_of(request)

    def build() -> Response:
        held = site.held()
        if quarter:
            q = parse_quarter_param("quarter", quarter)
        else:
            q = oversight_data.default_quarter(choose_period(held, None, None))
        ledger = views.funding(site, q)
        return site.page(
            request,
            "funding.html.j2",
            tables=oversight_data.funding_tables(ledger),
            held=held,
            ledger=ledger,
            quarter=oversight_data.quarter_text(q),
            title=f"Funding ledger, {oversight_data.quarter_text(q)}",
            wide=True,
        )

    return await site.cached_response(request, build)
