"""Render escalation runs and funding ledgers as text, JSON, CSV or HTML."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fourhour.errors import InvalidInputError
from fourhour.report.options import ESCALATION_FORMATS, FUNDING_FORMATS
from fourhour.report.templating import environment

BASIS_LABELS = {"all_types": "all department types", "type1": "type 1 (major A&E) only"}
FUNDING_CSV_COLUMNS = (
    "quarter",
    "code",
    "name",
    "system_code",
    "system_name",
    "region_code",
    "region_name",
    "allocation_gbp",
    "element_gbp",
    "status",
    "route",
    "earned_gbp",
    "withheld_gbp",
    "attendances",
    "breaches",
    "performance_pct",
    "trajectory_pct",
    "standard_pct",
    "tolerance_points",
    "basis",
    "reason",
    "leaders",
    "explanation",
)


def render_escalation(
    d: dict[str, Any], fmt: str, *, events: list[dict] | None = None, synthetic: bool = False
) -> str:
    if fmt not in ESCALATION_FORMATS:
        raise InvalidInputError(
            f"unknown format {fmt!r}; expected one of {', '.join(ESCALATION_FORMATS)}"
        )
    if fmt == "json":
        return json.dumps({**d, "events": events or []}, indent=2, default=str) + "\n"
    suffix = "txt" if fmt == "text" else "html"
    return (
        environment()
        .get_template(f"escalation.{suffix}.j2")
        .render(d=d, events=events or [], synthetic=synthetic, basis_label=BASIS_LABELS[d["basis"]])
    )


def render_funding(
    d: dict[str, Any], fmt: str, *, synthetic: bool = False, explain: bool = True
) -> str:
    if fmt not in FUNDING_FORMATS:
        raise InvalidInputError(
            f"unknown format {fmt!r}; expected one of {', '.join(FUNDING_FORMATS)}"
        )
    if fmt == "json":
        return json.dumps(d, indent=2, default=str) + "\n"
    trusts = sorted(d["trusts"], key=lambda r: (r["status"], r["name"] or "", r["code"]))
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(
            out, FUNDING_CSV_COLUMNS, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        for r in trusts:
            row = dict(r)
            row["leaders"] = "; ".join(f"{x['name']} ({x['title']})" for x in r.get("leaders", []))
            writer.writerow(row)
        return out.getvalue()
    suffix = "txt" if fmt == "text" else "html"
    text = (
        environment()
        .get_template(f"funding.{suffix}.j2")
        .render(d=d, trusts=trusts, synthetic=synthetic, explain=explain)
    )
    return text if text.endswith("\n") else text + "\n"
