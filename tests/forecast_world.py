"""A small synthetic world for the forecast tests, ingested by fourhour itself.

Six invented trusts in three systems and two regions, monthly returns in the NHS-R tidy layout
(seasonal demand, a winter dip in performance, seeded noise) and a dated organisation mapping.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from fourhour.warehouse import open_warehouse
from fourhour.warehouse.hierarchy import import_mapping
from fourhour.warehouse.load import ingest_file

TRUSTS = {
    # code: (system, region, type 1 monthly attendances, type 3 attendances)
    "RAA": ("QAA", "Y01", 9000, 3000),
    "RAB": ("QAA", "Y01", 6000, 0),
    "RAC": ("QAB", "Y01", 12000, 5000),
    "RAD": ("QAC", "Y02", 7000, 2500),
    "RAE": ("QAC", "Y02", 5000, 0),
    "RAF": ("QAC", "Y02", 8000, 4000),
}
START = dt.date(2016, 4, 1)


def months(n: int, start: dt.date = START) -> list[dt.date]:
    out, y, m = [], start.year, start.month
    for _ in range(n):
        out.append(dt.date(y, m, 1))
        y, m = y + (m == 12), m % 12 + 1
    return out


def returns_csv(path: Path, n_months: int, seed: int = 7, short: dict | None = None) -> Path:
    """Monthly returns; `short` maps a trust to the number of months it has (the latest)."""
    rng = np.random.default_rng(seed)
    lines = ["period,org_code,type,attendances,breaches,admissions"]
    all_months = months(n_months)
    for code, (_, _, t1, t3) in TRUSTS.items():
        kept = all_months[-(short or {}).get(code, n_months) :]
        for i, month in enumerate(all_months):
            if month not in kept:
                continue
            season = 1 + 0.06 * np.cos(2 * np.pi * (month.month - 7) / 12)
            winter = 1 + (0.9 if month.month in (12, 1, 2, 3) else 0.0)
            trend = 1 + 0.002 * i
            a1 = int(t1 * season * trend * (1 + 0.02 * rng.standard_normal()))
            b1 = int(a1 * 0.12 * winter * (1 + 0.08 * rng.standard_normal()))
            lines.append(f"{month},{code},1,{a1},{b1},{int(a1 * 0.3)}")
            a3 = int(t3 * season * (1 + 0.03 * rng.standard_normal())) if t3 else 0
            b3 = int(a3 * 0.01) if a3 else 0
            lines.append(f"{month},{code},other,{a3},{b3},0")
            lines.append(f"{month},{code},2,0,0,0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mapping_csv(path: Path) -> Path:
    lines = [
        "provider_code,provider_name,system_code,system_name,system_kind,region_code,"
        "region_name,valid_from,valid_to,merged_into"
    ]
    for code, (system, region, _, _) in TRUSTS.items():
        lines.append(
            f"{code},Trust {code},{system},System {system},icb,{region},Region {region},"
            "2010-01-01,,"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build(folder: Path, n_months: int = 40, **kwargs) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "forecast.duckdb"
    with open_warehouse(db) as wh:
        ingest_file(wh, returns_csv(folder / "returns.csv", n_months, **kwargs))
        import_mapping(wh, mapping_csv(folder / "mapping.csv"))
    return db
