"""Benchmark of the SPC engine (`fourhour.measures.spc`) against a naive per-organisation loop.

Run with `.venv/bin/python bench/spc_bench.py`; bench/run.py runs it too, as its last section.
Prints figures only; asserts nothing (it does check that the two implementations agree).

Two data sets:
- real: every weekly provider return in `<repo>/../shared/data/weekly-type1-2010-2015`
  (about 150 providers × 227 weeks, type 1 performance), ingested into a fresh DuckDB
  warehouse in a temporary directory that is removed at the end; skipped where absent;
- synthetic: 200 organisations × 500 weeks of random performance, seeded.

The naive baseline is the straightforward way to write the same limits and the outside-the-
limits rule: a Python loop over organisations and, within each, over the points. The engine
computes all four rules, gaps, icons and reasons; the baseline only limits and rule 1, so the
ratio understates the engine's advantage.
"""

from __future__ import annotations

import itertools
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from fourhour.measures.spc import LIMIT_FACTOR, SpcOptions, laney_p, xmr
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WEEKLY = DATA / "weekly-type1-2010-2015"
REPEATS = 5
MIN_POINTS = SpcOptions().min_points
SEED = 20231101


# ---------------------------------------------------------------------------------- data


def real_weekly(tmp: Path) -> pd.DataFrame:
    """Weekly type 1 counts and performance per provider, from a fresh warehouse."""
    with open_warehouse(tmp / "spc-real.duckdb") as wh:
        for f in sorted(p for p in WEEKLY.iterdir() if p.suffix == ".csv"):
            ingest_file(wh, f)
        return wh.con.execute(
            """SELECT org_code AS code, period_end,
                      att_type1 - br_type1 AS within, att_type1 AS attendances,
                      100.0 * (att_type1 - br_type1) / att_type1 AS value
               FROM provider_returns
               WHERE granularity = 'week' AND att_type1 > 0
               ORDER BY random()"""  # the engine sorts; make it do so
        ).df()


def synthetic(orgs: int = 200, weeks: int = 500) -> pd.DataFrame:
    """Random weekly performance with a level per organisation and a little drift."""
    rng = np.random.default_rng(SEED)
    ends = pd.date_range("2015-01-04", periods=weeks, freq="W-SUN")
    level = rng.uniform(70, 95, orgs)
    drift = np.cumsum(rng.normal(0, 0.3, (orgs, weeks)), axis=1)
    value = np.clip(level[:, None] + drift + rng.normal(0, 2.5, (orgs, weeks)), 0, 100)
    attendances = rng.integers(1500, 9000, (orgs, weeks))
    frame = pd.DataFrame(
        {
            "code": np.repeat([f"R{i:03d}" for i in range(orgs)], weeks),
            "period_end": np.tile(ends, orgs),
            "attendances": attendances.ravel(),
            "within": np.round(attendances * value / 100).ravel(),
        }
    )
    frame["value"] = frame["within"] / frame["attendances"] * 100
    return frame.sample(frac=1.0, random_state=SEED)  # shuffled: the engine sorts


# ------------------------------------------------------------------------------ baseline


def naive_xmr(frame: pd.DataFrame) -> pd.DataFrame:
    """Limits and rule 1 the straightforward way: a loop per organisation and per point."""
    rows = []
    for code, group in frame.groupby("code", sort=True):
        ordered = group.sort_values("period_end")
        values = ordered["value"].tolist()
        periods = ordered["period_end"].tolist()
        if len(values) < MIN_POINTS:
            for period, v in zip(periods, values, strict=True):
                rows.append((code, period, v, math.nan, math.nan, math.nan, False))
            continue
        mean = sum(values) / len(values)
        ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
        mean_range = sum(ranges) / len(ranges)
        ucl, lcl = mean + LIMIT_FACTOR * mean_range, mean - LIMIT_FACTOR * mean_range
        for period, v in zip(periods, values, strict=True):
            rows.append((code, period, v, mean, ucl, lcl, v > ucl or v < lcl))
    return pd.DataFrame(
        rows, columns=["code", "period_end", "value", "mean", "ucl", "lcl", "outside"]
    )


def agree(frame: pd.DataFrame) -> str:
    """Do the engine (without gap detection, as the loop has none) and the loop agree?"""
    engine = xmr(frame).points
    loop = naive_xmr(frame)
    same_limits = np.allclose(engine["ucl"], loop["ucl"], equal_nan=True) and np.allclose(
        engine["lcl"], loop["lcl"], equal_nan=True
    )
    same_rule = ((engine["rule"] == "astronomical").to_numpy() == loop["outside"].to_numpy()).all()
    return "yes" if same_limits and same_rule else "NO: limits or rule 1 differ"


# ---------------------------------------------------------------------------------- timing


def median_ms(fn: Callable[[], object], times: int = REPEATS) -> float:
    ms = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - start) * 1000)
    return statistics.median(ms)


def report(label: str, frame: pd.DataFrame) -> None:
    orgs, n = frame["code"].nunique(), len(frame)
    print(f"\n  {label}: {orgs} organisations, {n:,} points")
    cases = [
        ("xmr, freq='W-SUN' (all rules, gaps, icons)", lambda: xmr(frame, freq="W-SUN")),
        ("xmr, no freq", lambda: xmr(frame)),
        (
            "laney_p, freq='W-SUN'",
            lambda: laney_p(frame, numerator="within", denominator="attendances", freq="W-SUN"),
        ),
        ("naive loop: limits + rule 1 only", lambda: naive_xmr(frame)),
    ]
    timings = [(name, median_ms(fn)) for name, fn in cases]
    naive = timings[-1][1]
    width = max(len(name) for name, _ in timings)
    print(f"    {'':{width}}  median ms  loop / this")
    for name, ms in timings:
        print(f"    {name:{width}}  {ms:9.1f}  {naive / ms:10.1f} x")
    result = xmr(frame, freq="W-SUN")
    counts = result.points["rule"].value_counts().to_dict()
    icons = result.summary["variation_icon"].value_counts().to_dict()
    print(f"    points flagged by rule: {counts}")
    print(f"    variation icons: {icons}")
    print(f"    engine and loop agree on limits and rule 1: {agree(frame)}")


def main() -> None:
    print("\nSPC engine: xmr and laney_p against a naive per-organisation loop")
    print("=================================================================")
    print(f"  median of {REPEATS} runs each")
    if WEEKLY.is_dir():
        with tempfile.TemporaryDirectory(prefix="fourhour-spc-bench-") as tmp:
            start = time.perf_counter()
            frame = real_weekly(Path(tmp))
            print(
                f"  real weekly data loaded into a warehouse in {time.perf_counter() - start:.1f} s"
            )
        report("real weekly provider returns 2010-2015 (type 1)", frame)
    else:
        print(f"  no real data at {WEEKLY}: synthetic data only")
    report("synthetic 200 x 500 weeks", synthetic())


if __name__ == "__main__":
    main()
