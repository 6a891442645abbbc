"""The evidence page's data: four-hour performance against bed occupancy in the warehouse's
real returns and bed sitreps (capacity.evidence), as a figure and tables."""

from __future__ import annotations

from typing import Any

from fourhour.capacity.evidence import REFERENCE_PCT, EvidenceError, analyse, occupancy_panel
from fourhour.capacity.evidence_chart import evidence_chart
from fourhour.warehouse import Warehouse
from fourhour.web.data.tables import Column, Table
from fourhour.web.figures import render


def occupancy_evidence(wh: Warehouse) -> dict[str, Any]:
    """Figure, tables and sentences; only {"missing": why} when no trust-period has both
    halves."""
    try:
        panel = occupancy_panel(wh.con)
    except EvidenceError as exc:
        return {"missing": exc.message}
    e = analyse(panel)
    extra = Table(
        "extra-over-4h",
        f"Extra type 1 patients over four hours (percentage points) against trust-periods at "
        f"{REFERENCE_PCT:g}% occupancy or less, with 95% intervals",
        [
            Column("occupancy_pct", "Occupancy (%)", "number"),
            Column("trust_periods", "Trust-periods", "count"),
            Column("pooled_extra_points", "All trusts (points)", "number"),
            Column("pooled_low", "95% CI low", "number"),
            Column("pooled_high", "95% CI high", "number"),
            Column("within_extra_points", "Within the same trust (points)", "number"),
            Column("within_low", "95% CI low ", "number"),
            Column("within_high", "95% CI high ", "number"),
        ],
        e.extra.to_dict("records"),
        sortable=False,
    )
    binned = Table(
        "by-occupancy",
        "Four-hour performance by G&A bed occupancy (pooled counts, 95% intervals)",
        [
            Column("occupancy_bin", "Occupancy (%)"),
            Column("trust_periods", "Trust-periods", "count"),
            Column("trusts", "Trusts", "count"),
            Column("type1_pct", "Type 1 (%)", "pct"),
            Column("type1_low", "Type 1, 95% CI low (%)", "pct"),
            Column("type1_high", "Type 1, 95% CI high (%)", "pct"),
            Column("all_types_pct", "All types (%)", "pct"),
        ],
        e.binned.replace({float("nan"): None}).to_dict("records"),
        sortable=False,
    )
    winters = Table(
        "winters",
        "Matched trust-periods by winter",
        [
            Column("winter", "Winter"),
            Column("granularity", "Returns"),
            Column("trusts", "Trusts", "count"),
            Column("periods", "Trust-periods", "count"),
            Column("occupancy_pct", "G&A occupancy (%)", "pct"),
            Column("type1_pct", "Type 1 (%)", "pct"),
        ],
        list(e.summary["winters"]),
        sortable=False,
    )
    figure = render(
        evidence_chart(e),
        "fig-occupancy-evidence",
        title="Four-hour performance against bed occupancy",
    )
    return {
        "missing": None,
        "figure": figure,
        "text": e.text(),
        "tables": {"extra": extra, "binned": binned, "winters": winters},
    }
