"""The cached computations behind pages and API alike, one per view and period (keys shared
by the routes and the start-up prewarm)."""

from __future__ import annotations

from typing import Any

from fourhour.errors import QueryError
from fourhour.measures.spc_names import DEFAULT_PRESET
from fourhour.periods import Period
from fourhour.warehouse.hierarchy import names_for
from fourhour.web import precompute
from fourhour.web.data import england as england_data
from fourhour.web.data import organisations as orgs
from fourhour.web.data import oversight as oversight_data
from fourhour.web.errors import BadParameter, NotFound
from fourhour.web.params import CODE, MAX_TEXT
from fourhour.web.site import Site


def england(site: Site, period: Period) -> dict[str, Any]:
    """England for the period, from the inputs the ingest stored when current."""

    def work(wh: Any) -> dict[str, Any]:
        stored = precompute.stored_england(wh, period) if site.config.precomputed else None
        return england_data.england_period(wh, period, stored)

    return site.compute(("england", period), work)


def league(site: Site, period: Period, level: str, preset: str = DEFAULT_PRESET) -> dict[str, Any]:
    """The league, read from the warehouse's precomputed leagues when they are current
    (fourhour.web.precompute), else computed live."""

    def work(wh: Any) -> dict[str, Any]:
        if site.config.precomputed:
            stored = precompute.stored_league(wh, period, level, preset)
            if stored is not None:
                return stored
        return orgs.league(wh, period, level, preset)

    return site.compute(("league", period, level, preset), work)


def code_of(site: Site, level: str, text: str) -> str | None:
    """The code of the organisation at `level` named or coded by `text` (None if none)."""
    return site.compute(("code-of", level, text), lambda wh: orgs.code_of(wh, level, text))


def org_code(site: Site, name: str, level: str, text: str | None) -> str | None:
    """A path or filter value: the organisation's code. A name that resolves raises Moved (the
    caller redirects); one that is neither a known code nor a name is a 400 (not code-like) or
    left to the page's own 404."""
    if text is None or text == "":
        return None
    value = text.strip()
    if len(value) > MAX_TEXT:
        raise BadParameter(name, f"too long ({len(value)} characters; at most {MAX_TEXT})")
    code = code_of(site, level, value)
    if code is not None:
        if code != value:
            raise Moved(name, code)
        return code
    if CODE.match(value):
        return value.upper()
    raise NotFound(
        f"no {level} with the code or name {value!r} in the warehouse",
        hint=f"see /{orgs.PLURAL[level]} for the {orgs.PLURAL[level]} held",
    )


class Moved(Exception):
    """The parameter `name` named an organisation whose code is `code`: redirect there."""

    def __init__(self, name: str, code: str) -> None:
        super().__init__(name, code)
        self.name, self.code = name, code


def league_figure(site: Site, period: Period, level: str, preset: str = DEFAULT_PRESET) -> Any:
    data = league(site, period, level, preset)
    return site.compute(
        ("league-figure", period, level, preset), lambda wh: orgs.league_figure(data)
    )


def detail(
    site: Site, period: Period, level: str, code: str, preset: str = DEFAULT_PRESET
) -> dict[str, Any]:
    data = league(site, period, level, preset)
    return site.compute(
        ("detail", period, level, code, preset),
        lambda wh: orgs.detail(wh, period, level, code, data),
    )


def detail_or_none(
    site: Site, period: Period, level: str, code: str, preset: str = DEFAULT_PRESET
) -> dict[str, Any] | None:
    """The organisation's page for `period`, or None when it is known but has no figures then
    (a 404 when the code is not known at all)."""
    data = league(site, period, level, preset)
    if not any(r["code"] == code for r in data["rows"]):
        site.compute(("known", level, code), lambda wh: orgs.require_known(wh, level, code))
        return None
    return detail(site, period, level, code, preset)


def periods_with_data(site: Site, level: str, code: str, period: Period) -> tuple:
    g = period.granularity
    return site.compute(
        ("periods-with-data", level, code, g),
        lambda wh: orgs.periods_with_data(wh, level, code, g),
    )


def name_of(site: Site, code: str, period: Period) -> str:
    """The organisation's name as it was in `period` (else the latest known, else the code)."""
    names = site.compute(
        ("name", code, period),
        lambda wh: names_for(wh, [code], period.start, period.end),
    )
    return names.get(code, code)


def summons(site: Site, period: Period, level: str = "system") -> dict[str, Any]:
    rules = site.config.escalation_rules
    return site.compute(
        ("summons", period.granularity, period.end, level),
        lambda wh: oversight_data.summons(wh, period, rules, level),
    )


def funding(site: Site, quarter: Period) -> dict[str, Any]:
    """The quarter's ledger: the one the ingest stored (shipped rules) when current."""
    rules = site.config.funding_rules

    def work(wh: Any) -> dict[str, Any]:
        if rules is None and site.config.precomputed:
            stored = precompute.stored_funding(wh, quarter)
            if stored is not None:
                return stored
        return oversight_data.funding(wh, quarter, rules)

    return site.compute(("funding", quarter), work)


def funding_or_none(site: Site, quarter: Period) -> tuple[dict[str, Any] | None, str | None]:
    """The ledger, or None and the reason it cannot be drawn up (no rules for that year...).
    Only 'not found' is a reason: a bad rules file or input is an error, never a page quietly
    without its ledger."""
    try:
        return funding(site, quarter), None
    except QueryError as exc:
        return None, exc.message


def trajectory(site: Site, code: str, period: Period) -> Any:
    return site.compute(("trajectory", code, period), lambda wh: orgs.trajectory(wh, code, period))


def escalations(site: Site) -> Any:
    return site.compute(("escalations",), oversight_data.escalations)


def escalation(site: Site, escalation_id: int) -> dict[str, Any]:
    return site.compute(
        ("escalation", escalation_id), lambda wh: oversight_data.escalation(wh, escalation_id)
    )
