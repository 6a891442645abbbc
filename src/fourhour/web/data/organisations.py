"""Providers, systems and regions: league tables with SPC icons, and one organisation's page
(SPC chart, type breakdown, trolley waits, trajectory and funding, accountable leaders)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fourhour.ingest.org_facts import era_of
from fourhour.measures import STANDARD_PCT, THRESHOLD_PCT, measure_table
from fourhour.measures.performance import _aggregates, _finish
from fourhour.measures.spc import DEFAULT_PRESET, PRESET_RULES, SpcResult
from fourhour.oversight.leaders import accountable
from fourhour.periods import Period
from fourhour.report import charts
from fourhour.report.series import HISTORY, org_series, performance_spc, periods_back
from fourhour.warehouse import Warehouse
from fourhour.warehouse.connection import one_row
from fourhour.warehouse.hierarchy import UNMAPPED, parents_sql, provider_parents
from fourhour.web import svgcharts
from fourhour.web.data.england import TYPE_LABELS
from fourhour.web.data.periods import BASIS_LABELS, period_key
from fourhour.web.data.tables import Column, Table, clean
from fourhour.web.errors import NotFound
from fourhour.web.figures import Figure

LEVELS = ("provider", "system", "region")
PLURAL = {"provider": "providers", "system": "systems", "region": "regions"}
TROLLEY_PERIODS = 13  # periods of trolley waits shown on an organisation's page


KINDS = {"provider": ("provider",), "system": ("system", "area_team"), "region": ("region",)}


def url(level: str, code: str, period: Period | None = None) -> str:
    """The organisation's page, for `period` when given (links keep the period chosen)."""
    base = f"/{PLURAL[level]}/{code}"
    return f"{base}?{period_key(period)}" if period is not None else base


def _name_key(text: str) -> str:
    return " ".join(text.lower().replace("&", " and ").replace(",", " ").split())


def code_of(wh: Warehouse, level: str, text: str) -> str | None:
    """The code of the organisation at `level` that `text` names or codes, else None.

    Old links used names (/regions/London, /systems/London%20Area%20Team,
    ?region=East+of+England); any name an organisation of that level has carried (case,
    spacing and "&"/"and" aside) is accepted, the most recently used first.
    """
    kinds = list(KINDS[level])
    exact = wh.con.execute(
        "SELECT code FROM organisations WHERE upper(code) = upper(?) AND list_contains(?, kind)",
        [text, kinds],
    ).fetchone()
    if exact:
        return exact[0]
    if level == "provider":
        held = wh.con.execute(
            "SELECT org_code FROM provider_returns WHERE org_code = upper(?) LIMIT 1", [text]
        ).fetchone()
        if held:
            return held[0]
    key = _name_key(text)
    keyed = [  # _name_key in SQL
        rf"regexp_replace(lower(replace(replace({c}, '&', ' and '), ',', ' ')), '\s+', ' ', 'g')"
        for c in ("coalesce(n.name, o.name)", "o.name")
    ]
    found = wh.con.execute(
        f"""
        SELECT o.code FROM organisations o
        LEFT JOIN org_names n ON n.code = o.code
        WHERE list_contains(?, o.kind) AND (
            lower(o.name) = ? OR lower(n.name) = ? OR {keyed[0]} = ? OR {keyed[1]} = ?
        )
        ORDER BY coalesce(n.seen_to, o.name_as_of) DESC NULLS LAST, o.code LIMIT 1
        """,
        [kinds, text.lower(), text.lower(), key, key],
    ).fetchone()
    return found[0] if found else None


