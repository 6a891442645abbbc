"""Organisation mappings, leaders, trajectories and allocations: validation with clear errors,
all or nothing, idempotent; and roll-ups that follow the mapping in force at the time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fourhour.cli import app
from fourhour.errors import ReaderError
from fourhour.ingest.tables import percentage
from fourhour.measures import measure_table
from fourhour.oversight.leaders import import_leaders
from fourhour.oversight.trajectories import import_allocations, import_trajectories
from fourhour.periods import week_ending
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.hierarchy import import_mapping, provider_parents
from tests.oversight_world import MAPPING_HEADER, mapping_row, put_return, write

runner = CliRunner()
TABLES = ("org_hierarchy", "org_successions", "leaders", "trajectories", "fund_allocations")


@pytest.fixture
def wh_path(tmp_path: Path) -> Path:
    path = tmp_path / "o.duckdb"
    with open_warehouse(path) as wh:
        for code in ("RAA", "RBB", "RCC"):
            put_return(wh, code, dt.date(2016, 7, 31), 1000, 100, granularity="month")
        import_mapping(
            wh,
            write(
                tmp_path,
                "base.csv",
                MAPPING_HEADER + mapping_row("RAA", "SA") + mapping_row("RBB", "SA"),
            ),
        )
    return path


def counts(path: Path) -> dict[str, int]:
    with open_warehouse(path, read_only=True) as wh:
        return {t: wh.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


TRAJ = "trust_code,month,trajectory_pct\n"
BAD_TRAJECTORIES = [
    (TRAJ + "RAA,2016-07,90\nRZZ,2016-07,90\n", "row 3, column 'trust_code'", "RZZ is not a trust"),
    (TRAJ + "RAA,2016-07,90\nRAA,2016-07,91\n", "row 3", "appears more than once (rows 2, 3)"),
    (TRAJ + "RAA,2016-07,101\n", "row 2, column 'trajectory_pct'", "a percentage from 0 to 100"),
    (TRAJ + "RAA,2016-07,-1\n", "column 'trajectory_pct'", "cannot read the trajectory_pct"),
    (TRAJ + "RAA,July 2016,90\n", "column 'month'", "a month as YYYY-MM"),
    (TRAJ + "RAA,2016-07,\n", "column 'trajectory_pct'", "the cell is empty"),
    ("trust_code,trajectory_pct\nRAA,90\n", "row 1", "lacks the column(s) month"),
    (TRAJ, "", "header but no rows"),
]


@pytest.mark.parametrize(("text", "where", "what"), BAD_TRAJECTORIES)
def test_bad_trajectories_change_nothing(
    wh_path: Path, tmp_path: Path, text: str, where: str, what: str
) -> None:
    good = write(tmp_path, "good.csv", TRAJ + "RBB,2016-07,92\n")
    with open_warehouse(wh_path) as wh:
        import_trajectories(wh, good)
    before = counts(wh_path)
    bad = write(tmp_path, "bad.csv", text)
    with open_warehouse(wh_path) as wh, pytest.raises(ReaderError) as err:
        import_trajectories(wh, bad)
    message = str(err.value)
    assert str(bad) in message and where in message and what in message
    assert counts(wh_path) == before


def test_trajectory_revision_needs_replace(wh_path: Path, tmp_path: Path) -> None:
    first = write(tmp_path, "t1.csv", TRAJ + "RAA,2016-07,90\nRAA,2016-08,91\n")
    second = write(tmp_path, "t2.csv", TRAJ + "RAA,2016-07,92.5\n")
    with open_warehouse(wh_path) as wh:
        assert import_trajectories(wh, first).status == "imported"
        assert import_trajectories(wh, first).status == "unchanged"
        with pytest.raises(ReaderError, match=r"t2.csv, row 2: org_code RAA, month 2016-07-01 is"):
            import_trajectories(wh, second)
        outcome = import_trajectories(wh, second, replace=True)
        assert (outcome.status, outcome.replaced) == ("revised", 1)
        got = wh.con.execute("SELECT trajectory_pct FROM trajectories ORDER BY month").fetchall()
        assert got == [(92.5,), (91.0,)]
        logged = wh.con.execute(
            "SELECT layout, rows_replaced FROM ingest_log WHERE file = ?", [str(second)]
        ).fetchall()
        assert logged == [("trajectories", 1)]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            mapping_row("RCC", "SB", end="2020-03-31")
            + mapping_row("RCC", "SC", start="2020-03-01"),
            "validity dates overlap for provider_code RCC: 2016-04-01 to 2020-03-31 and "
            "2020-03-01 to open-ended",
        ),
        (
            mapping_row("RAA", "SB", start="2019-04-01"),
            "validity dates overlap for provider_code RAA",
        ),
        (mapping_row("RCC", "SB", start="2020-01-01", end="2019-01-01"), "is before valid_from"),
        (mapping_row("RCC", "SB", merged_into="RAA"), "merged into RAA but has no valid_to"),
        (mapping_row("RCC", "SB").replace(",aedb,", ",board,"), "one of srg, aedb, stp, icb"),
        (mapping_row("RCC", "SB").replace("2016-04-01", "01/13/2016"), "a date as YYYY-MM-DD"),
        (mapping_row("RCC", "SB") + mapping_row("RCC", "SB"), "appears more than once"),
        (
            mapping_row("RAA", "SA", end="2016-03-31", start="2015-04-01", merged_into="RCC")
            + mapping_row("RCC", "SA", end="2016-03-31", start="2015-04-01", merged_into="RAA"),
            "the mergers form a loop: RCC -> RAA -> RCC",
        ),
    ],
)
def test_bad_mapping_changes_nothing(
    wh_path: Path, tmp_path: Path, rows: str, message: str
) -> None:
    before = counts(wh_path)
    bad = write(tmp_path, "bad-map.csv", MAPPING_HEADER + rows)
    with open_warehouse(wh_path) as wh, pytest.raises(ReaderError, match=r"bad-map\.csv") as err:
        import_mapping(wh, bad)
    assert message in str(err.value)
    assert counts(wh_path) == before


def test_mapping_in_force_at_the_time(wh_path: Path, tmp_path: Path) -> None:
    """Systems change: an A&E delivery board, then an integrated care board."""
    mapping = (
        MAPPING_HEADER
        + mapping_row("RCC", "SOLD", end="2022-06-30")
        + ("RCC,C Hospital NHS Trust,QNEW,New ICB,icb,Y58,South West,2022-07-01,,\n")
    )
    with open_warehouse(wh_path) as wh:
        assert import_mapping(wh, write(tmp_path, "m.csv", mapping)).status == "imported"
        assert import_mapping(wh, write(tmp_path, "m.csv", mapping)).status == "unchanged"
        put_return(wh, "RCC", dt.date(2023, 1, 1), 500, 100)
        put_return(wh, "RCC", dt.date(2021, 1, 3), 400, 20)
        new = measure_table(wh, week_ending(dt.date(2023, 1, 1)), "system")
        old = measure_table(wh, week_ending(dt.date(2021, 1, 3)), "system")
        region = measure_table(wh, week_ending(dt.date(2023, 1, 1)), "region")
        parents = provider_parents(wh, ["RCC", "RXX"], dt.date(2021, 1, 3)).set_index("code")
    assert list(new["code"]) == ["QNEW"] and list(old["code"]) == ["SOLD"]
    assert list(region["code"]) == ["Y58"] and int(region["all_types_attendances"][0]) == 500
    assert parents.at["RXX", "system_code"] == "UNMAPPED"
    assert parents.at["RCC", "system_kind"] == "aedb"


def test_unmapped_provider_is_an_explicit_system(wh_path: Path) -> None:
    with open_warehouse(wh_path) as wh:
        put_return(wh, "RZZ", dt.date(2023, 1, 1), 300, 30)
        table = measure_table(wh, week_ending(dt.date(2023, 1, 1)), "system")
    row = table[table["code"] == "UNMAPPED"].iloc[0]
    assert row["name"] == "Not mapped to a system"
    assert list(row["unmapped_providers"]) == ["RZZ"]
    assert int(row["all_types_attendances"]) == 300


def test_merged_trust_rolls_up_with_its_successor_mapping(wh_path: Path, tmp_path: Path) -> None:
    mapping = MAPPING_HEADER + mapping_row("RCC", "SB", end="2019-03-31", merged_into="RAA")
    with open_warehouse(wh_path) as wh:
        import_mapping(wh, write(tmp_path, "m.csv", mapping))
        # A late return under the old code, after the merger: counts in RAA's system.
        put_return(wh, "RCC", dt.date(2019, 6, 2), 200, 10)
        parents = provider_parents(wh, ["RCC"], dt.date(2019, 6, 2)).set_index("code")
        earlier = provider_parents(wh, ["RCC"], dt.date(2018, 6, 3)).set_index("code")
    assert parents.at["RCC", "system_code"] == "SA"
    assert earlier.at["RCC", "system_code"] == "SB"


LEADERS = "role,org_code,name,valid_from,valid_to\n"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("trust_chief_executive,RZZ,A B,2016-01-01,\n", "RZZ is not a known provider"),
        ("system_chair,NOPE,A B,2016-01-01,\n", "NOPE is not a known system"),
        ("national_leader,LONDON,A B,2016-01-01,\n", "expected ENGLAND"),
        ("chair,SA,A B,2016-01-01,\n", "one of national_leader"),
        (
            "system_chair,SA,A B,2016-01-01,2017-12-31\nsystem_chair,SA,C D,2017-06-01,\n",
            "validity dates overlap for role system_chair, org_code SA",
        ),
    ],
)
def test_bad_leaders_change_nothing(wh_path: Path, tmp_path: Path, rows: str, message: str) -> None:
    before = counts(wh_path)
    with open_warehouse(wh_path) as wh, pytest.raises(ReaderError) as err:
        import_leaders(wh, write(tmp_path, "leaders.csv", LEADERS + rows))
    assert message in str(err.value) and "leaders.csv, row" in str(err.value)
    assert counts(wh_path) == before


def test_allocations_validated(wh_path: Path, tmp_path: Path) -> None:
    head = "trust_code,financial_year,allocation_gbp\n"
    with open_warehouse(wh_path) as wh:
        with pytest.raises(ReaderError, match="a financial year such as 2016-17"):
            import_allocations(wh, write(tmp_path, "a.csv", head + "RAA,2016-18,100\n"))
        with pytest.raises(ReaderError, match="not negative"):
            import_allocations(wh, write(tmp_path, "a.csv", head + "RAA,2016-17,-5\n"))
        ok = import_allocations(wh, write(tmp_path, "a.csv", head + 'RAA,2016/17,"£1,250,000"\n'))
        assert ok.inserted == 1
        stored = wh.con.execute("SELECT financial_year, allocation_gbp FROM fund_allocations")
        assert stored.fetchall() == [("2016-17", 1_250_000.0)]


@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
@settings(max_examples=200)
def test_percentage_parser_accepts_exactly_0_to_100(value: float) -> None:
    text = repr(value)
    if 0 <= float(text) <= 100:
        assert percentage(text) == float(text)
        assert percentage(text + "%") == float(text)
    else:
        with pytest.raises(ValueError):
            percentage(text)


def test_cli_imports(wh_path: Path, tmp_path: Path) -> None:
    w = ["-w", str(wh_path)]
    m = write(tmp_path, "map2.csv", MAPPING_HEADER + mapping_row("RCC", "SB"))
    result = runner.invoke(app, ["orgs", "import", str(m), *w])
    assert result.exit_code == 0 and "imported organisation mapping" in result.output
    again = runner.invoke(app, ["orgs", "import", str(m), *w])
    assert "unchanged" in again.output
    t = write(tmp_path, "t.csv", TRAJ + "RCC,2016-07,90\n")
    assert runner.invoke(app, ["trajectories", "import", str(t), *w]).exit_code == 0
    listed = runner.invoke(app, ["trajectories", "list", *w])
    assert "RCC" in listed.output and "90.0%" in listed.output
    bad = write(tmp_path, "t-bad.csv", TRAJ + "RCC,2016-07,190\n")
    failed = runner.invoke(app, ["trajectories", "import", str(bad), *w])
    assert failed.exit_code != 0 and isinstance(failed.exception, ReaderError)
    ld = write(tmp_path, "l.csv", LEADERS + "system_chair,SB,Hal Chair,2016-01-01,\n")
    assert runner.invoke(app, ["leaders", "import", str(ld), *w]).exit_code == 0
    shown = runner.invoke(app, ["leaders", "list", "--on", "2020-01-01", *w])
    assert "Hal Chair" in shown.output and "system board chair" in shown.output


def test_measures_csv_lists_unmapped_providers(wh_path: Path, tmp_path: Path) -> None:
    with open_warehouse(wh_path) as wh:
        put_return(wh, "RZZ", dt.date(2023, 1, 1), 300, 30)
        put_return(wh, "RYY", dt.date(2023, 1, 1), 200, 30)
    out = tmp_path / "systems.csv"
    args = ["measures", "--level", "system", "--week-ending", "2023-01-01", "--csv", str(out)]
    assert runner.invoke(app, [*args, "-w", str(wh_path)]).exit_code == 0
    text = out.read_text()
    assert "UNMAPPED,Not mapped to a system" in text and ",RYY;RZZ," in text
