"""Plain-English explanations generated from the figures, one paragraph per decision.

Each function takes the structured evidence that the JSON output carries and states it in
sentences a board member can read aloud; nothing is said that is not in the figures.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from fourhour.periods import Period, count_label, window_label

if TYPE_CHECKING:
    from fourhour.oversight.config import EscalationRules

RULE_PHRASES = {
    "below_standard": "below the standard",
    "below_floor": "below the floor",
    "yoy_deterioration": "worse than a year earlier",
    "sustained_decline": "a sustained decline",
    "trolley_waits_12h": "12-hour trolley waits",
    "special_cause": "a statistical signal of concern",
    "forecast_miss": "a forecast likely to miss this winter's target",
}
BASIS_WORDS = {"all_types": "attendances (all department types)", "type1": "type 1 attendances"}


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def day(d: dt.date | str) -> str:
    value = dt.date.fromisoformat(d) if isinstance(d, str) else d
    return f"{value.day} {value:%B %Y}"


def money(amount: float | None) -> str:
    if amount is None:
        return "an unrecorded amount"
    if amount >= 1_000_000:
        return f"£{amount / 1_000_000:,.2f}m"
    return f"£{amount:,.0f}"


def named(name: str | None, code: str) -> str:
    """'Name (CODE)', or just one of them where they are the same or the name is unknown."""
    if not name or name == code:
        return code
    return f"{name} ({code})"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def explain_system(
    e: dict[str, Any], basis: str, rules: EscalationRules, period: Period, level: str = "system"
) -> str:
    """Why a system (or, at provider level, a trust) is on the summons list."""
    n = rules.periods
    unit = count_label(n, period.granularity).split(" ", 1)[1]
    what = "trusts" if level == "provider" else "systems"
    s = [
        f"{named(e['name'], e['code'])} ranks {ordinal(e['rank'])} of {e['systems_scored']} "
        f"{what} with a score of {e['score']:.1f}."
    ]
    standard = rules.standard_pct
    if e["performance_pct"] is not None:
        gap = standard - e["performance_pct"]
        where = (
            f"{gap:.1f} points below the {standard:g}% standard"
            if gap > 0
            else f"{-gap:.1f} points above the {standard:g}% standard"
        )
        who = "it" if level == "provider" else "its providers"
        s.append(
            f"Over {window_label(period, n)} {who} saw "
            f"{e['performance_pct']:.1f}% of {e['attendances']:,} {BASIS_WORDS[basis]} within "
            f"four hours, {where}"
            + (
                f", and {abs(e['change_points']):.1f} points "
                f"{'worse' if e['change_points'] < 0 else 'better'} than the same {unit} a year "
                f"earlier ({e['last_year_pct']:.1f}%)."
                if e["change_points"] is not None
                else f"; there are no returns for the same {unit} a year earlier."
            )
        )
    if e["periods_with_data"] < n:
        s.append(f"Only {e['periods_with_data']} of the {n} {unit} have returns.")
    fired = [r["rule"] for r in e["rules_fired"]]
    if "sustained_decline" in fired:
        path = " → ".join(
            f"{w['performance_pct']:.1f}%" for w in e["trend"] if w["performance_pct"] is not None
        )
        s.append(f"Performance fell {unit[:-1]} after {unit[:-1]} ({path}).")
    if e["trolley_waits_12h"]:
        s.append(
            f"There {'was' if e['trolley_waits_12h'] == 1 else 'were'} "
            f"{e['trolley_waits_12h']:,} wait{'s' if e['trolley_waits_12h'] != 1 else ''} of "
            "over 12 hours from decision to admit."
        )
    if "special_cause" in fired:
        detail = next(r["detail"] for r in e["rules_fired"] if r["rule"] == "special_cause")
        s.append(detail[0].upper() + detail[1:] + ".")
    s.append("Rules fired: " + _join([RULE_PHRASES[f] for f in fired]) + ".")
    if e["providers_driving"]:
        parts = [
            f"{d['name'] or d['code']} ({d['performance_pct']:.1f}%, "
            f"{d['breaches_beyond_standard']:,} breaches beyond the standard's allowance)"
            for d in e["providers_driving"]
        ]
        s.append("Most of the shortfall came from " + _join(parts) + ".")
    if e["leaders"]:
        s.append(
            "To summon: "
            + _join([f"{x['name']} ({x['title']}, {x['org_code']})" for x in e["leaders"]])
            + "."
        )
    else:
        one = "trust" if level == "provider" else "system"
        s.append(f"No accountable leaders are recorded for this {one} (fourhour leaders import).")
    return " ".join(s)


def explain_funding(r: dict[str, Any], year: dict[str, Any]) -> str:
    """Why a trust earned or lost its A&E element for a quarter."""
    who = named(r["name"], r["code"])
    amount = money(r["element_gbp"])
    if r["quarter_number"] == 1 and year["q1_paid_for_agreeing_trajectory"]:
        if r["status"] == "earned":
            return (
                f"{who} earned {amount} for {r['quarter']}: the first quarter is paid for "
                f"agreeing an A&E trajectory, and a trajectory for {year['financial_year']} is "
                "recorded."
            )
        return (
            f"{who} did not earn {amount} for {r['quarter']}: the first quarter is paid for "
            f"agreeing an A&E trajectory, and none is recorded for {year['financial_year']}."
        )
    if r["status"] == "not_assessable":
        return f"{who}: {r['quarter']} cannot be assessed yet: {r['reason']}."
    perf = r["performance_pct"]
    standard = year["standard_pct"]
    parts = [
        f"In {r['quarter']} {who} saw {perf:.1f}% of {r['attendances']:,} attendances "
        "within four hours"
    ]
    if r["trajectory_pct"] is not None:
        tol = r["tolerance_points"]
        parts.append(
            f"against an agreed trajectory of {r['trajectory_pct']:.1f}%"
            + (f" (with a tolerance of {tol:g} points)" if tol else "")
        )
    else:
        parts.append("with no complete agreed trajectory for the quarter")
    parts.append(f"and the {standard:g}% national standard")
    text = " ".join(parts) + "."
    if r["status"] == "earned":
        route = {
            "trajectory": "it met its trajectory",
            "standard": "it met the national standard",
            "both": "it met both its trajectory and the national standard",
        }[r["route"]]
        return text + f" It earned {amount} because {route}."
    return text + f" It did not earn {amount}: it met neither its trajectory nor the standard."
