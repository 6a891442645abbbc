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

from fourhour.errors import FourhourError
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


RETURN_TYPES = ((1, "type1"), (2, "type2"), (3, "type3"))  # department type, returns column


def records_matching_returns(
    returns: list[dict[str, object]],
    week_start: dt.date,
    *,
    seed: int = 2014,
    first_id: int = 0,
) -> pa.Table:
    """SYNTHETIC attendances for one week (Monday `week_start` to Sunday) whose provider returns
    are exactly `returns`: one dict per provider with `org_code` and the returns' counts
    (`att_type1`, `br_type1`, `adm_type1`, ... `dta_4_12h`, `dta_over_12h`; None as 0).

    Per provider and type there are as many attendances as returned, exactly as many over four
    hours and as many admitted (types 3 and 4 are written as type 3). Decision-to-admit waits of
    4-12 hours and over 12 hours match too, as far as the provider's admitted patients over four
    hours allow (such a wait is itself over four hours). Times follow the same shapes as the
    national year: arrivals by hour and weekday, log-normal times with the spike of departures
    just before four hours, admitted patients more likely to wait long.
    """
    rng = np.random.default_rng(seed)
    parts: list[dict[str, np.ndarray]] = []
    for row in returns:
        code = str(row["org_code"])
        groups = []
        for dept, key in RETURN_TYPES:
            n = _count(row, f"att_{key}")
            if n:
                breaches = min(_count(row, f"br_{key}"), n)
                admitted = min(_count(row, f"adm_{key}"), n)
                groups.append(_matching_group(rng, dept, n, breaches, admitted))
        if not groups:
            continue
        g = {k: np.concatenate([x[k] for x in groups]) for k in groups[0]}
        _matching_dta(rng, g, _count(row, "dta_4_12h"), _count(row, "dta_over_12h"))
        g["code"] = np.full(len(g["dept"]), code, dtype=object)
        parts.append(g)
    if not parts:
        raise FourhourError("no attendances in the returns to make records from")
    g = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = len(g["dept"])
    day = rng.choice(7, n, p=_WEEKDAY / _WEEKDAY.sum())
    minute_of_day = rng.choice(24, n, p=_HOURLY) * 60 + rng.integers(0, 60, n)
    start = np.datetime64(week_start, "s").astype(np.int64)
    arrival = start + day * 86_400 + minute_of_day * 60
    departure = arrival + g["minutes"] * 60
    dta = np.where(g["admitted"], departure - g["wait"] * 60, 0)
    age = rng.choice(len(AGE_BANDS), n, p=_AGE_P)
    acuity = np.clip(np.round(rng.normal(3.2, 0.9, n)), 1, 5).astype(np.int8)
    ids = pc.binary_join_element_wise(
        "W",
        pc.utf8_lpad(pc.cast(pa.array(np.arange(first_id, first_id + n)), pa.string()), 10, "0"),
        "",
    )
    dept_code = pc.utf8_lpad(pc.cast(pa.array(g["dept"].astype(np.int8)), pa.string()), 2, "0")
    code = pa.array(g["code"].astype(str))
    nat = np.datetime64("NaT", "s").astype(np.int64)
    table = pa.table(
        {
            "attendance_id": ids,
            "provider_code": code,
            "site_code": pc.binary_join_element_wise(code, dept_code, "-"),
            "department_type": dept_code,
            "arrival": pa.array(arrival.astype("datetime64[s]")),
            "decision_to_admit": pa.array(
                np.where(g["admitted"], dta, nat).astype("datetime64[s]")
            ),
            "departure": pa.array(departure.astype("datetime64[s]")),
            "disposal": pa.array(np.where(g["admitted"], "admitted", "not_admitted")),
            "age_band": pa.array(AGE_BANDS[age]),
            "acuity": pa.array(acuity),
        }
    )
    table = table.take(pa.array(np.argsort(arrival, kind="stable")))
    assert tuple(table.column_names) == COLUMNS
    return table


def _count(row: dict[str, object], key: str) -> int:
    value = row.get(key)
    if not isinstance(value, int | float | np.number) or value != value:  # None or NaN
        return 0
    return max(int(value), 0)


def _matching_group(
    rng: np.random.Generator, dept: int, n: int, breaches: int, admitted: int
) -> dict[str, np.ndarray]:
    """n attendances of one type: exactly `breaches` over 240 minutes, `admitted` admitted."""
    is_admitted = np.zeros(n, dtype=bool)
    is_admitted[rng.choice(n, admitted, replace=False)] = True
    # Admitted patients are three times as likely to be among those over four hours.
    weight = np.where(is_admitted, 3.0, 1.0)
    is_breach = np.zeros(n, dtype=bool)
    is_breach[rng.choice(n, breaches, replace=False, p=weight / weight.sum())] = True
    median = {1: 165.0, 2: 95.0}.get(dept, 70.0) * np.where(is_admitted, 1.6, 1.0)
    within = rng.lognormal(np.log(median), 0.55)
    # Within four hours: a draw past 240 minutes is, about half the time, a patient moved on
    # just in time (the spike before four hours), else one seen sooner.
    late = within > 240
    spike = rng.random(n) < 0.45
    within = np.where(late & spike, rng.uniform(225, 240, n), within)
    within = np.where(late & ~spike, rng.uniform(60, 225, n), within)
    # Over four hours: minutes past 240 fall away from the threshold (admitted wait longer).
    over = 240 + rng.exponential(np.where(is_admitted, 150.0, 45.0))
    minutes = np.floor(np.where(is_breach, over, within)).astype(np.int64)
    minutes = np.where(is_breach, np.maximum(minutes, 241), np.clip(minutes, 1, 240))
    return {
        "dept": np.full(n, dept, dtype=np.int64),
        "admitted": is_admitted,
        "minutes": minutes,
        "wait": np.zeros(n, dtype=np.int64),
    }


def _matching_dta(
    rng: np.random.Generator, g: dict[str, np.ndarray], waits_4_12h: int, waits_over_12h: int
) -> None:
    """Decision-to-admit waits (minutes from decision to departure) for the admitted patients:
    exactly `waits_over_12h` over 720 and `waits_4_12h` of 241-720, where possible."""
    admitted = np.flatnonzero(g["admitted"])
    minutes = g["minutes"]
    usual = np.floor(rng.lognormal(np.log(60), 0.9, len(admitted))).astype(np.int64)
    g["wait"][admitted] = np.clip(usual, 0, np.minimum(240, minutes[admitted] - 1))
    long_stayers = rng.permutation(admitted[minutes[admitted] > 240])
    over_12h = long_stayers[:waits_over_12h]
    four_12 = long_stayers[len(over_12h) : len(over_12h) + waits_4_12h]
    minutes[over_12h] = np.maximum(minutes[over_12h], 722 + rng.integers(0, 600, len(over_12h)))
    g["wait"][over_12h] = 721 + (rng.random(len(over_12h)) * (minutes[over_12h] - 722)).astype(
        np.int64
    )
    minutes[four_12] = np.maximum(minutes[four_12], 242 + rng.integers(0, 300, len(four_12)))
    top = np.minimum(720, minutes[four_12] - 1)
    g["wait"][four_12] = 241 + (rng.random(len(four_12)) * (top - 241)).astype(np.int64)
