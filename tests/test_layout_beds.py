"""Bed occupancy readers: winter sitrep CSVs (2015-16 to 2022-23) and the 2014-15 daily sitrep
workbooks. Small hand-made files pin the rules; the real files (../shared/data) pin the counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from fourhour.errors import ReaderError
from fourhour.ingest.layouts import daily_sitrep, winter_sitrep_beds
from fourhour.ingest.read import read_file
from fourhour.ingest.source import open_sheets

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
D = dt.date

# ---------------------------------------------------------------- winter sitrep CSV fixtures

HEADER_1718 = (
    "Code,Name,Date,Delays30,Delays60,G&A Beds Open,G&A beds occ'd,Occupancy rate,CC Adult Open,"
    "CC Adult Occ,No. beds closed due to norovirus etc.,"
    "No. beds occupied by long-stay patients (> 7 days),"
    "No. beds occupied by long-stay patients (> 21 days),Closures,Diverts"
)
ROWS_1718 = [
    "-,ENGLAND,2017-11-20,25,4,1500,1400,0,60,50,3,700,300,0,1",
    'RAA,"Trust A, Somewhere",2017-11-20,20,4,"1,000",900,0,40,35,3,500,200,0,1',
    "RBB,Trust B,2017-11-20,5,0,500,500,0,20,15,0,200,100,0,-",
    "-,ENGLAND,2017-11-21,10,2,1510,1450,0,60,55,0,710,310,1,0",
    "RAA,Trust A,2017-11-21,8,2,1005,950,0,40,38,0,505,205,1,0",
    "RBB,Trust B,2017-11-21,2,0,505,500,0,20,17,0,205,105,0,0",
]


def csv_file(tmp_path: Path, lines: list[str], name: str = "sitrep.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def beds(result) -> pd.DataFrame:
    return result.extra_tables["bed_occupancy"]


def row_of(frame: pd.DataFrame, day: dt.date, code: str, code_column: str = "org_code") -> dict:
    match = frame[(frame["date"] == day) & (frame[code_column] == code)]
    assert len(match) == 1, f"{len(match)} rows for {code} on {day}"
    return {k: (None if pd.isna(v) else v) for k, v in match.iloc[0].items()}


def test_winter_csv_exact_values_and_england_row_skipped(tmp_path: Path) -> None:
    result = read_file(csv_file(tmp_path, [HEADER_1718, *ROWS_1718]))
    assert result.layout == "winter-sitrep-beds"
    frame = beds(result)
    assert list(frame.columns) == list(winter_sitrep_beds.BED_COLUMNS)
    assert len(frame) == 4
    assert "-" not in set(frame["org_code"])
    assert row_of(frame, D(2017, 11, 20), "RAA") == {
        "date": D(2017, 11, 20),
        "org_code": "RAA",
        "ga_beds_open": 1000,
        "ga_beds_occupied": 900,
        "ga_core_beds_open": None,
        "ga_escalation_beds_open": None,
        "cc_adult_open": 40,
        "cc_adult_occupied": 35,
        "beds_closed_norovirus": 3,
        "long_stay_over_7_days": 500,
        "long_stay_over_21_days": 200,
        "delayed_transfers": None,
        "ambulance_delays_30_60": 20,
        "ambulance_delays_over_60": 4,
        "diverts": 1,
        "closures": 0,
    }
    assert row_of(frame, D(2017, 11, 20), "RBB")["diverts"] is None  # '-' is not published
    orgs = dict(zip(result.organisations["code"], result.organisations["name"], strict=True))
    assert orgs == {"RAA": "Trust A", "RBB": "Trust B"}  # the latest day's name
    assert set(result.organisations["kind"]) == {"provider"}
    assert result.as_of == D(2017, 11, 21)
    assert not any("differs" in n for n in result.notes)  # trusts add up to ENGLAND
    assert any("Occupancy rate" in n for n in result.notes)  # named as not stored


def test_winter_csv_columns_in_another_order_read_the_same(tmp_path: Path) -> None:
    # no quoted commas in the shuffled copy: rewrite the one quoted name and number
    text = [HEADER_1718, *[r.replace('"Trust A, Somewhere"', "Trust A") for r in ROWS_1718]]
    text = [t.replace('"1,000"', "1000") for t in text]
    table = [line.split(",") for line in text]
    order = list(reversed(range(len(table[0]))))
    shuffled = [",".join(row[i] for i in order) for row in table]
    plain = beds(read_file(csv_file(tmp_path, text, "a.csv")))
    other = beds(read_file(csv_file(tmp_path, shuffled, "b.csv")))
    pd.testing.assert_frame_equal(plain, other)


def test_winter_csv_mismatch_with_england_row_is_a_note(tmp_path: Path) -> None:
    rows = [ROWS_1718[0].replace(",1500,1400,", ",1500,1399,"), *ROWS_1718[1:]]
    result = read_file(csv_file(tmp_path, [HEADER_1718, *rows]))
    notes = [n for n in result.notes if "differs" in n]
    assert len(notes) == 1
    assert "G&A beds occ'd" in notes[0] and "1 of 2 days" in notes[0]
    assert "2017-11-20" in notes[0]
    assert row_of(beds(result), D(2017, 11, 20), "RAA")["ga_beds_occupied"] == 900


def test_winter_csv_bst_times_and_split_rows_are_combined(tmp_path: Path) -> None:
    header = (
        "Code,Name,Date,G&A Beds Open,G&A beds occ'd,Occupancy rate,CC Adult Open,CC Adult Occ,"
        "Delays30,Delays60,Closures,Diverts"
    )
    lines = [
        header,
        "-,ENGLAND (All Acute Trusts),2021-03-28 23:00:00,100,90,0.9,10,8,3,1,,",
        "-,ENGLAND (Type 1 Acute Trusts),2021-03-28 23:00:00,99,89,0.9,10,8,3,1,,",
        "RAA,Trust A,2021-03-28 23:00:00,100,90,0.9,10,8,3,1,,",
        "RAA,Trust A (new name),2021-03-28 23:00:00,,,,,,,,,",
        "-,ENGLAND (All Acute Trusts),2021-03-29 00:00:00,,,,,,,,0,2",
        "RAA,Trust A,2021-03-29 00:00:00,,,,,,,,0,2",
        "RAA,Trust A,2021-03-28 00:00:00,98,80,,9,7,1,0,0,0",
    ]
    result = read_file(csv_file(tmp_path, lines))
    frame = beds(result)
    assert len(frame) == 2
    day = row_of(frame, D(2021, 3, 29), "RAA")  # 23:00 is midnight BST written as UTC
    assert (day["ga_beds_open"], day["ambulance_delays_30_60"], day["diverts"]) == (100, 3, 2)
    assert row_of(frame, D(2021, 3, 28), "RAA")["ga_beds_open"] == 98
    assert any("2 rows repeating a trust and day" in n for n in result.notes)
    assert any("Type 1 Acute Trusts" in n for n in result.notes)
    assert not any("differs" in n for n in result.notes)


def test_winter_csv_region_column_gives_relations(tmp_path: Path) -> None:
    lines = [
        "Code,Name,Region,Date,G&A beds occ'd,G&A Beds Open,Delays30,Delays60",
        "-,England,-,2022-11-14,15,20,1,0",
        "RAA,Trust A,NHS England London,2022-11-14,10,12,1,0",
        "RBB,Trust B,North East and Yorkshire,2022-11-14,5,8,0,0",
    ]
    result = read_file(csv_file(tmp_path, lines))
    relations = result.relations.set_index("child_code")
    assert list(result.relations.columns) == [
        "child_code",
        "relation",
        "parent_code",
        "parent_name",
    ]
    assert relations.loc["RAA", "relation"] == "region"
    assert relations.loc["RAA", "parent_name"] == "London"
    assert relations.loc["RBB", "parent_name"] == "North East and Yorkshire"


@pytest.mark.parametrize(
    ("row", "column", "problem"),
    [
        (
            "RAA,Trust A,2017-11-21,8,2,1005,lots,0,40,38,0,505,205,1,0",
            "G&A beds occ'd",
            "not a count",
        ),
        ("RAA,Trust A,2017-11-21,8,2,1005,950,0,-4,38,0,505,205,1,0", "CC Adult Open", "negative"),
        (
            "RAA,Trust A,2017-11-21 12:00:00,8,2,1005,950,0,4,38,0,505,205,1,0",
            "Date",
            "time of day",
        ),
        ("R A,Trust A,2017-11-21,8,2,1005,950,0,4,38,0,505,205,1,0", "Code", "not an ODS code"),
    ],
)
def test_winter_csv_bad_cells_name_file_row_and_column(
    tmp_path: Path, row: str, column: str, problem: str
) -> None:
    rows = [*ROWS_1718[:4], row, ROWS_1718[5]]
    path = csv_file(tmp_path, [HEADER_1718, *rows])
    with pytest.raises(ReaderError) as err:
        read_file(path)
    message = str(err.value)
    assert str(path) in message and "row 6" in message
    assert f"column {column!r}" in message and problem in message


def test_winter_csv_conflicting_duplicate_names_both_rows(tmp_path: Path) -> None:
    rows = [*ROWS_1718, "RAA,Trust A,2017-11-20,20,4,999,900,0,40,35,3,500,200,0,1"]
    path = csv_file(tmp_path, [HEADER_1718, *rows])
    with pytest.raises(ReaderError) as err:
        read_file(path)
    message = str(err.value)
    assert str(path) in message
    assert "rows 3 and 8" in message and "G&A Beds Open" in message
    assert "1000 and 999" in message


def test_winter_csv_missing_column_and_truncation(tmp_path: Path) -> None:
    header = HEADER_1718.replace("G&A beds occ'd,", "")
    rows = [",".join(r.split(",")[:6] + r.split(",")[7:]) for r in ROWS_1718[3:]]
    with pytest.raises(ReaderError, match='column "G&A beds occ\'d": required column is missing'):
        read_file(csv_file(tmp_path, [header, *rows], "missing.csv"))
    cut = [HEADER_1718, *ROWS_1718[:-1], "RBB,Trust B,2017-11-21,2,0,50"]
    with pytest.raises(ReaderError) as err:
        read_file(csv_file(tmp_path, cut, "cut.csv"))
    assert "row 7" in str(err.value) and "truncated" in str(err.value)


def test_detection_is_by_header_text(tmp_path: Path) -> None:
    others = {
        "monthly.csv": "Code,Region,Name,Type 1 Departments - Major A&E,Total attendances\n",
        "bbc.csv": "week_index,week_ending,code,name,attendances_at_ane,beds_blocked\n",
        "mapping.csv": "Code,Name,Date,Region\n",
    }
    for name, text in others.items():
        sheets = open_sheets(csv_file(tmp_path, [text.strip(), ""], name))
        assert not winter_sitrep_beds.detect(sheets), name
        assert not daily_sitrep.detect(sheets), name
    renamed = csv_file(tmp_path, [HEADER_1718, *ROWS_1718], "anything-at-all.txt")
    assert read_file(renamed).layout == "winter-sitrep-beds"


# ---------------------------------------------------------------- daily sitrep xlsx fixtures

THU = dt.datetime(2015, 2, 5)
WEEKEND = "06-08-Feb-15"
SNAPSHOT = (
    "3. Weekend & bank holiday figures reflect the position on the last day of the stated period"
)
TRUSTS = [("North Area Team", "RAA", "Trust A"), ("South Area Team", "RBB", "Trust B")]


def _sheet(
    book: openpyxl.Workbook,
    name: str,
    ident: list[str],
    measures: list[str],
    data: list[tuple[list, list[list]]],
    *,
    snapshot: bool,
    england: list | None = None,
) -> None:
    """Rows 1-13 preamble, 14 dates over groups, 15 header, 16 ENGLAND, 17 column numbers."""
    ws = book.create_sheet(name)
    rows: list[list] = [[None] * 2 for _ in range(13)]
    rows[1] = [None, "Title:", f"Daily Hospital Situation Report - {name}"]
    rows[12] = [None, "Provider Level Data"]
    pad = [None] * (len(ident) + 1)
    if measures:
        dates = [d if i == 0 else None for d in (THU, WEEKEND) for i in range(len(measures))]
        rows.append(pad + dates)
        rows.append([None, *ident, *(measures * 2)])
    else:
        rows.append([])
        rows.append([None, *ident, THU, WEEKEND])
    width = max(1, len(measures)) * 2
    flat = [[v for group in groups for v in group] for _, groups in data]
    sums = [sum(v[i] for v in flat if isinstance(v[i], int)) for i in range(width)]
    rows.append([None, "-", *(["-"] * (len(ident) - 2)), "ENGLAND", *(england or sums)])
    rows.append(pad + list(range(3, 3 + width)) + [3, 3])
    for identity, groups in data:
        rows.append([None, *identity, *[v for g in groups for v in g]])
    rows.append([])
    rows.append([None, "Notes:"])
    if snapshot:
        rows.append([None, SNAPSHOT])
    for row in rows:
        ws.append(row)


def workbook(tmp_path: Path, **changes) -> Path:
    """A small daily sitrep: two trusts (three sites), Thursday and the Fri-Sun group."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    trust_ident = ["Area Team", "Code", "Name"]
    ga = changes.get(
        "ga",
        [
            (list(TRUSTS[0]), [[400, 20, 420, 410], [400, 10, 410, 395]]),
            (list(TRUSTS[1]), [[300, 0, 300, 280], [300, 0, 300, 290]]),
        ],
    )
    ga_measures = changes.get(
        "ga_measures",
        ["Core beds avail", "Escalation beds avail", "Total beds avail", "Total beds occ'd"],
    )
    _sheet(
        book,
        "G&A beds",
        trust_ident,
        ga_measures,
        ga,
        snapshot=True,
        england=changes.get("ga_england"),
    )
    cc = [(list(TRUSTS[0]), [[20, 18], [20, 17]]), (list(TRUSTS[1]), [[10, 9], [10, "-"]])]
    _sheet(
        book,
        "Adult critical care",
        trust_ident,
        ["CC Adult avail", "CC Adult Occ"],
        cc,
        snapshot=True,
    )
    noro = [(list(TRUSTS[0]), [[4, 1], [2, 0]]), (list(TRUSTS[1]), [[0, 0], [0, 0]])]
    _sheet(
        book,
        "D&V, Norovirus",
        trust_ident,
        ["Beds closed norovirus", "Beds closed unocc"],
        noro,
        snapshot=True,
    )
    for name, a, b, snap in (
        ("Delayed transfers of care", [15, 14], [7, 6], True),
        ("A&E closures", [0, 0], [0, 1], False),
        ("A&E diverts", [1, 3], [0, 0], False),
    ):
        if name not in changes.get("drop", ()):
            rows = [(list(TRUSTS[0]), [[a[0]], [a[1]]]), (list(TRUSTS[1]), [[b[0]], [b[1]]])]
            _sheet(book, name, trust_ident, [], rows, snapshot=snap)
    sites = changes.get(
        "sites",
        [
            (
                ["North Area Team", "RAA", "Trust A", "RAA01", "Big Hospital "],
                [[200, 40, 10, 1], [550, 90, 20, 0]],
            ),
            (
                ["North Area Team", "RAA", "Trust A", "RAAXX", "Other "],
                [[30, 0, 0, 0], [80, 0, 0, 0]],
            ),
            (
                ["South Area Team", "RBB", "Trust B", "RBB02", "Small Hospital"],
                [[120, 10, 2, 0], [340, 25, 4, 0]],
            ),
        ],
    )
    _sheet(
        book,
        "A&E Performance",
        ["Area Team", "Org Code", "Org Name", "Site Code", "Site Name"],
        [
            "Number of A&E attendances",
            "Number of patients who have a total time in A&E over 4 hours from arrival to "
            "discharge, transfer or admission",
            "Number of patients who have waited 4-12 hours in A&E from decision to admit to "
            "admission",
            "Number of patients who have waited over 12 hours in A&E from decision to admit to "
            "admission",
        ],
        sites,
        snapshot=False,
    )
    path = tmp_path / "sitrep.xlsx"
    book.save(path)
    return path


