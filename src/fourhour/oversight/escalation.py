"""The escalation engine: score every local system, rank them, and draw up the summons list.

For a chosen week, each system's providers are rolled up with the organisation mapping in force
that week, and scored over the window of weeks ending then (rules and weights: config.py and
defaults/escalation.toml). The same scoring is repeated for the preceding weeks to tell whether
an escalated system has recovered for long enough to be de-escalated (escalation_store.py).

Everything here is a pure function of the warehouse and the rules: the same inputs always give
the same result, which is what makes a run reproducible and a re-run a no-op.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fourhour.errors import QueryError
from fourhour.oversight.config import EscalationRules
from fourhour.oversight.explain import explain_system
from fourhour.oversight.leaders import accountable
from fourhour.periods import week_ending
from fourhour.warehouse import Warehouse
from fourhour.warehouse.hierarchy import SYSTEM_KIND_NAMES, UNMAPPED, provider_parents

WEEK = dt.timedelta(days=7)
YEAR_WEEKS = 52  # the same week a year earlier is 52 weeks (364 days) before
HISTORY_WEEKS = 156  # weekly history read for SPC signals and year-on-year comparisons
DRIVERS = 3  # providers named as driving a system's position


@dataclass
class WeekScores:
    """Every system's scores for one week's window (one row per system)."""

    week_end: dt.date
    table: pd.DataFrame


@dataclass
class EscalationResult:
    week_end: dt.date
    basis: str
    rules: EscalationRules
    ranked: pd.DataFrame  # every system, ranked, with rule columns, summoned and recovery
    summons: list[dict[str, Any]]
    unmapped_providers: list[str]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON contract (see docs/oversight.md). Deterministic for the same inputs."""
        window_start = self.week_end - WEEK * (self.rules.weeks - 1) - dt.timedelta(days=6)
        return {
            "kind": "fourhour.escalation",
            "week_ending": self.week_end.isoformat(),
            "window": {
                "weeks": self.rules.weeks,
                "start": window_start.isoformat(),
                "end": self.week_end.isoformat(),
            },
            "basis": self.basis,
            "rules": self.rules.summary(),
            "systems_scored": len(self.ranked),
            "summons": self.summons,
            "systems": [_system_row(r) for r in self.ranked.to_dict("records")],
            "unmapped_providers": self.unmapped_providers,
            "notes": self.notes,
        }


def _num(value: Any, digits: int = 2) -> float | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return round(float(value), digits)


def _int(value: Any) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return int(value)


def _system_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "rank": int(r["rank"]),
        "code": r["system_code"],
        "name": r["system_name"],
        "score": _num(r["score"], 3),
        "performance_pct": _num(r["perf"]),
        "rules_fired": list(r["fired"]),
        "summoned": bool(r["summoned"]),
        "recovered_weeks": int(r["recovered_streak"]),
    }


# ------------------------------------------------------------------------------------ data


def _weekly_rows(wh: Warehouse, end: dt.date, weeks: int) -> pd.DataFrame:
    start = end - WEEK * (weeks - 1)
    return wh.con.execute(
        """
        SELECT period_end, org_code,
               att_type1, br_type1, att_type1 + att_type2 + att_type3 AS att_all,
               br_type1 + br_type2 + br_type3 AS br_all, dta_over_12h
        FROM provider_returns
        WHERE granularity = 'week' AND period_end BETWEEN ? AND ?
        """,
        [start, end],
    ).df()


def _basis(rows: pd.DataFrame, window_start: dt.date) -> str:
    recent = rows[rows["period_end"] >= pd.Timestamp(window_start)]
    if len(recent) and recent["att_all"].notna().all() and recent["br_all"].notna().all():
        return "all_types"
    return "type1"


def _matrices(
    rows: pd.DataFrame, parents: pd.DataFrame, weeks: pd.DatetimeIndex, basis: str
) -> dict[str, pd.DataFrame]:
    """System x week matrices of attendances, breaches and 12-hour waits (NaN: no returns)."""
    att_col, br_col = ("att_all", "br_all") if basis == "all_types" else ("att_type1", "br_type1")
    frame = rows.merge(parents[["code", "system_code"]], left_on="org_code", right_on="code")
    frame = frame[frame[att_col].notna()]
    grouped = frame.groupby(["system_code", "period_end"])
    sums = pd.DataFrame(
        {
            "att": grouped[att_col].sum(),
            "br": grouped[br_col].sum(min_count=1),
            "dta12": grouped["dta_over_12h"].sum(min_count=1),
        }
    ).reset_index()
    out = {}
    for column in ("att", "br", "dta12"):
        wide = sums.pivot(index="system_code", columns="period_end", values=column)
        out[column] = wide.reindex(columns=weeks).astype(float)
    return out


