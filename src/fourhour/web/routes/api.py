"""The JSON API under /api/v1: the pages' data, validated parameters, one error shape."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from fourhour.measures.disclosure import protect
from fourhour.measures.patient import BASES, COUNT_COLUMNS
from fourhour.measures.patient import LEVELS as PATIENT_LEVELS
from fourhour.measures.patient import PERIODS as PATIENT_PERIODS
from fourhour.web import views
from fourhour.web.data import oversight as oversight_data
from fourhour.web.data.organisations import league_table, members
from fourhour.web.data.periods import period_key
from fourhour.web.data.tables import clean_tree
from fourhour.web.errors import NotFound
from fourhour.web.params import (
    choose_period,
    parse_choice,
    parse_id,
    parse_quarter_param,
)
from fourhour.web.routes.api_schemas import (
    CapacityOut,
    DetailOut,
    EnglandOut,
    EscalationsOut,
    FundingLedgerOut,
    LeagueOut,
    Open,
    PatientsOut,
    PeriodsOut,
    SummonsOut,
    WhoamiOut,
    ok,
)
from fourhour.web.routes.common import (
    CodeFilter,
    MonthParam,
    SpcPresetParam,
    WeekParam,
    parse_spc_preset,
    site_of,
)
from fourhour.web.security.auth import is_analyst, require_analyst, token_of
from fourhour.web.site import moved


class ErrorDetail(BaseModel):
    status: int
    message: str
    hint: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "A parameter is not valid."},
    401: {"model": ErrorResponse, "description": "The token presented is not valid."},
    404: {"model": ErrorResponse, "description": "Not held in the warehouse."},
    503: {"model": ErrorResponse, "description": "The warehouse is busy; try again."},
}
router = APIRouter(responses=ERRORS)
CodePath = Annotated[str, Path(description="An ODS organisation code.", max_length=40)]


def _json(payload: Any) -> Response:
    body = json.dumps(clean_tree(payload), separators=(",", ":"), ensure_ascii=False)
    return Response(body.encode("utf-8"), media_type="application/json")


def _period(period: Any) -> dict[str, Any]:
    return {
        "granularity": period.granularity,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "label": period.label,
        "query": period_key(period),
    }


@router.get(
    "/periods",
    summary="The weeks and months the warehouse holds",
    responses=ok(PeriodsOut, "The weeks and months held."),
)
async def periods(request: Request) -> Response:
    site = site_of(request)
    return await site.cached_response(request, lambda: _json(site.held().as_dict()))


@router.get(
    "/england",
    summary="England against the standard (the bulletin's JSON contract)",
    responses=ok(EnglandOut, "The bulletin for the period."),
)
async def england(request: Request, week: WeekParam = None, month: MonthParam = None) -> Response:
    """The bulletin for the week or month (docs/bulletin.md), with the national trend."""
    site = site_of(request)

    def build() -> Response:
        period = choose_period(site.held(), week, month)
        block = views.england(site, period)
        return _json(
            {
                "period": _period(period),
                "bulletin": block["bulletin"],
                "basis": block["basis"],
                "trend": block["tables"]["trend"].records(),
                "trend_description": block["figure"].description if block["figure"] else None,
            }
        )

    return await site.cached_response(request, build)


def _league_response(data: dict[str, Any], region: str | None, system: str | None) -> Response:
    table = league_table(data, region, system)
    rows = [{k: v for k, v in r.items() if k != "url"} for r in table.rows]
    return _json(
        {
            "period": _period(data["period"]),
            "level": data["level"],
            "basis": data["basis"],
            "spc_preset": data["spc_preset"],
            "count": len(rows),
            "organisations": rows,
        }
    )


@router.get(
    "/providers",
    summary="Every provider ranked, with SPC icons",
    responses=ok(LeagueOut, "The league table."),
)
async def providers(
    request: Request,
    week: WeekParam = None,
    month: MonthParam = None,
    region: CodeFilter = None,
    system: CodeFilter = None,
    spc_preset: SpcPresetParam = None,
) -> Response:
    site = site_of(request)

    def build() -> Response:
        period = choose_period(site.held(), week, month)
        try:
            r = views.org_code(site, "region", "region", region)
            s = views.org_code(site, "system", "system", system)
        except views.Moved as m:
            return moved(request, **{m.name: m.code})
        preset = parse_spc_preset(spc_preset)
        return _league_response(views.league(site, period, "provider", preset), r, s)

    return await site.cached_response(request, build)


@router.get(
    "/systems",
    summary="Every local system ranked, with SPC icons",
    responses=ok(LeagueOut, "The league table."),
)
async def systems(
    request: Request,
    week: WeekParam = None,
    month: MonthParam = None,
    region: CodeFilter = None,
    spc_preset: SpcPresetParam = None,
) -> Response:
    site = site_of(request)

    def build() -> Response:
        period = choose_period(site.held(), week, month)
        try:
            r = views.org_code(site, "region", "region", region)
        except views.Moved as m:
            return moved(request, **{m.name: m.code})
        preset = parse_spc_preset(spc_preset)
        return _league_response(views.league(site, period, "system", preset), r, None)

    return await site.cached_response(request, build)


@router.get(
    "/regions",
    summary="Every region ranked, with SPC icons",
    responses=ok(LeagueOut, "The league table."),
)
async def regions(
    request: Request,
    week: WeekParam = None,
    month: MonthParam = None,
    spc_preset: SpcPresetParam = None,
) -> Response:
    site = site_of(request)

    def build() -> Response:
        period = choose_period(site.held(), week, month)
        preset = parse_spc_preset(spc_preset)
        return _league_response(views.league(site, period, "region", preset), None, None)

    return await site.cached_response(request, build)


def _detail_response(
    request: Request,
    site: Any,
    level: str,
    code: str,
    week: str | None,
    month: str | None,
    preset_text: str | None = None,
) -> Response:
    try:
        org = views.org_code(site, "code", level, code)
    except views.Moved as m:
        return moved(request, f"{request.url.path.rsplit('/', 1)[0]}/{m.code}")
    assert org is not None
    held = site.held()
    period = choose_period(held, week, month)
    preset = parse_spc_preset(preset_text)
    d = views.detail_or_none(site, period, level, org, preset)
    if d is None:
        nearest = held.nearest(period, views.periods_with_data(site, level, org, period))
        raise NotFound(
            f"{level} {org} has no figures for the {period.label}",
            hint="nearest with figures: " + ", ".join(period_key(p) for p in nearest)
            if nearest
            else f"it has no {period.granularity}ly figures",
        )
    out: dict[str, Any] = {
        "period": _period(period),
        "level": level,
        "code": org,
        "name": d["name"],
        "basis": d["basis"],
        "rank": d["rank"],
        "of": d["of"],
        "figures": {k: v for k, v in d["row"].items() if k != "url"},
        "types": d["tables"]["types"].records(),
        "trolley_waits": d["tables"]["trolley"].records(),
        "spc": {
            "preset": preset,
            "description": d["figure"].description if d["figure"] else None,
            "points": d["tables"]["spc"].records(),
        },
        "leaders": d["leaders"],
    }
    if level == "provider":
        out["trajectory"] = views.trajectory(site, org, period).records()
        quarter = oversight_data.default_quarter(period)
        ledger, why = views.funding_or_none(site, quarter)
        out["funding"] = {
            "quarter": oversight_data.quarter_text(quarter),
            "assessment": oversight_data.funding_row(ledger, org),
            "not_available": why,
        }
    else:
        child = "provider" if level == "system" else "system"
        out["members"] = members(
            period, level, org, views.league(site, period, child, preset)
        ).records()
    return _json(out)


@router.get(
    "/providers/{code}",
    summary="One provider: figures, SPC, trolley waits, funding",
    responses=ok(DetailOut, "The provider for the period."),
)
async def provider(
    request: Request,
    code: CodePath,
    week: WeekParam = None,
    month: MonthParam = None,
    spc_preset: SpcPresetParam = None,
) -> Response:
    site = site_of(request)
    return await site.cached_response(
        request, lambda: _detail_response(request, site, "provider", code, week, month, spc_preset)
    )


@router.get(
    "/systems/{code}",
    summary="One system: figures, SPC, its providers, leaders",
    responses=ok(DetailOut, "The system for the period."),
)
async def system(
    request: Request,
    code: CodePath,
    week: WeekParam = None,
    month: MonthParam = None,
    spc_preset: SpcPresetParam = None,
) -> Response:
    site = site_of(request)
    return await site.cached_response(
        request, lambda: _detail_response(request, site, "system", code, week, month, spc_preset)
    )


@router.get(
    "/regions/{code}",
    summary="One region: figures, SPC, its systems, leaders",
    responses=ok(DetailOut, "The region for the period."),
)
async def region(
    request: Request,
    code: CodePath,
    week: WeekParam = None,
    month: MonthParam = None,
    spc_preset: SpcPresetParam = None,
) -> Response:
    site = site_of(request)
    return await site.cached_response(
        request, lambda: _detail_response(request, site, "region", code, week, month, spc_preset)
    )


@router.get(
    "/oversight/summons",
    summary="The summons list with its evidence (not recorded)",
    responses=ok(SummonsOut, "The escalation engine's result (docs/oversight.md)."),
)
async def summons(
    request: Request,
    week: WeekParam = None,
    month: MonthParam = None,
    level: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The escalation engine's result for the window of weeks ending `week` or of months ending
    `month` (docs/oversight.md), for local systems or, with level=provider, trusts; run
    read-only as `fourhour escalate --no-record`, with each live escalation."""
    site = site_of(request)

    def build() -> Response:
        period = choose_period(site.held(), week, month)
        chosen = parse_choice("level", level, ("system", "provider"), "system")
        return _json(views.summons(site, period, chosen))

    return await site.cached_response(request, build)