def test_daily_sitrep_exact_values_and_weekend_rule(tmp_path: Path) -> None:
    result = read_file(workbook(tmp_path))
    assert result.layout == "daily-sitrep-2014-15"
    frame = beds(result)
    assert list(frame.columns) == list(winter_sitrep_beds.BED_COLUMNS)
    assert sorted(set(frame["date"])) == [D(2015, 2, 5), D(2015, 2, 8)]  # no Fri or Sat
    thursday = row_of(frame, D(2015, 2, 5), "RAA")
    assert (
        thursday["ga_core_beds_open"],
        thursday["ga_escalation_beds_open"],
        thursday["ga_beds_open"],
        thursday["ga_beds_occupied"],
        thursday["cc_adult_open"],
        thursday["cc_adult_occupied"],
        thursday["beds_closed_norovirus"],
        thursday["delayed_transfers"],
        thursday["closures"],
        thursday["diverts"],
        thursday["long_stay_over_7_days"],
    ) == (400, 20, 420, 410, 20, 18, 4, 15, 0, 1, None)
    sunday = row_of(frame, D(2015, 2, 8), "RAA")  # the snapshot is the position on Sunday
    assert (sunday["ga_beds_open"], sunday["ga_beds_occupied"], sunday["delayed_transfers"]) == (
        410,
        395,
        14,
    )
    assert sunday["diverts"] is None and sunday["closures"] is None  # a 3-day count: not split
    assert row_of(frame, D(2015, 2, 8), "RBB")["cc_adult_occupied"] is None
    sites = result.extra_tables["daily_site_ae"]
    assert list(sites.columns) == list(daily_sitrep.SITE_COLUMNS)
    assert len(sites) == 3 and set(sites["date"]) == {D(2015, 2, 5)}
    assert row_of(sites, D(2015, 2, 5), "RAA01", "site_code") == {
        "date": D(2015, 2, 5),
        "site_code": "RAA01",
        "org_code": "RAA",
        "attendances": 200,
        "over_4h": 40,
        "dta_4_12h": 10,
        "dta_over_12h": 1,
    }
    kinds = dict(zip(result.organisations["code"], result.organisations["kind"], strict=True))
    assert kinds == {
        "RAA": "provider",
        "RBB": "provider",
        "RAA01": "site",
        "RAAXX": "site",
        "RBB02": "site",
    }
    names = dict(zip(result.organisations["code"], result.organisations["name"], strict=True))
    assert names["RAA01"] == "Big Hospital" and names["RAA"] == "Trust A"
    rel = {
        (r.child_code, r.relation): (r.parent_code, r.parent_name)
        for r in result.relations.itertuples()
    }
    assert rel[("RAA", "area_team")] == (None, "North Area Team")
    assert rel[("RBB02", "trust")] == ("RBB", None)
    assert result.as_of == D(2015, 2, 8)
    assert any("A&E diverts" in n and "not stored" in n for n in result.notes)
    assert any("G&A beds" in n and "position on 2015-02-08" in n for n in result.notes)


