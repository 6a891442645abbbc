"""The board report: build and write a PDF, with charts drawn in a worker process (as the report
does on a machine with two cores) against the named baseline measured in the same run, every
chart drawn in this process one after another (`parallel_charts=False`, the previous path).

Run with `make bench` (or `.venv/bin/python bench/report_bench.py`). Prints figures only;
asserts nothing. The target (issue 16) is a 13-page PDF in at most 5 s. Times are in-process
(Python's start-up and imports not included; they are printed once apart) and the load average
is printed beside each, since other work on the machine slows everything; so is the CPU time of
this process and of the chart worker, which load changes less.

Reports: the synthetic demo warehouse's latest week (built in a temporary folder, 140
providers, 104 weeks), and, where ../shared/data is present or $FOURHOUR_BENCH_WAREHOUSE names a
warehouse, the real week ending 4 January 2015 and December 2025.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
# Worker processes (charts, read-ahead) import this checkout too, not an installed copy.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p
)
DATA = REPO.parent / "shared" / "data"
RUNS = int(os.environ.get("FOURHOUR_BENCH_RUNS", "2"))

started = time.perf_counter()
from fourhour.periods import parse_month, week_ending  # noqa: E402
from fourhour.report.board import build_report, render_html, write_pdf  # noqa: E402
from fourhour.warehouse import open_warehouse  # noqa: E402

IMPORTS_S = time.perf_counter() - started


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one(path: Path, period, parallel: bool, out: Path) -> tuple[float, ...]:
    """Build, PDF and total seconds, the pages, and the CPU seconds of this process and of
    the chart worker (a child process, counted once it has ended), for one report."""
    c0, w0, t0 = time.process_time(), children_cpu(), time.perf_counter()
    with open_warehouse(path, read_only=True) as wh:
        report = build_report(wh, period, parallel_charts=parallel)
    t1 = time.perf_counter()
    html = render_html(report)
    pages = write_pdf(html, out)
    t2 = time.perf_counter()
    cpu, worker = time.process_time() - c0, children_cpu() - w0
    return t1 - t0, t2 - t1, t2 - t0, pages, cpu, worker


def compare(name: str, path: Path, period, tmp: Path) -> None:
    runs: dict[bool, list[tuple[float, ...]]] = {False: [], True: []}
    for _ in range(RUNS):  # alternated, so that a change in load falls on both
        for parallel in (False, True):
            runs[parallel].append(one(path, period, parallel, tmp / "bench.pdf"))
    med = {p: [statistics.median(r[i] for r in runs[p]) for i in range(6)] for p in runs}
    pages = int(runs[True][-1][3])
    base, new = med[False], med[True]
    print(f"{name} ({pages} pages), median of {RUNS}, {load()}:")
    print(
        f"  baseline, charts drawn in this process: build {base[0]:.2f} s + PDF {base[1]:.2f} s"
        f" = {base[2]:.2f} s; CPU {base[4]:.2f} s"
    )
    print(
        f"  charts drawn in a worker process:       build {new[0]:.2f} s + PDF {new[1]:.2f} s"
        f" = {new[2]:.2f} s ({base[2] / new[2]:.2f}x; target 5 s);"
        f" CPU {new[4]:.2f} s + worker {new[5]:.2f} s"
    )


def demo_warehouse(tmp: Path) -> tuple[Path, object]:
    from fourhour.ingest.synthetic import generate_weekly_returns
    from fourhour.warehouse.load import ingest_paths

    files = generate_weekly_returns(tmp / "demo")
    path = tmp / "demo.duckdb"
    with open_warehouse(path) as wh:
        ingest_paths(wh, sorted(files, key=lambda p: ("Mapping" not in p.name, p.name)))
        latest = wh.con.execute(
            "SELECT max(period_end) FROM provider_returns WHERE granularity = 'week'"
        ).fetchone()[0]
    return path, week_ending(latest)


def real_warehouse(tmp: Path) -> Path | None:
    given = os.environ.get("FOURHOUR_BENCH_WAREHOUSE")
    if given:
        return Path(given)
    if not DATA.is_dir():
        return None
    from fourhour.cli.ingest_cmd import expand
    from fourhour.errors import FourhourError
    from fourhour.warehouse.load import ReadAhead, ingest_file

    path = tmp / "real.duckdb"
    files = expand([DATA])
    with open_warehouse(path) as wh, ReadAhead(files) as ahead:
        for f in files:
            with contextlib.suppress(FourhourError):  # a refused file is left out
                ingest_file(wh, f, ahead)
    return path


def main() -> None:
    print(f"imports (fourhour.report.board, once): {IMPORTS_S:.2f} s, {load()}")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        path, week = demo_warehouse(tmp)
        compare(f"synthetic demo, {week.label}", path, week, tmp)
        real = real_warehouse(tmp)
        if real is None:
            print("real data: not found (../shared/data); skipped")
            return
        compare("real, week ending 4 January 2015", real, week_ending(dt.date(2015, 1, 4)), tmp)
        compare("real, December 2025", real, parse_month("2025-12"), tmp)


if __name__ == "__main__":
    main()
