"""Forecast benchmark: every trust, system, region and England, 12 months ahead, on real data.

Run with `.venv/bin/python bench/forecast_bench.py` (part of `make bench`). Prints figures only.

The monthly provider returns in `<repo>/../shared/data` are ingested into a temporary warehouse
(never copied into the repository). The forecast starts from the latest month that has the two
years of history a forecast needs. Timed, in the same run:
- the baseline: the seasonal-naive forecast alone (no model choice), reconciled;
- the full forecast (ETS and Theta chosen per series by rolling-origin backtest, MinT-shrink),
  once cold (statsforecast's first compile) and once warm.
The target (issue 15) is under 30 s for the full forecast on a 2-core machine.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FOLDERS = (
    "nhsrdatasets",
    "monthly-by-provider-2019-2023",
    "monthly-by-provider-2023-24-xls",
    "monthly-by-provider-2024-25",
    "monthly-by-provider-2025-26",
)


def main() -> None:
    started = time.perf_counter()
    from fourhour.forecast import ForecastError, run_forecast
    from fourhour.forecast.backtest import origins_for
    from fourhour.warehouse import open_warehouse
    from fourhour.warehouse.load import ingest_file

    import_s = time.perf_counter() - started
    if not DATA.is_dir():
        print(f"forecast bench: real data not found at {DATA}; nothing to time")
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        skipped = []
        with open_warehouse(db) as wh:
            for folder in FOLDERS:
                if not (DATA / folder).is_dir():
                    continue
                for f in sorted((DATA / folder).iterdir()):
                    if f.suffix.lower() not in (".csv", ".xls", ".xlsx"):
                        continue
                    try:
                        ingest_file(wh, f)
                    except Exception as exc:  # files another branch learns to read
                        skipped.append(f"{f.name}: {type(exc).__name__}")
        with open_warehouse(db, read_only=True) as wh:
            origin = _origin(wh, origins_for, ForecastError)
            print(f"forecast bench ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"  load average (1, 5, 15 min) at the start: {load}")
            print(f"  imports (statsforecast loads lazily): {import_s:.1f} s")
            if skipped:
                print(f"  files not ingested on this branch: {len(skipped)}")
            print(f"  origin: {origin:%B %Y}, 12 months ahead")
            t = time.perf_counter()
            base = run_forecast(wh, origin=origin, horizon=12, models=())
            base_s = time.perf_counter() - t
            n_trusts = len(base.history.parents)
            n_nodes = len(base.nodes)
            print(
                f"  organisations: {n_trusts} trusts, {n_nodes - n_trusts - 1} systems and "
                f"regions, England ({n_nodes} in all)"
            )
            print(f"  baseline (seasonal naive only, reconciled): {base_s:6.1f} s")
            for label in ("cold", "warm"):
                t = time.perf_counter()
                run_forecast(wh, origin=origin, horizon=12)
                s = time.perf_counter() - t
                print(
                    f"  full forecast ({label}): {s:6.1f} s  ({s / base_s:.1f} x the baseline; "
                    f"target under 30 s: {'met' if s < 30 else 'MISSED'})"
                )


def _origin(wh, origins_for, error) -> dt.date:
    """The latest month with enough history (the latest origin a backtest could use, or the
    last month of returns where that forecast works)."""
    latest = wh.con.execute(
        "SELECT max(period_end) FROM provider_returns WHERE granularity = 'month'"
    ).fetchone()[0]
    try:
        from fourhour.forecast import load_history

        load_history(wh, "month", latest)
        return latest
    except error:
        found = origins_for(wh, "monthly")
        if not found:
            raise
        # origins_for leaves out the last period; any month with enough history will do.
        return max(found)


if __name__ == "__main__":
    main()
