"""Command-line start-up: `fourhour --help` and a bulletin on the real warehouse, wall time.

Run with `make bench` (or `.venv/bin/python bench/cli_bench.py`). Prints figures only; asserts
nothing. Each command runs as a fresh subprocess several times and the median wall time is
printed beside `python -c pass` (the interpreter's own start-up) measured in the same run; the
targets are 0.3 s for `--help` and 1 s for a bulletin, start-up included.

The warehouse is built from every file in `<repo>/../shared/data` that ingests (into a
temporary folder, removed at the end), or taken from $FOURHOUR_BENCH_WAREHOUSE. Without the real
data, the synthetic demo set stands in and the bulletin is for its latest week.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
RUNS = int(os.environ.get("FOURHOUR_BENCH_RUNS", "7"))
MONTH = "2025-12"
TARGETS = {"fourhour --help": 0.3, "fourhour bulletin": 1.0}
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}
FOURHOUR = [sys.executable, "-m", "fourhour"]


def wall(argv: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run as a subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed(argv: list[str]) -> tuple[float, float, float]:
    """Median wall time, fastest wall time, median CPU time."""
    wall(argv)  # once to warm the file cache and compile bytecode
    runs = [wall(argv) for _ in range(RUNS)]
    walls = [w for w, _ in runs]
    return statistics.median(walls), min(walls), statistics.median(c for _, c in runs)


def build_warehouse(tmp: Path) -> tuple[Path, list[str], str]:
    """A warehouse and the bulletin arguments for it, and what it holds."""
    given = os.environ.get("FOURHOUR_BENCH_WAREHOUSE")
    if given:
        return Path(given), ["--month", MONTH], f"$FOURHOUR_BENCH_WAREHOUSE ({given})"
    path = tmp / "real.duckdb"
    if DATA.is_dir():
        # Files that do not ingest are refused by name and the rest stored; either way, go on.
        proc = subprocess.run(
            [*FOURHOUR, "ingest", str(DATA), "-w", str(path)],
            env=ENV,
            capture_output=True,
            text=True,
            check=False,
        )
        refused = len(re.findall(r"^refused ", proc.stderr, re.M))
        note = f"every file in {DATA} that ingests" + (f" ({refused} refused)" if refused else "")
        return path, ["--month", MONTH], note
    sys.path.insert(0, str(REPO / "src"))
    from fourhour.ingest.synthetic import generate_weekly_returns

    files = generate_weekly_returns(tmp / "demo")
    subprocess.run([*FOURHOUR, "ingest", str(tmp / "demo"), "-w", str(path)], env=ENV,
                   capture_output=True, check=True)  # fmt: skip
    latest = max(re.findall(r"(\d{4}-\d{2}-\d{2})", " ".join(f.name for f in files)))
    return path, ["--week-ending", latest], "the synthetic demo set (real data absent)"


def heaviest_imports(argv: list[str], n: int = 5) -> list[tuple[str, float]]:
    """The slowest modules (cumulative) imported by a command, from `python -X importtime`."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *argv[1:]],
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) <= 2:  # top-level imports only
            rows.append((m.group(3), int(m.group(1)) / 1e6))
    return sorted(rows, key=lambda r: -r[1])[:n]


def main() -> None:
    print(f"fourhour CLI start-up, median of {RUNS} runs (subprocess wall time)")
    print(f"  (CPU time is printed too: on a busy machine it moves less than wall time; load "
          f"average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")  # fmt: skip
    baseline, _, base_cpu = timed([sys.executable, "-c", "pass"])
    print(f"  {'python -c pass (baseline)':<34} {baseline:6.3f} s (CPU {base_cpu:.3f} s)")
    with tempfile.TemporaryDirectory(prefix="fourhour-cli-bench-") as tmp:
        warehouse, period, note = build_warehouse(Path(tmp))
        cases = {
            "fourhour --help": [*FOURHOUR, "--help"],
            "fourhour --version": [*FOURHOUR, "--version"],
            "fourhour bulletin": [*FOURHOUR, "bulletin", *period, "-w", str(warehouse)],
        }
        for label, argv in cases.items():
            median, fastest, cpu = timed(argv)
            target = TARGETS.get(label)
            verdict = "" if target is None else (
                f"  target {target:g} s: {'met' if median <= target else 'MISSED'}"
            )  # fmt: skip
            shown = label + (f" {' '.join(period)}" if label == "fourhour bulletin" else "")
            print(
                f"  {shown:<34} {median:6.3f} s (fastest {fastest:.3f} s, CPU {cpu:.3f} s, "
                f"{median / baseline:4.1f}x the baseline){verdict}"
            )
        print(f"  warehouse: {note}")
        for label in ("fourhour --help", "fourhour bulletin"):
            slow = ", ".join(f"{m} {s * 1000:.0f} ms" for m, s in heaviest_imports(cases[label]))
            print(f"  heaviest imports, {label}: {slow}")


if __name__ == "__main__":
    main()
