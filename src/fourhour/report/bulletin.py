"""The four-hour bulletin: England against the standard, the same period last year, the
providers below the threshold then and now, the worst providers, and trolley waits.

`build_bulletin` returns the stable JSON contract (documented in docs/bulletin.md); the
renderers turn it into text, Markdown or HTML. Percentages keep full precision in JSON and
are shown to one decimal place in text.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fourhour.errors import InvalidInputError, QueryError
from fourhour.measures import (
    STANDARD_PCT,
    THRESHOLD_PCT,
    england,
    measure_table,
    providers_below,
    worst_providers,
)
from fourhour.measures.performance import TYPE_KEYS, source_granularity, weeks_ending_within
from fourhour.periods import Period
from fourhour.report.options import BULLETIN_FORMATS as FORMATS
from fourhour.report.options import WORST_N
from fourhour.report.templating import shared_environment
from fourhour.warehouse import Warehouse
from fourhour.warehouse.connection import one_row


def _num(value: Any) -> int | float | None:
    """A JSON-safe number: None for missing, int for counts, float otherwise."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    f = float(value)
    if math.isnan(f):
        return None
    return int(f) if f.is_integer() and not isinstance(value, float | np.floating) else f


def _england_block(row: pd.Series | None) -> dict:
    block = {}
    for t in TYPE_KEYS:
        block[t] = {
            "attendances": None if row is None else _num(row[f"{t}_attendances"]),
            "within_4h": None if row is None else _num(row[f"{t}_within_4h"]),
            "breaches": None if row is None else _num(row[f"{t}_breaches"]),
            "performance_pct": None
            if row is None
            else (None if (v := _num(row[f"{t}_performance_pct"])) is None else float(v)),
        }
    return block


def _has_data(row: pd.Series) -> bool:
    return (
        _num(row["type1_attendances"]) is not None or _num(row["all_types_attendances"]) is not None
    )


def _provider_list(frame: pd.DataFrame, basis: str, with_attendances: bool = False) -> list:
    out = []
    for r in frame.itertuples(index=False):
        item: dict[str, Any] = {
            "code": r.code,
            "name": r.name,
            "performance_pct": float(getattr(r, f"{basis}_performance_pct")),
        }
        if with_attendances:
            item["attendances"] = _num(getattr(r, f"{basis}_attendances"))
        out.append(item)
    return out


def build_bulletin(
    wh: Warehouse,
    period: Period,
    *,
    threshold_pct: float = THRESHOLD_PCT,
    worst_n: int = WORST_N,
    england_of: Callable[[Warehouse, Period], pd.DataFrame] = england,
    table_of: Callable[[Warehouse, Period, str], pd.DataFrame] = measure_table,
) -> dict:
    """The bulletin for `period` as the stable JSON-ready dictionary (`england_of` and
    `table_of`: England's row and the provider table of a period, as `england` and
    `measure_table` give them; the web's precompute passes those it computed in bulk)."""
    if isinstance(worst_n, bool) or not isinstance(worst_n, int) or worst_n < 1:
        raise InvalidInputError(f"--worst {worst_n} is not a number of providers; give 1 or more")
    now = england_of(wh, period).iloc[0]
    if not _has_data(now):
        raise QueryError(
            f"the warehouse holds no returns for {period.phrase}",
            hint=_coverage_hint(wh, period.granularity),
        )
    last_period = period.same_period_last_year()
    last = england_of(wh, last_period).iloc[0]
    last_row = last if _has_data(last) else None
    providers = table_of(wh, period, "provider")
    below, basis = providers_below(wh, period, threshold_pct, table=providers)
    providers_last = table_of(wh, last_period, "provider")
    below_last, basis_last = providers_below(wh, last_period, threshold_pct, table=providers_last)
    worst, worst_basis = worst_providers(wh, period, worst_n, table=providers)
    over_4h = _num(now["trolley_waits_over_4h"])
    over_12h = _num(now["trolley_waits_over_12h"])
    estimated = _flag(now["breaches_estimated"]) or bool(
        len(providers) and providers["breaches_estimated"].fillna(False).astype(bool).any()
    )
    return {
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "granularity": period.granularity,
        },
        "england": _england_block(now),
        "same_period_last_year": _england_block(last_row),
        "providers_below_threshold": {
            "threshold_pct": float(threshold_pct),
            "count": len(below),
            # None, not 0, where no provider returns are stored for last year's period (e.g.
            # September 2023, whose England figure comes from the national totals).
            "count_last_year": len(below_last) if len(providers_last) else None,
            "providers": _provider_list(below, basis),
            # On last year's own basis (type 1 where it had no all-types figures).
            "providers_last_year": _provider_list(below_last, basis_last),
        },
        "worst_providers": _provider_list(worst, worst_basis, with_attendances=True),
        "trolley_waits": {"over_4h": over_4h, "over_12h": over_12h},
        "meta": {
            "label": period.label,
            "same_period_last_year": {
                "start": last_period.start.isoformat(),
                "end": last_period.end.isoformat(),
                "label": last_period.label,
            },
            "standard_pct": STANDARD_PCT,
            "provider_measure": basis,
            "providers_reporting": len(providers),
            "provider_returns": _provider_returns(wh, period),
            "providers_left_out": int(now["providers_left_out"]),
            "source": str(now["source"]),
            "national_apportioned": _flag(now["apportioned"]),
            "breaches_estimated": estimated,
            "trolley_waits_source": None
            if now["trolley_waits_source"] is None
            else str(now["trolley_waits_source"]),
            "synthetic": is_synthetic(wh),
        },
    }


