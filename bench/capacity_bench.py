"""Capacity model benchmark: the compiled engine against the SimPy reference on the default
trust (about 600 beds, a year, SYNTHETIC).

Run with `make bench` (or `.venv/bin/python bench/capacity_bench.py [--simpy-replications N]`).
Prints, in one run: the engine's compile (or cache load) time, its time per replication on one
thread and with every thread, 200 replications of a year, the SimPy reference's time per
replication, the ratios, and the main measures from both side by side. Asserts nothing.

Targets (issue 6): at least 25x faster than SimPy; 200 replications of a year for a 600-bed
trust in at most 10 seconds on the 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.simpy_reference import simulate_reference

from fourhour.capacity import engine
from fourhour.capacity.confidence import mean_interval
from fourhour.capacity.inputs import engine_inputs
from fourhour.capacity.results import CapacityResult
from fourhour.capacity.scenario import default_scenario
from fourhour.capacity.simulate import replication_seeds, simulate, warm_up_engine

TARGET_RATIO = 25.0
TARGET_SECONDS = 10.0
REPLICATIONS = 200
SINGLE_THREAD_REPLICATIONS = 10
MEASURES = (
    ("type1_pct", "type 1 within 4 hours %"),
    ("all_types_pct", "all types within 4 hours %"),
    ("mean_occupancy_pct", "mean occupancy %"),
    ("waited_for_bed_pct", "admitted who waited for a bed %"),
    ("dta_over_12h", "12-hour decision-to-admit waits"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simpy-replications", type=int, default=3)
    args = parser.parse_args()
    s = default_scenario()
    inputs = engine_inputs(s)
    print(
        f"capacity bench: {s.name}, {s.beds} beds (+{s.pools[0].escalation_beds} escalation), "
        f"{s.arrivals.per_day:g} arrivals a day, {s.period.days} days measured "
        f"(+{s.period.warm_up_days} warm-up, +{s.period.cool_down_days} cool-down)"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"numba {numba.__version__} ({numba.get_num_threads()} threads, "
        f"{numba.threading_layer() if _threads_started() else 'threading layer not started'})"
    )

    t = time.perf_counter()
    warm_up_engine()
    engine.simulate_one(replication_seeds(0, 1)[0], *inputs.args())
    print(f"  engine compile or cache load: {time.perf_counter() - t:.1f} s (once per install)")

    seeds = replication_seeds(s.seed, SINGLE_THREAD_REPLICATIONS)
    t = time.perf_counter()
    for seed in seeds:
        engine.simulate_one(seed, *inputs.args())
    one_thread = (time.perf_counter() - t) / len(seeds)

    t = time.perf_counter()
    result = simulate(s, REPLICATIONS)
    wall = time.perf_counter() - t
    parallel = wall / REPLICATIONS

    t = time.perf_counter()
    ref_metrics, ref_hists = simulate_reference(s, args.simpy_replications, seed=s.seed + 1)
    simpy = (time.perf_counter() - t) / args.simpy_replications
    reference = CapacityResult(
        s, ref_metrics[:, 0], ref_metrics, ref_hists, inputs.measured_minutes, 0.0
    )

    patients = result.metrics[:, engine.M["att_type1"]] + result.metrics[:, engine.M["att_type3"]]
    print(f"  patients per replication: {patients.mean():,.0f} attendances")
    rows = [
        ("engine, one thread", f"{1000 * one_thread:,.1f} ms", f"{simpy / one_thread:,.0f}x"),
        (
            f"engine, {numba.get_num_threads()} threads",
            f"{1000 * parallel:,.1f} ms",
            f"{simpy / parallel:,.0f}x",
        ),
        ("SimPy reference, one thread", f"{1000 * simpy:,.0f} ms", "1x"),
    ]
    print()
    _table(("time per replication of a year", "time", "faster than SimPy"), rows)
    print()
    ok_ratio = simpy / one_thread >= TARGET_RATIO
    ok_wall = wall <= TARGET_SECONDS
    print(
        f"  {REPLICATIONS} replications of a year: {wall:.2f} s "
        f"(target <= {TARGET_SECONDS:g} s: {'met' if ok_wall else 'MISSED'})"
    )
    print(
        f"  speed-up, like for like on one thread: {simpy / one_thread:,.0f}x "
        f"(target >= {TARGET_RATIO:g}x: {'met' if ok_ratio else 'MISSED'})"
    )
    print()
    per, ref = result.per_replication(), reference.per_replication()
    rows = []
    for name, label in MEASURES:
        a, b = mean_interval(per[name]), mean_interval(ref[name])
        rows.append((label, _ci(a), _ci(b)))
    _table(
        (
            "measure (95% intervals)",
            f"engine, {REPLICATIONS} reps",
            f"SimPy, {args.simpy_replications} reps",
        ),
        rows,
    )


def _threads_started() -> bool:
    try:
        numba.threading_layer()
    except ValueError:
        return False
    return True


def _ci(ci) -> str:
    if np.isnan(ci.low):
        return f"{ci.mean:,.1f}"
    return f"{ci.mean:,.1f} ({ci.low:,.1f} - {ci.high:,.1f})"


def _table(headers, rows) -> None:
    cells = [list(headers)] + [list(r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for j, r in enumerate(cells):
        line = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        print("  " + "  ".join(line))
        if j == 0:
            print("  " + "  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
