"""Load benchmark of `fourhour serve`: 50 concurrent clients on loopback against a warehouse of
two years of weekly returns for every provider (the synthetic demo set: 140 providers, 104
weeks, with its organisation mapping, leaders, trajectories and allocations).

    .venv/bin/python bench/web_bench.py [--clients 50] [--seconds 20] [--think 0]
        [--warehouse PATH [--sample 5]]

With --warehouse (e.g. one of the real data, `fourhour ingest ../shared/data -w PATH`), a copy
of that warehouse is served instead, and the mix covers one period of each era it holds (the
latest month, the earliest and latest weeks, a month of 2016-2019) for `--sample` providers,
systems and regions of each period.

The server runs as `fourhour serve` in its own process on 127.0.0.1 (a free port). Each
client is a keep-alive HTTP/1.1 connection (a minimal asyncio client, so that the load
generator costs little of the machine's CPU) that requests URLs from a fixed mix of pages and
API calls, one after the other, for a bounded time. A warm-up pass requests every URL once
first (its first-request times are printed too: they include computing the views and
rendering charts); then the timed run prints p50/p95/p99 latency for pages, the API and all.
Everything stops by itself; nothing is sent anywhere but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOURHOUR = Path(sys.executable).with_name("fourhour")
TARGET_P95_MS = 50.0  # warm
TARGET_COLD_MS = 500.0  # any first request


def build_warehouse(root: Path) -> tuple[Path, Path]:
    """The demo's weekly returns and oversight inputs (no patient records), ingested."""
    from fourhour.ingest.synthetic import generate_weekly_returns
    from fourhour.oversight.leaders import import_leaders
    from fourhour.oversight.synthetic import generate_oversight_inputs
    from fourhour.oversight.trajectories import import_allocations, import_trajectories
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.hierarchy import import_mapping
    from fourhour.warehouse.load import ingest_file

    files = generate_weekly_returns(root / "data")  # 140 providers, 104 weeks
    path = root / "bench.duckdb"
    with open_warehouse(path) as wh:
        for f in files:
            ingest_file(wh, f)
        inputs = generate_oversight_inputs(wh, root / "data")
        import_mapping(wh, inputs["hierarchy"])
        import_leaders(wh, inputs["leaders"])
        import_trajectories(wh, inputs["trajectories"])
        import_allocations(wh, inputs["allocations"])
    return path, inputs["funding_rules"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url_mix(codes: list[str], systems: list[str], regions: list[str]) -> list[tuple[str, str]]:
    pages = ["/", "/providers", "/systems", "/regions", "/oversight", "/oversight/funding"]
    pages += [f"/providers/{c}" for c in codes]
    pages += [f"/systems/{c}" for c in systems] + [f"/regions/{c}" for c in regions]
    pages += [f"/providers?region={regions[0]}", "/providers?download=providers"]
    api = ["/api/v1/periods", "/api/v1/england", "/api/v1/providers", "/api/v1/systems"]
    api += ["/api/v1/regions", "/api/v1/oversight/summons", "/api/v1/oversight/escalations"]
    api += [f"/api/v1/providers/{c}" for c in codes] + [f"/api/v1/systems/{c}" for c in systems]
    return [("page", u) for u in pages] + [("api", u) for u in api]


async def fetch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding" and "chunked" in value:
            chunked = True
    if chunked:  # pragma: no cover - fourhour sends lengths
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status


async def client(
    port: int,
    urls: list[tuple[str, str]],
    until: float,
    think: float,
    seed: int,
    out: dict[str, list[float]],
    errors: list[str],
) -> None:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            kind, url = rng.choice(urls)
            started = time.perf_counter()
            status = await fetch(reader, writer, url)
            elapsed = (time.perf_counter() - started) * 1000
            if status >= 400:
                errors.append(f"{status} {url}")
            out[kind].append(elapsed)
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(name: str, values: list[float], seconds: float) -> str:
    if not values:
        return f"{name:<6} no requests"
    return (
        f"{name:<6} {len(values):>7,} requests "
        + (f"{len(values) / seconds:>7,.0f}/s   " if seconds else "  ")
        + f"p50 {pct(values, 0.50):6.1f} ms   p95 {pct(values, 0.95):6.1f} ms   "
        f"p99 {pct(values, 0.99):6.1f} ms   max {max(values):7.1f} ms"
    )


async def warm_up(port: int, urls: list[tuple[str, str]]) -> dict[str, list[float]]:
    first: dict[str, list[float]] = {"page": [], "api": []}
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for kind, url in urls:
        started = time.perf_counter()
        status = await fetch(reader, writer, url)
        first[kind].append((time.perf_counter() - started) * 1000)
        if status >= 400:
            raise SystemExit(f"warm-up: {url} answered {status}")
    writer.close()
    return first


async def load(port: int, urls: list, clients: int, seconds: float, think: float) -> dict:
    out: dict[str, list[float]] = {"page": [], "api": []}
    errors: list[str] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(client(port, urls, until, think, i, out, errors) for i in range(clients))
    )
    return {"out": out, "errors": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between requests")
    parser.add_argument("--warehouse", type=Path, help="serve a copy of this warehouse instead")
    parser.add_argument("--sample", type=int, default=5, help="organisations per period")
    args = parser.parse_args()
    if not 1 <= args.clients <= 500 or not 1 <= args.seconds <= 300:
        raise SystemExit("--clients 1-500, --seconds 1-300")

    with tempfile.TemporaryDirectory(prefix="fourhour-web-bench-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        if args.warehouse is not None:
            import shutil

            warehouse, rules = root / "served.duckdb", None
            shutil.copyfile(args.warehouse, warehouse)
            urls = era_mix(warehouse, args.sample)
            print(f"warehouse: a copy of {args.warehouse}; {len(urls)} URLs over its eras")
        else:
            warehouse, rules = build_warehouse(root)
            print(
                f"warehouse: 140 providers x 104 weeks, built in "
                f"{time.perf_counter() - started:.1f} s"
            )
            urls = demo_mix(warehouse)
        port = free_port()
        env = dict(os.environ)
        rule_args = ["--funding-rules", str(rules)] if rules else []
        server = subprocess.Popen(
            [str(FOURHOUR), "serve", "--port", str(port), "--warehouse", str(warehouse),
             *rule_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=root,
        )  # fmt: skip
        try:
            deadline = time.perf_counter() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.perf_counter() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            started = time.perf_counter()
            first = asyncio.run(warm_up(port, urls))
            cold = first["page"] + first["api"]
            print(f"cold (first request of each URL, one at a time, {len(urls)} URLs in "
                  f"{time.perf_counter() - started:.1f} s):")  # fmt: skip
            print(report("  cold pages", first["page"], 0))
            print(report("  cold API", first["api"], 0))
            print(report("  cold all", cold, 0))
            result = asyncio.run(load(port, urls, args.clients, args.seconds, args.think))
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:  # pragma: no cover
                server.kill()
    return summary(args, result, cold)


def demo_mix(warehouse: Path) -> list[tuple[str, str]]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    codes = [r[0] for r in con.execute(
            "SELECT DISTINCT org_code FROM provider_returns ORDER BY 1").fetchall()]  # fmt: skip
    systems = [r[0] for r in con.execute(
            "SELECT DISTINCT system_code FROM org_hierarchy WHERE valid_to IS NULL ORDER BY 1"
        ).fetchall()]  # fmt: skip
    regions = [r[0] for r in con.execute(
            "SELECT DISTINCT region_code FROM org_hierarchy ORDER BY 1").fetchall()]  # fmt: skip
    con.close()
    return url_mix(codes, systems, regions)


def era_mix(warehouse: Path, sample: int) -> list[tuple[str, str]]:
    """Pages and API calls for one period of each era the warehouse holds."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    weeks = [r[0] for r in con.execute(
        "SELECT DISTINCT period_end FROM provider_returns WHERE granularity = 'week' ORDER BY 1"
    ).fetchall()]  # fmt: skip
    months = [r[0] for r in con.execute(
        "SELECT DISTINCT period_start FROM provider_returns WHERE granularity = 'month' ORDER BY 1"
    ).fetchall()]  # fmt: skip
    periods = []
    if months:
        periods.append(("month", months[-1].strftime("%Y-%m"), months[-1]))
        older = [m for m in months if m.year < 2019]
        if older:
            periods.append(
                ("month", older[len(older) // 2].strftime("%Y-%m"), older[len(older) // 2])
            )
    if weeks:
        periods += [
            ("week", weeks[-1].isoformat(), weeks[-1]),
            ("week", weeks[0].isoformat(), weeks[0]),
        ]
    urls: list[tuple[str, str]] = [("api", "/api/v1/periods")]
    for g, key, day in periods:
        q = f"{g}={key}"
        codes = [r[0] for r in con.execute(
            "SELECT DISTINCT org_code FROM provider_returns WHERE granularity = ? AND "
            "(period_start = ? OR period_end = ?) ORDER BY 1 LIMIT ?", [g, day, day, sample]
        ).fetchall()]  # fmt: skip
        for page in ("/", "/providers", "/systems", "/regions", "/oversight"):
            urls.append(("page", f"{page}?{q}"))
        urls += [("page", f"/providers/{c}?{q}") for c in codes]
        urls += [("api", f"/api/v1/providers?{q}"), ("api", f"/api/v1/england?{q}")]
        urls += [("api", f"/api/v1/providers/{c}?{q}") for c in codes]
    con.close()
    return urls


def summary(args: argparse.Namespace, result: dict, cold: list[float]) -> int:
    out, errors = result["out"], result["errors"]
    print(
        f"{args.clients} concurrent clients for {args.seconds:g} s, think time {args.think:g} s, "
        f"{os.cpu_count()} CPUs shared by server and load generator:"
    )
    print(report("pages", out["page"], args.seconds))
    print(report("API", out["api"], args.seconds))
    everything = out["page"] + out["api"]
    print(report("all", everything, args.seconds))
    if errors:
        print(f"{len(errors)} errors, e.g. {errors[:3]}")
    p95 = pct(everything, 0.95) if everything else float("inf")
    verdict = "met" if p95 <= TARGET_P95_MS and not errors else "NOT met"
    print(f"target warm p95 <= {TARGET_P95_MS:g} ms, no errors: {verdict} (p95 {p95:.1f} ms)")
    worst = max(cold) if cold else float("inf")
    verdict = "met" if worst <= TARGET_COLD_MS else "NOT met"
    print(f"target cold <= {TARGET_COLD_MS:g} ms per first request: {verdict} "
          f"(max {worst:.0f} ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
