"""Shared fixtures: the real data set (skipped with a reason where absent), warehouses built
from it once per run (shared by the xdist workers), small hand-written files, and `snapshot`
(tests/snapshots/; `pytest --snapshot-update` rewrites them)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RETURN_DIRS = (
    "monthly-by-provider-2019-2023",
    "monthly-by-provider-2023-24-xls",
    "monthly-by-provider-2024-25",
    "monthly-by-provider-2025-26",
    "monthly-timeseries-england",
    "nhsrdatasets",
    "weekly-type1-2010-2015",
    "org-reference-ods/etr-c2016",
    "org-reference-ods/etr-2020",
    "org-reference-ods/etr-2021-22",
    "org-reference-ods/etr-2026",
    "org-reference-systems",
)


SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--snapshot-update",
        action="store_true",
        help="Rewrite tests/snapshots/ from what the code prints now (then review the git diff).",
    )


class Snapshot:
    """Compare a text output with tests/snapshots/NAME exactly, or (--snapshot-update) write it."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def __call__(self, name: str, text: str) -> None:
        path = SNAPSHOTS / name
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text("utf-8") != text:
                path.write_text(text, encoding="utf-8", newline="\n")
            return
        if not path.exists():
            pytest.fail(f"no snapshot {path}; run pytest --snapshot-update and review the diff")
        expected = path.read_text("utf-8")
        if text != expected:
            import difflib

            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"tests/snapshots/{name}",
                    "now",
                )
            )
            pytest.fail(
                f"output differs from tests/snapshots/{name} (if the change is meant, run "
                f"pytest --snapshot-update and commit the new file):\n{diff}",
                pytrace=False,
            )


@pytest.fixture
def snapshot(request: pytest.FixtureRequest) -> Snapshot:
    return Snapshot(request.config.getoption("--snapshot-update"))


REAL_DATA_FIXTURES = {"shared_data", "real_warehouse", "real_warehouse_all"}