def test_daily_sitrep_england_mismatch_is_an_error(tmp_path: Path) -> None:
    path = workbook(tmp_path, ga_england=[700, 20, 720, 691, 700, 10, 710, 685])
    with pytest.raises(ReaderError) as err:
        read_file(path)
    message = str(err.value)
    assert str(path) in message and "sheet 'G&A beds'" in message and "row 16" in message
    assert "Total beds occ'd (2015-02-05)" in message and "691" in message and "690" in message


def test_daily_sitrep_bad_cells_and_duplicates(tmp_path: Path) -> None:
    ga = [
        (list(TRUSTS[0]), [[400, 20, 420, "full"], [400, 10, 410, 395]]),
        (list(TRUSTS[1]), [[300, 0, 300, 280], [300, 0, 300, 290]]),
    ]
    with pytest.raises(ReaderError) as err:
        read_file(workbook(tmp_path, ga=ga, ga_england=[700, 20, 720, 0, 700, 10, 710, 685]))
    message = str(err.value)
    assert "sheet 'G&A beds'" in message and "row 18" in message and "'full'" in message
    assert "Total beds occ'd (2015-02-05)" in message

    twice = [
        (list(TRUSTS[0]), [[400, 20, 420, 410], [400, 10, 410, 395]]),
        (list(TRUSTS[0]), [[400, 20, 420, 410], [400, 10, 410, 395]]),
    ]
    with pytest.raises(ReaderError, match=r"row 19.*RAA appears twice \(rows 18 and 19\)"):
        read_file(workbook(tmp_path, ga=twice))


