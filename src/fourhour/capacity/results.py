"""What a set of replications shows: each replication's measures, and their means with
confidence intervals across replications (replications are independent, so the t interval on
their means is honest; percentages are computed within a replication from its counts)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fourhour.capacity.confidence import CONFIDENCE, Interval, mean_interval
from fourhour.capacity.engine import HIST_MINUTES, METRICS, M
from fourhour.capacity.scenario import Scenario

# name, label, unit: the measures every summary shows, in order.
MEASURES: tuple[tuple[str, str, str], ...] = (
    ("type1_pct", "four-hour performance, type 1", "%"),
    ("all_types_pct", "four-hour performance, all types", "%"),
    ("attendances", "attendances, all types", "count"),
    ("type1_attendances", "attendances, type 1", "count"),
    ("over_12h_from_arrival", "12 hours from arrival, all types", "count"),
    ("over_12h_from_arrival_pct", "12 hours from arrival, share of all types", "%"),
    ("dta_4_12h", "decision-to-admit waits 4-12 hours", "count"),
    ("dta_over_12h", "decision-to-admit waits over 12 hours", "count"),
    ("admissions_via_ae", "admissions via type 1 A&E (decisions to admit)", "count"),
    ("waited_for_bed_pct", "admitted patients who waited for a bed", "%"),
    ("mean_bed_wait_hours", "mean wait from decision to admit to departure", "hours"),
    ("transfers_pct", "admitted patients transferred out for want of a bed", "%"),
    ("bed_queue", "patients waiting for a bed (A&E and direct), mean queue", "patients"),
    ("cubicle_queue", "type 1 patients waiting for a cubicle, mean queue", "patients"),
    ("mean_cubicle_wait_minutes", "mean wait from arrival to a cubicle, type 1", "minutes"),
    ("mean_occupancy_pct", "mean bed occupancy (of core beds)", "%"),
    ("midnight_occupancy_pct", "midnight bed occupancy (of core beds)", "%"),
    ("escalation_beds_in_use", "escalation beds in use, mean", "beds"),
    ("type1_median_minutes", "median time in department, type 1", "minutes"),
    ("type1_p95_minutes", "95th percentile time in department, type 1", "minutes"),
    ("median_minutes", "median time in department, all types", "minutes"),
    ("p95_minutes", "95th percentile time in department, all types", "minutes"),
    ("censored", "patients still in A&E when the run stopped", "count"),
    ("dropped_arrivals", "arrivals the engine could not hold (lost; should be 0)", "count"),
)
# Time-in-department bands (hours) for the distribution table.
BANDS_HOURS = (0, 1, 2, 3, 4, 6, 8, 12, 24, 48)


def _quantile_from_hist(h: np.ndarray, q: float) -> float:
    """The q-quantile of whole minutes from a histogram (lower, as minutes are floored)."""
    total = h.sum()
    if total == 0:
        return np.nan
    return float(np.searchsorted(np.cumsum(h), q * total, side="left"))


def _ratio(num: np.ndarray, den: np.ndarray, scale: float = 1.0) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, scale * num / np.where(den > 0, den, 1.0), np.nan)


@dataclass(frozen=True)
class CapacityResult:
    scenario: Scenario
    seeds: np.ndarray  # one per replication
    metrics: np.ndarray  # [R, N_METRICS], as the engine returns them
    histograms: np.ndarray  # [R, 2, HIST_MINUTES + 1]: all types, type 1
    measured_minutes: float
    seconds: float  # wall time of the replications

    @property
    def replications(self) -> int:
        return len(self.seeds)

    @property
    def dropped_arrivals(self) -> int:
        """Arrivals lost in all replications because the engine's arrays were full."""
        return int(self.metrics[:, M["dropped_arrivals"]].sum())

    @property
    def dropped_note(self) -> str | None:
        """A warning to show when arrivals were lost, else None."""
        lost = self.metrics[:, M["dropped_arrivals"]]
        if not lost.any():
            return None
        return (
            f"{int(lost.sum()):,} arrivals were dropped in {int((lost > 0).sum())} of "
            f"{self.replications} replications: the engine's patient arrays were full, so "
            "those patients are missing from every measure"
        )

    def raw(self) -> pd.DataFrame:
        return pd.DataFrame(self.metrics, columns=list(METRICS))

    def per_replication(self) -> pd.DataFrame:
        """One row per replication with every measure in MEASURES (and Little's law terms)."""
        m = self.metrics
        col = {name: m[:, i] for name, i in M.items()}
        beds = self.scenario.beds
        t = self.measured_minutes
        all_att = col["att_type1"] + col["att_type3"]
        out = pd.DataFrame(
            {
                "replication": np.arange(self.replications),
                "seed": self.seeds,
                "type1_pct": 100 - _ratio(col["br_type1"], col["att_type1"], 100),
                "all_types_pct": 100 - _ratio(col["br_type1"] + col["br_type3"], all_att, 100),
                "attendances": all_att,
                "type1_attendances": col["att_type1"],
                "over_12h_from_arrival": col["over_12h_type1"] + col["over_12h_type3"],
                "over_12h_from_arrival_pct": _ratio(
                    col["over_12h_type1"] + col["over_12h_type3"], all_att, 100
                ),
                "dta_4_12h": col["dta_4_12h"],
                "dta_over_12h": col["dta_over_12h"],
                "admissions_via_ae": col["dta"],
                "waited_for_bed_pct": _ratio(col["dta_waited"], col["dta"], 100),
                "mean_bed_wait_hours": _ratio(col["dta_wait_minutes"], col["dta"], 1 / 60),
                "transfers_pct": _ratio(col["transfers"], col["dta"], 100),
                "mean_occupancy_pct": 100 * col["bed_minutes"] / t / beds,
                "midnight_occupancy_pct": _ratio(col["midnight_occupied"], col["midnights"])
                * 100
                / beds,
                "escalation_beds_in_use": col["escalation_minutes"] / t,
                "bed_queue": col["queue_minutes"] / t,
                "cubicle_queue": col["cubicle_queue_minutes"] / t,
                "mean_cubicle_wait_minutes": _ratio(
                    col["cubicle_wait_minutes"], col["cubicle_starts"]
                ),
                "censored": col["censored"],
                "dropped_arrivals": col["dropped_arrivals"],
                # Little's law, beds: time-average occupied vs (stays a minute x mean stay)
                "beds_l": col["bed_minutes"] / t,
                "beds_lambda_w": col["bed_stay_minutes"] / t,
                # ... and the queue for beds
                "queue_l": col["queue_minutes"] / t,
                "queue_lambda_w": col["bed_request_wait_minutes"] / t,
            }
        )
        for kind, row in (("", 0), ("type1_", 1)):
            h = self.histograms[:, row, :]
            out[f"{kind}median_minutes"] = [_quantile_from_hist(x, 0.5) for x in h]
            out[f"{kind}p95_minutes"] = [_quantile_from_hist(x, 0.95) for x in h]
        return out

    def interval(self, measure: str, level: float = CONFIDENCE) -> Interval:
        return mean_interval(self.per_replication()[measure].to_numpy(), level)

    def summary(self, level: float = CONFIDENCE) -> pd.DataFrame:
        """Each measure's mean across replications with its confidence interval."""
        per = self.per_replication()
        rows = []
        for name, label, unit in MEASURES:
            ci = mean_interval(per[name].to_numpy(), level)
            rows.append(
                {
                    "measure": name,
                    "label": label,
                    "unit": unit,
                    "mean": ci.mean,
                    "low": ci.low,
                    "high": ci.high,
                }
            )
        return pd.DataFrame(rows)

    def time_in_department(self, level: float = CONFIDENCE) -> pd.DataFrame:
        """The share of attendances (all types and type 1) in each band of hours, with
        confidence intervals across replications."""
        rows = []
        edges = [int(h * 60) for h in BANDS_HOURS] + [HIST_MINUTES + 1]
        for row, kind in ((0, "all types"), (1, "type 1")):
            h = self.histograms[:, row, :].astype(float)
            totals = h.sum(axis=1)
            for lo, hi in itertools.pairwise(edges):
                share = _ratio(h[:, lo:hi].sum(axis=1), totals, 100)
                ci = mean_interval(share, level)
                label = f"{lo // 60}-{hi // 60} h" if hi <= HIST_MINUTES else f"{lo // 60}+ h"
                rows.append(
                    {"types": kind, "band": label, "pct": ci.mean, "low": ci.low, "high": ci.high}
                )
        return pd.DataFrame(rows)
