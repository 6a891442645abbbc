"""fourhour benchmarks: ingest throughput, a pandas read-only baseline, bulletin and measure times.

Run with `make bench` (or `.venv/bin/python bench/run.py`). Prints figures only; asserts nothing.

The real data set is read from `<repo>/../shared/data` and never copied; every warehouse is a
fresh DuckDB file in a temporary directory that is removed at the end. Without the real data
only the synthetic demo set is benchmarked.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

import fourhour
from fourhour import periods
from fourhour.ingest.synthetic import generate_weekly_returns
from fourhour.measures import measure_table
from fourhour.report.bulletin import build_bulletin, render
from fourhour.warehouse import Warehouse, open_warehouse
from fourhour.warehouse.load import ingest_file

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SUFFIXES = (".csv", ".xls", ".xlsx")
REPEATS = 5
MB = 1_000_000
WEEK_IN_NAME = re.compile(r"WE-(\d{4}-\d{2}-\d{2})")


# ------------------------------------------------------------------------------------ output


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: int = 2) -> None:
    """Print an aligned plain-text table: first column left-aligned, the others right."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        parts = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        return " " * indent + "  ".join(parts).rstrip()

    print(line(cells[0]))
    print(" " * indent + "  ".join("-" * w for w in widths))
    for r in cells[1:]:
        print(line(r))


def heading(text: str) -> None:
    print()
    print(text)
    print("=" * len(text))


def n(value: float) -> str:
    return f"{value:,.0f}"


def rate(amount: float, seconds: float, unit: float = 1.0) -> str:
    return f"{amount / unit / seconds:,.1f}" if seconds > 0 else "-"


def short_error(exc: BaseException, path: Path | None = None) -> str:
    text = " ".join(str(exc).split())
    if path is not None:  # the file is named beside the error already
        text = text.replace(f"{path}, ", "").replace(str(path), "<file>")
    return f"{type(exc).__name__}: {text[:160]}{'...' if len(text) > 160 else ''}"


# ------------------------------------------------------------------------------------ ingest


@dataclass
class FileRun:
    path: Path
    bytes: int
    seconds: float
    layout: str = "(raised, not stored)"
    rows: int = 0
    status: str = "error"
    error: str | None = None


def ingest_all(wh: Warehouse, files: Sequence[Path]) -> list[FileRun]:
    """Ingest each file in turn, timing it; a file that raises is reported and skipped."""
    runs = []
    for f in files:
        start = time.perf_counter()
        try:
            outcome = ingest_file(wh, f)
        except Exception as exc:  # a benchmark reports and carries on
            runs.append(FileRun(f, f.stat().st_size, time.perf_counter() - start))
            runs[-1].error = short_error(exc, f)
            continue
        runs.append(
            FileRun(
                f,
                f.stat().st_size,
                time.perf_counter() - start,
                layout=outcome.layout,
                rows=outcome.rows_read,
                status=outcome.status,
            )
        )
    return runs


def throughput_table(runs: Sequence[FileRun], by_layout: bool = True) -> None:
    groups: dict[str, list[FileRun]] = {}
    if by_layout:
        for r in runs:
            groups.setdefault(r.layout, []).append(r)
    rows = []
    for layout in sorted(groups):
        rows.append(_throughput_row(layout, groups[layout]))
    ok = [r for r in runs if r.error is None]
    if by_layout and len(ok) != len(runs):
        rows.append(_throughput_row("total (ingested files)", ok))
    rows.append(_throughput_row("TOTAL (all files)", runs))
    table(["layout", "files", "rows read", "MB", "seconds", "rows/s", "MB/s"], rows)


def _throughput_row(label: str, runs: Sequence[FileRun]) -> list[object]:
    rows = sum(r.rows for r in runs)
    size = sum(r.bytes for r in runs)
    secs = sum(r.seconds for r in runs)
    return [
        label,
        len(runs),
        n(rows),
        f"{size / MB:.2f}",
        f"{secs:.2f}",
        rate(rows, secs),
        rate(size, secs, MB),
    ]


def report_errors(runs: Sequence[FileRun], root: Path) -> None:
    failed = [r for r in runs if r.error]
    if not failed:
        return
    print(f"\n  {len(failed)} file(s) raised and were skipped:")
    for r in failed:
        print(f"    {r.path.relative_to(root)}: {r.error}")


# ---------------------------------------------------------------------------------- baseline


def pandas_read(path: Path) -> int:
    """Plain pandas read of one file, no validation and no storage. Returns the rows read."""
    if path.suffix.lower() == ".csv":
        try:
            return len(pd.read_csv(path, thousands=",", low_memory=False))
        except UnicodeDecodeError:
            return len(pd.read_csv(path, thousands=",", low_memory=False, encoding="cp1252"))
    sheets = pd.read_excel(path, sheet_name=None)
    return sum(len(s) for s in sheets.values())


