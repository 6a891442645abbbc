"""The discharge rule, written once (numba) and used by the engine for every stay and by the
scenario's translation for the expected wait it adds to a stay (inputs.mean_discharge_delay_days).

A patient ready to leave at a time outside the discharge window leaves at a uniform moment of
the next window (today's, if it has not opened yet); at a weekend each day's discharges happen
with probability `weekend`, else the patient waits for the next day's window.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MINUTES_A_DAY = 1440.0
WEEKEND_FROM = 5  # weekday number (Monday 0) of Saturday
DAYS_A_WEEK = 7


@njit(cache=True)
def discharge_time(ready, w0, w1, weekend, wd0):
    """When a patient ready to leave at minute `ready` of the run leaves, for a discharge
    window from minute w0 to w1 of the day, the weekend factor and day 0's weekday wd0."""
    if w0 <= 0.0 and w1 >= MINUTES_A_DAY and weekend >= 1.0:
        return ready
    d = np.floor(ready / MINUTES_A_DAY)
    m = ready - d * MINUTES_A_DAY
    t = ready
    if m < w0:
        t = d * MINUTES_A_DAY + w0 + np.random.random() * (w1 - w0)
    elif m >= w1:
        d += 1.0
        t = d * MINUTES_A_DAY + w0 + np.random.random() * (w1 - w0)
    if weekend < 1.0:
        while (int(d) + wd0) % DAYS_A_WEEK >= WEEKEND_FROM and np.random.random() >= weekend:
            d += 1.0
            t = d * MINUTES_A_DAY + w0 + np.random.random() * (w1 - w0)
    return t


@njit(cache=True)
def mean_discharge_delay(w0, w1, weekend, samples, seed):
    """The mean minutes from ready to leave to discharge under discharge_time, for `samples`
    ready times spread evenly over a week that starts on a Monday (a fixed seed: the same
    answer every time)."""
    np.random.seed(seed)
    total = 0.0
    for _ in range(samples):
        ready = np.random.random() * DAYS_A_WEEK * MINUTES_A_DAY
        total += discharge_time(ready, w0, w1, weekend, 0) - ready
    return total / samples