# ----------------------------------------------------------------------------------- scoring


def _window(matrix: pd.DataFrame, j: int, n: int) -> tuple[pd.Series, pd.Series]:
    """Sum over the n weeks ending at column j (NaN if none), and how many weeks had data."""
    part = matrix.iloc[:, max(0, j - n + 1) : j + 1]
    return part.sum(axis=1, min_count=1), part.notna().sum(axis=1)


def _spc_concern(perf: pd.DataFrame, j: int, min_weeks: int) -> pd.DataFrame | None:
    """Special cause of concern at week j, from each system's weekly series up to week j."""
    try:
        from fourhour.measures.spc import SpcOptions, xmr
    except ImportError:  # pragma: no cover - the SPC engine ships with fourhour
        return None
    history = perf.iloc[:, : j + 1]
    long = history.stack(future_stack=True).rename("value").reset_index()
    long.columns = ["code", "period_end", "value"]
    long = long[long["value"].notna()]
    if long.empty:
        return pd.DataFrame(columns=["concern", "reason"])
    result = xmr(long, freq="7D", options=SpcOptions(improvement="up", min_points=min_weeks))
    latest = result.points[result.points["period_end"] == history.columns[-1]]
    return pd.DataFrame(
        {
            "concern": (latest["special_cause"] == "concern").to_numpy(),
            "reason": latest["reason"].to_numpy(),
        },
        index=latest["code"].to_numpy(),
    )


def score_week(
    m: dict[str, pd.DataFrame], weeks: pd.DatetimeIndex, j: int, rules: EscalationRules
) -> pd.DataFrame:
    """Score every system for the window ending at week index j."""
    n = rules.weeks
    att, n_att = _window(m["att"], j, n)
    br, _ = _window(m["br"], j, n)
    dta12, n_dta = _window(m["dta12"], j, n)
    perf = (att - br) / att * 100
    weekly = (m["att"] - m["br"]) / m["att"] * 100
    t = pd.DataFrame({"att": att, "br": br, "perf": perf, "weeks_with_data": n_att})
    t["dta12"] = dta12.where(n_dta > 0)
    if j - YEAR_WEEKS >= 0:
        att_ly, _ = _window(m["att"], j - YEAR_WEEKS, n)
        br_ly, _ = _window(m["br"], j - YEAR_WEEKS, n)
        t["perf_ly"] = (att_ly - br_ly) / att_ly * 100
    else:
        t["perf_ly"] = np.nan
    t["change"] = t["perf"] - t["perf_ly"]

    r = rules.rules
    fired: dict[str, pd.Series] = {}
    has = t["perf"].notna()
    fired["below_standard"] = has & (t["perf"] < rules.standard_pct)
    fired["below_floor"] = has & (t["perf"] < r["below_floor"].params["floor_pct"])
    fired["yoy_deterioration"] = t["change"].notna() & (
        -t["change"] >= r["yoy_deterioration"].params["points"]
    )
    d = int(r["sustained_decline"].params["weeks"])
    falling = pd.Series(j - d >= 0, index=t.index)
    for k in range(d):
        if j - k - 1 < 0:
            falling &= False
            break
        now, before = weekly.iloc[:, j - k], weekly.iloc[:, j - k - 1]
        falling &= (now < before).fillna(False)
    fired["sustained_decline"] = falling.reindex(t.index, fill_value=False)
    fired["trolley_waits_12h"] = t["dta12"].notna() & (
        t["dta12"] >= r["trolley_waits_12h"].params["min_waits"]
    )
    spc = None
    if r["special_cause"].enabled:
        spc = _spc_concern(weekly, j, int(r["special_cause"].params["min_weeks"]))
    if spc is not None and len(spc):
        concern = spc["concern"].reindex(t.index, fill_value=False).astype(bool)
        t["spc_reason"] = spc["reason"].reindex(t.index)
    else:
        concern = pd.Series(False, index=t.index)
        t["spc_reason"] = None
    fired["special_cause"] = concern
    # Forward-looking (fourhour.forecast.outlook.forecast_miss_systems): fired per system, when
    # the caller has put it in m["forecast_miss"]; never fires otherwise.
    fired["forecast_miss"] = m.get("forecast_miss", pd.Series(False, index=t.index))
    t["spc_available"] = spc is not None

    score = pd.Series(0.0, index=t.index)
    names = []
    for name, rule in r.items():
        if not rule.enabled:
            continue
        hit = fired[name].reindex(t.index, fill_value=False).astype(bool)
        t[f"rule_{name}"] = hit
        score += hit * rule.weight
        names.append(name)
    depth = (rules.standard_pct - t["perf"]).clip(lower=0).fillna(0)
    t["score"] = (score + rules.depth_weight * depth).round(6)
    t["fired"] = [tuple(nm for nm in names if t.at[code, f"rule_{nm}"]) for code in t.index]
    for k in range(max(d, 1) + 1):
        t[f"week_{k}"] = weekly.iloc[:, j - k] if j - k >= 0 else np.nan
    t.index.name = "system_code"
    t = t.reset_index()
    t = t[t["system_code"] != UNMAPPED]
    t = t.sort_values(
        ["score", "perf", "att", "system_code"],
        ascending=[False, True, False, True],
        na_position="last",
    ).reset_index(drop=True)
    t["rank"] = np.arange(1, len(t) + 1)
    t["summoned"] = (t["rank"] <= rules.top) & (t["fired"].map(len) > 0)
    return t


