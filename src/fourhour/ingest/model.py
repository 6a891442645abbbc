"""The canonical shape every reader returns, so that storing never depends on a layout."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

# The counts a provider return can carry, in warehouse column order. Type 3 includes type 4
# (walk-in centres), as the later returns publish them.
COUNT_COLUMNS: tuple[str, ...] = (
    "att_type1",
    "att_type2",
    "att_type3",
    "br_type1",
    "br_type2",
    "br_type3",
    "adm_type1",
    "adm_type2",
    "adm_type3",
    "adm_other",
    "dta_4_12h",
    "dta_over_12h",
    "booked_type1",
    "booked_type2",
    "booked_type3",
)

TYPES: tuple[str, ...] = ("type1", "type2", "type3")

# Columns of the returns frame besides the counts.
KEY_COLUMNS: tuple[str, ...] = ("granularity", "period_start", "period_end", "org_code")
RETURN_COLUMNS: tuple[str, ...] = (
    *KEY_COLUMNS,
    "org_name",
    *COUNT_COLUMNS,
    "breaches_estimated",
    "source_row",
)

ORG_COLUMNS: tuple[str, ...] = ("code", "name", "kind")
RELATION_COLUMNS: tuple[str, ...] = ("child_code", "relation", "parent_code", "parent_name")
NAME_COLUMNS: tuple[str, ...] = ("code", "name", "as_of")


@dataclass
class ReadResult:
    """What a reader found in one file.

    returns: one row per provider and period (RETURN_COLUMNS; org_code may be None when the
        file names providers without codes; ingest resolves the name).
    totals: national or regional total rows (area, granularity, period, counts), kept for
        cross-checks and for England figures where no provider rows exist.
    check_totals: total rows (as `totals`) used only to check the provider rows of the same
        file and never stored, e.g. a TOTAL row that would shadow NHS England's published
        national time series for the same month.
    published: the count columns this layout publishes; a revision replaces only these.
    organisations / relations: reference data the file carries.
    column_labels: canonical column -> header in the file, for error messages.
    """

    layout: str
    returns: pd.DataFrame = field(default_factory=lambda: empty_returns())
    totals: pd.DataFrame = field(default_factory=lambda: empty_totals())
    check_totals: pd.DataFrame = field(default_factory=lambda: empty_totals())
    published: tuple[str, ...] = ()
    organisations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ORG_COLUMNS))
    relations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RELATION_COLUMNS))
    column_labels: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Other tables a reference or capacity reader fills: warehouse table -> frame.
    extra_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    # The date the file's organisation relations describe (else the periods' ends are used).
    as_of: dt.date | None = None
    # Dated names (code, name, as_of) where a file dates names itself (e.g. a closed trust's
    # name by its closing day); otherwise names are dated by the returns' periods or `as_of`.
    names: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=NAME_COLUMNS))

    @property
    def kind(self) -> str:
        if len(self.returns) or len(self.totals):
            return "returns"
        if self.extra_tables:
            return "capacity"
        return "reference"


def empty_returns() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in RETURN_COLUMNS})


# Columns only national totals carry: attendances within four hours by type as published (the
# base of the published percentages, which may leave providers out), and whether NHS England
# estimated the month by apportioning weekly returns.
TOTAL_ONLY_COLUMNS: tuple[str, ...] = ("within_type1", "within_type2", "within_type3")
TOTAL_COLUMNS: tuple[str, ...] = (
    "granularity",
    "period_start",
    "period_end",
    "area",
    *COUNT_COLUMNS,
    *TOTAL_ONLY_COLUMNS,
    "apportioned",
    "source_row",
)


def empty_totals() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in TOTAL_COLUMNS})


def returns_frame(records: list[dict]) -> pd.DataFrame:
    """Build a returns frame from dicts, filling absent counts with None (not published)."""
    if not records:
        return empty_returns()
    frame = pd.DataFrame.from_records(records)
    for column in RETURN_COLUMNS:
        if column not in frame.columns:
            frame[column] = False if column == "breaches_estimated" else None
    return frame[list(RETURN_COLUMNS)]


def totals_frame(records: list[dict]) -> pd.DataFrame:
    if not records:
        return empty_totals()
    frame = pd.DataFrame.from_records(records)
    for column in TOTAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = False if column == "apportioned" else None
    frame["apportioned"] = frame["apportioned"].fillna(False).astype(bool)
    return frame[list(TOTAL_COLUMNS)]
