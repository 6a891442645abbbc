"""Oversight: the summons list with its evidence (the escalation engine run read-only, as
`fourhour escalate --no-record`), escalation history, and the funding ledger by quarter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fourhour.errors import QueryError
from fourhour.oversight.config import load_escalation_rules, load_funding_rules
from fourhour.oversight.escalation import evaluate
from fourhour.oversight.escalation_store import attach_status, list_escalations, show_escalation
from fourhour.oversight.funding import assess_quarter, fy_label, quarter_label
from fourhour.oversight.synthetic import last_complete_quarter
from fourhour.periods import Period, parse_quarter
from fourhour.warehouse import Warehouse
from fourhour.web.data.tables import Column, Table, clean_tree
from fourhour.web.errors import NotFound

RULE_LABELS = {
    "below_standard": "Below the standard",
    "below_floor": "Below the floor",
    "yoy_deterioration": "Worse than a year earlier",
    "sustained_decline": "Sustained decline",
    "trolley_waits_12h": "12-hour trolley waits",
    "special_cause": "SPC signal of concern",
    "forecast_miss": "Forecast to miss this winter",
}


def summons(
    wh: Warehouse, period: Period, rules_path: Path | None, level: str = "system"
) -> dict[str, Any]:
    """The engine's result for the week or month, with each summoned system's (or trust's)
    live escalation; nothing is recorded."""
    result = evaluate(wh, period, load_escalation_rules(rules_path, period.granularity), level)
    return clean_tree(attach_status(wh, result.as_dict()))


def _org_url(payload: dict[str, Any], code: str) -> str:
    base = "/providers" if payload.get("level") == "provider" else "/systems"
    period = payload.get("period", {})
    if payload.get("granularity") == "month":
        return f"{base}/{code}?month={period.get('end', '')[:7]}"
    if payload.get("granularity") == "week":
        return f"{base}/{code}?week={period.get('end', '')}"
    return f"{base}/{code}"


def _who(payload: dict[str, Any]) -> tuple[str, str]:
    return ("trusts", "Trust") if payload.get("level") == "provider" else ("systems", "System")


def summons_table(payload: dict[str, Any]) -> Table:
    rows = [
        {
            "rank": s["rank"],
            "code": s["code"],
            "name": s["name"],
            "url": _org_url(payload, s["code"]),
            "region": s.get("region"),
            "score": s["score"],
            "performance_pct": s["performance_pct"],
            "last_year_pct": s["last_year_pct"],
            "attendances": s["attendances"],
            "trolley_waits_12h": s["trolley_waits_12h"],
            "rules": "; ".join(RULE_LABELS.get(r["rule"], r["rule"]) for r in s["rules_fired"]),
            "status": s.get("status") or "not escalated",
        }
        for s in payload["summons"]
    ]
    many, one = _who(payload)
    return Table(
        "summons",
        f"Summons list: the {len(rows)} {many} to summon, {payload['window']['label']}",
        [
            Column("rank", "Rank", "number"),
            Column("code", "Code", "code"),
            Column("name", one, link="url"),
            Column("region", "Region", filter=True),
            Column("score", "Score", "number"),
            Column("performance_pct", "Within 4 hours (%)", "pct"),
            Column("last_year_pct", "Same periods last year (%)", "pct"),
            Column("attendances", "Attendances", "count"),
            Column("trolley_waits_12h", "12-hour waits", "count"),
            Column("rules", "Rules fired"),
            Column("status", "Escalation status", filter=True),
        ],
        rows,
    )


def systems_table(payload: dict[str, Any]) -> Table:
    rows = [
        {
            **s,
            "url": _org_url(payload, s["code"]),
            "rules": "; ".join(RULE_LABELS.get(r, r) for r in s["rules_fired"]),
            "summoned": "yes" if s["summoned"] else "no",
        }
        for s in payload["systems"]
    ]
    many, one = _who(payload)
    return Table(
        "systems",
        f"Every one of the {payload['systems_scored']} {many} scored, {payload['window']['label']}",
        [
            Column("rank", "Rank", "number"),
            Column("code", "Code", "code"),
            Column("name", one, link="url"),
            Column("score", "Score", "number"),
            Column("performance_pct", "Within 4 hours (%)", "pct"),
            Column("rules", "Rules fired"),
            Column("summoned", "Summoned", filter=True),
            Column("recovered_periods", "Periods recovering", "count"),
        ],
        rows,
    )


def escalations(wh: Warehouse) -> Table:
    rows = [{**e, "url": f"/oversight/escalations/{e['id']}"} for e in list_escalations(wh)]
    return Table(
        "escalations",
        f"Escalations ({len(rows)}): live first, then closed",
        [
            Column("id", "Id", "number", link="url"),
            Column("level", "Level", filter=True),
            Column("system_code", "Code", "code"),
            Column("system_name", "Organisation"),
            Column("status", "Status", filter=True),
            Column("opened", "Opened (period ending)", "date"),
            Column("last_period", "Latest period ending", "date"),
            Column("closed", "Closed (period ending)", "date"),
        ],
        rows,
    )


def escalation(wh: Warehouse, escalation_id: int) -> dict[str, Any]:
    try:
        e = show_escalation(wh, escalation_id)
    except QueryError:
        raise NotFound(
            f"no escalation {escalation_id}", hint="see /oversight for the escalations held"
        ) from None
    history = Table(
        "history",
        f"History of escalation {escalation_id}",
        [
            Column("seq", "#", "number"),
            Column("period_end", "Period ending", "date"),
            Column("granularity", "Period"),
            Column("event", "Event"),
            Column("status", "Status"),
            Column("note", "Note"),
        ],
        e["history"],
        sortable=False,
    )
    return {"escalation": clean_tree(e), "history": history}


# ---------------------------------------------------------------------------- funding


def default_quarter(latest: Period) -> Period:
    """The last quarter the returns cover completely."""
    return parse_quarter(last_complete_quarter(latest.end))


def ledger_quarter(latest: Period, rules_path: Path | None) -> Period | None:
    """The ledger for `latest`: its last complete quarter, else (no rules for that year) the
    last quarter of the latest year the rules cover before it; None if the rules cover none."""
    q = default_quarter(latest)
    years, _ = load_funding_rules(rules_path)  # a bad rules file is an error, not "no ledger"
    if fy_label(q) in years:
        return q
    earlier = sorted(y for y in years if y < fy_label(q))
    return parse_quarter(f"{earlier[-1]}Q4") if earlier else None


def funding(wh: Warehouse, q: Period, rules_path: Path | None) -> dict[str, Any]:
    """The A&E funding ledger for quarter `q` (oversight.funding.assess_quarter)."""
    years, source = load_funding_rules(rules_path)
    label = fy_label(q)
    if label not in years:
        raise NotFound(
            f"no funding rules for the financial year {label} (rules: {source})",
            hint="rules cover " + ", ".join(sorted(years)) + "; start the server with "
            "--funding-rules FILE for other years",
        )
    ledger = assess_quarter(wh, q, years)
    return clean_tree(ledger.as_dict())


def funding_tables(ledger: dict[str, Any], link: str = "") -> dict[str, Table]:
    """The ledger's tables; trusts link to their page with `link` (e.g. ?month=2017-03)."""
    trusts = [
        {**t, "url": f"/providers/{t['code']}{link}"}
        for t in sorted(ledger["trusts"], key=lambda t: (t["status"] or "", t["code"]))
    ]
    money = [
        Column("trusts", "Trusts", "count"),
        Column("earned", "Earned", "count"),
        Column("withheld", "Withheld", "count"),
        Column("not_assessable", "Not assessable", "count"),
        Column("element_gbp", "A&E element (£)", "gbp"),
        Column("earned_gbp", "Earned (£)", "gbp"),
        Column("withheld_gbp", "Withheld (£)", "gbp"),
    ]
    return {
        "trusts": Table(
            "ledger",
            f"Funding ledger, {ledger['quarter']} (assessed in {ledger['assessed']})",
            [
                Column("code", "Code", "code"),
                Column("name", "Trust", link="url"),
                Column("region_name", "Region", filter=True),
                Column("status", "Status", filter=True),
                Column("route", "Route"),
                Column("performance_pct", "Within 4 hours (%)", "pct"),
                Column("trajectory_pct", "Trajectory (%)", "pct"),
                Column("element_gbp", "A&E element (£)", "gbp"),
                Column("earned_gbp", "Earned (£)", "gbp"),
                Column("reason", "Reason"),
            ],
            trusts,
        ),
        "regions": Table(
            "regions",
            f"Totals by region, {ledger['quarter']}",
            [Column("code", "Code", "code"), Column("name", "Region"), *money],
            ledger["totals"]["regions"],
        ),
        "systems": Table(
            "systems",
            f"Totals by system, {ledger['quarter']}",
            [Column("code", "Code", "code"), Column("name", "System"), *money],
            ledger["totals"]["systems"],
        ),
    }


def funding_row(ledger: dict[str, Any] | None, code: str) -> dict[str, Any] | None:
    if not ledger:
        return None
    return next((t for t in ledger["trusts"] if t["code"] == code), None)


def quarter_text(q: Period) -> str:
    return quarter_label(q)
