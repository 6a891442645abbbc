"""The faster ingest stores exactly the same figures: reading files ahead in worker processes,
the cached header normalisation and the date group-by change no stored value. Checked on all of
../shared/data by table fingerprints (rows and a hash of every row of every table), against
reading in the main process and against the source before the speed-up (from git), and a
re-run changes nothing."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fourhour.cli.ingest_cmd import expand
from fourhour.errors import ReaderError
from fourhour.ingest.values import _norm_header, norm_header
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.fingerprint import table_fingerprints
from fourhour.warehouse.load import ReadAhead, ingest_file, ingest_paths

REPO = Path(__file__).resolve().parents[1]
BEFORE = "57f3aca"  # main before the ingest speed-up (issue 16)

cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.sampled_from(" \u00a0\t–-0aAbZ&<>()%"), max_size=30),
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1)),
)


@given(st.lists(cells, min_size=1, max_size=20))
@example([0.0, -0.0])  # equal as cache keys, different as text (hypothesis found it once)
def test_cached_header_normalisation_equals_the_plain_rule(row: list) -> None:
    for cell in [*row, *row]:  # the second pass is answered from the cache
        expected = "" if cell is None else _norm_header.__wrapped__(cell)
        assert norm_header(cell) == expected


def test_the_cache_keeps_equal_numbers_of_different_types_apart() -> None:
    assert (norm_header(1), norm_header(1.0), norm_header(True)) == ("1", "1.0", "true")
    assert norm_header(["not", "hashable"]) == "['not', 'hashable']"


def test_read_ahead_raises_a_bad_files_own_error_in_this_process(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,we,know\n1,2,3\n", encoding="utf-8")
    with open_warehouse(tmp_path / "w.duckdb") as wh, ReadAhead([bad]) as ahead:
        with pytest.raises(ReaderError, match=r"bad\.csv.*no known layout"):
            ingest_file(wh, bad, ahead)
        assert wh.con.execute("SELECT count(*) FROM ingest_log").fetchone()[0] == 0


def fingerprints(path: Path) -> dict[str, tuple[int, int]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return table_fingerprints(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def ingested(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All of ../shared/data, as `fourhour ingest` stores it (read ahead in workers)."""
    path = tmp_path_factory.mktemp("speed") / "ahead.duckdb"
    with open_warehouse(path) as wh:
        ingest_paths(wh, expand([shared_data]))
    return path


@pytest.mark.realdata
@pytest.mark.slow
def test_read_ahead_stores_what_reading_in_place_stores(
    ingested: Path, shared_data: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.duckdb"
    with open_warehouse(plain) as wh:
        for f in expand([shared_data]):
            ingest_file(wh, f)
    expected = fingerprints(plain)
    assert expected["provider_returns"][0] > 50_000 and expected["bed_occupancy"][0] > 100_000
    assert fingerprints(ingested) == expected


@pytest.mark.realdata
@pytest.mark.slow
def test_a_second_ingest_changes_nothing(ingested: Path, shared_data: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.duckdb"
    again.write_bytes(ingested.read_bytes())
    before = fingerprints(again)
    with open_warehouse(again) as wh:
        outcomes = ingest_paths(wh, expand([shared_data]))
    assert {o.status for o in outcomes} == {"unchanged"}
    assert fingerprints(again) == before


@pytest.mark.realdata
@pytest.mark.slow
def test_the_same_figures_as_before_the_speed_up(
    ingested: Path, shared_data: Path, tmp_path: Path
) -> None:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", BEFORE, "src"], capture_output=True, check=False
    )
    if archive.returncode:
        pytest.skip(f"git has no commit {BEFORE} (a shallow clone?) to compare with")
    (tmp_path / "before").mkdir()
    subprocess.run(["tar", "-x", "-C", str(tmp_path / "before")], input=archive.stdout, check=True)
    old = tmp_path / "before.duckdb"
    subprocess.run(
        [sys.executable, "-m", "fourhour", "ingest", str(shared_data), "-w", str(old)],
        env={**os.environ, "PYTHONPATH": str(tmp_path / "before" / "src")},
        capture_output=True,
        check=False,
    )
    before, now = fingerprints(old), fingerprints(ingested)
    # Tables and migrations added since (the web's stored pages, 0009) are not the ingest's
    # figures: compare every table the earlier code stored, migrations aside.
    shared = sorted(set(before) - {"schema_migrations"})
    assert {t: before[t] for t in shared} == {t: now.get(t) for t in shared}