# -------------------------------------------------------------------------------- evaluate


def evaluate(wh: Warehouse, week_end: dt.date, rules: EscalationRules) -> EscalationResult:
    """Score, rank and explain every system for the window ending `week_end`."""
    week_ending(week_end)  # a Sunday, or a clear error
    decline = int(rules.rules["sustained_decline"].params["weeks"])
    span = max(HISTORY_WEEKS, YEAR_WEEKS + rules.weeks + rules.recovery_weeks + decline)
    rows = _weekly_rows(wh, week_end, span)
    window_start = week_end - WEEK * (rules.weeks - 1)
    in_window = rows[rows["period_end"] >= pd.Timestamp(window_start)]
    if in_window.empty:
        raise QueryError(
            f"no weekly returns in the {rules.weeks} weeks ending {week_end}",
            hint="fourhour warehouse info shows which weeks are loaded",
        )
    basis = _basis(rows, window_start)
    codes = sorted(rows["org_code"].unique())
    parents = provider_parents(wh, codes, week_end)
    weeks = pd.date_range(end=pd.Timestamp(week_end), periods=span, freq="7D")
    m = _matrices(rows, parents, weeks, basis)
    j = len(weeks) - 1
    notes: list[str] = []
    if basis == "type1":
        notes.append(
            "all-types figures are not available for every provider in the window; systems "
            "are scored on type 1 (major A&E) attendances"
        )

    # The week itself and the preceding weeks, for recovery streaks.
    current = score_week(m, weeks, j, rules)
    if not current["spc_available"].all():
        notes.append("the SPC engine is unavailable; the special-cause rule did not run")
    recovered = pd.DataFrame(index=current["system_code"])
    for k in range(rules.recovery_weeks):
        scores = current if k == 0 else score_week(m, weeks, j - k, rules)
        blocking = [f"rule_{b}" for b in rules.blocking_rules if f"rule_{b}" in scores]
        ok = ~scores["summoned"] & ~scores[blocking].any(axis=1) & scores["perf"].notna()
        recovered[k] = pd.Series(ok.to_numpy(), index=scores["system_code"]).reindex(
            recovered.index, fill_value=False
        )
    streak = pd.Series(0, index=recovered.index)
    still = pd.Series(True, index=recovered.index)
    for k in range(rules.recovery_weeks):
        still &= recovered[k]
        streak += still.astype(int)
    current["recovered_streak"] = streak.reindex(current["system_code"]).to_numpy()

    info = parents.drop_duplicates("system_code").set_index("system_code")
    current["system_name"] = info["system_name"].reindex(current["system_code"]).to_numpy()
    current["system_kind"] = info["system_kind"].reindex(current["system_code"]).to_numpy()
    current["region_code"] = info["region_code"].reindex(current["system_code"]).to_numpy()
    current["region_name"] = info["region_name"].reindex(current["system_code"]).to_numpy()

    unmapped = sorted(
        set(in_window["org_code"]) & set(parents.loc[parents["system_code"] == UNMAPPED, "code"])
    )
    if unmapped:
        notes.append(
            f"{len(unmapped)} provider(s) with returns in the window have no system mapping and "
            f"were not scored: {', '.join(unmapped)} (import a mapping with fourhour orgs import)"
        )
    summons = [
        _summons_entry(wh, row, rows, parents, window_start, week_end, basis, rules, current)
        for row in current[current["summoned"]].to_dict("records")
    ]
    return EscalationResult(week_end, basis, rules, current, summons, unmapped, notes)