def level_series(
    wh: Warehouse, period: Period, count: int, level: str, codes: list[str] | None = None
) -> pd.DataFrame:
    """Every organisation at `level` (or those of `codes`), one row per period: counts and
    performance by type (systems and regions as mapped at the end of `period`)."""
    if level in ("provider", "system"):
        return org_series(wh, period, count, level=level, codes=codes)
    start = periods_back(period, count)[0].end
    key = f"coalesce(p.parent_code, '{UNMAPPED}')"
    only = f"AND {key} IN (SELECT unnest(?))" if codes is not None else ""
    frame = wh.con.execute(
        f"""
        SELECT {key} AS code, r.period_end, {_aggregates()}
        FROM provider_returns r
        LEFT JOIN ({parents_sql("region", period.end)}) p ON p.child_code = r.org_code
        WHERE r.granularity = ? AND r.period_end BETWEEN ? AND ? {only}
        GROUP BY ALL ORDER BY 1, 2
        """,
        [period.granularity, start, period.end, *([list(codes)] if codes is not None else [])],
    ).df()
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    return _finish(frame)


def basis_of(table: pd.DataFrame) -> str:
    """All types where every organisation has them this period, else type 1."""
    if len(table) and table["all_types_attendances"].notna().all():
        return "all_types"
    return "type1"


def spc_of(history: pd.DataFrame, period: Period, basis: str, preset: str) -> SpcResult:
    return performance_spc(history, f"{basis}_performance_pct", period.granularity, preset)


ParentsOf = Callable[[Warehouse, list[str], dt.date], pd.DataFrame]


def _parents(
    wh: Warehouse,
    period: Period,
    level: str,
    codes: list[str],
    parents_of: ParentsOf = provider_parents,
) -> pd.DataFrame:
    """code -> system and region (providers), or region (systems), as at the end of period."""
    if level == "region" or not codes:
        return pd.DataFrame(columns=["code"])
    if level == "provider":
        return parents_of(wh, codes, period.end)
    providers = wh.con.execute(
        "SELECT DISTINCT org_code FROM provider_returns WHERE granularity = ? AND period_end = ?",
        [period.granularity, period.end],
    ).fetchall()
    parents = parents_of(wh, [p[0] for p in providers], period.end)
    by_system = (
        parents.groupby("system_code")[["region_code", "region_name"]]
        .agg(_most_common)
        .reset_index()
        .rename(columns={"system_code": "code"})
    )
    return by_system


