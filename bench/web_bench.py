"""Load benchmark of `fourhour serve`: 50 concurrent clients on loopback against a warehouse of
two years of weekly returns for every provider (the synthetic demo set: 140 providers, 104
weeks, with its organisation mapping, leaders, trajectories and allocations; its web pages
precomputed, as `fourhour ingest` leaves a warehouse).

    .venv/bin/python bench/web_bench.py [--clients 50] [--seconds 20] [--think 0]
        [--warehouse PATH [--sample 5]]

With --warehouse (one built by `fourhour ingest ../shared/data -w PATH`, which precomputes the
league tables; `fourhour precompute` is run on the copy if it has not), copies of that warehouse
are served twice, each by a fresh server process with empty in-memory caches:

- baseline: the copy with the precomputed leagues marked stale (as after an ingest that did not
  precompute): pages computed live, the latest period prewarmed at start-up;
- precomputed: the copy as the ingest left it.

Each gets the same URLs: for `--periods` periods of each era held (weeks of 2010-15, months of
2016-19, of the 2019-23 field test, of 2023-25 and of 2025-26), England, the three league
tables, a provider, a system and a region (a different one for each period), and the API's
league, England and provider for the period. Cold: each URL's first request, one at a time;
warm: then `--clients` concurrent clients over the same URLs. It prints p50/p95/p99 of both,
the errors, the ratios precomputed/baseline, and the load average of the machine.

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
from typing import Any

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
    from fourhour.web.precompute import precompute

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
        precompute(wh)  # as `fourhour ingest` does after every ingest
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
    parser.add_argument("--periods", type=int, default=3, help="periods per era (--warehouse)")
    args = parser.parse_args()
    if not 1 <= args.clients <= 500 or not 1 <= args.seconds <= 300:
        raise SystemExit("--clients 1-500, --seconds 1-300")

    with tempfile.TemporaryDirectory(prefix="fourhour-web-bench-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        if args.warehouse is not None:
            return real(args, root)
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


ERAS = (  # (name, granularity, first period start, last period start)
    ("weeks 2010-15", "week", None, None),
    ("months 2016-19", "month", "2016-04-01", "2019-04-01"),
    ("months 2019-23 (field test)", "month", "2019-05-01", "2023-05-01"),
    ("months 2023-25", "month", "2023-06-01", "2025-03-01"),
    ("months 2025-26", "month", "2025-04-01", None),
)


def era_periods(con: Any, per_era: int) -> tuple[list[tuple[str, Any, Any]], list[str]]:
    """`per_era` periods spread over each era held: (granularity, start, end); era names."""
    chosen, names = [], []
    for name, granularity, first, last in ERAS:
        periods = [r for r in con.execute(
            "SELECT DISTINCT period_start, period_end FROM provider_returns WHERE granularity = ? "
            "AND period_start >= coalesce(CAST(? AS DATE), DATE '2000-01-01') "
            "AND period_start <= coalesce(CAST(? AS DATE), DATE '2099-01-01') ORDER BY 1",
            [granularity, first, last],
        ).fetchall()]  # fmt: skip
        if not periods:
            continue
        names.append(f"{name} ({len(periods)} held)")
        step = max(1, len(periods) // per_era)
        chosen += [(granularity, *p) for p in periods[step // 2 :: step][:per_era]]
    return chosen, names


def era_urls(con: Any, periods: list[tuple[str, Any, Any]]) -> list[tuple[str, str]]:
    """England, the leagues, a provider, a system and a region (a different one for each
    period) and API calls for each period."""
    urls: list[tuple[str, str]] = []
    for k, (granularity, start, end) in enumerate(periods):
        q = f"week={end}" if granularity == "week" else f"month={start:%Y-%m}"
        codes = {}
        for level in ("provider", "system", "region"):
            rows = [r[0] for r in con.execute(
                "SELECT code FROM web_league_rows WHERE level = ? AND granularity = ? "
                "AND period_end = ? ORDER BY position", [level, granularity, end],
            ).fetchall()]  # fmt: skip
            codes[level] = rows[(7 * k + 3) % len(rows)] if rows else None
        urls += [("page", f"{page}?{q}") for page in ("/", "/providers", "/systems", "/regions")]
        urls += [
            ("page", f"/{plural}/{codes[level]}?{q}")
            for level, plural in (("provider", "providers"), ("system", "systems"),
                                  ("region", "regions"))
            if codes[level]
        ]  # fmt: skip
        urls += [("api", f"/api/v1/providers?{q}"), ("api", f"/api/v1/england?{q}")]
        if codes["provider"]:
            urls.append(("api", f"/api/v1/providers/{codes['provider']}?{q}"))
    return urls


def serve(warehouse: Path, cwd: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen(
        [str(FOURHOUR), "serve", "--port", str(port), "--warehouse", str(warehouse)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd,
    )  # fmt: skip
    deadline = time.perf_counter() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            if time.perf_counter() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start") from None
            time.sleep(0.2)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:  # pragma: no cover
        server.kill()


async def cold_pass(port: int, urls: list[tuple[str, str]]) -> dict:
    """Each URL's first request, one at a time (a fresh server: nothing cached)."""
    out: dict[str, list[float]] = {"page": [], "api": []}
    errors: list[str] = []
    slowest: list[tuple[float, str]] = []
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for kind, url in urls:
        started = time.perf_counter()
        status = await fetch(reader, writer, url)
        ms = (time.perf_counter() - started) * 1000
        out[kind].append(ms)
        slowest.append((ms, url))
        if status >= 400:
            errors.append(f"{status} {url}")
    writer.close()
    return {"out": out, "errors": errors, "slowest": sorted(slowest, reverse=True)[:3]}