def _drivers(
    rows: pd.DataFrame,
    parents: pd.DataFrame,
    system: str,
    window_start: dt.date,
    basis: str,
    standard: float,
) -> list[dict[str, Any]]:
    """The providers contributing most breaches beyond what the standard allows."""
    att_col, br_col = ("att_all", "br_all") if basis == "all_types" else ("att_type1", "br_type1")
    members = parents.loc[parents["system_code"] == system, "code"]
    frame = rows[
        rows["org_code"].isin(members) & (rows["period_end"] >= pd.Timestamp(window_start))
    ]
    sums = frame.groupby("org_code")[[att_col, br_col]].sum(min_count=1).dropna()
    sums["excess"] = sums[br_col] - (1 - standard / 100) * sums[att_col]
    sums["perf"] = (sums[att_col] - sums[br_col]) / sums[att_col] * 100
    top = sums[sums["excess"] > 0].sort_values(["excess", "perf"], ascending=[False, True])
    return [
        {
            "code": code,
            "attendances": int(r[att_col]),
            "breaches": int(r[br_col]),
            "performance_pct": round(float(r["perf"]), 2),
            "breaches_beyond_standard": round(float(r["excess"])),
        }
        for code, r in top.head(DRIVERS).iterrows()
    ]


def _summons_entry(
    wh: Warehouse,
    row: dict[str, Any],
    rows: pd.DataFrame,
    parents: pd.DataFrame,
    window_start: dt.date,
    week_end: dt.date,
    basis: str,
    rules: EscalationRules,
    ranked: pd.DataFrame,
) -> dict[str, Any]:
    system = row["system_code"]
    drivers = _drivers(rows, parents, system, window_start, basis, rules.standard_pct)
    names = dict(
        wh.con.execute(
            "SELECT code, name FROM organisations WHERE code IN (SELECT unnest(?))",
            [[d["code"] for d in drivers]],
        ).fetchall()
    )
    for d in drivers:
        d["name"] = names.get(d["code"])
    leaders = accountable(
        wh,
        week_end,
        trusts=[d["code"] for d in drivers],
        system=system,
        region=row["region_code"] if row["region_code"] != UNMAPPED else None,
    )
    decline = int(rules.rules["sustained_decline"].params["weeks"])
    weekly = [
        {
            "week_ending": (week_end - WEEK * k).isoformat(),
            "performance_pct": _num(row.get(f"week_{k}")),
        }
        for k in range(max(decline, 1), -1, -1)
    ]
    evidence = []
    for name in row["fired"]:
        evidence.append(
            {
                "rule": name,
                "weight": rules.rules[name].weight,
                "detail": _rule_detail(name, row, rules),
            }
        )
    entry = {
        "rank": int(row["rank"]),
        "code": system,
        "name": row["system_name"],
        "kind": row["system_kind"],
        "kind_name": SYSTEM_KIND_NAMES.get(row["system_kind"] or "other", "local system"),
        "region": row["region_name"],
        "score": _num(row["score"], 3),
        "performance_pct": _num(row["perf"]),
        "attendances": _int(row["att"]),
        "breaches": _int(row["br"]),
        "weeks_with_data": int(row["weeks_with_data"]),
        "last_year_pct": _num(row["perf_ly"]),
        "change_points": _num(row["change"]),
        "trolley_waits_12h": _int(row["dta12"]),
        "weekly": weekly,
        "rules_fired": evidence,
        "providers_driving": drivers,
        "leaders": [leader.as_dict() for leader in leaders],
        "systems_scored": len(ranked),
    }
    entry["explanation"] = explain_system(entry, basis, rules.weeks, week_end, rules.standard_pct)
    return entry


def _rule_detail(name: str, row: dict[str, Any], rules: EscalationRules) -> str:
    p = rules.rules[name].params
    perf = row["perf"]
    if name == "below_standard":
        return f"{perf:.1f}% within four hours, below the {rules.standard_pct:g}% standard"
    if name == "below_floor":
        return f"{perf:.1f}% within four hours, below the {p['floor_pct']:g}% floor"
    if name == "yoy_deterioration":
        return (
            f"{-row['change']:.1f} points worse than the same weeks a year earlier "
            f"({row['perf_ly']:.1f}%)"
        )
    if name == "sustained_decline":
        return f"performance fell in each of the last {p['weeks']} weeks"
    if name == "trolley_waits_12h":
        return f"{int(row['dta12'])} waits of over 12 hours from decision to admit"
    if name == "forecast_miss":
        return "the forecast gives at least an even chance of missing this winter's target"
    if name == "special_cause":
        return (
            f"SPC special cause of concern: {row.get('spc_reason') or 'signal at the latest week'}"
        )
    raise ValueError(name)
