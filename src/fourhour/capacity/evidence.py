"""The occupancy-performance relationship in the real data (docs/capacity.md, "Evidence").

The warehouse holds both halves: daily general and acute (G&A) beds open and occupied per
trust (`bed_occupancy`, from the winter daily sitreps 2015-16 to 2022-23 and the daily sitreps
of February-March 2015) and four-hour returns per provider by week or month
(`provider_returns`). This module joins them and measures how performance varies with
occupancy.

The join, stated once:
- A provider-period of the returns (a week ending Sunday, or a calendar month) is matched to
  the same organisation's bed figures for the days inside that period, on the ODS code **as
  each publication gave it for that period** (upper-cased). Both are contemporaneous returns,
  so a trust that merged later is matched under the code it had at the time; a merged trust
  is a new organisation from its merger, and the within-trust comparison treats it as one.
  Codes found in only one of the two for a period are counted (`unmatched`), never guessed.
- Occupancy of the period = the sum of its days' G&A beds occupied over the sum of G&A beds
  open (a bed-day-weighted mean), from days with both figures and beds open > 0; the period
  needs at least MIN_BED_DAYS of them (5 of 7 days for a week, 14 for a month).
- Performance = 1 - breaches / attendances, summed over the period (type 1; all types where
  the returns give every type). Provider-periods with type 1 attendances but no four-hour
  breaches in any type are dropped: the field-test trusts of 2019-2023 (DOMAIN.md).
- Where a week and a month of the same provider overlap, the month is kept.

The measures, each with a 95% interval from a cluster bootstrap that resamples trusts (a
trust's periods are not independent of each other):
- `binned`: pooled performance (counts summed) in one-point bins of occupancy, all trusts;
- `within`: each trust-period's performance minus the trust's own mean, against its occupancy
  minus the trust's own mean, so that size and case mix cannot masquerade as the effect;
- `extra`: the extra share of type 1 patients over four hours at 88, 90, 92, 95 and 98%
  occupancy (the one-point bin up to each) against trust-periods at or below 85%, pooled and
  within trust (a weighted regression with trust and period fixed effects).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fourhour.errors import QueryError
from fourhour.measures.performance import STANDARD_PCT
from fourhour.warehouse.connection import one_row

MIN_BED_DAYS = {"week": 5, "month": 14}
REFERENCE_PCT = 85.0  # trust-periods at or below this occupancy are the comparison
LEVELS_PCT = (88.0, 90.0, 92.0, 95.0, 98.0)  # the extra share of breaches is given at these
BIN_FLOOR_PCT = 75.0  # one-point bins above this; everything at or below it is one bin
BIN_CEILING_PCT = 100.0  # ... and everything above this is one bin
WITHIN_EDGES = (-8.0, -6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0)  # points from a trust's mean
BOOTSTRAP = 1000
LEVEL = 0.95
SEED = 20150201


class EvidenceError(QueryError):
    """The warehouse lacks the bed figures or returns needed to relate occupancy to
    performance (not found)."""


def winter_of(day: dt.date) -> str:
    """The winter a date belongs to: July-June years, named like 2016-17."""
    first = day.year if day.month >= 7 else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


_PANEL_SQL = """
WITH returns AS (
    SELECT granularity, period_start, period_end, upper(trim(org_code)) AS org_code,
        att_type1, br_type1,
        coalesce(att_type1, 0) + coalesce(att_type2, 0) + coalesce(att_type3, 0) AS att_all,
        coalesce(br_type1, 0) + coalesce(br_type2, 0) + coalesce(br_type3, 0) AS br_all,
        (br_type2 IS NOT NULL OR br_type3 IS NOT NULL) AS has_all_types,
        breaches_estimated
    FROM provider_returns
    WHERE att_type1 > 0 AND br_type1 IS NOT NULL
), kept AS (
    SELECT * FROM returns w
    WHERE NOT (w.granularity = 'week' AND EXISTS (
        SELECT 1 FROM returns m WHERE m.granularity = 'month' AND m.org_code = w.org_code
        AND m.period_start <= w.period_end AND m.period_end >= w.period_start))
), beds AS (
    SELECT date, upper(trim(org_code)) AS org_code, ga_beds_open, ga_beds_occupied
    FROM bed_occupancy
    WHERE ga_beds_open > 0 AND ga_beds_occupied IS NOT NULL AND org_code NOT IN ('-', '')
)
SELECT k.granularity, k.period_start, k.period_end, k.org_code,
    k.att_type1, k.br_type1, k.att_all, k.br_all, k.has_all_types, k.breaches_estimated,
    count(*) AS bed_days,
    sum(b.ga_beds_open) AS open_bed_days,
    sum(b.ga_beds_occupied) AS occupied_bed_days
