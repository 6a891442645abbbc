"""Funding conditionality: the A&E element of a conditional fund, earned or withheld per quarter.

The rule (DOMAIN.md, "Funding conditionality"; settings per financial year in
defaults/funding.toml): a trust's A&E element is its allocation x ae_share, paid in four equal
quarterly parts. A quarter's part is earned if the trust met its agreed trajectory for that
quarter **or** the national standard; it is assessed quarterly in arrears (after the quarter's
last month is published); where the year's rules say so, the first quarter is paid for having
agreed a trajectory.

Definitions used here (documented in docs/oversight.md):
- Performance for the quarter is all-types attendances within four hours over all-types
  attendances, counts summed over the quarter (monthly returns, else weekly returns ending in
  the quarter); type 1 only where a source publishes nothing else.
- The quarter's trajectory is the attendance-weighted mean of the monthly trajectories, i.e.
  the performance the trust would have had if every month had exactly met its trajectory. All
  three months need a trajectory; otherwise only the standard can be met.
- "Met" means performance >= target - tolerance (tolerance 0 by default), compared unrounded.
- Merged trusts are assessed as the successor: in a quarter ending on or after a merger, the
  predecessors' returns count as the successor's, and the successor's trajectory and allocation
  apply.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from fourhour.errors import QueryError
from fourhour.measures.performance import source_granularity
from fourhour.oversight.config import FundingYear
from fourhour.oversight.explain import explain_funding
from fourhour.oversight.leaders import accountable
from fourhour.periods import MONTHS_A_QUARTER, Period, fy_start_year, quarter_containing
from fourhour.warehouse import Warehouse
from fourhour.warehouse.hierarchy import (
    hierarchy_notes,
    names_for,
    provider_parents,
    successor_sql,
)

# NHS trusts' ODS codes: three characters, R (acute, mental health, community and ambulance
# trusts) or T (care trusts). Independent providers, walk-in centres, GP practices and sites
# have other codes (AC008, NLO10, Y02147, C82009) and are not in the conditional funds.
TRUST_CODE = re.compile(r"^[RT][A-Z0-9]{2}$")
QUARTERS_A_YEAR = 4  # the A&E element is paid in four equal quarterly parts
FIRST_QUARTER = 1  # the quarter that may be paid for agreeing a trajectory
FY_FIRST_MONTH = 4  # financial years start in April


def is_trust_code(code: str) -> bool:
    return bool(TRUST_CODE.match(code or ""))


def plural(n: int, word: str) -> str:
    """'1 trust', '2 trusts'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass
class Ledger:
    quarter: Period
    year: FundingYear
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    what_if: dict[str, Any] | None = None

    def totals(self, by: str | None) -> list[dict[str, Any]]:
        """Totals by 'system_code', 'region_code' or for England (None)."""
        groups: dict[tuple, dict[str, Any]] = {}
        for r in self.rows:
            key = (r[by], r[by.replace("_code", "_name")]) if by else ("ENGLAND", "England")
            g = groups.setdefault(
                key,
                {
                    "code": key[0],
                    "name": key[1],
                    "trusts": 0,
                    "earned": 0,
                    "withheld": 0,
                    "not_assessable": 0,
                    "element_gbp": 0.0,
                    "earned_gbp": 0.0,
                    "withheld_gbp": 0.0,
                },
            )
            g["trusts"] += 1
            g[r["status"]] += 1
            g["element_gbp"] += r["element_gbp"] or 0.0
            g["earned_gbp"] += r["earned_gbp"] or 0.0
            g["withheld_gbp"] += r["withheld_gbp"] or 0.0
        return [groups[k] for k in sorted(groups, key=lambda k: (str(k[1]), str(k[0])))]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "fourhour.funding",
            "quarter": quarter_label(self.quarter),
            "period": {
                "start": self.quarter.start.isoformat(),
                "end": self.quarter.end.isoformat(),
            },
            "assessed": assessed_label(self.quarter),
            "rules": _year_dict(self.year),
            "trusts": self.rows,
            "totals": {
                "england": self.totals(None)[0] if self.rows else None,
                "regions": self.totals("region_code"),
                "systems": self.totals("system_code"),
            },
            "what_if": self.what_if,
            "notes": self.notes,
        }


def _year_dict(year: FundingYear) -> dict[str, Any]:
    return {
        "financial_year": year.financial_year,
        "fund": year.fund,
        "financial_control_share": year.financial_control_share,
        "performance_share": year.performance_share,
        "ae_share": year.ae_share,
        "other_shares": year.other_shares,
        "standard_pct": year.standard_pct,
        "trajectory_tolerance_points": year.trajectory_tolerance_points,
        "q1_paid_for_agreeing_trajectory": year.q1_paid_for_agreeing_trajectory,
    }


