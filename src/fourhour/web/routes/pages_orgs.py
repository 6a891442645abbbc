"""Providers, systems and regions: league tables (sortable, filterable, with SPC icons) and one
page per organisation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import Response

from fourhour.web import views
from fourhour.web.data import oversight as oversight_data
from fourhour.web.data.organisations import PLURAL, league_table, members
from fourhour.web.data.periods import period_key
from fourhour.web.params import choose_period
from fourhour.web.routes.common import (
    CodeFilter,
    DownloadParam,
    MonthParam,
    SpcPresetParam,
    WeekParam,
    parse_spc_preset,
    site_of,
)
from fourhour.web.site import moved

router = APIRouter(include_in_schema=False)
CodePath = Annotated[str, Path(max_length=40)]
TITLES = {"provider": "Providers", "system": "Systems", "region": "Regions"}


async def _list(
    request: Request,
    level: str,
    week: str | None,
    month: str | None,
    region: str | None,
    system: str | None,
    preset_text: str | None = None,
) -> Response:
    site = site_of(request)

    def build() -> Response:
        held = site.held()
        period = choose_period(held, week, month)
        try:
            region_code = views.org_code(site, "region", "region", region)
            system_code = views.org_code(site, "system", "system", system)
        except views.Moved as m:
            return moved(request, **{m.name: m.code})
        preset = parse_spc_preset(preset_text)
        data = views.league(site, period, level, preset)
        table = league_table(data, region_code, system_code)
        chart = (
            views.league_figure(site, period, level, preset)
            if not (region_code or system_code)
            else None
        )
        regions = sorted(
            {(r["region_code"], r["region"]) for r in data["rows"] if r.get("region_code")},
            key=lambda x: str(x[1]),
        )
        systems = sorted(
            {(r["system_code"], r["system"]) for r in data["rows"] if r.get("system_code")},
            key=lambda x: str(x[1]),
        )
        return site.page(
            request,
            "league.html.j2",
            tables={"league": table},
            held=held,
            data=data,
            table=table,
            league_figure=chart,
            level=level,
            plural=PLURAL[level],
            title=TITLES[level],
            regions=regions,
            systems=systems,
            region=region_code,
            system=system_code,
        )

    return await site.cached_response(request, build)


async def _detail(
    request: Request,
    level: str,
    code: str,
    week: str | None,
    month: str | None,
    preset_text: str | None = None,
) -> Response:
    site = site_of(request)

    def build() -> Response:
        held = site.held()
        try:
            org = views.org_code(site, "code", level, code)
        except views.Moved as m:
            return moved(request, f"/{PLURAL[level]}/{m.code}")
        assert org is not None
        period = choose_period(held, week, month)
        preset = parse_spc_preset(preset_text)
        d = views.detail_or_none(site, period, level, org, preset)
        if d is None:
            nearest = held.nearest(period, views.periods_with_data(site, level, org, period))
            return site.page(
                request,
                "no_data.html.j2",
                held=held,
                level=level,
                plural=PLURAL[level],
                code=org,
                name=views.name_of(site, org, period),
                period=period,
                nearest=[(p, period_key(p)) for p in nearest],
                title=f"{org}: no figures for the {period.label}",
            )
        tables = dict(d["tables"])
        context: dict[str, Any] = {}
        if level == "provider":
            tables["trajectory"] = views.trajectory(site, org, period)
            quarter = oversight_data.default_quarter(period)
            ledger, why = views.funding_or_none(site, quarter)
            context["funding"] = oversight_data.funding_row(ledger, org)
            context["funding_quarter"] = oversight_data.quarter_text(quarter)
            context["funding_missing"] = why
        else:
            child = "provider" if level == "system" else "system"
            tables["members"] = members(
                period, level, org, views.league(site, period, child, preset)
            )
        return site.page(
            request,
            "organisation.html.j2",
            tables=tables,
            held=held,
            d=d,
            level=level,
            plural=PLURAL[level],
            title=d["label"],
            **context,
        )

    return await site.cached_response(request, build)


@router.get("/providers")
async def providers_page(
    request: Request,
    week: WeekParam = None,
    month: MonthParam = None,
    region: CodeFilter = None,
    system: CodeFilter = None,
    download: DownloadParam = None,
    spc_preset: SpcPresetParam = None,
) -> Response:
    return await _list(request, "provider", week, month, region, system, spc_preset)


@router.get("/systems")
async def systems_page(
    request: Request,
    week: WeekParam = None,
    month: MonthParam = None,
    region: CodeFilter = None,
    download: DownloadParam = None,
    spc_preset: SpcPresetParam = None,
) -> Response:
    return await _list(request, "system", week, month, region, None, spc_preset)


@router.get("/regions")
async def regions_page(
    request: Request,
    week: WeekParam = None,
    month: MonthParam = None,
    download: DownloadParam = None,
    spc_preset: SpcPresetParam = None,
) -> Response:
    return await _list(request, "region", week, month, None, None, spc_preset)


@router.get("/providers/{code}")
async def provider_page(
    request: Request, code: CodePath, week: WeekParam = None, month: MonthParam = None,
    download: DownloadParam = None, spc_preset: SpcPresetParam = None,
) -> Response:  # fmt: skip
    return await _detail(request, "provider", code, week, month, spc_preset)


@router.get("/systems/{code}")
async def system_page(
    request: Request, code: CodePath, week: WeekParam = None, month: MonthParam = None,
    download: DownloadParam = None, spc_preset: SpcPresetParam = None,
) -> Response:  # fmt: skip
    return await _detail(request, "system", code, week, month, spc_preset)


@router.get("/regions/{code}")
async def region_page(
    request: Request, code: CodePath, week: WeekParam = None, month: MonthParam = None,
    download: DownloadParam = None, spc_preset: SpcPresetParam = None,
) -> Response:  # fmt: skip
    return await _detail(request, "region", code, week, month, spc_preset)
