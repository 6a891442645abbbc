"""The acceptance suite: the definition of "works". One warehouse of every file in ../shared/data
(built once per session), then every command a user runs, in each era, in every output format,
through the real entry point: exit 0, no traceback, and figures checked against hand
computations from the files where a command prints one.

Eras: a week of 2014-15 (weekly type 1 returns, NHS England area teams), a month of 2016-19
(NHS-R monthly returns, STPs), a month of the field test (2020, MSitAE files) and a month of
2025-26 (today's provider files, integrated care boards).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fourhour.warehouse import open_warehouse
from tests.conftest import return_files

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

ERAS = {
    "2014-15 week": ["--week-ending", "2014-12-14"],
    "2016-19 month": ["--month", "2018-12"],
    "field-test month": ["--month", "2020-06"],
    "2025-26 month": ["--month", "2026-01"],
}


@pytest.fixture(scope="module")
def everything(real_warehouse_all: Path, tmp_path_factory) -> Path:
    """A copy of the session's warehouse of all of ../shared/data (commands here write to it)."""
    path = tmp_path_factory.mktemp("acceptance") / "all.duckdb"
    shutil.copy(real_warehouse_all, path)
    return path


def fourhour(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "fourhour", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},  # a wide terminal: table cells on one line
    )
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    return result


def ok(*args: str, cwd: Path | None = None) -> str:
    result = fourhour(*args, cwd=cwd)
    assert result.returncode == 0, (args, result.stderr[-2000:])
    return result.stdout


def test_every_file_ingests_and_twice_changes_nothing(
    real_warehouse_all: Path, real_ingest_run: dict, shared_data: Path, tmp_path: Path
) -> None:
    # The first ingest of the whole folder is the session's (tests/conftest.py), made with
    # `fourhour ingest FOLDER` as here; what it printed was kept.
    first = real_ingest_run
    assert first["returncode"] == 0, first["stderr"][-3000:]
    assert "Traceback" not in first["stderr"]
    assert "refused" not in first["stdout"].lower() + first["stderr"].lower()
    w = tmp_path / "again.duckdb"
    shutil.copy(real_warehouse_all, w)
    with open_warehouse(w, read_only=True) as wh:
        before = wh.table_counts()
        files = wh.con.execute("SELECT count(DISTINCT file) FROM ingest_log").fetchone()[0]
    # Every returns, reference and bed file is recorded (one 2019-2023 file repeats another's
    # contents byte for byte, so it is stored once and reported unchanged).
    assert files >= len(return_files(shared_data)) + 13 - 1  # + 8 winter CSVs, 5 workbooks
    again = fourhour("ingest", str(shared_data), "-w", str(w))
    assert again.returncode == 0
    with open_warehouse(w, read_only=True) as wh:
        assert wh.table_counts() == before


@pytest.mark.parametrize("era", list(ERAS))
def test_bulletin_in_every_format(everything: Path, era: str, tmp_path: Path) -> None:
    period = ERAS[era]
    text = ok("bulletin", *period, "-w", str(everything))
    assert "four hours" in text.lower()
    data = json.loads(ok("bulletin", *period, "--format", "json", "-w", str(everything)))
    assert data["england"]["all_types"] or data["england"]["type1"]
    markdown = ok("bulletin", *period, "--format", "markdown", "-w", str(everything))
    assert markdown.lstrip().startswith("#")
    out = tmp_path / "b.html"
    ok("bulletin", *period, "--format", "html", "--out", str(out), "-w", str(everything))
    assert "<html" in out.read_text().lower()


@pytest.mark.parametrize("era", list(ERAS))
def test_measures_at_every_level(everything: Path, era: str, tmp_path: Path) -> None:
    period = ERAS[era]
    for level in ("provider", "system", "region", "national"):
        out = tmp_path / f"{level}.csv"
        ok("measures", "--level", level, *period, "--csv", str(out), "-w", str(everything))
        frame = pd.read_csv(out)
        assert len(frame) >= 1
        if level == "region":  # every NHS trust has a region; only other providers may not
            unmapped = frame.loc[frame["code"] == "UNMAPPED", "unmapped_providers"]
            codes = ";".join(str(v) for v in unmapped).split(";") if len(unmapped) else []
            trusts = [c for c in codes if len(c) == 3 and c[0] in "RT"]
            assert not trusts, (era, trusts)


