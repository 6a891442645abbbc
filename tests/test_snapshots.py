"""The human-readable outputs, word for word: bulletins, summons lists and funding ledgers, in
each era, compared exactly with the text files in tests/snapshots/.

Every figure comes from SYNTHETIC return files that this module writes in the layout each era
was published in, then ingests through `fourhour ingest` like any user's files:

- 2014-15: the weekly situation reports, type 1 only (`bbc-weekly-sitrep`; breaches estimated
  from the percentage seen within four hours);
- 2016-19: NHS England's monthly provider sheets (`nhse-provider-sheet`);
- 2019-23: the MSitAE monthly CSVs (`nhse-monthly-csv`), with a trust in the field test of new
  standards (no breaches reported), which the percentages leave out;
- 2025-26: today's monthly provider sheets.

Never real data: the snapshots are committed. After a deliberate change to an output, run
`pytest tests/test_snapshots.py --snapshot-update` and review the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fourhour.cli import app
from tests.conftest import PROVIDER_HEADER, provider_row
from tests.test_monthly_returns import HEADER_2020

runner = CliRunner()
pytestmark = pytest.mark.slow  # four warehouses of synthetic files, ingested: make test runs it

# (code, name, system, region, attendances a week at type 1, four-hour performance %, trend
# in points a year). Invented: ZS codes mark synthetic providers.
TRUSTS = (
    ("ZSA01", "Ashford Vale Hospitals NHS Trust (synthetic)", "ZSYS1", "Y56", 2100, 93.0, -1.5),
    ("ZSB02", "Brookmere NHS Foundation Trust (synthetic)", "ZSYS1", "Y56", 1500, 86.0, -4.0),
    ("ZSC03", "Calderbridge Hospitals NHS Trust (synthetic)", "ZSYS2", "Y58", 2600, 96.5, 0.5),
    ("ZSD04", "Dunmoor University Hospitals NHS Trust (synthetic)", "ZSYS2", "Y58", 3000, 79.0, -3),
    ("ZSE05", "Eastwick Health NHS Trust (synthetic)", "ZSYS3", "Y58", 1200, 90.0, 1.0),
)
FIELD_TEST = "ZSE05"  # in the 2019-23 era, this trust reports no breaches (the field test)
SYSTEMS = {
    "ZSYS1": "Ashford and Brookmere Delivery Board (synthetic)",
    "ZSYS2": "Calderbridge and Dunmoor Delivery Board (synthetic)",
    "ZSYS3": "Eastwick Delivery Board (synthetic)",
}
REGIONS = {"Y56": "London", "Y58": "South West"}
MONTHS = [dt.date(2000, m, 1).strftime("%B") for m in range(1, 13)]


def _figures(seed: str, trust: tuple, day: dt.date, scale: float) -> dict[str, int]:
    """One period's counts for a trust: seasonal, trending, with seeded noise."""
    code, _name, _sys, _reg, weekly, pct, trend = trust
    rng = random.Random(f"{seed}/{code}/{day}")
    winter = 1.0 + 0.06 * (day.month in (12, 1, 2))
    years = (day - dt.date(2010, 1, 1)).days / 365.25
    att1 = round(weekly * scale * winter * (0.95 + 0.1 * rng.random()))
    perf = pct + trend * (years % 4) / 4 - 6 * (winter - 1) * 10 / 6 + 2 * (rng.random() - 0.5)
    perf = min(99.5, max(55.0, perf))
    att3 = round(att1 * 0.4 * (0.9 + 0.2 * rng.random()))
    return {
        "att1": att1,
        "br1": round(att1 * (100 - perf) / 100),
        "att3": att3,
        "br3": round(att3 * 0.01 * rng.random()),
        "adm1": round(att1 * 0.27),
        "dta4": round(att1 * (100 - perf) / 300),
        "dta12": int(rng.random() < 0.3) * round(3 * rng.random()),
        "pct_seen": round(perf, 1),
    }


