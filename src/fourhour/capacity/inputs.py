"""A scenario turned into the flat arrays the compiled engine reads.

Time is in minutes from midnight at the start of the warm-up (day 0). Arrival rates are
piecewise constant by hour over the whole run; the engine multiplies each day's rates by that
day's gamma draw. Profiles are normalised to a mean of 1 here, once.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from fourhour.capacity.discharge import MINUTES_A_DAY, mean_discharge_delay
from fourhour.capacity.scenario import Duration, Scenario

MINUTES_A_HOUR = 60.0
DISCHARGE_DELAY_SAMPLES = 50_000  # ready times the mean discharge delay is estimated from
DISCHARGE_DELAY_SEED = 0
MIN_DAILY_CV = 1e-6  # below this, no day-to-day variation (the gamma shape would overflow)

# Distribution codes and the (code, a, b) parameters the engine draws from.
FIXED, EXPONENTIAL, LOGNORMAL, GAMMA = 0, 1, 2, 3
_CODES = {"fixed": FIXED, "exponential": EXPONENTIAL, "lognormal": LOGNORMAL, "gamma": GAMMA}

# Positions in the engine's parameter vector.
P_T0, P_T1, P_TSTOP = 0, 1, 2
P_MINOR_SHARE, P_STREAMING = 3, 4
P_CUBICLES, P_CORRIDOR, P_UTC_CLINICIANS = 5, 6, 7
P_MAJORS_ADMITTED, P_MINORS_ADMITTED = 8, 9
P_DAILY_SHAPE = 10
P_WINDOW_OPEN, P_WINDOW_CLOSE, P_WEEKEND, P_TURNAROUND = 11, 12, 13, 14
P_TRANSFER, P_WEEKDAY0 = 15, 16
P_ARRIVAL_CAP = 17  # patients the engine's arrays hold; 0: enough (ten standard deviations)
N_PARAMS = 18

# Rows of the duration table.
D_MAJORS, D_MINORS, D_UTC = 0, 1, 2


def duration_params(d: Duration, unit_minutes: float = 1.0) -> tuple[float, float, float]:
    """(code, a, b) for a duration in minutes: fixed (mean), exponential (mean), log-normal
    (mu, sigma of the log), gamma (shape, scale)."""
    mean, sd = d.mean * unit_minutes, d.sd * unit_minutes
    if d.distribution == "fixed":
        return (FIXED, mean, 0.0)
    if d.distribution == "exponential":
        return (EXPONENTIAL, mean, 0.0)
    if d.distribution == "lognormal":
        sigma2 = math.log1p((sd / mean) ** 2)
        return (LOGNORMAL, math.log(mean) - sigma2 / 2, math.sqrt(sigma2))
    return (GAMMA, (mean / sd) ** 2, sd * sd / mean)


def _normalised(profile: tuple[float, ...]) -> np.ndarray:
    a = np.asarray(profile, dtype=np.float64)
    return a / a.mean()


@dataclass(frozen=True)
class EngineInputs:
    params: np.ndarray  # float64[N_PARAMS]
    hour_rate: np.ndarray  # arrivals a minute, by hour of the run
    direct_rate: np.ndarray  # direct admissions a minute, by hour of the run
    day_admitted: np.ndarray  # admission-probability multiplier, by day of the run
    durations: np.ndarray  # float64[3, 3]: majors, minors, UTC (code, a, b)
    pool_beds: np.ndarray  # int64[K]
    pool_escalation: np.ndarray  # int64[K]
    pool_ring_fenced: np.ndarray  # int64[K]
    pool_cum_share: np.ndarray  # float64[K]
    pool_census: np.ndarray  # int64[K]
    pool_los: np.ndarray  # float64[K, 3], minutes
    day0: dt.date  # the calendar date of day 0

    @property
    def measured_minutes(self) -> float:
        return float(self.params[P_T1] - self.params[P_T0])

    def args(self) -> tuple:
        return (
            self.params,
            self.hour_rate,
            self.direct_rate,
            self.day_admitted,
            self.durations,
            self.pool_beds,
            self.pool_escalation,
            self.pool_ring_fenced,
            self.pool_cum_share,
            self.pool_census,
            self.pool_los,
        )


def expected_census(s: Scenario) -> list[int]:
    """Each pool's expected occupied beds: its admissions a day times its mean stay plus the
    mean wait for the discharge window (Little's law), capped at its beds and escalation."""
    per_day = admissions_per_day(s)
    delay = mean_discharge_delay_days(s)
    return [
        min(p.beds + p.escalation_beds, round(per_day * p.share * (p.los_days.mean + delay)))
        for p in s.pools
    ]


def admissions_per_day(s: Scenario) -> float:
    """Mean emergency admissions a day needing a bed: via A&E plus direct."""
    a, ed = s.arrivals, s.ed
    majors = a.per_day * (1 - a.minor_share) * ed.majors_admitted
    minors = a.per_day * a.minor_share * (1 - s.utc.streaming_share) * ed.minors_admitted
    return majors + minors + s.direct_admissions.per_day


def mean_discharge_delay_days(s: Scenario, samples: int = DISCHARGE_DELAY_SAMPLES) -> float:
    """The mean time from ready to leave to discharge, in days, under the discharge window and
    weekend factor, for ready times spread evenly over the week (estimated with a fixed seed,
    by the engine's own rule: discharge.discharge_time)."""
    w0, w1 = (h * MINUTES_A_HOUR for h in s.discharge.window)
    f = s.discharge.weekend_factor
    if w0 <= 0 and w1 >= MINUTES_A_DAY and f >= 1:
        return 0.0
    return mean_discharge_delay(w0, w1, f, samples, DISCHARGE_DELAY_SEED) / MINUTES_A_DAY


def engine_inputs(s: Scenario) -> EngineInputs:
    pe, ar = s.period, s.arrivals
    day0 = pe.start - dt.timedelta(days=pe.warm_up_days)
    n_days = pe.warm_up_days + pe.days + pe.cool_down_days + 1
    days = [day0 + dt.timedelta(days=i) for i in range(n_days)]
    month_idx = np.array([d.month - 1 for d in days])
    weekday_idx = np.array([d.weekday() for d in days])

    hour = _normalised(ar.hour_profile)
    weekday = _normalised(ar.weekday_profile)
    month = _normalised(ar.month_profile)
    per_hour = ar.per_day / 24.0
    day_factor = weekday[weekday_idx] * month[month_idx]
    hour_rate = (per_hour * np.outer(day_factor, hour) / MINUTES_A_HOUR).ravel()

    h0, h1 = s.direct_admissions.hours
    direct_day = np.zeros(24)
    direct_day[h0:h1] = s.direct_admissions.per_day / (h1 - h0) / MINUTES_A_HOUR
    direct_rate = np.tile(direct_day, n_days)

    day_admitted = _normalised(s.ed.admitted_month_profile)[month_idx]
    shape = 0.0 if ar.daily_cv < MIN_DAILY_CV else 1.0 / ar.daily_cv**2

    params = np.zeros(N_PARAMS)
    params[P_T0] = pe.warm_up_days * MINUTES_A_DAY
    params[P_T1] = (pe.warm_up_days + pe.days) * MINUTES_A_DAY
    params[P_TSTOP] = (pe.warm_up_days + pe.days + pe.cool_down_days) * MINUTES_A_DAY
    params[P_MINOR_SHARE] = ar.minor_share
    params[P_STREAMING] = s.utc.streaming_share
    params[P_CUBICLES] = s.ed.cubicles
    params[P_CORRIDOR] = s.ed.corridor
    params[P_UTC_CLINICIANS] = s.utc.clinicians
    params[P_MAJORS_ADMITTED] = s.ed.majors_admitted
    params[P_MINORS_ADMITTED] = s.ed.minors_admitted
    params[P_DAILY_SHAPE] = shape
    params[P_WINDOW_OPEN] = s.discharge.window[0] * MINUTES_A_HOUR
    params[P_WINDOW_CLOSE] = s.discharge.window[1] * MINUTES_A_HOUR
    params[P_WEEKEND] = s.discharge.weekend_factor
    params[P_TURNAROUND] = s.discharge.turnaround_minutes
    params[P_TRANSFER] = 1.0 if s.when_full == "transfer" else 0.0
    params[P_WEEKDAY0] = day0.weekday()

    durations = np.array(
        [
            duration_params(s.ed.majors_minutes),
            duration_params(s.ed.minors_minutes),
            duration_params(s.utc.minutes),
        ]
    )
    census = [
        p.census if p.census is not None else c
        for p, c in zip(s.pools, expected_census(s), strict=True)
    ]
    return EngineInputs(
        params=params,
        hour_rate=np.ascontiguousarray(hour_rate),
        direct_rate=direct_rate,
        day_admitted=day_admitted,
        durations=durations,
        pool_beds=np.array([p.beds for p in s.pools], dtype=np.int64),
        pool_escalation=np.array([p.escalation_beds for p in s.pools], dtype=np.int64),
        pool_ring_fenced=np.array([int(p.ring_fenced) for p in s.pools], dtype=np.int64),
        pool_cum_share=np.cumsum([p.share for p in s.pools]).astype(np.float64),
        pool_census=np.array(census, dtype=np.int64),
        pool_los=np.array([duration_params(p.los_days, MINUTES_A_DAY) for p in s.pools]),
        day0=day0,
    )