def league(
    wh: Warehouse,
    period: Period,
    level: str,
    preset: str = DEFAULT_PRESET,
    *,
    table_of: Callable[[Warehouse, Period, str], pd.DataFrame] = measure_table,
    series_of: Callable[[Warehouse, Period, int, str], pd.DataFrame] = level_series,
    parents_of: ParentsOf = provider_parents,
    spc_by: Callable[[pd.DataFrame, Period, str, str], SpcResult] = spc_of,
) -> dict[str, Any]:
    """Every organisation at `level` for `period`, lowest performance first, with the same
    period last year and SPC icons from its history (target 95%) under the SPC `preset`.

    `table_of`, `series_of`, `parents_of` and `spc_by` give the measure table of a period,
    the organisations' history (`level_series`), providers' parents (`provider_parents`) and
    the SPC of the history (`spc_of`): the web's precompute passes those it computed in bulk
    for every period at once (its SPC result has the summary only)."""
    table = table_of(wh, period, level)
    basis = basis_of(table)
    column = f"{basis}_performance_pct"
    last = table_of(wh, period.same_period_last_year(), level)
    last_pct = dict(zip(last["code"], charts.as_float(last[column]), strict=True))
    history = series_of(wh, period, HISTORY[period.granularity], level)
    spc = spc_by(history, period, basis, preset)
    # Looked up by code as dictionaries (a pandas .loc per row was most of a league's time).
    summary = {r["code"]: r for r in spc.summary.to_dict("records")}
    parents = {
        r["code"]: r
        for r in _parents(wh, period, level, list(table["code"]), parents_of).to_dict("records")
    }
    rows = []
    for r in table.to_dict("records"):
        code = r["code"]
        pct = clean(r[column])
        ly = last_pct.get(code)
        ly = None if ly is None or np.isnan(ly) else float(ly)
        s = summary.get(code)
        v = charts.variation_icon(None if s is None else s["variation_icon"])
        a = charts.assurance_icon(None if s is None else s["assurance_icon"])
        p = parents.get(code)
        row = {
            "code": code,
            "name": r["name"] if isinstance(r["name"], str) else code,
            "url": url(level, code, period),
            "attendances": clean(r[f"{basis}_attendances"]),
            "breaches": clean(r[f"{basis}_breaches"]),
            "performance_pct": pct,
            "last_year_pct": ly,
            "change_points": None if pct is None or ly is None else pct - ly,
            "type1_pct": clean(r["type1_performance_pct"]),
            "trolley_waits_over_12h": clean(r["trolley_waits_over_12h"]),
            "variation": v.short,
            "variation_icon": v.key,
            "variation_label": v.label,
            "variation_letter": v.letter,
            "assurance": a.short,
            "assurance_icon": a.key,
            "assurance_label": a.label,
            "assurance_letter": a.letter,
            "spc_mean": None if s is None else clean(s["mean"]),
            "spc_points": 0 if s is None else int(s["n_points"]),
        }
        if level == "provider":
            row.update(
                system_code=None if p is None else p["system_code"],
                system=None if p is None else p["system_name"],
                region_code=None if p is None else p["region_code"],
                region=None if p is None else p["region_name"],
            )
        elif level == "system":
            row.update(
                region_code=None if p is None else p["region_code"],
                region=None if p is None else p["region_name"],
            )
        if level != "provider":
            row["providers"] = int(r["providers"])
        rows.append(row)
    rows.sort(key=lambda r: (r["performance_pct"] is None, r["performance_pct"] or 0, r["code"]))
    for i, ranked in enumerate(rows, 1):
        ranked["rank"] = i if ranked["performance_pct"] is not None else None
    return {
        "period": period,
        "level": level,
        "basis": basis,
        "basis_label": BASIS_LABELS[basis],
        "rows": rows,
        "spc": spc,
        "spc_preset": preset,
        "history": history,
        "count_below_threshold": sum(
            1 for r in rows if r["performance_pct"] is not None and r["performance_pct"] < 80
        ),
    }


def league_table(
    data: dict[str, Any], region: str | None = None, system: str | None = None
) -> Table:
    level, period = data["level"], data["period"]
    rows = data["rows"]
    if region:
        rows = [r for r in rows if r.get("region_code") == region]
    if system:
        rows = [r for r in rows if r.get("system_code") == system]
    columns = [
        Column("rank", "Rank", "number"),
        Column("code", "Code", "code"),
        Column("name", {"provider": "Provider", "system": "System", "region": "Region"}[level],
               link="url"),
    ]  # fmt: skip
    if level == "provider":
        columns += [
            Column("system", "System", filter=True),
            Column("region", "Region", filter=True),
        ]
    elif level == "system":
        columns += [
            Column("region", "Region", filter=True),
            Column("providers", "Providers", "count"),
        ]
    else:
        columns += [Column("providers", "Providers", "count")]
    columns += [
        Column("attendances", "Attendances", "count"),
        Column("performance_pct", "Within 4 hours (%)", "pct"),
        Column("last_year_pct", "Same period last year (%)", "pct"),
        Column("change_points", "Change (points)", "change"),
        Column("variation", "SPC variation", icon="variation"),
        Column("assurance", "SPC assurance (95%)", icon="assurance"),
    ]
    return Table(
        f"{PLURAL[level]}",
        f"{PLURAL[level].capitalize()} ranked by four-hour performance ({data['basis_label']}), "
        f"{period.label}, lowest first",
        columns,
        rows,
        note=f"SPC icons from up to {HISTORY[period.granularity]} {period.granularity}s of "
        f"history ({PRESET_RULES[data['spc_preset']].title}, target {STANDARD_PCT:g}%).",
    )


