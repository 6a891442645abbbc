"""Patient-level benchmark: SYNTHETIC national years, every measure for every level and period.

In one run, on the same store: fourhour on DuckDB (the default), a straightforward pandas
implementation of the same measures over the records (the baseline an analyst would write),
fourhour on Spark local[2] and fourhour on a Spark standalone cluster that the benchmark starts
on loopback (a master and two workers, stopped afterwards even on failure). fourhour rolls up
the cells built at ingest (measures/patient_cells.py); the pandas baseline reads the records.
Each runs in its own process, so that wall time and peak memory (the largest process,
including Spark's JVM) are its own. Prints seconds, seconds per 10 million rows, peak memory,
the ratios, and whether Spark's tables are identical to DuckDB's; asserts nothing.
Targets (issue 16): DuckDB at most 2 s after load and 1.5 GB, at least 20x pandas; Spark
local[2] at most 60 s; the cluster identical to DuckDB.

    .venv/bin/python bench/patients_bench.py                       # 25 million rows, a year
    .venv/bin/python bench/patients_bench.py --rows 100000000 --years 4
    .venv/bin/python bench/patients_bench.py --rows 1000000 --engines duckdb,pandas
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROWS = int(os.environ.get("FOURHOUR_BENCH_ROWS", "25000000"))
PROVIDERS = 180
ENGINES = ("duckdb", "pandas", "spark", "cluster")
NAMES = {
    "duckdb": "fourhour on DuckDB",
    "pandas": "pandas baseline",
    "spark": "Spark local[2]",
    "cluster": "Spark cluster",
}


def mapping():
    import pandas as pd

    codes = [f"ZS{i:03d}" for i in range(1, PROVIDERS + 1)]
    return pd.DataFrame(
        {
            "code": codes,
            "system_code": [f"SYS{i % 42:02d}" for i in range(1, PROVIDERS + 1)],
            "region_code": [f"REG{i % 7}" for i in range(1, PROVIDERS + 1)],
        }
    )


def run_fourhour(store: str, engine_name: str, out: str) -> dict:
    from fourhour.measures import patient as P
    from fourhour.measures.patient_cells import compute_from_cells

    files = sorted(Path(store).glob("attendances-*.parquet"))
    if engine_name == "duckdb":
        engine = P.duckdb_engine(memory_limit=os.environ.get("FOURHOUR_DUCKDB_MEMORY"))
    else:
        engine = P.spark_engine(os.environ.get("FOURHOUR_SPARK_MASTER") or "local[2]")
    start = time.perf_counter()
    result = compute_from_cells(engine, files, mapping())
    total = time.perf_counter() - start
    t = result.timings
    with open(out, "wb") as fh:
        pickle.dump((result.table, result.near_four_hours), fh)
    national = result.table[(result.table["level"] == "national")
                            & (result.table["granularity"] == "month")]  # fmt: skip
    checksum = int(national["attendances"].sum())
    return {"load_s": t["load"], "measures_s": total - t["load"], "total_s": total,
            "rows": checksum, "groups": len(result.table)}  # fmt: skip


def run_pandas(store: str) -> dict:
    """The baseline: read the columns, derive the quantities, group by each level x period
    (over the first FOURHOUR_BENCH_PANDAS_FILES stored files, where the bench says so)."""
    import pandas as pd

    start = time.perf_counter()
    files = sorted(Path(store).glob("attendances-*.parquet"))
    files = files[: int(os.environ.get("FOURHOUR_BENCH_PANDAS_FILES") or len(files))]
    cols = ["provider_code", "department_type", "arrival", "decision_to_admit", "departure",
            "admitted"]  # fmt: skip
    df = pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)
    m = mapping().set_index("code")
    df["system"] = df["provider_code"].map(m["system_code"])
    df["region"] = df["provider_code"].map(m["region_code"])
    df["national"] = "ENGLAND"
    df["minutes"] = (df["departure"] - df["arrival"]).dt.total_seconds() // 60
    dta = (df["departure"] - df["decision_to_admit"]).dt.total_seconds() // 60
    df["breach"] = df["minutes"] > 240
    df["over_12h"] = df["minutes"] > 720
    df["dta_4_12h"] = df["admitted"] & (dta > 240) & (dta <= 720)
    df["dta_over_12h"] = df["admitted"] & (dta > 720)
    df["type1"] = df["department_type"] == 1
    df["type1_breach"] = df["type1"] & df["breach"]
    day = df["arrival"].dt.normalize()
    df["week"] = day - pd.to_timedelta(day.dt.weekday, unit="D")
    df["month"] = day.dt.to_period("M")
    df["quarter"] = day.dt.to_period("Q")
    df["fy"] = (day - pd.DateOffset(months=3)).dt.year
    load = time.perf_counter() - start
    groups = 0
    checksum = 0
    for level in ("provider_code", "system", "region", "national"):
        for period in ("week", "month", "quarter", "fy"):
            g = df.groupby([level, period], observed=True)
            counts = g[["breach", "over_12h", "admitted", "dta_4_12h", "dta_over_12h", "type1",
                        "type1_breach"]].sum()  # fmt: skip
            counts["attendances"] = g.size()
            q = g["minutes"].quantile([0.5, 0.95]).unstack()
            t1 = (
                df[df["type1"]]
                .groupby([level, period], observed=True)["minutes"]
                .quantile([0.5, 0.95])
            )
            groups += len(counts.join(q).join(t1.unstack(), rsuffix="_t1"))
            checksum += int(counts["attendances"].sum())
    total = time.perf_counter() - start
    return {"load_s": load, "measures_s": total - load, "total_s": total,
            "rows": len(df), "groups": groups}  # fmt: skip


def _descendants_peak_mb() -> float:
    """Peak resident memory (VmHWM) of this process's descendants still running, e.g. Spark's
    JVM, summed, in MB (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - mine
        mine |= frontier
    total = 0.0
    for pid in mine:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def child(kind: str, store: str, out: str) -> None:
    result = run_pandas(store) if kind == "pandas" else run_fourhour(store, kind, out)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["peak_mb"] = own + _descendants_peak_mb()  # Spark: the driver plus its JVM
    print(json.dumps(result), flush=True)
    os._exit(0)  # do not wait for Spark's shutdown hooks


def measure(kind: str, store: Path, out: Path, env: dict | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(store), str(out)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        said = [line for line in done.stderr.replace("\r", "\n").splitlines()
                if line.strip() and "Stage" not in line]  # fmt: skip
        return {"error": (said or [f"failed (exit status {done.returncode})"])[-1]}
    return json.loads(lines[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def loopback_cluster(workdir: Path, workers: int = 2):
    """A Spark standalone master and `workers` workers (one core, 1 GB each) on 127.0.0.1, from
    the launcher PySpark ships (bin/spark-class; the pip package has no sbin/start-*.sh);
    stopped on the way out, failure or not. Yields the master's URL."""
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    port, ui = _free_port(), _free_port()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_WORKER_DIR": str(workdir)}
    logs = []
    procs: list[subprocess.Popen] = []

    def launch(name: str, *args: str) -> None:
        log = (workdir / f"{name}.log").open("w")
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [str(spark_class), *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    url = f"spark://127.0.0.1:{port}"
    try:
        launch(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui),
        )
        for i in range(workers):
            launch(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "1g",
                "--webui-port",
                str(_free_port()),
                url,
            )
        deadline = time.monotonic() + 120
        alive = 0
        while alive < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"the loopback cluster did not start (logs in {workdir})")
            time.sleep(1)
            with (
                contextlib.suppress(OSError, ValueError),
                urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as r,
            ):
                alive = int(json.load(r).get("aliveworkers", 0))
        yield url
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, 15)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, 9)
                p.wait()
        for log in logs:
            log.close()


def _identical(a: Path, b: Path) -> str:
    import pandas as pd

    if not (a.exists() and b.exists()):
        return "not compared"
    (ta, na), (tb, nb) = (pickle.loads(p.read_bytes()) for p in (a, b))
    try:
        pd.testing.assert_frame_equal(ta, tb, check_dtype=False)
        pd.testing.assert_frame_equal(na, nb, check_dtype=False)
    except AssertionError as e:
        return "DIFFERENT: " + str(e).splitlines()[0]
    return f"identical ({len(ta):,} rows, {len(na):,} departures-by-minute rows)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS, help="attendances (default 25M)")
    parser.add_argument("--years", type=int, default=1, help="years of arrivals (default 1)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated")
    parser.add_argument(
        "--pandas-rows",
        type=int,
        default=25_000_000,
        help="run the pandas baseline on the first months holding at most this many rows "
        "(default 25M: it needs about 6 GB there), its figures scaled to all rows, and said so",
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        help="measure this warehouse's synthetic patient store instead of generating one",
    )
    args = parser.parse_args()
    kinds = [k for k in args.engines.split(",") if k]
    rows, days = args.rows, 365 * args.years + args.years // 4
    print(f"\n== Patient-level measures: {args.years} SYNTHETIC year(s), {rows:,} attendances ==")
    print(f"  load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="fourhour-patients-") as tmp:
        if args.warehouse:
            store, stored_rows = _existing(args.warehouse)
            rows = sum(stored_rows)
            print(f"  measuring the existing store {store} ({rows:,} attendances)")
        else:
            store, stored_rows = _prepare(Path(tmp), rows, days)
        pandas_files = max(1, sum(1 for c in _cumsum(stored_rows) if c <= args.pandas_rows))
        results = {}
        outs = {k: Path(tmp) / f"{k}.pickle" for k in kinds}
        for kind in kinds:
            if kind == "cluster":
                try:
                    with loopback_cluster(Path(tmp)) as url:
                        results[kind] = measure(kind, store, outs[kind],
                                                {"FOURHOUR_SPARK_MASTER": url,
                                                 "SPARK_LOCAL_IP": "127.0.0.1"})  # fmt: skip
                except RuntimeError as e:
                    results[kind] = {"error": str(e)}
            elif kind == "pandas":
                results[kind] = measure(
                    kind, store, outs[kind], {"FOURHOUR_BENCH_PANDAS_FILES": str(pandas_files)}
                )
            else:
                results[kind] = measure(kind, store, outs[kind], {"FOURHOUR_SPARK_MASTER": ""}
                                        if kind == "spark" else None)  # fmt: skip
        same = {k: _identical(outs["duckdb"], outs[k]) for k in ("spark", "cluster")
                if "duckdb" in kinds and k in kinds}  # fmt: skip
    head = (f"  {'':<20}{'load s':>8}{'measures s':>11}{'s/10M':>8}{'total s':>9}"
            f"{'peak MB':>9}{'groups':>8}")  # fmt: skip
    print(head)
    for kind, r in results.items():
        if "error" in r:
            print(f"  {NAMES[kind]:<20} failed: {r['error']}")
            continue
        if r["rows"] != rows:  # the pandas baseline on fewer rows: scaled, and said so
            scale = rows / r["rows"]
            print(
                f"  ({NAMES[kind]} measured on the first {r['rows']:,} rows; its seconds "
                f"below are scaled x{scale:.2f} to {rows:,} rows, its peak MB is as measured)"
            )
            for k in ("load_s", "measures_s", "total_s"):
                r[k] *= scale
        per = r["measures_s"] / rows * 1e7
        print(
            f"  {NAMES[kind]:<20}{r['load_s']:>8.2f}{r['measures_s']:>11.2f}{per:>8.2f}"
            f"{r['total_s']:>9.2f}{r['peak_mb']:>9.0f}{r['groups']:>8,}"
        )
    for kind, verdict in same.items():
        print(f"  {NAMES[kind]} vs DuckDB: {verdict}")
    duck = results.get("duckdb", {"error": "not run"})
    if "error" not in duck:
        for kind in ("pandas", "spark", "cluster"):
            r = results.get(kind, {"error": ""})
            if "error" in r:
                continue
            print(
                f"  DuckDB vs {NAMES[kind]}: {r['measures_s'] / duck['measures_s']:.1f}x faster "
                f"after load, {r['total_s'] / duck['total_s']:.1f}x end to end"
            )
        print(
            f"  target 2 s after load: {'meets' if duck['measures_s'] <= 2 else 'misses'} "
            f"({duck['measures_s']:.2f} s); target 1.5 GB: "
            f"{'meets' if duck['peak_mb'] <= 1536 else 'misses'} ({duck['peak_mb']:.0f} MB)"
        )
        if "error" not in results.get("pandas", {"error": ""}):
            ratio = results["pandas"]["measures_s"] / duck["measures_s"]
            print(f"  target 20x pandas: {'meets' if ratio >= 20 else 'misses'} ({ratio:.1f}x)")
    spark = results.get("spark", {"error": ""})
    if "error" not in spark:
        ok = "meets" if spark["measures_s"] <= 60 else "misses"
        print(f"  target Spark local[2] 60 s: {ok} ({spark['measures_s']:.2f} s)")
    print(f"  load average at end: {os.getloadavg()[0]:.1f} (a loaded machine slows every figure)")


def _prepare(tmp: Path, rows: int, days: int) -> tuple[Path, list[int]]:
    """Generate the synthetic years (month by month) and ingest them as `fourhour patients
    ingest` does: each file stored, then its own cells counted."""
    from fourhour.ingest.patients.synthetic import generate_year
    from fourhour.measures.patient_cells import build_cells
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.patients import ingest_patients, store_dir, stored_files

    start = time.perf_counter()
    files = generate_year(tmp / "raw", rows=rows, days=days, n_providers=PROVIDERS)
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"  generated in {time.perf_counter() - start:.1f} s ({size:,.0f} MB of Parquet)")
    start = time.perf_counter()
    cells_s = 0.0
    with open_warehouse(tmp / "w.duckdb") as wh:
        for f in files:
            outcome = ingest_patients(wh, f)
            f.unlink()  # the raw copy: disk stays bounded
            c0 = time.perf_counter()
            name = f"attendances-{outcome.ingest_id:06d}.parquet"
            build_cells(next(s for s in stored_files(wh) if s.name == name))
            cells_s += time.perf_counter() - c0
        took = time.perf_counter() - start - cells_s
        store = store_dir(wh)
        stored_rows = [r[0] for r in wh.con.execute(
            "SELECT rows_stored FROM patient_files ORDER BY stored_as").fetchall()]  # fmt: skip
    cell_mb = sum(f.stat().st_size for f in (store / "cells").glob("*.parquet")) / 1e6
    cell_rows = {k: _cell_rows(store / "cells", k) for k in ("weeks", "months")}
    print(f"  validated and stored in {took:.1f} s ({rows / took:,.0f} rows/s); cells counted in "
          f"{cells_s:.1f} s ({cell_mb:,.0f} MB; minute cells: {cell_rows['weeks']:,} by week, "
          f"{cell_rows['months']:,} by month)")  # fmt: skip
    return store, stored_rows


def _existing(warehouse: Path) -> tuple[Path, list[int]]:
    """An existing warehouse's patient store (synthetic ZS codes), its cells made if missing."""
    from fourhour.measures.patient_cells import ensure_cells
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.patients import require_patients, store_dir

    with open_warehouse(warehouse, read_only=True) as wh:
        ensure_cells(require_patients(wh))
        stored_rows = [r[0] for r in wh.con.execute(
            "SELECT rows_stored FROM patient_files ORDER BY stored_as").fetchall()]  # fmt: skip
        return store_dir(wh), stored_rows


def _cumsum(values: list[int]) -> list[int]:
    out, total = [], 0
    for v in values:
        total += v
        out.append(total)
    return out


def _cell_rows(folder: Path, kind: str) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in folder.glob(f"{kind}-*.parquet"))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
