"""Queueing theory the simulation is checked against (and a quick first answer on its own).

Offered load a = arrival rate x mean length of stay (erlangs), c servers (beds):
- Erlang B: the share of arrivals finding every bed full in a loss system (M/G/c/c); it holds
  whatever the length-of-stay distribution (insensitivity).
- Erlang C: the share who wait at all in a delay system with Poisson arrivals and exponential
  stays (M/M/c), and the mean wait C / (c mu - lambda).
- Little's law: mean number in a system = arrival rate x mean time in it, for any stable system.
"""

from __future__ import annotations

import dataclasses
import math

from fourhour.capacity.scenario import Duration, Pool, Scenario, default_scenario


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability B(c, a), by the stable recursion B(k) = a B(k-1) / (k + a B(k-1))."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must not be negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability of waiting C(c, a) = c B / (c - a (1 - B)); 1 when a >= c (unstable)."""
    if load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


def erlang_c_mean_wait(servers: int, arrival_rate: float, mean_service: float) -> float:
    """Mean wait in queue for M/M/c, in the units of mean_service: C / (c mu - lambda)."""
    load = arrival_rate * mean_service
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) / (servers / mean_service - arrival_rate)


def little_l(arrival_rate: float, mean_time: float) -> float:
    """Little's law: the mean number in a system, L = lambda W."""
    return arrival_rate * mean_time


def beds_for_blocking(load: float, target: float) -> int:
    """The fewest beds with Erlang B blocking at most `target` for this offered load."""
    c = 0
    while erlang_b(c, load) > target:
        c += 1
    return c


def queueing_scenario(
    beds: int,
    admissions_per_day: float,
    los_days: Duration,
    *,
    when_full: str = "wait",
    days: int = 365,
    warm_up_days: int = 30,
    seed: int = 1,
) -> Scenario:
    """The trust reduced to a textbook queue, for checking the engine against the formulas:
    Poisson arrivals with no variation by hour, day, month or day to day, every arrival
    admitted after an exponential half hour in an unlimited department (so decisions to admit
    are again Poisson), no UTC or direct admissions, one pool of `beds`, discharge at any hour
    any day, no turnaround, no escalation beds, starting from the expected census."""
    base = default_scenario()
    flat = dataclasses.replace
    return base.replace(
        name=f"queue: {beds} beds, {admissions_per_day:g} a day",
        seed=seed,
        period=flat(base.period, days=days, warm_up_days=warm_up_days, cool_down_days=1),
        arrivals=flat(
            base.arrivals,
            per_day=admissions_per_day,
            hour_profile=(1.0,) * 24,
            weekday_profile=(1.0,) * 7,
            month_profile=(1.0,) * 12,
            daily_cv=0.0,
            minor_share=0.0,
        ),
        ed=flat(
            base.ed,
            cubicles=0,
            majors_minutes=Duration("exponential", 30.0),
            majors_admitted=1.0,
            admitted_month_profile=(1.0,) * 12,
        ),
        utc=flat(base.utc, streaming_share=0.0),
        direct_admissions=flat(base.direct_admissions, per_day=0.0),
        discharge=flat(
            base.discharge, window=(0.0, 24.0), weekend_factor=1.0, turnaround_minutes=0.0
        ),
        when_full=when_full,
        pools=(Pool("beds", beds, 1.0, los_days),),
    )