def test_daily_sitrep_missing_sheet_or_column(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no sheet named 'a&e diverts'"):
        read_file(workbook(tmp_path, drop=("A&E diverts",)))
    measures = ["Core beds avail", "Escalation beds avail", "Total beds avail", "Beds occupied"]
    with pytest.raises(ReaderError, match=r"sheet 'G&A beds'.*\"total beds occ'd\""):
        read_file(workbook(tmp_path, ga_measures=measures))


def test_daily_sitrep_detection_ignores_the_winter_csv(tmp_path: Path) -> None:
    sheets = open_sheets(workbook(tmp_path))
    assert daily_sitrep.detect(sheets) and not winter_sitrep_beds.detect(sheets)
    csv_sheets = open_sheets(csv_file(tmp_path, [HEADER_1718, *ROWS_1718]))
    assert not daily_sitrep.detect(csv_sheets)


# ---------------------------------------------------------------- the real files

WINTER = {  # file: (bed_occupancy rows, trust, day, {column: value})
    "sitrep1516.csv": (
        9368,
        "RJC",
        D(2015, 11, 30),
        {
            "ga_beds_open": 459,
            "ga_beds_occupied": 452,
            "cc_adult_open": 7,
            "cc_adult_occupied": 7,
            "diverts": 0,
        },
    ),
    "sitrep1617.csv": (
        15504,
        "RF4",
        D(2016, 12, 1),
        {
            "ga_beds_open": 1065,
            "ga_beds_occupied": 1041,
            "cc_adult_occupied": 56,
            "beds_closed_norovirus": 8,
        },
    ),
    "sitrep1718.csv": (
        14385,
        "RF4",
        D(2017, 11, 20),
        {
            "ambulance_delays_30_60": 20,
            "ambulance_delays_over_60": 0,
            "ga_beds_open": 911,
            "ga_beds_occupied": 900,
            "long_stay_over_7_days": 396,
            "long_stay_over_21_days": 128,
        },
    ),
    "sitrep1819.csv": (
        12194,
        "RF4",
        D(2018, 12, 3),
        {
            "ambulance_delays_30_60": 61,
            "ga_beds_open": 912,
            "ga_beds_occupied": 907,
            "cc_adult_occupied": 43,
            "long_stay_over_21_days": 124,
        },
    ),
    "sitrep1920.csv": (
        12012,
        "RF4",
        D(2019, 12, 2),
        {
            "ambulance_delays_30_60": 49,
            "ambulance_delays_over_60": 16,
            "ga_beds_open": 926,
            "long_stay_over_7_days": 415,
        },
    ),
    # 2021-03-28 23:00:00 (beds) and 2021-03-29 00:00:00 (diverts, closures) are one day
    "sitrep2021.csv": (
        20781,
        "RF4",
        D(2021, 3, 29),
        {
            "ga_beds_open": 892,
            "ga_beds_occupied": 787,
            "ambulance_delays_30_60": 40,
            "ambulance_delays_over_60": 20,
            "diverts": 0,
            "closures": 0,
            "beds_closed_norovirus": None,
        },
    ),
    "sitrep2122.csv": (
        17337,
        "RAJ",
        D(2022, 3, 30),
        {
            "ga_beds_occupied": 1616,
            "ga_beds_open": 1773,
            "ambulance_delays_30_60": 23,
            "cc_adult_open": 83,
            "long_stay_over_7_days": 833,
            "diverts": 0,
        },
    ),
    # RM3 twice a day under two names, with the same figures
    "sitrep2223.csv": (
        18207,
        "RM3",
        D(2022, 11, 14),
        {
            "ga_beds_occupied": 1376,
            "ga_beds_open": 1495,
            "ambulance_delays_30_60": 17,
            "ambulance_delays_over_60": 21,
            "cc_adult_occupied": 54,
            "long_stay_over_21_days": 355,
        },
    ),
}
DAILY = {  # file: (bed_occupancy rows, daily_site_ae rows)
    "daily-sitrep-2015-02-02_to_2015-02-08.xlsx": (762, 1361),
    "daily-sitrep-2015-02-09_to_2015-02-15.xlsx": (763, 1364),
    "daily-sitrep-2015-02-16_to_2015-02-22.xlsx": (764, 1366),
    "daily-sitrep-2015-02-23_to_2015-03-01.xlsx": (762, 1362),
    "daily-sitrep-2015-03-02_to_2015-03-08.xlsx": (763, 1366),
}


@pytest.fixture(scope="module")
def real_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real NHS England data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(WINTER))
def test_real_winter_sitreps(real_data: Path, name: str) -> None:
    rows, code, day, expected = WINTER[name]
    result = read_file(real_data / "winter-sitrep-beds" / name)
    assert result.layout == "winter-sitrep-beds"
    frame = beds(result)
    assert len(frame) == rows
    assert not frame.duplicated(["date", "org_code"]).any()
    assert "-" not in set(frame["org_code"])
    found = row_of(frame, day, code)
    assert {k: found[k] for k in expected} == expected
    assert result.organisations["code"].is_unique