@router.get(
    "/oversight/escalations",
    summary="Escalations with their status",
    responses=ok(EscalationsOut, "Every escalation."),
)
async def escalations(request: Request) -> Response:
    site = site_of(request)
    return await site.cached_response(
        request, lambda: _json({"escalations": views.escalations(site).records()})
    )


@router.get(
    "/oversight/escalations/{escalation_id}",
    summary="One escalation's history",
    responses=ok(Open, "The escalation and its history."),
)
async def escalation(
    request: Request, escalation_id: Annotated[str, Path(max_length=20)]
) -> Response:
    site = site_of(request)
    return await site.cached_response(
        request,
        lambda: _json(
            views.escalation(site, parse_id("escalation_id", escalation_id))["escalation"]
        ),
    )


@router.get(
    "/oversight/funding",
    summary="The A&E funding ledger for a quarter",
    responses=ok(FundingLedgerOut, "The ledger (docs/oversight.md)."),
)
async def funding(
    request: Request,
    quarter: Annotated[
        str | None,
        Query(description="Financial year and quarter, e.g. 2024-25Q4 (default: the last "
              "complete quarter).", max_length=40),
    ] = None,
) -> Response:  # fmt: skip
    site = site_of(request)

    def build() -> Response:
        if quarter:
            q = parse_quarter_param("quarter", quarter)
        else:
            latest = choose_period(site.held(), None, None)
            q = oversight_data.ledger_quarter(
                latest, site.config.funding_rules
            ) or oversight_data.default_quarter(latest)  # 404s: no rules for its year
        return _json(views.funding(site, q))

    return await site.cached_response(request, build)