def league_figure(data: dict[str, Any]) -> Figure | None:
    """The league as a dot plot, lowest first (SVG written directly: fourhour.web.svgcharts)."""
    plural = PLURAL[data["level"]]
    return svgcharts.league_figure(
        data["rows"],
        key=f"fig-{plural}-league",
        title=f"{plural.capitalize()} ranked by four-hour performance",
        label=data["basis_label"],
        period_label=data["period"].label,
    )


# ------------------------------------------------------------------------------ one page


def _known(wh: Warehouse, level: str, code: str) -> bool:
    if level == "provider":
        return bool(
            one_row(
                wh.con.execute("SELECT count(*) FROM provider_returns WHERE org_code = ?", [code])
            )[0]
        )
    if code == UNMAPPED:
        return True
    column = "system_code" if level == "system" else "region_code"
    relation = ("'system', 'area_team'") if level == "system" else "'region'"
    return bool(
        one_row(
            wh.con.execute(
                f"SELECT (SELECT count(*) FROM org_hierarchy WHERE {column} = $1) + "
                f"(SELECT count(*) FROM org_relations WHERE relation IN ({relation}) "
                "AND coalesce(parent_code, parent_name) = $1)",
                [code],
            )
        )[0]
    )


def periods_with_data(wh: Warehouse, level: str, code: str, granularity: str) -> tuple:
    """The periods of `granularity` in which the organisation has figures: a provider's own
    returns; for a system or region, its member providers' returns in the eras its
    relations date from (an area team's weeks of 2013-2016, an ICB's months from 2022...).
    Weeks by their last day, months by their first, as `Held` keeps them."""
    day = "period_end" if granularity == "week" else "period_start"
    if level == "provider":
        rows = wh.con.execute(
            f"SELECT DISTINCT {day}, period_end FROM provider_returns "
            "WHERE org_code = ? AND granularity = ?",
            [code, granularity],
        ).fetchall()
        return tuple(sorted(r[0] for r in rows))
    column = "system_code" if level == "system" else "region_code"
    relation = "'system', 'area_team'" if level == "system" else "'region'"
    members = f"""
        SELECT child_code AS code, as_of FROM org_relations
        WHERE relation IN ({relation}) AND coalesce(parent_code, parent_name) = $1
        UNION ALL SELECT provider_code, valid_from FROM org_hierarchy WHERE {column} = $1
    """
    era = "system" if level == "system" else "region"
    eras = {
        era_of(era, r[0]).key
        for r in wh.con.execute(f"SELECT DISTINCT as_of FROM ({members})", [code]).fetchall()
    }
    rows = wh.con.execute(
        f"SELECT DISTINCT r.{day}, r.period_end FROM provider_returns r "
        f"WHERE r.granularity = $2 AND r.org_code IN (SELECT code FROM ({members}))",
        [code, granularity],
    ).fetchall()
    return tuple(sorted(r[0] for r in rows if era_of(era, r[1]).key in eras))


def require_known(wh: Warehouse, level: str, code: str) -> bool:
    """True, or NotFound naming the code when no organisation of `level` has it."""
    if not _known(wh, level, code):
        raise NotFound(
            f"no {level} with code {code!r} in the warehouse",
            hint=f"see /{PLURAL[level]} for the codes held",
        )
    return True


def _types_table(row: dict[str, Any], key: str, label: str, period: Period) -> Table:
    rows = []
    for t, name in TYPE_LABELS.items():
        rows.append(
            {
                "type": name,
                "attendances": clean(row.get(f"{t}_attendances")),
                "breaches": clean(row.get(f"{t}_breaches")),
                "performance_pct": clean(row.get(f"{t}_performance_pct")),
            }
        )
    return Table(
        f"{key}-types",
        f"{label} by department type",
        [
            Column("type", "Department type"),
            Column("attendances", "Attendances", "count"),
            Column("breaches", "Over 4 hours", "count"),
            Column("performance_pct", "Within 4 hours (%)", "pct"),
        ],
        rows,
        sortable=False,
        note=_blank_note(
            rows,
            ("attendances",),
            "the 2010-2015 weekly returns are type 1 only"
            if period.granularity == "week" and period.end.year <= WEEKLY_TYPE1_ONLY_UNTIL
            else None,
        ),
    )


