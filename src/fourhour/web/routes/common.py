"""What every route needs: the site, and the period parameters documented once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.requests import Request

from fourhour.measures.spc import DEFAULT_PRESET, PRESETS
from fourhour.web.params import parse_choice
from fourhour.web.site import Site

WeekParam = Annotated[
    str | None,
    Query(
        description="The Sunday that ends the week, YYYY-MM-DD (default: the latest held).",
        examples=["2025-03-30"],
        max_length=40,
    ),
]
MonthParam = Annotated[
    str | None,
    Query(description="The month, YYYY-MM (instead of week).", examples=["2025-03"], max_length=40),
]
CodeFilter = Annotated[
    str | None,
    Query(description="Only organisations in this system or region (its code).", max_length=40),
]
DownloadParam = Annotated[
    str | None,
    Query(description="Download the named table on this page as CSV.", max_length=40),
]


SpcPresetParam = Annotated[
    str | None,
    Query(
        description=f"The SPC rules behind limits and icons: {' or '.join(PRESETS)} "
        f"(default {DEFAULT_PRESET}; nhsrplotthedots reproduces the R package NHSRplotthedots "
        "0.2.2).",
        examples=[DEFAULT_PRESET],
        max_length=40,
    ),
]


def parse_spc_preset(value: str | None) -> str:
    """The spc_preset parameter, checked (400 for an unknown preset)."""
    return parse_choice("spc_preset", value, PRESETS, DEFAULT_PRESET)


def site_of(request: Request) -> Site:
    return request.app.state.site