@pytest.mark.realdata
def test_real_winter_sitrep_cross_check_notes(real_data: Path) -> None:
    notes = read_file(real_data / "winter-sitrep-beds" / "sitrep1617.csv").notes
    assert any(n.startswith("CC Adult Occ: the trusts' sum differs") for n in notes)
    result = read_file(real_data / "winter-sitrep-beds" / "sitrep2223.csv")
    assert any(n.startswith("Delays30:") for n in result.notes)
    assert len(result.relations) == 153 and set(result.relations["relation"]) == {"region"}
    names = result.organisations.set_index("code")["name"]
    assert names["RM3"] == "Northern Care Alliance NHS Foundation Trust"
    assert not any(
        "differs" in n for n in read_file(real_data / "winter-sitrep-beds" / "sitrep1819.csv").notes
    )


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(DAILY))
def test_real_daily_sitreps(real_data: Path, name: str) -> None:
    bed_rows, site_rows = DAILY[name]
    result = read_file(real_data / "daily-sitrep-winter-2014-15" / name)
    assert result.layout == "daily-sitrep-2014-15"
    assert len(beds(result)) == bed_rows
    sites = result.extra_tables["daily_site_ae"]
    assert len(sites) == site_rows
    assert len(set(beds(result)["date"])) == 5 and len(set(sites["date"])) == 4
    assert (result.organisations["kind"] == "provider").sum() == 153