def quarter_number(q: Period) -> int:
    return (q.start.month - FY_FIRST_MONTH) % 12 // MONTHS_A_QUARTER + 1


def fy_label(q: Period) -> str:
    fy = fy_start_year(q.start)
    return f"{fy}-{(fy + 1) % 100:02d}"


def quarter_label(q: Period) -> str:
    return f"{fy_label(q)}Q{quarter_number(q)}"


def assessed_label(q: Period) -> str:
    """Quarterly in arrears: assessed in the quarter after, once its returns are published."""
    return quarter_label(quarter_containing(q.end + dt.timedelta(days=1)))


def _months(q: Period) -> list[dt.date]:
    first = q.start.year * 12 + q.start.month - 1
    return [dt.date((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(MONTHS_A_QUARTER)]


def _monthly_counts(wh: Warehouse, q: Period) -> tuple[pd.DataFrame, str]:
    """Per assessed trust (successor code) per month: attendances and breaches."""
    granularity = source_granularity(wh, q)  # monthly returns, else the weeks within it
    frame = wh.con.execute(
        f"""
        WITH succ AS ({successor_sql(q.end)})
        SELECT coalesce(s.current_code, r.org_code) AS code,
               date_trunc('month', r.period_end)::DATE AS month,
               sum(r.att_type1 + r.att_type2 + r.att_type3) AS att_all,
               sum(r.br_type1 + r.br_type2 + r.br_type3) AS br_all,
               sum(r.att_type1) AS att_t1, sum(r.br_type1) AS br_t1,
               count(*) FILTER (WHERE r.att_type2 IS NULL OR r.att_type3 IS NULL) AS partial,
               list(DISTINCT r.org_code ORDER BY r.org_code) AS filed_as
        FROM provider_returns r LEFT JOIN succ s ON s.code = r.org_code
        WHERE r.granularity = ? AND r.period_end BETWEEN ? AND ?
        GROUP BY 1, 2
        """,
        [granularity, q.start, q.end],
    ).df()
    for c in ("att_all", "br_all", "att_t1", "br_t1"):
        frame[c] = frame[c].astype("Float64")
    return frame, granularity


def assess_quarter(
    wh: Warehouse,
    q: Period,
    years: dict[str, FundingYear],
    *,
    standard_pct: float | None = None,
    tolerance_points: float | None = None,
    with_leaders: bool = True,
) -> Ledger:
    """The ledger for quarter `q`: one row per trust with an allocation, a trajectory or returns."""
    label = fy_label(q)
    if label not in years:
        raise QueryError(
            f"no funding rules for the financial year {label}",
            hint="rules are shipped for " + ", ".join(sorted(years)) + "; pass --rules FILE "
            'with a [years."' + label + '"] table',
        )
    year = years[label]
    if standard_pct is not None:
        year = replace(year, standard_pct=standard_pct)
    if tolerance_points is not None:
        year = replace(year, trajectory_tolerance_points=tolerance_points)
    n_q = quarter_number(q)
    fy = fy_start_year(q.start)
    counts, granularity = _monthly_counts(wh, q)
    months = [pd.Timestamp(m) for m in _months(q)]
    fy_start, fy_end = dt.date(fy, FY_FIRST_MONTH, 1), dt.date(fy + 1, FY_FIRST_MONTH - 1, 1)
    trajectories = wh.con.execute(
        f"""
        WITH succ AS ({successor_sql(q.end)})
        SELECT coalesce(s.current_code, t.org_code) AS code, t.month, t.trajectory_pct
        FROM trajectories t LEFT JOIN succ s ON s.code = t.org_code
        WHERE t.month BETWEEN ? AND ?
        """,
        [fy_start, fy_end],
    ).df()
    allocations = dict(
        wh.con.execute(
            "SELECT org_code, allocation_gbp FROM fund_allocations WHERE financial_year = ?",
            [label],
        ).fetchall()
    )
    # The trusts in the scheme: those with an allocation or an agreed trajectory for the year.
    codes = sorted(set(trajectories["code"]) | set(allocations))
    notes = []
    if not codes:
        with_returns = sorted(set(counts["code"]))
        codes = [c for c in with_returns if is_trust_code(c)]
        others = len(with_returns) - len(codes)
        if codes:
            notes.append(
                f"no trajectories or allocations are recorded for {label}: every NHS trust "
                f"with returns ({plural(len(codes), 'trust')}) is assessed against the standard "
                "alone"
                + (
                    f"; {plural(others, 'other provider')} with returns (independent sector, "
                    "walk-in centres, GP-led and other non-trust services, not in the fund) "
                    f"{'is' if others == 1 else 'are'} left out"
                    if others
                    else ""
                )
            )
    if not codes:
        raise QueryError(
            f"nothing to assess for {quarter_label(q)}: no returns, trajectories or allocations",
            hint="ingest the quarter's returns and import trajectories and allocations first",
        )
    names = names_for(wh, codes, q.start, q.end)  # as the trusts were named in the quarter
    parents = provider_parents(wh, codes, q.end)
    notes += hierarchy_notes(parents, "system", q.end) + hierarchy_notes(parents, "region", q.end)
    parents = parents.set_index("code")
    if not allocations:
        notes.append(
            f"no allocations are recorded for {label}: decisions are shown without amounts "
            "(fourhour allocations import FILE.csv)"
        )
    if granularity == "week":
        notes.append("no monthly returns for the quarter: weekly returns ending in it are used")
    quarter = _Quarter(q, n_q, months, year)
    rows = []
    for code in codes:
        c = counts[counts["code"] == code].set_index("month")
        t = trajectories[trajectories["code"] == code].set_index("month")["trajectory_pct"]
        trust = _Trust(code, names.get(code), parents.loc[code], allocations.get(code))
        rows.append(_assess_trust(trust, quarter, c, t))
    if with_leaders:
        for r in rows:
            leaders = accountable(
                wh, q.end, trusts=[r["code"]], system=r["system_code"], region=r["region_code"]
            )
            r["leaders"] = [x.as_dict() for x in leaders]
    for r in rows:
        r["explanation"] = explain_funding(r, _year_dict(year))
    return Ledger(q, year, rows, notes)


@dataclass(frozen=True)
class _Quarter:
    """The quarter being assessed and the year's rules for it."""

    q: Period
    number: int  # 1-4 within the financial year
    months: list[pd.Timestamp]  # its three months' first days
    year: FundingYear


@dataclass(frozen=True)
class _Trust:
    code: str
    name: str | None
    parent: pd.Series  # system and region, codes and names
    allocation: float | None


# How a quarter with a decision is described, by the route by which it was earned.
ROUTE_REASONS = {
    "both": "met its trajectory and the standard",
    "standard": "met the standard",
    "trajectory": "met its trajectory",
    None: "met neither its trajectory nor the standard",
}
FIGURE_DECIMALS = 4  # performance and trajectory are rounded to this many places when shown


def _assess_trust(
    trust: _Trust, quarter: _Quarter, c: pd.DataFrame, t: pd.Series
) -> dict[str, Any]:
    """One trust's ledger row: its counts `c` by month and trajectories `t` by month, the
    quarter's performance and trajectory, the decision and the money."""
    element = _quarter_element(trust.allocation, quarter.year)
    r = _ledger_row(trust, quarter, c, t, element)
    present = [m for m in quarter.months if m in c.index]
    if present:
        r.update(_quarter_figures(c, t, present, quarter.months))
    r.update(_decision(r, t, present, quarter))
    r.update(_money(r["status"], element))
    for k in ("performance_pct", "trajectory_pct"):
        if r[k] is not None:
            r[k] = round(r[k], FIGURE_DECIMALS)
    return r


def _quarter_element(allocation: float | None, year: FundingYear) -> float | None:
    """A quarter's part of the A&E element: allocation x ae_share, in equal quarterly parts."""
    return None if allocation is None else allocation * year.ae_share / QUARTERS_A_YEAR


def _ledger_row(
    trust: _Trust, quarter: _Quarter, c: pd.DataFrame, t: pd.Series, element: float | None
) -> dict[str, Any]:
    """The row before any figures or decision: who, which quarter, the amounts at stake."""
    p, year = trust.parent, quarter.year
    return {
        "code": trust.code,
        "name": trust.name,
        "system_code": p["system_code"],
        "system_name": p["system_name"],
        "region_code": p["region_code"],
        "region_name": p["region_name"],
        "quarter": quarter_label(quarter.q),
        "quarter_number": quarter.number,
        "assessed": assessed_label(quarter.q),
        "allocation_gbp": trust.allocation,
        "element_gbp": element,
        "attendances": None,
        "breaches": None,
        "performance_pct": None,
        "basis": None,
        "trajectory_pct": None,
        "trajectory_months": int(t.index.isin(quarter.months).sum()),
        "has_trajectory_for_year": bool(len(t)),
        "standard_pct": year.standard_pct,
        "tolerance_points": year.trajectory_tolerance_points,
        "met_trajectory": None,
        "met_standard": None,
        "route": None,
        "status": None,
        "reason": None,
        "filed_as": sorted({x for lst in c.get("filed_as", []) for x in lst}),
    }


def _quarter_figures(
    c: pd.DataFrame, t: pd.Series, present: list[pd.Timestamp], months: list[pd.Timestamp]
) -> dict[str, Any]:
    """Attendances, breaches and performance over the months with returns (all types where
    every month has them in full, else type 1), and, where every month has a trajectory and
    returns, the attendance-weighted trajectory."""
    all_types = c.loc[present, "partial"].sum() == 0 and c.loc[present, "att_all"].notna().all()
    att_col, br_col = ("att_all", "br_all") if all_types else ("att_t1", "br_t1")
    att = float(c.loc[present, att_col].sum())
    br = float(c.loc[present, br_col].sum())
    out: dict[str, Any] = {
        "attendances": int(att),
        "breaches": int(br),
        "basis": "all_types" if all_types else "type1",
        "performance_pct": (att - br) / att * 100 if att else None,
    }
    if t.index.isin(months).sum() == MONTHS_A_QUARTER:
        weights = c.loc[present, att_col].astype(float)
        out["trajectory_pct"] = (
            float((t.reindex(present) * weights).sum() / weights.sum())
            if len(present) == MONTHS_A_QUARTER and weights.sum()
            else None
        )
    return out


def _decision(
    r: dict[str, Any], t: pd.Series, present: list[pd.Timestamp], quarter: _Quarter
) -> dict[str, Any]:
    """Earned, withheld or not assessable, the route and the reason: the first quarter paid
    for agreeing a trajectory where the year says so; not assessable without a full quarter
    of returns; else earned by meeting the trajectory or the standard."""
    if quarter.number == FIRST_QUARTER and quarter.year.q1_paid_for_agreeing_trajectory:
        agreed = bool(len(t))
        return {
            "status": "earned" if agreed else "withheld",
            "route": "agreed_trajectory" if agreed else None,
            "reason": "paid for agreeing a trajectory" if agreed else "no agreed trajectory",
        }
    if len(present) < MONTHS_A_QUARTER or r["performance_pct"] is None:
        missing = [f"{m:%B %Y}" for m in quarter.months if m not in present]
        return {
            "status": "not_assessable",
            "reason": "no returns for " + ", ".join(missing) if missing else "no attendances",
        }
    return _met_standard_or_trajectory(r["performance_pct"], r["trajectory_pct"], quarter.year)


def _met_standard_or_trajectory(
    perf: float, trajectory: float | None, year: FundingYear
) -> dict[str, Any]:
    """Met means performance >= target - tolerance (the tolerance for the trajectory only),
    compared unrounded; either earns the quarter."""
    met_std = perf >= year.standard_pct
    met_traj = trajectory is not None and perf >= trajectory - year.trajectory_tolerance_points
    route = "both" if met_std and met_traj else "standard" if met_std else None
    if route is None and met_traj:
        route = "trajectory"
    return {
        "met_standard": met_std,
        "met_trajectory": met_traj if trajectory is not None else None,
        "route": route,
        "status": "earned" if route else "withheld",
        "reason": ROUTE_REASONS[route],
    }


def _money(status: str, element: float | None) -> dict[str, float | None]:
    """Earned and withheld amounts: none without an allocation, nothing when not assessable."""
    if element is None or status == "not_assessable":
        nothing = None if element is None else 0.0
        return {"earned_gbp": nothing, "withheld_gbp": nothing}
    earned = status == "earned"
    return {"earned_gbp": element if earned else 0.0, "withheld_gbp": 0.0 if earned else element}


def what_if(
    wh: Warehouse,
    q: Period,
    years: dict[str, FundingYear],
    base: Ledger,
    *,
    standard_pct: float | None,
    tolerance_points: float | None,
) -> dict[str, Any]:
    """How many trusts, and how much money, would qualify under another standard or tolerance."""
    alt = assess_quarter(
        wh,
        q,
        years,
        standard_pct=standard_pct,
        tolerance_points=tolerance_points,
        with_leaders=False,
    )

    def summary(ledger: Ledger) -> dict[str, Any]:
        e = ledger.totals(None)[0]
        return {
            "standard_pct": ledger.year.standard_pct,
            "tolerance_points": ledger.year.trajectory_tolerance_points,
            "trusts_earning": e["earned"],
            "trusts_withheld": e["withheld"],
            "earned_gbp": e["earned_gbp"],
            "withheld_gbp": e["withheld_gbp"],
        }

    before = {r["code"]: r["status"] for r in base.rows}
    changed = [
        {"code": r["code"], "name": r["name"], "from": before.get(r["code"]), "to": r["status"]}
        for r in alt.rows
        if before.get(r["code"]) != r["status"]
    ]
    return {"actual": summary(base), "alternative": summary(alt), "trusts_changing": changed}
