"""The layouts fourhour reads. Each module defines LAYOUT; detection is by headers, never position.

To add one: write a module with `LAYOUT = Layout(name, description, detect, read)` and list it
in `ALL_LAYOUTS` below, most specific first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fourhour.ingest.model import ReadResult
from fourhour.ingest.source import Sheet


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    # True when the sheets are in this layout (judged from header text only).
    detect: Callable[[list[Sheet]], bool]
    # Read the sheets; raise ReaderError naming file, row, column, value and expectation.
    read: Callable[[list[Sheet], Path], ReadResult]


def all_layouts() -> list[Layout]:
    from fourhour.ingest.layouts import (
        bbc_weekly_sitrep,
        bbc_weekly_type1,
        daily_sitrep,
        nhse_monthly_csv,
        nhse_provider_sheet,
        nhse_timeseries,
        nhsr_tidy,
        org_reference,
        winter_sitrep_beds,
    )

    return [
        nhsr_tidy.LAYOUT,
        nhse_monthly_csv.LAYOUT,
        bbc_weekly_sitrep.LAYOUT,
        bbc_weekly_type1.LAYOUT,
        nhse_timeseries.LAYOUT,
        winter_sitrep_beds.LAYOUT,
        daily_sitrep.LAYOUT,
        nhse_provider_sheet.LAYOUT,
        *org_reference.LAYOUTS,
    ]