def _weeks(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[dt.date]:
    out, (y, m) = [], first
    while (y, m) <= last:
        out.append(dt.date(y, m, 1))
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return out


def _weekly_sitrep(folder: Path) -> list[Path]:
    """Weeks of 2013-15 in the weekly situation report layout, type 1 only, one file."""
    lines = [
        "week_index,week_ending,code,name,attendances_at_ane,"
        "patients_waiting_over_4hrs_tobe_admitted,patients_seen_in_four_hours,"
        "emergency_admissions,trolley_wait_4_to_12hrs,ambulances_queuing,planned_operations,"
        "beds_blocked,beds_closed_dueto_norovirus"
    ]
    for i, day in enumerate(_weeks(dt.date(2013, 10, 6), dt.date(2015, 3, 29)), start=1):
        for trust in TRUSTS:
            f = _figures("week", trust, day, 1.0)
            # before 2015 the trolley column counts 4-12 hour waits, then 12-hour waits
            trolley = f["dta4"] if day < dt.date(2015, 1, 1) else f["dta12"]
            lines.append(
                f"{i},{day},{trust[0]},{trust[1]},{f['att1']},{f['dta4']},{f['pct_seen']},"
                f"{f['adm1']},{trolley},0,0,0,0"
            )
    path = folder / "SYNTHETIC-weekly-sitrep-2013-10-06-to-2015-03-29.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [path]


def _provider_sheets(folder: Path, first: tuple[int, int], last: tuple[int, int]) -> list[Path]:
    """NHS England's monthly provider sheets (CSV), one a month, named by the month."""
    files = []
    for month in _months(first, last):
        rows = [PROVIDER_HEADER]
        for trust in TRUSTS:
            f = _figures("sheet", trust, month, 4.3)
            rows.append(
                provider_row(
                    trust[0],
                    trust[1],
                    (f["att1"], 0, f["att3"]),
                    (f["br1"], 0, f["br3"]),
                    adm=(f["adm1"], 0, 0),
                    dta=(f["dta4"], f["dta12"]),
                    region=f"NHS England {REGIONS[trust[3]]}",
                )
            )
        path = folder / f"SYNTHETIC-{MONTHS[month.month - 1]}-{month.year}-AE.csv"
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        files.append(path)
    return files


def _msitae(folder: Path, first: tuple[int, int], last: tuple[int, int]) -> list[Path]:
    """The MSitAE monthly CSVs of 2019-23, with a field-test trust from May 2019."""
    files = []
    for month in _months(first, last):
        label = f"{MONTHS[month.month - 1].upper()}-{month.year}"
        lines, sums = [HEADER_2020], [0] * 18
        for trust in TRUSTS:
            f = _figures("msitae", trust, month, 4.3)
            br1, br3 = f["br1"], f["br3"]
            if trust[0] == FIELD_TEST and month >= dt.date(2019, 5, 1):
                br1 = br3 = 0
            values = [f["att1"], 0, f["att3"], 0, 0, 0, br1, 0, br3, 0, 0, 0]
            values += [f["dta4"], f["dta12"], f["adm1"], 0, 0, 50]
            sums = [a + b for a, b in zip(sums, values, strict=True)]
            region = f"NHS ENGLAND {REGIONS[trust[3]].upper()}"
            lines.append(f"MSitAE-{label},{trust[0]},{region},{trust[1].upper()},"
                         + ",".join(map(str, values)))  # fmt: skip
        lines.append(",,,TOTAL," + ",".join(map(str, sums)))
        path = folder / f"SYNTHETIC-MSitAE-{label}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    return files


def _oversight_files(folder: Path, fy: int, system_kind: str) -> dict[str, Path]:
    """The dated mapping, leaders, trajectories, allocations and funding rules for year `fy`."""
    label = f"{fy}-{(fy + 1) % 100:02d}"
    mapping = [
        "provider_code,provider_name,system_code,system_name,system_kind,region_code,"
        "region_name,valid_from,valid_to,merged_into"
    ]
    leaders = ["role,org_code,name,valid_from,valid_to",
               "national_leader,ENGLAND,Morgan Ellis (synthetic),2010-01-01,"]  # fmt: skip
    trajectories, allocations = ["trust_code,month,trajectory_pct"], []
    allocations.append("trust_code,financial_year,allocation_gbp")
    for i, (code, name, system, region, weekly, pct, _trend) in enumerate(TRUSTS):
        mapping.append(f"{code},{name},{system},{SYSTEMS[system]},{system_kind},{region},"
                       f"{REGIONS[region]},2010-01-01,,")  # fmt: skip
        leaders.append(f"trust_chief_executive,{code},Chief Executive {i + 1} (synthetic),"
                       "2010-01-01,")  # fmt: skip
        for m in range(12):
            year, month = (fy, 4 + m) if m < 9 else (fy + 1, m - 8)
            trajectories.append(f"{code},{year}-{month:02d},{min(95.0, pct + 1.5):.1f}")
        allocations.append(f"{code},{label},{weekly * 52 * 12}")
    for system in SYSTEMS:
        leaders.append(f"system_chair,{system},Chair of {system} (synthetic),2010-01-01,")
    rules = (
        f'[years."{label}"]\nfund = "Illustrative A&E incentive fund (synthetic)"\n'
        "financial_control_share = 0.70\nperformance_share = 0.30\nae_share = 0.30\n"
        "other_shares = {}\nstandard_pct = 95.0\ntrajectory_tolerance_points = 0.0\n"
        "q1_paid_for_agreeing_trajectory = false\n"
    )
    files = {
        "orgs": ("SYNTHETIC-Mapping.csv", mapping),
        "leaders": ("SYNTHETIC-Leaders.csv", leaders),
        "trajectories": ("SYNTHETIC-Trajectories.csv", trajectories),
        "allocations": ("SYNTHETIC-Allocations.csv", allocations),
    }
    out = {}
    for kind, (name, lines) in files.items():
        out[kind] = folder / name
        out[kind].write_text("\n".join(lines) + "\n", encoding="utf-8")
    out["rules"] = folder / "SYNTHETIC-Funding-Rules.toml"
    out["rules"].write_text(rules, encoding="utf-8")
    return out


# era: (its returns, written in the era's layout; the --week-ending or --month shown; the funding
# quarter; the kind of local system). Monthly eras hold the 15 months a 3-month window ending in
# December needs with the same months a year earlier and the month before (the trend).
ERAS = {
    "2014-15-weekly": (_weekly_sitrep, ["--week-ending", "2015-01-04"], "2014-15Q3", "area_team"),
    "2016-19-monthly": (
        lambda d: _provider_sheets(d, (2016, 9), (2017, 12)),
        ["--month", "2017-12"],
        "2017-18Q3",
        "stp",
    ),
    "2019-23-field-test": (
        lambda d: _msitae(d, (2019, 9), (2020, 12)),
        ["--month", "2020-12"],
        "2020-21Q3",
        "stp",
    ),
    "2025-26-monthly": (
        lambda d: _provider_sheets(d, (2024, 10), (2026, 1)),
        ["--month", "2026-01"],
        "2025-26Q3",
        "icb",
    ),
}
SHIPPED_RULES = {"2016-19-monthly"}  # the real 2017/18 STF rules; other years get synthetic rules


def fourhour(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, f"fourhour {' '.join(args)}: {result.output}"
    return result.output


@pytest.fixture(scope="module", params=list(ERAS))
def world(request, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, dict[str, Path]]:
    """One era's synthetic files, ingested into a warehouse of its own."""
    era = request.param
    write_returns, _period, quarter, kind = ERAS[era]
    folder = tmp_path_factory.mktemp(era)
    w = str(folder / "fourhour.duckdb")
    files = _oversight_files(folder, int(quarter[:4]), kind)
    fourhour("ingest", *map(str, write_returns(folder)), "-w", w)
    for kind in ("orgs", "leaders", "trajectories", "allocations"):
        fourhour(kind, "import", str(files[kind]), "-w", w)
    return era, folder, files


def _written(folder: Path, name: str, *args: str) -> str:
    out = folder / name
    fourhour(*args, "-w", str(folder / "fourhour.duckdb"), "--out", str(out))
    return out.read_text("utf-8")


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_bulletin(world, fmt: str, snapshot) -> None:
    era, folder, _files = world
    text = _written(folder, f"bulletin.{fmt}", "bulletin", *ERAS[era][1], "--format", fmt)
    assert "SYNTHETIC" in text.upper()
    snapshot(f"bulletin-{era}.{'md' if fmt == 'markdown' else 'txt'}", text)


def test_summons_list(world, snapshot) -> None:
    era, folder, _files = world
    text = _written(folder, "summons.txt", "escalate", *ERAS[era][1], "--no-record")
    assert "SYNTHETIC" in text.upper()
    snapshot(f"summons-{era}.txt", text)


def test_funding_ledger(world, snapshot) -> None:
    era, folder, files = world
    rules = [] if era in SHIPPED_RULES else ["--rules", str(files["rules"])]
    text = _written(folder, "funding.txt", "funding", "--quarter", ERAS[era][2], *rules)
    assert "SYNTHETIC" in text.upper()
    snapshot(f"funding-{era}.txt", text)
