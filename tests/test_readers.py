"""Readers: each layout, detected from its headers, read to exact hand-checked values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlwt

from fourhour.ingest.read import read_file
from tests.conftest import PROVIDER_HEADER, provider_row, write


def test_provider_sheet_csv_reads_every_count(provider_csv: Path) -> None:
    r = read_file(provider_csv)
    assert r.layout == "nhse-provider-sheet"
    rows = r.returns.set_index("org_code")
    a = rows.loc["RAA"]
    assert (a.period_start, a.period_end, a.granularity) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 1, 31),
        "month",
    )
    assert (a.att_type1, a.att_type2, a.att_type3) == (10000, 0, 4000)
    assert (a.br_type1, a.br_type2, a.br_type3) == (2500, 0, 40)
    assert (a.adm_type1, a.adm_type3, a.adm_other) == (2800, 10, 900)
    # '>4 hours from decision to admit' includes the '>12 hours' ones.
    assert (a.dta_4_12h, a.dta_over_12h) == (580, 120)
    assert rows.loc["RBB", "att_type2"] == 300
    assert set(r.relations["parent_name"]) == {"London", "North West"}


def test_columns_in_another_order_still_read(tmp_path: Path) -> None:
    """Detection and mapping use header text, not positions: move the DTA columns first."""
    head = PROVIDER_HEADER.split(",")
    row = provider_row("RAA", "Alpha", (100, 0, 0), (10, 0, 0), dta=(7, 2)).split(",")
    order = [25, 26, *range(25)]
    text = ",".join(head[i] for i in order) + "\n" + ",".join(row[i] for i in order) + "\n"
    r = read_file(write(tmp_path, "March-2024-AE.csv", text))
    a = r.returns.iloc[0]
    assert (a.att_type1, a.br_type1, a.dta_4_12h, a.dta_over_12h) == (100, 10, 5, 2)


def test_windows_1252_csv_reads(tmp_path: Path) -> None:
    lines = [PROVIDER_HEADER, provider_row("RAA", "St Mary’s – Hospital", (100, 0, 0), (1, 0, 0))]
    path = write(tmp_path, "May-2025-AE.csv", "\n".join(lines) + "\n", encoding="cp1252")
    assert read_file(path).returns.iloc[0].org_name == "St Mary’s – Hospital"


def _xls_with_preamble(path: Path, week_ending: str) -> Path:
    """An XLS laid out as NHS England published the weekly situation reports."""
    book = xlwt.Workbook()
    sheet = book.add_sheet("Provider Level Data")
    preamble = [
        ("Title:", "A&E Attendances"),
        ("Period:", f"W/E {week_ending}"),
        ("Source:", "Unify2"),
        ("Basis:", "Provider"),
        ("", ""),
    ]
    for i, (a, b) in enumerate(preamble):
        sheet.write(i + 1, 1, a)
        sheet.write(i + 1, 2, b)
    top = 8
    sheet.write(top - 1, 4, "A&E attendances")
    sheet.write(top - 1, 8, "A&E attendances > 4 hours")
    header = [
        "SHA",
        "Code",
        "Name",
        "Type 1 Departments - Major A&E",
        "Type 2 Departments - Single Specialty",
        "Type 3 Departments - Other A&E/Minor Injury Unit",
        "Total attendances",
        "Type 1 Departments - Major A&E",
        "Type 2 Departments - Single Specialty",
        "Type 3 Departments - Other A&E/Minor Injury Unit",
        "Total Attendances > 4 hours",
        "Emergency Admissions via Type 1 A&E",
        "Number of patients who have waited 4-12 hours from decision to admit to admission",
        "Number of patients who have waited over 12 hours from decision to admit to admission",
    ]
    for c, h in enumerate(header):
        sheet.write(top, c + 1, h)
    rows = [
        ("-", "-", "ENGLAND", 300, 10, 200, 510, 30, 0, 1, 31, 80, 9, 1),
        ("London", "RAA", "Alpha", 100, 10, 200, 310, 20, 0, 1, 21, 50, 6, 1),
        ("London", "RBB", "Beta", 200, 0, 0, 200, 10, 0, 0, 10, 30, 3, 0),
    ]
    for r, values in enumerate(rows):
        for c, v in enumerate(values):
            sheet.write(top + 2 + r, c + 1, v)
    book.save(str(path))
    return path


def test_weekly_xls_with_preamble_and_total_row(tmp_path: Path) -> None:
    r = read_file(_xls_with_preamble(tmp_path / "weekly.xls", "07/11/2010"))
    assert r.layout == "nhse-provider-sheet"
    assert set(r.returns["granularity"]) == {"week"}
    assert set(r.returns["period_end"]) == {dt.date(2010, 11, 7)}
    assert sorted(r.returns["org_code"]) == ["RAA", "RBB"]
    a = r.returns.set_index("org_code").loc["RAA"]
    assert (a.att_type1, a.att_type2, a.att_type3, a.br_type1, a.br_type3) == (100, 10, 200, 20, 1)
    assert (a.dta_4_12h, a.dta_over_12h) == (6, 1)
    england = r.totals.iloc[0]
    assert england.area == "ENGLAND" and england.att_type1 == 300
    assert set(r.relations["relation"]) == {"region"}


def test_xlsx_is_read(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Period:", "December 2024"])
    ws.append([])
    for line in (PROVIDER_HEADER, provider_row("RAA", "Alpha", (900, 0, 100), (90, 0, 1))):
        ws.append([_num(c) for c in _split(line)])
    book.save(tmp_path / "provider.xlsx")
    r = read_file(tmp_path / "provider.xlsx")
    a = r.returns.iloc[0]
    assert (a.period_start, a.att_type1, a.br_type1, a.att_type3) == (
        dt.date(2024, 12, 1),
        900,
        90,
        100,
    )


def _split(line: str) -> list[str]:
    import csv

    return next(csv.reader([line]))


def _num(cell: str) -> object:
    try:
        return int(cell.replace(",", ""))
    except ValueError:
        return cell


def test_monthly_csv_adds_booked_appointments(tmp_path: Path) -> None:
    header = (
        "Period,Org Code,Parent Org,Org name,A&E attendances Type 1,A&E attendances Type 2,"
        "A&E attendances Other A&E Department,A&E attendances Booked Appointments Type 1,"
        "A&E attendances Booked Appointments Type 2,"
        "A&E attendances Booked Appointments Other Department,Attendances over 4hrs Type 1,"
        "Attendances over 4hrs Type 2,Attendances over 4hrs Other Department,"
        "Attendances over 4hrs Booked Appointments Type 1,"
        "Attendances over 4hrs Booked Appointments Type 2,"
        "Attendances over 4hrs Booked Appointments Other Department,"
        "Patients who have waited 4-12 hs from DTA to admission,"
        "Patients who have waited 12+ hrs from DTA to admission,"
        "Emergency admissions via A&E - Type 1,Emergency admissions via A&E - Type 2,"
        "Emergency admissions via A&E - Other A&E department,Other emergency admissions"
    )
    row = "MSitAE-APRIL-2025,RAA,NHS ENGLAND LONDON,Alpha,1000,0,500,20,0,30,300,0,5,2,0,1,80,9,"
    row += "250,0,3,120"
    r = read_file(write(tmp_path, "monthly.csv", f"{header}\n{row}\n"))
    a = r.returns.iloc[0]
    assert r.layout == "nhse-monthly-csv"
    assert (a.period_start, a.att_type1, a.att_type3, a.booked_type1) == (
        dt.date(2025, 4, 1),
        1020,
        530,
        20,
    )
    assert (a.br_type1, a.br_type3, a.dta_4_12h, a.dta_over_12h, a.adm_other) == (
        302,
        6,
        80,
        9,
        120,
    )


def test_nhsr_tidy_pivots_types(tmp_path: Path) -> None:
    text = (
        "period,org_code,type,attendances,breaches,admissions\n"
        "2017-03-01,RF4,1,21289,2879,5060\n2017-03-01,RF4,2,813,22,0\n"
        "2017-03-01,RF4,other,2850,6,0\n2017-03-01,RAA,1,100,10,20\n"
    )
    r = read_file(write(tmp_path, "tidy.csv", text))
    rows = r.returns.set_index("org_code")
    assert (rows.loc["RF4", "att_type1"], rows.loc["RF4", "br_type3"]) == (21289, 6)
    # A type a provider does not list is zero, so all-types figures stay complete.
    assert (rows.loc["RAA", "att_type2"], rows.loc["RAA", "att_type3"]) == (0, 0)


def test_bbc_weekly_estimates_breaches(tmp_path: Path) -> None:
    text = (
        '"name","patients_seen_in_four_hours","attendances_at_ane",'
        '"emergency_admissions_via_type_1_ae","analysisdate"\n'
        '"Alpha Hospitals NHS Trust",92.4,1415,482,"2011.03.27"\n'
    )
    r = read_file(write(tmp_path, "performance_list.csv", text))
    a = r.returns.iloc[0]
    # 1415 x 7.6% = 107.54 -> 108 breaches
    assert (a.org_code, a.org_name, a.att_type1, a.br_type1, a.breaches_estimated) == (
        None,
        "Alpha Hospitals NHS Trust",
        1415,
        108,
        True,
    )
    assert a.period_end == dt.date(2011, 3, 27)


def test_bbc_sitrep_trolley_column_changes_meaning(tmp_path: Path) -> None:
    head = (
        "week_index,week_ending,code,name,attendances_at_ane,"
        "patients_waiting_over_4hrs_tobe_admitted,patients_seen_in_four_hours,"
        "emergency_admissions,trolley_wait_4_to_12hrs,ambulances_queuing,planned_operations,"
        "beds_blocked,beds_closed_dueto_norovirus\n"
    )
    body = (
        "1,2014-12-28,RAA,Alpha,742,119,84.0,163,59,24,3,140,42\n"
        "2,2015-01-04,RAA,Alpha,700,100,85.7,150,4,20,0,130,0\n"
    )
    r = read_file(write(tmp_path, "sitrep.csv", head + body)).returns.sort_values("period_end")
    assert r["dta_4_12h"].iloc[0] == 59 and pd.isna(r["dta_4_12h"].iloc[1])
    assert pd.isna(r["dta_over_12h"].iloc[0]) and r["dta_over_12h"].iloc[1] == 4


@pytest.mark.parametrize(
    ("text", "layout", "relations"),
    [
        (
            "Code,Name,ICB Code,ICB Name,Region Name\n"
            "RC9,Bedfordshire Hospitals,QHG,NHS BLMK ICB,East of England Commissioning Region\n",
            "org-icb-mapping",
            {("RC9", "system", "QHG"), ("RC9", "region", None)},
        ),
        (
            "area_team,org_code,org_name\nArden Area Team,RJC,South Warwickshire\n",
            "org-trust-area-team",
            {("RJC", "area_team", None)},
        ),
        (
            "map_code,map_name,map_trust_code\nRGT01,Addenbrooke's,RGT\n",
            "org-site-trust",
            {("RGT01", "trust", "RGT")},
        ),
    ],
)
def test_organisation_reference_files(
    tmp_path: Path, text: str, layout: str, relations: set
) -> None:
    r = read_file(write(tmp_path, "mapping-2025.csv", text))
    assert r.layout == layout
    got = {(x.child_code, x.relation, x.parent_code) for x in r.relations.itertuples()}
    assert got == relations