def load_text() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def real(args: argparse.Namespace, root: Path) -> int:
    """Baseline (live) and precomputed servers over copies of a real warehouse."""
    import shutil

    import duckdb

    from fourhour.periods import month, week_ending
    from fourhour.warehouse import open_warehouse
    from fourhour.web import precompute

    source = root / "source.duckdb"
    shutil.copyfile(args.warehouse, source)
    with open_warehouse(source) as wh:  # migrates an older warehouse
        periods, eras = era_periods(wh.con, args.periods)
        if not precompute.current(wh):
            # Not precomputed (or stale): compute the periods requested, as a full
            # `fourhour precompute` would store them; the pages served are the same.
            started = time.perf_counter()
            outcome = precompute.precompute(
                wh,
                only=[week_ending(e) if g == "week" else month(s.year, s.month)
                      for g, s, e in periods],
            )  # fmt: skip
            print(f"precompute of the {len(periods)} periods requested only (the warehouse "
                  f"had not run it): {outcome.text()}")  # fmt: skip
        urls = era_urls(wh.con, periods)
    random.Random(1).shuffle(urls)
    print(f"warehouse: a copy of {args.warehouse}; {len(urls)} URLs over "
          f"{len(eras)} eras: {', '.join(eras)}")  # fmt: skip
    results = {}
    for name in ("baseline", "precomputed"):
        served = root / f"{name}.duckdb"
        shutil.copyfile(source, served)
        if name == "baseline":  # as after an ingest that did not precompute: computed live
            con = duckdb.connect(str(served))
            con.execute("DELETE FROM web_precompute_state")
            con.close()
        print(f"\n{name}: {load_text()}")
        server, port = serve(served, root)
        try:
            started = time.perf_counter()
            cold = asyncio.run(cold_pass(port, urls))
            print(f"cold, first request of each URL one at a time, fresh server "
                  f"({time.perf_counter() - started:.0f} s):")  # fmt: skip
            print(report("  cold pages", cold["out"]["page"], 0))
            print(report("  cold API", cold["out"]["api"], 0))
            every = cold["out"]["page"] + cold["out"]["api"]
            print(report("  cold all", every, 0))
            print("  slowest: " + "; ".join(f"{ms:.0f} ms {u}" for ms, u in cold["slowest"]))
            warm = asyncio.run(load(port, urls, args.clients, args.seconds, args.think))
            print(f"warm, {args.clients} concurrent clients for {args.seconds:g} s:")
            print(report("  warm pages", warm["out"]["page"], args.seconds))
            print(report("  warm API", warm["out"]["api"], args.seconds))
            print(report("  warm all", warm["out"]["page"] + warm["out"]["api"], args.seconds))
            errors = cold["errors"] + warm["errors"]
            print(f"errors: {len(errors)}" + (f", e.g. {errors[:3]}" if errors else ""))
            print(f"after: {load_text()}")
        finally:
            stop(server)
        results[name] = (every, warm["out"]["page"] + warm["out"]["api"], errors)
    print("\nprecomputed against baseline (baseline / precomputed: how many times faster):")
    for label, index in (("cold", 0), ("warm", 1)):
        base, pre = results["baseline"][index], results["precomputed"][index]
        print(f"  {label}: " + "   ".join(
            f"p{round(q * 100)} {pct(pre, q):.0f} ms vs {pct(base, q):.0f} ms "
            f"({pct(base, q) / max(pct(pre, q), 1e-9):.1f}x)" for q in (0.5, 0.95, 0.99)
        ))  # fmt: skip
    cold, warm, errors = results["precomputed"]
    worst = max(cold)
    print(f"target cold <= {TARGET_COLD_MS:g} ms for every first request: "
          f"{'met' if worst <= TARGET_COLD_MS else 'NOT met'} (max {worst:.0f} ms, "
          f"p95 {pct(cold, 0.95):.0f} ms)")  # fmt: skip
    p95 = pct(warm, 0.95)
    print(f"target warm p95 <= {TARGET_P95_MS:g} ms, no errors: "
          f"{'met' if p95 <= TARGET_P95_MS and not errors else 'NOT met'} (p95 {p95:.1f} ms, "
          f"{len(errors)} errors)")  # fmt: skip
    return 0


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
