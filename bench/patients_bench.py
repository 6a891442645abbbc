"""Patient-level benchmark: a SYNTHETIC national year, every measure for every level and period.

In one run, on the same Parquet store: fourhour on DuckDB (the default), a straightforward
pandas implementation of the same measures (the baseline an analyst would write), and fourhour
on Spark local. Each runs in its own process, so that wall time and peak memory (the largest
process, including Spark's JVM) are its own. Prints the figures and the ratios; asserts nothing.
Targets (issue 5): at most 2 s after load, at least 5x faster than pandas and Spark local,
peak memory at most 1.5 GB.

    .venv/bin/python bench/patients_bench.py            # 25 million rows (about 4 minutes)
    FOURHOUR_BENCH_ROWS=2000000 .venv/bin/python bench/patients_bench.py   # quicker
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = int(os.environ.get("FOURHOUR_BENCH_ROWS", "25000000"))
PROVIDERS = 180


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


def run_fourhour(store: str, engine_name: str) -> dict:
    from fourhour.measures import patient as P

    files = sorted(Path(store).glob("*.parquet"))
    engine = (
        P.duckdb_engine(memory_limit=os.environ.get("FOURHOUR_DUCKDB_MEMORY"))
        if engine_name == "duckdb"
        else P.spark_engine("local[2]")
    )
    start = time.perf_counter()
    result = P.compute(engine, P.read_attendances(engine, files), mapping())
    total = time.perf_counter() - start
    t = result.timings
    after_load = total - t["load"]
    checksum = int(result.table["attendances"].sum())
    return {"load_s": t["load"], "measures_s": after_load, "total_s": total, "rows": checksum,
            "groups": len(result.table)}  # fmt: skip


def run_pandas(store: str) -> dict:
    """The baseline: read the columns, derive the quantities, group by each level x period."""
    import pandas as pd

    start = time.perf_counter()
    files = sorted(Path(store).glob("*.parquet"))
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
            "rows": checksum // 16, "groups": groups}  # fmt: skip


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


def child(kind: str, store: str) -> None:
    result = run_pandas(store) if kind == "pandas" else run_fourhour(store, kind)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["peak_mb"] = own + _descendants_peak_mb()  # Spark: the driver plus its JVM
    print(json.dumps(result), flush=True)
    os._exit(0)  # do not wait for Spark's shutdown hooks


def measure(kind: str, store: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(store)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(lines[-1])


def main() -> None:
    from fourhour.ingest.patients.synthetic import generate_year
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.patients import ingest_patients, store_dir

    print(f"\n== Patient-level measures: a SYNTHETIC year of {ROWS:,} attendances ==")
    with tempfile.TemporaryDirectory(prefix="fourhour-patients-") as tmp:
        raw = Path(tmp) / "raw"
        start = time.perf_counter()
        files = generate_year(raw, rows=ROWS, n_providers=PROVIDERS)
        size = sum(f.stat().st_size for f in files) / 1e6
        print(f"  generated in {time.perf_counter() - start:.1f} s ({size:,.0f} MB of Parquet)")
        start = time.perf_counter()
        with open_warehouse(Path(tmp) / "w.duckdb") as wh:
            for f in files:
                ingest_patients(wh, f)
            store = store_dir(wh)
        took = time.perf_counter() - start
        print(f"  validated and stored in {took:.1f} s ({ROWS / took:,.0f} rows/s)")
        results = {k: measure(k, store) for k in ("duckdb", "pandas", "spark")}
    head = f"  {'':<20}{'load s':>9}{'measures s':>12}{'total s':>9}{'peak MB':>9}{'groups':>8}"
    print(head)
    names = {
        "duckdb": "fourhour on DuckDB",
        "pandas": "pandas baseline",
        "spark": "fourhour on Spark",
    }
    for kind, r in results.items():
        if "error" in r:
            print(f"  {names[kind]:<20} failed: {r['error']}")
            continue
        print(
            f"  {names[kind]:<20}{r['load_s']:>9.2f}{r['measures_s']:>12.2f}{r['total_s']:>9.2f}"
            f"{r['peak_mb']:>9.0f}{r['groups']:>8,}"
        )
    duck = results["duckdb"]
    if "error" not in duck:
        for kind in ("pandas", "spark"):
            r = results[kind]
            if "error" in r:
                continue
            print(
                f"  DuckDB vs {kind}: {r['measures_s'] / duck['measures_s']:.1f}x faster after "
                f"load, {r['total_s'] / duck['total_s']:.1f}x end to end"
            )
        ok = "meets" if duck["measures_s"] <= 2 else "misses"
        print(f"  target 2 s after load: {ok} ({duck['measures_s']:.2f} s); "
              f"target 1.5 GB: {'meets' if duck['peak_mb'] <= 1536 else 'misses'} "
              f"({duck['peak_mb']:.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
