"""The escalation engine: score every local system (or trust), rank them, draw up the summons list.

For a chosen week, month or quarter, each system's providers are rolled up with the
organisation hierarchy in force then, and scored over the window of periods ending then
(rules, weights and window lengths per granularity: config.py and defaults/escalation.toml).
Weeks read the weekly returns, months the monthly returns, quarters the monthly returns summed
by quarter. The year-on-year rule compares the same periods a year earlier; the SPC rule reads
the series at the same granularity. The same scoring is repeated for the preceding periods to
tell whether an escalated system has recovered for long enough to be de-escalated
(escalation_store.py). With level "provider", trusts are scored directly, as a regulator does.

Everything here is a pure function of the warehouse and the rules: the same inputs always give
the same result, which is what makes a run reproducible and a re-run a no-op.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fourhour.errors import InvalidInputError, QueryError
from fourhour.measures.performance import left_out_sql
from fourhour.measures.spc import SpcOptions, xmr
from fourhour.oversight.config import EscalationRules
from fourhour.oversight.explain import explain_system
from fourhour.oversight.leaders import accountable
from fourhour.oversight.statuses import LEVELS
from fourhour.periods import (
    PER_YEAR,
    Period,
    count_label,
    periods_ending,
    week_ending,
    window_label,
)
from fourhour.warehouse import Warehouse
from fourhour.warehouse.connection import one_row
from fourhour.warehouse.hierarchy import (
    SYSTEM_KIND_NAMES,
    UNMAPPED,
    hierarchy_notes,
    names_for,
    provider_parents,
)

HISTORY_YEARS = 3  # history read for SPC signals and year-on-year comparisons
DRIVERS = 3  # providers named as driving a system's position
SPC_FREQ = {"week": "7D", "month": "ME", "quarter": "QE-DEC"}  # period ends, for gap detection
MAPPING_HINT = (
    "import the hierarchy of the period with fourhour orgs import FILE (e.g. "
    "System-Mapping-2025.csv for 2025-26, trust_to_area_team_2015-03.csv for 2014-15, "
    "Trust-STP-lookup.csv for 2016-19), or escalate trusts with --level provider"
)


@dataclass
class EscalationResult:
    period: Period
    level: str
    basis: str
    rules: EscalationRules
    ranked: pd.DataFrame  # every system, ranked, with rule columns, summoned and recovery
    summons: list[dict[str, Any]]
    unmapped_providers: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def period_end(self) -> dt.date:
        return self.period.end

    @property
    def granularity(self) -> str:
        return self.period.granularity

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON contract (see docs/oversight.md). Deterministic for the same inputs."""
        n = self.rules.periods
        first = periods_ending(self.period, n)[0]
        payload: dict[str, Any] = {
            "kind": "fourhour.escalation",
            "level": self.level,
            "granularity": self.granularity,
            "period": {
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "period_end": self.period.end.isoformat(),
            "window": {
                "periods": n,
                "granularity": self.granularity,
                "length": count_label(n, self.granularity),
                "label": window_label(self.period, n),
                "start": first.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "basis": self.basis,
            "rules": self.rules.summary(),
            "systems_scored": len(self.ranked),
            "summons": self.summons,
            "systems": [_system_row(r) for r in self.ranked.to_dict("records")],
            "unmapped_providers": self.unmapped_providers,
            "notes": self.notes,
        }
        if self.granularity == "week":  # the weekly contract's field, kept for its readers
            payload["week_ending"] = self.period.end.isoformat()
            payload["window"]["weeks"] = n
        return payload


def _num(value: Any, digits: int = 2) -> float | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return round(float(value), digits)


def _int(value: Any) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return int(value)


def _system_row(r: dict[Hashable, Any]) -> dict[str, Any]:
    return {
        "rank": int(r["rank"]),
        "code": r["system_code"],
        "name": r["system_name"],
        "score": _num(r["score"], 3),
        "performance_pct": _num(r["perf"]),
        "rules_fired": list(r["fired"]),
        "summoned": bool(r["summoned"]),
        "recovered_periods": int(r["recovered_streak"]),
    }


# ------------------------------------------------------------------------------------ data


def _rows(wh: Warehouse, periods: list[Period]) -> pd.DataFrame:
    """Provider rows for each period: weekly or monthly returns, or months summed by quarter.

    Each row's `period_end` is the end of the period it counts towards.
    """
    granularity = periods[-1].granularity
    source = "week" if granularity == "week" else "month"
    # Returns left out of four-hour percentages (the field-test trusts of 2019-2023) are left
    # out of scoring too: their attendances carry no four-hour figure.
    frame = wh.con.execute(
        f"""
        SELECT period_end, org_code,
               att_type1, br_type1, att_type1 + att_type2 + att_type3 AS att_all,
               br_type1 + br_type2 + br_type3 AS br_all, dta_over_12h
        FROM provider_returns
        WHERE granularity = ? AND period_end BETWEEN ? AND ? AND NOT {left_out_sql()}
        """,
        [source, periods[0].start, periods[-1].end],
    ).df()
    if granularity != "quarter" or frame.empty:
        return frame
    ends = {p.start.year * 12 + p.start.month: p.end for p in periods}
    month_index = frame["period_end"].dt.year * 12 + frame["period_end"].dt.month
    quarter_start = month_index - (frame["period_end"].dt.month - 4) % 3
    frame["period_end"] = pd.to_datetime(quarter_start.map(ends))
    grouped = frame.groupby(["period_end", "org_code"])
    return grouped.sum(min_count=1).reset_index()


def _months_held(wh: Warehouse, period: Period) -> int:
    return one_row(
        wh.con.execute(
            "SELECT count(DISTINCT period_end) FROM provider_returns WHERE granularity = 'month' "
            "AND period_end BETWEEN ? AND ?",
            [period.start, period.end],
        )
    )[0]


def _left_out(wh: Warehouse, window: list[Period]) -> list[str]:
    source = "week" if window[-1].granularity == "week" else "month"
    return [
        c
        for (c,) in wh.con.execute(
            f"SELECT DISTINCT org_code FROM provider_returns WHERE granularity = ? "
            f"AND period_end BETWEEN ? AND ? AND {left_out_sql()} ORDER BY 1",
            [source, window[0].start, window[-1].end],
        ).fetchall()
    ]


def _basis(rows: pd.DataFrame, window_start: dt.date) -> str:
    recent = rows[rows["period_end"] >= pd.Timestamp(window_start)]
    if len(recent) and recent["att_all"].notna().all() and recent["br_all"].notna().all():
        return "all_types"
    return "type1"


def _matrices(
    rows: pd.DataFrame, parents: pd.DataFrame, columns: pd.DatetimeIndex, basis: str
) -> dict[str, pd.DataFrame]:
    """System x period matrices of attendances, breaches and 12-hour waits (NaN: no returns)."""
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
        out[column] = wide.reindex(columns=columns).astype(float)
    return out


# ----------------------------------------------------------------------------------- scoring


def _window(matrix: pd.DataFrame, j: int, n: int) -> tuple[pd.Series, pd.Series]:
    """Sum over the n periods ending at column j (NaN if none), and how many had data."""
    part = matrix.iloc[:, max(0, j - n + 1) : j + 1]
    return part.sum(axis=1, min_count=1), part.notna().sum(axis=1)


def _spc_concern(perf: pd.DataFrame, j: int, min_points: int, freq: str) -> pd.DataFrame:
    """Special cause of concern at period j, from each system's series up to period j."""
    history = perf.iloc[:, : j + 1]
    stacked = history.stack(future_stack=True)
    assert isinstance(stacked, pd.Series)  # one level of columns: stack() gives a Series
    long = stacked.rename("value").reset_index()
    long.columns = ["code", "period_end", "value"]
    long = long[long["value"].notna()]
    if long.empty:
        return pd.DataFrame(columns=["concern", "reason"])
    result = xmr(long, freq=freq, options=SpcOptions(improvement="up", min_points=min_points))
    latest = result.points[result.points["period_end"] == history.columns[-1]]
    return pd.DataFrame(
        {
            "concern": (latest["special_cause"] == "concern").to_numpy(),
            "reason": latest["reason"].to_numpy(),
        },
        index=latest["code"].to_numpy(),
    )


def score_period(
    m: dict[str, pd.DataFrame],
    j: int,
    rules: EscalationRules,
    forecast_miss: pd.Series | None = None,
) -> pd.DataFrame:
    """Score every system for the window ending at period index j (rules resolved for the
    granularity of the matrices' columns); forecast_miss: the systems a forecast expects to
    miss their trajectory (indexed like the matrices' rows), if a forecast was given."""
    n = rules.periods
    year = PER_YEAR[rules.granularity]
    att, n_att = _window(m["att"], j, n)
    br, _ = _window(m["br"], j, n)
    dta12, n_dta = _window(m["dta12"], j, n)
    perf = (att - br) / att * 100
    series = (m["att"] - m["br"]) / m["att"] * 100
    t = pd.DataFrame({"att": att, "br": br, "perf": perf, "periods_with_data": n_att})
    t["dta12"] = dta12.where(n_dta > 0)
    if j - year >= 0:
        att_ly, _ = _window(m["att"], j - year, n)
        br_ly, _ = _window(m["br"], j - year, n)
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
    d = rules.decline_periods
    falling = pd.Series(j - d >= 0, index=t.index)
    for k in range(d):
        if j - k - 1 < 0:
            falling &= False
            break
        now, before = series.iloc[:, j - k], series.iloc[:, j - k - 1]
        falling &= (now < before).fillna(False)
    fired["sustained_decline"] = falling.reindex(t.index, fill_value=False)
    fired["trolley_waits_12h"] = t["dta12"].notna() & (
        t["dta12"] >= r["trolley_waits_12h"].params["min_waits"]
    )
    concern = pd.Series(False, index=t.index)
    t["spc_reason"] = None
    if r["special_cause"].enabled:
        spc = _spc_concern(
            series, j, int(r["special_cause"].params["min_points"]), SPC_FREQ[rules.granularity]
        )
        if len(spc):
            concern = spc["concern"].reindex(t.index, fill_value=False).astype(bool)
            t["spc_reason"] = spc["reason"].reindex(t.index)
    fired["special_cause"] = concern
    # Forward-looking (fourhour.forecast.outlook.forecast_miss_systems): fired per system, when
    # the caller passes it to evaluate(); never fires otherwise.
    fired["forecast_miss"] = (
        pd.Series(False, index=t.index) if forecast_miss is None else forecast_miss
    )

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
        t[f"period_{k}"] = series.iloc[:, j - k] if j - k >= 0 else np.nan
    t.index.name = "system_code"
    t = t.reset_index()
    # Scored: those with returns in the window (history alone does not make a system current).
    t = t[(t["system_code"] != UNMAPPED) & (t["periods_with_data"] > 0)]
    t = t.sort_values(
        ["score", "perf", "att", "system_code"],
        ascending=[False, True, False, True],
        na_position="last",
    ).reset_index(drop=True)
    t["rank"] = np.arange(1, len(t) + 1)
    t["summoned"] = (t["rank"] <= rules.top) & (t["fired"].map(len) > 0)
    return t


# -------------------------------------------------------------------------------- evaluate


def _provider_parents(wh: Warehouse, codes: list[str], period: Period) -> pd.DataFrame:
    """Each trust as its own 'system', named as it was in the period, with its region."""
    parents = provider_parents(wh, codes, period.end)
    names = names_for(wh, codes, period.start, period.end)
    parents["system_code"] = parents["code"]
    parents["system_name"] = parents["code"].map(names).fillna(parents["code"])
    parents["system_kind"] = "provider"
    return parents


def evaluate(
    wh: Warehouse,
    period: Period | dt.date,
    rules: EscalationRules,
    level: str = "system",
    forecast_miss: pd.Series | None = None,
) -> EscalationResult:
    """Score, rank and explain every system (or trust) for the window ending with `period`
    (a week, month or quarter; a bare date is the week ending that Sunday).

    `forecast_miss` (system code -> bool) feeds the forward-looking rule of that name: the
    caller computes it (fourhour.forecast.outlook.forecast_miss_systems), since oversight
    does not depend on the forecast stage."""
    if not isinstance(period, Period):
        period = week_ending(period)
    if level not in LEVELS:
        raise InvalidInputError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    rules = rules.for_granularity(period.granularity)
    g = period.granularity
    if g == "quarter":
        held = _months_held(wh, period)
        if 0 < held < 3:
            raise QueryError(
                f"{period.label} has monthly returns for only {held} of its 3 months",
                hint="escalate the latest month with --month, or wait for the quarter to end",
            )
    year = PER_YEAR[g]
    span = max(
        HISTORY_YEARS * year,
        year + rules.periods + rules.recovery_periods + rules.decline_periods,
    )
    periods = periods_ending(period, span)
    rows = _rows(wh, periods)
    window = periods_ending(period, rules.periods)
    notes: list[str] = []
    in_window = rows[rows["period_end"] >= pd.Timestamp(window[0].end)]
    if in_window.empty:
        source = "weekly" if g == "week" else "monthly"
        raise QueryError(
            f"no {source} returns in {window_label(period, rules.periods)}",
            hint="fourhour warehouse info shows which weeks and months are loaded",
        )
    basis = _basis(rows, window[0].end)
    left_out = _left_out(wh, window)
    if left_out:
        notes.append(
            f"{len(left_out)} provider(s) field-testing new standards in the window are left "
            f"out, as NHS England's four-hour figures leave them out: {', '.join(left_out)}"
        )
    codes = sorted(rows["org_code"].unique())
    if level == "provider":
        parents = _provider_parents(wh, codes, period)
    else:
        parents = provider_parents(wh, codes, period.end)
        active = parents[parents["code"].isin(set(in_window["org_code"]))]
        if (active["system_code"] == UNMAPPED).all():
            raise QueryError(
                f"no local system is known for any provider with returns in {period.label}",
                hint=MAPPING_HINT,
            )
        notes += hierarchy_notes(active, "system", period.end)
    active = parents[parents["code"].isin(set(in_window["org_code"]))]
    notes += hierarchy_notes(active, "region", period.end)
    columns = pd.DatetimeIndex([pd.Timestamp(p.end) for p in periods])
    m = _matrices(rows, parents, columns, basis)
    miss = None
    if forecast_miss is not None:
        miss = forecast_miss.astype(bool).reindex(m["att"].index, fill_value=False).astype(bool)
    elif rules.rules["forecast_miss"].enabled:
        notes.append(
            "the forecast_miss rule is switched on but no forecast was given; it did not run"
        )
    j = len(columns) - 1
    if basis == "type1":
        notes.append(
            "all-types figures are not available for every provider in the window; "
            f"{'trusts' if level == 'provider' else 'systems'} are scored on type 1 (major "
            "A&E) attendances"
        )

    # The period itself and the preceding ones, for recovery streaks.
    current = score_period(m, j, rules, miss)
    recovered = pd.DataFrame(index=current["system_code"])
    for k in range(rules.recovery_periods):
        scores = current if k == 0 else score_period(m, j - k, rules, miss)
        blocking = [f"rule_{b}" for b in rules.blocking_rules if f"rule_{b}" in scores]
        ok = ~scores["summoned"] & ~scores[blocking].any(axis=1) & scores["perf"].notna()
        recovered[k] = pd.Series(ok.to_numpy(), index=scores["system_code"]).reindex(
            recovered.index, fill_value=False
        )
    streak = pd.Series(0, index=recovered.index)
    still = pd.Series(True, index=recovered.index)
    for k in range(rules.recovery_periods):
        still &= recovered[k]
        streak += still.astype(int)
    current["recovered_streak"] = streak.reindex(current["system_code"]).to_numpy()

    # A system's kind, name and region from its providers with returns in the window first
    # (providers only in the history may be grouped by an older hierarchy).
    ranked_parents = parents.assign(_active=parents["code"].isin(set(in_window["org_code"])))
    ranked_parents = ranked_parents.sort_values("_active", ascending=False, kind="stable")
    info = ranked_parents.drop_duplicates("system_code").set_index("system_code")
    for column in ("system_name", "system_kind", "region_code", "region_name"):
        current[column] = info[column].reindex(current["system_code"]).to_numpy()

    unmapped = sorted(
        set(in_window["org_code"]) & set(parents.loc[parents["system_code"] == UNMAPPED, "code"])
    )
    if unmapped:
        notes.append(
            f"{len(unmapped)} provider(s) with returns in the window have no system mapping and "
            f"were not scored: {', '.join(unmapped)} (import a mapping with fourhour orgs import)"
        )
    summons = [
        _summons_entry(wh, row, rows, parents, period, basis, rules, current, level)
        for row in current[current["summoned"]].to_dict("records")
    ]
    return EscalationResult(period, level, basis, rules, current, summons, unmapped, notes)


def _drivers(
    wh: Warehouse,
    rows: pd.DataFrame,
    parents: pd.DataFrame,
    system: str,
    period: Period,
    window_end: dt.date,
    basis: str,
    standard: float,
) -> list[dict[str, Any]]:
    """The providers contributing most breaches beyond what the standard allows, named as they
    were in the period."""
    att_col, br_col = ("att_all", "br_all") if basis == "all_types" else ("att_type1", "br_type1")
    members = parents.loc[parents["system_code"] == system, "code"]
    frame = rows[rows["org_code"].isin(members) & (rows["period_end"] >= pd.Timestamp(window_end))]
    sums = frame.groupby("org_code")[[att_col, br_col]].sum(min_count=1).dropna()
    sums["excess"] = sums[br_col] - (1 - standard / 100) * sums[att_col]
    sums["perf"] = (sums[att_col] - sums[br_col]) / sums[att_col] * 100
    top = sums[sums["excess"] > 0].sort_values(["excess", "perf"], ascending=[False, True])
    top = top.head(DRIVERS)
    names = names_for(wh, list(top.index), period.start, period.end)
    return [
        {
            "code": code,
            "name": names.get(str(code)),
            "attendances": int(r[att_col]),
            "breaches": int(r[br_col]),
            "performance_pct": round(float(r["perf"]), 2),
            "breaches_beyond_standard": round(float(r["excess"])),
        }
        for code, r in top.iterrows()
    ]


def _summons_entry(
    wh: Warehouse,
    row: dict[Hashable, Any],
    rows: pd.DataFrame,
    parents: pd.DataFrame,
    period: Period,
    basis: str,
    rules: EscalationRules,
    ranked: pd.DataFrame,
    level: str,
) -> dict[str, Any]:
    system = row["system_code"]
    window = periods_ending(period, rules.periods)
    drivers = (
        []
        if level == "provider"
        else _drivers(wh, rows, parents, system, period, window[0].end, basis, rules.standard_pct)
    )
    region = row["region_code"] if row["region_code"] != UNMAPPED else None
    leaders = accountable(
        wh,
        period.end,
        trusts=[system] if level == "provider" else [d["code"] for d in drivers],
        system=None if level == "provider" else system,
        region=region,
    )
    decline = rules.decline_periods
    trend = [
        {
            "period_end": p.end.isoformat(),
            "label": p.label,
            "performance_pct": _num(row.get(f"period_{k}")),
        }
        for k, p in zip(
            range(max(decline, 1), -1, -1),
            periods_ending(period, max(decline, 1) + 1),
            strict=True,
        )
    ]
    evidence = [
        {"rule": name, "weight": rules.rules[name].weight, "detail": _rule_detail(name, row, rules)}
        for name in row["fired"]
    ]
    kind = row["system_kind"] or "other"
    entry = {
        "rank": int(row["rank"]),
        "code": system,
        "name": row["system_name"],
        "kind": kind,
        "kind_name": "trust"
        if level == "provider"
        else SYSTEM_KIND_NAMES.get(kind, "local system"),
        "region_code": region,
        "region": row["region_name"],
        "score": _num(row["score"], 3),
        "performance_pct": _num(row["perf"]),
        "attendances": _int(row["att"]),
        "breaches": _int(row["br"]),
        "periods_with_data": int(row["periods_with_data"]),
        "last_year_pct": _num(row["perf_ly"]),
        "change_points": _num(row["change"]),
        "trolley_waits_12h": _int(row["dta12"]),
        "trend": trend,
        "rules_fired": evidence,
        "providers_driving": drivers,
        "leaders": [leader.as_dict() for leader in leaders],
        "systems_scored": len(ranked),
    }
    entry["explanation"] = explain_system(entry, basis, rules, period, level)
    return entry


def _rule_detail(name: str, row: dict[Hashable, Any], rules: EscalationRules) -> str:
    p = rules.rules[name].params
    perf = row["perf"]
    unit = {"week": "weeks", "month": "months", "quarter": "quarters"}[rules.granularity]
    if name == "below_standard":
        return f"{perf:.1f}% within four hours, below the {rules.standard_pct:g}% standard"
    if name == "below_floor":
        return f"{perf:.1f}% within four hours, below the {p['floor_pct']:g}% floor"
    if name == "yoy_deterioration":
        return (
            f"{-row['change']:.1f} points worse than the same {unit} a year earlier "
            f"({row['perf_ly']:.1f}%)"
        )
    if name == "sustained_decline":
        return f"performance fell in each of the last {rules.decline_periods} {unit}"
    if name == "trolley_waits_12h":
        return f"{int(row['dta12'])} waits of over 12 hours from decision to admit"
    if name == "forecast_miss":
        return (
            f"the forecast gives at least a {p['min_probability']:.0%} chance of missing this "
            f"winter's target (the trajectory, else {p['interim_pct']:g}%)"
        )
    if name == "special_cause":
        return (
            "SPC special cause of concern: "
            f"{row.get('spc_reason') or 'signal at the latest period'}"
        )
    raise ValueError(name)