PatientLevel = Annotated[str | None, Query(description=", ".join(PATIENT_LEVELS), max_length=40)]
PatientPeriod = Annotated[str | None, Query(description=", ".join(PATIENT_PERIODS), max_length=40)]


@router.get(
    "/patients/measures",
    summary="Measures from patient-level records (exact figures: analyst token)",
    responses={
        **ok(PatientsOut, "Aggregates, protected below national level unless exact."),
        403: {"model": ErrorResponse, "description": "Exact figures need an analyst."},
    },
)
async def patient_measures(
    request: Request,
    level: PatientLevel = None,
    period: PatientPeriod = None,
    exact: Annotated[
        bool, Query(description="Exact figures below national level (analyst role only).")
    ] = False,
) -> Response:  # fmt: skip
    """Aggregates computed from the patient store; never a patient-level row. Below national
    level figures are protected (1-7 as "*", others rounded to 5) unless `exact=true` with an
    analyst token."""
    site = site_of(request)
    if exact:
        require_analyst(request)
    lv = parse_choice("level", level, PATIENT_LEVELS, "national")
    pd_ = parse_choice("period", period, PATIENT_PERIODS, "month")

    def build() -> Response:
        table = site.compute(("patients", lv, pd_), lambda wh: _patient_table(wh, lv, pd_))
        shown = protect(table, COUNT_COLUMNS, BASES, exact=exact)
        return _json(
            {
                "level": lv,
                "period": pd_,
                "disclosure": shown["disclosure"].iloc[0] if len(shown) else None,
                "rows": shown.to_dict("records"),
            }
        )

    return await site.cached_response(request, build, vary=("exact", exact))


