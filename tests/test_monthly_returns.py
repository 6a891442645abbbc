"""NHS England's monthly provider files in every wording they were published in (MSitAE CSVs
2019-2025, the .xls workbooks), and the field-test rule of the four-hour measures."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pytest
import xlwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourhour import periods
from fourhour.cli import main
from fourhour.errors import IngestError, InvalidInputError, ReaderError
from fourhour.ingest.read import read_file
from fourhour.measures import england, measure_table, worst_providers
from fourhour.report.bulletin import build_bulletin
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file
from tests.conftest import PROVIDER_HEADER, provider_row, write

# ----------------------------------------------------------------------- the MSitAE CSVs

HEADER_2019 = (
    "Period,Org Code,Parent Org,Org name,Number of A&E attendances Type 1,"
    "Number of A&E attendances Type 2,Number of A&E attendances Other A&E Department,"
    "Number of attendances over 4hrs Type 1,Number of attendances over 4hrs Type 2,"
    "Number of attendances over 4hrs Other A&E Department,"
    "Patients who have waited 4-12 hs from DTA to admission,"
    "Patients who have waited 12+ hrs from DTA to admission,"
    "Emergency admissions via A&E - Type 1,Emergency admissions via A&E - Type 2,"
    "Emergency admissions via A&E - Other A&E department,Other emergency admissions"
)
HEADER_2020 = (
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

# (code, parent, name, att 1/2/3, over 1/2/3, 4-12h, 12h+, adm 1/2/3, other)
ROWS_2019 = [
    ("RAA", "NHS ENGLAND MIDLANDS (CENTRAL MIDLANDS)", "ALPHA HOSPITALS NHS TRUST",
     (4000, 0, 2000), (900, 0, 20), 70, 2, (1300, 0, 5), 300),
    ("RBB", '"NHS ENGLAND SOUTH EAST (KENT, SURREY AND SUSSEX)"', "BETA NHS TRUST",
     (3000, 200, 0), (600, 4, 0), 40, 0, (900, 1, 0), 200),
]  # fmt: skip


def msitae_2019(month_name: str = "APRIL-2019", total: str = ",,,TOTAL") -> str:
    lines = [HEADER_2019]
    sums = [0] * 12
    for code, parent, name, att, over, d412, d12, adm, other in ROWS_2019:
        values = [*att, *over, d412, d12, *adm, other]
        sums = [a + b for a, b in zip(sums, values, strict=True)]
        lines.append(f"MSitAE-{month_name},{code},{parent},{name}," + ",".join(map(str, values)))
    lines.append(total + "," + ",".join(map(str, sums)))
    return "\n".join(lines) + "\n"


def test_2019_wording_and_total_row(tmp_path: Path) -> None:
    r = read_file(write(tmp_path, "Monthly-AE-April-2019-revised-220720-ab123.csv", msitae_2019()))
    assert r.layout == "nhse-monthly-csv"
    rows = r.returns.set_index("org_code")
    assert list(rows.index) == ["RAA", "RBB"]  # the TOTAL row is not a provider
    a = rows.loc["RAA"]
    assert (a.period_start, a.period_end) == (dt.date(2019, 4, 1), dt.date(2019, 4, 30))
    assert (a.att_type1, a.att_type3, a.br_type1, a.br_type3) == (4000, 2000, 900, 20)
    assert (a.dta_4_12h, a.dta_over_12h, a.adm_type3, a.adm_other) == (70, 2, 5, 300)
    assert pd.isna(a.booked_type1)  # no booked columns before August 2020
    # The total row checks the provider sums and is not stored as a national total.
    assert len(r.totals) == 0 and len(r.check_totals) == 1
    assert r.check_totals.iloc[0]["att_type1"] == 7000
    # Parent Org is the region: the sub-region in brackets and the case are folded away.
    regions = dict(zip(r.relations["child_code"], r.relations["parent_name"], strict=True))
    assert regions == {"RAA": "Midlands", "RBB": "South East"}
    assert set(r.relations["relation"]) == {"region"}


TOTAL_SPELLINGS = st.sampled_from(["TOTAL", "Total", "total", "Total ", " TOTAL  ", "England"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spelling=TOTAL_SPELLINGS, where=st.sampled_from(["all", "name", "period", "code"]))
def test_any_total_spelling_in_any_column_is_the_total_row(
    tmp_path: Path, spelling: str, where: str
) -> None:
    cells = {
        "all": [spelling] * 4,
        "name": ["", "", "", spelling],
        "period": [spelling, "", "", ""],
        "code": ["", spelling, "", ""],
    }[where]
    text = msitae_2019(total=",".join(cells))
    r = read_file(write(tmp_path, "Monthly-AE-May-2019.csv", text.replace("APRIL", "MAY")))
    assert sorted(r.returns["org_code"]) == ["RAA", "RBB"]
    assert len(r.check_totals) == 1


def msitae_2020(rows: list[tuple], month_name: str, extra: int = 0, last: str = "") -> str:
    """A 22-column file (booked appointments from August 2020), with `extra` trailing columns."""
    header = HEADER_2020 + "," * extra + (last if extra else "")
    lines = [header]
    sums = [0] * 18
    for code, name, att, booked, over, booked_over in rows:
        values = [*att, *booked, *over, *booked_over, 10, 1, 100, 0, 0, 50]
        sums = [a + b for a, b in zip(sums, values, strict=True)]
        lines.append(
            f"MSitAE-{month_name},{code},NHS ENGLAND LONDON ,{name},"
            + ",".join(map(str, values))
            + "," * extra
        )
    lines.append("Total ,Total ,Total ,Total ," + ",".join(map(str, sums)) + "," * extra)
    return "\n".join(lines) + "\n"


def test_booked_appointments_are_added_and_trailing_junk_ignored(tmp_path: Path) -> None:
    rows = [
        ("RAA", "ALPHA", (1000, 0, 500), (20, 0, 30), (300, 0, 5), (2, 0, 1)),
        ("RBB", "BETA", (800, 50, 0), (0, 0, 0), (100, 1, 0), (0, 0, 0)),
    ]
    text = msitae_2020(rows, "SEPTEMBER-2024", extra=6, last="a")
    r = read_file(write(tmp_path, "Monthly-AE-September-2024.csv", text))
    a = r.returns.set_index("org_code").loc["RAA"]
    assert (a.att_type1, a.att_type3, a.br_type1, a.br_type3) == (1020, 530, 302, 6)
    assert (a.booked_type1, a.booked_type3) == (20, 30)
    assert r.check_totals.iloc[0]["att_type1"] == 1820  # unbooked + booked, as published
    assert r.relations["parent_name"].tolist() == ["London", "London"]


def test_a_total_row_that_disagrees_with_the_providers_is_refused(tmp_path: Path) -> None:
    text = msitae_2019().replace(",,,TOTAL,7000,", ",,,TOTAL,7001,")
    path = write(tmp_path, "Monthly-AE-April-2019.csv", text)
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        with pytest.raises(IngestError, match="does not equal the sum of the provider rows"):
            ingest_file(wh, path)
        assert wh.con.execute("SELECT count(*) FROM provider_returns").fetchone()[0] == 0


def test_a_provider_row_without_a_code_is_refused(tmp_path: Path) -> None:
    text = msitae_2019().replace("MSitAE-APRIL-2019,RBB,", "MSitAE-APRIL-2019,,")
    with pytest.raises(ReaderError, match="no organisation code") as err:
        read_file(write(tmp_path, "Monthly-AE-April-2019.csv", text))
    assert err.value.location.row == 3


def test_monthly_csv_ingests_once_and_never_touches_published_totals(tmp_path: Path) -> None:
    path = write(tmp_path, "Monthly-AE-April-2019.csv", msitae_2019())
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        first, again = ingest_file(wh, path), ingest_file(wh, path)
        assert (first.status, first.inserted) == ("ingested", 2)
        assert (again.status, again.inserted, again.replaced) == ("unchanged", 0, 0)
        assert wh.con.execute("SELECT count(*) FROM published_totals").fetchone()[0] == 0


# ------------------------------------------------------------- NHS England's .xls workbooks


def provider_workbook(path: Path, values: dict[str, tuple[int, int, int, int]]) -> Path:
    """A workbook shaped like NHS England's: a preamble, headers on Excel row 16, England on
    row 17, providers from row 19, fractions for percentages, and other sheets in the same
    layout (Non-Booked Data) or with a Code and Name but no types (System Mapping) first."""
    book = xlwt.Workbook()
    mapping = book.add_sheet("System Mapping")
    icb = "NHS North East London Integrated Care Board"
    rows = [
        ["Org code", "Region ", "Name", "STP", None, None, "STP", "Code"],
        ["RAA", "London Commissioning Region", "A", icb, None, None, "Cheshire STP", "QYG",
         "NHS CHESHIRE AND MERSEYSIDE INTEGRATED CARE BOARD"],
        ["RBB", "London Commissioning Region", "B", icb, None, None, "East London STP", "QMF",
         icb.upper(), icb],
        ["RBB", "London Commissioning Region", "B", icb],  # listed twice, as NNFA7 is
        ["Y01", "London Commissioning Region", "Not in the returns", icb],
    ]  # fmt: skip
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is not None:
                mapping.write(2 + r, c, v)
    for sheet_name, scale in (("Non-Booked Data", 2), ("Provider Level Data", 1)):
        ws = book.add_sheet(sheet_name)
        ws.write(1, 0, "Title:")
        ws.write(1, 1, "A&E Attendances & Emergency Admission monthly statistics")
        ws.write(5, 0, "Period:")
        ws.write(5, 1, "November 2023")
        for c, h in enumerate(PROVIDER_HEADER.split(",")):
            ws.write(15, c, h)
        rows = [("-", "-", "England", [sum(v[i] for v in values.values()) for i in range(4)])]
        rows += [
            (code, "NHS England London ", f"{code} Trust", list(v)) for code, v in values.items()
        ]
        for r, (code, region, name, (a1, a3, o1, o3)) in enumerate(rows):
            row = 16 if r == 0 else 17 + r
            a1, a3, o1, o3 = (x * scale for x in (a1, a3, o1, o3))
            many = len(values) if r == 0 else 1  # England sums the providers
            cells = [code, region, name, a1, 0, a3, a1 + a3, a1 - o1, 0, a3 - o3,
                     a1 + a3 - o1 - o3, o1, 0, o3, o1 + o3,
                     (a1 + a3 - o1 - o3) / (a1 + a3), (a1 - o1) / a1, "-", (a3 - o3) / a3,
                     *(k * many for k in (10, 0, 0, 10, 5, 15, 3, 1))]  # fmt: skip
            for c, v in enumerate(cells):
                ws.write(row, c, float(v) if isinstance(v, int) else v)
            ws.write(row, len(cells), "NHS North East London Integrated Care Board")
    book.save(str(path))
    return path


def test_xls_workbook_reads_the_provider_level_sheet(tmp_path: Path) -> None:
    path = provider_workbook(
        tmp_path / "November-2023-AE-by-provider-gPRdZ.xls",
        {"RAA": (1000, 400, 300, 4), "RBB": (500, 100, 100, 0)},
    )
    r = read_file(path)
    assert r.layout == "nhse-provider-sheet"
    rows = r.returns.set_index("org_code")
    assert (rows.loc["RAA", "period_start"], rows.loc["RAA", "period_end"]) == (
        dt.date(2023, 11, 1),
        dt.date(2023, 11, 30),
    )
    assert (rows.loc["RAA", "att_type1"], rows.loc["RAA", "br_type1"]) == (1000, 300)
    assert rows.loc["RBB", "att_type3"] == 100  # not Non-Booked Data's doubled figures
    assert r.totals.iloc[0]["area"] == "ENGLAND" and r.totals.iloc[0]["att_type1"] == 1500
    # The System Mapping sheet: each provider's ICB for the month, its code from the lookup.
    systems = r.relations[r.relations["relation"] == "system"]
    assert systems[["child_code", "parent_code"]].values.tolist() == [
        ["RAA", "QMF"],
        ["RBB", "QMF"],
    ]
    assert set(systems["parent_name"]) == {"NHS North East London Integrated Care Board"}
    with open_warehouse(tmp_path / "w.duckdb") as wh:  # the England row checks the sums
        assert ingest_file(wh, path).inserted == 3
        assert ingest_file(wh, path).status == "unchanged"
        system = measure_table(wh, periods.month(2023, 11), "system")
    assert system["code"].tolist() == ["QMF"] and system["all_types_attendances"].iloc[0] == 2000


# ------------------------------------------------------------------ the field-test rule


def field_test_month(tmp_path: Path, month_name: str) -> Path:
    rows = [
        ("RAA", "ALPHA", (1000, 0, 0), (0, 0, 0), (100, 0, 0), (0, 0, 0)),
        ("RFT", "FIELD TEST", (500, 0, 100), (0, 0, 0), (0, 0, 0), (0, 0, 0)),
        ("RUC", "URGENT CARE", (0, 0, 300), (0, 0, 0), (0, 0, 0), (0, 0, 0)),
    ]
    path = tmp_path / month_name
    path.mkdir()
    return write(path, "monthly.csv", msitae_2020(rows, month_name))


def test_field_test_trusts_are_left_out_of_percentages_not_activity(tmp_path: Path) -> None:
    june_2020 = field_test_month(tmp_path, "JUNE-2020")
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        ingest_file(wh, june_2020)
        month = periods.month(2020, 6)
        e = england(wh, month).iloc[0]
        providers = measure_table(wh, month, "provider").set_index("code")
        region = measure_table(wh, month, "region").iloc[0]
        worst, _ = worst_providers(wh, month, 5)
    # Activity counts every provider; the four-hour base leaves RFT out.
    assert (e.all_types_attendances, e.type1_attendances) == (1900, 1500)
    assert (e.all_types_performance_attendances, e.all_types_within_4h) == (1300, 1200)
    assert e.all_types_performance_pct == pytest.approx(100 * 1200 / 1300)
    assert e.type1_performance_pct == pytest.approx(90.0)
    assert (e.providers, e.providers_left_out) == (3, 1)
    assert region.all_types_performance_pct == pytest.approx(100 * 1200 / 1300)
    assert region.providers_left_out == 1
    # The trust's own four-hour figure is not published: empty, never 100%.
    assert pd.isna(providers.loc["RFT", "all_types_performance_pct"])
    assert providers.loc["RFT", "all_types_attendances"] == 600
    assert providers.loc["RUC", "all_types_performance_pct"] == 100.0  # no type 1: kept
    assert "RFT" not in set(worst["code"])


def test_outside_the_field_test_a_trust_without_breaches_counts(tmp_path: Path) -> None:
    june_2024 = field_test_month(tmp_path, "JUNE-2024")
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        ingest_file(wh, june_2024)
        e = england(wh, periods.month(2024, 6)).iloc[0]
    assert e.all_types_performance_pct == pytest.approx(100 * 1800 / 1900)
    assert e.providers_left_out == 0


def test_bulletin_says_how_many_providers_were_left_out(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        ingest_file(wh, field_test_month(tmp_path, "JUNE-2020"))
        b = build_bulletin(wh, periods.month(2020, 6))
    assert b["meta"]["providers_left_out"] == 1
    assert b["meta"]["breaches_estimated"] is False


# ------------------------------------------------------------------- --worst must be >= 1


@pytest.mark.parametrize("worst", ["-3", "0"])
def test_worst_below_one_is_refused_in_one_line(
    tmp_path: Path,
    provider_csv: Path,
    worst: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    w = tmp_path / "w.duckdb"
    with open_warehouse(w) as wh:
        ingest_file(wh, provider_csv)
    monkeypatch.setattr(
        sys, "argv", ["fourhour", "bulletin", "--month", "2025-01", "--worst", worst, "-w", str(w)]
    )
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == InvalidInputError.exit_code
    assert f"--worst {worst}" in err and "1 or more" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    with open_warehouse(w, read_only=True) as wh, pytest.raises(InvalidInputError):
        worst_providers(wh, periods.month(2025, 1), int(worst))


def test_measures_command_says_how_many_providers_were_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    w = tmp_path / "w.duckdb"
    with open_warehouse(w) as wh:
        ingest_file(wh, field_test_month(tmp_path, "JUNE-2020"))
    for level in ("provider", "region", "national"):
        monkeypatch.setattr(
            sys,
            "argv",
            ["fourhour", "measures", "--level", level, "--month", "2020-06", "-w", str(w)],
        )
        with pytest.raises(SystemExit) as exit_:
            main()
        out = " ".join(capsys.readouterr().out.split())
        assert exit_.value.code in (0, None)
        assert "1 provider field-testing new standards left out" in out, level


def test_a_name_seen_again_later_is_not_taken_back_by_an_older_file(tmp_path: Path) -> None:
    """Names follow the latest period whatever the ingest order; re-ingesting changes nothing."""

    def month_file(name: str, trust: str) -> Path:
        row = provider_row("RAA", trust, (100, 0, 0), (10, 0, 0))
        return write(tmp_path, f"{name}-2025-AE.csv", f"{PROVIDER_HEADER}\n{row}\n")

    files = [
        month_file("January", "Alpha Trust"),
        month_file("June", "Alpha Trust"),
        month_file("March", "ALPHA TRUST"),
    ]
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        for f in files:
            ingest_file(wh, f)
        assert [ingest_file(wh, f).status for f in files] == ["unchanged"] * 3
        name = wh.con.execute("SELECT name FROM organisations WHERE code = 'RAA'").fetchone()[0]
    assert name == "Alpha Trust"
