"""Ingest all of ../shared/data into a new warehouse: the current code against named baselines
measured in the same run, and a check that every stored figure is the same.

- **current**: `fourhour ingest ../shared/data --no-precompute` as a user runs it (files read
  ahead in worker processes while earlier ones are stored), the ingest alone: the web pages'
  precompute that `fourhour ingest` runs after it by default is timed on its own afterwards
  (`fourhour precompute` on the same warehouse), and printed apart;
- **baseline A, no read-ahead**: the same code reading each file in the main process just
  before storing it (`ingest_file` without `ReadAhead`);
- **baseline B, before the speed-up** (with `--baseline-ref REF`, default 57f3aca, where git
  has it): the command from that commit's source, run the same way.

Run with `make bench` (or `.venv/bin/python bench/ingest_bench.py`). Prints figures only;
asserts nothing; the target (issue 16) is at most 10 s. Each run is a fresh process (Python's
start-up included) and the load average is printed beside each, since other work on the machine
slows everything. The warehouses' fingerprints (rows and a hash of every row of every table,
`fourhour.warehouse.fingerprint`) must be equal: the line says whether they are.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO / "src"))

NO_READ_AHEAD = """
import sys
from pathlib import Path
from fourhour.cli.ingest_cmd import expand
from fourhour.errors import ReaderError, IngestError
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file
with open_warehouse(Path(sys.argv[2])) as wh:
    for f in expand([Path(sys.argv[1])]):
        try:
            ingest_file(wh, f)
        except (ReaderError, IngestError):
            pass
"""


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def timed(argv: list[str], src: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def same_figures(a: dict[str, tuple[int, int]], b: dict[str, tuple[int, int]]) -> bool:
    """Every table both warehouses have is the same (migrations aside: an older baseline lacks
    later tables, such as the web's stored pages, that the ingest does not fill)."""
    shared = (set(a) & set(b)) - {"schema_migrations"}
    extra = {
        t: v for t, v in {**a, **b}.items() if t not in shared and v[0] and t != "schema_migrations"
    }
    return not extra and all(a[t] == b[t] for t in shared)


def fingerprint(path: Path) -> dict[str, tuple[int, int]]:
    import duckdb

    from fourhour.warehouse.fingerprint import table_fingerprints

    con = duckdb.connect(str(path), read_only=True)
    try:
        return table_fingerprints(con)
    finally:
        con.close()


def baseline_source(ref: str, tmp: Path) -> Path | None:
    """The src folder of `ref`, unpacked from git, or None where git does not have it."""
    out = tmp / f"src-{ref}"
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "src"], capture_output=True, check=False
    )
    if archive.returncode:
        return None
    out.mkdir()
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return out / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-ref", default="57f3aca")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"real data not found at {DATA}; nothing to measure")
        return
    py = sys.executable
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        runs: list[tuple[str, Path, float, str]] = []

        def run(label: str, argv_for, src: Path) -> None:
            path = tmp / f"{len(runs)}.duckdb"
            lavg = load()
            seconds = timed(argv_for(path), src)
            runs.append((label, path, seconds, lavg))

        cli = lambda p: [py, "-m", "fourhour", "ingest", str(DATA), "-w", str(p)]  # noqa: E731
        run(
            "current: fourhour ingest (read-ahead)",
            lambda p: [*cli(p), "--no-precompute"],
            REPO / "src",
        )
        run(
            "baseline A: same code, no read-ahead",
            lambda p: [py, "-c", NO_READ_AHEAD, str(DATA), str(p)],
            REPO / "src",
        )
        old = baseline_source(args.baseline_ref, tmp)
        if old is not None:
            run(f"baseline B: fourhour ingest at {args.baseline_ref}", cli, old)
        else:
            print(f"baseline B: git has no {args.baseline_ref}; skipped")
        reference = fingerprint(runs[0][1])
        current = runs[0][2]
        print(f"Ingest of all of {DATA} into a new warehouse (fresh process, start-up included):")
        for label, path, seconds, lavg in runs:
            same = (
                "same figures" if same_figures(fingerprint(path), reference) else "FIGURES DIFFER"
            )
            ratio = f"{seconds / current:.2f}x the current time"
            print(f"  {label:<42} {seconds:6.2f} s  ({lavg}; {ratio}; {same})")
        rows = sum(r for r, _ in reference.values())
        tables = sum(1 for r, _ in reference.values() if r)
        print(f"  {rows:,} rows in {tables} tables; target 10 s")
        lavg = load()
        seconds = timed([py, "-m", "fourhour", "precompute", "-w", str(runs[0][1])], REPO / "src")
        print(
            f"Then the web pages' precompute (`fourhour precompute`, which `fourhour ingest` runs "
            f"by default): {seconds:.2f} s ({lavg})"
        )


if __name__ == "__main__":
    main()