def _patient_table(wh: Any, level: str, period: str) -> Any:
    from fourhour.measures.patient import duckdb_engine, measure_patients
    from fourhour.warehouse.patients import stored_files

    if not stored_files(wh):
        raise NotFound(
            "the warehouse holds no patient-level records",
            hint="fourhour patients ingest FILE...",
        )
    return measure_patients(wh, duckdb_engine(), levels=(level,), periods=(period,)).table


@router.get(
    "/whoami",
    summary="The token presented, if any (never the token itself)",
    responses=ok(WhoamiOut, "The token presented."),
)
async def whoami(request: Request) -> Response:
    token = token_of(request)
    return _json(
        {
            "authenticated": token is not None,
            "token": None if token is None else token.as_dict(),
            "exact_patient_figures": is_analyst(request),
        }
    )


LEVER_LENGTH = 40  # the longest lever value read: a number, never this long
Beds = Annotated[str | None, Query(description="Core beds, 10-5000.", max_length=LEVER_LENGTH)]
LosDays = Annotated[
    str | None, Query(description="Mean length of stay, 0.5-30 days.", max_length=LEVER_LENGTH)
]
DischargeFrom = Annotated[
    str | None, Query(description="Hour discharges start, 0-23.", max_length=LEVER_LENGTH)
]
DischargeTo = Annotated[
    str | None, Query(description="Hour discharges end, 1-24.", max_length=LEVER_LENGTH)
]
ArrivalsPerDay = Annotated[
    str | None, Query(description="A&E arrivals a day, 10-2000.", max_length=LEVER_LENGTH)
]
StreamingPct = Annotated[
    str | None,
    Query(description="Minor cases streamed to the UTC, 0-100%.", max_length=LEVER_LENGTH),
]


@router.get(
    "/capacity",
    summary="Run a capacity scenario against the baseline trust",
    responses=ok(CapacityOut, "The scenario against the baseline."),
)
async def capacity_run(
    request: Request,
    beds: Beds = None,
    los_days: LosDays = None,
    discharge_from: DischargeFrom = None,
    discharge_to: DischargeTo = None,
    arrivals_per_day: ArrivalsPerDay = None,
    streaming_pct: StreamingPct = None,
) -> Response:
    """The capacity model (a discrete-event simulation of one trust) run for the scenario and
    for the shipped baseline trust; levers not given keep the baseline's values."""
    from fourhour.web.routes.pages_capacity import compared, levers_from

    site = site_of(request)
    params = {
        "beds": beds, "los_days": los_days, "discharge_from": discharge_from,
        "discharge_to": discharge_to, "arrivals_per_day": arrivals_per_day,
        "streaming_pct": streaming_pct,
    }  # fmt: skip

    def build() -> Response:
        levers, _ = levers_from(params)
        result = compared(site, levers)
        return _json(
            {
                "levers": result["levers"],
                "baseline_levers": result["baseline_levers"],
                "replications": result["replications"],
                "days": result["days"],
                "results": result["tables"]["results"].records(),
                "time_in_department": result["tables"]["bands"].records(),
                "description": result["figure"].description,
            }
        )

    return await site.cached_response(request, build)
