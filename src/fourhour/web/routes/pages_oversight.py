"""Oversight: the summons list with its evidence (read-only), escalations and their history,
and the funding ledger by quarter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.requests import Request
from starlette.responses import Response

from fourhour.errors import QueryError
from fourhour.periods import Period
from fourhour.web import views
from fourhour.web.data import oversight as oversight_data
from fourhour.web.data.periods import Held
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
        except QueryError as exc:  # nothing to score; other errors are errors
            missing = exc.message
        if payload is not None:
            tables["summons"] = oversight_data.summons_table(payload)
            tables["systems"] = oversight_data.systems_table(payload)
        ledger_q = oversight_data.ledger_quarter(period, site.config.funding_rules)
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
            quarter=oversight_data.quarter_text(ledger_q) if ledger_q else None,
            title="Oversight",
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
            latest = choose_period(held, None, None)
            q = oversight_data.ledger_quarter(
                latest, site.config.funding_rules
            ) or oversight_data.default_quarter(latest)  # 404s: no rules for its year
        ledger = views.funding(site, q)
        tables = oversight_data.funding_tables(ledger, _period_in(held, q))
        for table in tables.values():
            table.meta["period"] = q  # downloads keyed by the quarter
        return site.page(
            request,
            "funding.html.j2",
            tables=tables,
            held=held,
            ledger=ledger,
            quarter=oversight_data.quarter_text(q),
            title=f"Funding ledger, {oversight_data.quarter_text(q)}",
        )

    return await site.cached_response(request, build)


def _period_in(held: Held, quarter: Period) -> str:
    """The query for the quarter's last month held, else its last week held, else nothing."""
    months = [m for m in held.months if quarter.start <= m <= quarter.end]
    if months:
        return f"?month={months[-1]:%Y-%m}"
    weeks = [w for w in held.weeks if quarter.start <= w <= quarter.end]
    return f"?week={weeks[-1]}" if weeks else ""
