"""Winter daily situation reports: beds per trust per day (NHSWinterSitreps, 2015-16 to 2022-23).

One row per trust and day: `Code, Name, Date` (2022-23 adds `Region`), then some of `G&A Beds
Open`, `G&A beds occ'd`, `CC Adult Open`, `CC Adult Occ`, norovirus closures, long-stay beds
(> 7 and > 21 days), ambulance handover delays `Delays30` (30-60 minutes) and `Delays60` (over
60 minutes), `Diverts` and `Closures`; the columns differ by winter and are found by header
text. Stored in `bed_occupancy`; a figure the file does not publish is NULL.

Not stored (a note names them): the `Occupancy rate` columns (unreliable: 0 for whole winters,
infinite where no beds are open; recompute occupied / open), unoccupied beds closed for
norovirus, flu-patient beds (2021-22 on), G&A beds "void" to non-covid admissions (2022-23) and
the 2015-16 trust-level `A&E Attendances`; any other unknown column is named in a note too.

What the real files hold, and how it is read:
- Dates are `YYYY-MM-DD`, or `YYYY-MM-DD 00:00:00`, or `YYYY-MM-DD 23:00:00` in the British
  summer time weeks of 2020-21 and 2021-22: midnight BST written as UTC, so 23:00 is read as
  the next day (the diverts and closures rows of the same days carry the midnight date). Any
  other time of day is an error.
- The same trust and day can appear on more than one row: a trust under two names (RYR as
  Western Sussex and as University Hospitals Sussex in 2020-21; RM3 twice in 2022-23), and in
  the summer-time weeks beds on one row and diverts/closures on another. Such rows are combined
  when no figure conflicts; two different values for one figure are a ReaderError naming both
  rows. A note counts the combined rows.
- Rows with code `-` are totals: `ENGLAND`, `England`, `ENGLAND (All Acute Trusts)` and (not
  checked: it covers a subset of trusts) `ENGLAND (Type 1 Acute Trusts)`. They are not stored.
  The sum of trusts is compared with the England row per day and column. The real files do
  not always agree (2016-17: the England row of 8 January repeats 1 January's critical care and
  norovirus figures; 2022-23: England ambulance delays exceed the trusts' sum every day), so a
  difference is recorded in `ReadResult.notes`, not raised.
- Trust rows that publish nothing at all (all figures blank) are not stored.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import Layout
from fourhour.ingest.model import RELATION_COLUMNS, ReadResult
from fourhour.ingest.regions import canonical_region
from fourhour.ingest.source import Cell, Sheet, is_blank
from fourhour.ingest.values import BLANK_MARKERS, norm_header, parse_count, parse_date

HEADER_SCAN_ROWS = 40
BED_COLUMNS: tuple[str, ...] = (
    "date",
    "org_code",
    "ga_beds_open",
    "ga_beds_occupied",
    "ga_core_beds_open",
    "ga_escalation_beds_open",
    "cc_adult_open",
    "cc_adult_occupied",
    "beds_closed_norovirus",
    "long_stay_over_7_days",
    "long_stay_over_21_days",
    "delayed_transfers",
    "ambulance_delays_30_60",
    "ambulance_delays_over_60",
    "diverts",
    "closures",
)
BED_MEASURES: tuple[str, ...] = BED_COLUMNS[2:]

# Normalised header -> bed_occupancy column.
MEASURES: dict[str, str] = {
    "g&a beds open": "ga_beds_open",
    "g&a beds occ'd": "ga_beds_occupied",
    "cc adult open": "cc_adult_open",
    "cc adult occ": "cc_adult_occupied",
    "no. beds closed due to norovirus etc.": "beds_closed_norovirus",
    "no. beds occupied by long-stay patients (> 7 days)": "long_stay_over_7_days",
    "no. beds occupied by long-stay patients (> 21 days)": "long_stay_over_21_days",
    "delays30": "ambulance_delays_30_60",
    "delays60": "ambulance_delays_over_60",
    "diverts": "diverts",
    "closures": "closures",
}
REQUIRED = {  # normalised header -> as published
    "code": "Code",
    "name": "Name",
    "date": "Date",
    "g&a beds open": "G&A Beds Open",
    "g&a beds occ'd": "G&A beds occ'd",
}
IDENTITY = ("code", "name", "date", "region")

_TIME = re.compile(r"^(.*?)[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_CODE = re.compile(r"^[A-Z0-9]{3,6}$")

_PLAIN_QUOTES = str.maketrans("’‘“”", "''\"\"")


def key(cell: Cell) -> str:
    """Header text for matching: norm_header with typographic quotes made plain."""
    text = norm_header(cell)
    return text.translate(_PLAIN_QUOTES)


def detect(sheets: list[Sheet]) -> bool:
    return any(_header_row(s, loose=True) is not None for s in sheets)


def _header_row(sheet: Sheet, *, loose: bool = False) -> int | None:
    for index, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        cells = {key(c) for c in row}
        if loose:
            if {"code", "date"} <= cells and cells & {"g&a beds open", "g&a beds occ'd"}:
                return index
        elif set(REQUIRED) <= cells:
            return index
    return None


def counts(cells: list[Cell], rows: np.ndarray, sheet: Sheet, label: str) -> pd.Series:
    """Parse a column of counts at once: plain numbers in C, any other cell by parse_count,
    which returns None for blanks and '-' and raises, naming the cell, for text or negatives."""
    raw = pd.Series(cells, dtype=object)
    number = pd.to_numeric(raw, errors="coerce").astype(float)
    other = number.isna() & raw.notna()
    other &= ~raw.isin(["", "-"])
    for at in np.flatnonzero(other.to_numpy()).tolist():
        value = parse_count(cells[at], sheet, int(rows[at]), label)
        number.iat[at] = np.nan if value is None else value
    bad = ~np.isfinite(number.fillna(0)) | (number < 0) | (number % 1 > 0)
    if bad.any():
        at = int(np.argmax(np.asarray(bad)))
        parse_count(cells[at], sheet, int(rows[at]), label)  # raises with the right message
        raise ReaderError(
            sheet.location(int(rows[at]), label), "not a count", value=cells[at], expected="a count"
        )
    return number.astype("Int64")


def day_of(cell: Cell, sheet: Sheet, row_index: int, column: str) -> dt.date:
    """A date, where a time of 23:00 is midnight BST written as UTC: the next day."""
    time: tuple[int, int, int] = (0, 0, 0)
    if isinstance(cell, dt.datetime):
        time = (cell.hour, cell.minute, cell.second)
        day = cell.date()
    else:
        text = "" if cell is None else str(cell).strip()
        m = _TIME.match(text)
        if m:
            time = (int(m[2]), int(m[3]), int(m[4] or 0))
            text = m[1]
        day = parse_date(text, sheet, row_index, column)
    if time == (23, 0, 0):
        return day + dt.timedelta(days=1)
    if time != (0, 0, 0):
        raise ReaderError(
            sheet.location(row_index, column),
            "a date with a time of day other than midnight",
            value=cell,
            expected="a date (00:00, or 23:00 for midnight British summer time written as UTC)",
        )
    return day


def combine_duplicates(
    frame: pd.DataFrame, keys: list[str], measures: list[str], sheet: Sheet, labels: dict[str, str]
) -> tuple[pd.DataFrame, int]:
    """Merge rows sharing `keys` when no figure conflicts; else a ReaderError naming both rows.

    `frame` carries `row` (0-based sheet row index); a merged row keeps the last row's other
    cells. Returns the frame and the number of rows merged away.
    """
    dup = frame.duplicated(keys, keep=False)
    if not dup.any():
        return frame, 0
    repeated = frame[dup]
    groups = repeated.groupby(keys, sort=False)
    if measures:
        distinct = groups[measures].nunique()
        conflict = distinct[(distinct > 1).any(axis=1)]
        if len(conflict):
            _raise_conflict(repeated, keys, conflict, measures, sheet, labels)
    merged = groups.last()  # last non-null value per column: there is at most one value
    merged["row"] = groups["row"].max()
    merged = merged.reset_index()
    combined = pd.concat([frame[~dup], merged[frame.columns]], ignore_index=True)
    for m in measures:
        combined[m] = combined[m].astype("Int64")
    return combined, len(repeated) - len(merged)


def _raise_conflict(
    repeated: pd.DataFrame,
    keys: list[str],
    conflict: pd.DataFrame,
    measures: list[str],
    sheet: Sheet,
    labels: dict[str, str],
) -> None:
    first_key = conflict.index[0] if len(keys) > 1 else (conflict.index[0],)
    m = next(c for c in measures if conflict.iloc[0][c] > 1)
    group = repeated
    for k, v in zip(keys, first_key, strict=True):
        group = group[group[k] == v]
    values = group[m].dropna()
    row_a = int(group["row"].loc[values.index[0]])
    row_b = int(group["row"].loc[values.index[(values != values.iloc[0]).to_numpy().argmax()]])
    raise ReaderError(
        sheet.location(row_b, labels.get(m, m)),
        f"{', '.join(map(str, first_key))} appears on rows {row_a + 1} and {row_b + 1} with "
        "different figures",
        value=f"{int(values.iloc[0])} and {int(values[values != values.iloc[0]].iloc[0])}",
        expected="one row per organisation and day (or repeated rows that agree)",
    )


def cross_check(
    trusts: pd.DataFrame, england: pd.DataFrame, measures: list[str], labels: dict[str, str]
) -> list[str]:
    """Notes for each column where the trusts' sum differs from the England row."""
    if not len(england):
        return ["no ENGLAND row: the sum of trusts could not be checked"]
    sums = trusts.groupby("date")[measures].sum(min_count=1)
    national = england.set_index("date")[measures]
    notes = []
    for m in measures:
        both = pd.concat([national[m].rename("e"), sums[m].rename("t")], axis=1).dropna(
            subset=["e"]
        )
        differ = both[both["e"] != both["t"].fillna(0)]
        if len(differ):
            worst = (differ["e"] - differ["t"].fillna(0)).abs().astype(int)
            day = worst.idxmax()
            notes.append(
                f"{labels[m]}: the trusts' sum differs from the ENGLAND row on {len(differ)} of "
                f"{len(both)} days (largest difference {worst.max()}, on {day}); the trusts' "
                "figures are stored as published"
            )
    return notes


