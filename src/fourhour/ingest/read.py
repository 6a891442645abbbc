"""Read any supported file: open it, detect its layout from the headers, and read it."""

from __future__ import annotations

from pathlib import Path

from fourhour.errors import Location, UnknownLayoutError
from fourhour.ingest.layouts import all_layouts
from fourhour.ingest.model import ReadResult
from fourhour.ingest.source import open_sheets


def read_file(path: str | Path) -> ReadResult:
    """Read one published file into the canonical shape; the layout is found from its headers."""
    p = Path(path)
    sheets = open_sheets(p)
    for layout in all_layouts():
        if layout.detect(sheets):
            result = layout.read(sheets, p)
            result.layout = layout.name
            return result
    names = ", ".join(layout.name for layout in all_layouts())
    first = next((row for s in sheets for _, row in s.nonblank_rows()), [])
    raise UnknownLayoutError(
        Location(str(p), 1),
        "no known layout matches the file's headers",
        value=", ".join(str(c) for c in first[:6] if c is not None) or None,
        expected=f"one of the layouts fourhour reads ({names}); see docs/layouts.md",
    )