@pytest.mark.realdata
def test_real_daily_sitrep_hand_checked_values(real_data: Path) -> None:
    path = real_data / "daily-sitrep-winter-2014-15" / "daily-sitrep-2015-02-02_to_2015-02-08.xlsx"
    result = read_file(path)
    frame = beds(result)
    monday = row_of(frame, D(2015, 2, 2), "RJC")
    assert (
        monday["ga_core_beds_open"],
        monday["ga_escalation_beds_open"],
        monday["ga_beds_open"],
        monday["ga_beds_occupied"],
        monday["beds_closed_norovirus"],
        monday["delayed_transfers"],
    ) == (485, 0, 485, 470, 42, 18)
    rkb = row_of(frame, D(2015, 2, 2), "RKB")
    assert (rkb["ga_beds_open"], rkb["cc_adult_open"], rkb["cc_adult_occupied"]) == (1058, 39, 39)
    sunday = row_of(frame, D(2015, 2, 8), "RJC")
    assert (sunday["ga_beds_occupied"], sunday["diverts"]) == (482, None)
    sites = result.extra_tables["daily_site_ae"]
    site = row_of(sites, D(2015, 2, 2), "RJC02", "site_code")
    assert (site["org_code"], site["attendances"], site["over_4h"]) == ("RJC", 146, 49)
    assert sites.groupby("date")["attendances"].sum()[D(2015, 2, 2)] == 50669  # ENGLAND row


def test_daily_sitrep_truncated_workbook(tmp_path: Path) -> None:
    path = workbook(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReaderError, match="truncated"):
        read_file(path)