def baseline(files: Sequence[Path]) -> dict[Path, tuple[float, int, str | None]]:
    out: dict[Path, tuple[float, int, str | None]] = {}
    for f in files:
        start = time.perf_counter()
        try:
            rows, err = pandas_read(f), None
        except Exception as exc:
            rows, err = 0, short_error(exc, f)
        out[f] = (time.perf_counter() - start, rows, err)
    return out


# --------------------------------------------------------------------------------- repeating


def repeat(fn: Callable[[], object], times: int = REPEATS) -> tuple[list[float], object]:
    """Run `fn` `times` times; the wall times in ms and the last result."""
    result: object = None
    ms = []
    for _ in range(times):
        start = time.perf_counter()
        result = fn()
        ms.append((time.perf_counter() - start) * 1000)
    return ms, result


def bulletin_rows(wh: Warehouse, cases: Sequence[tuple[str, periods.Period]]) -> list[list]:
    rows = []
    for label, period in cases:

        def build(period: periods.Period = period) -> dict:
            return build_bulletin(wh, period)

        def full(period: periods.Period = period) -> tuple[str, str]:
            b = build_bulletin(wh, period)
            return render(b, "text"), render(b, "json")

        try:
            build_ms, _ = repeat(build)
            full_ms, (text, js) = repeat(full)
        except Exception as exc:
            rows.append([label, "-", "-", "-", short_error(exc)])
            continue
        rows.append(
            [
                label,
                f"{statistics.median(build_ms):.1f}",
                f"{statistics.median(full_ms):.1f}",
                f"{min(full_ms):.1f}",
                f"{len(text):,} + {len(js):,} chars",
            ]
        )
    return rows


BULLETIN_HEADERS = ["period", "build median ms", "build+render median ms", "min ms", "output"]


# -------------------------------------------------------------------------------------- main


def machine() -> None:
    print("fourhour benchmark")
    print("==================")
    cpus = str(os.cpu_count())
    if hasattr(os, "sched_getaffinity"):
        cpus += f" (usable by this process: {len(os.sched_getaffinity(0))})"
    facts = [
        ("date", dt.datetime.now().isoformat(timespec="seconds")),
        ("platform", platform.platform()),
        ("machine", f"{platform.machine()} {platform.processor()}".strip()),
        ("CPUs", cpus),
        ("Python", f"{sys.version.split()[0]} ({platform.python_implementation()})"),
        ("duckdb", duckdb.__version__),
        ("pandas", pd.__version__),
        ("fourhour", fourhour.__version__),
        ("real data", str(DATA) if DATA.is_dir() else f"{DATA} (absent)"),
    ]
    width = max(len(k) for k, _ in facts)
    for key, value in facts:
        print(f"  {key.ljust(width)}  {value}")


