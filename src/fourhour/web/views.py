"""The cached computations behind pages and API alike, one per view and period (keys shared
by the routes and the start-up prewarm)."""

from __future__ import annotations

from typing import Any

from fourhour.errors import FourhourError
from fourhour.periods import Period
from fourhour.web.data import england as england_data
from fourhour.web.data import organisations as orgs
from fourhour.web.data import oversight as oversight_data
from fourhour.web.site import Site


def england(site: Site, period: Period) -> dict[str, Any]:
    return site.compute(("england", period), lambda wh: england_data.england_period(wh, period))


def league(site: Site, period: Period, level: str) -> dict[str, Any]:
    return site.compute(("league", period, level), lambda wh: orgs.league(wh, period, level))


def league_figure(site: Site, period: Period, level: str) -> Any:
    data = league(site, period, level)
    return site.compute(("league-figure", period, level), lambda wh: orgs.league_figure(data))


def detail(site: Site, period: Period, level: str, code: str) -> dict[str, Any]:
    data = league(site, period, level)
    return site.compute(
        ("detail", period, level, code), lambda wh: orgs.detail(wh, period, level, code, data)
    )


def summons(site: Site, period: Period, level: str = "system") -> dict[str, Any]:
    rules = site.config.escalation_rules
    return site.compute(
        ("summons", period.granularity, period.end, level),
        lambda wh: oversight_data.summons(wh, period, rules, level),
    )


def funding(site: Site, quarter: Period) -> dict[str, Any]:
    rules = site.config.funding_rules
    return site.compute(("funding", quarter), lambda wh: oversight_data.funding(wh, quarter, rules))


def funding_or_none(site: Site, quarter: Period) -> tuple[dict[str, Any] | None, str | None]:
    """The ledger, or None and the reason it cannot be drawn up (no rules for that year...)."""
    try:
        return funding(site, quarter), None
    except FourhourError as exc:
        return None, exc.message


def trajectory(site: Site, code: str, period: Period) -> Any:
    return site.compute(("trajectory", code, period), lambda wh: orgs.trajectory(wh, code, period))


def escalations(site: Site) -> Any:
    return site.compute(("escalations",), oversight_data.escalations)


def escalation(site: Site, escalation_id: int) -> dict[str, Any]:
    return site.compute(
        ("escalation", escalation_id), lambda wh: oversight_data.escalation(wh, escalation_id)
    )