def read(sheets: list[Sheet], path: Path) -> ReadResult:
    sheet, header_index = next(
        (s, i) for s in sheets if (i := _header_row(s, loose=True)) is not None
    )
    header = [key(c) for c in sheet.rows[header_index]]
    raw_header = sheet.rows[header_index]
    for name, shown in REQUIRED.items():
        if name not in header:
            raise ReaderError(
                sheet.location(header_index, shown),
                "required column is missing from the header row",
                expected=f"a column headed {shown!r}",
            )
    cols: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    for i, h in enumerate(header):
        field = MEASURES.get(h) or (h if h in IDENTITY else None)
        if field is None:
            if h:
                ignored.append(str(raw_header[i]).strip())
            continue
        if field in cols:
            raise ReaderError(
                sheet.location(header_index, str(raw_header[i]).strip()),
                "the column appears twice in the header row",
                expected="each column once",
            )
        cols[field] = i
        labels[field] = str(raw_header[i]).strip()

    width = len(raw_header)
    data = [
        (i, row)
        for i, row in enumerate(sheet.rows[header_index + 1 :], start=header_index + 1)
        if any(not is_blank(c) for c in row)
    ]
    if not data:
        raise ReaderError(
            sheet.location(header_index), "no data rows after the header", expected="data rows"
        )
    needed = max(cols.values()) + 1
    for i, row in data:
        if len(row) < needed or (sheet.name is None and len(row) < width):
            raise ReaderError(
                sheet.location(i, str(raw_header[len(row)]).strip() if len(row) < width else None),
                f"the row has {len(row)} fields but the header has {width}",
                expected="complete rows; the file looks truncated",
            )
    rows = np.array([i for i, _ in data])

    def column(field: str) -> list[Cell]:
        return [row[cols[field]] for _, row in data]

    frame = pd.DataFrame({"row": rows})
    frame["code"] = [("" if c is None else str(c).strip().upper()) for c in column("code")]
    frame["name"] = [("" if c is None else str(c).strip()) for c in column("name")]
    if "region" in cols:
        frame["region"] = [None if is_blank(c) else str(c).strip() for c in column("region")]
    date_cells = pd.Series(column("date"), dtype=object)
    first_seen = date_cells.map(str).drop_duplicates()
    days = {
        str(date_cells[p]): day_of(date_cells[p], sheet, int(rows[p]), labels["date"])
        for p in first_seen.index
    }
    frame["date"] = date_cells.map(str).map(days)
    measures = [m for m in BED_MEASURES if m in cols]
    for m in measures:
        frame[m] = counts(column(m), rows, sheet, labels[m])

    total = frame["code"].str.lower().isin(BLANK_MARKERS)
    named_england = frame["name"].str.lower().str.startswith("england")
    empty_code = total & (frame["code"] == "") & ~named_england
    if empty_code.any():
        at = int(frame.loc[empty_code, "row"].iloc[0])
        raise ReaderError(
            sheet.location(at, labels["code"]), "empty code", expected="a trust's ODS code"
        )
    bad_code = ~total & ~frame["code"].str.fullmatch(_CODE.pattern)
    if bad_code.any():
        at = frame.index[bad_code][0]
        raise ReaderError(
            sheet.location(int(frame["row"].loc[at]), labels["code"]),
            "not an ODS code",
            value=frame.at[at, "code"],
            expected="a trust's ODS code such as RXQ, or '-' on the ENGLAND row",
        )

    notes: list[str] = []
    trusts, merged = combine_duplicates(
        frame[~total].copy(), ["date", "code"], measures, sheet, labels
    )
    if merged:
        notes.append(
            f"{merged} rows repeating a trust and day (another name for the trust, or figures "
            "split over two rows) were combined; none conflicted"
        )
    is_national = total & named_england & ~frame["name"].str.lower().str.contains("type 1")
    national = frame[is_national]
    national, _ = combine_duplicates(national.copy(), ["date", "name"], measures, sheet, labels)
    if national["date"].duplicated().any():
        twice = national[national["date"].duplicated(keep=False)].sort_values("row")
        raise ReaderError(
            sheet.location(int(twice["row"].iloc[1]), labels["name"]),
            f"two England total rows for {twice['date'].iloc[0]} "
            f"(rows {int(twice['row'].iloc[0]) + 1} and {int(twice['row'].iloc[1]) + 1})",
            expected="one ENGLAND row per day",
        )
    notes += cross_check(trusts, national, measures, labels)
    other_names = sorted(set(frame.loc[total & ~is_national, "name"]))
    if other_names:
        notes.append("total rows not stored or checked: " + ", ".join(other_names))

    published = trusts[measures].notna().any(axis=1)
    if (~published).sum():
        notes.append(f"{int((~published).sum())} trust rows publish no figures and are not stored")
    if ignored:
        notes.append("columns not stored: " + ", ".join(ignored))

    trusts = trusts.sort_values("row").reset_index(drop=True)
    published = trusts[measures].notna().any(axis=1)
    latest = trusts.sort_values(["date", "row"]).groupby("code").tail(1)
    organisations = pd.DataFrame(
        {"code": latest["code"], "name": latest["name"].replace("", None), "kind": "provider"}
    ).reset_index(drop=True)
    relations = pd.DataFrame(columns=list(RELATION_COLUMNS))
    if "region" in trusts:
        with_region = trusts[trusts["region"].notna() & ~trusts["region"].isin(["-"])]
        last = with_region.sort_values(["date", "row"]).groupby("code").tail(1)
        relations = pd.DataFrame(
            {
                "child_code": last["code"],
                "relation": "region",
                "parent_code": None,
                "parent_name": [canonical_region(r) for r in last["region"]],
            }
        ).reset_index(drop=True)

    beds = trusts[published].rename(columns={"code": "org_code"})
    for m in BED_MEASURES:
        if m not in beds:
            beds[m] = pd.Series(pd.NA, index=beds.index, dtype="Int64")
    beds = beds.sort_values(["date", "org_code"])[list(BED_COLUMNS)].reset_index(drop=True)
    return ReadResult(
        layout=LAYOUT.name,
        organisations=organisations,
        relations=relations,
        notes=notes,
        extra_tables={"bed_occupancy": beds},
        column_labels={m: labels[m] for m in measures},
        as_of=max(beds["date"]) if len(beds) else None,
    )


LAYOUT = Layout(
    "winter-sitrep-beds",
    "Winter daily situation reports: G&A and critical care beds per trust per day (2015-2023)",
    detect,
    read,
)
