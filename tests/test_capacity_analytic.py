"""Tier (a) of the capacity model's validation: the engine against queueing theory.

The trust reduced to a textbook queue (analytic.queueing_scenario: Poisson decisions to admit,
no time variation, discharge at any hour) must reproduce Erlang C's probability of waiting and
mean wait with exponential stays, Erlang B's blocking with exponential, log-normal and fixed
stays (insensitivity), and Little's law. Each check is that the formula's value lies inside the
99% confidence interval of the replications' means: the tolerance comes from the replications,
nothing is tuned (99% rather than 95% because the file makes about ten such checks).
"""

from __future__ import annotations

import math

import pytest

from fourhour.capacity.analytic import (
    beds_for_blocking,
    erlang_b,
    erlang_c,
    erlang_c_mean_wait,
    little_l,
    queueing_scenario,
)
from fourhour.capacity.confidence import mean_interval, t_quantile, welch_test
from fourhour.capacity.scenario import Duration
from fourhour.capacity.simulate import simulate

LEVEL = 0.99
REPLICATIONS = 40
BEDS = 20
PER_DAY = 16.0  # offered load 16 erlangs on 20 beds with a mean stay of one day
STAYS = {
    "exponential": Duration("exponential", 1.0),
    "lognormal": Duration("lognormal", 1.0, 1.5),
    "fixed": Duration("fixed", 1.0),
}


def test_formulas_known_values() -> None:
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(10, 5.0) == pytest.approx(0.018384, abs=1e-6)  # standard tables
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(3, 3.0) == 1.0
    # M/M/1: Wq = rho / (mu - lambda)
    assert erlang_c_mean_wait(1, 0.5, 1.0) == pytest.approx(1.0)
    assert math.isinf(erlang_c_mean_wait(2, 3.0, 1.0))
    assert little_l(16.0, 1.5) == 24.0
    assert beds_for_blocking(5.0, 0.02) == 10


def test_student_t_and_welch() -> None:
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-3)
    assert t_quantile(0.975, 9) == pytest.approx(2.2622, abs=1e-4)
    assert t_quantile(0.995, 39) == pytest.approx(2.7079, abs=1e-4)
    assert t_quantile(0.025, 29) == pytest.approx(-2.0452, abs=1e-4)
    ci = mean_interval([1.0, 2.0, 3.0, 4.0], 0.95)
    assert ci.mean == 2.5 and ci.half_width == pytest.approx(3.182446 * 1.290994 / 2, rel=1e-4)
    w = welch_test([1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0, 6.0])
    # by hand: t = -1.5 / sqrt(5/12 + 1/2) = -1.5667, Welch-Satterthwaite df = 6.98
    assert w.t == pytest.approx(-1.5667, abs=1e-4) and w.df == pytest.approx(6.981, abs=1e-3)
    assert w.p_value == pytest.approx(0.1613, abs=1e-3)


@pytest.fixture(scope="module")
def delay_system():
    return simulate(queueing_scenario(BEDS, PER_DAY, STAYS["exponential"]), REPLICATIONS)


def test_waiting_probability_matches_erlang_c(delay_system) -> None:
    expected = 100 * erlang_c(BEDS, PER_DAY)
    ci = delay_system.interval("waited_for_bed_pct", LEVEL)
    assert expected in ci, (expected, ci)


def test_mean_wait_matches_erlang_c(delay_system) -> None:
    expected = 24 * erlang_c_mean_wait(BEDS, PER_DAY, 1.0)  # hours
    ci = delay_system.interval("mean_bed_wait_hours", LEVEL)
    assert expected in ci, (expected, ci)


def test_mean_occupancy_is_the_offered_load(delay_system) -> None:
    """Every admission is served eventually, so mean occupancy = load / beds."""
    ci = delay_system.interval("mean_occupancy_pct", LEVEL)
    assert 100 * PER_DAY / BEDS in ci, ci


@pytest.mark.parametrize("stay", sorted(STAYS))
def test_blocking_matches_erlang_b_whatever_the_stay(stay: str) -> None:
    s = queueing_scenario(BEDS, PER_DAY, STAYS[stay], when_full="transfer")
    ci = simulate(s, REPLICATIONS).interval("transfers_pct", LEVEL)
    assert 100 * erlang_b(BEDS, PER_DAY) in ci, (stay, ci)


def test_littles_law_for_beds_and_the_queue(delay_system) -> None:
    """L (time-average in beds, or waiting) against lambda W (stays or waits that began in
    the period, over its length): their difference's interval must contain 0."""
    per = delay_system.per_replication()
    beds = mean_interval(per["beds_l"] - per["beds_lambda_w"], LEVEL)
    queue = mean_interval(per["queue_l"] - per["queue_lambda_w"], LEVEL)
    assert 0.0 in beds, beds
    assert 0.0 in queue, queue
    assert per["queue_l"].mean() > 0  # there was a queue to check


def test_littles_law_in_a_busy_trust() -> None:
    """The same on the default trust near its knee: time variation, daytime discharge,
    escalation and exit block do not break the law."""
    from fourhour.capacity.scenario import default_scenario

    per = simulate(default_scenario(), 12).per_replication()
    assert 0.0 in mean_interval(per["beds_l"] - per["beds_lambda_w"], LEVEL)
    assert 0.0 in mean_interval(per["queue_l"] - per["queue_lambda_w"], LEVEL)