WEEKLY_TYPE1_ONLY_UNTIL = 2015  # the weekly situation reports (2010-2015): type 1 only


def _most_common(values: pd.Series) -> Any:
    """The most frequent value (the first of a tie), None for none."""
    mode = values.mode()
    return mode.iloc[0] if len(mode) else None


def _blank_note(rows: list[dict], keys: tuple[str, ...], why: str | None) -> str:
    """A note on blank cells, only where the table has some ('' otherwise), with the reason
    where known."""
    if not any(r.get(k) is None for r in rows for k in keys):
        return ""
    return (
        f"Blank: not published for the period ({why})."
        if why
        else ("Blank: not published for the period.")
    )


def _trolley_table(history: pd.DataFrame, period: Period, key: str, label: str) -> Table:
    recent = history.sort_values("period_end").tail(TROLLEY_PERIODS)
    rows = [
        {
            "period_end": pd.Timestamp(r["period_end"]).date(),
            "over_4h": clean(r["trolley_waits_over_4h"]),
            "over_12h": clean(r["trolley_waits_over_12h"]),
            "admissions": clean(r["emergency_admissions_via_ae"]),
        }
        for r in recent.to_dict("records")
    ]
    unit = period.granularity
    return Table(
        f"{key}-trolley",
        f"{label}: trolley waits (from decision to admit to admission), last {len(rows)} {unit}s",
        [
            Column("period_end", f"{unit.capitalize()} ending", "date"),
            Column("over_4h", "Over 4 hours (incl. over 12)", "count"),
            Column("over_12h", "Over 12 hours", "count"),
            Column("admissions", "Emergency admissions via A&E", "count"),
        ],
        rows,
        note=_blank_note(
            rows,
            ("over_4h", "over_12h"),
            "the weekly returns from January 2015 give only 12-hour waits"
            if period.granularity == "week" and period.end.year <= WEEKLY_TYPE1_ONLY_UNTIL
            else None,
        ),
    )


def _leaders(wh: Warehouse, on: dt.date, level: str, code: str, row: dict) -> list[dict]:
    if level == "provider":
        found = accountable(
            wh, on, trusts=[code], system=row.get("system_code"), region=row.get("region_code")
        )
    elif level == "system":
        found = accountable(wh, on, system=code, region=row.get("region_code"))
    else:
        found = accountable(wh, on, region=code)
    return [leader.as_dict() for leader in found]


def members(period: Period, level: str, code: str, providers: dict) -> Table:
    """The providers of a system, or the systems of a region, with their figures."""
    if level == "system":
        rows = [r for r in providers["rows"] if r.get("system_code") == code]
        child = "provider"
    else:
        rows = [r for r in providers["rows"] if r.get("region_code") == code]
        child = "system"
    columns = [
        Column("code", "Code", "code"),
        Column("name", child.capitalize(), link="url"),
        Column("attendances", "Attendances", "count"),
        Column("performance_pct", "Within 4 hours (%)", "pct"),
        Column("change_points", "Change on last year (points)", "change"),
        Column("variation", "SPC variation", icon="variation"),
    ]
    return Table(
        "members",
        f"{PLURAL[child].capitalize()} in this {level}, {period.label} "
        f"({providers['basis_label']}), lowest first",
        columns,
        rows,
    )