def _flag(value: Any) -> bool:
    return bool(value) if _num(value) is not None else False


def _provider_returns(wh: Warehouse, period: Period) -> dict:
    """Which returns the providers are measured on: the period's own, or (for a month,
    quarter or year before monthly returns began) the weeks ending within it."""
    granularity = source_granularity(wh, period)
    weeks = weeks_ending_within(wh, period) if granularity != period.granularity else []
    return {
        "granularity": granularity,
        "weeks_ending": [w.isoformat() for w in weeks],
        "label": (
            f"{len(weeks)} week{'s' if len(weeks) != 1 else ''} ending "
            + (
                f"{weeks[0]:%-d %B %Y}"
                if len(weeks) == 1
                else f"{weeks[0]:%-d %B %Y} to {weeks[-1]:%-d %B %Y}"
            )
            if weeks
            else None
        ),
    }


def is_synthetic(wh: Warehouse) -> bool:
    row = one_row(
        wh.con.execute(
            "SELECT count(*) FILTER (WHERE file ILIKE '%SYNTHETIC%'), count(*) FROM ingest_log"
        )
    )
    return bool(row[0]) and row[0] == row[1]


def _coverage_hint(wh: Warehouse, granularity: str) -> str:
    if granularity == "week":
        row = one_row(
            wh.con.execute(
                "SELECT min(period_end), max(period_end) FROM provider_returns "
                "WHERE granularity = 'week'"
            )
        )
        kind = "weeks ending"
    else:
        row = one_row(
            wh.con.execute(
                "SELECT min(period_start), max(period_end) FROM (SELECT period_start, period_end "
                "FROM provider_returns WHERE granularity = 'month' UNION ALL SELECT period_start, "
                "period_end FROM published_totals WHERE granularity = 'month')"
            )
        )
        kind = "months"
    if row[0] is None:
        return f"no {granularity}ly returns are stored yet; run `fourhour ingest FILE...`"
    return f"the warehouse holds {kind} from {row[0]} to {row[1]}"


def _context(b: dict) -> dict:
    e, ly = b["england"], b["same_period_last_year"]
    headline = "all_types" if e["all_types"]["performance_pct"] is not None else "type1"
    now_pct = e[headline]["performance_pct"]
    last_pct = ly[headline]["performance_pct"]
    t1 = e["type1"]["performance_pct"]
    t1_last = ly["type1"]["performance_pct"]
    return {
        "b": b,
        "m": b["meta"],
        "headline": headline,
        "headline_label": "all A&E types" if headline == "all_types" else "major (type 1) A&E",
        "now_pct": now_pct,
        "last_pct": last_pct,
        "change": None if now_pct is None or last_pct is None else now_pct - last_pct,
        "gap": None if now_pct is None else now_pct - b["meta"]["standard_pct"],
        "t1": t1,
        "t1_change": None if t1 is None or t1_last is None else t1 - t1_last,
        "measure_label": "all types" if b["meta"]["provider_measure"] == "all_types" else "type 1",
    }


def render(b: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(b, indent=2) + "\n"
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    suffix = {"text": "txt", "markdown": "md", "html": "html"}[fmt]
    return shared_environment().get_template(f"bulletin.{suffix}.j2").render(**_context(b))
