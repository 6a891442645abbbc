"""A SYNTHETIC national year of patient-level A&E attendances, seeded and fast.

Shaped like ECDS data, with invented providers (codes `ZS###`, as the synthetic weekly
returns): arrivals follow the hour of day (quiet at 5am, busiest late morning), the day of the
week (Mondays busiest) and the season (winter admissions, summer minors), with extra day-to-day
variation; each provider has its own type mix (major A&E with co-located urgent care, stand-alone
urgent treatment centres, walk-in centres, a few eye hospitals); admission rates differ by type
and rise in winter; time in the department is heavy-tailed (log-normal, longer for admitted
patients) with the well-known spike of departures just before four hours, as patients near the
breach are moved on. Decision-to-admit times fall before the admitted patient's departure.

Everything is vectorised with NumPy and written month by month as Parquet (or CSV for small
test files), so 25 million rows take well under a minute and bounded memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fourhour.ingest.patients.schema import COLUMNS
from fourhour.ingest.patients.volume import NATIONAL_YEAR

# Share of a day's arrivals in each hour, 00:00 to 23:00 (sums to 1).
_HOURLY = np.array(
    [
        2.3,
        1.9,
        1.6,
        1.4,
        1.3,
        1.3,
        1.6,
        2.5,
        4.2,
        5.9,
        6.6,
        6.6,
        6.3,
        6.0,
        5.8,
        5.7,
        5.7,
        5.8,
        5.8,
        5.6,
        5.0,
        4.3,
        3.6,
        2.9,
    ]
)
_HOURLY = _HOURLY / _HOURLY.sum()
_WEEKDAY = np.array([1.12, 1.02, 0.99, 0.98, 0.99, 0.94, 0.96])  # Monday first
AGE_BANDS = np.array(["0-4", "5-17", "18-39", "40-64", "65-79", "80+"])
_AGE_P = np.array([0.11, 0.13, 0.30, 0.24, 0.12, 0.10])


@dataclass(frozen=True)
class Provider:
    code: str
    size: float  # share of national attendances
    mix: tuple[float, float, float, float]  # shares of types 1-4


def providers(n: int, rng: np.random.Generator) -> list[Provider]:
    """n providers: about 55% acute trusts with type 1 (and often type 3), the rest UTCs,
    walk-in centres and a few single-specialty (type 2) hospitals."""
    out = []
    for i in range(n):
        kind = rng.choice(
            ["acute", "acute_utc", "utc", "wic", "eye"], p=[0.25, 0.3, 0.3, 0.1, 0.05]
        )
        if kind == "acute":
            mix, size = (1.0, 0.0, 0.0, 0.0), rng.lognormal(0, 0.35)
        elif kind == "acute_utc":
            share = rng.uniform(0.2, 0.45)
            mix, size = (1 - share, 0.0, share, 0.0), rng.lognormal(0.25, 0.35)
        elif kind == "utc":
            mix, size = (0.0, 0.0, 1.0, 0.0), rng.lognormal(-0.7, 0.4)
        elif kind == "wic":
            mix, size = (0.0, 0.0, 0.0, 1.0), rng.lognormal(-1.1, 0.4)
        else:
            mix, size = (0.0, 1.0, 0.0, 0.0), rng.lognormal(-1.4, 0.3)
        out.append(Provider(f"ZS{i + 1:03d}", float(size), mix))
    total = sum(p.size for p in out)
    return [Provider(p.code, p.size / total, p.mix) for p in out]


def _daily_volumes(days: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    doy = np.array([d.timetuple().tm_yday for d in days])
    season = 1 + 0.05 * np.cos(2 * np.pi * (doy - 190) / 365.25)  # summer minors
    weekday = _WEEKDAY[[d.weekday() for d in days]]
    noise = rng.normal(1, 0.03, len(days))
    w = season * weekday * noise
    exact = w / w.sum() * total
    volumes = np.floor(exact + rng.random(len(days))).astype(np.int64)  # stochastic rounding
    # ...then exactly `total`: a day that rounding pushed furthest the wrong way moves by one.
    short = int(total - volumes.sum())
    if short > 0:
        volumes[np.argsort(volumes - exact, kind="stable")[:short]] += 1
    elif short < 0:
        volumes[np.argsort(exact - volumes, kind="stable")[:-short]] -= 1
    return volumes


def generate_year(
    out_dir: Path,
    *,
    rows: int = NATIONAL_YEAR,
    start: dt.date = dt.date(2024, 4, 1),
    days: int = 365,
    n_providers: int = 180,
    seed: int = 2014,
    fmt: str = "parquet",
) -> list[Path]:
    """Write `rows` attendances arriving over `days` days from `start`, one file per month."""
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    provs = providers(n_providers, rng)
    sizes = np.array([p.size for p in provs])
    mixes = np.array([p.mix for p in provs])
    codes = np.array([p.code for p in provs])
    calendar = np.array([start + dt.timedelta(days=i) for i in range(days)])
    volumes = _daily_volumes(calendar, rows, rng)
    written = []
    next_id = 0
    months = sorted({(d.year, d.month) for d in calendar})
    for year, month in months:
        in_month = np.array([(d.year, d.month) == (year, month) for d in calendar])
        table = _month(rng, calendar[in_month], volumes[in_month], sizes, mixes, codes, next_id)
        next_id += table.num_rows
        name = (
            f"SYNTHETIC-attendances-{year}-{month:02d}.{'parquet' if fmt == 'parquet' else 'csv'}"
        )
        path = out_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        if fmt == "parquet":
            pq.write_table(table, tmp, compression="zstd", row_group_size=1 << 20)
        else:
            pacsv.write_csv(_as_text(table), tmp)
        tmp.replace(path)
        written.append(path)
    return written


def _month(
    rng: np.random.Generator,
    days: np.ndarray,
    volumes: np.ndarray,
    sizes: np.ndarray,
    mixes: np.ndarray,
    codes: np.ndarray,
    first_id: int,
) -> pa.Table:
    n = int(volumes.sum())
    day_index = np.repeat(np.arange(len(days)), volumes)
    day_start = np.array([np.datetime64(d, "s").astype(np.int64) for d in days], dtype=np.int64)[
        day_index
    ]
    minute_of_day = rng.choice(24, n, p=_HOURLY) * 60 + rng.integers(0, 60, n)
    arrival = day_start + minute_of_day * 60
    provider = rng.choice(len(sizes), n, p=sizes)
    # Department type from the provider's mix (inverse CDF on a uniform draw).
    cum = np.cumsum(mixes, axis=1)[provider]
    dept = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 3) + 1
    doy = np.array([d.timetuple().tm_yday for d in days])[day_index]
    winter = 0.5 * (1 + np.cos(2 * np.pi * (doy - 15) / 365.25))  # 1 in mid-January
    admit_p = np.select(
        [dept == 1, dept == 2],
        [0.26 + 0.05 * winter, 0.05],
        default=0.015,
    )
    age = rng.choice(len(AGE_BANDS), n, p=_AGE_P)
    admit_p = admit_p * np.where(age >= 4, 1.8, 1.0)
    admitted = rng.random(n) < admit_p
    # Time in department (minutes): log-normal by type and disposal, longer in winter.
    median = np.select(
        [admitted & (dept == 1), dept == 1, dept == 2],
        [330.0, 165.0, 95.0],
        default=70.0,
    ) * (1 + 0.18 * winter * (dept == 1))
    sigma = np.where(admitted, 0.75, np.where(dept == 1, 0.55, 0.6))
    minutes = rng.lognormal(np.log(median), sigma)
    # The spike before four hours: many patients heading for a breach leave just in time.
    near = (minutes > 240) & (minutes <= 330) & (rng.random(n) < np.where(dept == 1, 0.45, 0.3))
    minutes = np.where(near, rng.uniform(225, 240, n), minutes)
    minutes = np.maximum(np.floor(minutes), 1).astype(np.int64)
    departure = arrival + minutes * 60
    # Decision to admit: the wait from decision to departure (trolley wait) is heavy-tailed.
    wait = np.minimum(np.floor(rng.lognormal(np.log(80), 1.0, n)), minutes - 1).astype(np.int64)
    dta = np.where(admitted, departure - np.maximum(wait, 0) * 60, 0)
    acuity = np.clip(np.round(rng.normal(3.2, 0.9, n)), 1, 5).astype(np.int8)
    ids = pc.binary_join_element_wise(
        "A",
        pc.utf8_lpad(pc.cast(pa.array(np.arange(first_id, first_id + n)), pa.string()), 10, "0"),
        "",
    )
    dept_code = pc.utf8_lpad(pc.cast(pa.array(dept.astype(np.int8)), pa.string()), 2, "0")
    code = pa.array(codes[provider])
    site = pc.binary_join_element_wise(code, dept_code, "-")
    order = np.argsort(arrival, kind="stable")
    table = pa.table(
        {
            "attendance_id": ids,
            "provider_code": code,
            "site_code": site,
            "department_type": dept_code,
            "arrival": pa.array(arrival.astype("datetime64[s]")),
            "decision_to_admit": pa.array(
                np.where(admitted, dta, np.datetime64("NaT", "s").astype(np.int64)).astype(
                    "datetime64[s]"
                )
            ),
            "departure": pa.array(departure.astype("datetime64[s]")),
            "disposal": pa.array(np.where(admitted, "admitted", "not_admitted")),
            "age_band": pa.array(AGE_BANDS[age]),
            "acuity": pa.array(acuity),
        }
    )
    table = table.take(pa.array(order))
    assert tuple(table.column_names) == COLUMNS
    return table


def _as_text(table: pa.Table) -> pa.Table:
    """CSV layout: times as 'YYYY-MM-DD HH:MM:SS', blanks for none."""
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            col = pc.fill_null(pc.strftime(col, format="%Y-%m-%d %H:%M:%S"), "")
        cols[name] = pc.cast(col, pa.string())
    return pa.table(cols)