# Tests that `make check` leaves to `make test` (marked slow here, from --durations): whole
# modules that build synthetic worlds or render reports end to end, and single tests that
# simulate, fit, spawn processes or run hundreds of property examples. Unit tests of the same
# code stay in make check.
SLOW_MODULES = {
    "test_web.py": "the dashboard over a two-year synthetic world, every page and endpoint",
    "test_report.py": "board reports rendered to HTML and PDF",
    "test_escalation.py": "an oversight world built per test, escalation run end to end",
    "test_forecast.py": "forecast models fitted and backtested",
    "test_cli_nothing_lost.py": "subprocesses, a busy warehouse waited on",
    "test_capacity_pipeline.py": "simulate, calibrate and sweep through the command line",
    "test_demo_story.py": "the demo's world and records",
}
SLOW_TESTS = (
    "test_spc.py::test_several_organisations_at_once_match_each_alone",
    "test_spc_presets.py::test_the_preset_equals_a_plain_reading_of_the_package",
    "test_spc_presets.py::test_presets_agree_on_mean_and_limits_where_both_have_them",
    "test_charts.py::test_save_writes_each_format",
    "test_capacity_engine.py::test_invariants_on_random_small_trusts",
    "test_patients.py::test_returns_made_from_records_equal_the_patient_level_measures",
    "test_patients.py::test_cli_measures_protects_by_default",
    "test_patients.py::test_dense_histograms_and_sql_quantiles_agree",
    "test_cli_errors.py::test_entry_point_in_a_subprocess_has_no_traceback",
    "test_bad_input.py::test_entry_point_prints_error_and_exit_code",
    "test_load_and_measures.py::test_aggregate_performance_is_ratio_of_sums",
)


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks that follow from what a test uses, so that `make check` (-m "not slow and not
    realdata and not spark and not browser") never picks up one by mistake: tests under
    tests/browser are `browser`, any test using the real data set is `realdata`, and those
    listed above are `slow`."""
    browser = Path(__file__).resolve().parent / "browser"
    for item in items:
        if browser in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
        if REAL_DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.realdata)
        name = Path(item.path).name
        test = f"{name}::{item.name.split('[')[0]}"
        if name in SLOW_MODULES or test in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


def pytest_report_header() -> str:
    data = SHARED_DATA if SHARED_DATA.exists() else "absent"
    return f"duckdb {duckdb.__version__}; real data: {data}"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real NHS England data not found at {SHARED_DATA} (CI always has it)")
    return SHARED_DATA


def return_files(root: Path) -> list[Path]:
    files = []
    for d in RETURN_DIRS:
        files.extend(
            sorted(p for p in (root / d).iterdir() if p.suffix in (".csv", ".xls", ".xlsx"))
        )
    return files


BED_DIRS = ("winter-sitrep-beds", "daily-sitrep-winter-2014-15")


def _shared_build(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """`name`, built by `build` once for the whole run: the xdist workers share one base
    folder, and a file lock lets the first worker build while the others wait for it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by all the workers of this run
    path = base / "shared" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    done = path.with_name(name + ".done")
    with open(path.with_name(name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                if path.is_dir():
                    shutil.rmtree(path)
                path.unlink(missing_ok=True)
                build(path)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path


@pytest.fixture(scope="session")
def real_warehouse(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every A&E returns and organisation file of the real data set, ingested once per run
    (shared by the xdist workers). Open it read-only: copy it to write to it."""

    def build(path: Path) -> None:
        with open_warehouse(path) as wh:
            for f in return_files(shared_data):
                ingest_file(wh, f)

    return _shared_build(tmp_path_factory, "real.duckdb", build)


@pytest.fixture(scope="session")
def real_warehouse_all(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All of ../shared/data (returns, organisation and bed files), ingested once per run as a
    user would: `fourhour ingest FOLDER` (what it printed: `real_ingest_run`). Open it
    read-only: copy it to write to it."""

    def build(path: Path) -> None:
        run = subprocess.run(
            [sys.executable, "-m", "fourhour", "ingest", str(shared_data), "-w", str(path)],
            capture_output=True,
            text=True,
            timeout=1800,
            env={**os.environ, "COLUMNS": "200"},
        )
        record = {"returncode": run.returncode, "stdout": run.stdout, "stderr": run.stderr}
        path.with_name(path.name + ".json").write_text(json.dumps(record), encoding="utf-8")

    return _shared_build(tmp_path_factory, "real-all.duckdb", build)


@pytest.fixture(scope="session")
def real_ingest_run(real_warehouse_all: Path) -> dict[str, object]:
    """How the ingest that made real_warehouse_all ended: returncode, stdout, stderr."""
    record = real_warehouse_all.with_name(real_warehouse_all.name + ".json")
    return json.loads(record.read_text("utf-8"))


@pytest.fixture(scope="session")
def web_world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., tuple[Path, Path]]:
    """`web_world(folder, patients=True)`: a copy, in `folder`, of the web tests' synthetic
    warehouse (tests/web_world.py) and its funding rules, built once per run: the tests may
    write to their copy, as the server does."""
    from tests.web_world import build

    def copy(folder: Path, *, patients: bool = True) -> tuple[Path, Path]:
        name = "web-world" if patients else "web-world-no-patients"
        made = {}

        def make(path: Path) -> None:
            build(path, patients=patients)

        template = _shared_build(tmp_path_factory, name, make)
        built = {p.name: p for p in template.iterdir()}
        made["warehouse"] = shutil.copy(built["web.duckdb"], folder / "web.duckdb")
        if "web.patients" in built:  # the patient-level records live beside the warehouse
            shutil.copytree(built["web.patients"], folder / "web.patients")
        rules = next(template.joinpath("data").glob("*Funding-Rules.toml"))
        made["rules"] = shutil.copy(rules, folder / rules.name)
        return Path(made["warehouse"]), Path(made["rules"])

    return copy


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


PROVIDER_HEADER = (
    "Code,Region,Name,Type 1 Departments - Major A&E,Type 2 Departments - Single Specialty,"
    "Type 3 Departments - Other A&E/Minor Injury Unit,Total attendances,"
    "Type 1 Departments - Major A&E,Type 2 Departments - Single Specialty,"
    "Type 3 Departments - Other A&E/Minor Injury Unit,Total Attendances < 4 hours,"
    "Type 1 Departments - Major A&E,Type 2 Departments - Single Specialty,"
    "Type 3 Departments - Other A&E/Minor Injury Unit,Total Attendances > 4 hours,"
    "Percentage in 4 hours or less (all),Percentage in 4 hours or less (type 1),"
    "Percentage in 4 hours or less (type 2),Percentage in 4 hours or less (type 3),"
    "Emergency Admissions via Type 1 A&E,Emergency Admissions via Type 2 A&E,"
    "Emergency Admissions via Type 3 and 4 A&E,Total Emergency Admissions via A&E,"
    "Other Emergency admissions (i.e not via A&E),Total Emergency Admissions,"
    "Number of patients spending >4 hours from decision to admit to admission,"
    "Number of patients spending >12 hours from decision to admit to admission"
)


def provider_row(
    code: str,
    name: str,
    att: tuple[int, int, int],
    over: tuple[int, int, int],
    adm: tuple[int, int, int] = (0, 0, 0),
    other: int = 0,
    dta: tuple[int, int] = (0, 0),
    region: str = "NHS England London",
) -> str:
    within = tuple(a - o for a, o in zip(att, over, strict=True))
    cells = [code, region, name, *att, sum(att), *within, sum(within), *over, sum(over)]
    pct = [f"{100 * sum(within) / sum(att):.1f}%" if sum(att) else "-"]
    pct += [f"{100 * w / a:.1f}%" if a else "-" for w, a in zip(within, att, strict=True)]
    cells += [*pct, *adm, sum(adm), other, sum(adm) + other, *dta]
    return ",".join(f'"{c:,}"' if isinstance(c, int) and c >= 1000 else str(c) for c in cells)


@pytest.fixture
def provider_csv(tmp_path: Path) -> Path:
    """A two-provider month, values chosen so that every figure can be checked by hand."""
    lines = [
        PROVIDER_HEADER,
        provider_row(
            "RAA",
            "Alpha Hospitals NHS Trust",
            (10000, 0, 4000),
            (2500, 0, 40),
            adm=(2800, 0, 10),
            other=900,
            dta=(700, 120),
        ),
        provider_row(
            "RBB",
            "Beta Hospital NHS Foundation Trust",
            (5000, 300, 0),
            (500, 3, 0),
            adm=(1400, 2, 0),
            other=300,
            dta=(90, 5),
            region="NHS England North West",
        ),
    ]
    return write(tmp_path, "January-2025-AE.csv", "\n".join(lines) + "\n")