FROM kept k JOIN beds b ON b.org_code = k.org_code
    AND b.date BETWEEN k.period_start AND k.period_end
GROUP BY ALL
"""


@dataclass
class Panel:
    """Matched trust-periods, and what could not be matched."""

    frame: pd.DataFrame  # one row per provider-period with occupancy and performance
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> provider-periods
    unmatched: pd.DataFrame = field(default_factory=pd.DataFrame)  # per winter


def occupancy_panel(con, providers: list[str] | None = None) -> Panel:
    """Each provider-period (week or month) with both returns and enough bed days."""
    for table in ("bed_occupancy", "provider_returns"):
        if not one_row(con.execute(f"SELECT count(*) FROM {table}"))[0]:
            what = "bed figures (winter sitreps)" if table == "bed_occupancy" else "A&E returns"
            raise EvidenceError(
                f"the warehouse has no {what} ({table} is empty)",
                hint="ingest them: `fourhour ingest ../shared/data/winter-sitrep-beds` and the "
                "returns of the same years (e.g. ../shared/data/nhsrdatasets)",
            )
    raw = con.execute(_PANEL_SQL).df()
    wanted: set[str] = set()
    if providers:
        wanted = {p.strip().upper() for p in providers}
        for code in sorted(wanted):
            _check_provider(con, code)
        raw = raw[raw["org_code"].isin(wanted)]
    dropped: dict[str, int] = {}
    if raw.empty:
        raise EvidenceError(
            "no provider-period has both four-hour returns and bed figures in the warehouse"
            + (f" for {', '.join(sorted(wanted))}" if providers else ""),
            hint="bed figures cover winters 2015-16 to 2022-23 and February-March 2015; "
            "ingest the returns of those years",
        )
    need = raw["granularity"].map(MIN_BED_DAYS)
    short = raw["bed_days"] < need
    dropped["too few days with bed figures"] = int(short.sum())
    frame = raw[~short].copy()
    field_test = frame["br_all"] == 0
    dropped["no four-hour breaches in any type (field-test trusts)"] = int(field_test.sum())
    frame = frame[~field_test].copy()
    if frame.empty:
        raise EvidenceError("no matched provider-period passes the checks (bed days, breaches)")
    frame["period_start"] = pd.to_datetime(frame["period_start"]).dt.date
    frame["period_end"] = pd.to_datetime(frame["period_end"]).dt.date
    frame["winter"] = frame["period_start"].map(winter_of)
    frame["occupancy_pct"] = 100 * frame["occupied_bed_days"] / frame["open_bed_days"]
    frame["type1_pct"] = 100 * (1 - frame["br_type1"] / frame["att_type1"])
    frame["all_types_pct"] = np.where(
        frame["has_all_types"], 100 * (1 - frame["br_all"] / frame["att_all"]), np.nan
    )
    frame = frame.sort_values(["period_start", "org_code"], ignore_index=True)
    return Panel(frame, dropped, _unmatched(con, frame))


def _check_provider(con, code: str) -> None:
    def count(table: str) -> int:
        sql = f"SELECT count(*) FROM {table} WHERE upper(trim(org_code)) = ?"
        return one_row(con.execute(sql, [code]))[0]

    beds, returns = count("bed_occupancy"), count("provider_returns")
    if not beds and not returns:
        raise EvidenceError(
            f"provider {code!r} is in neither the bed figures nor the returns",
            hint="check the ODS code (`fourhour measures --level provider` lists them)",
        )
    if not beds:
        raise EvidenceError(
            f"no bed figures for provider {code}: the winter sitreps do not name it",
            hint="bed figures are per acute trust; a provider without G&A beds has none",
        )
    if not returns:
        raise EvidenceError(f"no four-hour returns for provider {code} in the warehouse")


def _unmatched(con, frame: pd.DataFrame) -> pd.DataFrame:
    """Per winter: trusts with bed figures, providers with returns in the bed days' span, and
    how many of each were matched."""
    days = con.execute(
        "SELECT DISTINCT date FROM bed_occupancy WHERE org_code NOT IN ('-', '')"
    ).df()
    days["winter"] = pd.to_datetime(days["date"]).dt.date.map(winter_of)
    rows = []
    for winter, d in days.groupby("winter"):
        lo, hi = d["date"].min(), d["date"].max()
        bed_orgs = set(
            con.execute(
                "SELECT DISTINCT upper(trim(org_code)) AS c FROM bed_occupancy "
                "WHERE date BETWEEN ? AND ? AND ga_beds_open > 0 AND org_code NOT IN ('-', '')",
                [lo, hi],
            ).fetchnumpy()["c"]
        )
        ret_orgs = set(
            con.execute(
                "SELECT DISTINCT upper(trim(org_code)) AS c FROM provider_returns "
                "WHERE period_start <= ? AND period_end >= ? AND att_type1 > 0",
                [hi, lo],
            ).fetchnumpy()["c"]
        )
        matched = set(frame.loc[frame["winter"] == winter, "org_code"])
        rows.append(
            {
                "winter": winter,
                "bed_days_from": pd.Timestamp(lo).date(),
                "bed_days_to": pd.Timestamp(hi).date(),
                "trusts_with_beds": len(bed_orgs),
                "providers_with_type1_returns": len(ret_orgs),
                "matched": len(matched),
                "beds_without_returns": len(bed_orgs - ret_orgs),
                "returns_without_beds": len(ret_orgs - bed_orgs) if ret_orgs else 0,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------- statistics


def _percentile_interval(draws: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    tail = 100 * (1 - level) / 2
    with np.errstate(invalid="ignore"):
        return np.nanpercentile(draws, tail, axis=0), np.nanpercentile(draws, 100 - tail, axis=0)


def _trust_weights(trusts: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """[draws, trusts]: how many times each trust is drawn in each bootstrap resample."""
    return rng.multinomial(trusts, np.full(trusts, 1 / trusts), size=draws).astype(float)


def bin_label(lo: float, hi: float) -> str:
    if math.isinf(lo):
        return f"{hi:g} or less"
    if math.isinf(hi):
        return f"over {lo:g}"
    return f"{lo:g}-{hi:g}"


def level_edges() -> list[tuple[float, float]]:
    """One-point bins (lo, hi] from BIN_FLOOR_PCT to BIN_CEILING_PCT, open at both ends."""
    inner = np.arange(BIN_FLOOR_PCT, BIN_CEILING_PCT + 1)
    edges = [(-math.inf, BIN_FLOOR_PCT)]
    edges += [(float(a), float(a + 1)) for a in inner[:-1]]
    return [*edges, (BIN_CEILING_PCT, math.inf)]


def _bin_index(values: np.ndarray, edges: list[tuple[float, float]]) -> np.ndarray:
    idx = np.full(len(values), -1)
    for k, (lo, hi) in enumerate(edges):
        idx[(values > lo) & (values <= hi)] = k
    return idx


@dataclass
class Evidence:
    panel: Panel
    binned: pd.DataFrame
    within: pd.DataFrame
    extra: pd.DataFrame
    within_curve: pd.DataFrame  # extra breach points by one-point bin, within trust
    summary: dict[str, Any]  # JSON: counts, bands and the winters shown
    model: pd.DataFrame | None = None  # the capacity model's curve, when asked for

    def text(self) -> list[str]:
        return describe(self)

    def to_json(self) -> dict[str, object]:
        def records(frame: pd.DataFrame | None) -> list[dict[str, object]]:
            if frame is None:
                return []
            out = frame.replace({np.nan: None}).to_dict("records")
            return [
                {str(k): (str(v) if isinstance(v, dt.date) else v) for k, v in r.items()}
                for r in out
            ]

        return {
            "what": "four-hour performance against general and acute bed occupancy, real data",
            "join": {
                "key": "ODS code as published for the period, upper-cased, in both sources",
                "min_bed_days": MIN_BED_DAYS,
                "occupancy": "sum of daily G&A beds occupied / sum of G&A beds open",
                "dropped": self.panel.dropped,
            },
            "interval": f"{LEVEL:.0%} cluster bootstrap over trusts, {BOOTSTRAP} resamples",
            "summary": self.summary,
            "coverage": records(self.panel.unmatched),
            "binned": records(self.binned),
            "within_trust": records(self.within),
            "within_trust_slope": self.within.attrs.get("slope"),
            "extra_over_4h": records(self.extra),
            "within_trust_by_occupancy": records(self.within_curve),
            "model_curve": records(self.model),
            "text": self.text(),
        }


def analyse(panel: Panel, *, draws: int = BOOTSTRAP, seed: int = SEED) -> Evidence:
    """Binned, within-trust and extra-breach measures of the panel, with bootstrap intervals."""
    f = panel.frame
    rng = np.random.default_rng(seed)
    codes, trusts = np.unique(f["org_code"].to_numpy(), return_inverse=True)
    w = _trust_weights(len(codes), draws, rng)
    w_all = np.vstack([np.ones(len(codes)), w])  # row 0: the estimate itself
    edges = level_edges()
    occ = f["occupancy_pct"].to_numpy(float)
    bins = _bin_index(occ, edges)

    rows = []
    est = {}
    for label, num, den in (
        ("type1", "br_type1", "att_type1"),
        ("all_types", "br_all", "att_all"),
    ):
        g = f if label == "type1" else f[f["has_all_types"]]
        b = bins if label == "type1" else bins[f["has_all_types"].to_numpy()]
        # bootstrap weights index trusts of the whole panel: map g's trusts to them
        share = _pooled_by_bin_indexed(g, b, len(edges), w_all, num, den, codes)
        est[label] = share
    for k, (lo, hi) in enumerate(edges):
        sel = bins == k
        if not sel.any():
            continue
        row = {
            "occupancy_bin": bin_label(lo, hi),
            "occupancy_from": None if math.isinf(lo) else lo,
            "occupancy_to": None if math.isinf(hi) else hi,
            "mean_occupancy_pct": float(occ[sel].mean()),
            "trust_periods": int(sel.sum()),
            "trusts": int(f.loc[sel, "org_code"].nunique()),
        }
        for label in ("type1", "all_types"):
            s = est[label][:, k]
            low, high = _percentile_interval(s[1:, None])
            row[f"{label}_pct"] = 100 - s[0]
            row[f"{label}_low"] = 100 - float(high[0])
            row[f"{label}_high"] = 100 - float(low[0])
        rows.append(row)
    binned = pd.DataFrame(rows)

    within = _within(f, trusts, w_all)
    extra = _extra(f, trusts, w_all, occ)
    by_winter = (
        f.groupby("winter")
        .agg(
            trusts=("org_code", "nunique"),
            periods=("org_code", "size"),
            granularity=("granularity", "first"),
            open_bed_days=("open_bed_days", "sum"),
            occupied_bed_days=("occupied_bed_days", "sum"),
            att_type1=("att_type1", "sum"),
            br_type1=("br_type1", "sum"),
        )
        .reset_index()
    )
    by_winter["occupancy_pct"] = 100 * by_winter["occupied_bed_days"] / by_winter["open_bed_days"]
    by_winter["type1_pct"] = 100 * (1 - by_winter["br_type1"] / by_winter["att_type1"])
    summary: dict[str, Any] = {
        "trust_periods": len(f),
        "trusts": int(f["org_code"].nunique()),
        "weeks": int((f["granularity"] == "week").sum()),
        "months": int((f["granularity"] == "month").sum()),
        "first_day": str(f["period_start"].min()),
        "last_day": str(f["period_end"].max()),
        "winters": by_winter[
            ["winter", "granularity", "trusts", "periods", "occupancy_pct", "type1_pct"]
        ].to_dict("records"),
        "reference_pct": REFERENCE_PCT,
        "standard_pct": STANDARD_PCT,
        "correlation_between": float(np.corrcoef(occ, f["type1_pct"])[0, 1]),
    }
    return Evidence(panel, binned, within, extra, extra.attrs.pop("curve"), summary)


def _pooled_by_bin_indexed(g, b, n_bins, w_all, num, den, codes) -> np.ndarray:
    """Pooled breach share by bin, with trusts indexed as in `codes` (all the panel's)."""
    t = np.searchsorted(codes, g["org_code"].to_numpy())
    nums = np.zeros((len(codes), n_bins))
    dens = np.zeros((len(codes), n_bins))
    ok = b >= 0
    np.add.at(nums, (t[ok], b[ok]), g[num].to_numpy(float)[ok])
    np.add.at(dens, (t[ok], b[ok]), g[den].to_numpy(float)[ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100 * (w_all @ nums) / (w_all @ dens)


def _within(f: pd.DataFrame, trusts: np.ndarray, w_all: np.ndarray) -> pd.DataFrame:
    """Type 1 performance minus the trust's own mean, against occupancy minus the trust's own
    mean, in bins of two points; attendance-weighted; and the overall within-trust slope."""
    att = f["att_type1"].to_numpy(float)
    occ = f["occupancy_pct"].to_numpy(float)
    perf = f["type1_pct"].to_numpy(float)
    t_n = w_all.shape[1]
    # each trust's own means: occupancy by bed-days, performance by attendances (sum counts)
    own_occ = np.bincount(trusts, f["occupied_bed_days"], t_n) / np.bincount(
        trusts, f["open_bed_days"], t_n
    )
    own_perf = 100 * (1 - np.bincount(trusts, f["br_type1"], t_n) / np.bincount(trusts, att, t_n))
    d_occ = occ - 100 * own_occ[trusts]
    d_perf = perf - own_perf[trusts]
    periods = np.bincount(trusts, minlength=t_n)
    usable = periods[trusts] >= 2  # a trust seen once has no within-trust variation
    edges = [(-math.inf, WITHIN_EDGES[0])]
    edges += list(itertools.pairwise(WITHIN_EDGES))
    edges += [(WITHIN_EDGES[-1], math.inf)]
    idx = _bin_index(d_occ, edges)
    idx[~usable] = -1
    num = np.zeros((t_n, len(edges)))
    den = np.zeros((t_n, len(edges)))
    occ_sum = np.zeros((t_n, len(edges)))
    ok = idx >= 0
    np.add.at(num, (trusts[ok], idx[ok]), (att * d_perf)[ok])
    np.add.at(den, (trusts[ok], idx[ok]), att[ok])
    np.add.at(occ_sum, (trusts[ok], idx[ok]), (att * d_occ)[ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = (w_all @ num) / (w_all @ den)
        mean_d = (w_all[0] @ occ_sum) / (w_all[0] @ den)
    low, high = _percentile_interval(draws[1:])
    rows = []
    for k, (lo, hi) in enumerate(edges):
        n = int((idx == k).sum())
        if n == 0:
            continue
        rows.append(
            {
                "occupancy_vs_own_mean": bin_label(lo, hi),
                "mean_difference_points": float(mean_d[k]),
                "trust_periods": n,
                "type1_vs_own_mean_points": float(draws[0, k]),
                "low": float(low[k]),
                "high": float(high[k]),
            }
        )
    out = pd.DataFrame(rows)
    # the within-trust slope: points of type 1 performance per point of occupancy
    xs = np.zeros(t_n)
    xy = np.zeros(t_n)
    np.add.at(xs, trusts[ok], (att * d_occ * d_occ)[ok])
    np.add.at(xy, trusts[ok], (att * d_occ * d_perf)[ok])
    slopes = (w_all @ xy) / (w_all @ xs)
    s_low, s_high = _percentile_interval(slopes[1:, None])
    out.attrs["slope"] = (float(slopes[0]), float(s_low[0]), float(s_high[0]))
    return out


def _extra(f: pd.DataFrame, trusts: np.ndarray, w_all: np.ndarray, occ: np.ndarray) -> pd.DataFrame:
    """The extra share of type 1 attendances over four hours at each of LEVELS_PCT against
    trust-periods at or below REFERENCE_PCT: pooled (counts summed) and within trust (weighted
    least squares with trust and period fixed effects)."""
    t_n = w_all.shape[1]
    share = 100 * f["br_type1"].to_numpy(float) / f["att_type1"].to_numpy(float)
    att = f["att_type1"].to_numpy(float)
    ref = occ <= REFERENCE_PCT
    level_bins = [(lv - 1, lv) for lv in LEVELS_PCT]
    # pooled: share in the level's bin minus share at or below the reference
    edges = [(-math.inf, REFERENCE_PCT), *level_bins]
    idx = _bin_index(occ, edges)
    br = np.zeros((t_n, len(edges)))
    at = np.zeros((t_n, len(edges)))
    ok = idx >= 0
    np.add.at(br, (trusts[ok], idx[ok]), f["br_type1"].to_numpy(float)[ok])
    np.add.at(at, (trusts[ok], idx[ok]), att[ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = 100 * (w_all @ br) / (w_all @ at)
    diff = pooled[:, 1:] - pooled[:, :1]
    p_low, p_high = _percentile_interval(diff[1:])

    # within trust: share ~ dummies for one-point bins above the reference + period effects,
    # demeaned within trust (attendance-weighted); normal equations summed per trust so that
    # the cluster bootstrap only reweights trusts.
    above = [(float(a), float(a + 1)) for a in np.arange(REFERENCE_PCT, BIN_CEILING_PCT)]
    above.append((BIN_CEILING_PCT, math.inf))
    b_idx = _bin_index(occ, above)
    x_bins = np.zeros((len(f), len(above)))
    x_bins[b_idx >= 0, b_idx[b_idx >= 0]] = 1.0
    period_codes = pd.factorize(f["granularity"] + f["period_end"].astype(str))[0]
    x_per = np.zeros((len(f), period_codes.max() + 1))
    x_per[np.arange(len(f)), period_codes] = 1.0
    x = np.hstack([x_bins, x_per[:, 1:]])
    keep_cols = x.sum(axis=0) > 0
    x = x[:, keep_cols]
    n_bin_cols = int(keep_cols[: len(above)].sum())
    bin_cols = [a for a, k in zip(above, keep_cols[: len(above)], strict=True) if k]
    sw = np.bincount(trusts, att, t_n)
    x_mean = np.zeros((t_n, x.shape[1]))
    np.add.at(x_mean, trusts, att[:, None] * x)
    x_mean /= sw[:, None]
    y_mean = np.bincount(trusts, att * share, t_n) / sw
    xd = x - x_mean[trusts]
    yd = share - y_mean[trusts]
    k = x.shape[1]
    xtx = np.zeros((t_n, k, k))
    xty = np.zeros((t_n, k))
    for i in range(t_n):
        rows = trusts == i
        wx = xd[rows] * att[rows, None]
        xtx[i] = xd[rows].T @ wx
        xty[i] = wx.T @ yd[rows]
    coefs = np.full((w_all.shape[0], n_bin_cols), np.nan)
    for r in range(w_all.shape[0]):
        a = np.tensordot(w_all[r], xtx, axes=1)
        b = w_all[r] @ xty
        sol = np.linalg.lstsq(a, b, rcond=None)[0]
        coefs[r] = sol[:n_bin_cols]
    c_low, c_high = _percentile_interval(coefs[1:])
    rows = []
    for j, (lv, (lo, hi)) in enumerate(zip(LEVELS_PCT, level_bins, strict=True)):
        col = next((c for c, b in enumerate(bin_cols) if b == (lo, hi)), None)
        n = int(((occ > lo) & (occ <= hi)).sum())
        rows.append(
            {
                "occupancy_pct": lv,
                "occupancy_bin": bin_label(lo, hi),
                "trust_periods": n,
                "reference_trust_periods": int(ref.sum()),
                "pooled_extra_points": float(diff[0, j]),
                "pooled_low": float(p_low[j]),
                "pooled_high": float(p_high[j]),
                "within_extra_points": None if col is None else float(coefs[0, col]),
                "within_low": None if col is None else float(c_low[col]),
                "within_high": None if col is None else float(c_high[col]),
            }
        )
    out = pd.DataFrame(rows)
    curve = [
        {
            "occupancy_bin": bin_label(lo, hi),
            "occupancy_to": None if math.isinf(hi) else hi,
            "mean_occupancy_pct": float(occ[(occ > lo) & (occ <= hi)].mean()),
            "trust_periods": int(((occ > lo) & (occ <= hi)).sum()),
            "within_extra_points": float(coefs[0, c]),
            "within_low": float(c_low[c]),
            "within_high": float(c_high[c]),
        }
        for c, (lo, hi) in enumerate(bin_cols)
    ]
    out.attrs["curve"] = pd.DataFrame(curve)
    return out


# ------------------------------------------------------------------------------- words


def describe(e: Evidence) -> list[str]:
    s = e.summary
    lines = [
        f"{s['trust_periods']:,} trust-periods ({s['months']:,} months, {s['weeks']:,} weeks) "
        f"from {s['trusts']} trusts, {s['first_day']} to {s['last_day']}, have both G&A bed "
        "occupancy and four-hour returns.",
    ]
    b = e.binned
    low = b[b["occupancy_to"].notna() & (b["occupancy_to"] <= REFERENCE_PCT)]
    if not low.empty:
        ref_att = e.panel.frame.loc[e.panel.frame["occupancy_pct"] <= REFERENCE_PCT]
        ref_pct = 100 * (1 - ref_att["br_type1"].sum() / ref_att["att_type1"].sum())
        lines.append(
            f"At or below {REFERENCE_PCT:g}% occupancy, {ref_pct:.1f}% of type 1 attendances "
            f"were within four hours ({len(ref_att):,} trust-periods)."
        )
    for r in e.extra.to_dict("records"):
        if r["trust_periods"] == 0:
            continue
        within = (
            ""
            if r["within_extra_points"] is None
            else f"; within trusts, {r['within_extra_points']:+.1f} "
            f"({r['within_low']:+.1f} to {r['within_high']:+.1f})"
        )
        lines.append(
            f"At {r['occupancy_pct']:g}% occupancy ({r['occupancy_bin']}%, "
            f"{r['trust_periods']} trust-periods): {r['pooled_extra_points']:+.1f} points more "
            f"type 1 patients over four hours than at {REFERENCE_PCT:g}% or less "
            f"({r['pooled_low']:+.1f} to {r['pooled_high']:+.1f}){within}."
        )
    slope = e.within.attrs.get("slope")
    if slope:
        lines.append(
            f"Within trusts, each point of occupancy above a trust's own mean went with "
            f"{slope[0]:+.2f} points of type 1 performance ({slope[1]:+.2f} to {slope[2]:+.2f})."
        )
    lines.append(
        "Intervals: 95%, resampling trusts. Associations, not proof of cause: winters with high "
        "occupancy are also winters of high demand and sicker patients."
    )
    return lines


# ------------------------------------------------------------------------------- the model


def model_curve(scenario, replications: int, points: int = 10) -> pd.DataFrame:
    """The capacity model's type 1 and all-types performance against occupancy for a scenario
    (default: the default trust), beds swept for about 97.5% to 70% mean occupancy. Its x is
    midnight occupancy, the nearer match to the sitreps' once-a-day count of occupied beds."""
    from fourhour.capacity.sweep import default_bed_range, sweep

    beds = default_bed_range(scenario, points=points)
    table = sweep([scenario], "beds", beds, replications)
    return table.assign(occupancy_pct=table["midnight_occupancy_pct"])[
        [
            "scenario",
            "value",
            "occupancy_pct",
            "mean_occupancy_pct",
            "type1_pct",
            "type1_pct_low",
            "type1_pct_high",
            "all_types_pct",
        ]
    ].rename(columns={"value": "beds"})