def bench_real(tmp: Path) -> None:
    files = sorted(f for f in DATA.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
    total_bytes = sum(f.stat().st_size for f in files)
    for f in files:  # warm the OS file cache so neither fourhour nor pandas pays for the disk
        f.read_bytes()
    heading(f"Real data set: ingest ({len(files)} files, {total_bytes / MB:.2f} MB)")
    path = tmp / "real.duckdb"
    start = time.perf_counter()
    wh = open_warehouse(path)
    print(f"  open + migrate a fresh warehouse: {(time.perf_counter() - start) * 1000:.0f} ms\n")
    with wh:
        first = ingest_all(wh, files)
        throughput_table(first)
        report_errors(first, DATA)

        again = ingest_all(wh, files)
    heading("Real data set: re-ingest everything (idempotent no-change path)")
    statuses: dict[str, int] = {}
    for r in again:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    print(f"  statuses: {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}\n")
    rows = []
    for label, keep in (
        ("files stored the first time", lambda r: r.error is None),
        ("files that raised", lambda r: r.error is not None),
        ("all files", lambda r: True),
    ):
        a = [r for r in first if keep(r)]
        b = [r for r in again if r.path in {x.path for x in a}]
        if not a:
            continue
        s1, s2 = sum(r.seconds for r in a), sum(r.seconds for r in b)
        rows.append([label, len(a), f"{s1:.2f}", f"{s2:.2f}", f"{s2 / s1:.2f} x" if s1 else "-"])
    table(["", "files", "first s", "re-ingest s", "re / first"], rows)
    first_secs = sum(r.seconds for r in first)

    heading("Baseline: pandas read-only (read_csv thousands=',', read_excel all sheets)")
    base = baseline(files)
    rows = []
    for label, suffixes in (("CSV", (".csv",)), ("Excel", (".xls", ".xlsx")), ("all", SUFFIXES)):
        chosen = [r for r in first if r.path.suffix.lower() in suffixes]
        if not chosen:
            continue
        b_secs = sum(base[r.path][0] for r in chosen)
        f_secs = sum(r.seconds for r in chosen)
        ok = [r for r in chosen if r.error is None]
        ok_b = sum(base[r.path][0] for r in ok)
        ok_f = sum(r.seconds for r in ok)
        rows.append(
            [
                label,
                len(chosen),
                n(sum(base[r.path][1] for r in chosen)),
                f"{b_secs:.2f}",
                f"{f_secs:.2f}",
                f"{f_secs / b_secs:.1f} x" if b_secs else "-",
                f"{ok_f / ok_b:.1f} x ({len(ok)} files)" if ok_b else "-",
            ]
        )
    table(
        ["files", "n", "pandas rows", "pandas s", "fourhour s", "ratio", "ratio, ingested only"],
        rows,
    )
    for f, (_, _, err) in base.items():
        if err:
            print(f"  pandas could not read {f.relative_to(DATA)}: {err}")
    ok = [r for r in first if r.error is None]
    ok_f, ok_b = sum(r.seconds for r in ok), sum(base[r.path][0] for r in ok)
    b_all = sum(t for t, _, _ in base.values())
    if ok_b:
        print(
            f"\n  fourhour ingest = {ok_f / ok_b:.1f} x pandas read-only baseline "
            f"({ok_f:.2f} s vs {ok_b:.2f} s over the {len(ok)} files fourhour stored)"
        )
    if b_all:
        print(
            f"  over all {len(files)} files, counting the ones that raised: "
            f"{first_secs / b_all:.1f} x ({first_secs:.2f} s vs {b_all:.2f} s)"
        )

    heading(f"Real data set: bulletin, build + render text and json ({REPEATS} runs each)")
    with open_warehouse(path, read_only=True) as ro:
        cases = [
            ("week ending 2014-12-14", periods.week_ending(dt.date(2014, 12, 14))),
            ("month 2025-12", periods.month(2025, 12)),
            ("month 2017-01", periods.month(2017, 1)),
        ]
        table(BULLETIN_HEADERS, bulletin_rows(ro, cases))

        heading(f"Real data set: measure_table, month 2025-12 ({REPEATS} runs each)")
        period = periods.month(2025, 12)
        rows = []
        for level in ("provider", "region", "national"):
            try:
                ms, frame = repeat(lambda level=level: measure_table(ro, period, level))
            except Exception as exc:
                rows.append([level, "-", "-", "-", short_error(exc)])
                continue
            rows.append([level, f"{statistics.median(ms):.1f}", f"{min(ms):.1f}", len(frame)])
        table(["level", "median ms", "min ms", "rows"], rows)


def bench_synthetic(tmp: Path) -> None:
    heading("Synthetic demo set")
    data_dir = tmp / "synthetic"
    start = time.perf_counter()
    files = generate_weekly_returns(data_dir)
    gen = time.perf_counter() - start
    size = sum(f.stat().st_size for f in files)
    print(f"  generated {len(files)} files ({size / MB:.2f} MB) in {gen:.2f} s\n")
    ordered = sorted(files, key=lambda p: ("Mapping" not in p.name, p.name))
    path = tmp / "synthetic.duckdb"
    with open_warehouse(path) as wh:
        runs = ingest_all(wh, ordered)
    throughput_table(runs)
    report_errors(runs, data_dir)

    weeks = [m.group(1) for f in files if (m := WEEK_IN_NAME.search(f.name))]
    if not weeks:
        print("  no weekly file names found; no bulletin timed")
        return
    latest = dt.date.fromisoformat(max(weeks))
    print()
    with open_warehouse(path, read_only=True) as ro:
        cases = [(f"week ending {latest}", periods.week_ending(latest))]
        table(BULLETIN_HEADERS, bulletin_rows(ro, cases))


# ------------------------------------------------------------------------------- SPC engine


def bench_spc() -> None:
    """The SPC engine's own benchmark, bench/spc_bench.py, loaded by path and run here."""
    spec = importlib.util.spec_from_file_location(
        "spc_bench", Path(__file__).with_name("spc_bench.py")
    )
    if spec is None or spec.loader is None:
        print("\n  bench/spc_bench.py not found: SPC engine not benchmarked")
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()


def main() -> None:
    started = time.perf_counter()
    machine()
    with tempfile.TemporaryDirectory(prefix="fourhour-bench-") as tmp:
        if DATA.is_dir():
            try:
                bench_real(Path(tmp))
            except Exception:  # still run the synthetic part
                print("\n  the real-data benchmark stopped:")
                traceback.print_exc()
        else:
            print(f"\nNo real data set at {DATA}: benchmarking the synthetic set only.")
        bench_synthetic(Path(tmp))
    try:  # the SPC engine (bench/spc_bench.py): its own section, with its own temporary files
        bench_spc()
    except Exception:
        print("\n  the SPC benchmark stopped:")
        traceback.print_exc()
    print(f"\nTotal benchmark time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
