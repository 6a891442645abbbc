"""How the two SPC presets differ on the real data, one difference at a time.

Run with `.venv/bin/python bench/spc_presets.py [-w WAREHOUSE]`. Prints figures only; times
nothing. Without `-w` it ingests `<repo>/../shared/data/weekly-type1-2010-2015` and
`nhsrdatasets` into a temporary warehouse (about a minute), and skips where they are absent.

For the week ending 8 March 2015 (type 1, 104 weeks of history) and March 2019 (all types, 36
months), as the board report and the web compute them (`fourhour.report.series.
performance_spc`), it walks from Making Data Count to NHSRplotthedots changing one field of the
`Preset` at a time, and counts the points whose rule or type changes and the organisations whose
icons change at each step. The last step must equal the `nhsrplotthedots` preset.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from fourhour.measures import spc
from fourhour.periods import Period, month, week_ending
from fourhour.report.series import HISTORY, org_series, performance_spc
from fourhour.warehouse import Warehouse, open_warehouse
from fourhour.warehouse.load import ingest_file

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FOLDERS = ("weekly-type1-2010-2015", "nhsrdatasets")
CASES = ((week_ending(dt.date(2015, 3, 8)), "type1"), (month(2019, 3), "all_types"))
STEPS: tuple[tuple[str, dict[str, object]], ...] = (
    ("limits, flags and icons from 1 point", {"min_points": 1, "icons_without_limits": True}),
    ("moving ranges screened (equal ones too)", {"screen_moving_ranges": True}),
    ("missing periods ignored", {"gaps_break": False, "rebase_on_a_period": True}),
    ("two-sigma lines at 2/3 x 2.66", {"near_factor": spc.PTD_NEAR_FACTOR}),
    ("two-in-three: points beyond the limits do not count", {"two_in_three_beyond_3sigma": False}),
    ("two-in-three: all three on one side of the mean", {"two_in_three_same_side": True}),
    ("a point between two trends read by its next step", {"trend_junction": "following"}),
)
STEP = "bench-step"
ZERO_SCREENED = {"screen_keeps_equal": False, "trial_below": spc.PTD_SHORT_POINTS}


@contextmanager
def rule_set(fields: dict[str, object]) -> Iterator[str]:
    """Making Data Count with `fields` changed, registered under a temporary name."""
    spc.PRESET_RULES[STEP] = dataclasses.replace(spc.MAKING_DATA_COUNT, name=STEP, **fields)
    try:
        yield STEP
    finally:
        del spc.PRESET_RULES[STEP]


def reading(result: spc.SpcResult) -> tuple[pd.Series, pd.Series, pd.Series]:
    p, s = result.points, result.summary
    rule = p["rule"].fillna("-") + "/" + p["special_cause"].fillna("-")
    kind = p["special_cause"].fillna("common cause")
    icons = s["variation_icon"].fillna("-") + "|" + s["assurance_icon"].fillna("-")
    return rule, kind, icons


def compare(wh: Warehouse, period: Period, basis: str) -> None:
    history = org_series(wh, period, HISTORY[period.granularity])
    column = f"{basis}_performance_pct"
    mdc = performance_spc(history, column, period.granularity, spc.MAKING_DATA_COUNT.name)
    ptd = performance_spc(history, column, period.granularity, spc.NHSRPLOTTHEDOTS.name)
    print(
        f"\n{period.label}, {basis}: {len(mdc.summary)} organisations, {len(mdc.points)} points "
        f"({HISTORY[period.granularity]} {period.granularity}s of history)"
    )
    a, b = mdc.points, ptd.points
    both = a["ucl"].notna() & b["ucl"].notna()
    moved = both & ((a["ucl"] - b["ucl"]).abs() > 1e-9)
    centred = a["mean"].notna() & b["mean"].notna()
    same_mean = bool(((a["mean"] - b["mean"]).abs() < 1e-9)[centred].all())
    print(
        f"  points with limits: making-data-count {int(a['ucl'].notna().sum())}, "
        f"nhsrplotthedots {int(b['ucl'].notna().sum())}; the same mean wherever both have one: "
        f"{same_mean}; limits moved by screening for {a.loc[moved, 'code'].nunique()} "
        "organisations"
    )
    rule0, kind0, icons0 = reading(mdc)
    rule1, kind1, icons1 = reading(ptd)
    print(
        f"  in all: {int((rule0 != rule1).sum())} points change rule, "
        f"{int((kind0 != kind1).sum())} change type; {int((icons0 != icons1).sum())} "
        "organisations change an icon"
    )
    fields: dict[str, object] = dict(ZERO_SCREENED)
    previous = (rule0, kind0, icons0)
    for name, change in STEPS:
        fields.update(change)
        with rule_set(fields) as preset:
            now = reading(performance_spc(history, column, period.granularity, preset))
        print(
            f"  + {name:52} {int((now[0] != previous[0]).sum()):5} points change rule, "
            f"{int((now[1] != previous[1]).sum()):4} type; "
            f"{int((now[2] != previous[2]).sum()):3} organisations an icon"
        )
        previous = now
    assert previous[0].equals(rule1) and previous[2].equals(icons1), "steps must end at the preset"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-w", "--warehouse", type=Path, help="a warehouse holding the real data")
    args = parser.parse_args()
    if args.warehouse:
        with open_warehouse(args.warehouse, read_only=True) as wh:
            for period, basis in CASES:
                compare(wh, period, basis)
        return
    if not all((DATA / f).is_dir() for f in FOLDERS):
        print(f"skipped: the real data is not at {DATA}")
        return
    with tempfile.TemporaryDirectory() as tmp, open_warehouse(Path(tmp) / "real.duckdb") as wh:
        for folder in FOLDERS:
            for f in sorted((DATA / folder).iterdir()):
                if f.suffix.lower() in (".csv", ".xlsx", ".xls"):
                    ingest_file(wh, f)
        for period, basis in CASES:
            compare(wh, period, basis)


if __name__ == "__main__":
    main()