@pytest.mark.parametrize("era", list(ERAS))
def test_escalate_in_every_format(everything: Path, era: str, tmp_path: Path) -> None:
    period = ERAS[era]
    level = ["--level", "provider"] if era == "field-test month" else []
    text = ok("escalate", *period, *level, "--no-record", "-w", str(everything))
    assert "Summons list" in text and "1. " in text
    data = json.loads(
        ok("escalate", *period, *level, "--no-record", "-f", "json", "-w", str(everything))
    )
    assert data["summons"] and all(s["explanation"] for s in data["summons"])
    out = tmp_path / "s.html"
    ok("escalate", *period, *level, "--no-record", "-f", "html", "-o", str(out),
       "-w", str(everything))  # fmt: skip
    assert "<h1>Summons list" in out.read_text()


def test_monthly_2016_19_systems_and_field_test_exclusions(everything: Path) -> None:
    data = json.loads(
        ok("escalate", "--month", "2020-06", "--no-record", "-f", "json", "-w", str(everything))
    )
    assert any("field-testing" in n for n in data["notes"])
    left_out = {"RGT", "RYJ", "RQM", "RDU", "RNQ", "RXF", "RVW", "RX1", "RK9", "RHU", "RFR",
                "RGR", "RC9"}  # fmt: skip
    for s in data["summons"]:
        assert not {d["code"] for d in s["providers_driving"]} & left_out


@pytest.mark.parametrize("era", list(ERAS))
def test_board_report_for_every_era(everything: Path, era: str, tmp_path: Path) -> None:
    period = ERAS[era]
    out = tmp_path / "board.html"
    ok("report", *period, "--out", str(out), "-w", str(everything))
    html = out.read_text()
    assert "Summons list" in html or "summons list" in html
    assert "Traceback" not in html and "nan%" not in html and ">None<" not in html


def test_board_report_pdf_for_2025_26(everything: Path, tmp_path: Path) -> None:
    out = tmp_path / "board.pdf"
    ok("report", "--month", "2026-01", "--provider", "RXW", "--out", str(out),
       "-w", str(everything))  # fmt: skip
    assert out.read_bytes()[:4] == b"%PDF" and out.stat().st_size > 50_000


def test_funding_ledger_in_every_format(everything: Path, tmp_path: Path) -> None:
    for fmt in ("text", "json", "csv", "html"):
        out = tmp_path / f"ledger.{fmt}"
        ok("funding", "--quarter", "2016-17Q2", "--format", fmt, "--out", str(out),
           "-w", str(everything))  # fmt: skip
        assert out.stat().st_size > 200
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert ledger["trusts"]


def test_organisations_as_they_were(everything: Path) -> None:
    text = ok("orgs", "list", "--on", "2014-10-26", "-w", str(everything))
    assert "Wessex Area Team (Q70)" in text and "Peterborough" in text
    assert "North West Anglia" not in text
    later = ok("orgs", "list", "--on", "2026-01-31", "-w", str(everything))
    assert "North West Anglia" in later and "Integrated Care Board" in later


def test_warehouse_info_and_log(everything: Path) -> None:
    info = ok("warehouse", "info", "-w", str(everything))
    assert "provider_returns" in info or "returns" in info.lower()
    log = ok("warehouse", "log", "--last", "5", "-w", str(everything))
    assert log.strip()


def test_capacity_on_a_real_trust(everything: Path, tmp_path: Path) -> None:
    # run where a user would, so that the scenario it writes (RXQ.toml) lands there
    result = fourhour("calibrate", "--provider", "RXQ", "-w", str(everything), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "RXQ" in result.stdout
    assert (tmp_path / "RXQ.toml").is_file()


def test_bad_input_is_one_line_everywhere(everything: Path, tmp_path: Path) -> None:
    cases = [
        ["bulletin", "--month", "2026-13", "-w", str(everything)],
        ["bulletin", "--month", "1999-01", "-w", str(everything)],
        ["escalate", "--week-ending", "2014-12-13", "-w", str(everything)],
        ["escalate", "--quarter", "2016Q2", "-w", str(everything)],
        [
            "escalate",
            "--month",
            "2026-01",
            "-o",
            str(tmp_path / "no" / "x.txt"),
            "-w",
            str(everything),
        ],
        ["measures", "--level", "county", "--month", "2026-01", "-w", str(everything)],
        ["report", "--month", "2026-01", "--provider", "ZZZ", "-w", str(everything)],
        ["funding", "--quarter", "2030-31Q1", "-w", str(everything)],
        ["orgs", "list", "--on", "yesterday", "-w", str(everything)],
        ["ingest", str(tmp_path / "nope.csv"), "-w", str(tmp_path / "w.duckdb")],
        ["bulletin", "--month", "2026-01", "-w", str(tmp_path / "missing.duckdb")],
    ]
    for argv in cases:
        result = fourhour(*argv)
        assert result.returncode != 0, argv
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines and lines[0].startswith("error:"), (argv, result.stderr)
        assert len(lines) <= 3, (argv, result.stderr)