def detail(
    wh: Warehouse,
    period: Period,
    level: str,
    code: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """One organisation's page; `data` is the league of its level for the same period."""
    row = next((r for r in data["rows"] if r["code"] == code), None)
    if row is None:
        what = {"provider": "provider", "system": "system", "region": "region"}[level]
        if not _known(wh, level, code):
            raise NotFound(
                f"no {what} with code {code!r} in the warehouse",
                hint=f"see /{PLURAL[level]} for the codes held",
            )
        raise NotFound(
            f"{what} {code} has no returns for {period.phrase}",
            hint="choose another period",
        )
    label = f"{row['name']} ({code})" if row["name"] != code else code
    history, spc = data.get("history"), data.get("spc")
    if history is None or spc is None:  # a stored league (fourhour.web.precompute): this one
        history = level_series(wh, period, HISTORY[period.granularity], level, [code])
        spc = spc_of(history, period, data["basis"], data["spc_preset"])
    own = history[history["code"] == code]
    points = spc.points[spc.points["code"] == code]
    figure = None
    if len(points):
        summary = {str(k): v for k, v in spc.summary.set_index("code").loc[code].items()}
        figure = svgcharts.spc_figure(
            points,
            summary,
            key="fig-spc",
            title=f"{label}: {period.granularity}ly SPC chart, {data['basis_label']}",
            heading=f"{label}: {period.granularity}ly SPC chart",
            period_unit=period.granularity,
        )
    now = own[own["period_end"] == pd.Timestamp(period.end)]
    now_row = {str(k): v for k, v in now.iloc[0].items()} if len(now) else {}
    spc_rows = []
    clipped = False
    for p in points.to_dict("records"):
        limits = charts.pct_limits(p["lcl"], p["ucl"])  # a percentage stays within 0-100%
        clipped = clipped or bool(limits.clipped)
        spc_rows.append(
            {
                "period_end": pd.Timestamp(p["period_end"]).date(),
                "value": clean(p["value"]),
                "mean": clean(p["mean"]),
                "lcl": limits.lcl,
                "ucl": limits.ucl,
                "special_cause": p["special_cause"]
                if isinstance(p["special_cause"], str)
                else None,
                "reason": p["reason"] if isinstance(p["reason"], str) else None,
            }
        )
    spc_table = Table(
        "spc",
        f"{label}: SPC chart values ({data['basis_label']})",
        [
            Column("period_end", f"{period.granularity.capitalize()} ending", "date"),
            Column("value", "Within 4 hours (%)", "pct"),
            Column("mean", "Mean (%)", "pct"),
            Column("lcl", "Lower process limit (%)", "pct"),
            Column("ucl", "Upper process limit (%)", "pct"),
            Column("special_cause", "Special cause"),
            Column("reason", "Reason"),
        ],
        spc_rows,
        note=(
            "Process limits beyond 0-100% (the mean ± 2.66 × the mean moving range, near 100%) "
            "are clipped to the range a percentage can take."
            if clipped
            else ""
        ),
    )
    return {
        "level": level,
        "code": code,
        "name": row["name"],
        "label": label,
        "row": row,
        "period": period,
        "basis": data["basis"],
        "basis_label": data["basis_label"],
        "rank": row["rank"],
        "of": sum(1 for r in data["rows"] if r["rank"] is not None),
        "figure": figure,
        "standard_pct": STANDARD_PCT,
        "threshold_pct": THRESHOLD_PCT,
        "tables": {
            "types": _types_table(now_row, "org", label, period),
            "trolley": _trolley_table(own, period, "org", label),
            "spc": spc_table,
        },
        "leaders": _leaders(wh, period.end, level, code, row),
    }


def trajectory(wh: Warehouse, code: str, period: Period) -> Table:
    """The trust's agreed monthly trajectories for the financial year of `period`."""
    fy = period.end.year if period.end.month >= 4 else period.end.year - 1
    rows = wh.con.execute(
        "SELECT month, trajectory_pct FROM trajectories WHERE org_code = ? "
        "AND month BETWEEN ? AND ? ORDER BY month",
        [code, dt.date(fy, 4, 1), dt.date(fy + 1, 3, 1)],
    ).fetchall()
    return Table(
        "trajectory",
        f"Agreed four-hour trajectory, {fy}/{(fy + 1) % 100:02d}",
        [Column("month", "Month"), Column("trajectory_pct", "Trajectory (%)", "pct")],
        [{"month": m.strftime("%Y-%m"), "trajectory_pct": float(p)} for m, p in rows],
        sortable=False,
    )
