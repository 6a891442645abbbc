"""The shapes of the API's 200 responses, for the OpenAPI description only (routes build their
JSON themselves; tests check that responses match these). Rows whose columns depend on the
level or the period allow further properties."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class PeriodOut(BaseModel):
    granularity: str
    start: str
    end: str
    label: str
    query: str


class Span(BaseModel):
    count: int
    first: str | None
    latest: str | None


class PeriodsOut(BaseModel):
    weeks: Span
    months: Span
    synthetic: bool


class EnglandOut(BaseModel):
    period: PeriodOut
    bulletin: dict[str, Any]
    basis: str
    trend: list[dict[str, Any]]
    trend_description: str | None


class LeagueRow(Open):
    rank: int | None
    code: str
    name: str
    attendances: float | None
    performance_pct: float | None
    last_year_pct: float | None
    change_points: float | None
    variation: str | None
    assurance: str | None


class LeagueOut(BaseModel):
    period: PeriodOut
    level: str
    basis: str
    count: int
    organisations: list[LeagueRow]


class SpcOut(BaseModel):
    description: str | None
    points: list[dict[str, Any]]


class FundingOut(Open):
    quarter: str
    assessment: dict[str, Any] | None
    not_available: str | None


class DetailOut(BaseModel):
    period: PeriodOut
    level: str
    code: str
    name: str
    basis: str
    rank: int | None
    of: int
    figures: dict[str, Any]
    types: list[dict[str, Any]]
    trolley_waits: list[dict[str, Any]]
    spc: SpcOut
    leaders: list[dict[str, Any]]
    trajectory: list[dict[str, Any]] | None = None
    funding: FundingOut | None = None
    members: list[dict[str, Any]] | None = None


class SummonsOut(Open):
    level: str
    granularity: str
    window: dict[str, Any]
    summons: list[dict[str, Any]]


class EscalationsOut(BaseModel):
    escalations: list[dict[str, Any]]


class FundingLedgerOut(Open):
    quarter: str


class PatientsOut(BaseModel):
    level: str
    period: str
    disclosure: str | None
    rows: list[dict[str, Any]]


class WhoamiOut(BaseModel):
    authenticated: bool
    token: dict[str, Any] | None
    exact_patient_figures: bool


class CapacityOut(BaseModel):
    levers: dict[str, Any]
    baseline_levers: dict[str, Any]
    replications: int
    days: float
    results: list[dict[str, Any]]
    time_in_department: list[dict[str, Any]]
    description: str | None


class OutlookOut(BaseModel):
    kind: str
    origin: str
    winter: list[str]
    basis: str
    standard_pct: float
    interim_target_pct: float
    level: str
    organisations: list[Open]


def ok(model: type[BaseModel], description: str) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` entry for its 200."""
    return {200: {"model": model, "description": description}}


BEARER = {"bearer": {"type": "http", "scheme": "bearer", "description": (
    "A token from `fourhour tokens create`; optional (aggregate figures are public), needed "
    "with the analyst role for exact patient-level figures."
)}}  # fmt: skip


def tidy_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """The bearer scheme (optional on every route), and no 422: parameter errors are 400s."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(BEARER)
    schema["security"] = [{}, {"bearer": []}]
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            op.get("responses", {}).pop("422", None)
    schemas = components.get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return schema
