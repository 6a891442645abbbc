"""Tables as the pages show them and as CSV downloads give them: named columns, typed cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("text", "code", "count", "pct", "change", "gbp", "date", "number")
CSV_EXTRA = ("breaches",)  # row keys a download keeps even where the page shows no column
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    link: str | None = None  # the row key holding a URL for this cell
    filter: bool = False  # offered as a filter above the table
    icon: str | None = None  # 'variation' or 'assurance': drawn as a Making Data Count icon

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(self.kind)


@dataclass
class Table:
    name: str  # the ?download= name and the element id
    caption: str
    columns: list[Column]
    rows: list[dict[Any, Any]]  # column name -> value (pandas' records have Hashable keys)
    note: str = ""
    sortable: bool = True
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def filters(self) -> list[tuple[Column, list[str]]]:
        out = []
        for c in self.columns:
            if c.filter:
                values = sorted({str(r[c.key]) for r in self.rows if r.get(c.key) is not None})
                out.append((c, values))
        return out

    def csv(self, keys: dict[str, str] | None = None) -> str:
        """Every column at full precision, after `keys` (e.g. the page's period) repeated on
        every row so that downloads of several periods can be stacked; text that a
        spreadsheet would run as a formula is quoted with a leading apostrophe. Columns the
        rows carry but the page leaves out (breaches) are kept."""
        keys = {k: v for k, v in (keys or {}).items() if k not in {c.key for c in self.columns}}
        extra = [k for k in CSV_EXTRA if any(k in r for r in self.rows)]
        extra = [k for k in extra if k not in {c.key for c in self.columns}]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([*keys, *(c.key for c in self.columns), *extra])
        for r in self.rows:
            writer.writerow(
                [
                    *(_csv_cell(v) for v in keys.values()),
                    *(_csv_cell(r.get(c.key)) for c in self.columns),
                    *(_csv_cell(r.get(k)) for k in extra),
                ]
            )
        return out.getvalue()

    def records(self) -> list[dict[str, Any]]:
        return [{c.key: clean(r.get(c.key)) for c in self.columns} for r in self.rows]


def _csv_cell(value: Any) -> str:
    value = clean(value)
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return str(value)


def clean(value: Any) -> Any:
    """A JSON-safe scalar: None for missing, int for whole counts, ISO text for dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "__float__") and not isinstance(value, str):  # Decimal
        f = float(value)
        return int(f) if f.is_integer() else f
    return value


def clean_tree(value: Any) -> Any:
    """clean() applied through dictionaries and lists (for JSON responses)."""
    if isinstance(value, dict):
        return {str(k): clean_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_tree(v) for v in value]
    return clean(value)
